//! The markdown component: pulldown-cmark behind `nanoproc:markdown/render`.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::markdown::render::{Guest, Heading, Options};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

struct Markdown;

impl Guest for Markdown {
    fn to_html(markdown: String, options: Options) -> String {
        let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
        pulldown_cmark::html::push_html(&mut html, Parser::new_ext(&markdown, extensions(options)));
        html
    }

    fn outline(markdown: String, options: Options) -> Vec<Heading> {
        let mut headings = Vec::new();
        let mut current: Option<Heading> = None;
        for event in Parser::new_ext(&markdown, extensions(options)) {
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
}

fn extensions(options: Options) -> pulldown_cmark::Options {
    use pulldown_cmark::Options as O;
    let mut flags = O::empty();
    for (on, flag) in [
        (options.tables, O::ENABLE_TABLES),
        (options.footnotes, O::ENABLE_FOOTNOTES),
        (options.strikethrough, O::ENABLE_STRIKETHROUGH),
        (options.tasklists, O::ENABLE_TASKLISTS),
        (options.smart_punctuation, O::ENABLE_SMART_PUNCTUATION),
        (options.heading_attributes, O::ENABLE_HEADING_ATTRIBUTES),
    ] {
        flags.set(flag, on);
    }
    flags
}

bindings::export!(Markdown with_types_in bindings);
