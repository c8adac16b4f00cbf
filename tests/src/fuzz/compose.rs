//! The `compose` target: the project's real manifests and guest components,
//! mutated, never panic the linker. Every app that composes validates with
//! the wasm features the host enables, and composing the same inputs again
//! gives the same bytes (or the same error).
//!
//! A manifest is mutated as a model (components dropped, added, renamed or
//! given another component; wiring, grants, exports and limits changed)
//! and written out as TOML, sometimes mutated further as text; components
//! are mutated as bytes (see `mutate::wasm`).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher as _};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use super::chance;
use arbitrary::{Result, Unstructured};
use indexmap::IndexMap;
use nanoproc_linker::{
    Audit, ComponentInterface, DirGrant, DirMode, Grants, Graph, Limits, Manifest, Source,
};

/// One app as the target mutates it.
#[derive(Debug, Clone)]
struct App {
    name: Option<String>,
    export: Vec<String>,
    strict: bool,
    components: Vec<Part>,
    limits: Limits,
}

/// One component of an [`App`].
#[derive(Debug, Clone)]
struct Part {
    name: String,
    /// The component's bytes: a key of [`Inputs::components`].
    source: String,
    wire: Vec<(String, String)>,
    grants: Grants,
}

/// What every case starts from, read once per process.
struct Inputs {
    /// Component bytes: a guest by its name, a fixture file by
    /// `case/file` (WAT compiled).
    components: IndexMap<String, Vec<u8>>,
    /// The real manifests that parse, as models.
    apps: Vec<App>,
    /// The names of the components' imports and exports, with and without
    /// their versions, and the components' names, for wiring and naming.
    names: Vec<String>,
}

/// Composes a mutated real app, as [`check`] does.
///
/// # Errors
///
/// When `u` runs out of bytes before the input is made.
pub fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let inputs = inputs();
    let mut app = u.choose(&inputs.apps)?.clone();
    if chance(u, 3, 4)? {
        for _ in 0..u.int_in_range(1..=4)? {
            mutate_app(u, inputs, &mut app)?;
        }
    }
    let mut text = render(&app);
    if chance(u, 1, 8)? {
        super::mutate::text(u, &mut text, super::manifest::TOKENS)?;
    }
    let mut bytes = IndexMap::new();
    for part in &app.components {
        if let Some(component) = inputs.components.get(&part.source) {
            bytes.insert(part.name.clone(), component.clone());
        }
    }
    if !bytes.is_empty() && chance(u, 1, 2)? {
        for _ in 0..u.int_in_range(1..=2)? {
            let i = u.choose_index(bytes.len())?;
            super::mutate::wasm(u, &mut bytes[i])?;
        }
    }
    if !bytes.is_empty() && chance(u, 1, 32)? {
        let i = u.choose_index(bytes.len())?;
        bytes.shift_remove_index(i);
    }
    check(&text, &bytes);
    Ok(())
}

/// Parses the manifest `text` and composes it from `components` (by the
/// manifest's component names), twice unless these inputs were composed
/// before in this process.
///
/// # Panics
///
/// When parsing or composing panics; when an app composes but does not
/// validate with [`super::host_features`], or its grants section cannot be
/// read; when composing the same inputs twice (in this call, or once here
/// and once in an earlier call) gives different bytes or different errors;
/// when composing fails with an encoding error (which means a bug in the
/// linker); when auditing or drawing an app that composed panics.
pub fn check(text: &str, components: &IndexMap<String, Vec<u8>>) {
    let Ok(manifest) = Manifest::parse("fuzz.toml", text) else {
        return;
    };
    let first = nanoproc_linker::compose(&manifest, components);
    if let Err(e) = &first {
        assert!(!e.message().is_empty(), "an error without a message");
        assert!(
            *e.kind() != nanoproc_linker::ErrorKind::Encoding,
            "an encoding error, which is a bug in the linker: {e}; the manifest:\n{text}"
        );
    }
    // Inputs come back often (the unmutated apps above all): one seen
    // before is composed once, and its outcome must be the one it had;
    // a new one is composed twice, and checked in full.
    let input = hash(&(text, components.iter().collect::<Vec<_>>()));
    let outcome = match &first {
        Ok(composition) => hash(&composition.bytes),
        Err(e) => hash(&e.to_string()),
    };
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&before) = seen.get(&input) {
        assert!(
            before == outcome,
            "composing the same inputs again gave {}; the manifest:\n{text}",
            match &first {
                Ok(_) => "other bytes".to_string(),
                Err(e) => format!("`{e}`"),
            }
        );
        return;
    }
    if seen.len() >= SEEN_MAX {
        seen.clear();
    }
    seen.insert(input, outcome);
    drop(seen);
    let second = nanoproc_linker::compose(&manifest, components);
    match (&first, &second) {
        (Ok(first), Ok(second)) => {
            assert!(
                first.bytes == second.bytes,
                "composing twice gave different bytes; the manifest:\n{text}"
            );
            assert_eq!(
                first.plan, second.plan,
                "composing twice gave different plans"
            );
            if let Err(e) = wasmparser::Validator::new_with_features(super::host_features())
                .validate_all(&first.bytes)
            {
                panic!(
                    "the composed app does not validate with the host's features: {e}; \
                     the manifest:\n{text}"
                );
            }
            if let Err(e) = nanoproc_linker::AppGrants::read(&first.bytes) {
                panic!("the composed app's grants cannot be read: {e:#}; the manifest:\n{text}");
            }
            let audit = Audit::new(&first.plan);
            let _ = audit.to_string();
            let graph = Graph::new(&first.plan);
            let _ = (graph.to_dot(), graph.to_mermaid(), graph.to_svg());
        }
        (Err(first), Err(second)) => {
            assert_eq!(
                first.to_string(),
                second.to_string(),
                "composing twice gave different errors; the manifest:\n{text}"
            );
        }
        _ => panic!(
            "composing twice succeeded once: {:?} then {:?}; the manifest:\n{text}",
            first.as_ref().err(),
            second.as_ref().err()
        ),
    }
}

/// The outcome of every input composed in this process (until there are
/// [`SEEN_MAX`]), by hash: of the composed bytes, or of the error.
static SEEN: Mutex<BTreeMap<u64, u64>> = Mutex::new(BTreeMap::new());

/// How many outcomes [`SEEN`] keeps before it starts again.
const SEEN_MAX: usize = 1 << 16;

/// A hash of `value` that is the same in every process.
fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Applies one mutation to `app`.
fn mutate_app(u: &mut Unstructured<'_>, inputs: &Inputs, app: &mut App) -> Result<()> {
    let count = app.components.len();
    match u.int_in_range(0..=10)? {
        0 if count > 0 => {
            app.components.remove(u.choose_index(count)?);
        }
        1 => {
            let (source, _) = inputs
                .components
                .get_index(u.choose_index(inputs.components.len())?)
                .expect("an index in range");
            let part = Part {
                name: name(u, inputs)?,
                source: source.clone(),
                wire: Vec::new(),
                grants: Grants::default(),
            };
            let at = u.int_in_range(0..=count)?;
            app.components.insert(at, part);
        }
        2 if count > 0 => {
            let (source, _) = inputs
                .components
                .get_index(u.choose_index(inputs.components.len())?)
                .expect("an index in range");
            app.components[u.choose_index(count)?].source = source.clone();
        }
        3 if count > 0 => {
            let i = u.choose_index(count)?;
            let new = name(u, inputs)?;
            let old = std::mem::replace(&mut app.components[i].name, new.clone());
            if u.arbitrary()? {
                for part in &mut app.components {
                    for (_, provider) in &mut part.wire {
                        if *provider == old {
                            provider.clone_from(&new);
                        }
                    }
                }
                for export in &mut app.export {
                    if *export == old {
                        export.clone_from(&new);
                    }
                }
            }
        }
        4 if count > 0 => {
            let import = u.choose(&inputs.names)?.clone();
            let provider = match u.ratio(7, 8)? {
                true => app.components[u.choose_index(count)?].name.clone(),
                false => name(u, inputs)?,
            };
            app.components[u.choose_index(count)?]
                .wire
                .push((import, provider));
        }
        5 if count > 0 => {
            let part = &mut app.components[u.choose_index(count)?];
            if !part.wire.is_empty() {
                part.wire.remove(u.choose_index(part.wire.len())?);
            }
        }
        6 => {
            if !app.export.is_empty() && u.arbitrary()? {
                app.export.remove(u.choose_index(app.export.len())?);
            } else if count > 0 && u.ratio(7, 8)? {
                app.export
                    .push(app.components[u.choose_index(count)?].name.clone());
            } else {
                app.export.push(name(u, inputs)?);
            }
        }
        7 | 8 if count > 0 => {
            let grants = &mut app.components[u.choose_index(count)?].grants;
            mutate_grants(u, grants)?;
        }
        9 if count > 1 => {
            let (i, j) = (u.choose_index(count)?, u.choose_index(count)?);
            app.components.swap(i, j);
        }
        _ => match u.int_in_range(0..=5)? {
            0 => app.strict = !app.strict,
            1 => {
                app.name = if u.arbitrary()? {
                    Some(name(u, inputs)?)
                } else {
                    None
                }
            }
            2 => app.limits.memory = u.arbitrary()?,
            3 => app.limits.timeout_ms = u.arbitrary()?,
            4 => app.limits.tables = u.arbitrary()?,
            _ => app.limits.instances = u.arbitrary()?,
        },
    }
    Ok(())
}

/// Turns one grant of `grants` on or off, or adds or removes a narrowing.
fn mutate_grants(u: &mut Unstructured<'_>, grants: &mut Grants) -> Result<()> {
    const VARIABLES: &[&str] = &["HOME", "LANG", "PATH", "", "A=B", "é"];
    const DIRS: &[&str] = &["sample", "out", ".", "..", "/", "", "a/../b"];
    const GUEST_PATHS: &[&str] = &["/in", "/out", "/", "", "relative", "/in"];
    const ENDPOINTS: &[&str] = &[
        "127.0.0.1:4318",
        "example.com:443",
        "[::1]:8080",
        "localhost:65535",
        "127.0.0.1:4318",
    ];
    match u.int_in_range(0..=11)? {
        0 => grants.stdin = !grants.stdin,
        1 => grants.stdout = !grants.stdout,
        2 => grants.stderr = !grants.stderr,
        3 => grants.clocks = !grants.clocks,
        4 => grants.random = !grants.random,
        5 => grants.exit = !grants.exit,
        6 => grants.args = !grants.args,
        7 => grants.env.push(u.choose(VARIABLES)?.to_string()),
        8 => grants.dirs.push(DirGrant {
            host: u.choose(DIRS)?.into(),
            guest: if u.arbitrary()? {
                Some(u.choose(GUEST_PATHS)?.to_string())
            } else {
                None
            },
            mode: if u.arbitrary()? {
                DirMode::ReadWrite
            } else {
                DirMode::ReadOnly
            },
        }),
        9 => grants.network.push(u.choose(ENDPOINTS)?.to_string()),
        10 => *grants = Grants::default(),
        _ => {
            grants.env.clear();
            grants.dirs.clear();
            grants.network.clear();
        }
    }
    Ok(())
}

/// A component name: mostly a known one, sometimes one made up (and then
/// sometimes not kebab-case).
fn name(u: &mut Unstructured<'_>, inputs: &Inputs) -> Result<String> {
    if u.ratio(3, 4)? {
        let known = u.choose(&inputs.names)?;
        if !known.contains(':') {
            return Ok(known.clone());
        }
    }
    let made: &str = u.arbitrary()?;
    if made.is_empty() || u.arbitrary()? {
        return Ok(format!("c{}", made.len()));
    }
    Ok(made.to_string())
}

/// `app` as manifest text.
fn render(app: &App) -> String {
    use std::fmt::Write as _;
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let list = |items: &mut dyn Iterator<Item = String>| {
        format!("[{}]", items.collect::<Vec<_>>().join(", "))
    };
    let mut out = String::from("[app]\n");
    if let Some(name) = &app.name {
        let _ = writeln!(out, "name = {}", q(name));
    }
    let _ = writeln!(
        out,
        "export = {}",
        list(&mut app.export.iter().map(|e| q(e)))
    );
    if app.strict {
        out.push_str("strict = true\n");
    }
    for part in &app.components {
        let _ = writeln!(out, "\n[components.{}]", q(&part.name));
        let _ = writeln!(out, "guest = {}", q(&part.source));
        if !part.wire.is_empty() {
            let wires: Vec<String> = part
                .wire
                .iter()
                .map(|(import, provider)| format!("{} = {}", q(import), q(provider)))
                .collect();
            let _ = writeln!(out, "wire = {{ {} }}", wires.join(", "));
        }
        let g = &part.grants;
        if *g == Grants::default() {
            continue;
        }
        let _ = writeln!(out, "[components.{}.grants]", q(&part.name));
        for (key, on) in [
            ("stdin", g.stdin),
            ("stdout", g.stdout),
            ("stderr", g.stderr),
            ("clocks", g.clocks),
            ("random", g.random),
            ("exit", g.exit),
            ("args", g.args),
        ] {
            if on {
                let _ = writeln!(out, "{key} = true");
            }
        }
        if !g.env.is_empty() {
            let _ = writeln!(out, "env = {}", list(&mut g.env.iter().map(|e| q(e))));
        }
        if !g.dirs.is_empty() {
            let dirs = g.dirs.iter().map(|d| {
                let mut dir = format!("{{ host = {}", q(&d.host.to_string_lossy()));
                if let Some(guest) = &d.guest {
                    let _ = write!(dir, ", guest = {}", q(guest));
                }
                let mode = match d.mode {
                    DirMode::ReadOnly => "read-only",
                    DirMode::ReadWrite => "read-write",
                };
                let _ = write!(dir, ", mode = \"{mode}\" }}");
                dir
            });
            let _ = writeln!(out, "dirs = {}", list(&mut dirs.into_iter()));
        }
        if !g.network.is_empty() {
            let _ = writeln!(
                out,
                "network = {}",
                list(&mut g.network.iter().map(|e| q(e)))
            );
        }
    }
    let l = &app.limits;
    if *l != Limits::default() {
        out.push_str("\n[limits]\n");
        for (key, value) in [
            ("memory", l.memory),
            ("timeout-ms", l.timeout_ms),
            ("tables", l.tables.map(u64::from)),
            ("instances", l.instances.map(u64::from)),
        ] {
            if let Some(value) = value {
                let _ = writeln!(out, "{key} = {value}");
            }
        }
    }
    out
}

/// The inputs, read on first use.
///
/// # Panics
///
/// When a guest component has not been built, naming the command that
/// builds it, or a fixture file cannot be read.
fn inputs() -> &'static Inputs {
    static INPUTS: OnceLock<Inputs> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let root = crate::project_root();
        let mut components = IndexMap::new();
        for guest in crate::GUESTS {
            components.insert(guest.to_string(), crate::component_bytes(guest));
        }
        let mut apps = Vec::new();
        'apps: for (path, text) in super::real_manifests() {
            let Ok(manifest) = Manifest::parse(path.as_str(), text.as_str()) else {
                continue;
            };
            let dir = Path::new(path).parent().expect("a manifest is in a folder");
            let mut parts = Vec::new();
            for component in manifest.components().values() {
                let source = match component.source() {
                    Source::Guest(guest) => {
                        if !components.contains_key(guest) {
                            components.insert(guest.clone(), crate::component_bytes(guest));
                        }
                        guest.clone()
                    }
                    Source::Path(file) => {
                        let label = dir.join(file).to_string_lossy().into_owned();
                        if !components.contains_key(&label) {
                            // Only files of the case itself: a case may name
                            // one that is missing or outside on purpose.
                            let Some(bytes) = fixture(root, dir, file) else {
                                continue 'apps;
                            };
                            components.insert(label.clone(), bytes);
                        }
                        label
                    }
                };
                parts.push(Part {
                    name: component.name().to_string(),
                    source,
                    wire: component
                        .wire()
                        .map(|(i, p)| (i.to_string(), p.to_string()))
                        .collect(),
                    grants: component.grants().clone(),
                });
            }
            apps.push(App {
                name: manifest.app().name().map(str::to_string),
                export: manifest.app().export().map(str::to_string).collect(),
                strict: manifest.app().strict(),
                components: parts,
                limits: manifest.limits().clone(),
            });
        }
        let mut names: Vec<String> = Vec::new();
        for (label, bytes) in &components {
            if !label.contains('/') {
                names.push(label.clone());
            }
            let Ok(interface) = ComponentInterface::read(bytes) else {
                continue;
            };
            for item in interface.imports.iter().chain(&interface.exports) {
                names.push(item.name.clone());
                if let Some((unversioned, _)) = item.name.split_once('@') {
                    names.push(unversioned.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Inputs {
            components,
            apps,
            names,
        }
    })
}

/// The bytes of the file `file` of the case in `dir` (relative to `root`):
/// WAT compiled, anything else as it is; `None` when the file is not one
/// of the case's own or cannot be read.
fn fixture(root: &Path, dir: &Path, file: &Path) -> Option<Vec<u8>> {
    use std::path::Component;
    if !file.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let path = root.join(dir).join(file);
    let bytes = std::fs::read(&path).ok()?;
    if path.extension().is_some_and(|e| e == "wat") {
        Some(
            wat::parse_bytes(&bytes)
                .map(|b| b.into_owned())
                .unwrap_or(bytes),
        )
    } else {
        Some(bytes)
    }
}
