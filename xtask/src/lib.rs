//! `cargo xtask`: nanoproc's build, test and demo commands, and the build of
//! component apps in projects of their own.
//!
//! This is the only place in nanoproc that knows about toolchains: it finds
//! (or installs) a toolchain that can build wasm guests, turns every guest
//! under a project's `guests/` into a component, and drives the tests.
//! nanoproc's own `cargo xtask` is [`main`]; a project made by `cargo xtask
//! init` has an xtask crate of its own whose `main` is [`project_main`].

mod apps;
mod clang;
mod foreign;
mod fuzz;
mod guests;
mod init;
mod new;
mod projects;
mod scaffolds;
mod toolchain;
mod wit;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context as _, Result, bail, ensure};
use clap::{Parser, Subcommand};

/// Build, test and demonstrate nanoproc.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, long_about = None)]
struct Cli {
    /// The project to work on: its `guests/`, `wit/` and `target/` (by
    /// default nanoproc's own).
    #[arg(long, global = true, value_name = "DIR")]
    project: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

/// Build, run and test a component app.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, long_about = None)]
struct ProjectCli {
    #[command(subcommand)]
    command: ProjectCmd,
}

/// The commands of a component app's own project.
#[derive(Subcommand)]
enum ProjectCmd {
    #[command(flatten)]
    Authoring(Authoring),
    /// Build the guests, check formatting and lints, then run every test.
    Test(TestArgs),
}

/// The commands that author and run components, in nanoproc's workspace and
/// in a project of its own alike.
#[derive(Subcommand)]
enum Authoring {
    /// Make a new component that builds, composes, runs and passes its test
    /// as it is: its WIT in `wit/NAME/`, its crate in `guests/NAME/` with an
    /// app manifest and a test beside it.
    ///
    /// Examples: `cargo xtask new words --from-crate unicode-segmentation`,
    /// `cargo xtask new greeter --lib`, `cargo xtask new hello --app`.
    New(new::Args),
    /// Build every guest under `guests/` into a component in
    /// `target/components/`, or only the guests an app manifest names.
    ///
    /// Installs the guest toolchain first when it is missing and this is a
    /// Debian machine on which we are root; otherwise says what to install.
    Build {
        /// An app manifest: build only the guests it names.
        manifest: Option<PathBuf>,
    },
    /// Build the guests an app manifest names, then compose it with
    /// `nanoproc compose`.
    ///
    /// `guest = "…"` entries of the manifest are the components this build
    /// writes to `target/components/`.
    Compose {
        /// The app manifest.
        manifest: PathBuf,
        /// Where to write the composed component.
        #[arg(short, long, default_value = "app.wasm")]
        output: PathBuf,
        /// Refuse to compose when any component differs from the manifest's
        /// lock (`nanoproc.lock` beside `nanoproc.toml`), naming each change;
        /// without it, composing writes the lock.
        #[arg(long)]
        locked: bool,
    },
    /// Build the guests an app manifest names, compose it and run it
    /// (`nanoproc run`), or call one function it exports with `--call`.
    Run(AppArgs),
    /// Build, compose and run an app like `run`, then again each time its
    /// manifest, a guest it names (its sources, `Cargo.toml`) or the WIT
    /// changes. Ctrl-C stops.
    Watch(AppArgs),
}

#[derive(Subcommand)]
enum Cmd {
    /// Make a component app in a project of its own, outside nanoproc's
    /// tree: its own workspace, `guests/`, `wit/`, `cargo xtask`, README
    /// and CI script, and a first app that runs as it is.
    ///
    /// Example: `cargo xtask init ~/greetings`, then in that folder
    /// `cargo xtask run guests/greetings/nanoproc.toml`.
    Init(init::Args),
    #[command(flatten)]
    Authoring(Authoring),
    /// Build the guests, then run the demo in a release build: compose the
    /// example site app, audit it, run it beside the same crates natively,
    /// show a compromised dependency refused and contained, print the figures.
    ///
    /// Everything it writes goes to `target/demo/`. The demo process is given
    /// fake secrets in `AWS_SECRET_ACCESS_KEY` and `GITHUB_TOKEN`, for the
    /// compromised dependency to look for.
    Demo {
        /// Arguments for the demo after `--`, such as `--rounds 5` (`-- --help` lists them).
        #[arg(last = true)]
        demo_args: Vec<String>,
    },
    /// Build the guests and the CLI, then measure what nanoproc promises in a
    /// release build, compared cases side by side: instantiation, calls and
    /// data passed between components, library workloads in wasm and
    /// natively, compiling and composing (beside `wac` when installed),
    /// memory per live instance.
    ///
    /// Writes `target/bench/results.md` and `results.json`; a full run also
    /// puts the table into the README.
    Bench {
        /// Measure only the sections whose name contains one of these:
        /// instantiation, inert, calls, passing, workloads, build, memory,
        /// sandbox.
        sections: Vec<String>,
    },
    /// Build the guests, then instantiate and run the demo app a million
    /// times on two threads in a release build, printing progress and the
    /// resident memory, which must stay flat (the test ignored by default in
    /// `tests/all/soak.rs`).
    Soak {
        /// How many times to instantiate and run the app (the first 20 000
        /// warm up, so at least 40 000).
        #[arg(long, default_value_t = 1_000_000,
              value_parser = clap::value_parser!(u64).range(40_000..=1_000_000_000))]
        rounds: u64,
    },
    /// Run a fuzz target under libFuzzer (cargo-fuzz) for a while;
    /// `cargo xtask fuzz` alone lists the targets.
    Fuzz(fuzz::Args),
    /// Build the guests, check formatting, lints and generated files, run
    /// every test, then try `cargo xtask new`, `cargo xtask init` and the
    /// README's walkthroughs as a newcomer would.
    Test {
        #[command(flatten)]
        args: TestArgs,
        /// Run only the scaffold check: in a scratch project, `cargo xtask new`
        /// makes a library, an app and a crate wrapper that must build,
        /// compose, run, pass their tests and rerun under `watch`; then a
        /// project made by `cargo xtask init` outside this tree follows its
        /// own README (the full run does this last; a run with a test filter
        /// skips it).
        #[arg(long, conflicts_with_all = ["no_lint", "test_args"])]
        scaffolds: bool,
    },
}

/// What `test` runs.
#[derive(clap::Args)]
struct TestArgs {
    /// Skip `cargo fmt --check` and `cargo clippy` (for a quick local run).
    #[arg(long)]
    no_lint: bool,
    /// Extra arguments passed to `cargo test` after `--`, such as a test name filter.
    #[arg(last = true)]
    test_args: Vec<String>,
}

/// An app to build, compose and run.
#[derive(clap::Args)]
struct AppArgs {
    /// The app manifest (`nanoproc.toml`).
    manifest: PathBuf,
    /// Call this function instead of running the app, as `name(args…)`
    /// with the arguments in WAVE, such as `--call 'greet("world")'`; the
    /// function is named as `nanoproc call` names it (`interface#function`,
    /// or its last part alone when only one export has it).
    #[arg(long, value_name = "CALL")]
    call: Option<String>,
    /// Arguments for the app after `--` (it sees its name first).
    #[arg(last = true, conflicts_with = "call")]
    args: Vec<String>,
    /// Refuse to run the app when any component differs from the
    /// manifest's lock (`nanoproc.lock` beside `nanoproc.toml`), naming
    /// each change.
    #[arg(long)]
    locked: bool,
}

impl AppArgs {
    fn action(&self) -> apps::Action {
        match &self.call {
            Some(call) => apps::Action::Call(call.clone()),
            None => apps::Action::Run(self.args.clone()),
        }
    }

    fn manifest(&self) -> Result<PathBuf> {
        absolute(&self.manifest)
    }
}

/// `path` made absolute against the directory the command runs in.
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot use {}", path.display()))
}

/// `cargo xtask` in nanoproc's own workspace.
pub fn main() -> ExitCode {
    report(run(Cli::parse()))
}

/// `cargo xtask` in the project of a component app, whose root is the
/// parent of `xtask_dir` (its xtask crate's `CARGO_MANIFEST_DIR`).
pub fn project_main(xtask_dir: &str) -> ExitCode {
    let cli = ProjectCli::parse();
    let Some(root) = Path::new(xtask_dir).parent() else {
        return report(Err(anyhow::anyhow!(
            "{xtask_dir} is no xtask crate inside a project"
        )));
    };
    report(match cli.command {
        ProjectCmd::Authoring(command) => authoring(root, command),
        ProjectCmd::Test(args) => test(root, &args),
    })
}

/// A command that failed and has said why: only its exit status is left to
/// pass on.
#[derive(Debug)]
struct Reported(i32);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the command failed (exit status {})", self.0)
    }
}

impl std::error::Error for Reported {}

/// The exit status of a command's `result`, its error printed.
fn report(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(Reported(code)) = e.downcast_ref() {
                return ExitCode::from(u8::try_from(*code).unwrap_or(1));
            }
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", nanoproc_linker::report_any(&*e, color));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = match &cli.project {
        Some(dir) => absolute(dir)?,
        None => nanoproc_root(),
    };
    match cli.command {
        // A project of its own is made from nanoproc's checkout, whatever `--project` says.
        Cmd::Init(args) => init::run(&nanoproc_root(), &args)?,
        Cmd::Authoring(command) => authoring(&root, command)?,
        Cmd::Demo { demo_args } => {
            guests::build(&root, guests::Generated::Write, &|_| true)?;
            let mut args = vec![
                "run",
                "--release",
                "--package",
                "nanoproc-tests",
                "--bin",
                "demo",
                "--",
            ];
            args.extend(demo_args.iter().map(String::as_str));
            cargo_with(&root, &args, &FAKE_SECRETS)?;
        }
        Cmd::Bench { sections } => {
            guests::build(&root, guests::Generated::Write, &|_| true)?;
            cargo(&root, &["build", "--release", "--package", "nanoproc-cli"])?;
            let mut args = vec!["bench", "--package", "nanoproc-tests", "--bench", "suite"];
            if !sections.is_empty() {
                args.push("--");
                args.extend(sections.iter().map(String::as_str));
            }
            cargo(&root, &args)?;
            if sections.is_empty() {
                readme_results(&root)?;
            }
        }
        Cmd::Soak { rounds } => {
            guests::build(&root, guests::Generated::Write, &|_| true)?;
            let rounds = rounds.to_string();
            cargo_with(
                &root,
                &[
                    "test",
                    "--release",
                    "--package",
                    "nanoproc-tests",
                    "--test",
                    "all",
                    "--",
                    "--ignored",
                    "--nocapture",
                    "soak::",
                ],
                &[("NANOPROC_SOAK_ROUNDS", rounds.as_str())],
            )?;
        }
        Cmd::Fuzz(args) => fuzz::run(&root, &args)?,
        Cmd::Test {
            scaffolds: true, ..
        } => scaffolds::check(&root)?,
        Cmd::Test { args, .. } => {
            test(&root, &args)?;
            // A filtered run is a quick one: the scaffolds take minutes.
            if args.test_args.is_empty() {
                scaffolds::check(&root)?;
            }
        }
    }
    Ok(())
}

/// Runs an authoring command on the project at `root`.
fn authoring(root: &Path, command: Authoring) -> Result<()> {
    match command {
        Authoring::New(args) => new::run(root, &args)?,
        Authoring::Build { manifest: None } => {
            guests::build(root, guests::Generated::Write, &|_| true)?;
        }
        Authoring::Build {
            manifest: Some(manifest),
        } => {
            apps::build(root, &absolute(&manifest)?)?;
        }
        Authoring::Run(app) => apps::run(root, &app.manifest()?, &app.action(), app.locked)?,
        Authoring::Watch(app) => apps::watch(root, &app.manifest()?, &app.action(), app.locked)?,
        Authoring::Compose {
            manifest,
            output,
            locked,
        } => {
            let action = apps::Action::Compose(absolute(&output)?);
            apps::run(root, &absolute(&manifest)?, &action, locked)?;
        }
    }
    Ok(())
}

/// Builds the guests of the project at `root`, checks formatting and lints
/// (unless `no_lint`), then runs its tests.
fn test(root: &Path, args: &TestArgs) -> Result<()> {
    // Under CI a generated file that differs from the committed one is an error.
    let generated = if std::env::var_os("CI").is_some() {
        guests::Generated::Check
    } else {
        guests::Generated::Write
    };
    guests::build(root, generated, &|_| true)?;
    if !args.no_lint {
        // Not `--all`, which would also take in path dependencies: in a
        // project of its own, nanoproc's crates.
        cargo(root, &["fmt", "--", "--check"]).context("formatting differs: run `cargo fmt`")?;
        cargo(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )?;
    }
    let mut cargo_args = vec!["test", "--workspace"];
    if !args.test_args.is_empty() {
        cargo_args.push("--");
        cargo_args.extend(args.test_args.iter().map(String::as_str));
    }
    cargo(root, &cargo_args)
}

/// Where the README shows the benchmark's latest results.
const BENCH_START: &str = "<!-- bench results: written by `cargo xtask bench` -->";
const BENCH_END: &str = "<!-- end of bench results -->";

/// Puts the benchmark's latest table into the README, between its markers.
fn readme_results(root: &Path) -> Result<()> {
    let results = std::fs::read_to_string(root.join("target/bench/results.md"))
        .context("the benchmark wrote no results")?;
    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path)?;
    nanoproc_linker::write_atomically(&path, with_results(&readme, &results)?.as_bytes())?;
    eprintln!("xtask: README.md shows the new results");
    Ok(())
}

/// `readme` with `results` in place of whatever stood between its markers.
fn with_results(readme: &str, results: &str) -> Result<String> {
    let (Some(start), Some(end)) = (readme.find(BENCH_START), readme.find(BENCH_END)) else {
        bail!("README.md lacks the lines `{BENCH_START}` and `{BENCH_END}`");
    };
    ensure!(
        start < end,
        "README.md has `{BENCH_END}` before `{BENCH_START}`"
    );
    Ok(format!(
        "{}{BENCH_START}\n{}\n{}",
        &readme[..start],
        results.trim_end(),
        &readme[end..]
    ))
}

/// The root of nanoproc's checkout this xtask was built from.
fn nanoproc_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Fake secrets the demo's compromised dependency looks for.
const FAKE_SECRETS: [(&str, &str); 2] = [
    ("AWS_SECRET_ACCESS_KEY", "demo-canary-aws-secret-key-5b7e01"),
    ("GITHUB_TOKEN", "demo-canary-github-token-c94d62"),
];

/// Runs the cargo that runs us, in `root`, failing when it fails.
fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    cargo_with(root, args, &[])
}

/// Runs the cargo that runs us, in `root`, with the environment variables
/// `env` set, failing when it fails.
fn cargo_with(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    eprintln!("xtask: cargo {}", args.join(" "));
    let mut command = Command::new(&cargo);
    // A CI run builds everything once: incremental state would only take disk.
    if std::env::var_os("CI").is_some() && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    let status = command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot run {}", Path::new(&cargo).display()))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    eprintln!(
        "xtask: cargo {} passed in {:.1} s",
        args[0],
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `path` relative to `root` when it is inside it.
fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_results_replace_the_old_between_the_markers_only() {
        let readme = format!("# Title\n\n{BENCH_START}\nold table\n{BENCH_END}\n\nAfter.\n");
        assert_eq!(
            with_results(&readme, "new table\n\n").unwrap(),
            format!("# Title\n\n{BENCH_START}\nnew table\n{BENCH_END}\n\nAfter.\n")
        );
    }

    #[test]
    fn a_readme_without_markers_is_an_error_and_left_alone() {
        assert_eq!(
            with_results("# Title\n", "table").unwrap_err().to_string(),
            format!("README.md lacks the lines `{BENCH_START}` and `{BENCH_END}`")
        );
    }
}
