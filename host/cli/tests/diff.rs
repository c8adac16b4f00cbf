//! The data-driven cases of `nanoproc diff`: one test per directory under
//! `tests/diff/`, named after it, so that
//! `cargo test -p nanoproc-cli --test diff -- new-import` runs one case.
//!
//! A case is copied to a folder of its own, where:
//!
//! - each `NAME.wat` is compiled to `NAME.wasm` (other files are copied as
//!   they are, so a case can hold a file that is not wasm);
//! - each `compose-NAME.toml` is composed by `nanoproc compose` into
//!   `NAME.wasm`, a composed app;
//! - `nanoproc diff OLD NEW` runs, OLD being the file named `old.*` and NEW
//!   the file named `new.*` (a `.wasm`, `.toml`, `.lock` or anything else),
//!   followed by the words of `args.txt` when there is one (`--json`).
//!
//! What it prints must be `expected.txt` (stdout) and `stderr.txt` (stderr,
//! absent when nothing is printed), and its exit status `status.txt`.
//! `BLESS=1` rewrites them from what happens.

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/diff/ can be listed")
        .map(|e| e.expect("tests/diff/ can be listed").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 8, "only {} diff cases", dirs.len());
    let trials = dirs
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || run_case(&dir).map_err(Failed::from))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/diff")
}

/// Runs `nanoproc ARGS` in `dir`: its stdout, stderr and exit status.
fn nanoproc(dir: &Path, args: &[String]) -> Result<(String, String, i32), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_nanoproc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("nanoproc cannot be run: {e}"))?;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    Ok((
        text(&output.stdout),
        text(&output.stderr),
        output.status.code().unwrap_or(-1),
    ))
}

/// The case's files in a folder of its own, WAT compiled and apps composed.
fn stage(case: &Path) -> Result<tempfile::TempDir, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut compose = Vec::new();
    for entry in std::fs::read_dir(case).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".wat") {
            let bytes = wat::parse_file(&path)
                .map_err(|e| format!("fixture input: {}: {e}", path.display()))?;
            std::fs::write(work.path().join(format!("{stem}.wasm")), bytes)
                .map_err(|e| e.to_string())?;
        } else {
            std::fs::copy(&path, work.path().join(&name)).map_err(|e| e.to_string())?;
            if let Some(app) = name
                .strip_prefix("compose-")
                .and_then(|n| n.strip_suffix(".toml"))
            {
                compose.push((name.clone(), format!("{app}.wasm")));
            }
        }
    }
    compose.sort();
    for (manifest, app) in compose {
        let args = ["compose".to_string(), manifest.clone(), "-o".into(), app];
        let (_, stderr, status) = nanoproc(work.path(), &args)?;
        if status != 0 {
            return Err(format!(
                "fixture input: {manifest} does not compose:\n{stderr}"
            ));
        }
    }
    Ok(work)
}

/// The one file of the staged case whose stem is `stem`, but for WAT and
/// the manifests of composed apps.
fn side(work: &Path, stem: &str) -> Result<String, String> {
    let mut found: Vec<String> = std::fs::read_dir(work)
        .map_err(|e| e.to_string())?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().into_owned();
            let (file_stem, _) = name.split_once('.')?;
            (file_stem == stem && !name.ends_with(".wat")).then_some(name)
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "fixture input: a case has exactly one `{stem}.*` (found {found:?})"
        )),
    }
}

fn run_case(case: &Path) -> Result<(), String> {
    let work = stage(case)?;
    let mut args = vec![
        "diff".to_string(),
        side(work.path(), "old")?,
        side(work.path(), "new")?,
    ];
    if let Ok(extra) = std::fs::read_to_string(case.join("args.txt")) {
        args.extend(extra.split_whitespace().map(str::to_string));
    }
    let (stdout, stderr, status) = nanoproc(work.path(), &args)?;
    let mut expectations = vec![
        ("expected.txt", Some(stdout)),
        ("stderr.txt", Some(stderr).filter(|s| !s.is_empty())),
        ("status.txt", Some(format!("{status}\n"))),
    ];
    if std::env::var_os("BLESS").is_some() {
        for (file, actual) in &expectations {
            let path = case.join(file);
            match actual {
                Some(actual) => std::fs::write(&path, actual).map_err(|e| e.to_string())?,
                None if path.exists() => std::fs::remove_file(&path).map_err(|e| e.to_string())?,
                None => {}
            }
        }
        return Ok(());
    }
    for (file, actual) in expectations.drain(..) {
        let expected = std::fs::read_to_string(case.join(file)).ok();
        if expected != actual {
            return Err(format!(
                "{file} differs\n--- expected\n{}\n--- actual\n{}\n(run with BLESS=1 to record it)",
                expected.as_deref().unwrap_or("(no file)"),
                actual.as_deref().unwrap_or("(nothing)")
            ));
        }
    }
    Ok(())
}
