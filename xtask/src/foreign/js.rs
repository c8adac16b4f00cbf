//! Guests written in JavaScript: bundled with their npm dependencies by
//! esbuild into one module, which componentize-js (SpiderMonkey, through
//! StarlingMonkey) makes a component.
//!
//! The toolchain is `xtask/js/package.json`, pinned by its lock file and
//! installed with `npm ci` into `target/toolchains/js/`. It pins
//! `@bytecodealliance/preview2-shim` beside componentize-js: with a newer
//! shim, componentize-js cannot read its own input files (`os error 44`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::{Guest, TOOLCHAINS_DIR, install, run, stamp_of, version_of};
use crate::relative;
use crate::toolchain::on_path;

/// Where the toolchain's package files are kept, relative to nanoproc's root.
const PACKAGE_DIR: &str = "xtask/js";
/// componentize-js's WASI features: each one the guest does not list is disabled.
const FEATURES: &[&str] = &["stdio", "random", "clocks", "http", "fetch-event"];
/// The oldest Node.js the toolchain runs on (esbuild's floor).
const NODE_MAJOR: u32 = 18;

/// componentize-js and esbuild, installed.
pub(super) struct Toolchain {
    /// `target/toolchains/js`.
    dir: std::path::PathBuf,
    /// componentize-js's version, from the package file.
    version: String,
    /// What it was installed from: the lock file and Node.js's version.
    pub(super) stamp: String,
}

/// Fails naming each feature in `features` that componentize-js does not have.
pub(super) fn check_features(declared: &Path, features: &[String]) -> Result<()> {
    if let Some(unknown) = features.iter().find(|f| !FEATURES.contains(&f.as_str())) {
        bail!(
            "{}: `features` lists `{unknown}`, which componentize-js does not have; it has {}",
            declared.display(),
            FEATURES
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The options that make `guest`'s component, for the hash of its inputs.
pub(super) fn recipe(guest: &Guest) -> Vec<String> {
    let mut recipe = vec!["esbuild --bundle --format=esm --platform=neutral".to_string()];
    recipe.extend(disabled(guest).iter().map(|f| format!("--disable {f}")));
    recipe.push(guest.world.clone());
    recipe
}

/// The features componentize-js is told to disable for `guest`.
fn disabled(guest: &Guest) -> Vec<&'static str> {
    FEATURES
        .iter()
        .copied()
        .filter(|f| !guest.features.iter().any(|g| g == f))
        .collect()
}

/// How to install Node.js `major` or newer and npm, for an error.
fn instructions(major: u32) -> String {
    format!(
        "Install Node.js {major} or newer with npm, then run the command again:\n  \
         - on Debian 12 or newer, as root:  apt-get install -y nodejs npm\n  \
         - elsewhere: Node.js's own installer or your system's package manager"
    )
}

impl Toolchain {
    /// The toolchain in `target/toolchains/js`, installed first when it is
    /// missing or was installed from another lock file. `guests` are the
    /// guests that need it, for messages.
    pub(super) fn find_or_install(root: &Path, guests: &[&str]) -> Result<Self> {
        let node = node_and_npm(
            &format!(
                "the JavaScript guests ({}) are built with componentize-js, which is \
                 installed with npm",
                guests.join(", ")
            ),
            NODE_MAJOR,
        )?;
        let packages = NpmToolchain::read(PACKAGE_DIR, &node)?;
        let version = packages.pinned("@bytecodealliance/componentize-js")?;
        let esbuild = packages.pinned("esbuild")?;
        let dir = packages.install(
            root,
            "js",
            &format!("componentize-js {version} and esbuild {esbuild} (npm ci, Node.js {node})"),
            "the JavaScript toolchain",
        )?;
        Ok(Self {
            dir,
            version,
            stamp: packages.stamp,
        })
    }

    /// `componentize-js VERSION`.
    pub(super) fn describe(&self) -> String {
        format!("componentize-js {}", self.version)
    }

    /// Installs `guest`'s npm dependencies into `work/deps` when they
    /// changed, bundles its source with them into `work/bundle.js` and makes
    /// that a component at `output`.
    pub(super) fn build(
        &self,
        root: &Path,
        guest: &Guest,
        work: &Path,
        wit: &Path,
        output: &Path,
    ) -> Result<()> {
        let node_modules = install_packages(root, guest, work, &self.stamp)?;
        let bundle = work.join("bundle.js");
        let modules = self.dir.join("node_modules");
        run(
            Command::new("node")
                .arg(modules.join("esbuild/bin/esbuild"))
                .arg(&guest.source)
                .args([
                    "--bundle",
                    "--format=esm",
                    // No Node.js built-ins: the component has none.
                    "--platform=neutral",
                    "--main-fields=module,main",
                    "--log-level=warning",
                ])
                .arg(format!("--outfile={}", bundle.display()))
                .env("NODE_PATH", &node_modules),
            &format!("esbuild, bundling guest `{}`", guest.name),
        )?;

        let mut cmd = Command::new("node");
        cmd.arg(modules.join("@bytecodealliance/componentize-js/src/cli.js"))
            .arg(&bundle)
            .arg("--wit")
            .arg(wit)
            .arg("--world-name")
            .arg(&guest.world);
        let disabled = disabled(guest);
        if !disabled.is_empty() {
            cmd.arg("--disable").args(disabled);
        }
        cmd.arg("--out").arg(output);
        run(
            &mut cmd,
            &format!("componentize-js, building guest `{}`", guest.name),
        )
    }
}

/// A toolchain of nanoproc's from npm: the package file and lock in one of
/// its folders (`xtask/js/`, `xtask/as/`), the same for another project's
/// guests.
pub(super) struct NpmToolchain {
    /// That folder, relative to nanoproc's root, for messages.
    package_dir: &'static str,
    package: Vec<u8>,
    lock: Vec<u8>,
    /// What it is installed from: the package file, its lock and Node.js's
    /// version.
    pub(super) stamp: String,
}

impl NpmToolchain {
    /// Reads the package file and lock in `package_dir`, to be installed
    /// with Node.js `node`.
    pub(super) fn read(package_dir: &'static str, node: &str) -> Result<Self> {
        let dir = crate::nanoproc_root().join(package_dir);
        let package = std::fs::read(dir.join("package.json"))
            .with_context(|| format!("cannot read {package_dir}/package.json"))?;
        let lock = std::fs::read(dir.join("package-lock.json"))
            .with_context(|| format!("cannot read {package_dir}/package-lock.json"))?;
        let stamp = stamp_of(&[&package, &lock, node.as_bytes()]);
        Ok(Self {
            package_dir,
            package,
            lock,
            stamp,
        })
    }

    /// The exact version its package file pins for the dependency `name`.
    pub(super) fn pinned(&self, name: &str) -> Result<String> {
        pinned(&self.package, name, self.package_dir)
    }

    /// Installs it with `npm ci` into `target/toolchains/FOLDER` when it is
    /// missing or was installed from other files; `what` says what it
    /// installs, `label` names it when `npm ci` fails. Returns the folder.
    pub(super) fn install(
        &self,
        root: &Path,
        folder: &str,
        what: &str,
        label: &str,
    ) -> Result<std::path::PathBuf> {
        let dir = root.join(TOOLCHAINS_DIR).join(folder);
        install(root, &dir, &self.stamp, what, |at| {
            std::fs::write(at.join("package.json"), &self.package)?;
            std::fs::write(at.join("package-lock.json"), &self.lock)?;
            run(&mut npm_ci(at), &format!("`npm ci` of {label}"))
        })?;
        Ok(dir)
    }
}

/// Installs the npm packages of `guest`'s `package.json`, pinned by its
/// `package-lock.json`, into `work/deps` when they (or the toolchain, of
/// stamp `toolchain`) changed. Returns their `node_modules` folder, which
/// does not exist when the guest has no `package.json`.
pub(super) fn install_packages(
    root: &Path,
    guest: &Guest,
    work: &Path,
    toolchain: &str,
) -> Result<std::path::PathBuf> {
    let node_modules = work.join("deps/node_modules");
    let package = guest.dir.join("package.json");
    if package.is_file() {
        let lock_path = guest.dir.join("package-lock.json");
        let lock = std::fs::read(&lock_path).with_context(|| {
            format!(
                "{} has no package-lock.json beside its package.json: run \
                 `npm install --package-lock-only` in {} and commit it",
                guest.name,
                relative(root, &guest.dir).display()
            )
        })?;
        let package = std::fs::read(&package)?;
        install(
            root,
            &work.join("deps"),
            &stamp_of(&[&package, &lock, toolchain.as_bytes()]),
            &format!("the npm packages of guest `{}` (npm ci)", guest.name),
            |at| {
                std::fs::write(at.join("package.json"), &package)?;
                std::fs::write(at.join("package-lock.json"), &lock)?;
                run(
                    &mut npm_ci(at),
                    &format!("`npm ci` of guest `{}`'s packages", guest.name),
                )
            },
        )?;
    }
    Ok(node_modules)
}

/// `npm ci` in `dir`, quietly, with no package's install scripts run.
fn npm_ci(dir: &Path) -> Command {
    let mut cmd = Command::new("npm");
    cmd.args([
        "ci",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ])
    .current_dir(dir);
    cmd
}

/// The exact version `package` (the package.json in the folder `dir`)
/// pins for the dependency `name`.
fn pinned(package: &[u8], name: &str, dir: &str) -> Result<String> {
    let json: serde_json::Value = serde_json::from_slice(package)
        .with_context(|| format!("{dir}/package.json is not JSON"))?;
    let version = json["dependencies"][name]
        .as_str()
        .with_context(|| format!("{dir}/package.json does not depend on {name}"))?;
    if !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        bail!("{dir}/package.json must pin {name} to one exact version, not `{version}`");
    }
    Ok(version.to_string())
}

/// Fails, saying how to install them, unless Node.js `at_least` or newer
/// and npm are installed; `what` says what needs them. Returns Node.js's
/// version.
pub(super) fn node_and_npm(what: &str, at_least: u32) -> Result<String> {
    let missing: Vec<&str> = ["node", "npm"]
        .into_iter()
        .filter(|p| !on_path(p))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} {} not installed: {what}\n{}",
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" },
            instructions(at_least)
        );
    }
    let node = version_of("node", &["--version"]).unwrap_or_default();
    let major = node
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    if major.is_none_or(|m| m < at_least) {
        bail!(
            "Node.js {node} is too old: {what}\n{}",
            instructions(at_least)
        );
    }
    Ok(node)
}
