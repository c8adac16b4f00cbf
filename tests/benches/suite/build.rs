//! Compiling an app beside loading it from the cache, and composing it
//! beside `wac compose` on the same graph.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};
use nanoproc_host::Options;
use nanoproc_host::cache::Outcome;
use nanoproc_tests::measure::in_turns;
use nanoproc_tests::project_root;

use crate::report::{Figure, Report, Row, Target};
use crate::{Bench, SITE, component_path};

const SECTION: &str = "compiling and composing the site app";

/// Compiling the site app vs taking it from the cache; composing it with
/// `nanoproc compose` vs with `wac compose`.
pub fn build(bench: &Bench, report: &mut Report) -> Result<()> {
    let cache_dir = tempfile::tempdir()?;
    let cached = bench.cached_runtime(cache_dir.path())?;
    let load = |expected: Outcome| -> Result<f64> {
        let started = Instant::now();
        let app = cached.load(&bench.site_bytes, Options::default())?;
        let spent = started.elapsed().as_nanos() as f64;
        ensure!(
            *app.outcome() == expected,
            "expected {expected:?}, got {:?}",
            app.outcome()
        );
        Ok(spent)
    };
    let [compile, hit] = in_turns(
        5,
        &mut [
            &mut || {
                std::fs::remove_dir_all(cache_dir.path())?;
                load(Outcome::Compiled)
            },
            &mut || load(Outcome::Hit),
        ],
    )?[..] else {
        unreachable!("two cases")
    };
    report.add(Row::new(
        SECTION,
        "compile the site app (7 components)",
        Figure::Time(compile),
    ));
    let faster = compile.median / hit.median;
    report.add(
        Row::new(SECTION, "load it from the cache", Figure::Time(hit))
            .ratio(faster, format!("{faster:.0}× faster than compiling"))
            .target(Target::at_least(faster, 100.0, "≥ 100× faster")),
    );

    let scratch = tempfile::tempdir()?;
    let ours = ours(scratch.path())?;
    let Some(wac) = wac(scratch.path())? else {
        let only = in_turns(15, &mut [&mut || time(&ours)])?[0];
        report.add(Row::new(
            SECTION,
            "compose it: `nanoproc compose`, a process",
            Figure::Time(only),
        ));
        report.add(Row::new(
            SECTION,
            "the same graph: `wac compose`",
            Figure::Skipped("wac is not installed (`cargo install --locked wac-cli`)".to_string()),
        ));
        return Ok(());
    };
    let [composing, wac_composing] =
        in_turns(15, &mut [&mut || time(&ours), &mut || time(&wac)])?[..]
    else {
        unreachable!("two cases")
    };
    let ratio = composing.median / wac_composing.median;
    report.add(
        Row::new(
            SECTION,
            "compose it: `nanoproc compose`, a process",
            Figure::Time(composing),
        )
        .ratio(ratio, format!("{ratio:.2}× wac"))
        .target(Target::at_most(ratio, 1.0, "≤ 1× wac")),
    );
    report.add(Row::new(
        SECTION,
        "the same graph: `wac compose`, a process",
        Figure::Time(wac_composing),
    ));
    Ok(())
}

/// Nanoseconds `command` takes to run, failing unless it succeeds.
fn time(command: &[String]) -> Result<f64> {
    let started = Instant::now();
    let out = Command::new(&command[0])
        .args(&command[1..])
        .output()
        .with_context(|| format!("cannot run {}", command[0]))?;
    let spent = started.elapsed().as_nanos() as f64;
    ensure!(
        out.status.success(),
        "`{}` failed: {}",
        command.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(spent)
}

/// `nanoproc compose` of the site app into `scratch`, from the release
/// build `cargo xtask bench` makes.
fn ours(scratch: &Path) -> Result<Vec<String>> {
    let cli = project_root().join("target/release/nanoproc");
    ensure!(
        cli.exists(),
        "{} is missing: run the benchmark with `cargo xtask bench`, which builds it",
        cli.display()
    );
    Ok(vec![
        cli.display().to_string(),
        "compose".into(),
        project_root().join(SITE).display().to_string(),
        "-o".into(),
        scratch.join("nanoproc.wasm").display().to_string(),
    ])
}

/// `wac compose` of the same graph into `scratch`, or `None` when wac is
/// not installed.
fn wac(scratch: &Path) -> Result<Option<Vec<String>>> {
    let Some(wac) = find_wac() else {
        return Ok(None);
    };
    let deps = scratch.join("deps/nanoproc");
    std::fs::create_dir_all(&deps)?;
    for name in [
        "site", "pages", "markdown", "json", "compress", "hash", "logger",
    ] {
        std::fs::copy(component_path(name), deps.join(format!("{name}.wasm")))
            .with_context(|| format!("cannot copy the component `{name}`"))?;
    }
    let script = scratch.join("site.wac");
    std::fs::write(&script, WAC_SCRIPT)?;
    Ok(Some(vec![
        wac.display().to_string(),
        "compose".into(),
        "--deps-dir".into(),
        scratch.join("deps").display().to_string(),
        "-o".into(),
        scratch.join("wac.wasm").display().to_string(),
        script.display().to_string(),
    ]))
}

/// `wac` on the `PATH` or in cargo's bin directory.
fn find_wac() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|dir| dir.join("wac"))
        .find(|wac| wac.is_file())
}

/// The site app's graph in wac's language: every library plugged into
/// pages, pages into site, WASI left to the host.
const WAC_SCRIPT: &str = r#"package nanoproc:site-app;

let markdown = new nanoproc:markdown {};
let json = new nanoproc:json {};
let compress = new nanoproc:compress {};
let hash = new nanoproc:hash {};
let logger = new nanoproc:logger { ... };
let pages = new nanoproc:pages {
  "nanoproc:markdown/render@0.1.0": markdown["nanoproc:markdown/render@0.1.0"],
  "nanoproc:json/document@0.1.0": json["nanoproc:json/document@0.1.0"],
  "nanoproc:compress/gzip@0.1.0": compress["nanoproc:compress/gzip@0.1.0"],
  "nanoproc:hash/digest@0.1.0": hash["nanoproc:hash/digest@0.1.0"],
  "nanoproc:logger/log@0.1.0": logger["nanoproc:logger/log@0.1.0"],
};
let site = new nanoproc:site { "nanoproc:pages/site@0.1.0": pages["nanoproc:pages/site@0.1.0"], ... };
export site["wasi:cli/run@0.2.12"];
"#;
