//! Instantiating the demo's app beside an empty component, on one thread
//! and on two at once, and the memory its live instances hold.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use nanoproc_host::{App, Options};
use nanoproc_tests::measure::{in_turns, resident};

use crate::report::{Figure, Report, Row, Target};
use crate::{Bench, CHILD, site_options};

const SECTION: &str = "instantiation";
/// Rounds of each compared case.
const ROUNDS: usize = 21;
/// Instantiations per turn.
const INSTANCES: usize = 200;
/// Live instances held at once for the memory figure.
const LIVE: usize = 1000;

/// Nanoseconds `app.instantiate()` takes, per instance over one turn, with
/// the dropping of each instance left out of the time.
fn instantiate(app: &App) -> Result<f64> {
    let mut spent = Duration::ZERO;
    for _ in 0..INSTANCES {
        let started = Instant::now();
        let instance = app.instantiate()?;
        spent += started.elapsed();
        drop(instance);
    }
    Ok(spent.as_nanos() as f64 / INSTANCES as f64)
}

/// Nanoseconds dropping an instance of `app` takes, over one turn.
fn drop_instances(app: &App) -> Result<f64> {
    let instances = (0..INSTANCES)
        .map(|_| app.instantiate())
        .collect::<Result<Vec<_>>>()?;
    let started = Instant::now();
    drop(instances);
    Ok(started.elapsed().as_nanos() as f64 / INSTANCES as f64)
}

/// What each of two threads instantiating `app` at once sees per instance.
fn instantiate_on_two_threads(app: &App) -> Result<f64> {
    let times = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2).map(|_| scope.spawn(|| instantiate(app))).collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("an instantiating thread"))
            .collect::<Result<Vec<f64>>>()
    })?;
    Ok(times.iter().sum::<f64>() / times.len() as f64)
}

/// Instantiating the site app vs an empty component; the same on two
/// threads at once; dropping an instance.
pub fn instantiation(bench: &Bench, report: &mut Report) -> Result<()> {
    let empty = bench.runtime.load(
        &wat::parse_str("(component)").context("an empty component")?,
        Options::default(),
    )?;
    let site = &bench.site;
    let [site_one, empty_one, site_two, dropping] = in_turns(
        ROUNDS,
        &mut [
            &mut || instantiate(site),
            &mut || instantiate(&empty),
            &mut || instantiate_on_two_threads(site),
            &mut || drop_instances(site),
        ],
    )?[..] else {
        unreachable!("four cases")
    };
    report.add(
        Row::new(
            SECTION,
            "instantiate the site app (7 components, 2 granted dirs)",
            Figure::Time(site_one),
        )
        .ratio(
            site_one.median / empty_one.median,
            format!(
                "{:.1}× an empty component",
                site_one.median / empty_one.median
            ),
        )
        .target(Target::at_most(site_one.median, 10_000.0, "≤ 10 µs")),
    );
    report.add(Row::new(
        SECTION,
        "instantiate an empty component",
        Figure::Time(empty_one),
    ));
    report.add(
        Row::new(
            SECTION,
            "the site app, 2 threads instantiating at once (each)",
            Figure::Time(site_two),
        )
        .ratio(
            site_two.median / site_one.median,
            format!("{:.2}× one thread alone", site_two.median / site_one.median),
        ),
    );
    report.add(Row::new(
        SECTION,
        "drop an instance of the site app",
        Figure::Time(dropping),
    ));
    Ok(())
}

/// Nanoseconds an instance of `app` (the snoop) takes to be made and to list
/// its directory once, per instance over one turn.
fn instantiate_and_list(app: &App) -> Result<f64> {
    let started = Instant::now();
    for _ in 0..INSTANCES {
        let mut instance = app.instantiate()?;
        let (listed,): (Result<Vec<String>, String>,) = instance.call(
            "nanoproc:hostile/snooping@0.1.0#list-dir",
            ("/data".to_string(),),
        )?;
        ensure!(listed.is_ok(), "the snoop could not list /data: {listed:?}");
    }
    Ok(started.elapsed().as_nanos() as f64 / INSTANCES as f64)
}

/// A `wasm32-wasip1` guest granted only a directory, whose denied stdin,
/// stdout and stderr the host answers with inert streams, vs the same
/// granted the real streams: what the inert answers cost an instance.
pub fn inert(bench: &Bench, report: &mut Report) -> Result<()> {
    let load = |manifest: &str| -> Result<App> {
        let bytes = nanoproc_tests::compose_manifest(manifest)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .bytes;
        let dir = nanoproc_tests::project_root().join("tests/apps/snoop");
        Ok(bench.runtime.load(
            &bytes,
            Options {
                base_dir: dir,
                ..Options::default()
            },
        )?)
    };
    let inert = load("tests/apps/snoop/only-dirs.toml")?;
    let granted = load("tests/apps/snoop/dirs-and-stdio.toml")?;
    let [inert, granted] = in_turns(
        ROUNDS,
        &mut [&mut || instantiate_and_list(&inert), &mut || {
            instantiate_and_list(&granted)
        }],
    )?[..] else {
        unreachable!("two cases")
    };
    report.add(
        Row::new(
            SECTION,
            "a wasip1 guest granted one directory: instantiate, list it (stdio denied, inert)",
            Figure::Time(inert),
        )
        .ratio(
            inert.median / granted.median,
            format!(
                "{:.2}× with stdio granted instead",
                inert.median / granted.median
            ),
        ),
    );
    report.add(Row::new(
        SECTION,
        "the same with stdin, stdout and stderr granted",
        Figure::Time(granted),
    ));
    Ok(())
}

/// Resident memory per live instance of the site app, measured in a child
/// process of its own so that nothing measured before counts.
pub fn memory(bench: &Bench, report: &mut Report) -> Result<()> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .env(CHILD, "memory")
        .env("NANOPROC_BENCH_DIR", bench.scratch.path())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot start the memory child")?;
    ensure!(
        out.status.success(),
        "the memory child failed ({})",
        out.status
    );
    let text = String::from_utf8(out.stdout)?;
    let figures: Vec<f64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("the memory child printed `{text}`"))?;
    let [fresh, ran] = figures[..] else {
        anyhow::bail!("the memory child printed `{text}`");
    };
    report.add(Row::new(
        "memory",
        format!("resident memory per live instance of the site app ({LIVE} live, fresh)"),
        Figure::Bytes(fresh),
    ));
    report.add(Row::new(
        "memory",
        format!("the same after each has built the site once ({LIVE} live)"),
        Figure::Bytes(ran),
    ));
    Ok(())
}

/// The memory child: loads the site app, holds [`LIVE`] instances, then
/// runs each once, printing the growth of its resident set per instance
/// after each step.
pub fn memory_child() -> Result<()> {
    let dir = std::env::var_os("NANOPROC_BENCH_DIR").context("NANOPROC_BENCH_DIR is not set")?;
    let dir = std::path::Path::new(&dir);
    let runtime = nanoproc_host::Runtime::with_engine(nanoproc_host::engine()?)?;
    let bytes = nanoproc_tests::compose_manifest(crate::SITE)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .bytes;
    let app = runtime.load(&bytes, site_options(dir))?;
    // One instance made and run first, so that what every instance shares
    // (code, the pool's bookkeeping) is resident before the count starts.
    app.instantiate()?.run()?;
    let before = resident()?;
    let mut live = (0..LIVE)
        .map(|_| app.instantiate())
        .collect::<Result<Vec<_>>>()?;
    let fresh = resident()?;
    for instance in &mut live {
        ensure!(instance.run()? == 0, "the site app failed");
    }
    let ran = resident()?;
    let per = |after: u64| after.saturating_sub(before) as f64 / LIVE as f64;
    println!("{} {}", per(fresh), per(ran));
    Ok(())
}
