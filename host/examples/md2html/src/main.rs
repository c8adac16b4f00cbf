//! `md2html`: Markdown files to HTML, with the Markdown parser in a
//! nanoprocess.
//!
//! It renders through the `markdown` component (pulldown-cmark built to
//! WebAssembly, `guests/markdown`), called through the `markdown-sandbox`
//! crate: the parser runs in an instance of its own, with its own memory
//! and no capability at all. A compromised release of it can read no file
//! and no environment variable and open no connection; what it tries is
//! refused and reported on stderr, and the HTML comes out as the genuine
//! release writes it. `md2html-direct` is the same command with
//! pulldown-cmark linked into the program, for comparison: the two write
//! the same bytes.
//!
//! ```text
//! md2html [OPTIONS] FILE... [-o DIR | --stdout]
//!
//! md2html README.md                     # writes README.html beside it
//! md2html --all-extensions docs/*.md -o site
//! md2html --tables - < notes.md         # standard input to standard output
//! md2html --component target/components/markdown-compromised.wasm README.md
//! ```
//!
//! Each FILE is written as NAME.html beside it, or in the folder `-o`
//! names (made when missing); `--stdout` writes every document to
//! standard output instead, one after the other, and `-` reads standard
//! input and writes standard output. The HTML is a fragment, as
//! pulldown-cmark writes it: no `<html>` or `<head>`. The extensions
//! beyond CommonMark (`--tables`, `--footnotes`, `--strikethrough`,
//! `--tasklists`, `--smart-punctuation`, `--heading-attributes`, or
//! `--all-extensions`) are off unless asked for.
//!
//! By default it runs the component `cargo xtask build` writes to
//! `target/components/markdown.wasm` of the workspace it was built in;
//! `--component PATH` runs another build of it. The component is compiled
//! on first use and loaded from nanoproc's per-user cache afterwards.
//!
//! Exit status: 0 when every FILE was rendered; 1 when one could not be
//! read, rendered or written (the others still are), or the component
//! could not be loaded; 2 for a usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow};
use clap::Parser;
use markdown_sandbox::{Markdown, Options};
use md2html::{Extensions, Render};

/// Render Markdown files to HTML with pulldown-cmark in a nanoprocess: the
/// `markdown` component runs in its own WebAssembly instance, granted no
/// file, no environment variable and no network; whatever it reaches for
/// is refused and reported on stderr.
#[derive(Parser)]
#[command(
    name = "md2html",
    version,
    after_help = format!("{EXAMPLES}\n\n{}", md2html::AFTER_HELP)
)]
struct Cli {
    #[command(flatten)]
    args: md2html::Args,
    /// The `markdown` component to run [default: target/components/markdown.wasm of the
    /// workspace md2html was built in].
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
    #[command(flatten)]
    extensions: md2html::ExtensionArgs,
}

const EXAMPLES: &str = "\
Examples:
  md2html README.md                      writes README.html beside it
  md2html --all-extensions docs/*.md -o site
  md2html --tables - < notes.md          standard input to standard output
  md2html --component target/components/markdown-compromised.wasm README.md";

fn main() -> ExitCode {
    let cli = Cli::parse();
    md2html::main(&cli.args, cli.extensions.extensions(), || {
        load(cli.component.as_deref())
    })
}

/// The component at `path`, or the one `cargo xtask build` writes.
fn load(path: Option<&Path>) -> Result<Sandboxed> {
    let path = path.unwrap_or(Path::new(Markdown::COMPONENT));
    let bytes = std::fs::read(path).map_err(|e| {
        let build = match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                " (`{}` builds the markdown components into target/components/)",
                md2html::BUILD_COMMAND
            ),
            _ => String::new(),
        };
        anyhow!(
            "cannot read the component `{}`: {}{build}",
            path.display(),
            md2html::reason(&e)
        )
    })?;
    let markdown = Markdown::from_bytes(&bytes)
        .with_context(|| format!("cannot load the component `{}`", path.display()))?;
    Ok(Sandboxed(markdown))
}

/// The `markdown` component as the renderer.
struct Sandboxed(Markdown);

impl Render for Sandboxed {
    fn render(&self, markdown: &str, extensions: Extensions) -> Result<String> {
        let Extensions {
            tables,
            footnotes,
            strikethrough,
            tasklists,
            smart_punctuation,
            heading_attributes,
        } = extensions;
        let options = Options {
            tables,
            footnotes,
            strikethrough,
            tasklists,
            smart_punctuation,
            heading_attributes,
        };
        Ok(self.0.to_html(markdown, options)?)
    }
}
