//! The markdown component: pulldown-cmark behind `nanoproc:markdown/render`.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;
mod extensions;
mod render;

use bindings::exports::nanoproc::markdown::render::{Guest, Heading, Options};

struct Markdown;

impl Guest for Markdown {
    fn to_html(markdown: String, options: Options) -> String {
        render::to_html(&markdown, options)
    }

    fn outline(markdown: String, options: Options) -> Vec<Heading> {
        render::outline(&markdown, options)
    }
}

bindings::export!(Markdown with_types_in bindings);
