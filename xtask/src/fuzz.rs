//! `cargo xtask fuzz`: running a fuzz target under libFuzzer.
//!
//! The targets are `tests/fuzz/fuzz_targets/*.rs`, a cargo-fuzz crate kept
//! out of the workspace; each calls a `run` function of
//! `nanoproc_tests::fuzz`, which the seeded tests run too. cargo-fuzz needs
//! unstable compiler flags (`-Zsanitizer=address`, libFuzzer's coverage
//! instrumentation): a rustup `nightly` toolchain is used when there is
//! one, otherwise the toolchain running this command with
//! `RUSTC_BOOTSTRAP=1`, which allows them on a stable compiler (whose
//! standard library ships the sanitizer runtimes all the same).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::guests;

/// The cargo-fuzz crate, relative to the project root.
const FUZZ_DIR: &str = "tests/fuzz";
/// Where builds, corpora and crashes go, relative to the project root.
const OUTPUT_DIR: &str = "target/fuzz";
/// The targets that need no built guest components.
const WITHOUT_GUESTS: &[&str] = &["manifest"];
/// libFuzzer options some targets run with by default (those given after
/// `--` come later, so they win). `compose` makes a few executions a
/// second: libFuzzer's usual slow growth of input lengths would keep its
/// inputs too short to mutate anything for a long while.
const TARGET_OPTIONS: &[(&str, &[&str])] = &[("compose", &["-len_control=0"])];

/// The arguments of `cargo xtask fuzz`.
#[derive(clap::Args)]
#[command(after_help = "\
Builds the guests first (the targets but `manifest` compose them), installs \
cargo-fuzz when it is missing, and builds with rustup's nightly toolchain \
when there is one, else with this one and RUSTC_BOOTSTRAP=1. The corpus is \
kept in target/fuzz/corpus/TARGET/, crashing inputs in \
target/fuzz/artifacts/TARGET/. `cargo test` runs the same targets on a few \
hundred seeded inputs (tests/all/fuzz.rs).")]
pub struct Args {
    /// The target: `manifest`, `compose` or `wave`.
    target: Option<String>,
    /// How long to fuzz, in seconds.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Run the target once on this input (a crash file, say) instead of fuzzing.
    #[arg(long, value_name = "FILE", conflicts_with = "minimize")]
    input: Option<PathBuf>,
    /// Shrink this crashing input to a smaller one that crashes the same
    /// way, written to `target/fuzz/artifacts/TARGET/minimized-from-…`.
    #[arg(long, value_name = "FILE")]
    minimize: Option<PathBuf>,
    /// Use the components already in `target/components/` instead of
    /// building the guests.
    #[arg(long)]
    no_build: bool,
    /// Extra libFuzzer options after `--`, such as `-jobs=2` or `-max_len=4096`.
    #[arg(last = true)]
    libfuzzer_args: Vec<String>,
}

/// Runs `cargo xtask fuzz` with `args` in the project at `root`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let targets = targets(root)?;
    let Some(target) = args.target.as_deref() else {
        eprintln!("The fuzz targets (cargo xtask fuzz TARGET [--seconds N]):");
        for target in &targets {
            eprintln!("  {target}");
        }
        bail!("name a fuzz target");
    };
    if !targets.iter().any(|t| t == target) {
        bail!(
            "there is no fuzz target `{target}`; the targets are: {}",
            targets.join(", ")
        );
    }
    let absolute =
        |p: &Path| std::path::absolute(p).with_context(|| format!("cannot use {}", p.display()));
    let input = args.input.as_deref().map(absolute).transpose()?;
    let minimize = args.minimize.as_deref().map(absolute).transpose()?;

    let toolchain = FuzzToolchain::find();
    eprintln!("xtask: fuzzing with {}", toolchain.describe());
    ensure_cargo_fuzz(&toolchain)?;
    if !args.no_build && !WITHOUT_GUESTS.contains(&target) {
        guests::build(root, guests::Generated::Write, &|_| true)?;
    }

    let output = root.join(OUTPUT_DIR);
    let corpus = output.join("corpus").join(target);
    let artifacts = output.join("artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut cmd = toolchain.cargo_fuzz();
    cmd.current_dir(root)
        .arg(if minimize.is_some() { "tmin" } else { "run" })
        .arg("--fuzz-dir")
        .arg(root.join(FUZZ_DIR))
        .arg("--target-dir")
        .arg(&output)
        .arg(target);
    match (&input, &minimize) {
        (Some(file), _) | (_, Some(file)) => {
            cmd.arg(file).arg("--");
        }
        (None, None) => {
            cmd.arg(&corpus).arg("--").args([
                format!("-max_total_time={}", args.seconds),
                "-print_final_stats=1".to_string(),
            ]);
        }
    }
    // After cargo-fuzz's own `-artifact_prefix`, so this one counts. The
    // slash matters: libFuzzer puts the file name right after it.
    cmd.arg(format!("-artifact_prefix={}/", artifacts.display()));
    for (_, options) in TARGET_OPTIONS.iter().filter(|(t, _)| *t == target) {
        cmd.args(*options);
    }
    cmd.args(&args.libfuzzer_args);

    eprintln!("xtask: {}", describe(&cmd));
    let status = cmd
        .status()
        .context("cannot run cargo fuzz (is cargo-fuzz installed?)")?;
    let crashes = crash_files(&artifacts)?;
    if !status.success() {
        let mut message = format!("fuzz target `{target}` failed ({status})");
        if !crashes.is_empty() {
            message.push_str("; its crashing inputs:");
            for crash in &crashes {
                message.push_str(&format!("\n  {}", crate::relative(root, crash).display()));
            }
            message.push_str(&format!(
                "\nrun one again with `cargo xtask fuzz {target} --input FILE`, \
                 shrink it with `--minimize FILE`"
            ));
        }
        bail!(message);
    }
    if input.is_none() && minimize.is_none() {
        eprintln!(
            "xtask: fuzz target `{target}` found nothing in {} s; its corpus is in {}",
            args.seconds,
            crate::relative(root, &corpus).display()
        );
    }
    Ok(())
}

/// The fuzz targets: the files in `tests/fuzz/fuzz_targets/`, by name.
fn targets(root: &Path) -> Result<Vec<String>> {
    let dir = root.join(FUZZ_DIR).join("fuzz_targets");
    let mut targets = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            targets.push(stem.to_string_lossy().into_owned());
        }
    }
    targets.sort();
    Ok(targets)
}

/// The files libFuzzer left in `dir`: crashes, leaks, timeouts.
fn crash_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The compiler cargo-fuzz builds with.
enum FuzzToolchain {
    /// rustup's `nightly` toolchain, which allows unstable flags.
    Nightly,
    /// The cargo running this command, with unstable flags allowed through
    /// `RUSTC_BOOTSTRAP=1`.
    Bootstrapped { cargo: PathBuf },
}

impl FuzzToolchain {
    /// Nightly when rustup has it installed, else the current toolchain.
    fn find() -> Self {
        let nightly = Command::new("rustup")
            .args(["run", "nightly", "rustc", "--version"])
            // Never let rustup download a toolchain to answer.
            .env("RUSTUP_AUTO_INSTALL", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if nightly {
            Self::Nightly
        } else {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            Self::Bootstrapped {
                cargo: cargo.into(),
            }
        }
    }

    /// `cargo` with this toolchain, ready for `fuzz` and its arguments.
    fn cargo(&self) -> Command {
        let mut cmd = match self {
            Self::Nightly => {
                let mut cmd = Command::new("rustup");
                cmd.args(["run", "nightly", "cargo"]);
                cmd
            }
            Self::Bootstrapped { cargo } => {
                let mut cmd = Command::new(cargo);
                cmd.env("RUSTC_BOOTSTRAP", "1");
                cmd
            }
        };
        // Flags meant for the project's own build must not reach the fuzz build.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR"] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// `cargo fuzz` with this toolchain.
    fn cargo_fuzz(&self) -> Command {
        let mut cmd = self.cargo();
        cmd.arg("fuzz");
        cmd
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::Nightly => "rustup's nightly toolchain",
            Self::Bootstrapped { .. } => {
                "this toolchain, unstable flags allowed by RUSTC_BOOTSTRAP=1"
            }
        }
    }
}

/// Installs cargo-fuzz from crates.io when `cargo fuzz` does not run.
fn ensure_cargo_fuzz(toolchain: &FuzzToolchain) -> Result<()> {
    let found = toolchain
        .cargo_fuzz()
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Ok(());
    }
    eprintln!("xtask: cargo-fuzz is missing; installing it (a few minutes)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["install", "--locked", "cargo-fuzz"])
        .status()
        .context("cannot run cargo install")?;
    if !status.success() {
        bail!("`cargo install --locked cargo-fuzz` failed ({status})");
    }
    Ok(())
}

/// `cmd` as a shell would show it.
fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}
