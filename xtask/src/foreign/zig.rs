//! Guests written in Zig: `zig build-exe` makes a WASI preview1 core
//! module of the guest's source, exporting the canonical ABI's names for
//! its world (`nanoproc:hash/digest@0.1.0#hash`, `cabi_realloc`), and the
//! world's WIT is embedded in it. The module is the guest's build output:
//! the linker makes it a component with the preview1 adapter, as it does
//! any core module a manifest names.
//!
//! The toolchain is `xtask/zig/requirements.txt` (PyPI's `ziglang`, the Zig
//! compiler itself), installed with `pip install --target` into
//! `target/toolchains/zig/` and run as `python3 -m ziglang` with that folder
//! on `PYTHONPATH`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::{Guest, TOOLCHAINS_DIR, install, run, stamp_of, version_of};
use crate::toolchain::on_path;

/// The toolchain's pinned requirements, relative to nanoproc's root.
const REQUIREMENTS: &str = "xtask/zig/requirements.txt";
/// The Python that runs pip and the Zig compiler's launcher.
const PYTHON: &str = "python3";
/// What `zig build-exe` is told, but the source and the output: a WASI
/// preview1 library (no `_start`), every exported symbol exported, small.
const FLAGS: &[&str] = &[
    "-target",
    "wasm32-wasi",
    "-fno-entry",
    "-rdynamic",
    "-O",
    "ReleaseSmall",
];

/// The Zig compiler, installed.
pub(super) struct Toolchain {
    /// `target/toolchains/zig`.
    dir: std::path::PathBuf,
    /// Zig's version, from the requirements.
    version: String,
    /// What it was installed from: the requirements and Python's version.
    pub(super) stamp: String,
}

/// The options that make `guest`'s module, for the hash of its inputs.
pub(super) fn recipe(guest: &Guest) -> Vec<String> {
    vec![
        format!("zig build-exe {}", FLAGS.join(" ")),
        format!("embed {}", guest.world),
    ]
}

impl Toolchain {
    /// The toolchain in `target/toolchains/zig`, installed first when it is
    /// missing or was installed from other requirements. `guests` are the
    /// guests that need it, for messages.
    pub(super) fn find_or_install(root: &Path, guests: &[&str]) -> Result<Self> {
        if !on_path(PYTHON) || version_of(PYTHON, &["-m", "pip", "--version"]).is_none() {
            bail!(
                "{PYTHON} with pip is not installed: the Zig guests ({}) are built with \
                 the Zig compiler PyPI ships, which is installed with pip\n\
                 Install Python 3 with pip, then run the command again:\n  \
                 - on Debian 12 or newer, as root:  apt-get install -y python3 python3-pip",
                guests.join(", "),
            );
        }
        let python = version_of(PYTHON, &["--version"]).unwrap_or_default();
        let requirements_path = crate::nanoproc_root().join(REQUIREMENTS);
        let requirements = std::fs::read(&requirements_path)
            .with_context(|| format!("cannot read {REQUIREMENTS}"))?;
        let version = super::py::pinned(&requirements, "ziglang", REQUIREMENTS)?;
        let stamp = stamp_of(&[&requirements, python.as_bytes()]);
        let dir = root.join(TOOLCHAINS_DIR).join("zig");
        install(
            root,
            &dir,
            &stamp,
            &format!("Zig {version} (pip, {python})"),
            |at| {
                run(
                    super::py::pip_install(at)
                        .arg("--requirement")
                        .arg(&requirements_path),
                    "`pip install` of the Zig toolchain",
                )
            },
        )?;
        Ok(Self {
            dir,
            version,
            stamp,
        })
    }

    /// `Zig VERSION`.
    pub(super) fn describe(&self) -> String {
        format!("Zig {}", self.version)
    }

    /// Compiles `guest`'s source into a core module and embeds its world's
    /// WIT (read from `wit`) in it, at `output`.
    pub(super) fn build(
        &self,
        guest: &Guest,
        work: &Path,
        wit: &Path,
        output: &Path,
    ) -> Result<()> {
        let module = work.join("module.wasm");
        let mut cmd = Command::new(PYTHON);
        cmd.args(["-m", "ziglang", "build-exe"])
            .arg(&guest.source)
            .args(FLAGS)
            .arg(format!("-femit-bin={}", module.display()))
            // Zig's caches stay in the guest's work folder, not the home.
            .arg("--cache-dir")
            .arg(work.join("cache"))
            .arg("--global-cache-dir")
            .arg(work.join("global-cache"))
            .env("PYTHONPATH", &self.dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(&guest.dir);
        run(&mut cmd, &format!("zig, building guest `{}`", guest.name))?;
        let mut bytes =
            std::fs::read(&module).with_context(|| format!("cannot read {}", module.display()))?;
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve
            .push_dir(wit)
            .with_context(|| format!("cannot read the WIT of guest `{}`", guest.name))?;
        let world = resolve.select_world(&[package], Some(&guest.world))?;
        wit_component::embed_component_metadata(
            &mut bytes,
            &resolve,
            world,
            wit_component::StringEncoding::UTF8,
        )
        .with_context(|| format!("cannot embed the world of guest `{}`", guest.name))?;
        std::fs::write(output, bytes).with_context(|| format!("cannot write {}", output.display()))
    }
}
