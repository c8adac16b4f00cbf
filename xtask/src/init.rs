//! `cargo xtask init PATH`: a component app in a project of its own.
//!
//! The project is a Cargo workspace outside nanoproc's tree: `guests/` and
//! `wit/` for its components, an `xtask` member that is this crate's
//! [`project_main`](crate::project_main) (so the project's `cargo xtask` is
//! nanoproc's build, not a copy of it), a README with its two commands, a
//! CI script, and a first app component made as `cargo xtask new NAME --app`
//! makes one. It depends on nanoproc's crates by path to this checkout and
//! starts from this checkout's lock file, so it builds with the versions
//! nanoproc is tested with. Any failure removes what was made.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::{absolute, new};

/// What `cargo xtask init` is asked to make.
#[derive(clap::Args)]
pub struct Args {
    /// The folder to make the project in: a new or empty folder outside
    /// nanoproc's checkout.
    path: PathBuf,
    /// The name of the first app component (its crate is `guest-NAME`);
    /// by default the folder's name.
    #[arg(long)]
    name: Option<String>,
}

/// The project's README; `{{name}}` and `{{wasi}}` are filled in.
const README: &str = include_str!("init/README.md");
/// The project's xtask crate.
const XTASK_TOML: &str = include_str!("init/xtask.toml");
const XTASK_MAIN: &str = include_str!("init/xtask.rs");
/// The project's CI script.
const CI_RUN: &str = include_str!("init/ci-run");
const GITIGNORE: &str = "/target\n";
/// The `cargo xtask` alias; not `--quiet`, so that the first run, which
/// compiles the xtask for a minute, shows its progress.
const CARGO_CONFIG: &str = "# `cargo xtask`: this project's build, run and test commands.\n\
                            [alias]\nxtask = \"run --package xtask --\"\n";

/// Makes the project `args` asks for; `nanoproc` is the checkout it builds
/// with.
pub fn run(nanoproc: &Path, args: &Args) -> Result<()> {
    let dir = absolute(&args.path)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .with_context(|| format!("{} names no folder", args.path.display()))?,
    };
    if args.name.is_some() {
        new::check_name(&name, "the app's name")?;
    } else if let Err(e) = new::check_name(&name, "the folder's name") {
        bail!("{e}; it names the first app: choose another folder, or name the app with `--name`");
    }
    let inside = existing_ancestor(&dir)
        .and_then(|d| d.canonicalize().ok())
        .zip(nanoproc.canonicalize().ok())
        .is_some_and(|(d, n)| d.starts_with(n));
    if inside {
        bail!(
            "{} is inside nanoproc's checkout: a project of its own lives outside it, \
             such as ~/{name}",
            dir.display()
        );
    }
    let existed = dir.exists();
    if existed && std::fs::read_dir(&dir)?.next().is_some() {
        bail!(
            "{} exists and is not empty: choose a new folder",
            dir.display()
        );
    }

    eprintln!("xtask: making the project `{name}` in {}", dir.display());
    let made = write(nanoproc, &dir)
        .and_then(|()| new::app(&dir, &name))
        .and_then(|()| prune_profiles(&dir))
        .and_then(|()| readme(&dir, &name));
    if let Err(e) = made {
        // Nothing half-made stays: the folder goes, or is emptied again.
        if existed {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir_all(entry.path());
                let _ = std::fs::remove_file(entry.path());
            }
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Err(e.context(format!(
            "cannot make the project in {}; nothing was left there",
            dir.display()
        )));
    }
    git_init(&dir);
    let run = format!("cargo xtask run guests/{name}/nanoproc.toml");
    eprintln!(
        "\nThe project `{name}` is ready; its README says what is where. Next:\n  \
         cd {}\n  {run}   # run the app (the first run builds for 5 to 7 minutes)\n  \
         {:width$}   # test it",
        dir.display(),
        "cargo xtask test",
        width = run.len()
    );
    Ok(())
}

/// The nearest of `path` and its ancestors that exists.
fn existing_ancestor(path: &Path) -> Option<&Path> {
    path.ancestors().find(|p| p.exists())
}

/// Writes the project's workspace, xtask, CI script and ignore file.
fn write(nanoproc: &Path, dir: &Path) -> Result<()> {
    let files = [
        ("Cargo.toml", workspace_manifest(nanoproc)?),
        (".cargo/config.toml", CARGO_CONFIG.to_string()),
        ("xtask/Cargo.toml", XTASK_TOML.to_string()),
        ("xtask/src/main.rs", XTASK_MAIN.to_string()),
        (".ci/run", CI_RUN.to_string()),
        (".gitignore", GITIGNORE.to_string()),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    set_executable(&dir.join(".ci/run"))?;
    for folder in ["guests", "wit"] {
        std::fs::create_dir_all(dir.join(folder))?;
    }
    // The versions nanoproc is tested with; cargo drops what is not used.
    std::fs::copy(nanoproc.join("Cargo.lock"), dir.join("Cargo.lock"))
        .context("cannot copy nanoproc's Cargo.lock")?;
    Ok(())
}

/// Makes the file at `path` executable.
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions)
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// nanoproc's `Cargo.toml` made the manifest of a workspace elsewhere with
/// `members`: its settings (the versions of the shared dependencies, the
/// lints, the profiles guests are built with), nanoproc's crates by absolute
/// path, and no members of nanoproc's own.
pub fn workspace_of(nanoproc: &Path, members: &[&str]) -> Result<toml::Table> {
    let text = std::fs::read_to_string(nanoproc.join("Cargo.toml"))
        .context("cannot read nanoproc's Cargo.toml")?;
    let mut manifest: toml::Table = text.parse().context("cannot parse nanoproc's Cargo.toml")?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("nanoproc's Cargo.toml has no [workspace]")?;
    workspace.insert("members".into(), toml::Value::from(members.to_vec()));
    workspace.remove("default-members");
    workspace.remove("exclude");
    let deps = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
        .context("nanoproc's Cargo.toml has no [workspace.dependencies]")?;
    for (_, dep) in deps.iter_mut() {
        if let Some(path) = dep.get_mut("path") {
            let absolute = nanoproc.join(path.as_str().unwrap_or_default());
            *path = toml::Value::from(absolute.to_string_lossy().into_owned());
        }
    }
    Ok(manifest)
}

/// The project's `Cargo.toml`: nanoproc's workspace settings, its members
/// `xtask` and the guests, and nanoproc's crates (its xtask among them) by
/// path.
pub fn workspace_manifest(nanoproc: &Path) -> Result<String> {
    // `new` adds the sandbox crates' pattern with the first of them.
    let mut manifest = workspace_of(nanoproc, &["xtask", "guests/*"])?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("nanoproc's Cargo.toml has no [workspace]")?;
    // The project's licence is its author's to choose.
    if let Some(package) = workspace.get_mut("package").and_then(|p| p.as_table_mut()) {
        package.remove("license");
    }
    let mut xtask = toml::Table::new();
    let path = nanoproc.join("xtask").to_string_lossy().into_owned();
    xtask.insert("path".into(), path.into());
    if let Some(deps) = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
    {
        deps.insert("nanoproc-xtask".into(), xtask.into());
    }
    Ok(format!(
        "# A component app built with nanoproc. nanoproc's crates come from its\n\
         # checkout by path; once they are published, write `nanoproc-host = \"0.1\"`\n\
         # (or `{{ git = \"…\", rev = \"…\" }}`) for each `nanoproc-*` entry instead.\n\
         # The other settings are nanoproc's: the versions of the dependencies\n\
         # components and their tests share, the lints, and the `guest` profile\n\
         # components are built with.\n\n{}",
        toml::to_string(&manifest)?
    ))
}

/// Drops from the project's `Cargo.toml` the per-package settings of the
/// `dev` profile for packages it does not use (cargo warns of each), once
/// its first app exists.
fn prune_profiles(dir: &Path) -> Result<()> {
    let metadata = crate::guests::cargo_metadata(dir)?;
    let used: Vec<&str> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)?;
    let mut pruned = String::new();
    let mut keep = true;
    for line in text.split_inclusive('\n') {
        if line.starts_with('[') {
            keep = line
                .trim_end()
                .strip_prefix("[profile.dev.package.")
                .and_then(|rest| rest.strip_suffix(']'))
                .is_none_or(|name| name.trim_matches('"') == "*" || used.contains(&name));
        }
        if keep {
            pruned.push_str(line);
        }
    }
    std::fs::write(&path, pruned).context("cannot write Cargo.toml")
}

/// Writes the project's README, once its first app exists.
fn readme(dir: &Path, name: &str) -> Result<()> {
    let wasi = new::wasi_version()?;
    let text = README.replace("{{name}}", name).replace("{{wasi}}", &wasi);
    std::fs::write(dir.join("README.md"), text).context("cannot write README.md")
}

/// Makes the project a git repository when git is here and it is in none.
fn git_init(dir: &Path) {
    let in_one = std::process::Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(dir)
        .output()
        .is_ok_and(|out| out.status.success());
    if !in_one {
        let _ = std::process::Command::new("git")
            .args(["init", "--quiet"])
            .current_dir(dir)
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `init` on `path` (with `name`), from nanoproc's checkout.
    fn init(path: &Path, name: Option<&str>) -> Result<()> {
        let args = Args {
            path: path.to_path_buf(),
            name: name.map(str::to_string),
        };
        run(&crate::nanoproc_root(), &args)
    }

    #[test]
    fn a_project_inside_nanoprocs_checkout_is_refused_and_nothing_is_made() {
        let inside = crate::nanoproc_root().join("target/init-inside");
        let err = init(&inside, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} is inside nanoproc's checkout: a project of its own lives outside it, \
                 such as ~/init-inside",
                inside.display()
            )
        );
        assert!(!inside.exists());
    }

    #[test]
    fn a_folder_that_is_not_empty_is_refused_and_left_as_it_was() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("full");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let err = init(&dir, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} exists and is not empty: choose a new folder",
                dir.display()
            )
        );
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(left.len(), 1);
        assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"mine");
    }

    #[test]
    fn a_folder_whose_name_cannot_name_the_app_needs_a_name() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("My_App");
        let err = init(&dir, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the folder's name `My_App` is not lowercase words joined by `-` (such as \
             `word-count`): each word starts with a letter `a`-`z` and has only letters and \
             digits; it names the first app: choose another folder, or name the app with \
             `--name`"
        );
        let err = init(&dir, Some("type")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the app's name `type` is a keyword of WIT or Rust: choose another"
        );
        assert!(!dir.exists());
    }

    #[test]
    fn the_workspace_takes_nanoprocs_settings_and_its_crates_by_path() {
        let nanoproc = crate::nanoproc_root();
        let text = workspace_manifest(&nanoproc).unwrap();
        let manifest: toml::Table = text.parse().unwrap();
        let workspace = &manifest["workspace"];
        assert_eq!(
            workspace["members"].as_array().unwrap(),
            &vec![toml::Value::from("xtask"), toml::Value::from("guests/*")]
        );
        assert!(workspace.get("exclude").is_none());
        assert!(workspace["package"].get("license").is_none());
        for (name, dir) in [
            ("nanoproc-host", "host"),
            ("nanoproc-linker", "linker"),
            ("nanoproc-macro", "host/macro"),
            ("nanoproc-xtask", "xtask"),
        ] {
            assert_eq!(
                workspace["dependencies"][name]["path"].as_str(),
                Some(nanoproc.join(dir).to_str().unwrap()),
                "{name}"
            );
        }
        assert_eq!(
            manifest["profile"]["guest"]["panic"].as_str(),
            Some("abort")
        );
    }
}
