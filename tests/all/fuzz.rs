//! The fuzz targets (`nanoproc_tests::fuzz`), each run on a few hundred
//! inputs from a fixed seed, and the inputs that once found a bug.
//!
//! `cargo xtask fuzz TARGET` runs the same targets under libFuzzer.

use nanoproc_tests::fuzz::{self, compose, manifest, wave};

#[test]
fn manifest_seeded() {
    let complete = fuzz::drive(manifest::run, 0x6d61_6e69, 400, 4096);
    assert!(complete > 300, "only {complete} cases ran to the end");
}

#[test]
fn compose_seeded() {
    let complete = fuzz::drive(compose::run, 0x636f_6d70, 200, 1024);
    assert!(complete > 150, "only {complete} cases ran to the end");
}

#[test]
fn wave_seeded() {
    let complete = fuzz::drive(wave::run, 0x7761_7665, 400, 1024);
    assert!(complete > 300, "only {complete} cases ran to the end");
}

/// The features the `compose` target validates with are the engine's:
/// each probe is accepted by both or refused by both.
#[test]
fn host_features_are_the_engines() {
    let probes = [
        (
            "simd",
            "(core module (func (result v128) v128.const i64x2 0 0))",
        ),
        ("tail calls", "(core module (func return_call 0))"),
        (
            "extended constants",
            "(core module (global i32 (i32.add (i32.const 1) (i32.const 2))))",
        ),
        ("64-bit memory", "(core module (memory i64 1))"),
        ("shared memory", "(core module (memory 1 1 shared))"),
        ("exceptions", "(core module (tag))"),
        ("externref", "(core module (func (param externref)))"),
        ("gc structs", "(core module (type (struct)))"),
        (
            "wide arithmetic",
            "(core module (func (param i64 i64 i64 i64) (result i64 i64) local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))",
        ),
    ];
    for (name, probe) in probes {
        let bytes = wat::parse_str(format!("(component {probe})")).unwrap();
        let engine = wasmtime::component::Component::new(nanoproc_tests::engine(), &bytes);
        let validator =
            wasmparser::Validator::new_with_features(fuzz::host_features()).validate_all(&bytes);
        assert_eq!(
            engine.is_ok(),
            validator.is_ok(),
            "{name}: the engine says {:?}, the validator {:?}",
            engine.err(),
            validator.err()
        );
    }
}

/// Found while writing the `compose` target: a component exporting a
/// function by itself (not in an interface) could not be composed (an
/// encoding error: the linker aliased every export as an instance), nor
/// could an import of such a function be wired.
#[test]
fn functions_exported_by_themselves_compose_and_run() {
    let provider = r#"(component
  (core module $m (func (export "f") (result i32) i32.const 7))
  (core instance $i (instantiate $m))
  (func $f (result u32) (canon lift (core func $i "f")))
  (export "f" (func $f))
)"#;
    let user = r#"(component
  (import "f" (func $f (result u32)))
  (core func $g (canon lower (func $f)))
  (core module $m (import "" "f" (func (result i32))) (func (export "g") (result i32) call 0))
  (core instance $i (instantiate $m (with "" (instance (export "f" (func $g))))))
  (func $h (result u32) (canon lift (core func $i "g")))
  (export "g" (func $h))
)"#;
    let text = "[app]\nexport = [\"user\", \"provider\"]\n\n\
                [components.user]\npath = \"user.wasm\"\nwire = { f = \"provider\" }\n\n\
                [components.provider]\npath = \"provider.wasm\"\n";
    let mut bytes = indexmap::IndexMap::new();
    bytes.insert("user".to_string(), wat::parse_str(user).unwrap());
    bytes.insert("provider".to_string(), wat::parse_str(provider).unwrap());
    compose::check(text, &bytes);
    let manifest = nanoproc_linker::Manifest::parse("nanoproc.toml", text).unwrap();
    let app = nanoproc_linker::compose(&manifest, &bytes).unwrap();
    let app = nanoproc_tests::runtime()
        .load(&app.bytes, Default::default())
        .unwrap();
    let mut instance = app.instantiate().unwrap();
    assert_eq!(instance.call_wave("g()").unwrap(), "7");
    assert_eq!(instance.call_wave("f()").unwrap(), "7");
}

/// Found while writing the `compose` target: a component with a shared
/// memory (the threads proposal, which the host leaves off) composed, and
/// the app it made did not load (fixed in the linker since, which now
/// validates with the host engine's features).
#[test]
fn a_component_using_a_feature_the_host_lacks_is_refused() {
    let wat = r#"(component
  (core module $m (memory 1 1 shared) (func (export "f")))
  (core instance $i (instantiate $m))
  (func $f (canon lift (core func $i "f")))
  (instance $inst (export "f" (func $f)))
  (export "x:y/z" (instance $inst))
)"#;
    let text = "[app]\nexport = [\"a\"]\n\n[components.a]\npath = \"a.wasm\"\n";
    let mut bytes = indexmap::IndexMap::new();
    bytes.insert("a".to_string(), wat::parse_str(wat).unwrap());
    compose::check(text, &bytes);
}
