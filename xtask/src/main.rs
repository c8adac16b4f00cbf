//! `cargo xtask`: the project's build, test and demo commands.
//!
//! This is the only place in the project that knows about toolchains: it
//! finds (or installs) a Rust toolchain that can build wasm guests, turns
//! every guest crate under `guests/` into a component, and drives the tests.

mod guests;
mod toolchain;
mod wit;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};

/// Build, test and demonstrate nanoproc.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build every guest under `guests/` into a component in `target/components/`.
    ///
    /// Installs the guest toolchain first when it is missing and this is a
    /// Debian machine on which we are root; otherwise says what to install.
    Build,
    /// Build the guests and show each component's imports, exports and WIT.
    Demo,
    /// Build the guests, then compose an app manifest with `nanoproc compose`.
    ///
    /// `guest = "…"` entries of the manifest are the components this build
    /// writes to `target/components/`.
    Compose {
        /// The app manifest.
        manifest: PathBuf,
        /// Where to write the composed component.
        #[arg(short, long, default_value = "app.wasm")]
        output: PathBuf,
    },
    /// Build the guests, then measure the host in a release build: the demo
    /// app's instantiation beside an empty component's, a call between
    /// components beside one inside a component, compiling beside a cache hit.
    Bench,
    /// Build the guests, check formatting, lints and generated files, and run every test.
    Test {
        /// Skip `cargo fmt --check` and `cargo clippy` (for a quick local run).
        #[arg(long)]
        no_lint: bool,
        /// Extra arguments passed to `cargo test` after `--`, such as a test name filter.
        #[arg(last = true)]
        test_args: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = project_root();
    match cli.command {
        Cmd::Build => {
            guests::build(&root, guests::Generated::Write)?;
        }
        Cmd::Demo => {
            let built = guests::build(&root, guests::Generated::Write)?;
            demo(&root, &built)?;
        }
        Cmd::Compose { manifest, output } => {
            let absolute = |p: &Path| {
                std::path::absolute(p).with_context(|| format!("cannot use {}", p.display()))
            };
            let (manifest, output) = (absolute(&manifest)?, absolute(&output)?);
            guests::build(&root, guests::Generated::Write)?;
            let components = root.join("target/components");
            cargo(
                &root,
                &[
                    "run",
                    "--quiet",
                    "--package",
                    "nanoproc-cli",
                    "--",
                    "compose",
                    &manifest.to_string_lossy(),
                    "--output",
                    &output.to_string_lossy(),
                    "--components",
                    &components.to_string_lossy(),
                ],
            )?;
        }
        Cmd::Bench => {
            guests::build(&root, guests::Generated::Write)?;
            cargo(
                &root,
                &["bench", "--package", "nanoproc-tests", "--bench", "host"],
            )?;
        }
        Cmd::Test { no_lint, test_args } => {
            // Under CI a generated file that differs from the committed one is an error.
            let generated = if std::env::var_os("CI").is_some() {
                guests::Generated::Check
            } else {
                guests::Generated::Write
            };
            guests::build(&root, generated)?;
            if !no_lint {
                cargo(&root, &["fmt", "--all", "--", "--check"])
                    .context("formatting differs: run `cargo fmt --all`")?;
                cargo(
                    &root,
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
            let mut args = vec!["test", "--workspace"];
            if !test_args.is_empty() {
                args.push("--");
                args.extend(test_args.iter().map(String::as_str));
            }
            cargo(&root, &args)?;
        }
    }
    Ok(())
}

/// Prints what each built component imports and exports.
fn demo(root: &Path, built: &[guests::Built]) -> Result<()> {
    for guest in built {
        let bytes = std::fs::read(&guest.component)
            .with_context(|| format!("cannot read {}", guest.component.display()))?;
        let interface = nanoproc_linker::ComponentInterface::read(&bytes)
            .with_context(|| format!("cannot read component `{}`", guest.name))?;
        let names = |items: &[nanoproc_linker::Item]| {
            if items.is_empty() {
                "nothing".to_string()
            } else {
                items
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        println!(
            "\n== {} ({}, {})",
            guest.name,
            relative(root, &guest.component).display(),
            human_size(bytes.len())
        );
        println!("imports: {}", names(&interface.imports));
        println!("exports: {}", names(&interface.exports));
        println!();
        for line in interface.wit.lines() {
            println!("    {line}");
        }
    }
    Ok(())
}

/// The workspace root, from where this crate lives in it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Runs the cargo that runs us, in `root`, failing when it fails.
fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
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

/// A byte count for people: `812 B`, `23.4 KiB`, `1.2 MiB`.
fn human_size(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}
