//! The benchmark's results: rows of figures with the ratios and targets
//! they are judged by, written as a markdown table and as JSON.

use std::fmt::Write as _;

use nanoproc_tests::measure::{Stats, human};
use serde_json::{Value, json};

/// What a row measured.
pub enum Figure {
    /// Nanoseconds per operation.
    Time(Stats),
    /// Bytes.
    Bytes(f64),
    /// Operations (such as requests) per second.
    Rate(Stats),
    /// Not measured, and why.
    Skipped(String),
}

/// A goal a row is judged by.
pub struct Target {
    /// The goal, as printed: `≤ 2×`.
    pub text: String,
    /// Whether the measured figure meets it.
    pub met: bool,
}

impl Target {
    /// Met when `value` is at most `limit`.
    pub fn at_most(value: f64, limit: f64, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            met: value <= limit,
        }
    }

    /// Met when `value` is at least `limit`.
    pub fn at_least(value: f64, limit: f64, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            met: value >= limit,
        }
    }
}

/// One measured case.
pub struct Row {
    section: &'static str,
    case: String,
    figure: Figure,
    /// The ratio to another row, as printed (`2.3× inside one component`),
    /// with its value.
    ratio: Option<(String, f64)>,
    target: Option<Target>,
}

impl Row {
    /// A row of `section` for `case`.
    pub fn new(section: &'static str, case: impl Into<String>, figure: Figure) -> Self {
        Self {
            section,
            case: case.into(),
            figure,
            ratio: None,
            target: None,
        }
    }

    /// The row with a ratio `value`, shown as `text`.
    pub fn ratio(mut self, value: f64, text: impl Into<String>) -> Self {
        self.ratio = Some((text.into(), value));
        self
    }

    /// The row judged by `target`.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }
}

/// All rows, in the order measured, and the machine they were measured on.
pub struct Report {
    /// The machine, one line: CPU, cores, memory, system.
    pub machine: String,
    rows: Vec<Row>,
}

impl Report {
    /// An empty report for `machine`.
    pub fn new(machine: String) -> Self {
        Self {
            machine,
            rows: Vec::new(),
        }
    }

    /// Adds `row`, printing it at once so that a long run shows progress.
    pub fn add(&mut self, row: Row) {
        eprintln!("bench:   {}", table_row(&row).trim_start_matches("| "));
        self.rows.push(row);
    }

    /// The targets missed, by case.
    pub fn missed(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|row| row.target.as_ref().is_some_and(|t| !t.met))
            .map(|row| row.case.as_str())
            .collect()
    }

    /// The report as markdown: the machine, then one table.
    pub fn markdown(&self) -> String {
        let mut out = format!("Measured on {}.\n\n", self.machine);
        out.push_str("| case | median | min – max | ratio | target |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        let mut section = "";
        for row in &self.rows {
            if row.section != section {
                section = row.section;
                let _ = writeln!(out, "| **{section}** | | | | |");
            }
            out.push_str(&table_row(row));
            out.push('\n');
        }
        out
    }

    /// The report as JSON: the machine and every row with its raw figures
    /// (nanoseconds or bytes).
    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut value = json!({ "section": row.section, "case": row.case });
                match &row.figure {
                    Figure::Time(stats) => {
                        value["unit"] = json!("ns");
                        value["median"] = json!(stats.median);
                        value["min"] = json!(stats.min);
                        value["max"] = json!(stats.max);
                    }
                    Figure::Bytes(bytes) => {
                        value["unit"] = json!("bytes");
                        value["value"] = json!(bytes);
                    }
                    Figure::Rate(stats) => {
                        value["unit"] = json!("per second");
                        value["median"] = json!(stats.median);
                        value["min"] = json!(stats.min);
                        value["max"] = json!(stats.max);
                    }
                    Figure::Skipped(why) => value["skipped"] = json!(why),
                }
                if let Some((text, ratio)) = &row.ratio {
                    value["ratio"] = json!({ "value": ratio, "text": text });
                }
                if let Some(target) = &row.target {
                    value["target"] = json!({ "text": target.text, "met": target.met });
                }
                value
            })
            .collect();
        json!({ "machine": self.machine, "rows": rows })
    }
}

fn table_row(row: &Row) -> String {
    let (median, spread) = match &row.figure {
        Figure::Time(stats) => (
            human(stats.median),
            format!("{} – {}", human(stats.min), human(stats.max)),
        ),
        Figure::Bytes(bytes) => (size(*bytes), String::new()),
        Figure::Rate(stats) => (
            format!("{:.0}/s", stats.median),
            format!("{:.0} – {:.0}", stats.min, stats.max),
        ),
        Figure::Skipped(why) => (format!("skipped: {why}"), String::new()),
    };
    let ratio = row.ratio.as_ref().map_or("", |(text, _)| text);
    let target = row.target.as_ref().map_or(String::new(), |target| {
        format!(
            "{}: {}",
            target.text,
            if target.met { "met" } else { "**missed**" }
        )
    });
    format!(
        "| {} | {median} | {spread} | {ratio} | {target} |",
        row.case
    )
}

/// A byte count for people: `812 B`, `23.4 KiB`, `1.2 MiB`, `23.5 GiB`.
pub fn size(bytes: f64) -> String {
    const KIB: f64 = 1024.0;
    if bytes < KIB {
        format!("{bytes:.0} B")
    } else if bytes < KIB * KIB {
        format!("{:.1} KiB", bytes / KIB)
    } else if bytes < KIB * KIB * KIB {
        format!("{:.1} MiB", bytes / (KIB * KIB))
    } else {
        format!("{:.1} GiB", bytes / (KIB * KIB * KIB))
    }
}

/// This machine, one line: `Intel(R) Xeon(R) Processor, 2 cores, 24.0 GiB,
/// Linux 6.18 (Debian GNU/Linux 13), rustc 1.95.0, wasmtime 48.0.8`.
pub fn machine(wasmtime: &str) -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = field(&cpuinfo, "model name").unwrap_or("an unknown CPU");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let memory = field(&read("/proc/meminfo"), "MemTotal")
        .and_then(|kib| kib.trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or_else(|| "unknown memory".to_string(), |kib| size(kib * 1024.0));
    let kernel = read("/proc/sys/kernel/osrelease");
    let os_release = read("/etc/os-release");
    let os = os_release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"'))
        .unwrap_or("an unknown system");
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|v| {
            v.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
                .into()
        })
        .unwrap_or_else(|| "rustc".to_string());
    format!(
        "{cpu}, {cores} cores, {memory}, Linux {} ({os}), {rustc}, wasmtime {wasmtime}",
        kernel.trim()
    )
}

/// The value of the first `name: value` line of `text`.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim())
    })
}
