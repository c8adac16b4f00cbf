//! The nanoproc demo, run by `cargo xtask demo` in a release build: the
//! example site app composed, audited and run, the same site built natively
//! for comparison, a compromised release of one of its libraries refused at
//! compose time, caught by the app's lock when its grants are widened, and
//! contained at run time, and the figures that matter.
//!
//! Everything it writes goes under its work directory (`target/demo` unless
//! `--work DIR` says otherwise), which it empties first.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, bail, ensure};
use nanoproc_host::{App, Options, Refusal, Refusals, Runtime, Stdio};
use nanoproc_linker::{Audit, Composition, Graph, Manifest};
use nanoproc_tests::measure::{Stats, human, nanos};
use nanoproc_tests::{app_inputs, components_dir, files, native, project_root};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

const USAGE: &str = "\
usage: demo [--work DIR] [--rounds N]

Composes and runs the example site app (guests/site), beside the same crates
run natively, then a compromised release of its markdown library, and prints
the audit, the refusals and the figures.

  --work DIR    where to stage the documents and write everything (default target/demo)
  --rounds N    rounds of each measurement, taken in turns (default 21)
";

/// The site app and its variant with the compromised markdown release.
const SITE: &str = "guests/site/nanoproc.toml";
const COMPROMISED: &str = "guests/site/compromised.toml";
const COMPROMISED_GUEST: &str = "markdown-compromised";

/// Fake credentials planted in the staged home directory, by path.
const PLANTED: &[(&str, &str)] = &[
    (".ssh/id_rsa", "demo-canary-ssh-key-7f3a9c"),
    (".aws/credentials", "demo-canary-aws-credentials-41d2e8"),
];

/// Environment variables the payload would love to find; `cargo xtask demo`
/// sets them to fake values.
const SECRET_VARS: &[&str] = &["AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"];

/// Calls per measured call between components.
const STEPS: u32 = 100_000;
/// Instantiations per measured round.
const INSTANCES: usize = 50;

struct Args {
    work: PathBuf,
    rounds: usize,
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match demo(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Option<Args>> {
    let mut args = Args {
        work: project_root().join("target/demo"),
        rounds: 21,
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--work" => args.work = given.next().context("`--work` needs a directory")?.into(),
            "--rounds" => {
                let value = given.next().context("`--rounds` needs a number")?;
                args.rounds =
                    value.parse().ok().filter(|n| *n > 0).with_context(|| {
                        format!("`--rounds {value}`: give a whole number above 0")
                    })?;
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    Ok(Some(args))
}

/// `path` relative to the current directory when it is inside it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Prints `text` with every line indented under a margin.
fn quote(margin: &str, text: &str) {
    for line in text.lines() {
        println!("{}", format!("    {margin}{line}").trim_end());
    }
}

/// The staged directories: a home with planted credentials, one site folder
/// for each app, and the native build's output.
struct Stage {
    home: PathBuf,
    site: PathBuf,
    compromised: PathBuf,
    native: PathBuf,
}

impl Stage {
    fn new(work: &Path) -> Result<Self> {
        if work.exists() {
            std::fs::remove_dir_all(work)
                .with_context(|| format!("cannot empty {}", work.display()))?;
        }
        let home = work.join("home");
        for (path, secret) in PLANTED {
            let path = home.join(path);
            std::fs::create_dir_all(path.parent().expect("a planted file is in a folder"))?;
            std::fs::write(&path, format!("{secret}\n"))
                .with_context(|| format!("cannot plant {}", path.display()))?;
        }
        let samples = project_root().join("guests/site/sample");
        let stage = Self {
            site: home.join("site"),
            compromised: home.join("compromised"),
            native: work.join("native"),
            home,
        };
        for site in [&stage.site, &stage.compromised] {
            std::fs::create_dir_all(site.join("out"))?;
            std::fs::create_dir_all(site.join("sample"))?;
            for entry in std::fs::read_dir(&samples)
                .with_context(|| format!("cannot list {}", samples.display()))?
            {
                let entry = entry?;
                std::fs::copy(entry.path(), site.join("sample").join(entry.file_name()))?;
            }
        }
        std::fs::create_dir_all(&stage.native)?;
        Ok(stage)
    }
}

/// What one run of a command app printed and which refusals it met.
struct Run {
    stdout: String,
    stderr: String,
    refusals: Vec<String>,
}

/// An app loaded with its output captured and its refusals collected.
struct Loaded {
    app: App,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    refusals: Arc<Mutex<Vec<String>>>,
}

impl Loaded {
    fn new(runtime: &Runtime, bytes: &[u8], base_dir: &Path) -> Result<Self> {
        let stdout = MemoryOutputPipe::new(64 << 20);
        let stderr = MemoryOutputPipe::new(64 << 20);
        let refusals = Arc::new(Mutex::new(Vec::new()));
        let collected = refusals.clone();
        let options = Options {
            base_dir: base_dir.to_path_buf(),
            args: vec!["site".into()],
            stdout: Stdio::Pipe(stdout.clone()),
            stderr: Stdio::Pipe(stderr.clone()),
            refusals: Refusals::Report(Arc::new(move |refusal: &Refusal| {
                collected
                    .lock()
                    .expect("the refusal log")
                    .push(refusal.to_string());
            })),
            ..Default::default()
        };
        Ok(Self {
            app: runtime.load(bytes, options)?,
            stdout,
            stderr,
            refusals,
        })
    }

    /// Instantiates the app and runs it once; fails unless it succeeds.
    fn run(&self) -> Result<()> {
        let status = self.app.instantiate()?.run()?;
        ensure!(status == 0, "the app exited with status {status}");
        Ok(())
    }

    /// What the runs so far printed and met.
    fn seen(&self) -> Run {
        let text = |pipe: &MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
        Run {
            stdout: text(&self.stdout),
            stderr: text(&self.stderr),
            refusals: self.refusals.lock().expect("the refusal log").clone(),
        }
    }
}

/// Composes the manifest at `path`, with `swap` replacing one component's
/// bytes, as a dependency update would.
fn compose(
    path: &str,
    swap: Option<(&str, &[u8])>,
) -> Result<(Manifest, std::result::Result<Composition, String>)> {
    let (manifest, mut bytes) = app_inputs(Path::new(path))?;
    if let Some((name, replacement)) = swap {
        bytes.insert(name.to_string(), replacement.to_vec());
    }
    let composed =
        nanoproc_linker::compose(&manifest, &bytes).map_err(|e| nanoproc_linker::report(&e, false));
    Ok((manifest, composed))
}

/// Checks that `dir` holds exactly the files of the native build, byte for
/// byte, and none of the planted or fake secrets; says what it compared.
fn same_as_native(dir: &Path, native: &[(String, Vec<u8>)], secrets: &[String]) -> Result<String> {
    let got = files(dir)?;
    let names =
        |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    ensure!(
        names(&got) == names(native),
        "{} holds {:?}, the native build wrote {:?}",
        dir.display(),
        names(&got),
        names(native)
    );
    for ((name, bytes), (_, expected)) in got.iter().zip(native) {
        ensure!(
            bytes == expected,
            "{} differs from the native build",
            dir.join(name).display()
        );
        for secret in secrets {
            ensure!(
                !String::from_utf8_lossy(bytes).contains(secret.as_str()),
                "{} contains a planted secret",
                dir.join(name).display()
            );
        }
    }
    let total: usize = got.iter().map(|(_, b)| b.len()).sum();
    Ok(format!("{} files, {total} bytes", got.len()))
}

/// Parses the pages component's report, `… calls to libraries: json 4, …`.
fn library_calls(stderr: &str) -> Result<Vec<(String, u32)>> {
    let report = stderr
        .lines()
        .rev()
        .find_map(|line| {
            line.split_once("calls to libraries: ")
                .map(|(_, calls)| calls)
        })
        .context("the pages component logged no report of its calls")?;
    report
        .split(", ")
        .map(|call| {
            let (library, count) = call.split_once(' ').context("a malformed report")?;
            Ok((library.to_string(), count.parse()?))
        })
        .collect()
}

/// The lock step: the site's reviewed lock, and the compromised release
/// with the grants widened "to make it build" refused against it, as
/// `nanoproc compose --locked` refuses it, with what `nanoproc diff` says
/// it now holds. The lock is written to `work` as `nanoproc lock` would.
fn caught_by_the_lock(work: &Path, site: &Composition, compromised: &Composition) -> Result<()> {
    let cargo_lock = std::fs::read_to_string(project_root().join("Cargo.lock"))
        .context("cannot read the project's Cargo.lock")?;
    let mut reviewed = site.lock.clone();
    reviewed.record_crates(&cargo_lock);
    let mut upgraded = compromised.lock.clone();
    upgraded.record_crates(&cargo_lock);
    let lock_path = work.join("nanoproc.lock");
    let text = reviewed.to_toml();
    std::fs::write(&lock_path, &text)?;
    println!(
        "    the site's reviewed lock ({}, as `nanoproc lock` writes it and a project commits it) \
         pins the genuine markdown:",
        shown(&lock_path)
    );
    let markdown: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != "[components.markdown]")
        .take_while(|line| !line.starts_with("[components.pages"))
        .filter(|line| !line.is_empty())
        .collect();
    quote("| ", &markdown.join("\n"));
    let refused = reviewed
        .verify(&upgraded, Path::new(&shown(&lock_path)))
        .err()
        .context("the lock let the compromised release through")?;
    println!(
        "    with the manifest's grants widened \"to make it build\" ({COMPROMISED}), it composes, \
         and `--locked` refuses it:"
    );
    quote("| ", &nanoproc_linker::report(&refused, false));
    let changes = reviewed.changes(&upgraded);
    let widening: Vec<String> = changes
        .iter()
        .filter(|change| change.widens())
        .map(|change| format!("! {change}"))
        .collect();
    ensure!(
        reviewed.widened_by(&upgraded),
        "the compromised release holds no more than the lock"
    );
    println!(
        "    `nanoproc diff {} {COMPROMISED}` names what it now reaches for, and exits 1 \
         (more authority):",
        shown(&lock_path)
    );
    quote("| ", &widening.join("\n"));
    println!(
        "    | more authority: {} changes (marked !) give the new what the old did not hold",
        widening.len()
    );
    Ok(())
}

fn demo(args: &Args) -> Result<()> {
    let stage = Stage::new(&args.work)?;
    let secrets: Vec<String> = PLANTED
        .iter()
        .map(|(_, secret)| (*secret).to_string())
        .chain(SECRET_VARS.iter().filter_map(|var| std::env::var(var).ok()))
        .collect();
    let runtime = Runtime::with_engine(nanoproc_host::engine()?)?;

    println!(
        "nanoproc demo: a static site built by seven components, each in a nanoprocess of its own"
    );
    println!();

    // 1. Compose the app and show who can reach what.
    let started = std::time::Instant::now();
    let (manifest, composed) = compose(SITE, None)?;
    let compose_ns = started.elapsed().as_nanos() as f64;
    let site = composed.map_err(|e| anyhow::anyhow!("{SITE} does not compose:\n{e}"))?;
    let svg = args.work.join("site.svg");
    std::fs::write(&svg, Graph::new(&site.plan).to_svg())?;
    std::fs::write(args.work.join("site.wasm"), &site.bytes)?;
    println!(
        "1. compose {SITE}: {} components, {} KiB, in {}",
        manifest.components().len(),
        site.bytes.len() / 1024,
        human(compose_ns)
    );
    quote("", &Audit::new(&site.plan).to_string());
    println!("    picture of the graph: {}", shown(&svg));
    println!();

    // 2. Run it, and build the same site natively.
    let started = std::time::Instant::now();
    let clean = Loaded::new(&runtime, &site.bytes, &stage.site)?;
    let compile_ns = started.elapsed().as_nanos() as f64;
    let started = std::time::Instant::now();
    clean.run()?;
    let first_run_ns = started.elapsed().as_nanos() as f64;
    let run = clean.seen();
    println!(
        "2. run it: `site` reads {}, writes {}",
        shown(&stage.site.join("sample")),
        shown(&stage.site.join("out"))
    );
    quote("stdout | ", &run.stdout);
    quote("stderr | ", &run.stderr);
    let native_report = native::site(&stage.site.join("sample"), &stage.native)?;
    let native_files = files(&stage.native)?;
    ensure!(
        run.stdout == native_report,
        "the app printed\n{}\nthe native build\n{native_report}",
        run.stdout
    );
    ensure!(
        run.refusals.is_empty(),
        "the site app met refusals: {:?}",
        run.refusals
    );
    println!(
        "    the same crates natively, in one process ({}): the same report, and {}, byte for byte",
        shown(&stage.native),
        same_as_native(&stage.site.join("out"), &native_files, &secrets)?
    );
    println!();

    // 3. A compromised release of the markdown library.
    let evil = std::fs::read(components_dir().join(format!("{COMPROMISED_GUEST}.wasm")))
        .with_context(|| format!("cannot read the `{COMPROMISED_GUEST}` component"))?;
    println!(
        "3. a compromised markdown release (guests/{COMPROMISED_GUEST}): the same rendering, plus a payload \
         that looks for secrets in the environment, for ~/.ssh and ~/.aws credentials, and sends them to a server"
    );
    let held: Vec<&str> = SECRET_VARS
        .iter()
        .copied()
        .filter(|var| std::env::var_os(var).is_some())
        .collect();
    if !held.is_empty() {
        println!("    this process holds (fake) {}", held.join(" and "));
    }
    println!(
        "    planted in {}: {}",
        shown(&stage.home),
        PLANTED
            .iter()
            .map(|(p, _)| *p)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (_, refused) = compose(SITE, Some(("markdown", &evil)))?;
    let Err(refusal) = refused else {
        bail!("the compromised markdown composed with the site's grants");
    };
    println!("    composed with the site's own manifest, it is refused:");
    // Paths in the message as seen from the project's root.
    quote(
        "| ",
        &refusal.replace(&format!("{}/", project_root().display()), ""),
    );

    let (_, composed) = compose(COMPROMISED, None)?;
    let compromised =
        composed.map_err(|e| anyhow::anyhow!("{COMPROMISED} does not compose:\n{e}"))?;
    std::fs::write(args.work.join("compromised.wasm"), &compromised.bytes)?;
    caught_by_the_lock(&args.work, &site, &compromised)?;
    println!("    granted narrowly instead ({COMPROMISED}), it composes; what it holds:");
    let audit = Audit::new(&compromised.plan).to_string();
    let held = audit
        .lines()
        .filter(|line| line.starts_with("markdown ") && !line.contains("wasi:io/"));
    for line in held {
        println!("    | {line}");
    }
    let contained = Loaded::new(&runtime, &compromised.bytes, &stage.compromised)?;
    contained.run()?;
    let run = contained.seen();
    println!("    run, the host refuses each attempt and logs it:");
    quote("| ", &run.refusals.join("\n"));
    ensure!(
        !run.refusals.is_empty(),
        "the compromised markdown met no refusal"
    );
    ensure!(
        run.stdout == native_report,
        "the compromised app printed\n{}",
        run.stdout
    );
    println!(
        "    its output is still right: the same report, and {}, byte for byte, with no secret in them",
        same_as_native(&stage.compromised.join("out"), &native_files, &secrets)?
    );
    println!();

    // 4. The figures, measured in turns.
    let relay = {
        let (manifest, bytes) = app_inputs(Path::new("tests/apps/relay/nanoproc.toml"))?;
        let composed = nanoproc_linker::compose(&manifest, &bytes)?;
        runtime.load(&composed.bytes, Options::default())?
    };
    let mut relay = relay.instantiate()?;
    let mut step = |name: &str| -> Result<f64> {
        let mut reached = Ok((0,));
        let ns = nanos(|| reached = relay.call::<(u32,), (u64,)>(name, (STEPS,)));
        let (reached,) = reached?;
        ensure!(
            reached == u64::from(STEPS),
            "`{name}` took {reached} steps, not {STEPS}"
        );
        Ok(ns / f64::from(STEPS))
    };
    let (mut composing, mut instantiating, mut running, mut natively) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut between, mut inside) = (Vec::new(), Vec::new());
    let (site_manifest, site_bytes) = app_inputs(Path::new(SITE))?;
    for _ in 0..args.rounds {
        let mut composed = Ok(());
        composing.push(nanos(|| {
            composed = nanoproc_linker::compose(&site_manifest, &site_bytes).map(drop);
        }));
        composed?;
        let mut instantiated = Ok(());
        instantiating.push(
            nanos(|| {
                for _ in 0..INSTANCES {
                    if let Err(e) = clean.app.instantiate() {
                        instantiated = Err(e);
                    }
                }
            }) / INSTANCES as f64,
        );
        instantiated?;
        let mut ran = Ok(());
        running.push(nanos(|| ran = clean.run()));
        ran?;
        let mut built = Ok(String::new());
        natively.push(nanos(|| {
            built = native::site(&stage.site.join("sample"), &stage.native);
        }));
        built?;
        between.push(step("step-there")?);
        inside.push(step("step-here")?);
    }
    let calls = library_calls(&clean.seen().stderr)?;
    let library_total: u32 = calls.iter().map(|(_, n)| n).sum();
    let (composing, instantiating) = (Stats::of(composing), Stats::of(instantiating));
    let (running, natively) = (Stats::of(running), Stats::of(natively));
    let (between, inside) = (Stats::of(between), Stats::of(inside));

    let mut rows: Vec<(&str, String)> = Vec::new();
    let mut row = |name, value| rows.push((name, value));
    row("compose the app", composing.human());
    row(
        "compile it (once; `nanoproc run` caches it)",
        human(compile_ns),
    );
    row("first run (after compiling)", human(first_run_ns));
    row("instantiate it", instantiating.human());
    row(
        "calls between components in one run",
        format!(
            "{} (site -> pages 1; pages -> {})",
            library_total + 1,
            calls
                .iter()
                .map(|(library, n)| format!("{library} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    row(
        "one call between components (u64 -> u64)",
        format!(
            "{}, {:.1}x the same call inside one component ({})",
            between.human(),
            between.median / inside.median,
            human(inside.median)
        ),
    );
    row(
        "run it (instantiate, build 3 pages, write 6 files)",
        running.human(),
    );
    row("the same crates natively, in one process", natively.human());
    row(
        "nanoproc / native",
        format!("{:.1}x", running.median / natively.median),
    );
    println!(
        "4. figures ({} build, medians of {} rounds taken in turns, min-max in brackets)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        args.rounds
    );
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, value) in rows {
        println!("    {name:<width$}  {value}");
    }
    println!();
    println!(
        "the composed apps are {} and {}; run one with `nanoproc run` from {}",
        shown(&args.work.join("site.wasm")),
        shown(&args.work.join("compromised.wasm")),
        shown(&stage.site)
    );
    Ok(())
}
