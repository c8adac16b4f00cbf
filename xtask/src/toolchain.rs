//! Finding, or installing, a Rust toolchain that builds wasm guests.
//!
//! A guest is built for one of two targets ([`Target`]). For each, two kinds
//! of toolchain are known. A rustup toolchain with the target added has a
//! prebuilt standard library and needs nothing else. Where rustup cannot add
//! targets (no route to its download server), Debian's `rustc-web` packages
//! give a second rustc with the standard library's source, so the guests
//! build `std` themselves with `-Zbuild-std`; for `wasm32-wasip1` Debian's
//! `wasi-libc` gives the C library that `std` links against.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// A wasm target a guest can be built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `wasm32-unknown-unknown`, the default: there is no operating system
    /// below the guest, so it can reach only what its WIT world imports.
    Unknown,
    /// `wasm32-wasip1`: Rust's `std` on WASI preview 1. The core module is
    /// made a component with the WASI preview1 adapter, which imports the
    /// WASI preview 2 interfaces that `std` may call.
    Wasip1,
}

impl Target {
    /// Every target, in the order the build takes them.
    pub const ALL: [Self; 2] = [Self::Unknown, Self::Wasip1];

    /// The target's triple, as rustc and cargo name it.
    pub fn triple(self) -> &'static str {
        match self {
            Self::Unknown => "wasm32-unknown-unknown",
            Self::Wasip1 => "wasm32-wasip1",
        }
    }

    /// The target whose triple is `triple`, if a guest can be built for it.
    pub fn from_triple(triple: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.triple() == triple)
    }

    /// Whether a core module built for this target becomes a component only
    /// with the WASI preview1 adapter.
    pub fn needs_adapter(self) -> bool {
        matches!(self, Self::Wasip1)
    }

    /// The prefix of cargo's per-target environment variables, such as
    /// `CARGO_TARGET_WASM32_WASIP1`.
    fn cargo_env_prefix(self) -> String {
        format!(
            "CARGO_TARGET_{}",
            self.triple().to_ascii_uppercase().replace('-', "_")
        )
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple())
    }
}

/// Debian's packages that make up the second route; `wasi-libc` is needed
/// only by `wasm32-wasip1` guests, but installing it always is simpler and
/// costs a few seconds.
const DEBIAN_PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "lld-19",
    "wasi-libc",
];
/// Code generation flags for every guest: Wasm's 128-bit SIMD (part of
/// Wasm 2.0, on in wasmtime by default), which `memchr` and the compiler's
/// vectoriser put to use.
const GUEST_RUSTFLAGS: &str = "-C target-feature=+simd128";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library/std/Cargo.toml";
const DEBIAN_LINKER: &str = "wasm-ld-19";
/// Where Debian's `wasi-libc` puts `libc.a` and the `crt1` objects.
const DEBIAN_WASI_LIBC: &str = "/usr/lib/wasm32-wasi";

/// A toolchain able to build guests for one [`Target`].
#[derive(Debug)]
pub enum Toolchain {
    /// The cargo running xtask, whose rustc has the target's standard library.
    Prebuilt {
        /// That cargo.
        cargo: PathBuf,
    },
    /// Debian's rustc and cargo, building `std` from source with `wasm-ld`.
    BuildStd,
}

impl Toolchain {
    /// Finds a toolchain for `target`, installing Debian's packages when
    /// that is the way and we may: as root, on a machine with `apt-get`.
    pub fn find_or_install(target: Target) -> Result<Self> {
        if let Some(found) = Self::find(target) {
            return Ok(found);
        }
        if can_install() {
            eprintln!(
                "xtask: no Rust toolchain here can build {target}; installing Debian's {} \
                 (about a minute)",
                DEBIAN_PACKAGES.join(" ")
            );
            install(target)?;
            if let Some(found) = Self::find(target) {
                return Ok(found);
            }
            bail!(
                "the packages were installed, but {DEBIAN_RUSTC} still cannot build {target}\n{}",
                instructions(target)
            );
        }
        bail!(
            "no Rust toolchain here can build {target} guests\n{}",
            instructions(target)
        )
    }

    fn find(target: Target) -> Option<Self> {
        let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        if has_prebuilt_std(Path::new(&rustc), target) {
            return Some(Self::Prebuilt { cargo });
        }
        let libc_ready = match target {
            Target::Unknown => true,
            Target::Wasip1 => Path::new(DEBIAN_WASI_LIBC).join("libc.a").is_file(),
        };
        let debian_ready = Path::new(DEBIAN_RUSTC).exists()
            && Path::new(DEBIAN_CARGO).exists()
            && Path::new(DEBIAN_STD_SOURCE).exists()
            && on_path(DEBIAN_LINKER)
            && libc_ready;
        debian_ready.then_some(Self::BuildStd)
    }

    /// A `cargo build` of guests for `target` with this toolchain, of the
    /// project at `root`; the caller adds the packages to build.
    ///
    /// Paths compiled into the guests (panic locations) are written from
    /// the project's root and cargo's registry, not from this machine's
    /// folders, so that a guest built from the same sources and toolchain
    /// has the same bytes on every machine, and a lock written on one
    /// (`nanoproc.lock`) holds on another.
    pub fn cargo_build(&self, target: Target, root: &Path, target_dir: &Path) -> Command {
        let rustflags = |base: String| {
            let mut flags = base;
            for (from, to) in remapped_paths(root) {
                flags.push_str(&format!(" --remap-path-prefix={from}={to}"));
            }
            flags
        };
        let mut cmd;
        match self {
            Self::Prebuilt { cargo } => {
                cmd = Command::new(cargo);
                cmd.arg("build");
            }
            Self::BuildStd => {
                let env = target.cargo_env_prefix();
                cmd = Command::new(DEBIAN_CARGO);
                cmd.args(["build", "-Zbuild-std=std,panic_abort"])
                    // `-Zbuild-std` is unstable; Debian's stable rustc allows it this way.
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("RUSTC", DEBIAN_RUSTC)
                    .env(format!("{env}_LINKER"), DEBIAN_LINKER);
                if target == Target::Wasip1 {
                    // Debian's rustc ships no self-contained WASI C library:
                    // link Debian's `wasi-libc` instead.
                    cmd.env(
                        format!("{env}_RUSTFLAGS"),
                        rustflags(format!(
                            "{GUEST_RUSTFLAGS} -C link-self-contained=no -L {DEBIAN_WASI_LIBC}"
                        )),
                    );
                }
            }
        }
        // Flags meant for the host build must not leak into the guests.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
            cmd.env_remove(var);
        }
        let flags = format!("{}_RUSTFLAGS", target.cargo_env_prefix());
        if cmd.get_envs().all(|(name, _)| name != flags.as_str()) {
            cmd.env(flags, rustflags(GUEST_RUSTFLAGS.to_string()));
        }
        cmd.args(["--profile", "guest", "--target", target.triple()])
            .arg("--target-dir")
            .arg(target_dir);
        cmd
    }

    /// A few words on which toolchain this is, for progress messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Prebuilt { .. } => "rustup's prebuilt standard library",
            Self::BuildStd => "Debian's rustc, building std from source",
        }
    }
}

/// The folders of this machine whose paths a guest would otherwise carry,
/// and what to write instead: the project's root and cargo's registry of
/// crate sources. A folder whose path has white space is left as it is
/// (the flags are separated by spaces).
fn remapped_paths(root: &Path) -> Vec<(String, &'static str)> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let mut paths = vec![(root.to_path_buf(), "/project")];
    if let Some(cargo_home) = cargo_home {
        paths.push((cargo_home.join("registry/src"), "/registry"));
    }
    paths
        .into_iter()
        .map(|(from, to)| (from.display().to_string(), to))
        .filter(|(from, _)| !from.contains(char::is_whitespace))
        .collect()
}

/// Whether `rustc`'s sysroot holds a standard library for `target`.
fn has_prebuilt_std(rustc: &Path, target: Target) -> bool {
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let lib = sysroot
        .join("lib/rustlib")
        .join(target.triple())
        .join("lib");
    std::fs::read_dir(lib).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libstd-") && name.ends_with(".rlib")
        })
    })
}

/// Whether `program` is a file in one of `PATH`'s directories.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Whether Debian packages can be installed here: we are root and `apt-get` is on `PATH`.
pub(crate) fn can_install() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    root && on_path("apt-get")
}

fn install(target: Target) -> Result<()> {
    apt_install(DEBIAN_PACKAGES).with_context(|| instructions(target))
}

/// Installs Debian's `packages` with `apt-get`, non-interactively, after an
/// `apt-get update`, printing each command.
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    let run = |args: &[&str]| -> Result<()> {
        eprintln!("xtask: apt-get {}", args.join(" "));
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("`apt-get {}` failed ({status})", args.join(" "));
        }
        Ok(())
    };
    run(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&args)
}

fn instructions(target: Target) -> String {
    format!(
        "Install one of these, then run the command again:\n  \
         - with rustup and internet access:  rustup target add {target}\n  \
         - on Debian 12 or newer, as root:    apt-get update && apt-get install -y {}",
        DEBIAN_PACKAGES.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples_round_trip() {
        for target in Target::ALL {
            assert_eq!(Target::from_triple(target.triple()), Some(target));
        }
        assert_eq!(Target::from_triple("wasm32-wasip2"), None);
    }

    #[test]
    fn cargo_env_prefix_is_cargos_spelling() {
        assert_eq!(
            Target::Unknown.cargo_env_prefix(),
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN"
        );
        assert_eq!(
            Target::Wasip1.cargo_env_prefix(),
            "CARGO_TARGET_WASM32_WASIP1"
        );
    }

    #[test]
    fn every_guest_gets_simd_and_only_wasip1_links_debians_wasi_libc() {
        let flags = |target| {
            Toolchain::BuildStd
                .cargo_build(target, Path::new("/p"), Path::new("target/wasm"))
                .get_envs()
                .find(|(k, _)| {
                    let k = k.to_string_lossy();
                    k.starts_with("CARGO_TARGET_") && k.ends_with("_RUSTFLAGS")
                })
                .and_then(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
        };
        // The machine's folders are written as the project's and the registry's.
        let remaps: String = remapped_paths(Path::new("/p"))
            .iter()
            .map(|(from, to)| format!(" --remap-path-prefix={from}={to}"))
            .collect();
        assert!(
            remaps.starts_with(" --remap-path-prefix=/p=/project"),
            "{remaps}"
        );
        assert_eq!(
            flags(Target::Unknown),
            Some(format!("-C target-feature=+simd128{remaps}"))
        );
        assert_eq!(
            flags(Target::Wasip1),
            Some(format!(
                "-C target-feature=+simd128 -C link-self-contained=no -L /usr/lib/wasm32-wasi{remaps}"
            ))
        );
    }
}
