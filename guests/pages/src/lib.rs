//! The pages app: front matter checked by the json component, markdown
//! rendered by the markdown component, pages compressed and hashed by the
//! compress and hash components, progress logged through the logger.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::pages::site::{BuildError, Document, Guest, Page};
use bindings::nanoproc::compress::gzip;
use bindings::nanoproc::hash::digest::{self, Algorithm};
use bindings::nanoproc::json::document as json;
use bindings::nanoproc::logger::log::{self, Level};
use bindings::nanoproc::markdown::render::{self, Options};

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
        let pages = documents
            .iter()
            .map(build_page)
            .collect::<Result<Vec<_>, _>>()?;
        log::log(
            Level::Info,
            "pages",
            &format!("built {} pages", pages.len()),
        );
        Ok(pages)
    }
}

fn build_page(document: &Document) -> Result<Page, BuildError> {
    let fail = |message: String| {
        log::log(
            Level::Error,
            "pages",
            &format!("{}: {message}", document.name),
        );
        BuildError {
            document: document.name.clone(),
            message,
        }
    };
    let (front_matter, body) = split_front_matter(&document.text);
    let mut title = None;
    if let Some(front_matter) = front_matter {
        json::validate(front_matter).map_err(|e| {
            fail(format!(
                "front matter line {}, column {}: {}",
                e.line, e.column, e.message
            ))
        })?;
        title = match json::query_text(front_matter, "/title") {
            Ok(Some(value)) => Some(value),
            Ok(None) => None,
            Err(_) => return Err(fail("front matter cannot be queried".into())),
        };
    }
    let title = title
        .or_else(|| {
            render::outline(body, OPTIONS)
                .into_iter()
                .next()
                .map(|h| h.text)
        })
        .unwrap_or_else(|| document.name.clone());
    let html = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>{}</title>\n{}",
        escape(&title),
        render::to_html(body, OPTIONS)
    );
    let gzip = gzip::compress(html.as_bytes(), 9);
    let sha256 = digest::hash_hex(Algorithm::Sha256, html.as_bytes());
    let name = match document.name.strip_suffix(".md") {
        Some(stem) => format!("{stem}.html"),
        None => format!("{}.html", document.name),
    };
    log::log(
        Level::Debug,
        "pages",
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

/// Splits `---` fenced front matter off the top of `text`.
fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let Some(rest) = text.strip_prefix("---\n") else {
        return (None, text);
    };
    match rest.find("\n---\n") {
        Some(end) => (Some(&rest[..end]), &rest[end + 5..]),
        None => match rest.strip_suffix("\n---") {
            Some(front) => (Some(front), ""),
            None => (None, text),
        },
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

bindings::export!(Pages with_types_in bindings);
