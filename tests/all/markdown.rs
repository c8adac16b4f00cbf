//! The markdown component renders exactly as pulldown-cmark does natively.

use nanoproc_tests::{component, engine, store};
use wasmtime::component::Linker;

wasmtime::component::bindgen!({
    path: "../wit/markdown",
    world: "nanoproc:markdown/markdown",
});

use exports::nanoproc::markdown::render::{Heading, Options};

const ALL: Options = Options {
    tables: true,
    footnotes: true,
    strikethrough: true,
    tasklists: true,
    smart_punctuation: true,
    heading_attributes: true,
};

const NONE: Options = Options {
    tables: false,
    footnotes: false,
    strikethrough: false,
    tasklists: false,
    smart_punctuation: false,
    heading_attributes: false,
};

fn native(markdown: &str, all: bool) -> String {
    let options = if all {
        pulldown_cmark::Options::ENABLE_TABLES
            | pulldown_cmark::Options::ENABLE_FOOTNOTES
            | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
            | pulldown_cmark::Options::ENABLE_TASKLISTS
            | pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION
            | pulldown_cmark::Options::ENABLE_HEADING_ATTRIBUTES
    } else {
        pulldown_cmark::Options::empty()
    };
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, options),
    );
    html
}

fn instance() -> (wasmtime::Store<()>, Markdown) {
    let mut store = store(());
    let markdown =
        Markdown::instantiate(&mut store, &component("markdown"), &Linker::new(engine())).unwrap();
    (store, markdown)
}

const DOCUMENTS: &[&str] = &[
    "",
    "# Hello, *world*!\n\nA paragraph with `code`, a [link](https://example.com) and <b>inline HTML</b>.\n",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] to do\n\n~~gone~~ \"quoted\" -- dashes...\n",
    "Text with a footnote[^1].\n\n[^1]: The note.\n\n## Title {#custom-id .class}\n",
    "<script>alert('x')</script>\n\n    indented code\n\n```rust\nfn main() {}\n```\n",
    "Ünïcödé ✓ — 日本語のテキスト\n\n> quote\n>> nested quote\n",
    include_str!("../../README.md"),
];

#[test]
fn renders_like_pulldown_cmark_natively() {
    let (mut store, markdown) = instance();
    let render = markdown.nanoproc_markdown_render();
    for document in DOCUMENTS {
        for (options, all) in [(NONE, false), (ALL, true)] {
            let html = render.call_to_html(&mut store, document, options).unwrap();
            assert_eq!(html, native(document, all), "input: {document:?}");
        }
    }
}

#[test]
fn extensions_follow_the_options() {
    let (mut store, markdown) = instance();
    let render = markdown.nanoproc_markdown_render();
    let table = "| a |\n|---|\n| 1 |\n";
    let plain = render.call_to_html(&mut store, table, NONE).unwrap();
    let with_tables = render
        .call_to_html(
            &mut store,
            table,
            Options {
                tables: true,
                ..NONE
            },
        )
        .unwrap();
    assert!(!plain.contains("<table>"), "{plain}");
    assert!(with_tables.contains("<table>"), "{with_tables}");
}

#[test]
fn pathological_nesting_renders_without_trapping() {
    let (mut store, markdown) = instance();
    let render = markdown.nanoproc_markdown_render();
    for document in [
        ">".repeat(10_000),
        "[".repeat(50_000),
        "*a ".repeat(20_000),
        "- ".repeat(5_000) + "x",
    ] {
        let html = render.call_to_html(&mut store, &document, ALL).unwrap();
        assert_eq!(html, native(&document, true));
    }
}

#[test]
fn outline_lists_headings_in_order() {
    let (mut store, markdown) = instance();
    let render = markdown.nanoproc_markdown_render();
    let outline = render
        .call_outline(
            &mut store,
            "# One\n\ntext\n\n## Two `code` *em*\n\nSetext\n------\n\n### Three {#id}\n",
            ALL,
        )
        .unwrap();
    let expected = [(1, "One"), (2, "Two code em"), (2, "Setext"), (3, "Three")];
    let outline: Vec<(u8, &str)> = outline
        .iter()
        .map(|Heading { level, text }| (*level, text.as_str()))
        .collect();
    assert_eq!(outline, expected);
}
