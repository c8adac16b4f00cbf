//! The part `md2html` and `md2html-direct` share: their arguments, reading
//! the Markdown files and writing the HTML, errors and exit status. Each
//! command brings its [`Render`]: the `markdown` component in a
//! nanoprocess, or pulldown-cmark linked in. The commands' usage is in
//! `src/main.rs` and in `md2html --help`.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow};

/// The command that builds the `markdown` components into
/// `target/components/`.
pub const BUILD_COMMAND: &str = "cargo xtask build";

/// What `--help` says after the options, for both commands.
pub const AFTER_HELP: &str = "\
Each FILE is written as NAME.html beside it, or in DIR with -o; `-` reads standard input and \
writes standard output. The HTML is a fragment, as pulldown-cmark writes it (no <html> or <head>).

Exit status: 0 when every FILE was rendered; 1 when one could not be read, rendered or written \
(the others still are) or the renderer could not be loaded; 2 for a usage error.";

/// Extensions beyond CommonMark: the options of the `markdown` component,
/// all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// GitHub-style tables.
    pub tables: bool,
    /// Footnotes (`[^1]`).
    pub footnotes: bool,
    /// `~~strikethrough~~`.
    pub strikethrough: bool,
    /// `- [x]` task lists.
    pub tasklists: bool,
    /// Curly quotes, dashes and ellipses.
    pub smart_punctuation: bool,
    /// `# Heading {#id .class}` attributes.
    pub heading_attributes: bool,
}

/// A Markdown renderer: the component, or pulldown-cmark itself.
pub trait Render {
    /// `markdown` as HTML.
    ///
    /// # Errors
    ///
    /// When the renderer failed (the component faulted).
    fn render(&self, markdown: &str, extensions: Extensions) -> Result<String>;
}

/// The arguments both commands take.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Markdown files to render; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write each FILE's HTML to DIR/NAME.html instead of beside FILE.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Write the HTML of every FILE to standard output, one after the other.
    #[arg(long, conflicts_with = "output_dir")]
    pub stdout: bool,
}

/// The extension flags, both commands' last arguments.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Extensions (all off by default: plain CommonMark)")]
pub struct ExtensionArgs {
    /// GitHub-style tables.
    #[arg(long)]
    pub tables: bool,
    /// Footnotes (`[^1]`).
    #[arg(long)]
    pub footnotes: bool,
    /// `~~strikethrough~~`.
    #[arg(long)]
    pub strikethrough: bool,
    /// `- [x]` task lists.
    #[arg(long)]
    pub tasklists: bool,
    /// Curly quotes, dashes and ellipses.
    #[arg(long)]
    pub smart_punctuation: bool,
    /// `# Heading {#id .class}` attributes.
    #[arg(long)]
    pub heading_attributes: bool,
    /// All of the above.
    #[arg(long)]
    pub all_extensions: bool,
}

impl ExtensionArgs {
    /// The extensions asked for.
    pub fn extensions(&self) -> Extensions {
        let all = self.all_extensions;
        Extensions {
            tables: all || self.tables,
            footnotes: all || self.footnotes,
            strikethrough: all || self.strikethrough,
            tasklists: all || self.tasklists,
            smart_punctuation: all || self.smart_punctuation,
            heading_attributes: all || self.heading_attributes,
        }
    }
}

/// Exit status when a FILE or the renderer failed.
const EXIT_FAILED: u8 = 1;

/// Exit status for arguments that cannot be meant (clap's status for the
/// errors it finds).
const EXIT_USAGE: u8 = 2;

/// Runs a command: checks where each FILE of `args` goes, loads the
/// renderer with `load`, then renders every FILE with `extensions`,
/// reporting each failure on stderr and going on with the next.
pub fn main<R: Render>(
    args: &Args,
    extensions: Extensions,
    load: impl FnOnce() -> Result<R>,
) -> ExitCode {
    let jobs = match plan(args) {
        Ok(jobs) => jobs,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let renderer = match load() {
        Ok(renderer) => renderer,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if let Some(dir) = &args.output_dir
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!(
            "error: cannot make the folder `{}`: {}",
            dir.display(),
            reason(&e)
        );
        return ExitCode::from(EXIT_FAILED);
    }
    let mut failed = false;
    for job in &jobs {
        match job.run(&renderer, extensions) {
            Ok(()) => {}
            // A reader of standard output that went away (`| head`)
            // wants no more.
            Err(e) if is_broken_pipe(&e) => break,
            Err(e) => {
                eprintln!("error: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Where one FILE is read from and its HTML written to.
struct Job {
    input: Source,
    output: Sink,
}

enum Source {
    Stdin,
    File(PathBuf),
}

enum Sink {
    Stdout,
    File(PathBuf),
}

impl Source {
    /// How errors name it.
    fn name(&self) -> String {
        match self {
            Self::Stdin => "standard input".into(),
            Self::File(path) => format!("`{}`", path.display()),
        }
    }
}

/// Where every FILE of `args` goes.
///
/// # Errors
///
/// When a FILE has no file name to make an output name of, or two FILEs
/// would be written to the same file.
fn plan(args: &Args) -> Result<Vec<Job>> {
    let mut jobs: Vec<Job> = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let input = if file.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::File(file.clone())
        };
        let output = match &input {
            Source::File(path) if !args.stdout => Sink::File(output_path(path, args)?),
            _ => Sink::Stdout,
        };
        if let Sink::File(out) = &output {
            let earlier = jobs.iter().find_map(|job| match (&job.input, &job.output) {
                (Source::File(earlier), Sink::File(o)) if o == out => Some(earlier),
                _ => None,
            });
            if let Some(earlier) = earlier {
                return Err(anyhow!(
                    "`{}` and `{}` would both be written to `{}`",
                    earlier.display(),
                    file.display(),
                    out.display()
                ));
            }
        }
        jobs.push(Job { input, output });
    }
    Ok(jobs)
}

/// NAME.html beside `path`, or in the output folder.
fn output_path(path: &Path, args: &Args) -> Result<PathBuf> {
    let Some(stem) = path.file_stem() else {
        return Err(anyhow!("`{}` names no file to render", path.display()));
    };
    let mut name = stem.to_os_string();
    name.push(".html");
    let out = match &args.output_dir {
        Some(dir) => dir.join(name),
        None => path.with_file_name(name),
    };
    if out == path || same_file(path, &out) {
        return Err(anyhow!(
            "`{}` would be written over itself: give -o DIR or --stdout",
            path.display()
        ));
    }
    Ok(out)
}

impl Job {
    fn run(&self, renderer: &impl Render, extensions: Extensions) -> Result<()> {
        let name = self.input.name();
        let bytes = match &self.input {
            Source::Stdin => {
                let mut bytes = Vec::new();
                io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(|e| anyhow!("cannot read standard input: {}", reason(&e)))?;
                bytes
            }
            Source::File(path) => {
                std::fs::read(path).map_err(|e| anyhow!("cannot read {name}: {}", reason(&e)))?
            }
        };
        let markdown = String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "cannot render {name}: it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        let html = renderer
            .render(&markdown, extensions)
            .map_err(|e| anyhow!("cannot render {name}: {e:#}"))?;
        match &self.output {
            Sink::Stdout => {
                let mut stdout = io::stdout().lock();
                stdout
                    .write_all(html.as_bytes())
                    .and_then(|()| stdout.flush())
                    .map_err(|e| {
                        anyhow::Error::new(Written(e)).context("cannot write standard output")
                    })
            }
            Sink::File(out) => std::fs::write(out, html)
                .map_err(|e| anyhow!("cannot write `{}`: {}", out.display(), reason(&e))),
        }
    }
}

/// An error writing standard output, kept whole so that a closed pipe can
/// be told apart.
#[derive(Debug)]
struct Written(io::Error);

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&reason(&self.0))
    }
}

impl std::error::Error for Written {}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<Written>()
        .is_some_and(|Written(e)| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Whether `a` and `b` are one file (both existing).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Why a file could not be read or written, in words that are the same
/// on every system for the common cases.
pub fn reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a folder".into(),
        _ => error.to_string(),
    }
}
