//! The soak test: the demo app instantiated and run a million times on two
//! threads, its resident memory sampled as it goes. Ignored by default, since
//! it takes minutes; `cargo xtask soak` runs it in a release build.
//!
//! `NANOPROC_SOAK_ROUNDS` sets the number of rounds (default 1 000 000).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use nanoproc_host::{App, Options, Stdio};
use nanoproc_tests::measure::resident;
use nanoproc_tests::{compose_manifest, files, project_root, runtime};

/// Threads instantiating and running at once.
const THREADS: u64 = 2;
/// Rounds after which the resident set counts as warmed up: the pool's slots
/// in use have been touched, the allocator has its working set.
const WARM_UP: u64 = 20_000;
/// How much the resident set may grow after the warm-up: a fixed allowance
/// for the allocator's own drift, far below what one leaked byte per
/// round would add over a million rounds.
const ALLOWED_GROWTH: u64 = 8 << 20;
/// Rounds between two samples of the resident set.
const SAMPLE_EVERY: u64 = 10_000;
/// Time between two lines of progress.
const PRINT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The site app loaded to run in a directory of its own, with a copy of its
/// sample, its output discarded.
fn site(runtime: &nanoproc_host::Runtime, dir: &std::path::Path) -> App {
    std::fs::create_dir_all(dir.join("sample")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    for (name, bytes) in files(&project_root().join("guests/site/sample")).unwrap() {
        std::fs::write(dir.join("sample").join(name), bytes).unwrap();
    }
    let bytes = compose_manifest("guests/site/nanoproc.toml").unwrap().bytes;
    runtime
        .load(
            &bytes,
            Options {
                base_dir: dir.to_path_buf(),
                args: vec!["site".into()],
                stdout: Stdio::Discard,
                stderr: Stdio::Discard,
                ..Options::default()
            },
        )
        .unwrap()
}

#[test]
#[ignore = "minutes long: run by `cargo xtask soak`"]
fn the_demo_app_runs_a_million_times_on_two_threads_in_flat_memory() {
    let rounds: u64 = std::env::var("NANOPROC_SOAK_ROUNDS")
        .map(|n| n.parse().expect("NANOPROC_SOAK_ROUNDS is a number"))
        .unwrap_or(1_000_000);
    assert!(
        rounds >= 2 * WARM_UP,
        "a soak needs at least {} rounds",
        2 * WARM_UP
    );
    let scratch = tempfile::tempdir().unwrap();
    let apps: Vec<App> = (0..THREADS)
        .map(|t| site(runtime(), &scratch.path().join(t.to_string())))
        .collect();
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let start_rss = resident().unwrap();
    // (rounds done, resident bytes) at each sample.
    let mut samples = vec![(0, start_rss)];
    std::thread::scope(|scope| {
        let mut workers = Vec::new();
        for app in &apps {
            let done = &done;
            workers.push(scope.spawn(move || {
                while done.fetch_add(1, Ordering::Relaxed) < rounds {
                    let status = app.instantiate().unwrap().run().unwrap();
                    assert_eq!(status, 0, "the site app failed");
                }
            }));
        }
        let mut next = SAMPLE_EVERY;
        let mut last_print = Instant::now();
        loop {
            let now = done.load(Ordering::Relaxed).min(rounds);
            if now >= next || now >= rounds {
                let rss = resident().unwrap();
                samples.push((now, rss));
                if last_print.elapsed() >= PRINT_EVERY || now >= rounds {
                    last_print = Instant::now();
                    let secs = started.elapsed().as_secs_f64();
                    eprintln!(
                        "soak: {now:>8} rounds in {secs:>6.1} s ({:>6.0} per second), \
                         resident {:.1} MiB",
                        now as f64 / secs,
                        rss as f64 / f64::from(1 << 20)
                    );
                }
                next = now - now % SAMPLE_EVERY + SAMPLE_EVERY;
            }
            // A worker that panicked ends the soak; the scope reports it.
            if now >= rounds || workers.iter().any(|w| w.is_finished()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let took = started.elapsed();
    let warm = samples
        .iter()
        .find(|(n, _)| *n >= WARM_UP)
        .expect("a sample after the warm-up")
        .1;
    let (peak_at, peak) = samples
        .iter()
        .filter(|(n, _)| *n >= WARM_UP)
        .max_by_key(|(_, rss)| *rss)
        .copied()
        .unwrap();
    let end = samples.last().unwrap().1;
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    eprintln!(
        "soak: {rounds} rounds on {THREADS} threads in {:.1} s, {:.1} µs per round and thread; \
         resident {:.1} MiB at the start, {:.1} MiB after {WARM_UP} rounds, \
         peak {:.1} MiB (after {peak_at}), {:.1} MiB at the end",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 * THREADS as f64 / rounds as f64,
        mib(start_rss),
        mib(warm),
        mib(peak),
        mib(end),
    );
    assert!(
        peak.saturating_sub(warm) <= ALLOWED_GROWTH,
        "the resident set grew by {:.1} MiB after the warm-up (allowed {:.1} MiB)",
        mib(peak - warm),
        mib(ALLOWED_GROWTH)
    );
}
