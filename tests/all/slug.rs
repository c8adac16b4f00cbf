//! The slug component slugifies exactly as the slug crate does natively,
//! and carries the imports the WASI preview1 adapter added to it.

use nanoproc_linker::{ComponentInterface, ItemKind};
use nanoproc_tests::{WasiHost, component, component_bytes, engine, store};
use wasmparser::{Parser, Validator, WasmFeatures};
use wasmtime::component::Linker;

wasmtime::component::bindgen!({
    path: "../wit/slug",
    world: "nanoproc:slug/slug",
});

/// An instance under a WASI host that grants nothing.
fn instance() -> (wasmtime::Store<WasiHost>, Slug) {
    let mut store = store(WasiHost::without_capabilities());
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let slug = Slug::instantiate(&mut store, &component("slug"), &linker).unwrap();
    (store, slug)
}

#[test]
fn is_a_valid_component() {
    let bytes = component_bytes("slug");
    assert!(Parser::is_component(&bytes));
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(&bytes)
        .unwrap();
}

#[test]
fn imports_only_what_the_wasi_adapter_added() {
    // The world imports nothing and the code calls no WASI: these are the
    // imports of Rust's std on `wasm32-wasip1` (environment, `fd_write`,
    // `proc_exit`) as the WASI preview1 adapter translates them. A new
    // adapter or std that changes them shows up here.
    let interface = ComponentInterface::read(&component_bytes("slug")).unwrap();
    let imports: Vec<&str> = interface.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        imports,
        [
            "wasi:cli/environment@0.2.12",
            "wasi:cli/exit@0.2.12",
            "wasi:io/error@0.2.12",
            "wasi:io/streams@0.2.12",
            "wasi:cli/stdin@0.2.12",
            "wasi:cli/stdout@0.2.12",
            "wasi:cli/stderr@0.2.12",
            "wasi:clocks/wall-clock@0.2.12",
            "wasi:filesystem/types@0.2.12",
            "wasi:filesystem/preopens@0.2.12",
        ]
    );
    assert!(
        interface
            .imports
            .iter()
            .all(|i| i.kind == ItemKind::Instance)
    );
    let exports: Vec<&str> = interface.exports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(exports, ["nanoproc:slug/slugify@0.1.0"]);
}

#[test]
fn cannot_start_without_wasi() {
    let linker = Linker::<()>::new(engine());
    let mut store = store(());
    let Err(err) = linker.instantiate(&mut store, &component("slug")) else {
        panic!("the slug component was instantiated with no WASI provided");
    };
    let message = format!("{err:#}");
    assert!(message.contains("wasi:"), "{message}");
}

#[test]
fn slugs_match_the_slug_crate_natively() {
    let (mut store, slug) = instance();
    let slugify = slug.nanoproc_slug_slugify();
    let long = "Ünïcödé Title, part 2! ".repeat(5_000);
    for text in [
        "",
        "Hello, World!",
        "  --Déjà vu--  ",
        "My Test String!!!1!1",
        "You & Me",
        "user@example.com",
        "北京大学",
        "Привет мир",
        "Ελληνικά",
        "مرحبا",
        "🦀 Rust 🦀",
        "★☆",
        "---",
        "a\0b\nc\td",
        "\u{200b}\u{feff}",
        "ǅemal Æsir ß",
        &long,
    ] {
        assert_eq!(
            slugify.call_slugify(&mut store, text).unwrap(),
            slug::slugify(text),
            "{text:?}"
        );
    }
}

#[test]
fn known_slugs() {
    let (mut store, slug) = instance();
    let slugify = slug.nanoproc_slug_slugify();
    for (text, expected) in [
        ("", ""),
        ("Hello, World!", "hello-world"),
        ("  --Déjà vu--  ", "deja-vu"),
        ("北京大学", "bei-jing-da-xue"),
        ("🦀 Rust 🦀", "crab-rust-crab"),
    ] {
        assert_eq!(slugify.call_slugify(&mut store, text).unwrap(), expected);
    }
}
