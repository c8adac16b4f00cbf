//! Properties every built guest component must have.

use nanoproc_linker::{ComponentInterface, ItemKind};
use nanoproc_tests::{GUESTS, component, component_bytes, engine, store};
use wasmparser::{Parser, Validator, WasmFeatures};
use wasmtime::component::Linker;

fn names(items: &[nanoproc_linker::Item]) -> Vec<&str> {
    items.iter().map(|i| i.name.as_str()).collect()
}

#[test]
fn every_guest_is_a_valid_component() {
    for name in GUESTS {
        let bytes = component_bytes(name);
        assert!(Parser::is_component(&bytes), "`{name}` is not a component");
        Validator::new_with_features(WasmFeatures::default())
            .validate_all(&bytes)
            .unwrap_or_else(|e| panic!("`{name}` does not validate: {e}"));
    }
}

#[test]
fn pure_libraries_import_nothing() {
    for name in ["compress", "hash", "json", "lz4", "markdown"] {
        let interface = ComponentInterface::read(&component_bytes(name)).unwrap();
        assert_eq!(names(&interface.imports), Vec::<&str>::new(), "`{name}`");
    }
}

#[test]
fn logger_imports_exactly_the_stderr_its_world_declares() {
    let interface = ComponentInterface::read(&component_bytes("logger")).unwrap();
    // `wasi:cli/stderr` hands out a `wasi:io/streams` output stream, whose
    // errors are `wasi:io/error` resources: nothing else.
    assert_eq!(
        names(&interface.imports),
        [
            "wasi:io/error@0.2.12",
            "wasi:io/streams@0.2.12",
            "wasi:cli/stderr@0.2.12"
        ]
    );
    assert!(
        interface
            .imports
            .iter()
            .all(|i| i.kind == ItemKind::Instance)
    );
    // Of the stream, only the one function the logger calls is imported.
    let streams = interface.wit.split("interface streams").nth(1).unwrap();
    let streams = &streams[..streams.find("\n  }").unwrap()];
    assert!(streams.contains("blocking-write-and-flush"), "{streams}");
    for unused in ["subscribe", "check-write", "splice", "input-stream"] {
        assert!(
            !streams.contains(unused),
            "`{unused}` is imported:\n{streams}"
        );
    }
}

#[test]
fn each_guest_exports_its_own_interface() {
    for (name, export) in [
        ("compress", "nanoproc:compress/gzip@0.1.0"),
        ("hash", "nanoproc:hash/digest@0.1.0"),
        ("json", "nanoproc:json/document@0.1.0"),
        ("logger", "nanoproc:logger/log@0.1.0"),
        ("lz4", "nanoproc:lz4/block@0.1.0"),
        ("markdown", "nanoproc:markdown/render@0.1.0"),
        ("packer", "nanoproc:packer/seal@0.1.0"),
    ] {
        let interface = ComponentInterface::read(&component_bytes(name)).unwrap();
        assert_eq!(names(&interface.exports), [export], "`{name}`");
    }
}

#[test]
fn pure_libraries_instantiate_with_nothing_provided() {
    let linker = Linker::<()>::new(engine());
    for name in ["compress", "hash", "json", "lz4", "markdown"] {
        let mut store = store(());
        linker
            .instantiate(&mut store, &component(name))
            .unwrap_or_else(|e| panic!("`{name}` needs something: {e:?}"));
    }
}

#[test]
fn logger_cannot_start_without_stderr() {
    let linker = Linker::<()>::new(engine());
    let mut store = store(());
    let Err(err) = linker.instantiate(&mut store, &component("logger")) else {
        panic!("the logger was instantiated with no stderr");
    };
    let message = format!("{err:#}");
    assert!(message.contains("wasi:io/error@0.2.12"), "{message}");
}
