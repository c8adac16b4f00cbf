//! `nanoproc`: compose component apps from a manifest, audit what each
//! component can reach, and run them.
//!
//! Thin glue: parsing arguments and printing; the work is in
//! `nanoproc-linker` and `nanoproc-host`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use indexmap::IndexMap;
use nanoproc_linker::{Audit, Composition, Graph, Manifest};

/// Compose component apps from a manifest, deny by default, and audit them.
#[derive(Parser)]
#[command(name = "nanoproc", version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Link the components of an app manifest into one component.
    ///
    /// Every import of every component must be wired to another component's
    /// export or granted to that component in the manifest; otherwise nothing
    /// is written and the error names the component, the import and the fix.
    Compose {
        /// The app manifest (`nanoproc.toml`).
        manifest: PathBuf,
        /// Where to write the composed component.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        components: ComponentsDir,
    },
    /// Show how each import of each component is satisfied, and who can
    /// reach each capability, directly or through other components' exports.
    Audit {
        /// The app manifest (`nanoproc.toml`).
        manifest: PathBuf,
        /// Print the audit as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        components: ComponentsDir,
    },
    /// Draw the app: components, the interfaces wired between them, and the
    /// capabilities granted to each.
    Graph {
        /// The app manifest (`nanoproc.toml`).
        manifest: PathBuf,
        /// `svg` (renders anywhere, no other program needed), `dot` (Graphviz) or `mermaid`.
        #[arg(long, value_enum, default_value = "svg")]
        format: GraphFormat,
        /// Where to write the picture; standard output when absent.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        components: ComponentsDir,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Svg,
    Dot,
    Mermaid,
}

#[derive(clap::Args)]
struct ComponentsDir {
    /// Where the components of `guest = "…"` entries are; by default the
    /// nearest `target/components` above the manifest.
    #[arg(long, value_name = "DIR")]
    components: Option<PathBuf>,
}

/// Exit status for input that cannot be composed.
const EXIT_REFUSED: u8 = 1;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Compose {
            manifest,
            output,
            components,
        } => {
            let started = Instant::now();
            let (manifest, composition) = compose(&manifest, &components)?;
            write_atomically(&output, &composition.bytes)?;
            eprintln!(
                "composed `{}`: {} component{}, {} bytes, in {:.1} ms -> {}",
                manifest.name(),
                composition.plan.components.len(),
                if composition.plan.components.len() == 1 {
                    ""
                } else {
                    "s"
                },
                composition.bytes.len(),
                started.elapsed().as_secs_f64() * 1e3,
                output.display()
            );
        }
        Cmd::Audit {
            manifest,
            json,
            components,
        } => {
            let (manifest, composition) = compose(&manifest, &components)?;
            let audit = Audit::new(&manifest, &composition.plan);
            if json {
                println!("{}", serde_json::to_string_pretty(&audit)?);
            } else {
                print!("{audit}");
            }
        }
        Cmd::Graph {
            manifest,
            format,
            output,
            components,
        } => {
            let (_, composition) = compose(&manifest, &components)?;
            let graph = Graph::new(&composition.plan);
            let text = match format {
                GraphFormat::Svg => graph.to_svg(),
                GraphFormat::Dot => graph.to_dot(),
                GraphFormat::Mermaid => graph.to_mermaid(),
            };
            match output {
                Some(path) => {
                    write_atomically(&path, text.as_bytes())?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}

/// Reads the manifest and its components and composes them; warnings go to stderr.
fn compose(path: &Path, dir: &ComponentsDir) -> Result<(Manifest, Composition)> {
    let manifest = Manifest::read(path)?;
    let guests = match &dir.components {
        // Given on the command line: relative to where the command runs.
        Some(dir) => std::path::absolute(dir)
            .with_context(|| format!("cannot use {} as the components folder", dir.display()))?,
        None => find_components_dir(manifest.base_dir()),
    };
    let mut bytes = IndexMap::new();
    for (name, component) in &manifest.components {
        let file = manifest
            .base_dir()
            .join(component.source.component_path(&guests));
        let data = std::fs::read(&file).with_context(|| {
            format!(
                "component `{name}`: cannot read {} (for a guest crate, build it first with `cargo xtask build`)",
                file.display()
            )
        })?;
        bytes.insert(name.clone(), data);
    }
    let composition = nanoproc_linker::compose(&manifest, &bytes)?;
    for warning in &composition.plan.warnings {
        eprintln!("warning: {warning}");
    }
    Ok((manifest, composition))
}

/// The nearest `target/components` at or above `start`, else `target/components`.
fn find_components_dir(start: &Path) -> PathBuf {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .map(|dir| dir.join("target/components"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| PathBuf::from("target/components"))
}

/// Writes through a temporary file beside `path`, so that a failure leaves
/// no partial output.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map_or("out".into(), |n| n.to_string_lossy())
    ));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| {
        format!(
            "cannot write {}{}",
            path.display(),
            dir.map_or(String::new(), |d| format!(" (in {})", d.display()))
        )
    })
}
