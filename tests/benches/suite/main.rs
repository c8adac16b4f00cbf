//! nanoproc's benchmark: what the project promises, measured side by side
//! in one run, as ratios with the targets beside them. Compared cases take
//! turns round by round, so that the ratios hold on a noisy machine.
//!
//! Run by `cargo xtask bench`, which builds the guests and the CLI first and
//! puts the table into the README. Writes `target/bench/results.md` and
//! `target/bench/results.json`.

mod build;
mod calls;
mod instances;
mod report;
mod sandbox;
mod serve;
mod workloads;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result};
use nanoproc_host::cache::Cache;
use nanoproc_host::{App, Options, Runtime, Stdio};
use nanoproc_tests::{compose_manifest, project_root};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use report::Report;

/// The environment variable that makes this program one of its own child
/// processes: `echo` for the pipe round trip, `memory` for the resident
/// memory of live instances.
const CHILD: &str = "NANOPROC_BENCH_CHILD";

/// The demo's app: the site command and the six components it builds on.
const SITE: &str = "guests/site/nanoproc.toml";

fn main() -> std::process::ExitCode {
    let result = match std::env::var(CHILD).as_deref() {
        Ok("echo") => calls::echo(),
        Ok("memory") => instances::memory_child(),
        Ok(other) => Err(anyhow::anyhow!("unknown {CHILD} `{other}`")),
        Err(_) => run(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let started = Instant::now();
    let out_dir = project_root().join("target/bench");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut report = Report::new(report::machine(&wasmtime_version()?));
    eprintln!("bench: on {}", report.machine);
    let bench = Bench::new()?;

    // Sections named on the command line (by a part of their name), or all.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let sections: [(&str, Section); 9] = [
        ("instantiation", instances::instantiation),
        ("inert", instances::inert),
        ("calls", calls::calls),
        ("passing", calls::passing),
        ("workloads", workloads::workloads),
        ("build", build::build),
        ("memory", instances::memory),
        ("sandbox", sandbox::sandbox),
        ("serve", serve::serve),
    ];
    for (name, measure) in sections {
        if only.is_empty() || only.iter().any(|part| name.contains(part.as_str())) {
            eprintln!("bench: {name}");
            measure(&bench, &mut report)?;
        }
    }

    let markdown = report.markdown();
    let json = serde_json::to_string_pretty(&report.json())? + "\n";
    write(&out_dir.join("results.md"), &markdown)?;
    write(&out_dir.join("results.json"), &json)?;
    println!("{markdown}");
    let missed = report.missed();
    eprintln!(
        "bench: done in {:.0} s; {} target{} missed{}{}; results in target/bench/results.md and results.json",
        started.elapsed().as_secs_f64(),
        missed.len(),
        if missed.len() == 1 { "" } else { "s" },
        if missed.is_empty() { "" } else { ": " },
        missed.join("; ")
    );
    Ok(())
}

/// A section of the benchmark: measures and adds its rows.
type Section = fn(&Bench, &mut Report) -> Result<()>;

/// Writes `text` to `path` whole or not at all.
fn write(path: &Path, text: &str) -> Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The wasmtime version the workspace locks.
fn wasmtime_version() -> Result<String> {
    let lock = std::fs::read_to_string(project_root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasmtime\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            return Ok(version.trim_matches('"').to_string());
        }
    }
    anyhow::bail!("Cargo.lock names no wasmtime")
}

/// What every section shares: the runtime, and the site app ready to run
/// in a scratch copy of its sample.
pub struct Bench {
    /// The host's runtime, with its usual engine and no cache.
    pub runtime: Runtime,
    /// The composed site app's bytes.
    pub site_bytes: Vec<u8>,
    /// The site app, loaded to run in `scratch`.
    pub site: App,
    /// A directory holding `sample/` (the site's input) and `out/`.
    pub scratch: tempfile::TempDir,
}

impl Bench {
    fn new() -> Result<Self> {
        let runtime = Runtime::with_engine(nanoproc_host::engine()?)?;
        let site_bytes = compose_manifest(SITE)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .bytes;
        let scratch = tempfile::tempdir()?;
        let sample = project_root().join("guests/site/sample");
        std::fs::create_dir_all(scratch.path().join("sample"))?;
        std::fs::create_dir_all(scratch.path().join("out"))?;
        for (name, bytes) in nanoproc_tests::files(&sample)? {
            std::fs::write(scratch.path().join("sample").join(name), bytes)?;
        }
        let site = runtime.load(&site_bytes, site_options(scratch.path()))?;
        Ok(Self {
            runtime,
            site_bytes,
            site,
            scratch,
        })
    }

    /// A runtime on the same engine that caches compiled apps in `dir`.
    pub fn cached_runtime(&self, dir: &Path) -> Result<Runtime> {
        Ok(Runtime::with_engine(self.runtime.engine().clone())?.with_cache(Some(Cache::new(dir))))
    }

    /// Loads the built component `name` on its own.
    pub fn component(&self, name: &str) -> Result<App> {
        let bytes = std::fs::read(component_path(name))?;
        Ok(self.runtime.load(&bytes, Options::default())?)
    }

    /// Loads the app `manifest` (relative to the project root).
    pub fn app(&self, manifest: &str) -> Result<App> {
        let composition = compose_manifest(manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(self.runtime.load(&composition.bytes, Options::default())?)
    }
}

/// How the site app runs here: in `dir`, its output kept in memory.
pub fn site_options(dir: &Path) -> Options {
    Options {
        base_dir: dir.to_path_buf(),
        args: vec!["site".into()],
        stdout: Stdio::Pipe(MemoryOutputPipe::new(1 << 30)),
        stderr: Stdio::Pipe(MemoryOutputPipe::new(1 << 30)),
        ..Options::default()
    }
}

/// Where `cargo xtask build` put the component `name`.
pub fn component_path(name: &str) -> PathBuf {
    nanoproc_tests::components_dir().join(format!("{name}.wasm"))
}

/// Nanoseconds per operation of `count` operations done by `f`.
pub fn per_op(count: usize, f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed().as_nanos() as f64 / count as f64)
}
