//! Composing the example app from its manifest and running it.

use nanoproc_linker::ComponentInterface;
use nanoproc_tests::{WasiHost, compose_manifest, engine, store};
use wasmtime::component::{Component, Linker, Val};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

const DOCUMENTS: &[(&str, &str)] = &[
    (
        "intro.md",
        "---\n{\"title\": \"Welcome \\u00e0 \\\"nanoproc\\\"\", \"tags\": [\"a\"]}\n---\n# Hello\n\nSome *text* and a table:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    ),
    (
        "notes.md",
        "# Notes & Thoughts\n\n- [x] done\n- [ ] to do\n",
    ),
];

fn documents(docs: &[(&str, &str)]) -> Val {
    Val::List(
        docs.iter()
            .map(|(name, text)| {
                Val::Record(vec![
                    ("name".into(), Val::String(name.to_string())),
                    ("text".into(), Val::String(text.to_string())),
                ])
            })
            .collect(),
    )
}

/// Runs the composed app's `build` on `docs`; returns the result and stderr.
fn build(app: &[u8], docs: &[(&str, &str)]) -> (Val, String) {
    let stderr = MemoryOutputPipe::new(usize::MAX);
    let mut store = store(WasiHost::with_stderr(stderr.clone()));
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let component = Component::new(engine(), app).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let site = instance
        .get_export_index(&mut store, None, "nanoproc:pages/site@0.1.0")
        .unwrap();
    let func = instance
        .get_export_index(&mut store, Some(&site), "build")
        .unwrap();
    let func = instance.get_func(&mut store, func).unwrap();
    let mut results = [Val::Bool(false)];
    func.call(&mut store, &[documents(docs)], &mut results)
        .unwrap();
    drop(store);
    let [result] = results;
    (
        result,
        String::from_utf8(stderr.contents().to_vec()).unwrap(),
    )
}

fn field<'a>(record: &'a Val, name: &str) -> &'a Val {
    let Val::Record(fields) = record else {
        panic!("not a record: {record:?}")
    };
    &fields.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn example_app_composes_and_imports_only_its_grant() {
    let composition = compose_manifest("guests/pages/nanoproc.toml").unwrap();
    let interface = ComponentInterface::read(&composition.bytes).unwrap();
    let imports: Vec<&str> = interface.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        imports,
        [
            "wasi:io/error@0.2.12",
            "wasi:io/streams@0.2.12",
            "wasi:cli/stderr@0.2.12"
        ]
    );
    let exports: Vec<&str> = interface.exports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(exports, ["nanoproc:pages/site@0.1.0"]);
}

#[test]
fn composition_is_byte_for_byte_deterministic() {
    let first = compose_manifest("guests/pages/nanoproc.toml").unwrap();
    let second = compose_manifest("guests/pages/nanoproc.toml").unwrap();
    assert!(first.bytes == second.bytes);
}

#[test]
fn example_app_gives_the_results_of_the_crates_natively() {
    let composition = compose_manifest("guests/pages/nanoproc.toml").unwrap();
    let (result, stderr) = build(&composition.bytes, DOCUMENTS);
    let Val::Result(Ok(Some(pages))) = result else {
        panic!("build failed: {result:?}")
    };
    let Val::List(pages) = *pages else { panic!() };
    assert_eq!(pages.len(), DOCUMENTS.len());
    for (page, (name, text)) in pages.iter().zip(DOCUMENTS) {
        let native = nanoproc_tests::native::page(name.strip_suffix(".md").unwrap(), text).unwrap();
        assert_eq!(field(page, "name"), &Val::String(native.name));
        assert_eq!(field(page, "title"), &Val::String(native.title));
        assert_eq!(field(page, "html"), &Val::String(native.html));
        assert_eq!(field(page, "sha256"), &Val::String(native.sha256));
        let gzip = native.gzip.into_iter().map(Val::U8).collect();
        assert_eq!(field(page, "gzip"), &Val::List(gzip));
    }
    let titles: Vec<&Val> = pages.iter().map(|page| field(page, "title")).collect();
    assert_eq!(
        titles,
        [
            &Val::String("Welcome à \"nanoproc\"".into()),
            &Val::String("Notes & Thoughts".into())
        ]
    );
    assert!(
        stderr.ends_with(
            "INFO  [pages] built 2 pages; calls to libraries: \
             json 2, markdown 3, compress 2, hash 2, logger 3\n"
        ),
        "{stderr}"
    );
}

#[test]
fn bad_front_matter_is_reported_by_the_app() {
    let composition = compose_manifest("guests/pages/nanoproc.toml").unwrap();
    let (result, stderr) = build(
        &composition.bytes,
        &[("bad.md", "---\n{\"title\": }\n---\n# x\n")],
    );
    let Val::Result(Err(Some(error))) = result else {
        panic!("expected an error: {result:?}")
    };
    assert_eq!(field(&error, "document"), &Val::String("bad.md".into()));
    assert_eq!(
        field(&error, "message"),
        &Val::String("front matter line 1, column 11: expected value at line 1 column 11".into())
    );
    assert_eq!(
        stderr,
        "ERROR [pages] bad.md: front matter line 1, column 11: expected value at line 1 column 11\n"
    );
}

#[test]
fn picture_of_the_example_app_draws_every_component_wire_and_grant() {
    let composition = compose_manifest("guests/pages/nanoproc.toml").unwrap();
    let svg = nanoproc_linker::Graph::new(&composition.plan).to_svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>\n"));
    // Six components, the logger's box listing its one grant.
    assert_eq!(svg.matches("<rect ").count(), 6, "{svg}");
    for name in ["pages", "markdown", "json", "compress", "hash", "logger"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name} missing");
    }
    assert_eq!(
        svg.matches("fill=\"#c0392b\" text-anchor=\"middle\">stderr</text>")
            .count(),
        1
    );
    // Five wires, each an arrow.
    assert_eq!(svg.matches("<line ").count(), 5);
}
