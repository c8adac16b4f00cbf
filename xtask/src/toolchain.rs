//! Finding, or installing, a Rust toolchain that builds wasm guests.
//!
//! Two kinds are known. A rustup toolchain with the `wasm32-unknown-unknown`
//! target added has a prebuilt standard library and needs nothing else.
//! Where rustup cannot add targets (no route to its download server), Debian's
//! `rustc-web` packages give a second rustc with the standard library's
//! source, so the guests build `std` themselves with `-Zbuild-std`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The wasm target every guest is built for: it has no operating system, so
/// a guest can reach only what its WIT world imports.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// Debian's packages that make up the second route.
const DEBIAN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-19"];
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library/std/Cargo.toml";
const DEBIAN_LINKER: &str = "wasm-ld-19";

/// A toolchain able to build guests for [`TARGET`].
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
    /// Finds a toolchain, installing Debian's packages when that is the way
    /// and we may: as root, on a machine with `apt-get`.
    pub fn find_or_install() -> Result<Self> {
        if let Some(found) = Self::find() {
            return Ok(found);
        }
        if can_install() {
            eprintln!(
                "xtask: no Rust toolchain here can build {TARGET}; installing Debian's {} \
                 (about a minute)",
                DEBIAN_PACKAGES.join(" ")
            );
            install()?;
            if let Some(found) = Self::find() {
                return Ok(found);
            }
            bail!(
                "the packages were installed, but {DEBIAN_RUSTC} still cannot build {TARGET}\n{}",
                instructions()
            );
        }
        bail!(
            "no Rust toolchain here can build {TARGET} guests\n{}",
            instructions()
        )
    }

    fn find() -> Option<Self> {
        let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        if has_prebuilt_std(Path::new(&rustc)) {
            return Some(Self::Prebuilt { cargo });
        }
        let debian_ready = Path::new(DEBIAN_RUSTC).exists()
            && Path::new(DEBIAN_CARGO).exists()
            && Path::new(DEBIAN_STD_SOURCE).exists()
            && on_path(DEBIAN_LINKER);
        debian_ready.then_some(Self::BuildStd)
    }

    /// A `cargo build` for the guests with this toolchain; the caller adds
    /// the packages to build.
    pub fn cargo_build(&self, target_dir: &Path) -> Command {
        let mut cmd;
        match self {
            Self::Prebuilt { cargo } => {
                cmd = Command::new(cargo);
                cmd.arg("build");
            }
            Self::BuildStd => {
                cmd = Command::new(DEBIAN_CARGO);
                cmd.args(["build", "-Zbuild-std=std,panic_abort"])
                    // `-Zbuild-std` is unstable; Debian's stable rustc allows it this way.
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("RUSTC", DEBIAN_RUSTC)
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", DEBIAN_LINKER);
            }
        }
        // Flags meant for the host build must not leak into the guests.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
            cmd.env_remove(var);
        }
        cmd.args(["--profile", "guest", "--target", TARGET, "--target-dir"])
            .arg(target_dir);
        cmd
    }

    /// A few words on which toolchain this is, for progress messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Prebuilt { .. } => "rustup's prebuilt wasm32 standard library",
            Self::BuildStd => "Debian's rustc, building std from source",
        }
    }
}

/// Whether `rustc`'s sysroot holds a standard library for [`TARGET`].
fn has_prebuilt_std(rustc: &Path) -> bool {
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let lib = sysroot.join("lib/rustlib").join(TARGET).join("lib");
    std::fs::read_dir(lib).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libstd-") && name.ends_with(".rlib")
        })
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn can_install() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    root && on_path("apt-get")
}

fn install() -> Result<()> {
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
    args.extend_from_slice(DEBIAN_PACKAGES);
    run(&args).with_context(instructions)
}

fn instructions() -> String {
    format!(
        "Install one of these, then run the command again:\n  \
         - with rustup and internet access:  rustup target add {TARGET}\n  \
         - on Debian 12 or newer, as root:    apt-get update && apt-get install -y {}",
        DEBIAN_PACKAGES.join(" ")
    )
}
