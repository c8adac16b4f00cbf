//! Guests written in Python: componentize-py makes a component of the
//! guest's module, its PyPI dependencies and CPython itself.
//!
//! The toolchain is `xtask/py/requirements.txt`, installed with
//! `pip install --target` into `target/toolchains/py/` and run with that
//! folder on `PYTHONPATH`, so nothing is installed into the system's Python.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::{Guest, TOOLCHAINS_DIR, copy_dir, install, run, stamp_of, version_of};
use crate::toolchain::on_path;

/// The toolchain's pinned requirements, relative to nanoproc's root.
const REQUIREMENTS: &str = "xtask/py/requirements.txt";
/// The Python that runs componentize-py (and pip).
const PYTHON: &str = "python3";
/// componentize-py's command line, run by [`PYTHON`] from the installed folder.
const SCRIPT: &str = "import sys; from componentize_py import script; \
                      sys.argv[0] = 'componentize-py'; sys.exit(script())";

/// componentize-py, installed.
pub(super) struct Toolchain {
    /// `target/toolchains/py`.
    dir: std::path::PathBuf,
    /// componentize-py's version, from the requirements.
    version: String,
    /// What it was installed from: the requirements and Python's version.
    pub(super) stamp: String,
}

/// The options that make `guest`'s component, for the hash of its inputs.
pub(super) fn recipe(guest: &Guest) -> Vec<String> {
    vec![format!("componentize {}", guest.world)]
}

/// How to install Python 3 and pip, for an error.
fn instructions() -> String {
    "Install Python 3 with pip, then run the command again:\n  \
     - on Debian 12 or newer, as root:  apt-get install -y python3 python3-pip\n  \
     - elsewhere: Python's own installer or your system's package manager"
        .to_string()
}

/// `python3 -m pip install` with the options every install here takes.
pub(super) fn pip_install(target: &Path) -> Command {
    let mut cmd = Command::new(PYTHON);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
    ])
    .arg("--target")
    .arg(target);
    cmd
}

impl Toolchain {
    /// The toolchain in `target/toolchains/py`, installed first when it is
    /// missing or was installed from other requirements. `guests` are the
    /// guests that need it, for messages.
    pub(super) fn find_or_install(root: &Path, guests: &[&str]) -> Result<Self> {
        if !on_path(PYTHON) {
            bail!(
                "{PYTHON} is not installed: the Python guests ({}) are built with \
                 componentize-py, which is installed with pip\n{}",
                guests.join(", "),
                instructions()
            );
        }
        let python = version_of(PYTHON, &["--version"]).unwrap_or_default();
        // The toolchain is nanoproc's, also for another project's guests.
        let requirements_path = crate::nanoproc_root().join(REQUIREMENTS);
        let requirements = std::fs::read(&requirements_path)
            .with_context(|| format!("cannot read {REQUIREMENTS}"))?;
        let version = pinned(&requirements, "componentize-py", REQUIREMENTS)?;
        let stamp = stamp_of(&[&requirements, python.as_bytes()]);
        let dir = root.join(TOOLCHAINS_DIR).join("py");
        install(
            root,
            &dir,
            &stamp,
            &format!("componentize-py {version} (pip, {python})"),
            |at| {
                if version_of(PYTHON, &["-m", "pip", "--version"]).is_none() {
                    bail!(
                        "{python} has no pip: the Python guests ({}) are built with \
                         componentize-py, which is installed with pip\n{}",
                        guests.join(", "),
                        instructions()
                    );
                }
                run(
                    pip_install(at).arg("--requirement").arg(&requirements_path),
                    "`pip install` of the Python toolchain",
                )
            },
        )?;
        Ok(Self {
            dir,
            version,
            stamp,
        })
    }

    /// `componentize-py VERSION`.
    pub(super) fn describe(&self) -> String {
        format!("componentize-py {}", self.version)
    }

    /// Installs `guest`'s PyPI dependencies into `work/site` when they
    /// changed, copies its sources to `work/src` and makes the component
    /// at `output`.
    pub(super) fn build(
        &self,
        root: &Path,
        guest: &Guest,
        work: &Path,
        wit: &Path,
        output: &Path,
    ) -> Result<()> {
        let requirements = guest.dir.join("requirements.txt");
        let site = work.join("site");
        if requirements.is_file() {
            let text = std::fs::read(&requirements)?;
            install(
                root,
                &site,
                &stamp_of(&[&text, self.stamp.as_bytes()]),
                &format!("the PyPI packages of guest `{}` (pip)", guest.name),
                |at| {
                    run(
                        pip_install(at)
                            // Every package pinned with its hash, and built
                            // wheels only: no package's code runs here.
                            .args(["--require-hashes", "--only-binary", ":all:"])
                            .arg("--requirement")
                            .arg(&requirements),
                        &format!("`pip install` of guest `{}`'s packages", guest.name),
                    )
                },
            )?;
        } else {
            let _ = std::fs::remove_dir_all(&site);
        }

        // componentize-py may leave byte-code caches beside the sources it
        // reads: it reads a copy.
        let source_dir = guest
            .source
            .parent()
            .context("a Python guest's source is in a folder")?;
        let module = guest
            .source
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a Python guest's source is a module file")?;
        let sources = work.join("src");
        let _ = std::fs::remove_dir_all(&sources);
        copy_dir(source_dir, &sources)?;

        let mut cmd = Command::new(PYTHON);
        cmd.args(["-c", SCRIPT])
            .env("PYTHONPATH", &self.dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // Nothing of the environment this runs in goes into the component.
            .env_remove("VIRTUAL_ENV")
            .arg("--quiet")
            .arg("--wit-path")
            .arg(wit)
            .arg("--world")
            .arg(&guest.world)
            .arg("componentize")
            .arg(module)
            .arg("--python-path")
            .arg(&sources);
        if site.is_dir() {
            cmd.arg("--python-path").arg(&site);
        }
        cmd.arg("--output").arg(output);
        run(
            &mut cmd,
            &format!("componentize-py, building guest `{}`", guest.name),
        )
    }
}

/// The exact version `requirements` (the file `file`) pins for `name`
/// (`name==VERSION`).
pub(super) fn pinned(requirements: &[u8], name: &str, file: &str) -> Result<String> {
    let text = String::from_utf8_lossy(requirements);
    text.lines()
        .filter_map(|line| line.split('#').next())
        .find_map(|line| {
            let (package, version) = line.trim().split_once("==")?;
            (package.trim() == name).then(|| {
                version
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .with_context(|| format!("{file} must pin {name} as `{name}==VERSION`"))
}
