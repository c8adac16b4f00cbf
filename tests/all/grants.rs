//! Per-component grants: two components of one app holding different
//! narrowings of the same capability each see only their own, in the host.

use std::path::Path;

use indexmap::IndexMap;
use nanoproc_host::capabilities::{Capabilities, Options, add_to_linker};
use nanoproc_linker::{AppGrants, Manifest, compose};
use nanoproc_tests::{engine, export_func, store};
use wasmtime::component::{Component, Linker, Val};

/// A component that imports `wasi:cli/environment` and
/// `wasi:filesystem/preopens` and exports `test:NAME/probe` with
/// `variables` (how many environment variables it sees), `directories`
/// (how many preopened directories) and `first-variable-length` (the length
/// of the first variable's value).
fn probe(name: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"
(component
  (import "wasi:cli/environment@0.2.12" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))
  ))
  (import "wasi:filesystem/types@0.2.12" (instance $types
    (export "descriptor" (type (sub resource)))
  ))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.12" (instance $preopens
    (alias outer 1 $descriptor (type))
    (export "descriptor" (type (eq 0)))
    (type (own 1))
    (type (tuple 2 string))
    (type (list 3))
    (export "get-directories" (func (result 4)))
  ))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (alias export $env "get-environment" (func $get-environment))
  (alias export $preopens "get-directories" (func $get-directories))
  (core func $get-environment (canon lower (func $get-environment)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $get-directories (canon lower (func $get-directories)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "wasi" "get-environment" (func $get-environment (param i32)))
    (import "wasi" "get-directories" (func $get-directories (param i32)))
    (func (export "variables") (result i32)
      (call $get-environment (i32.const 16))
      (i32.load (i32.const 20)))
    (func (export "first-variable-length") (result i32)
      (call $get-environment (i32.const 16))
      ;; list pointer -> first tuple (key ptr, key len, value ptr, value len)
      (i32.load offset=12 (i32.load (i32.const 16))))
    (func (export "directories") (result i32)
      (call $get-directories (i32.const 32))
      (i32.load (i32.const 36))))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-environment" (func $get-environment))
      (export "get-directories" (func $get-directories))))))
  (func $variables (result u32) (canon lift (core func $main "variables")))
  (func $first (result u32) (canon lift (core func $main "first-variable-length")))
  (func $directories (result u32) (canon lift (core func $main "directories")))
  (instance $probe
    (export "variables" (func $variables))
    (export "first-variable-length" (func $first))
    (export "directories" (func $directories)))
  (export "test:{name}/probe" (instance $probe))
)
"#
    ))
    .unwrap()
}

/// Composes two probes, `a` and `b`, with the grants given as TOML tables.
fn compose_two(a: &str, b: &str) -> (Vec<u8>, AppGrants) {
    let text = format!(
        "[app]\nexport = [\"a\", \"b\"]\n[components.a]\npath = \"a.wasm\"\ngrants = {a}\n[components.b]\npath = \"b.wasm\"\ngrants = {b}\n"
    );
    let manifest = Manifest::parse("nanoproc.toml", text).unwrap();
    let bytes = IndexMap::from([("a".to_string(), probe("a")), ("b".to_string(), probe("b"))]);
    let app = compose(&manifest, &bytes).unwrap().bytes;
    let grants = AppGrants::read(&app)
        .unwrap()
        .expect("the app carries its grants");
    (app, grants)
}

/// Calls `probe.func` of component `who` in the composed app.
fn call(app: &[u8], grants: &AppGrants, base_dir: &Path, who: &str, func: &str) -> Val {
    let component = Component::new(engine(), app).unwrap();
    let mut linker = Linker::new(engine());
    add_to_linker(&mut linker, &component).unwrap();
    let options = Options {
        base_dir: base_dir.to_path_buf(),
        ..Options::default()
    };
    let capabilities = Capabilities::new(&component, grants.clone(), options);
    let mut store = store(capabilities.state().unwrap());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let f = export_func(&instance, &mut store, &format!("test:{who}/probe"), func);
    let mut results = [Val::Bool(false)];
    f.call(&mut store, &[], &mut results).unwrap();
    results[0].clone()
}

fn imports(app: &[u8]) -> Vec<String> {
    let component = Component::new(engine(), app).unwrap();
    component
        .component_type()
        .imports(engine())
        .map(|(name, _)| name.to_string())
        .collect()
}

#[test]
fn different_narrowings_get_an_import_each_and_each_component_sees_its_own() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["out", "data", "cache"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let (app, grants) = compose_two(
        r#"{ env = ["NANOPROC_TEST_PATH"], dirs = [{ host = "out", mode = "read-write" }] }"#,
        r#"{ env = ["NANOPROC_TEST_LONGER"], dirs = [{ host = "data" }, { host = "cache" }] }"#,
    );
    assert_eq!(
        imports(&app),
        [
            "nanoproc-grant:a/environment@0.2.12",
            "wasi:filesystem/types@0.2.12",
            "nanoproc-grant:a/preopens@0.2.12",
            "nanoproc-grant:b/environment@0.2.12",
            "nanoproc-grant:b/preopens@0.2.12",
        ]
    );
    // SAFETY: the variables are set before any thread reads them and are
    // read by no other test.
    unsafe {
        std::env::set_var("NANOPROC_TEST_PATH", "abc");
        std::env::set_var("NANOPROC_TEST_LONGER", "abcdefgh");
    }
    let get = |who, func| call(&app, &grants, dir.path(), who, func);
    assert_eq!(get("a", "variables"), Val::U32(1));
    assert_eq!(get("a", "first-variable-length"), Val::U32(3));
    assert_eq!(get("a", "directories"), Val::U32(1));
    assert_eq!(get("b", "variables"), Val::U32(1));
    assert_eq!(get("b", "first-variable-length"), Val::U32(8));
    assert_eq!(get("b", "directories"), Val::U32(2));
}

#[test]
fn equal_narrowings_share_the_standard_import() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let same = r#"{ env = ["NANOPROC_TEST_UNSET"], dirs = [{ host = "data" }] }"#;
    let (app, grants) = compose_two(same, same);
    assert_eq!(
        imports(&app),
        [
            "wasi:cli/environment@0.2.12",
            "wasi:filesystem/types@0.2.12",
            "wasi:filesystem/preopens@0.2.12",
        ]
    );
    assert_eq!(
        call(&app, &grants, dir.path(), "a", "directories"),
        Val::U32(1)
    );
    assert_eq!(
        call(&app, &grants, dir.path(), "b", "variables"),
        Val::U32(0)
    );
}
