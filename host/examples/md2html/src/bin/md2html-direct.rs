//! `md2html-direct`: `md2html` with pulldown-cmark linked into the
//! program, for comparison: the same arguments, the same output bytes, and
//! the parser in the program's own memory with all of its authority.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use md2html::{Extensions, Render};
use pulldown_cmark::{Options, Parser as Markdown};

/// Render Markdown files to HTML with pulldown-cmark linked into this
/// program: `md2html` without the nanoprocess, for comparison.
#[derive(Parser)]
#[command(
    name = "md2html-direct",
    version,
    after_help = format!("{EXAMPLES}\n\n{}", md2html::AFTER_HELP)
)]
struct Cli {
    #[command(flatten)]
    args: md2html::Args,
    #[command(flatten)]
    extensions: md2html::ExtensionArgs,
}

const EXAMPLES: &str = "\
Examples:
  md2html-direct README.md               writes README.html beside it
  md2html-direct --all-extensions docs/*.md -o site
  md2html-direct --tables - < notes.md   standard input to standard output";

fn main() -> ExitCode {
    let cli = Cli::parse();
    md2html::main(&cli.args, cli.extensions.extensions(), || Ok(Direct))
}

/// pulldown-cmark as the renderer, called as the `markdown` component calls
/// it (`guests/markdown/src/render.rs`).
struct Direct;

impl Render for Direct {
    fn render(&self, markdown: &str, extensions: Extensions) -> Result<String> {
        let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
        pulldown_cmark::html::push_html(
            &mut html,
            Markdown::new_ext(markdown, options(extensions)),
        );
        Ok(html)
    }
}

/// The parser's options for `extensions`, by the component's own mapping
/// of its `options` record (the very file it is built from).
fn options(extensions: Extensions) -> Options {
    component::extensions([
        extensions.tables,
        extensions.footnotes,
        extensions.strikethrough,
        extensions.tasklists,
        extensions.smart_punctuation,
        extensions.heading_attributes,
    ])
}

#[path = "../../../../../guests/markdown/src/extensions.rs"]
mod component;
