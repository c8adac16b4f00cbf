//! The site command: `site [IN [OUT]]` reads every `*.md` document directly
//! in the directory `IN`, has the pages component build them, and writes
//! `OUT/NAME.html` and `OUT/NAME.html.gz` for each, printing one line
//! `SHA256  NAME.html  TITLE` per page and a count at the end.
//!
//! It reaches its arguments, stdout and the directories it was given through
//! exactly the WASI its world imports; anything that goes wrong is printed as
//! `site: MESSAGE` and ends the run with a failure.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::cli::run::Guest;
use bindings::nanoproc::pages::site::{self as pages, Document, Page};
use bindings::wasi::cli::environment::get_arguments;
use bindings::wasi::cli::stdout::get_stdout;
use bindings::wasi::filesystem::preopens::get_directories;
use bindings::wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// The directories read from and written to when the arguments name none.
const DEFAULT_IN: &str = "/in";
const DEFAULT_OUT: &str = "/out";

/// WASI streams accept at most this many bytes per blocking write.
const MAX_WRITE: usize = 4096;

/// How many bytes one `read` of a file asks for.
const READ_CHUNK: u64 = 64 * 1024;

struct Site;

impl Guest for Site {
    fn run() -> Result<(), ()> {
        site(&get_arguments()).map_err(|message| {
            // With stdout gone there is nowhere left to say why.
            let _ = print(&format!("site: {message}\n"));
        })
    }
}

/// Builds the site the arguments `args` (the program's name first) describe.
fn site(args: &[String]) -> Result<(), String> {
    let (input, output) = match args {
        [] | [_] => (DEFAULT_IN, DEFAULT_OUT),
        [_, input] => (input.as_str(), DEFAULT_OUT),
        [_, input, output] => (input.as_str(), output.as_str()),
        _ => return Err("usage: site [IN [OUT]]".into()),
    };
    let source = directory(input)?;
    let target = directory(output)?;

    let names = markdown_files(&source).map_err(|e| format!("cannot list `{input}`: {e}"))?;
    let mut documents = Vec::with_capacity(names.len());
    for name in &names {
        let path = join(input, name);
        let bytes = read_file(&source, name).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        let text =
            String::from_utf8(bytes).map_err(|e| format!("`{path}` is not UTF-8 text: {e}"))?;
        let stem = name.strip_suffix(".md").unwrap_or(name);
        documents.push(Document {
            name: stem.to_string(),
            text,
        });
    }

    let pages = pages::build(&documents).map_err(|e| {
        let document = names
            .iter()
            .find(|name| name.strip_suffix(".md") == Some(e.document.as_str()))
            .map_or_else(|| e.document.clone(), |name| join(input, name));
        format!("{document}: {}", e.message)
    })?;

    for page in &pages {
        write_page(&target, output, page)?;
        print(&format!(
            "{}  {}  {}\n",
            page.sha256,
            page.name,
            one_line(&page.title)
        ))?;
    }
    print(&format!("{} pages\n", pages.len()))
}

/// Writes `page` as `NAME` and its gzip as `NAME.gz` into `dir`, which the
/// arguments call `output`.
fn write_page(dir: &Descriptor, output: &str, page: &Page) -> Result<(), String> {
    if page.name.is_empty() || page.name.contains(['/', '\\']) || page.name.starts_with('.') {
        return Err(format!(
            "the pages component named a page `{}`, which is no plain file name",
            page.name
        ));
    }
    let gz = format!("{}.gz", page.name);
    for (name, bytes) in [(&page.name, page.html.as_bytes()), (&gz, &page.gzip[..])] {
        write_file(dir, name, bytes)
            .map_err(|e| format!("cannot write `{}`: {e}", join(output, name)))?;
    }
    Ok(())
}

/// The preopened directory the guest path `path` names.
fn directory(path: &str) -> Result<Descriptor, String> {
    let wanted = path.trim_end_matches('/');
    get_directories()
        .into_iter()
        .find(|(_, given)| given.trim_end_matches('/') == wanted)
        .map(|(descriptor, _)| descriptor)
        .ok_or_else(|| format!("no directory `{path}` was given"))
}

/// The names of the regular files ending in `.md` directly in `dir`, sorted.
fn markdown_files(dir: &Descriptor) -> Result<Vec<String>, Error> {
    let entries = dir.read_directory()?;
    let mut names = Vec::new();
    while let Some(entry) = entries.read_directory_entry()? {
        if entry.type_ == DescriptorType::RegularFile
            && entry.name.len() > ".md".len()
            && entry.name.ends_with(".md")
        {
            names.push(entry.name);
        }
    }
    names.sort();
    Ok(names)
}

/// The whole contents of the file `name` in `dir`.
fn read_file(dir: &Descriptor, name: &str) -> Result<Vec<u8>, Error> {
    let file = dir.open_at(
        PathFlags::empty(),
        name,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    )?;
    let mut contents = Vec::new();
    loop {
        let (chunk, end) = file.read(READ_CHUNK, contents.len() as u64)?;
        contents.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            return Ok(contents);
        }
    }
}

/// Creates (or truncates) the file `name` in `dir` and writes `bytes` to it.
/// A write at an offset may take fewer bytes than given; the rest follows.
fn write_file(dir: &Descriptor, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let file = dir.open_at(
        PathFlags::empty(),
        name,
        OpenFlags::CREATE | OpenFlags::TRUNCATE,
        DescriptorFlags::WRITE,
    )?;
    let mut written = 0;
    while written < bytes.len() {
        let count = file.write(&bytes[written..], written as u64)?;
        if count == 0 {
            return Err(Error::Stalled);
        }
        // Never more than was given, whatever the host answers.
        written += count.min((bytes.len() - written) as u64) as usize;
    }
    Ok(())
}

/// Writes `text` to stdout.
fn print(text: &str) -> Result<(), String> {
    let stdout = get_stdout();
    for chunk in text.as_bytes().chunks(MAX_WRITE) {
        stdout
            .blocking_write_and_flush(chunk)
            .map_err(|_| "cannot write to stdout".to_string())?;
    }
    Ok(())
}

/// `dir/name` for messages.
fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// `text` with control characters (line breaks among them) escaped, so that
/// a page is always one line of the report.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

/// Why a file operation failed.
enum Error {
    /// The host answered with an error code.
    Code(ErrorCode),
    /// A write took no bytes.
    Stalled,
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Self::Code(code)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(code) => f.write_str(code.name()),
            Self::Stalled => f.write_str("the write made no progress"),
        }
    }
}

bindings::export!(Site with_types_in bindings);
