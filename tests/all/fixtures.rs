//! Data-driven composition tests: each directory under `tests/compose/` holds
//! a `nanoproc.toml`, the WAT or other files it names, and the expected
//! outcome: `error.txt` (the full error) or `audit.txt` (warnings, then the
//! audit) and `graph.mmd` (the Mermaid picture). Set `BLESS=1` to rewrite the expectations from what happens.
//!
//! Every case that composes is also validated and instantiated in wasmtime,
//! so the wiring is shown to work, not only to encode.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use nanoproc_host::capabilities::{Capabilities, Options, Stdio, add_to_linker};
use nanoproc_linker::{AppGrants, Audit, Graph, Manifest, Source};
use nanoproc_tests::{components_dir, engine, store};
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compose")
}

/// The bytes of a component a fixture names: WAT is compiled, anything else read as is.
fn load(dir: &Path, source: &Source) -> Result<Vec<u8>, String> {
    let path = match source {
        Source::Path(path) => dir.join(path),
        Source::Guest(name) => components_dir().join(format!("{name}.wasm")),
    };
    if path.extension().is_some_and(|e| e == "wat") {
        wat::parse_file(&path).map_err(|e| format!("{}: {e}", path.display()))
    } else {
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Runs one case; `Err` says how it differs from its expectation.
fn run_case(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("nanoproc.toml")).map_err(|e| e.to_string())?;
    // Messages name the manifest as a user in this directory would.
    let outcome = Manifest::parse("nanoproc.toml", text)
        .map_err(nanoproc_linker::ComposeError::from)
        .and_then(|manifest| {
            let mut bytes = IndexMap::new();
            for (name, component) in &manifest.components {
                match load(dir, &component.source) {
                    Ok(data) => {
                        bytes.insert(name.clone(), data);
                    }
                    Err(e) => panic!("fixture input: {e}"),
                }
            }
            nanoproc_linker::compose(&manifest, &bytes).map(|c| (manifest, c))
        });
    let mut expectations = Vec::new();
    let (file, actual, other) = match &outcome {
        Err(e) => ("error.txt", format!("{e}\n"), "audit.txt"),
        Ok((manifest, composition)) => {
            let mut text = String::new();
            for warning in &composition.plan.warnings {
                text.push_str(&format!("warning: {warning}\n"));
            }
            text.push_str(&Audit::new(manifest, &composition.plan).to_string());
            expectations.push(("graph.mmd", Graph::new(&composition.plan).to_mermaid()));
            ("audit.txt", text, "error.txt")
        }
    };
    if let Ok((_, composition)) = &outcome {
        wasmparser::Validator::new()
            .validate_all(&composition.bytes)
            .map_err(|e| format!("the composition does not validate: {e}"))?;
        let component = Component::new(engine(), &composition.bytes)
            .map_err(|e| format!("wasmtime cannot compile the composition: {e:?}"))?;
        // The host as it runs apps: each grant bound as the app says.
        let grants = AppGrants::read(&composition.bytes)
            .map_err(|e| format!("the app's grants cannot be read: {e}"))?
            .unwrap_or_default();
        let mut linker = Linker::new(engine());
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
        let mut store = store(state);
        linker
            .instantiate(&mut store, &component)
            .map_err(|e| format!("wasmtime cannot instantiate the composition: {e:?}"))?;
    }
    expectations.insert(0, (file, actual));
    if std::env::var_os("BLESS").is_some() {
        let _ = std::fs::remove_file(dir.join(other));
        let _ = std::fs::remove_file(dir.join("graph.mmd"));
        for (file, actual) in &expectations {
            std::fs::write(dir.join(file), actual).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    for (file, actual) in &expectations {
        let expected = std::fs::read_to_string(dir.join(file)).map_err(|_| {
            format!("no {file}; this case produced:\n{actual}\n(run with BLESS=1 to record it)")
        })?;
        if &expected != actual {
            return Err(format!(
                "{file} differs\n--- expected\n{expected}\n--- actual\n{actual}"
            ));
        }
    }
    Ok(())
}

#[test]
fn compose_fixtures() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("nanoproc.toml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 30, "only {} fixture cases", dirs.len());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            run_case(dir)
                .err()
                .map(|e| format!("case {}: {e}", dir.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_plain_function_wired_by_name_is_called_across_components() {
    let dir = cases_dir().join("ok-plain-function-wiring");
    let text = std::fs::read_to_string(dir.join("nanoproc.toml")).unwrap();
    let manifest = Manifest::parse("nanoproc.toml", text).unwrap();
    let bytes = manifest
        .components
        .iter()
        .map(|(name, component)| (name.clone(), load(&dir, &component.source).unwrap()))
        .collect();
    let composition = nanoproc_linker::compose(&manifest, &bytes).unwrap();
    let app = nanoproc_tests::runtime()
        .load(&composition.bytes, Options::default())
        .unwrap();
    let mut instance = app.instantiate().unwrap();
    let (greeted,): (u32,) = instance.call("greet", (41u32,)).unwrap();
    assert_eq!(greeted, 42);
}
