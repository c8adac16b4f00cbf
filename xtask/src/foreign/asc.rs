//! Guests written in AssemblyScript: the AssemblyScript compiler, with the
//! WASI shim in place of its web bindings, makes a WASI preview1 command
//! (a core module exporting `_start`) of the guest's source and its npm
//! packages. AssemblyScript cannot export the canonical ABI's names, so an
//! AssemblyScript guest is a command; the module is the guest's build
//! output, which the linker makes a component with the preview1 command
//! adapter, as it does any core module a manifest names.
//!
//! The toolchain is `xtask/as/package.json`, pinned by its lock file and
//! installed with `npm ci` into `target/toolchains/as/`.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::js::{NpmToolchain, install_packages, node_and_npm};
use super::{Guest, run};

/// Where the toolchain's package files are kept, relative to nanoproc's root.
const PACKAGE_DIR: &str = "xtask/as";
/// The oldest Node.js the compiler runs on.
const NODE_MAJOR: u32 = 20;
/// What the compiler is told, but the source, the shim's configuration and
/// the output: optimised, with the stub runtime (a command that runs once
/// and ends needs no collector).
const FLAGS: &[&str] = &["-O3", "--runtime", "stub"];

/// The AssemblyScript compiler and its WASI shim, installed.
pub(super) struct Toolchain {
    /// `target/toolchains/as`.
    dir: std::path::PathBuf,
    /// The compiler's version, from the package file.
    version: String,
    /// What it was installed from: the lock file and Node.js's version.
    pub(super) stamp: String,
}

/// The options that make `guest`'s module, for the hash of its inputs.
pub(super) fn recipe(_guest: &Guest) -> Vec<String> {
    vec![format!("asc --config wasi-shim {}", FLAGS.join(" "))]
}

impl Toolchain {
    /// The toolchain in `target/toolchains/as`, installed first when it is
    /// missing or was installed from another lock file. `guests` are the
    /// guests that need it, for messages.
    pub(super) fn find_or_install(root: &Path, guests: &[&str]) -> Result<Self> {
        let node = node_and_npm(
            &format!(
                "the AssemblyScript guests ({}) are built with the AssemblyScript \
                 compiler, which is installed with npm",
                guests.join(", ")
            ),
            NODE_MAJOR,
        )?;
        let packages = NpmToolchain::read(PACKAGE_DIR, &node)?;
        let version = packages.pinned("assemblyscript")?;
        let shim = packages.pinned("@assemblyscript/wasi-shim")?;
        let dir = packages.install(
            root,
            "as",
            &format!("AssemblyScript {version} and its WASI shim {shim} (npm ci, Node.js {node})"),
            "the AssemblyScript toolchain",
        )?;
        Ok(Self {
            dir,
            version,
            stamp: packages.stamp,
        })
    }

    /// `AssemblyScript VERSION`.
    pub(super) fn describe(&self) -> String {
        format!("AssemblyScript {}", self.version)
    }

    /// Installs `guest`'s npm packages into `work/deps` when they changed
    /// and compiles its source with them into a command module at `output`.
    pub(super) fn build(
        &self,
        root: &Path,
        guest: &Guest,
        work: &Path,
        output: &Path,
    ) -> Result<()> {
        let node_modules = install_packages(root, guest, work, &self.stamp)?;
        let modules = self.dir.join("node_modules");
        let mut cmd = Command::new("node");
        cmd.arg(modules.join("assemblyscript/bin/asc.js"))
            .arg(&guest.source)
            // Named relative to the toolchain's folder, where the compiler
            // runs: it finds the shim's library relative to both.
            .arg("--config")
            .arg("node_modules/@assemblyscript/wasi-shim/asconfig.json")
            .args(FLAGS)
            .arg("--path")
            .arg(&node_modules)
            .arg("-o")
            .arg(output)
            .current_dir(&self.dir);
        run(
            &mut cmd,
            &format!(
                "the AssemblyScript compiler, building guest `{}`",
                guest.name
            ),
        )
    }
}
