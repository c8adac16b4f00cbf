//! `cargo xtask build|compose|run|watch MANIFEST`: the work on one app.
//!
//! Only the guests an app manifest names are built; composing, running and
//! calling are the `nanoproc` command's, which this builds once and runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};
use nanoproc_linker::{Manifest, ManifestError, Source};

use crate::guests::{self, COMPONENTS_DIR, Generated};
use crate::{cargo, relative};

/// The app manifest at `path`, read with the errors pointing into it.
fn read(root: &Path, path: &Path) -> Result<Manifest> {
    Ok(Manifest::read(path).map_err(|e| relative_to(root, e))?)
}

/// `error` with the manifest's path relative to `root`.
fn relative_to(root: &Path, mut error: ManifestError) -> ManifestError {
    error.path = relative(root, &error.path).to_path_buf();
    if let Some(location) = &mut error.location {
        location.path = relative(root, &location.path).into();
    }
    error
}

/// The guests a manifest names, by where they are built from.
#[derive(Default)]
struct Named {
    /// The project's own guests.
    own: BTreeSet<String>,
    /// nanoproc's library guests, built from its checkout.
    library: BTreeSet<String>,
}

/// Where the guest `name` of the project at `root` lives: the project's
/// `guests/NAME`, else nanoproc's when the project has none of that name.
fn guest_dir(root: &Path, name: &str) -> PathBuf {
    let own = root.join("guests").join(name);
    let library = crate::nanoproc_root().join("guests").join(name);
    if !is_guest(&own) && is_guest(&library) {
        library
    } else {
        own
    }
}

/// Whether `dir` holds a guest: a crate, or a guest file.
fn is_guest(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() || dir.join("guest.toml").is_file()
}

/// The guests `manifest` names: the project's own, each checked to exist
/// under `guests/`, and nanoproc's Rust guests it names that the project
/// has none of (in a project other than nanoproc).
fn guests_of(root: &Path, manifest: &Manifest) -> Result<Named> {
    let mut named = Named::default();
    for (name, component) in manifest.components() {
        let Source::Guest(guest) = component.source() else {
            continue;
        };
        let dir = guest_dir(root, guest);
        let message = if dir.starts_with(root) {
            if is_guest(&dir) {
                named.own.insert(guest.clone());
                continue;
            }
            format!(
                "component `{name}` names the guest `{guest}`, but there is no {}: \
                 create it with `cargo xtask new {guest} --lib`, or name one of {}",
                relative(root, &dir).display(),
                known_guests(root).join(", ")
            )
        } else if dir.join("Cargo.toml").is_file() {
            named.library.insert(guest.clone());
            continue;
        } else {
            format!(
                "component `{name}` names nanoproc's guest `{guest}`, which is not written \
                 in Rust: build it with `cargo xtask build` in nanoproc's checkout and name \
                 its component file with `path` instead"
            )
        };
        let error = manifest.error_at(component.offset(), message);
        return Err(relative_to(root, error).into());
    }
    Ok(named)
}

/// The guests under `guests/`, by name.
fn known_guests(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("guests"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| is_guest(&e.path()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Builds the guests the manifest at `path` names.
pub fn build(root: &Path, path: &Path) -> Result<Manifest> {
    let manifest = read(root, path)?;
    let named = guests_of(root, &manifest)?;
    if !named.own.is_empty() {
        guests::build(root, Generated::Write, &|guest| named.own.contains(guest))?;
    }
    if !named.library.is_empty() {
        guests::build_library(root, &|guest| named.library.contains(guest))?;
    }
    if named.own.is_empty() && named.library.is_empty() {
        eprintln!(
            "xtask: {} names no guest of this project: nothing to build",
            relative(root, path).display()
        );
    }
    Ok(manifest)
}

/// Builds the `nanoproc` command for the project at `root` and returns
/// where it is. In nanoproc's own workspace it is one of the members;
/// another project builds it from nanoproc's checkout, with that checkout's
/// lock file, into its own `target/`, so nothing is written into nanoproc's
/// tree.
pub fn nanoproc(root: &Path) -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let nanoproc = crate::nanoproc_root();
    if root == nanoproc {
        cargo(root, &["build", "--package", "nanoproc-cli"])?;
    } else {
        let manifest = nanoproc.join("Cargo.toml");
        let (Some(manifest), Some(target_dir)) = (manifest.to_str(), target.to_str()) else {
            bail!("cannot build nanoproc: its path or the project's is not UTF-8");
        };
        cargo(
            root,
            &[
                "build",
                "--manifest-path",
                manifest,
                "--locked",
                "--package",
                "nanoproc-cli",
                "--target-dir",
                target_dir,
            ],
        )?;
    }
    Ok(target.join("debug/nanoproc"))
}

/// What to do with an app once it is composed.
pub enum Action {
    /// Run it (it exports `wasi:cli/run`) with these arguments.
    Run(Vec<String>),
    /// Call one function it exports, written in WAVE.
    Call(String),
    /// Write the composed component to this file.
    Compose(PathBuf),
}

/// The `nanoproc` command line that does `action` with the app of the
/// manifest at `path`, its guests taken from the project at `root`; with
/// `locked`, `nanoproc` refuses an app that differs from the manifest's lock.
fn command(nanoproc: &Path, root: &Path, path: &Path, action: &Action, locked: bool) -> Command {
    let mut cmd = Command::new(nanoproc);
    // From the project's root, so that errors name the manifest as the
    // project's own do.
    cmd.current_dir(root);
    let path = relative(root, path);
    match action {
        Action::Run(_) => cmd.arg("run").arg(path),
        Action::Call(call) => cmd.arg("call").arg(path).arg(call),
        Action::Compose(output) => cmd.arg("compose").arg(path).arg("--output").arg(output),
    };
    cmd.arg("--components").arg(root.join(COMPONENTS_DIR));
    if locked {
        cmd.arg("--locked");
    }
    if let Action::Run(args) = action
        && !args.is_empty()
    {
        cmd.arg("--").args(args);
    }
    cmd
}

/// Builds the guests the manifest at `path` names, then composes, runs or
/// calls its app (`locked`: refusing one that differs from the manifest's
/// lock); fails when that fails.
pub fn run(root: &Path, path: &Path, action: &Action, locked: bool) -> Result<()> {
    build(root, path)?;
    let nanoproc = nanoproc(root)?;
    let status = command(&nanoproc, root, path, action, locked)
        .status()
        .with_context(|| format!("cannot run {}", nanoproc.display()))?;
    if !status.success() {
        // `nanoproc` has said why; only its exit status is passed on.
        return Err(crate::Reported(status.code().unwrap_or(1)).into());
    }
    Ok(())
}

/// How often `watch` looks for changes.
const POLL: Duration = Duration::from_millis(250);

/// Builds, composes and runs the app of the manifest at `path`, then again
/// each time the manifest, a file of a guest it names, a component file it
/// names, or the WIT changes. Stops only when interrupted.
pub fn watch(root: &Path, path: &Path, action: &Action, locked: bool) -> Result<()> {
    let nanoproc = nanoproc(root)?;
    let mut watched = watched_files(root, path, &[]);
    loop {
        let before = Snapshot::take(&watched);
        let mut child = match build(root, path) {
            Ok(_) => Some(
                command(&nanoproc, root, path, action, locked)
                    .spawn()
                    .with_context(|| format!("cannot run {}", nanoproc.display()))?,
            ),
            Err(e) => {
                eprintln!("error: {e:#}");
                None
            }
        };
        let mut said = false;
        let changed = loop {
            std::thread::sleep(POLL);
            if let Some(running) = &mut child
                && let Some(status) = running.try_wait()?
            {
                if !status.success() {
                    eprintln!("xtask: the app failed ({status})");
                }
                child = None;
            }
            if !said && child.is_none() {
                eprintln!(
                    "xtask: watching {} files for changes (Ctrl-C stops)",
                    watched.len()
                );
                said = true;
            }
            let now = watched_files(root, path, &watched);
            if let Some(changed) = Snapshot::take(&now).changed(&before) {
                watched = now;
                break changed;
            }
        };
        stop(child);
        eprintln!(
            "xtask: {} changed: building again",
            relative(root, &changed).display()
        );
    }
}

/// Stops a run that is still going when its inputs change.
fn stop(child: Option<Child>) {
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The files whose change means the app must be built again: the manifest,
/// each component file it names by path, every file of each guest it names
/// (but what the build writes there), and the WIT. While the manifest does
/// not read, the files `before` it stopped reading.
fn watched_files(root: &Path, path: &Path, before: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = vec![path.to_path_buf()];
    let guests = match Manifest::read(path) {
        Ok(manifest) => {
            let mut guests = Vec::new();
            for component in manifest.components().values() {
                match component.source() {
                    Source::Path(file) => files.push(manifest.base_dir().join(file)),
                    Source::Guest(name) => guests.push(guest_dir(root, name)),
                }
            }
            guests
        }
        Err(_) if !before.is_empty() => return before.to_vec(),
        // Until it reads, any guest may be one it will name.
        Err(_) => vec![root.join("guests")],
    };
    for dir in guests.iter().chain([&root.join("wit")]) {
        walk(dir, &mut files);
    }
    files.sort();
    files.dedup();
    files
}

/// Every file under `dir`, but build outputs and generated bindings.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "target" || name.starts_with('.') || name.ends_with(".tmp") {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, files);
        } else if name != "bindings.rs" {
            files.push(path);
        }
    }
}

/// The modification time and size of each watched file (none when absent).
#[derive(PartialEq, Eq)]
struct Snapshot(BTreeMap<PathBuf, Option<(SystemTime, u64)>>);

impl Snapshot {
    fn take(files: &[PathBuf]) -> Self {
        Self(
            files
                .iter()
                .map(|file| {
                    let stamp = std::fs::metadata(file)
                        .ok()
                        .and_then(|meta| Some((meta.modified().ok()?, meta.len())));
                    (file.clone(), stamp)
                })
                .collect(),
        )
    }

    /// A file that is new, gone or different in `self` compared to `before`.
    fn changed(&self, before: &Self) -> Option<PathBuf> {
        self.0
            .iter()
            .find(|(file, stamp)| before.0.get(*file) != Some(stamp))
            .or_else(|| {
                before
                    .0
                    .keys()
                    .find(|file| !self.0.contains_key(*file))
                    .map(|f| (f, &None))
            })
            .map(|(file, _)| file.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guests the manifest `text` names, in a project at `root`.
    fn named(root: &Path, text: &str) -> Result<Named> {
        let manifest = Manifest::parse(root.join("nanoproc.toml"), text)?;
        guests_of(root, &manifest)
    }

    #[test]
    fn a_project_takes_nanoprocs_rust_guests_it_has_none_of() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        std::fs::create_dir_all(root.join("guests/markdown")).unwrap();
        let app = "[app]\nexport = [\"md\"]\n\n[components.md]\nguest = \"markdown\"\n";
        // Its own `markdown` is not a guest yet: nanoproc's is taken.
        let found = named(root, app).unwrap();
        assert!(found.own.is_empty());
        assert_eq!(found.library, BTreeSet::from(["markdown".to_string()]));
        // Once it has one, its own is taken.
        std::fs::write(root.join("guests/markdown/Cargo.toml"), "").unwrap();
        let found = named(root, app).unwrap();
        assert_eq!(found.own, BTreeSet::from(["markdown".to_string()]));
        assert!(found.library.is_empty());

        let c = "[app]\nexport = [\"fast\"]\n\n[components.fast]\nguest = \"lz4\"\n";
        let err = named(root, c).err().unwrap();
        assert_eq!(
            err.to_string(),
            "nanoproc.toml:4:1: component `fast` names nanoproc's guest `lz4`, which is not written in Rust: \
             build it with `cargo xtask build` in nanoproc's checkout and name its component \
             file with `path` instead"
        );
        let none = "[app]\nexport = [\"x\"]\n\n[components.x]\nguest = \"no-such\"\n";
        let err = named(root, none).err().unwrap();
        assert_eq!(
            err.to_string(),
            "nanoproc.toml:4:1: component `x` names the guest `no-such`, but there is no guests/no-such: create it \
             with `cargo xtask new no-such --lib`, or name one of markdown"
        );
    }

    #[test]
    fn a_snapshot_sees_files_changed_added_and_removed() {
        let dir = std::env::temp_dir().join(format!("xtask-watch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let a = dir.join("src/a.rs");
        std::fs::write(&a, "one").unwrap();
        std::fs::write(dir.join("src/bindings.rs"), "generated").unwrap();
        let files = || {
            let mut files = Vec::new();
            walk(&dir, &mut files);
            files
        };
        assert_eq!(
            files(),
            vec![a.clone()],
            "generated bindings are not watched"
        );
        let before = Snapshot::take(&files());
        assert_eq!(Snapshot::take(&files()).changed(&before), None);

        std::fs::write(&a, "one more").unwrap();
        assert_eq!(Snapshot::take(&files()).changed(&before), Some(a.clone()));

        let before = Snapshot::take(&files());
        let b = dir.join("src/b.rs");
        std::fs::write(&b, "two").unwrap();
        assert_eq!(Snapshot::take(&files()).changed(&before), Some(b.clone()));

        let before = Snapshot::take(&files());
        std::fs::remove_file(&b).unwrap();
        assert_eq!(Snapshot::take(&files()).changed(&before), Some(b));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
