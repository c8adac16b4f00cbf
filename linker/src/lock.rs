//! The lock (`nanoproc.lock` beside `nanoproc.toml`): what was reviewed of
//! each component of an app — its bytes' SHA-256, where it came from, what
//! it imports and exports (each function's type as a digest) and what it is
//! granted — so that an upgrade that asks for more is named before anything
//! runs.
//!
//! ```toml
//! format = 1
//! app = "pages"
//!
//! [components.markdown]
//! sha256 = "…"
//! guest = "markdown"
//! crates = ["pulldown-cmark 0.13.0"]
//! grants = []
//!
//! [components.markdown.exports."nanoproc:markdown/render@0.1.0"]
//! to-html = "3f1c…9a02 -> 77d0…e1b4"
//! ```
//!
//! The text is deterministic: tables and lists sorted, one line per grant
//! and per function, so that a change reads well in a diff.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use wit_parser::{Function, Resolve, Type, TypeDefKind, TypeOwner, WorldItem, WorldKey};

use crate::decoded::{Decoded, invalid};
use crate::error::{ComposeError, ErrorKind};
use crate::grants::{AppGrants, GrantsError};
use crate::manifest::{DirMode, Grants, Manifest, Source};

/// What was reviewed of every component of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// The lock format; this linker writes and reads [`Lock::FORMAT`].
    pub format: u64,
    /// The app's name.
    pub app: String,
    /// Each component, by its name in the manifest.
    pub components: BTreeMap<String, LockedComponent>,
}

/// What was reviewed of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedComponent {
    /// The SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// The guest crate it was built from, when the manifest names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
    /// The component file, when the manifest names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The crates.io crates the guest wraps, as `name version`, from the
    /// build's lock file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crates: Vec<String>,
    /// What it is granted, one grant a line (see [`grant_lines`]).
    pub grants: Vec<String>,
    /// What it imports: each interface with its functions, each plain
    /// function, with the digest of the type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub imports: BTreeMap<String, LockedItem>,
    /// What it exports, as [`LockedComponent::imports`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exports: BTreeMap<String, LockedItem>,
}

/// An import or export: a plain function's type digest, or an interface's
/// functions with theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LockedItem {
    /// A plain function: `PARAMS -> RESULT`, each a digest (after `async `
    /// for an async function).
    Function(String),
    /// An interface: its functions by name, each `PARAMS -> RESULT`.
    Interface(BTreeMap<String, String>),
}

/// Why a lock cannot be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum LockError {
    /// The text is not a lock of any format.
    Invalid(toml::de::Error),
    /// The lock is of a format newer than this linker reads.
    Newer {
        /// The lock's format.
        found: u64,
        /// The newest format this linker reads, [`Lock::FORMAT`].
        supported: u64,
    },
    /// The grants a composed app carries cannot be read ([`Lock::of_app`]).
    Grants(GrantsError),
    /// A component, or one nested in a composed app, is not a valid
    /// component ([`Lock::of_component`], [`Lock::of_app`]).
    Component(ComposeError),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Invalid(e) => write!(f, "the lock is not valid: {}", e.message()),
            LockError::Newer { found, supported } => write!(
                f,
                "the lock was written by a newer nanoproc (lock format {found}; this one reads \
                 format {supported}): use a newer nanoproc, or write the lock again with this \
                 one (`nanoproc lock`)"
            ),
            LockError::Grants(e) => e.fmt(f),
            LockError::Component(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Component(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl Lock {
    /// The lock format this linker writes, and the newest it reads.
    pub const FORMAT: u64 = 1;

    /// The lock of the components `decoded` (in the manifest's order) as
    /// `manifest` names and grants them.
    pub(crate) fn new(manifest: &Manifest, decoded: &[Decoded]) -> Self {
        let components = decoded
            .iter()
            .map(|component| {
                let entry = &manifest.components[&component.name];
                let (guest, path) = match &entry.source {
                    Source::Guest(guest) => (Some(guest.clone()), None),
                    Source::Path(path) => (None, Some(path.display().to_string())),
                };
                let sha256 = component.sha256.clone();
                let locked = LockedComponent {
                    sha256,
                    guest,
                    path,
                    crates: Vec::new(),
                    grants: grant_lines(&entry.grants),
                    imports: items(component, false),
                    exports: items(component, true),
                };
                (component.name.clone(), locked)
            })
            .collect();
        Lock {
            format: Self::FORMAT,
            app: manifest.name(),
            components,
        }
    }

    /// The lock of one component on its own, as a file that nanoproc did
    /// not compose: named `name` (the app's name too), its bytes' SHA-256,
    /// what it imports and exports, and no grant (a component file carries
    /// none); where it came from is not known.
    ///
    /// # Errors
    ///
    /// [`LockError::Component`] when `bytes` are not a valid component.
    pub fn of_component(name: &str, bytes: &[u8]) -> Result<Self, LockError> {
        let component = Decoded::read(name, bytes).map_err(LockError::Component)?;
        Ok(Lock {
            format: Self::FORMAT,
            app: name.to_string(),
            components: BTreeMap::from([(name.to_string(), nested(&component, bytes, Vec::new()))]),
        })
    }

    /// The lock of an app nanoproc composed, read from its bytes alone (the
    /// file called `name` in errors); `None`
    /// when they carry no grants section ([`AppGrants::SECTION`]): a
    /// component nanoproc did not compose.
    ///
    /// The composed app nests each of its components as it was, but for the
    /// names of its core modules (see
    /// [`core_module_name`](crate::core_module_name)), and names it as the
    /// manifest does. Each is locked as the manifest's lock would lock it:
    /// what it imports and exports, and the grants the app carries for it.
    /// Two things differ: its SHA-256 is that of its bytes as nested, which
    /// the renamed core modules make differ from the file it was composed
    /// from; and where it came from is not known. The deny providers the
    /// linker nests beside components are not components of the app and are
    /// left out. The app's own imports and exports are not listed: each of
    /// its imports is a capability granted to its components, each export
    /// one of theirs.
    ///
    /// # Errors
    ///
    /// [`LockError::Grants`] when the grants section cannot be read,
    /// [`LockError::Component`] when a nested component is not valid.
    pub fn of_app(name: &str, bytes: &[u8]) -> Result<Option<Self>, LockError> {
        let invalid =
            |e: &dyn fmt::Display| LockError::Component(invalid(name, &anyhow::anyhow!("{e}")));
        crate::inspect::framing(bytes, crate::inspect::MAX_NESTING).map_err(|e| invalid(&e))?;
        let Some(grants) = AppGrants::read(bytes).map_err(LockError::Grants)? else {
            return Ok(None);
        };
        let nested_components =
            crate::inspect::nested_components(bytes).map_err(|e| invalid(&e))?;
        let mut components = BTreeMap::new();
        for (name, component) in &nested_components {
            let Some(name) = name else {
                return Err(invalid(&"a component nested in it has no name"));
            };
            let own = crate::inspect::core_module_names(component);
            let serves_another = own.first().is_some_and(|module| {
                module != crate::modules::core_module_name(name)
                    && nested_components
                        .iter()
                        .any(|(other, _)| other.as_deref() == Some(module.as_str()))
            });
            if serves_another {
                // A deny provider: its core modules are named after the
                // component it answers for.
                continue;
            }
            let decoded = Decoded::read(name, component).map_err(LockError::Component)?;
            let granted = grants
                .components
                .get(name)
                .map(grant_lines)
                .unwrap_or_default();
            components.insert(name.clone(), nested(&decoded, component, granted));
        }
        Ok(Some(Lock {
            format: Self::FORMAT,
            app: grants.app,
            components,
        }))
    }

    /// Reads a lock's text.
    ///
    /// # Errors
    ///
    /// When the text is not a lock, or is of a newer format (named before
    /// anything else is read).
    pub fn parse(text: &str) -> Result<Self, LockError> {
        #[derive(Deserialize)]
        struct Format {
            format: Option<u64>,
        }
        if let Ok(Format {
            format: Some(found),
        }) = toml::from_str::<Format>(text)
            && found > Self::FORMAT
        {
            return Err(LockError::Newer {
                found,
                supported: Self::FORMAT,
            });
        }
        toml::from_str(text).map_err(LockError::Invalid)
    }

    /// The lock as text: a header saying what it is, then sorted TOML.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# What was reviewed of each component of the app `{}`: its bytes, where it\n\
             # came from, what it imports and exports, what it is granted. Written by\n\
             # `nanoproc compose` and `nanoproc lock`; `--locked` refuses an app that\n\
             # differs from it. Commit it.\n{body}",
            self.app
        )
    }

    /// What changed from this lock (what was reviewed) to `now`, component
    /// by component, in the manifest's words; nothing when they agree.
    pub fn changes(&self, now: &Lock) -> Vec<Change> {
        let mut changes = Vec::new();
        for (name, was) in &self.components {
            let Some(is) = now.components.get(name) else {
                changes.push(Change::Removed {
                    component: name.clone(),
                });
                continue;
            };
            let before = changes.len();
            compare(name, was, is, &mut changes);
            if changes.len() == before && was.sha256 != is.sha256 {
                changes.push(Change::Bytes {
                    component: name.clone(),
                    was: was.sha256.clone(),
                    is: is.sha256.clone(),
                });
            }
        }
        for (name, is) in &now.components {
            if !self.components.contains_key(name) {
                changes.push(Change::Added {
                    component: name.clone(),
                    imports: is.imports.keys().cloned().collect(),
                    grants: is.grants.clone(),
                });
            }
        }
        changes
    }

    /// Checks the app `now` against this lock, read from `path`.
    ///
    /// # Errors
    ///
    /// When they differ: [`ErrorKind::Locked`] with every change, in the
    /// audit's words.
    pub fn verify(&self, now: &Lock, path: &Path) -> Result<(), ComposeError> {
        let changes = self.changes(now);
        if changes.is_empty() {
            return Ok(());
        }
        let mut message = format!(
            "the app `{}` differs from what {} says was reviewed:",
            now.app,
            path.display()
        );
        for change in &changes {
            message.push_str(&format!("\n  - {change}"));
        }
        Err(
            ComposeError::new(ErrorKind::Locked { changes }, message).help(
                "review the changes; to accept them, write the lock again with `nanoproc lock` \
             (or compose without `--locked`) and commit it",
            ),
        )
    }

    /// Records the crates.io crates each guest component wraps, from the
    /// text of the build's `Cargo.lock`: the registry dependencies of the
    /// guest's crate (`guest-NAME` or `NAME`), as `name version`.
    pub fn record_crates(&mut self, cargo_lock: &str) {
        let cargo = CargoPackage::all(cargo_lock);
        for component in self.components.values_mut() {
            let Some(guest) = &component.guest else {
                continue;
            };
            let Some(package) = cargo
                .iter()
                .find(|p| p.name == format!("guest-{guest}"))
                .or_else(|| cargo.iter().find(|p| p.name == guest))
            else {
                continue;
            };
            let mut crates: Vec<String> = package
                .dependencies
                .iter()
                .filter_map(|dependency| {
                    // `name`, or `name version` when several versions are locked.
                    let mut words = dependency.split(' ');
                    let name = words.next()?;
                    let version = words.next();
                    cargo.iter().find(|p| {
                        p.name == name
                            && version.is_none_or(|v| p.version == v)
                            && p.source.is_some_and(|s| s.starts_with("registry+"))
                    })
                })
                .filter(|p| !p.name.starts_with("wit-bindgen"))
                .map(|p| format!("{} {}", p.name, p.version))
                .collect();
            crates.sort();
            component.crates = crates;
        }
    }

    /// Whether `now` holds authority this lock does not: a component,
    /// import or grant that is new.
    pub fn widened_by(&self, now: &Lock) -> bool {
        self.changes(now).iter().any(Change::widens)
    }
}

/// A `[[package]]` of a `Cargo.lock`, as far as the lock needs it.
struct CargoPackage<'a> {
    name: &'a str,
    version: &'a str,
    source: Option<&'a str>,
    /// `name`, or `name version` when several versions are locked.
    dependencies: Vec<&'a str>,
}

impl<'a> CargoPackage<'a> {
    /// The packages of the `Cargo.lock` text `text`. Cargo writes the file
    /// one key a line, each dependency a line of its list, so it is read
    /// line by line: a workspace's lock is tens of KiB, which a TOML parser
    /// takes a millisecond or two over on every `compose`. Lines of any
    /// other shape are passed over.
    fn all(text: &'a str) -> Vec<Self> {
        let string = |line: &'a str, key: &str| {
            let value = line.strip_prefix(key)?.strip_prefix(" = ")?;
            value.strip_prefix('"')?.strip_suffix('"')
        };
        let mut packages = Vec::new();
        for block in text.split("[[package]]").skip(1) {
            let mut package = CargoPackage {
                name: "",
                version: "",
                source: None,
                dependencies: Vec::new(),
            };
            let mut in_dependencies = false;
            for line in block.lines() {
                let line = line.trim();
                if in_dependencies {
                    match line.strip_suffix(',').unwrap_or(line) {
                        "]" => in_dependencies = false,
                        item => package
                            .dependencies
                            .extend(item.strip_prefix('"').and_then(|i| i.strip_suffix('"'))),
                    }
                } else if line == "dependencies = [" {
                    in_dependencies = true;
                } else if let Some(name) = string(line, "name") {
                    package.name = name;
                } else if let Some(version) = string(line, "version") {
                    package.version = version;
                } else if let Some(source) = string(line, "source") {
                    package.source = Some(source);
                }
            }
            packages.push(package);
        }
        packages
    }
}

/// One difference between a lock and an app, in the audit's words.
///
/// As JSON (`nanoproc diff --json`), an object whose field `change` names
/// the sort, in kebab case (`added`, `removed`, `bytes`, `source`, `item`,
/// `signature`, `grant`), beside the variant's fields under their names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Change {
    /// A component that was not locked.
    Added {
        /// The component.
        component: String,
        /// What it imports.
        imports: Vec<String>,
        /// What it is granted.
        grants: Vec<String>,
    },
    /// A locked component the app no longer has.
    Removed {
        /// The component.
        component: String,
    },
    /// Other bytes, with the same imports, exports and grants.
    Bytes {
        /// The component.
        component: String,
        /// The locked SHA-256.
        was: String,
        /// The SHA-256 now.
        is: String,
    },
    /// A component built from another guest crate, file or crate version.
    Source {
        /// The component.
        component: String,
        /// What was locked.
        was: String,
        /// What it is now.
        is: String,
    },
    /// An import or export that appeared (`added`) or went.
    Item {
        /// The component.
        component: String,
        /// Whether an export (or an import).
        export: bool,
        /// The interface or function, `interface#function` for a function
        /// of an interface.
        name: String,
        /// Whether it appeared (or went).
        added: bool,
    },
    /// A function whose type changed.
    Signature {
        /// The component.
        component: String,
        /// Whether it is exported (or imported).
        export: bool,
        /// The function, `interface#function` for a function of an interface.
        function: String,
        /// Whether its parameters changed.
        params: bool,
        /// Whether its result changed.
        result: bool,
        /// Whether it became async (`Some(true)`) or sync (`Some(false)`).
        became_async: Option<bool>,
    },
    /// A grant that appeared (`added`) or went.
    Grant {
        /// The component.
        component: String,
        /// The grant, as [`grant_lines`] says it.
        grant: String,
        /// Whether it appeared (or went).
        added: bool,
    },
}

impl Change {
    /// Whether the change gives the app authority the lock did not.
    pub fn widens(&self) -> bool {
        match self {
            Change::Added { .. } => true,
            Change::Item { export, added, .. } => *added && !*export,
            Change::Grant { added, .. } => *added,
            Change::Removed { .. }
            | Change::Bytes { .. }
            | Change::Source { .. }
            | Change::Signature { .. } => false,
        }
    }

    /// The component the change is about.
    pub fn component(&self) -> &str {
        match self {
            Change::Added { component, .. }
            | Change::Removed { component }
            | Change::Bytes { component, .. }
            | Change::Source { component, .. }
            | Change::Item { component, .. }
            | Change::Signature { component, .. }
            | Change::Grant { component, .. } => component,
        }
    }
}

/// A [`Change`] in words, with its two sides named (see [`Change::between`]).
pub struct Described<'a> {
    change: &'a Change,
    old: &'a str,
    new: &'a str,
}

impl Change {
    /// The change in words, naming `old` and `new` the two sides where it
    /// shows a value of each; the [`Display`](fmt::Display) form, for an
    /// app against its lock, names them `locked` and `now`.
    pub fn between<'a>(&'a self, old: &'a str, new: &'a str) -> Described<'a> {
        Described {
            change: self,
            old,
            new,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.between("locked", "now").fmt(f)
    }
}

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (old, new) = (self.old, self.new);
        match self.change {
            Change::Added {
                component,
                imports,
                grants,
            } => {
                write!(f, "`{component}` is new")?;
                match imports.as_slice() {
                    [] => write!(f, " and imports nothing")?,
                    imports => write!(f, "; it imports {}", quoted(imports))?,
                }
                if !grants.is_empty() {
                    write!(f, "; it is granted {}", quoted(grants))?;
                }
                Ok(())
            }
            Change::Removed { component } => write!(f, "`{component}` is no longer in the app"),
            Change::Bytes { component, was, is } => write!(
                f,
                "`{component}` has other bytes (sha256 {} {new}, {} {old}), with the same imports, \
                 exports and grants",
                short(is),
                short(was)
            ),
            Change::Source { component, was, is } => {
                write!(f, "`{component}` now comes from {is} ({old}: {was})")
            }
            Change::Item {
                component,
                export,
                name,
                added,
            } => {
                let verb = if *export { "exports" } else { "imports" };
                match added {
                    true => write!(f, "`{component}` now {verb} `{name}`"),
                    false => write!(f, "`{component}` no longer {verb} `{name}`"),
                }
            }
            Change::Signature {
                component,
                export,
                function,
                params,
                result,
                became_async,
            } => {
                let side = if *export { "exported" } else { "imported" };
                write!(f, "`{component}`'s {side} `{function}` ")?;
                match became_async {
                    Some(true) => f.write_str("became async")?,
                    Some(false) => f.write_str("is no longer async")?,
                    None => {}
                }
                let what = match (params, result) {
                    (true, true) => "its parameter and result types",
                    (true, false) => "a parameter type",
                    (false, true) => "its result type",
                    (false, false) => return Ok(()),
                };
                if became_async.is_some() {
                    f.write_str(" and ")?;
                }
                write!(f, "changed {what}")
            }
            Change::Grant {
                component,
                grant,
                added,
            } => match added {
                true => write!(f, "`{component}` is now granted `{grant}`"),
                false => write!(f, "`{component}` is no longer granted `{grant}`"),
            },
        }
    }
}

/// The lock of the component `component` on its own, with `bytes` and
/// `grants`, its source not known.
fn nested(component: &Decoded, bytes: &[u8], grants: Vec<String>) -> LockedComponent {
    LockedComponent {
        sha256: sha256_hex(bytes),
        guest: None,
        path: None,
        crates: Vec::new(),
        grants,
        imports: items(component, false),
        exports: items(component, true),
    }
}

/// The changes from `was` to `is`, both of the component `name`.
fn compare(name: &str, was: &LockedComponent, is: &LockedComponent, out: &mut Vec<Change>) {
    let source = |c: &LockedComponent| {
        let mut text = match (&c.guest, &c.path) {
            (Some(guest), _) => format!("the guest `{guest}`"),
            (None, Some(path)) => format!("`{path}`"),
            (None, None) => "nowhere named".to_string(),
        };
        if !c.crates.is_empty() {
            text.push_str(&format!(" ({})", c.crates.join(", ")));
        }
        text
    };
    if (&was.guest, &was.path, &was.crates) != (&is.guest, &is.path, &is.crates) {
        out.push(Change::Source {
            component: name.to_string(),
            was: source(was),
            is: source(is),
        });
    }
    for (export, was_items, is_items) in [
        (false, &was.imports, &is.imports),
        (true, &was.exports, &is.exports),
    ] {
        compare_items(name, export, was_items, is_items, out);
    }
    for grant in &is.grants {
        if !was.grants.contains(grant) {
            out.push(Change::Grant {
                component: name.to_string(),
                grant: grant.clone(),
                added: true,
            });
        }
    }
    for grant in &was.grants {
        if !is.grants.contains(grant) {
            out.push(Change::Grant {
                component: name.to_string(),
                grant: grant.clone(),
                added: false,
            });
        }
    }
}

/// The changes from the imports or exports `was` to `is`.
fn compare_items(
    component: &str,
    export: bool,
    was: &BTreeMap<String, LockedItem>,
    is: &BTreeMap<String, LockedItem>,
    out: &mut Vec<Change>,
) {
    let item = |name: &str, added: bool| Change::Item {
        component: component.to_string(),
        export,
        name: name.to_string(),
        added,
    };
    let signature = |function: String, was: &str, is: &str| {
        let ((wa, wp, wr), (ia, ip, ir)) = (split_signature(was), split_signature(is));
        Change::Signature {
            component: component.to_string(),
            export,
            function,
            params: wp != ip,
            result: wr != ir,
            became_async: (wa != ia).then_some(ia),
        }
    };
    for (name, is_item) in is {
        let Some(was_item) = was.get(name) else {
            out.push(item(name, true));
            continue;
        };
        match (was_item, is_item) {
            (LockedItem::Function(w), LockedItem::Function(i)) if w != i => {
                out.push(signature(name.clone(), w, i));
            }
            (LockedItem::Interface(w), LockedItem::Interface(i)) => {
                for (function, digest) in i {
                    match w.get(function) {
                        None => out.push(item(&format!("{name}#{function}"), true)),
                        Some(old) if old != digest => {
                            out.push(signature(format!("{name}#{function}"), old, digest));
                        }
                        Some(_) => {}
                    }
                }
                for function in w.keys().filter(|f| !i.contains_key(*f)) {
                    out.push(item(&format!("{name}#{function}"), false));
                }
            }
            (LockedItem::Function(_), LockedItem::Function(_)) => {}
            _ => {
                out.push(item(name, false));
                out.push(item(name, true));
            }
        }
    }
    for name in was.keys().filter(|n| !is.contains_key(*n)) {
        out.push(item(name, false));
    }
}

/// The digests of a signature's parameters and result.
fn split_signature(signature: &str) -> (bool, &str, &str) {
    let (is_async, signature) = match signature.strip_prefix("async ") {
        Some(rest) => (true, rest),
        None => (false, signature),
    };
    let (params, result) = signature.split_once(" -> ").unwrap_or((signature, ""));
    (is_async, params, result)
}

/// What `grants` grants, one line per grant, sorted: `stdout`, `env HOME`,
/// `dirs out as /out (read-write)`, `network 127.0.0.1:4318`,
/// `http https://example.com`.
pub fn grant_lines(grants: &Grants) -> Vec<String> {
    let mut lines = Vec::new();
    for (granted, name) in [
        (grants.stdin, "stdin"),
        (grants.stdout, "stdout"),
        (grants.stderr, "stderr"),
        (grants.clocks, "clocks"),
        (grants.random, "random"),
        (grants.exit, "exit"),
        (grants.args, "args"),
    ] {
        if granted {
            lines.push(name.to_string());
        }
    }
    lines.extend(grants.env.iter().map(|v| format!("env {v}")));
    lines.extend(grants.dirs.iter().map(|d| {
        let host = d.host.display().to_string();
        let mode = match d.mode {
            DirMode::ReadOnly => "read-only",
            DirMode::ReadWrite => "read-write",
        };
        format!(
            "dirs {host} as {} ({mode})",
            d.guest.as_deref().unwrap_or(&host)
        )
    }));
    lines.extend(grants.network.iter().map(|n| format!("network {n}")));
    lines.extend(grants.http.iter().map(|o| format!("http {o}")));
    lines.sort();
    lines.dedup();
    lines
}

/// The imports or exports of `component`, each with its functions' digests.
fn items(component: &Decoded, exports: bool) -> BTreeMap<String, LockedItem> {
    let resolve = &component.resolve;
    component
        .world_items(exports)
        .iter()
        .filter_map(|(key, item)| {
            let name = match key {
                WorldKey::Name(name) => name.clone(),
                WorldKey::Interface(id) => resolve.id_of(*id)?,
            };
            let locked = match item {
                WorldItem::Function(f) => LockedItem::Function(signature(resolve, f)),
                WorldItem::Interface { id, .. } => LockedItem::Interface(
                    resolve.interfaces[*id]
                        .functions
                        .iter()
                        .map(|(name, f)| (name.clone(), signature(resolve, f)))
                        .collect(),
                ),
                WorldItem::Type { .. } => return None,
            };
            Some((name, locked))
        })
        .collect()
}

/// `PARAMS -> RESULT` of `function`, each the digest of its canonical text,
/// after `async ` for an async function.
fn signature(resolve: &Resolve, function: &Function) -> String {
    let params: Vec<String> = function
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, canonical(resolve, &p.ty)))
        .collect();
    let result = function
        .result
        .as_ref()
        .map_or_else(|| "_".to_string(), |t| canonical(resolve, t));
    format!(
        "{}{} -> {}",
        if function.kind.is_async() {
            "async "
        } else {
            ""
        },
        digest(&format!("({})", params.join(", "))),
        digest(&result)
    )
}

/// The type `ty` written out in full (named types by their structure, a
/// resource by its interface and name), so that two types have the same
/// text exactly when a call could pass one for the other.
fn canonical(resolve: &Resolve, ty: &Type) -> String {
    let Type::Id(id) = ty else {
        return crate::typecheck::describe(resolve, ty);
    };
    let def = &resolve.types[*id];
    let list = |types: &mut dyn Iterator<Item = String>| types.collect::<Vec<_>>().join(", ");
    let optional = |t: &Option<Type>| {
        t.as_ref()
            .map_or("_".to_string(), |t| canonical(resolve, t))
    };
    match &def.kind {
        TypeDefKind::Record(r) => format!(
            "record {{{}}}",
            list(&mut r.fields.iter().map(|f| format!(
                "{}: {}",
                f.name,
                canonical(resolve, &f.ty)
            )))
        ),
        TypeDefKind::Variant(v) => format!(
            "variant {{{}}}",
            list(
                &mut v
                    .cases
                    .iter()
                    .map(|c| format!("{}({})", c.name, optional(&c.ty)))
            )
        ),
        TypeDefKind::Enum(e) => format!(
            "enum {{{}}}",
            list(&mut e.cases.iter().map(|c| c.name.clone()))
        ),
        TypeDefKind::Flags(fl) => format!(
            "flags {{{}}}",
            list(&mut fl.flags.iter().map(|f| f.name.clone()))
        ),
        TypeDefKind::Resource => {
            let owner = match def.owner {
                TypeOwner::Interface(i) => resolve.id_of(i).unwrap_or_default(),
                TypeOwner::World(w) => resolve.worlds[w].name.clone(),
                TypeOwner::None => String::new(),
            };
            format!("resource {owner}.{}", def.name.as_deref().unwrap_or("?"))
        }
        TypeDefKind::Handle(wit_parser::Handle::Own(t)) => {
            format!("own<{}>", canonical(resolve, &Type::Id(*t)))
        }
        TypeDefKind::Handle(wit_parser::Handle::Borrow(t)) => {
            format!("borrow<{}>", canonical(resolve, &Type::Id(*t)))
        }
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            list(&mut t.types.iter().map(|t| canonical(resolve, t)))
        ),
        TypeDefKind::Option(t) => format!("option<{}>", canonical(resolve, t)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", optional(&r.ok), optional(&r.err)),
        TypeDefKind::List(t) => format!("list<{}>", canonical(resolve, t)),
        TypeDefKind::Map(k, v) => {
            format!("map<{}, {}>", canonical(resolve, k), canonical(resolve, v))
        }
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", canonical(resolve, t)),
        TypeDefKind::Future(t) => format!("future<{}>", optional(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", optional(t)),
        TypeDefKind::Type(t) => canonical(resolve, t),
        TypeDefKind::Unknown => "unknown".to_string(),
    }
}

/// The first 16 hex digits of the SHA-256 of `text`.
fn digest(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))[..16].to_string()
}

/// The SHA-256 of `bytes`, in hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A SHA-256 shortened for messages.
fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// `a`, `b` and `c`, each in backticks.
fn quoted(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREETER: &str = r#"(component
        (import "hello" (func $hello (param "x" u32) (result u32)))
        (core func $h (canon lower (func $hello)))
        (core instance $imports (export "hello" (func $h)))
        (core module $m
          (import "" "hello" (func $h (param i32) (result i32)))
          (func (export "greet") (param i32) (result i32) local.get 0 call $h))
        (core instance $i (instantiate $m (with "" (instance $imports))))
        (func $greet (param "x" u32) (result u32) (canon lift (core func $i "greet")))
        (export "greet" (func $greet)))"#;

    const HELLO: &str = r#"(component
        (core module $m
          (func (export "hello") (param i32) (result i32) local.get 0))
        (core instance $i (instantiate $m))
        (func $hello (param "x" u32) (result u32) (canon lift (core func $i "hello")))
        (export "hello" (func $hello)))"#;

    #[test]
    fn a_composed_app_locks_as_its_manifest_does_but_for_bytes_and_sources() {
        let manifest = Manifest::parse(
            "nanoproc.toml",
            "[app]\nname = \"greetings\"\nexport = [\"greeter\"]\n\n\
             [components.greeter]\npath = \"greeter.wasm\"\n\n\
             [components.hello]\npath = \"hello.wasm\"\n\n\
             [components.hello.grants]\nstdout = true\n",
        )
        .unwrap();
        let hello = wat::parse_str(HELLO).unwrap();
        let bytes = indexmap::IndexMap::from([
            ("greeter".to_string(), wat::parse_str(GREETER).unwrap()),
            ("hello".to_string(), hello.clone()),
        ]);
        let composition = crate::compose(&manifest, &bytes).unwrap();
        let app = Lock::of_app("app", &composition.bytes).unwrap().unwrap();
        assert_eq!(app.app, "greetings");
        let mut expected = composition.lock.clone();
        for (name, component) in &mut expected.components {
            let nested = &app.components[name];
            assert_ne!(component.sha256, nested.sha256, "{name}: renamed modules");
            component.sha256.clone_from(&nested.sha256);
            component.path = None;
        }
        assert_eq!(app, expected);
        assert_eq!(app.components["hello"].grants, ["stdout"]);

        // A component nanoproc did not compose carries no grants.
        assert!(Lock::of_app("hello", &hello).unwrap().is_none());
        let alone = Lock::of_component("hello", &hello).unwrap();
        assert_eq!(
            alone.components["hello"].exports,
            expected.components["hello"].exports
        );
        assert!(matches!(
            Lock::of_component("hello", b"\0asm"),
            Err(LockError::Component(_))
        ));
    }

    #[test]
    fn a_guest_records_the_registry_crates_it_depends_on() {
        let cargo_lock = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "guest-markdown"
version = "0.1.0"
dependencies = [
 "pulldown-cmark",
 "serde 1.0.228",
 "wit-bindgen",
]

[[package]]
name = "pulldown-cmark"
version = "0.13.6"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "serde"
version = "1.0.100"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "1.0.228"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wit-bindgen"
version = "0.61.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let mut lock = Lock {
            format: Lock::FORMAT,
            app: "app".into(),
            components: BTreeMap::new(),
        };
        let component = |guest: Option<&str>| LockedComponent {
            sha256: String::new(),
            guest: guest.map(str::to_string),
            path: guest.is_none().then(|| "c.wasm".to_string()),
            crates: Vec::new(),
            grants: Vec::new(),
            imports: BTreeMap::new(),
            exports: BTreeMap::new(),
        };
        lock.components
            .insert("markdown".into(), component(Some("markdown")));
        lock.components.insert("file".into(), component(None));
        lock.record_crates(cargo_lock);
        assert_eq!(
            lock.components["markdown"].crates,
            ["pulldown-cmark 0.13.6", "serde 1.0.228"]
        );
        assert!(lock.components["file"].crates.is_empty());
    }
}
