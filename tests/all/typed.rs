//! Typed calls into sandboxed components from native Rust: every WIT type
//! the guests use, many threads on one sandbox, faults, limits and fresh
//! instances.

mod markdown {
    nanoproc_host::sandbox!({
        path: "../wit/markdown",
        world: "nanoproc:markdown/markdown",
        component: "../target/components/markdown.wasm",
    });
}

mod hash {
    nanoproc_host::sandbox!({
        path: "../wit/hash",
        component: "../target/components/hash.wasm",
    });
}

#[test]
fn markdown_renders_through_typed_calls() {
    let md = markdown::Markdown::new().unwrap();
    let html = md
        .to_html(
            "# Hi",
            markdown::Options {
                tables: true,
                footnotes: false,
                strikethrough: false,
                tasklists: false,
                smart_punctuation: false,
                heading_attributes: false,
            },
        )
        .unwrap();
    assert_eq!(html, "<h1>Hi</h1>\n");
    let mut hasher =
        hash::Hasher::new(&hash::Hash::new().unwrap(), hash::Algorithm::Sha256).unwrap();
    hasher.update(b"abc").unwrap();
    assert_eq!(hasher.finish().unwrap().len(), 32);
}
