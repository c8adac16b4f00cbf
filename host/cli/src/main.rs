//! `nanoproc`: compose component apps from a manifest, audit what each
//! component can reach, and run or call them.
//!
//! Thin glue: parsing arguments and printing; the work is in
//! `nanoproc-linker` and `nanoproc-host`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use nanoproc_host::cache::Outcome;
use nanoproc_host::{App, Options, Runtime};
use nanoproc_linker::{Audit, Composition, Graph, Limits, Lock, Manifest, write_atomically};

mod diff;
mod serve;

/// Compose component apps from a manifest, deny by default, audit them, and
/// run them with only the capabilities they were granted.
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
        /// Refuse to compose when any component differs from the manifest's
        /// lock (`nanoproc.lock` beside `nanoproc.toml`) in its bytes,
        /// imports, exports or grants, and leave the lock as it is.
        #[arg(long)]
        locked: bool,
        #[command(flatten)]
        components: ComponentsDir,
    },
    /// Write the manifest's lock (`nanoproc.lock` beside `nanoproc.toml`):
    /// each component's SHA-256, where it came from, what it imports and
    /// exports (a digest of each function's type) and what it is granted.
    ///
    /// Commit the lock; `--locked` on `compose`, `run`, `call` and `serve`
    /// then refuses an app that differs from it, naming each change.
    /// `compose` writes it too.
    Lock {
        /// The app manifest (`nanoproc.toml`).
        manifest: PathBuf,
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
    /// Run an app that exports `wasi:cli/run`, with the grants and limits it
    /// carries; the exit status is the app's.
    ///
    /// Directories granted with relative paths are found relative to the
    /// manifest's directory when APP is a manifest, else relative to the
    /// current directory.
    Run {
        #[command(flatten)]
        app: AppArgs,
        /// Arguments for the app (after `--`); it sees the app's name first.
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// Call one function an app exports, arguments and results written in
    /// WAVE, e.g. `nanoproc call app.wasm 'render("# hi")'`.
    ///
    /// The function is named as the component model and nanoproc's errors
    /// write it: `interface#function` (the version may be left out), a
    /// function the app exports at the top, or its last part alone when
    /// only one export has a function of that name; a full name always
    /// means the function it names. Functions of resources are named
    /// `interface#[static]resource.function`; a method needs a resource an
    /// earlier call made, so it cannot be called alone.
    Call {
        #[command(flatten)]
        app: AppArgs,
        /// The call, as `function(arg, ...)` with the arguments in WAVE, such
        /// as `'docs:adder/add@0.1.0#add(1, 2)'`.
        call: String,
    },
    /// Serve an app that exports `wasi:http/incoming-handler` (WASI 0.2)
    /// or `wasi:http/handler` (WASI 0.3) over HTTP: a fresh instance per
    /// request, with the grants and limits it carries.
    ///
    /// Prints `listening on http://ADDRESS` once it accepts connections,
    /// and one line per request on stderr. SIGINT or SIGTERM stops it once
    /// the requests in flight are answered.
    Serve(serve::ServeArgs),
    /// Compare two versions of an app or a component: what NEW imports,
    /// exports and is granted that OLD did not, and the reverse, component
    /// by component.
    ///
    /// Each is a component or a composed app (`.wasm`), an app manifest
    /// (`.toml`, composed in memory) or a lock (`.lock`). Exit status: 0
    /// when NEW holds no authority OLD did not (no new component, import or
    /// grant), 1 when it holds more, 2 when either cannot be read.
    Diff(diff::DiffArgs),
}

/// Which app to run, and how.
#[derive(clap::Args)]
struct AppArgs {
    /// A composed app (`.wasm`), or an app manifest (`.toml`) to compose first.
    app: PathBuf,
    /// The longest one call may run, in milliseconds (replaces the app's own limit).
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// The most memory the app may hold, in bytes (replaces the app's own limit).
    #[arg(long, value_name = "BYTES")]
    memory: Option<u64>,
    /// Compile the app again instead of using the compiled-artifact cache.
    #[arg(long)]
    no_cache: bool,
    /// Say how the app was loaded and how long each step took, on stderr.
    #[arg(short, long)]
    verbose: bool,
    /// Refuse to run a manifest's app when any component differs from its
    /// lock (`nanoproc.lock` beside `nanoproc.toml`).
    #[arg(long)]
    locked: bool,
    #[command(flatten)]
    components: ComponentsDir,
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

/// Exit status for input that cannot be composed, or a call that faulted.
const EXIT_REFUSED: u8 = 1;

/// Exit status for a command that cannot be meant (clap's status for the
/// errors it finds).
const EXIT_USAGE: u8 = 2;

/// An error in how the command was given rather than in its input.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(status) => status,
        Err(e) => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", nanoproc_linker::report_any(&*e, color));
            if e.downcast_ref::<Usage>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_REFUSED)
            }
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Run { app, args } => {
            let (app, name) = load(&app, args)?;
            let status = app.instantiate()?.run()?;
            if status != 0 {
                eprintln!("`{name}` exited with status {status}");
            }
            return Ok(ExitCode::from(u8::try_from(status).unwrap_or(u8::MAX)));
        }
        Cmd::Call { app, call } => {
            let (app, _) = load(&app, Vec::new())?;
            let result = app.instantiate()?.call_wave(&call)?;
            if !result.is_empty() {
                println!("{result}");
            }
        }
        Cmd::Serve(args) => return serve::serve(&args),
        Cmd::Diff(args) => return Ok(diff::diff(&args)),
        Cmd::Compose {
            manifest,
            output,
            locked,
            components,
        } => {
            let started = Instant::now();
            let lock = if locked {
                Locking::Verify
            } else {
                Locking::Write
            };
            let path = manifest;
            let (manifest, composition) = compose_into(&path, &components, &output, lock)?;
            write_atomically(&output, &composition.bytes)?;
            if !locked {
                write_lock(&path, &composition)?;
            }
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
        Cmd::Lock {
            manifest,
            components,
        } => {
            let (_, composition) =
                compose_into(&manifest, &components, Path::new(""), Locking::Write)?;
            write_lock(&manifest, &composition)?;
        }
        Cmd::Audit {
            manifest,
            json,
            components,
        } => {
            let (_, composition) = compose(&manifest, &components)?;
            let audit = Audit::new(&composition.plan);
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
            let writes = output.as_deref().unwrap_or(Path::new(""));
            let (_, composition) = compose_into(&manifest, &components, writes, Locking::Ignore)?;
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
    Ok(ExitCode::SUCCESS)
}

/// Loads the app `args` names (composing it first when it is a manifest),
/// with `program_args` after its name as its arguments; also its name.
fn load(args: &AppArgs, program_args: Vec<String>) -> Result<(App, String)> {
    let started = Instant::now();
    let is_manifest = args.app.extension().is_some_and(|e| e == "toml");
    // What the app is called in errors: its name, and its file when one was given.
    if args.locked && !is_manifest {
        return Err(Usage(format!(
            "`--locked` checks an app against the lock beside its manifest: give the manifest \
             {} was composed from instead of the app",
            args.app.display()
        ))
        .into());
    }
    let (bytes, name, base_dir, called) = if is_manifest {
        let lock = if args.locked {
            Locking::Verify
        } else {
            Locking::Ignore
        };
        let (manifest, composition) =
            compose_into(&args.app, &args.components, Path::new(""), lock)?;
        if args.verbose {
            eprintln!(
                "composed in {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        let base = manifest.base_dir().to_path_buf();
        let name = manifest.name().to_string();
        let called = format!("`{name}`");
        (composition.bytes, name, base, called)
    } else {
        let bytes = std::fs::read(&args.app)
            .with_context(|| format!("cannot read the app {}", args.app.display()))?;
        let name = args
            .app
            .file_stem()
            .map_or("app".into(), |s| s.to_string_lossy().into_owned());
        let called = format!("`{name}` ({})", args.app.display());
        (bytes, name, PathBuf::from("."), called)
    };
    let runtime = Runtime::new()?;
    let runtime = if args.no_cache {
        runtime.with_cache(None)
    } else {
        runtime
    };
    // Compiling a large app takes seconds: say so first, where someone watches.
    if (args.verbose || std::io::stderr().is_terminal()) && !runtime.is_cached(&bytes) {
        eprintln!(
            "compiling {called} ({} KiB) with Cranelift; later runs load it from the cache",
            bytes.len().div_ceil(1024)
        );
    }
    let loading = Instant::now();
    let mut argv = vec![name.clone()];
    argv.extend(program_args);
    let options = Options {
        base_dir,
        args: argv,
        limits: Limits {
            memory: args.memory,
            timeout_ms: args.timeout,
            ..Limits::default()
        },
        ..Options::default()
    };
    let app = runtime
        .load(&bytes, options)
        .with_context(|| format!("cannot load {called}"))?;
    if args.verbose {
        let how = match app.outcome() {
            Outcome::Hit => "loaded from the cache".to_string(),
            Outcome::Compiled => "compiled".to_string(),
            Outcome::Rebuilt(why) => format!("compiled again ({why})"),
        };
        eprintln!("{how} in {:.1} ms", loading.elapsed().as_secs_f64() * 1e3);
    }
    Ok((app, name))
}

/// Reads the manifest and its components and composes them; warnings go to stderr.
fn compose(path: &Path, dir: &ComponentsDir) -> Result<(Manifest, Composition)> {
    compose_into(path, dir, Path::new(""), Locking::Ignore)
}

/// What composing does with the manifest's lock.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Locking {
    /// Nothing.
    Ignore,
    /// Fill it in for writing ([`write_lock`]) once the app is written.
    Write,
    /// Refuse an app that differs from it.
    Verify,
}

/// [`compose`], for writing the result to `output`, which may not be one of
/// the files read (writing would replace an input with the app), doing
/// with the manifest's lock what `lock` says.
fn compose_into(
    path: &Path,
    dir: &ComponentsDir,
    output: &Path,
    lock: Locking,
) -> Result<(Manifest, Composition)> {
    refuse_overwriting(output, path, "the manifest")?;
    let manifest = Manifest::read(path)?;
    let guests = match &dir.components {
        // Given on the command line: relative to where the command runs.
        Some(dir) => std::path::absolute(dir)
            .with_context(|| format!("cannot use {} as the components folder", dir.display()))?,
        None => nanoproc_linker::find_components_dir(manifest.base_dir()),
    };
    for (name, component) in manifest.components() {
        let file = manifest
            .base_dir()
            .join(component.source().component_path(&guests));
        refuse_overwriting(output, &file, &format!("component `{name}`"))?;
    }
    let bytes = manifest.read_components(&guests)?;
    let mut composition = nanoproc_linker::compose(&manifest, &bytes)?;
    for warning in &composition.plan.warnings {
        eprintln!("warning: {warning}");
    }
    if lock != Locking::Ignore {
        if let Some(cargo_lock) = find_upwards(manifest.base_dir(), "Cargo.lock") {
            let text = std::fs::read_to_string(&cargo_lock)
                .with_context(|| format!("cannot read {}", cargo_lock.display()))?;
            composition.lock.record_crates(&text);
        }
        if lock == Locking::Verify {
            let lock_path = path.with_extension("lock");
            reviewed(&lock_path)?.verify(&composition.lock, &lock_path)?;
        }
    }
    Ok((manifest, composition))
}

/// Writes the lock of `composition` beside the manifest at `path`, when
/// it differs from the one there.
fn write_lock(path: &Path, composition: &Composition) -> Result<()> {
    let lock_path = path.with_extension("lock");
    let text = composition.lock.to_toml();
    if std::fs::read_to_string(&lock_path).ok().as_deref() != Some(text.as_str()) {
        write_atomically(&lock_path, text.as_bytes())?;
        eprintln!("wrote {}: review it, and commit it", lock_path.display());
    }
    Ok(())
}

/// The lock at `path`, which `--locked` checks an app against.
fn reviewed(path: &Path) -> Result<Lock> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(anyhow::anyhow!(
                "`--locked` found no lock at {}: write it with `nanoproc lock {}`, review it and \
                 commit it",
                path.display(),
                path.with_extension("toml").display()
            ));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Lock::parse(&text).with_context(|| format!("cannot use the lock {}", path.display()))
}

/// The file `name` in `dir` or the nearest folder above it that has one.
fn find_upwards(dir: &Path, name: &str) -> Option<PathBuf> {
    let dir = std::path::absolute(dir).ok()?;
    dir.ancestors()
        .map(|d| d.join(name))
        .find(|candidate| candidate.is_file())
}

/// A usage error when `output` is the file `input` (`what` is read from it).
fn refuse_overwriting(output: &Path, input: &Path, what: &str) -> Result<()> {
    let same = match (std::fs::canonicalize(output), std::fs::canonicalize(input)) {
        (Ok(output), Ok(input)) => output == input,
        _ => false,
    };
    if same {
        return Err(Usage(format!(
            "the output {} is {what}, which composing reads: write the app to another file",
            output.display()
        ))
        .into());
    }
    Ok(())
}
