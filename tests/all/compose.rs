//! Composing the example app from its manifest and running it.

use indexmap::IndexMap;
use nanoproc_linker::{ComponentInterface, Manifest};
use nanoproc_tests::{WasiHost, compose_manifest, engine, engine_for, store};
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

/// An app of `count` components named `c0`, `c1`, …, each exporting
/// `test:many/link`; with `wire`, each also imports it and is wired to the
/// one `wire` gives (the last of a chain has nothing to wire to).
fn many(count: usize, wire: impl Fn(usize) -> Option<usize>) -> Result<(), String> {
    const LEAF: &str = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func $f (canon lift (core func $i "f")))
        (instance $link (export "f" (func $f)))
        (export "test:many/link@1.0.0" (instance $link)))"#;
    const LINK: &str = r#"(component
        (import "test:many/link@1.0.0" (instance $next (export "f" (func))))
        (alias export $next "f" (func $f))
        (instance $link (export "f" (func $f)))
        (export "test:many/link@1.0.0" (instance $link)))"#;
    let leaf = wat::parse_str(LEAF).unwrap();
    let link = wat::parse_str(LINK).unwrap();
    let mut text = String::from("[app]\nexport = [\"c0\"]\n");
    let mut bytes = IndexMap::new();
    for i in 0..count {
        text.push_str(&format!("\n[components.c{i}]\npath = \"c{i}.wasm\"\n"));
        match wire(i) {
            Some(next) => {
                text.push_str(&format!("wire = {{ \"test:many/link\" = \"c{next}\" }}\n"));
                bytes.insert(format!("c{i}"), link.clone());
            }
            None => {
                bytes.insert(format!("c{i}"), leaf.clone());
            }
        }
    }
    let manifest = Manifest::parse("nanoproc.toml", text).map_err(|e| e.to_string())?;
    let composition = nanoproc_linker::compose(&manifest, &bytes).map_err(|e| format!("{e:#}"))?;
    wasmparser::Validator::new()
        .validate_all(&composition.bytes)
        .map_err(|e| format!("the composition does not validate: {e}"))?;
    Ok(())
}

/// The error for an app of ten thousand components whose 1001st starts on `line`.
fn too_many(line: usize) -> String {
    format!(
        "the app needs 10000 components, more than the 1000 one component may hold\n  \
         --> nanoproc.toml:{line}:1\n  \
         help: compose groups of its components into apps of their own first \
         (a composed app is a component), and name those in this manifest"
    )
}

#[test]
fn ten_thousand_components_are_refused_before_any_is_read() {
    assert_eq!(many(10_000, |_| None).unwrap_err(), too_many(3004));
    let chain = many(10_000, |i| (i + 1 < 10_000).then_some(i + 1));
    assert_eq!(chain.unwrap_err(), too_many(4004));
    let cycle = many(10_000, |i| Some((i + 1) % 10_000));
    assert_eq!(cycle.unwrap_err(), too_many(4004));
}

#[test]
fn a_cycle_of_a_thousand_components_is_named_shortened() {
    let error = many(1000, |i| Some((i + 1) % 1000)).unwrap_err();
    assert_eq!(
        error,
        "components import from each other in a cycle: \
         c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> … -> c999 -> c0 (1000 components)\n  \
         --> nanoproc.toml:4:1\n  \
         help: a component cannot be instantiated before the components it imports from; \
         break the cycle by wiring one of these imports elsewhere"
    );
}

#[test]
fn a_thousand_components_compose_or_fail_on_the_instance_limit() {
    let error = many(1000, |_| None).unwrap_err();
    assert!(
        error.starts_with("the app needs 1002 instances "),
        "{error}"
    );
    let chain = many(1000, |i| (i + 1 < 1000).then_some(i + 1)).unwrap_err();
    assert!(
        chain.starts_with("the app needs 2001 instances "),
        "{chain}"
    );
}

#[test]
fn the_longest_chain_one_component_holds_composes() {
    // 499 instances, 498 aliases of the exports wired to the one before,
    // one of the app's export and the export itself: 999 of the 1000
    // instances one component may hold; one component more needs 1001.
    many(499, |i| (i + 1 < 499).then_some(i + 1)).unwrap();
    let error = many(500, |i| (i + 1 < 500).then_some(i + 1)).unwrap_err();
    assert!(
        error.starts_with("the app needs 1001 instances "),
        "{error}"
    );
}

/// A WebAssembly feature, a core module's fields that use it, and
/// component items that use it.
const FEATURES: &[(&str, &str, &str)] = &[
    ("the MVP", "(func (result i32) i32.const 1)", ""),
    ("SIMD", "(func (result v128) v128.const i64x2 0 0)", ""),
    (
        "relaxed SIMD",
        "(func (param v128 v128 v128) (result v128)
            local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)",
        "",
    ),
    ("multiple memories", "(memory 1) (memory 1)", ""),
    ("memory64", "(memory i64 1)", ""),
    ("tail calls", "(func return_call 0)", ""),
    (
        "extended constants",
        "(global i32 (i32.add (i32.const 1) (i32.const 2)))",
        "",
    ),
    (
        "function references",
        "(type $f (func)) (func (param (ref $f)))",
        "",
    ),
    ("threads", "(memory 1 1 shared)", ""),
    ("exception handling", "(tag) (func throw 0)", ""),
    ("legacy exception handling", "(func try catch_all end)", ""),
    ("GC", "(type (struct))", ""),
    ("externref", "(func (param externref))", ""),
    ("stack switching", "(type $f (func)) (type (cont $f))", ""),
    ("custom page sizes", "(memory 1 (pagesize 1))", ""),
    (
        "wide arithmetic",
        "(func (param i64 i64 i64 i64) (result i64 i64)
            local.get 0 local.get 1 local.get 2 local.get 3 i64.add128)",
        "",
    ),
    ("component-model async", "", "(type (stream u8))"),
    (
        "stackful async lifts",
        "",
        "(type $af (func async)) (core module $s (func (export \"g\"))) (core instance $si (instantiate $s)) (func (type $af) (canon lift (core func $si \"g\") async))",
    ),
    (
        "more async built-ins",
        "",
        "(core func (canon subtask.cancel async))",
    ),
    (
        "error-context",
        "",
        "(type (func (param \"e\" error-context)))",
    ),
];

#[test]
fn the_linker_accepts_exactly_the_features_the_engine_compiles() {
    let manifest = Manifest::parse(
        "nanoproc.toml",
        "[app]\nexport = [\"c\"]\n[components.c]\npath = \"c.wasm\"\n",
    )
    .unwrap();
    let mut disagreements = Vec::new();
    for (feature, core, items) in FEATURES {
        let bytes = wat::parse_str(format!(
            r#"(component
                (core module {core})
                {items}
                (core module $m (func (export "f")))
                (core instance $i (instantiate $m))
                (func $f (canon lift (core func $i "f")))
                (instance $api (export "f" (func $f)))
                (export "test:features/api@1.0.0" (instance $api)))"#
        ))
        .unwrap_or_else(|e| panic!("{feature}: {e}"));
        let engine = engine_for(&bytes);
        let compiles = Component::new(engine, &bytes).map(drop);
        let inputs = IndexMap::from([("c".to_string(), bytes)]);
        match (nanoproc_linker::compose(&manifest, &inputs), compiles) {
            (Ok(composition), Ok(())) => {
                if let Err(e) = Component::new(engine_for(&composition.bytes), &composition.bytes) {
                    disagreements.push(format!("{feature}: the app does not compile: {e:#}"));
                }
            }
            (Err(error), Err(_)) if error.message().starts_with("component `c` uses ") => {}
            (composed, compiles) => disagreements.push(format!(
                "{feature}: the linker says {:?}, the engine {:?}",
                composed.map(drop).map_err(|e| e.to_string()),
                compiles.map_err(|e| format!("{e:#}"))
            )),
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
