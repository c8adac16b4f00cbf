//! The example site built natively: the same crates the components wrap,
//! called in one process exactly as the pages and site components call
//! them. The tests and the demo compare the apps' outputs with these, byte
//! for byte.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use sha2::Digest as _;

#[path = "../../guests/pages/src/text.rs"]
mod text;

/// The markdown component's mapping of its `options` record to
/// pulldown-cmark's options, the very file it is built from.
#[path = "../../guests/markdown/src/extensions.rs"]
pub mod markdown_extensions;

/// The markdown extensions the pages component asks for.
fn markdown_options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_FOOTNOTES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
        | pulldown_cmark::Options::ENABLE_TASKLISTS
}

/// One page, as the pages component builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The output name, `STEM.html`.
    pub name: String,
    /// The title.
    pub title: String,
    /// The HTML page.
    pub html: String,
    /// The HTML, gzip-compressed at level 9.
    pub gzip: Vec<u8>,
    /// SHA-256 of the HTML, as hex.
    pub sha256: String,
}

/// The page the pages component makes of markdown `body` titled `title`.
pub fn html(title: &str, body: &str) -> String {
    let title = text::escape(title);
    let mut html = format!("<!doctype html>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n");
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(body, markdown_options()),
    );
    html
}

/// The first heading's text of markdown `body`, as the markdown
/// component's `outline` gives it.
fn first_heading(body: &str) -> Option<String> {
    use pulldown_cmark::{Event, Tag, TagEnd};
    let mut heading: Option<String> = None;
    for event in pulldown_cmark::Parser::new_ext(body, markdown_options()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => return heading,
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = &mut heading {
                    heading.push_str(&text);
                }
            }
            _ => {}
        }
    }
    None
}

/// Builds the document `stem` (its name without `.md`) with text `text`,
/// or says what is wrong with its front matter as the pages component does.
///
/// # Errors
///
/// When the front matter is not JSON.
pub fn page(stem: &str, text: &str) -> Result<Page, String> {
    let (front_matter, body) = text::split_front_matter(text);
    let mut title = None;
    if let Some(front_matter) = front_matter {
        let value: serde_json::Value = serde_json::from_str(front_matter)
            .map_err(|e| format!("front matter line {}, column {}: {e}", e.line(), e.column()))?;
        title = value.pointer("/title").map(|value| match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    let title = title
        .or_else(|| first_heading(body))
        .unwrap_or_else(|| stem.to_string());
    let html = html(&title, body);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    encoder
        .write_all(html.as_bytes())
        .expect("compressing into memory cannot fail");
    let gzip = encoder
        .finish()
        .expect("compressing into memory cannot fail");
    let sha256 = sha2::Sha256::digest(html.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Page {
        name: format!("{stem}.html"),
        title,
        html,
        gzip,
        sha256,
    })
}

/// Builds the site the way the site command does: every `*.md` file directly
/// in `input`, in name order, into `NAME.html` and `NAME.html.gz` in
/// `output`. Returns what the site command prints.
///
/// # Errors
///
/// When a file cannot be read or written, or a document is malformed.
pub fn site(input: &Path, output: &Path) -> Result<String> {
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(input).with_context(|| format!("cannot list {}", input.display()))?
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && name.len() > ".md".len() && name.ends_with(".md") {
            names.push(name);
        }
    }
    names.sort();
    let mut pages = Vec::with_capacity(names.len());
    for name in &names {
        let path = input.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let stem = name.strip_suffix(".md").unwrap_or(name);
        match page(stem, &text) {
            Ok(page) => pages.push(page),
            Err(message) => bail!("{}: {message}", path.display()),
        }
    }
    let mut report = String::new();
    for page in &pages {
        for (name, bytes) in [
            (page.name.clone(), page.html.as_bytes()),
            (format!("{}.gz", page.name), &page.gzip[..]),
        ] {
            let path = output.join(name);
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        report.push_str(&format!(
            "{}  {}  {}\n",
            page.sha256,
            page.name,
            one_line(&page.title)
        ));
    }
    report.push_str(&format!("{} pages\n", pages.len()));
    Ok(report)
}

/// `text` with control characters escaped, as the site command prints titles.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
