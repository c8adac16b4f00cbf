//! The compiled-artifact cache: a second load compiles nothing, and an
//! entry that was tampered with or cut short is rebuilt, never loaded.

use nanoproc_host::cache::{Cache, Outcome};
use nanoproc_tests::{component_bytes, engine, export_func, store};
use wasmtime::component::{Component, Linker, Val};

/// Runs the cached json component's `validate` on a small document, to show
/// that what came out of the cache is the working component.
fn works(component: &Component) {
    let mut store = store(());
    let instance = Linker::new(engine())
        .instantiate(&mut store, component)
        .unwrap();
    let validate = export_func(
        &instance,
        &mut store,
        "nanoproc:json/document@0.1.0",
        "validate",
    );
    let mut result = [Val::Bool(false)];
    validate
        .call(&mut store, &[Val::String("[1, 2]".into())], &mut result)
        .unwrap();
    assert_eq!(result[0], Val::Result(Ok(None)));
}

#[test]
fn a_second_load_is_a_hit_and_a_bad_entry_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let bytes = component_bytes("json");

    let (component, outcome) = cache.component(engine(), &bytes).unwrap();
    assert_eq!(outcome, Outcome::Compiled);
    works(&component);
    let (component, outcome) = cache.component(engine(), &bytes).unwrap();
    assert_eq!(outcome, Outcome::Hit);
    works(&component);

    // A flipped bit in the machine code: the checksum catches it.
    let entry = cache.entry_path(engine(), &bytes);
    let mut data = std::fs::read(&entry).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0x40;
    std::fs::write(&entry, &data).unwrap();
    let (component, outcome) = cache.component(engine(), &bytes).unwrap();
    assert_eq!(
        outcome,
        Outcome::Rebuilt("the entry's checksum does not match".to_string())
    );
    works(&component);
    assert_eq!(cache.component(engine(), &bytes).unwrap().1, Outcome::Hit);

    // Cut short.
    std::fs::write(&entry, &data[..3]).unwrap();
    let outcome = cache.component(engine(), &bytes).unwrap().1;
    assert_eq!(
        outcome,
        Outcome::Rebuilt("the entry is truncated".to_string())
    );

    // A checksum that matches an artifact wasmtime does not accept.
    let mut forged = nanoproc_host::cache::checksum(b"not machine code").to_vec();
    forged.extend_from_slice(b"not machine code");
    std::fs::write(&entry, &forged).unwrap();
    match cache.component(engine(), &bytes).unwrap().1 {
        Outcome::Rebuilt(reason) => {
            assert!(reason.starts_with("wasmtime refuses the entry"), "{reason}")
        }
        other => panic!("a forged entry was not rebuilt: {other:?}"),
    }
    assert_eq!(cache.component(engine(), &bytes).unwrap().1, Outcome::Hit);
}

#[test]
fn another_component_or_engine_configuration_has_its_own_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let json = component_bytes("json");
    let hash = component_bytes("hash");
    assert_ne!(
        cache.entry_path(engine(), &json),
        cache.entry_path(engine(), &hash)
    );
    let mut config = wasmtime::Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    let other = wasmtime::Engine::new(&config).unwrap();
    assert_ne!(
        cache.entry_path(engine(), &json),
        cache.entry_path(&other, &json)
    );
    assert_eq!(cache.component(&other, &json).unwrap().1, Outcome::Compiled);
    assert_eq!(
        cache.component(engine(), &json).unwrap().1,
        Outcome::Compiled
    );
}
