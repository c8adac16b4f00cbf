//! Deny providers: imports a toolchain added, not granted, answered by inert
//! components the linker synthesizes, never by the host.
//!
//! The probe below is a small component that carries a core module named as
//! wit-component names the WASI preview1 adapter, imports the environment,
//! random numbers and exit, and exports functions that call them.

use indexmap::IndexMap;
use nanoproc_linker::{Audit, Manifest, Satisfied, compose};
use nanoproc_tests::{WasiHost, engine, export_func, store};
use wasmtime::component::{Component, Linker, Val};

const PROBE: &str = r#"
(component
  (core module $wit-component:adapter:wasi_snapshot_preview1)
  (import "wasi:cli/environment@0.2.12" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))
    (export "initial-cwd" (func (result (option string))))
  ))
  (import "wasi:random/random@0.2.12" (instance $random
    (export "get-random-u64" (func (result u64)))
  ))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $next)
      (global.set $next (i32.add (global.get $next) (local.get 3)))))
  (core instance $libc (instantiate $libc))
  (alias export $env "get-environment" (func $get-environment))
  (alias export $env "initial-cwd" (func $initial-cwd))
  (alias export $random "get-random-u64" (func $get-random-u64))
  (core func $get-environment (canon lower (func $get-environment)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $initial-cwd (canon lower (func $initial-cwd)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $get-random-u64 (canon lower (func $get-random-u64)))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "wasi" "get-environment" (func $get-environment (param i32)))
    (import "wasi" "initial-cwd" (func $initial-cwd (param i32)))
    (import "wasi" "get-random-u64" (func $get-random-u64 (result i64)))
    ;; The number of environment variables the component sees.
    (func (export "variables") (result i32)
      (call $get-environment (i32.const 16))
      (i32.load (i32.const 20)))
    ;; Whether the component sees a working directory.
    (func (export "has-cwd") (result i32)
      (call $initial-cwd (i32.const 32))
      (i32.load8_u (i32.const 32)))
    (func (export "random") (result i64) (call $get-random-u64)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-environment" (func $get-environment))
      (export "initial-cwd" (func $initial-cwd))
      (export "get-random-u64" (func $get-random-u64))))))
  (func $variables (result u32) (canon lift (core func $main "variables")))
  (func $has-cwd (result bool) (canon lift (core func $main "has-cwd")))
  (func $random (result u64) (canon lift (core func $main "random")))
  (instance $probe
    (export "variables" (func $variables))
    (export "has-cwd" (func $has-cwd))
    (export "random" (func $random)))
  (export "test:deny/probe" (instance $probe))
)
"#;

/// Composes the probe under `manifest`.
fn compose_probe(
    manifest: &str,
) -> Result<nanoproc_linker::Composition, nanoproc_linker::ComposeError> {
    let manifest = Manifest::parse("nanoproc.toml", manifest.to_string())?;
    let bytes = IndexMap::from([("probe".to_string(), wat::parse_str(PROBE).unwrap())]);
    compose(&manifest, &bytes)
}

const UNGRANTED: &str = "[app]\nexport = [\"probe\"]\n[components.probe]\npath = \"probe.wasm\"\n";

/// Calls `func` of the composed probe in a host that has WASI in full and
/// an environment with a secret in it: whatever the probe sees came from
/// the host only if the linker let it through.
fn call(app: &[u8], func: &str) -> wasmtime::Result<Val> {
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut wasi = wasmtime_wasi::WasiCtx::builder();
    wasi.env("SECRET", "hunter2").inherit_network();
    let mut store = store(WasiHost::from_builder(wasi));
    let component = Component::new(engine(), app)?;
    let instance = linker.instantiate(&mut store, &component)?;
    let f = export_func(&instance, &mut store, "test:deny/probe", func);
    let mut results = [Val::Bool(false)];
    f.call(&mut store, &[], &mut results)?;
    Ok(results[0].clone())
}

#[test]
fn adapter_imports_that_are_not_granted_are_denied_not_lifted() {
    let composition = compose_probe(UNGRANTED).unwrap();
    let probe = &composition.plan.components[0];
    assert_eq!(
        probe.imports,
        vec![
            (
                "wasi:cli/environment@0.2.12".to_string(),
                Satisfied::Denied(nanoproc_linker::Capability::Env)
            ),
            (
                "wasi:random/random@0.2.12".to_string(),
                Satisfied::Denied(nanoproc_linker::Capability::Random)
            ),
        ]
    );
    let app = nanoproc_linker::ComponentInterface::read(&composition.bytes).unwrap();
    assert!(
        app.imports.is_empty(),
        "a denied import must not reach the host: {:?}",
        app.imports
    );
    // The environment is empty and there is no working directory, although
    // the host has both; random numbers trap rather than being predictable.
    assert_eq!(call(&composition.bytes, "variables").unwrap(), Val::U32(0));
    assert_eq!(
        call(&composition.bytes, "has-cwd").unwrap(),
        Val::Bool(false)
    );
    let trap = call(&composition.bytes, "random").unwrap_err();
    assert_eq!(
        trap.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::UnreachableCodeReached),
        "{trap:?}"
    );
}

#[test]
fn granted_adapter_imports_reach_the_host_and_the_rest_stay_denied() {
    let manifest = format!("{UNGRANTED}grants = {{ env = [\"SECRET\"] }}\n");
    let composition = compose_probe(&manifest).unwrap();
    let app = nanoproc_linker::ComponentInterface::read(&composition.bytes).unwrap();
    let imports: Vec<&str> = app.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(imports, ["wasi:cli/environment@0.2.12"]);
    assert_eq!(call(&composition.bytes, "variables").unwrap(), Val::U32(1));
    let audit = Audit::new(&composition.plan).to_string();
    assert!(
        audit.contains("probe      wasi:random/random@0.2.12    denied random (inert provider)"),
        "{audit}"
    );
}

#[test]
fn strict_mode_refuses_adapter_imports() {
    let manifest = UNGRANTED.replace("[app]\n", "[app]\nstrict = true\n");
    let error = format!("{:#}", compose_probe(&manifest).unwrap_err());
    assert_eq!(
        error,
        "component `probe` imports `wasi:cli/environment@0.2.12`, `wasi:random/random@0.2.12`, which are not granted to it
  caused by: the component's toolchain added these imports (it carries the `wasi_snapshot_preview1` adapter); they would be denied by inert providers, but the app is `strict`
  --> nanoproc.toml:4:1
  help: to grant them, add `env = [\"VAR\"]` and `random = true` under `[components.probe.grants]`"
    );
}

#[test]
fn deny_providers_are_deterministic() {
    let a = compose_probe(UNGRANTED).unwrap().bytes;
    let b = compose_probe(UNGRANTED).unwrap().bytes;
    assert_eq!(a, b);
}

/// The slug guest, built for `wasm32-wasip1` with the real preview1
/// adapter, composed with no grants at all.
fn slug_app(grants: &str) -> nanoproc_linker::Composition {
    let manifest =
        format!("[app]\nexport = [\"slug\"]\n[components.slug]\npath = \"slug.wasm\"\n{grants}");
    let manifest = Manifest::parse("nanoproc.toml", manifest).unwrap();
    let bytes = IndexMap::from([("slug".to_string(), nanoproc_tests::component_bytes("slug"))]);
    compose(&manifest, &bytes).unwrap()
}

fn slugify(app: &[u8], linker: &Linker<WasiHost>, text: &str) -> String {
    let mut store = store(WasiHost::from_builder(wasmtime_wasi::WasiCtx::builder()));
    let component = Component::new(engine(), app).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let func = export_func(
        &instance,
        &mut store,
        "nanoproc:slug/slugify@0.1.0",
        "slugify",
    )
    .typed::<(&str,), (String,)>(&store)
    .unwrap();
    func.call(&mut store, (text,)).unwrap().0
}

#[test]
fn a_real_adapter_guest_runs_with_every_adapter_import_denied() {
    let composition = slug_app("");
    let denied: Vec<&str> = composition.plan.components[0]
        .imports
        .iter()
        .filter(|(_, s)| matches!(s, Satisfied::Denied(_)))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(denied.len(), composition.plan.components[0].imports.len());
    assert!(
        denied.contains(&"wasi:filesystem/preopens@0.2.12"),
        "{denied:?}"
    );
    // The app imports nothing, so it instantiates with an empty linker: no
    // host capability exists to be reached.
    let linker = Linker::new(engine());
    for text in ["Hello, World!", "北京 über Straße", ""] {
        assert_eq!(
            slugify(&composition.bytes, &linker, text),
            slug::slugify(text)
        );
    }
}

#[test]
fn a_real_adapter_guest_granted_stderr_gets_it_and_inert_stdin_and_stdout() {
    let composition = slug_app("grants = { stderr = true }\n");
    let app = nanoproc_linker::ComponentInterface::read(&composition.bytes).unwrap();
    let imports: Vec<&str> = app.imports.iter().map(|i| i.name.as_str()).collect();
    // Its streams come from the host, so the host answers its denied stdin
    // and stdout, under names that only nanoproc's host binds.
    assert_eq!(
        imports,
        [
            "wasi:io/error@0.2.12",
            "wasi:io/streams@0.2.12",
            "nanoproc-deny:slug/stdin@0.2.12",
            "nanoproc-deny:slug/stdout@0.2.12",
            "wasi:cli/stderr@0.2.12"
        ]
    );
    // A stock WASI host has nothing to give for them: the app fails closed
    // there instead of reaching the host's real stdin and stdout.
    let mut linker: Linker<WasiHost> = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let component = Component::new(engine(), &composition.bytes).unwrap();
    let Err(refused) = linker.instantiate_pre(&component) else {
        panic!("a stock WASI host took the app");
    };
    assert_eq!(
        format!("{refused:#}"),
        "component imports instance `nanoproc-deny:slug/stdin@0.2.12`, but a matching implementation was not found in the linker: instance export `get-stdin` has the wrong type: function implementation is missing"
    );
    let app = nanoproc_tests::runtime()
        .load(&composition.bytes, nanoproc_host::Options::default())
        .unwrap();
    let mut instance = app.instantiate().unwrap();
    let (slug,): (String,) = instance
        .call("nanoproc:slug/slugify@0.1.0#slugify", ("A b",))
        .unwrap();
    assert_eq!(slug, "a-b");
}
