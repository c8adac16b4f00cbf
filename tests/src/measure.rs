//! Medians with their spread, for the benchmark and the demo, which both
//! measure compared cases in turns within one run, and the process's
//! resident memory, for the benchmark and the soak test.

use std::time::Instant;

/// The median, min and max of a set of samples, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// The middle sample.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Stats {
    /// The statistics of `samples`.
    ///
    /// # Panics
    ///
    /// When there are no samples.
    pub fn of(mut samples: Vec<f64>) -> Self {
        assert!(!samples.is_empty(), "statistics of no samples");
        samples.sort_by(f64::total_cmp);
        Self {
            median: samples[samples.len() / 2],
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }

    /// The median with min and max, in the unit that suits it best.
    pub fn human(&self) -> String {
        let unit = unit(self.median);
        format!(
            "{} ({}-{})",
            unit.show(self.median),
            unit.number(self.min),
            unit.number(self.max)
        )
    }
}

/// Measures compared cases in turns: one warm-up turn each, then `rounds`
/// rounds in which every case takes one turn, so that a noisy neighbour
/// slows all cases alike. A turn returns its figure (such as nanoseconds
/// per operation); the statistics come back in the order of `cases`.
///
/// # Errors
///
/// The first error a turn returns.
pub fn in_turns(
    rounds: usize,
    cases: &mut [&mut dyn FnMut() -> anyhow::Result<f64>],
) -> anyhow::Result<Vec<Stats>> {
    for case in cases.iter_mut() {
        case()?;
    }
    let mut samples = vec![Vec::with_capacity(rounds); cases.len()];
    for _ in 0..rounds {
        for (case, samples) in cases.iter_mut().zip(&mut samples) {
            samples.push(case()?);
        }
    }
    Ok(samples.into_iter().map(Stats::of).collect())
}

/// Nanoseconds `f` took.
pub fn nanos(f: impl FnOnce()) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_nanos() as f64
}

/// A unit of time to show nanoseconds in.
#[derive(Clone, Copy)]
struct Unit {
    name: &'static str,
    nanos: f64,
}

impl Unit {
    fn number(self, ns: f64) -> String {
        let value = ns / self.nanos;
        if value >= 100.0 {
            format!("{value:.0}")
        } else if value >= 10.0 {
            format!("{value:.1}")
        } else {
            format!("{value:.2}")
        }
    }

    fn show(self, ns: f64) -> String {
        format!("{} {}", self.number(ns), self.name)
    }
}

fn unit(ns: f64) -> Unit {
    let (name, nanos) = if ns >= 1e9 {
        ("s", 1e9)
    } else if ns >= 1e6 {
        ("ms", 1e6)
    } else if ns >= 1e3 {
        ("µs", 1e3)
    } else {
        ("ns", 1.0)
    };
    Unit { name, nanos }
}

/// `ns` in the unit that suits it best, such as `14.2 ms`.
pub fn human(ns: f64) -> String {
    unit(ns).show(ns)
}

/// This process's resident set, in bytes.
///
/// # Errors
///
/// When `/proc/self/status` cannot be read or has no `VmRSS` line.
pub fn resident() -> anyhow::Result<u64> {
    use anyhow::Context as _;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .context("/proc/self/status has no VmRSS")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib * 1024)
}
