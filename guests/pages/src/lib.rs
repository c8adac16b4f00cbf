//! The pages app: front matter checked by the json component, markdown
//! rendered by the markdown component, pages compressed and hashed by the
//! compress and hash components, progress logged through the logger. Each
//! build ends with a report of how many calls it made to each library.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;
mod text;

use std::sync::atomic::{AtomicU32, Ordering};

use bindings::exports::nanoproc::pages::site::{BuildError, Document, Guest, Page};
use bindings::nanoproc::compress::gzip;
use bindings::nanoproc::hash::digest::{self, Algorithm};
use bindings::nanoproc::json::document as json;
use bindings::nanoproc::logger::log::{self, Level};
use bindings::nanoproc::markdown::render::{self, Options};
use text::{escape, split_front_matter};

const OPTIONS: Options = Options {
    tables: true,
    footnotes: true,
    strikethrough: true,
    tasklists: true,
    smart_punctuation: false,
    heading_attributes: false,
};

struct Pages;

impl Guest for Pages {
    fn build(documents: Vec<Document>) -> Result<Vec<Page>, BuildError> {
        for count in &CALLS {
            count.store(0, Ordering::Relaxed);
        }
        let pages = documents
            .iter()
            .map(build_page)
            .collect::<Result<Vec<_>, _>>()?;
        // The report is itself a call to the logger, and counts as one.
        CALLS[Library::Logger as usize].fetch_add(1, Ordering::Relaxed);
        let calls: Vec<String> = LIBRARIES
            .iter()
            .map(|(library, name)| {
                format!(
                    "{name} {}",
                    CALLS[*library as usize].load(Ordering::Relaxed)
                )
            })
            .collect();
        log::log(
            Level::Info,
            "pages",
            &format!(
                "built {} pages; calls to libraries: {}",
                pages.len(),
                calls.join(", ")
            ),
        );
        Ok(pages)
    }
}

/// The libraries this component calls, each in a component of its own.
#[derive(Clone, Copy)]
enum Library {
    Json,
    Markdown,
    Compress,
    Hash,
    Logger,
}

const LIBRARIES: [(Library, &str); 5] = [
    (Library::Json, "json"),
    (Library::Markdown, "markdown"),
    (Library::Compress, "compress"),
    (Library::Hash, "hash"),
    (Library::Logger, "logger"),
];

/// How many times the current build has called each library.
static CALLS: [AtomicU32; 5] = [const { AtomicU32::new(0) }; 5];

/// Makes the call `call` to `library`, counting it.
fn call<T>(library: Library, call: impl FnOnce() -> T) -> T {
    CALLS[library as usize].fetch_add(1, Ordering::Relaxed);
    call()
}

/// Logs `message` at `level`.
fn log(level: Level, message: &str) {
    call(Library::Logger, || log::log(level, "pages", message));
}

fn build_page(document: &Document) -> Result<Page, BuildError> {
    let fail = |message: String| {
        log(Level::Error, &format!("{}: {message}", document.name));
        BuildError {
            document: document.name.clone(),
            message,
        }
    };
    let (front_matter, body) = split_front_matter(&document.text);
    let mut title = None;
    if let Some(front_matter) = front_matter {
        call(Library::Json, || json::validate(front_matter)).map_err(|e| {
            fail(format!(
                "front matter line {}, column {}: {}",
                e.line, e.column, e.message
            ))
        })?;
        title = match call(Library::Json, || json::query_text(front_matter, "/title")) {
            Ok(Some(value)) => Some(value),
            Ok(None) => None,
            Err(_) => return Err(fail("front matter cannot be queried".into())),
        };
    }
    let title = title
        .or_else(|| {
            call(Library::Markdown, || render::outline(body, OPTIONS))
                .into_iter()
                .next()
                .map(|h| h.text)
        })
        .unwrap_or_else(|| document.name.clone());
    let html = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>{}</title>\n{}",
        escape(&title),
        call(Library::Markdown, || render::to_html(body, OPTIONS))
    );
    let gzip = call(Library::Compress, || gzip::compress(html.as_bytes(), 9));
    let sha256 = call(Library::Hash, || {
        digest::hash_hex(Algorithm::Sha256, html.as_bytes())
    });
    let name = match document.name.strip_suffix(".md") {
        Some(stem) => format!("{stem}.html"),
        None => format!("{}.html", document.name),
    };
    log(
        Level::Debug,
        &format!("{name}: {} bytes, {} gzipped", html.len(), gzip.len()),
    );
    Ok(Page {
        name,
        title,
        html,
        gzip,
        sha256,
    })
}

bindings::export!(Pages with_types_in bindings);
