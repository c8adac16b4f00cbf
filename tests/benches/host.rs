//! Measures the host's promises side by side, interleaved, in one run:
//! instantiating the demo app beside an empty component, a call between
//! components beside the same call inside one, and compiling an app beside
//! loading it from the cache. Run by `cargo xtask bench`.

use std::time::Instant;

use nanoproc_host::cache::Cache;
use nanoproc_host::{App, Options, Runtime};
use nanoproc_tests::compose_manifest;
use nanoproc_tests::measure::Stats;

/// Rounds per case; the cases take turns round by round.
const ROUNDS: usize = 15;
/// Instantiations per round.
const INSTANCES: usize = 200;
/// Calls per measured call into the relay.
const STEPS: u32 = 100_000;

fn row(case: &str, stats: &Stats, unit: &str, scale: f64) {
    println!(
        "| {case} | {:.2} {unit} | {:.2} | {:.2} |",
        stats.median / scale,
        stats.min / scale,
        stats.max / scale
    );
}

fn load(runtime: &Runtime, manifest: &str) -> App {
    let composition = compose_manifest(manifest).expect("the app composes");
    runtime
        .load(&composition.bytes, Options::default())
        .expect("the app loads")
}

/// Nanoseconds per instantiation of `app`, over one round.
fn instantiate(app: &App) -> f64 {
    let started = Instant::now();
    for _ in 0..INSTANCES {
        drop(app.instantiate().expect("instantiates"));
    }
    started.elapsed().as_nanos() as f64 / INSTANCES as f64
}

fn main() {
    let runtime =
        Runtime::with_engine(nanoproc_host::engine().expect("engine")).expect("a runtime");
    let demo = load(&runtime, "guests/pages/nanoproc.toml");
    let empty_bytes = wat::parse_str("(component)").expect("an empty component");
    let empty = runtime
        .load(&empty_bytes, Options::default())
        .expect("the empty component loads");
    let relay = load(&runtime, "tests/apps/relay/nanoproc.toml");

    let (mut demo_ns, mut empty_ns) = (Vec::new(), Vec::new());
    let (mut there_ns, mut here_ns) = (Vec::new(), Vec::new());
    let mut instance = relay.instantiate().expect("the relay instantiates");
    let mut step = |name: &str| {
        let started = Instant::now();
        let (reached,): (u64,) = instance.call(name, (STEPS,)).expect("steps");
        assert_eq!(reached, u64::from(STEPS));
        started.elapsed().as_nanos() as f64 / f64::from(STEPS)
    };
    // Warm up every case once before measuring.
    instantiate(&demo);
    instantiate(&empty);
    step("step-there");
    step("step-here");
    for _ in 0..ROUNDS {
        demo_ns.push(instantiate(&demo));
        empty_ns.push(instantiate(&empty));
        there_ns.push(step("step-there"));
        here_ns.push(step("step-here"));
    }

    let composition = compose_manifest("guests/site/nanoproc.toml").expect("the site composes");
    let cache_dir = tempfile::tempdir().expect("a temporary directory");
    let cached = Runtime::with_engine(runtime.engine().clone())
        .expect("a runtime")
        .with_cache(Some(Cache::new(cache_dir.path())));
    let (mut compile_ns, mut hit_ns) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(cache_dir.path());
        let started = Instant::now();
        cached
            .load(&composition.bytes, Options::default())
            .expect("compiles");
        compile_ns.push(started.elapsed().as_nanos() as f64);
        let started = Instant::now();
        cached
            .load(&composition.bytes, Options::default())
            .expect("loads");
        hit_ns.push(started.elapsed().as_nanos() as f64);
    }

    let (demo, empty) = (Stats::of(demo_ns), Stats::of(empty_ns));
    let (there, here) = (Stats::of(there_ns), Stats::of(here_ns));
    let (compile, hit) = (Stats::of(compile_ns), Stats::of(hit_ns));
    println!("| case | median | min | max |");
    println!("| --- | --- | --- | --- |");
    row("instantiate the demo app (6 components)", &demo, "µs", 1e3);
    row("instantiate an empty component", &empty, "µs", 1e3);
    row(
        "call between two components (u64 -> u64)",
        &there,
        "ns",
        1.0,
    );
    row("the same call inside one component", &here, "ns", 1.0);
    row("compile the site app (7 components)", &compile, "ms", 1e6);
    row("load it from the cache", &hit, "ms", 1e6);
    println!();
    println!(
        "demo app / empty component instantiation: {:.1}x",
        demo.median / empty.median
    );
    println!(
        "call between components / inside one: {:.1}x",
        there.median / here.median
    );
    println!("compile / cache hit: {:.0}x", compile.median / hit.median);
}
