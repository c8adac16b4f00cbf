//! `nanoproc diff OLD NEW`: what NEW imports, exports and is granted that
//! OLD did not, and the reverse, component by component, in the audit's
//! words; the exit status says whether NEW holds more authority.
//!
//! Each side is read as a [`Lock`]:
//!
//! - a lock (`.lock`) as it is;
//! - an app manifest (`.toml`) composed in memory, as `nanoproc lock` would
//!   lock it (nothing is written);
//! - a `.wasm` that nanoproc composed (it carries the `nanoproc-grants`
//!   section): each component nested in it, described by its own imports
//!   and exports and granted what the app carries for it
//!   ([`Lock::of_app`]);
//! - any other `.wasm`: one component, named after the file, granted
//!   nothing ([`Lock::of_component`]).
//!
//! Components are matched by name. A lone component is compared with the
//! other side's component of the same name, or with its only component when
//! it has one only, whatever that is called. Bytes are compared only where
//! both sides have them alike (a composed app nests its components with
//! their core modules renamed), and where a component came from only
//! between manifests and locks, which say it.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use nanoproc_linker::{Change, Lock, LockError};
use serde::Serialize;

use crate::ComponentsDir;

/// Exit status when NEW holds authority OLD did not.
const EXIT_WIDER: u8 = 1;

/// Exit status when a side cannot be read.
const EXIT_ERROR: u8 = 2;

/// What `nanoproc diff` is given.
#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// What was reviewed: a component or a composed app (`.wasm`), an app
    /// manifest (`.toml`) or a lock (`.lock`).
    old: PathBuf,
    /// What is proposed, given as OLD is.
    new: PathBuf,
    /// Print the changes as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    components: ComponentsDir,
}

/// What a side was read from.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    /// A component nanoproc did not compose.
    Component,
    /// An app nanoproc composed.
    App,
    /// An app manifest, composed in memory.
    Manifest,
    /// A lock.
    Lock,
}

/// One side of the comparison.
struct Side {
    path: PathBuf,
    kind: Kind,
    lock: Lock,
}

impl Side {
    /// What the side is, for the header.
    fn describe(&self) -> String {
        let count = self.lock.components.len();
        let components = format!("{count} component{}", if count == 1 { "" } else { "s" });
        let app = &self.lock.app;
        let what = match self.kind {
            Kind::Component => format!("the component `{app}`"),
            Kind::App => format!("the composed app `{app}`, {components}"),
            Kind::Manifest => format!("the manifest of the app `{app}`, {components}"),
            Kind::Lock => format!("the lock of the app `{app}`, {components}"),
        };
        format!("{}: {what}", self.path.display())
    }
}

/// The JSON `--json` prints.
#[derive(Serialize)]
struct Report<'a> {
    old: SideReport<'a>,
    new: SideReport<'a>,
    /// Whether NEW holds authority OLD did not.
    widens: bool,
    changes: Vec<ChangeReport<'a>>,
}

#[derive(Serialize)]
struct SideReport<'a> {
    path: String,
    kind: Kind,
    app: &'a str,
    components: Vec<&'a str>,
}

impl<'a> SideReport<'a> {
    fn of(side: &'a Side) -> Self {
        Self {
            path: side.path.display().to_string(),
            kind: side.kind,
            app: &side.lock.app,
            components: side.lock.components.keys().map(String::as_str).collect(),
        }
    }
}

#[derive(Serialize)]
struct ChangeReport<'a> {
    #[serde(flatten)]
    change: &'a Change,
    widens: bool,
    text: String,
}

/// Runs `nanoproc diff`; errors are printed here, since their status (2)
/// is not the one other commands give theirs.
pub(crate) fn diff(args: &DiffArgs) -> ExitCode {
    match compare(args) {
        Ok(status) => status,
        Err(e) => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", nanoproc_linker::report_any(&*e, color));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn compare(args: &DiffArgs) -> Result<ExitCode> {
    let old = read(&args.old, &args.components)?;
    let mut new = read(&args.new, &args.components)?;
    let mut old_lock = old.lock.clone();
    match_lone_component(old.kind, &mut old_lock, new.kind, &mut new.lock);
    let old = Side {
        lock: old_lock,
        ..old
    };
    let bytes_compared = (old.kind == Kind::App) == (new.kind == Kind::App);
    let sources_compared = [old.kind, new.kind]
        .iter()
        .all(|k| matches!(k, Kind::Manifest | Kind::Lock));
    let mut compared = new.lock.clone();
    for (name, component) in &mut compared.components {
        let Some(was) = old.lock.components.get(name) else {
            continue;
        };
        if !bytes_compared {
            component.sha256.clone_from(&was.sha256);
        }
        if !sources_compared {
            component.guest.clone_from(&was.guest);
            component.path.clone_from(&was.path);
            component.crates.clone_from(&was.crates);
        }
    }
    let changes = old.lock.changes(&compared);
    let widens = changes.iter().any(Change::widens);
    let printed = if args.json {
        let report = Report {
            old: SideReport::of(&old),
            new: SideReport::of(&new),
            widens,
            changes: changes
                .iter()
                .map(|change| ChangeReport {
                    change,
                    widens: change.widens(),
                    text: change.between("old", "new").to_string(),
                })
                .collect(),
        };
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        text(&old, &new, &changes, bytes_compared, sources_compared)
    };
    // A reader that stops early (`| head`) changes nothing of the verdict,
    // which is the exit status.
    let _ = std::io::stdout().lock().write_all(printed.as_bytes());
    Ok(if widens {
        ExitCode::from(EXIT_WIDER)
    } else {
        ExitCode::SUCCESS
    })
}

/// The changes as text: what each side is, then each component's changes,
/// each marked `!` (more authority), `+` (something new that is not
/// authority), `-` (something gone) or `~` (something changed), then the
/// verdict.
fn text(
    old: &Side,
    new: &Side,
    changes: &[Change],
    bytes_compared: bool,
    sources_compared: bool,
) -> String {
    let mut out = format!("old: {}\nnew: {}\n", old.describe(), new.describe());
    if !bytes_compared {
        out.push_str(
            "bytes not compared: a composed app nests its components with their core modules \
             renamed\n",
        );
    }
    let says_sources = [old.kind, new.kind]
        .iter()
        .any(|k| matches!(k, Kind::Manifest | Kind::Lock));
    if !sources_compared && says_sources {
        out.push_str(
            "sources not compared: only manifests and locks say where a component came from\n",
        );
    }
    let mut by_component: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for change in changes {
        by_component
            .entry(change.component())
            .or_default()
            .push(change);
    }
    for (component, changes) in &by_component {
        out.push_str(&format!("\n{component}\n"));
        for change in changes {
            out.push_str(&format!(
                "  {} {}\n",
                marker(change),
                change.between("old", "new")
            ));
        }
    }
    out.push('\n');
    let widening = changes.iter().filter(|c| c.widens()).count();
    out.push_str(&match (changes.len(), widening) {
        (0, _) => "the same: no change\n".to_string(),
        (_, 0) => {
            "no more authority: no change gives the new what the old did not hold\n".to_string()
        }
        (_, 1) => "more authority: 1 change (marked !) gives the new what the old did not hold\n"
            .to_string(),
        (_, w) => format!(
            "more authority: {w} changes (marked !) give the new what the old did not hold\n"
        ),
    });
    out
}

/// How a change is marked in the text.
fn marker(change: &Change) -> char {
    match change {
        change if change.widens() => '!',
        Change::Item { added: true, .. } => '+',
        Change::Removed { .. } | Change::Item { .. } | Change::Grant { .. } => '-',
        _ => '~',
    }
}

/// Gives a lone component the name of the other side's component when that
/// side has one only, so that the two are compared.
fn match_lone_component(old_kind: Kind, old: &mut Lock, new_kind: Kind, new: &mut Lock) {
    let only = |lock: &Lock| {
        let mut names = lock.components.keys();
        match (names.next(), names.next()) {
            (Some(name), None) => Some(name.clone()),
            _ => None,
        }
    };
    let rename = |lock: &mut Lock, to: String| {
        if let Some(component) = std::mem::take(&mut lock.components).into_values().next() {
            lock.components.insert(to, component);
        }
    };
    if new_kind == Kind::Component
        && let Some(name) = only(old)
    {
        rename(new, name);
    } else if old_kind == Kind::Component
        && let Some(name) = only(new)
    {
        rename(old, name);
    }
}

/// Reads one side, by its file's extension.
fn read(path: &Path, components: &ComponentsDir) -> Result<Side> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let (kind, lock) = match extension {
        "lock" => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let lock = Lock::parse(&text)
                .with_context(|| format!("cannot use the lock {}", path.display()))?;
            (Kind::Lock, lock)
        }
        "toml" => {
            let (manifest, mut composition) = crate::compose(path, components)?;
            if let Some(cargo_lock) = crate::find_upwards(manifest.base_dir(), "Cargo.lock") {
                let text = std::fs::read_to_string(&cargo_lock)
                    .with_context(|| format!("cannot read {}", cargo_lock.display()))?;
                composition.lock.record_crates(&text);
            }
            (Kind::Manifest, composition.lock)
        }
        "wasm" => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let name = path
                .file_stem()
                .map_or("component".into(), |s| s.to_string_lossy().into_owned());
            let cannot = || format!("cannot read {} as a component", path.display());
            match Lock::of_app(&name, &bytes)
                .map_err(unwrap_component)
                .with_context(cannot)?
            {
                Some(lock) => (Kind::App, lock),
                None => (
                    Kind::Component,
                    Lock::of_component(&name, &bytes)
                        .map_err(unwrap_component)
                        .with_context(cannot)?,
                ),
            }
        }
        _ => {
            return Err(anyhow::anyhow!(
                "cannot tell what {} is: give a component or composed app (`.wasm`), an app \
                 manifest (`.toml`) or a lock (`.lock`)",
                path.display()
            ));
        }
    };
    Ok(Side {
        path: path.to_path_buf(),
        kind,
        lock,
    })
}

/// The error of a lock that cannot be made, as the linker's own error when
/// it is one, so that it is shown as composing shows it.
fn unwrap_component(e: LockError) -> anyhow::Error {
    match e {
        LockError::Component(e) => e.into(),
        e => e.into(),
    }
}
