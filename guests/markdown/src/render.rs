//! The rendering itself, in terms of the `nanoproc:markdown/render` types.
//! Any guest exporting that interface can include this file as its
//! `render` module (as the compromised variant in `guests/` does).

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::bindings::exports::nanoproc::markdown::render::{Heading, Options};

/// `markdown` as HTML.
pub fn to_html(markdown: &str, options: Options) -> String {
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, extensions(options)));
    html
}

/// The headings of `markdown`, in document order.
pub fn outline(markdown: &str, options: Options) -> Vec<Heading> {
    let mut headings = Vec::new();
    let mut current: Option<Heading> = None;
    for event in Parser::new_ext(markdown, extensions(options)) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some(Heading {
                    level: level as u8,
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = &mut current {
                    heading.text.push_str(&text);
                }
            }
            _ => {}
        }
    }
    headings
}

fn extensions(options: Options) -> pulldown_cmark::Options {
    crate::extensions::extensions([
        options.tables,
        options.footnotes,
        options.strikethrough,
        options.tasklists,
        options.smart_punctuation,
        options.heading_attributes,
    ])
}
