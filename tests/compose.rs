//! The data-driven composition cases: one test per directory under
//! `tests/compose/`, named after it, so that
//! `cargo test -p nanoproc-tests --test compose -- err-cycle` runs one case.
//!
//! A case holds a `nanoproc.toml`, the WAT or other files it names (or real
//! guests from `target/components/`), and what composing it must give:
//!
//! - a case named `err-*` must fail to compose, with the full error in
//!   `error.txt`;
//! - a case named `ok-*` must compose, with the warnings and the audit in
//!   `audit.txt`, the Mermaid picture in `graph.mmd`, and, when the case's
//!   components are all files of its own, the lock `nanoproc compose`
//!   writes in `nanoproc.lock` and, when the composed component is smaller
//!   than [`WAT_BOUND`], the component itself printed as WAT in
//!   `composed.wat`, so that a change in the encoding is reviewed;
//! - a case named `*-locked-*` is composed `--locked` against its
//!   `nanoproc.lock` (an input, then, as reviewed): an `err-locked-*` case
//!   must be refused, with every change in `error.txt`.
//!
//! Every case that composes is also validated and instantiated in wasmtime,
//! with its grants bound as the host binds them, so the wiring is shown to
//! work, not only to encode.
//!
//! `BLESS=1` rewrites the expectations from what happens and removes those
//! the outcome no longer has. It never blesses a case whose outcome is of the
//! other kind than its name says: that case fails and nothing of it is written.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use indexmap::IndexMap;
use libtest_mimic::{Arguments, Failed, Trial};
use nanoproc_host::capabilities::{Capabilities, Options, Stdio, add_to_linker};
use nanoproc_linker::{
    AppGrants, Audit, Composition, Graph, Lock, Manifest, Source, report, report_any,
};
use nanoproc_tests::{components_dir, engine_for, store_on};
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// Composed components smaller than this many bytes are kept as
/// `composed.wat`. The cases built from WAT compose to a few KiB; one holding
/// a compiled guest is 20 KiB or more, and prints to hundreds of KiB of text
/// that nobody would review.
const WAT_BOUND: usize = 16 * 1024;

/// Every file an outcome may write into a case directory.
const OUTPUTS: &[&str] = &[
    "error.txt",
    "audit.txt",
    "graph.mmd",
    "composed.wat",
    "nanoproc.lock",
];

/// The lock beside a case's manifest: what `nanoproc compose` writes, and
/// what a `*-locked-*` case is checked against.
const LOCK: &str = "nanoproc.lock";

fn main() {
    let args = Arguments::from_args();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/compose/ can be listed")
        .map(|e| e.expect("tests/compose/ can be listed").path())
        .filter(|p| p.join("nanoproc.toml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 30, "only {} fixture cases", dirs.len());
    let mut trials: Vec<Trial> = dirs
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || run_case(&dir).map_err(Failed::from))
        })
        .collect();
    trials.push(Trial::test(
        "ok-plain-function-wiring::greet-is-called-across-components",
        || plain_function_is_called().map_err(Failed::from),
    ));
    libtest_mimic::run(&args, trials).exit();
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compose")
}

/// The bytes of a component a case names: WAT is compiled, anything else read as is.
fn load(dir: &Path, source: &Source) -> Result<Vec<u8>, String> {
    let path = match source {
        Source::Path(path) => dir.join(path),
        Source::Guest(name) => components_dir().join(format!("{name}.wasm")),
    };
    if path.extension().is_some_and(|e| e == "wat") {
        wat::parse_file(&path).map_err(|e| format!("fixture input: {}: {e}", path.display()))
    } else {
        std::fs::read(&path).map_err(|e| format!("fixture input: {}: {e}", path.display()))
    }
}

/// Reads a case's manifest and composes it (`--locked` for a `*-locked-*`
/// case). The outer `Err` is a fixture that cannot be read; the inner
/// result is what composing gave, an error as `nanoproc` shows it.
fn compose(dir: &Path) -> Result<Result<(Manifest, Composition), String>, String> {
    let text = std::fs::read_to_string(dir.join("nanoproc.toml")).map_err(|e| e.to_string())?;
    // Messages name the manifest as a user in this directory would.
    let manifest = match Manifest::parse("nanoproc.toml", text) {
        Ok(manifest) => manifest,
        Err(e) => return Ok(Err(report_any(&e, false))),
    };
    let mut bytes = IndexMap::new();
    for (name, component) in manifest.components() {
        bytes.insert(name.clone(), load(dir, component.source())?);
    }
    let composition = match nanoproc_linker::compose(&manifest, &bytes) {
        Ok(composition) => composition,
        Err(e) => return Ok(Err(report(&e, false))),
    };
    if is_locked(dir) {
        let text = std::fs::read_to_string(dir.join(LOCK)).map_err(|e| format!("{LOCK}: {e}"))?;
        let checked = Lock::parse(&text)
            .context(format!("cannot use the lock {LOCK}"))
            .and_then(|lock| Ok(lock.verify(&composition.lock, Path::new(LOCK))?));
        if let Err(e) = checked {
            return Ok(Err(report_any(&*e, false)));
        }
    }
    Ok(Ok((manifest, composition)))
}

/// Whether the case is composed `--locked` against its `nanoproc.lock`.
fn is_locked(dir: &Path) -> bool {
    dir.file_name()
        .is_some_and(|name| name.to_string_lossy().contains("-locked-"))
}

/// Runs one case; `Err` says how it differs from its expectation.
fn run_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let outcome = compose(dir)?;
    let expectations = match (&outcome, kind(&name)?) {
        (Err(e), Kind::Err) => vec![("error.txt", e.clone())],
        (Ok((manifest, composition)), Kind::Ok) => {
            instantiate(dir, &composition.bytes)?;
            let mut audit = String::new();
            for warning in &composition.plan.warnings {
                audit.push_str(&format!("warning: {warning}\n"));
            }
            audit.push_str(&Audit::new(&composition.plan).to_string());
            let mut expectations = vec![
                ("audit.txt", audit),
                ("graph.mmd", Graph::new(&composition.plan).to_mermaid()),
            ];
            if !names_a_guest(manifest) {
                expectations.push((LOCK, composition.lock.to_toml()));
            }
            if composition.bytes.len() < WAT_BOUND && !names_a_guest(manifest) {
                let mut wat = wasmprinter::print_bytes(&composition.bytes)
                    .map_err(|e| format!("wasmprinter cannot print the composition: {e:?}"))?;
                if !wat.ends_with('\n') {
                    wat.push('\n');
                }
                expectations.push(("composed.wat", wat));
            }
            expectations
        }
        (Err(e), Kind::Ok) => {
            return Err(format!(
                "{name} failed to compose; an ok- case must compose: rename it err-… if that \
                 is now right\n{e}"
            ));
        }
        (Ok(_), Kind::Err) => {
            return Err(format!(
                "{name} composed; an err- case must fail: rename it ok-… if that is now right"
            ));
        }
    };
    let stale: Vec<&str> = OUTPUTS
        .iter()
        .copied()
        .filter(|file| !expectations.iter().any(|(f, _)| f == file))
        // A locked case's lock is its input.
        .filter(|file| !(*file == LOCK && is_locked(dir)))
        .filter(|file| dir.join(file).exists())
        .collect();
    if std::env::var_os("BLESS").is_some() {
        for file in &stale {
            std::fs::remove_file(dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        }
        for (file, actual) in &expectations {
            std::fs::write(dir.join(file), actual).map_err(|e| format!("{file}: {e}"))?;
        }
        return Ok(());
    }
    for (file, actual) in &expectations {
        let expected = std::fs::read_to_string(dir.join(file)).map_err(|_| {
            format!("no {file}; this case produced:\n{actual}\n(run with BLESS=1 to record it)")
        })?;
        if &expected != actual {
            return Err(format!(
                "{file} differs\n--- expected\n{expected}\n--- actual\n{actual}\n\
                 (run with BLESS=1 to record it)"
            ));
        }
    }
    if let Some(file) = stale.first() {
        return Err(format!(
            "{file} is stale: this outcome has none (run with BLESS=1 to remove it)"
        ));
    }
    Ok(())
}

/// Whether a manifest names a guest built by `cargo xtask build`: such a
/// component's bytes change with the toolchain and the folder it was built
/// in, so its composition is not kept as text.
fn names_a_guest(manifest: &Manifest) -> bool {
    manifest
        .components()
        .values()
        .any(|component| matches!(component.source(), Source::Guest(_)))
}

/// What a case's name says composing it must give.
enum Kind {
    Ok,
    Err,
}

fn kind(name: &str) -> Result<Kind, String> {
    if name.starts_with("ok-") {
        Ok(Kind::Ok)
    } else if name.starts_with("err-") {
        Ok(Kind::Err)
    } else {
        Err(format!(
            "{name}: a case's name starts with ok- (it composes) or err- (it fails to)"
        ))
    }
}

/// Validates a composition and instantiates it as the host runs apps: each
/// grant bound as the app says.
fn instantiate(dir: &Path, bytes: &[u8]) -> Result<(), String> {
    wasmparser::Validator::new()
        .validate_all(bytes)
        .map_err(|e| format!("the composition does not validate: {e}"))?;
    let engine = engine_for(bytes);
    let component = Component::new(engine, bytes)
        .map_err(|e| format!("wasmtime cannot compile the composition: {e:?}"))?;
    let grants = AppGrants::read(bytes)
        .map_err(|e| format!("the app's grants cannot be read: {e}"))?
        .unwrap_or_default();
    let mut linker = Linker::new(engine);
    add_to_linker(&mut linker, &component)
        .map_err(|e| format!("the host cannot provide the app's imports: {e:?}"))?;
    let options = Options {
        base_dir: dir.to_path_buf(),
        stderr: Stdio::Pipe(MemoryOutputPipe::new(1 << 20)),
        ..Options::default()
    };
    let state = Capabilities::new(&component, grants, options)
        .state()
        .map_err(|e| format!("the host cannot grant what the app asks: {e:?}"))?;
    let mut store = store_on(engine, state);
    if nanoproc_linker::uses_async(bytes) {
        wasmtime_wasi::runtime::in_tokio(linker.instantiate_async(&mut store, &component))
    } else {
        linker.instantiate(&mut store, &component)
    }
    .map_err(|e| format!("wasmtime cannot instantiate the composition: {e:?}"))?;
    Ok(())
}

/// A plain function wired by name is called across components, not only
/// instantiated.
fn plain_function_is_called() -> Result<(), String> {
    let dir = cases_dir().join("ok-plain-function-wiring");
    let (_, composition) = compose(&dir)??;
    let app = nanoproc_tests::runtime()
        .load(&composition.bytes, Options::default())
        .map_err(|e| format!("{e:?}"))?;
    let mut instance = app.instantiate().map_err(|e| format!("{e:?}"))?;
    let (greeted,): (u32,) = instance
        .call("greet", (41u32,))
        .map_err(|e| format!("{e:?}"))?;
    if greeted != 42 {
        return Err(format!("greet(41) answered {greeted}, not 42"));
    }
    Ok(())
}
