//! Every function of every WASI 0.2 interface, at every 0.2.x version a
//! toolchain may emit: denied, each has the answer SECURITY.md's table
//! gives; denied or granted, an app importing all of them composes and
//! instantiates in nanoproc's host.
//!
//! The interfaces are WASI's own WIT, as wasmtime-wasi-http ships it (the
//! version the host provides); older 0.2 versions are that WIT under the
//! older version number, as a component built against it imports it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use indexmap::IndexMap;
use nanoproc_linker::{Capability, Manifest, Satisfied, compose, denied_answers};
use nanoproc_tests::{project_root, runtime};
use wit_parser::{InterfaceId, Resolve, Stability, World, WorldId, WorldItem, WorldKey};

/// The WASI version the host provides.
const HOST_VERSION: &str = "0.2.12";
/// The WASI 0.3 version the host provides.
const HOST_P3_VERSION: &str = "0.3.0";
/// Where SECURITY.md's table of denied answers starts and ends.
const TABLE_START: &str = "<!-- denied answers: start -->";
const TABLE_END: &str = "<!-- denied answers: end -->";
/// Where SECURITY.md's table of WASI 0.3's denied answers starts and ends.
const P3_TABLE_START: &str = "<!-- denied WASI 0.3 answers: start -->";
const P3_TABLE_END: &str = "<!-- denied WASI 0.3 answers: end -->";

/// The directory of wasmtime-wasi-http's crate, which ships WASI's WIT
/// packages: WASI 0.2 (`wasi:http` included) in `wit/deps`, WASI 0.3 in
/// `src/p3/wit/deps`.
fn wasi_http_crate() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let output = std::process::Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(project_root().join("Cargo.toml"))
            .output()
            .unwrap();
        assert!(output.status.success(), "cargo metadata failed");
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let manifest = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "wasmtime-wasi-http")
            .and_then(|p| p["manifest_path"].as_str())
            .expect("wasmtime-wasi-http is a dependency");
        Path::new(manifest).parent().unwrap().to_path_buf()
    })
}

/// The directory of WASI 0.2's WIT packages.
fn wasi_wit_dir() -> PathBuf {
    wasi_http_crate().join("wit/deps")
}

/// WASI's packages under `version`, and a world importing every interface
/// of them.
fn wasi_world(version: &str) -> (Resolve, WorldId, Vec<InterfaceId>) {
    let mut resolve = Resolve::default();
    // Each package after those it uses.
    for package in [
        "io",
        "clocks",
        "random",
        "filesystem",
        "sockets",
        "cli",
        "http",
    ] {
        let path = wasi_wit_dir().join(format!("{package}.wit"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Under an older version, the gates naming newer ones go.
        let text: String = text
            .lines()
            .filter(|line| {
                let gate = line.trim_start();
                version == HOST_VERSION
                    || !(gate.starts_with("@since(") || gate.starts_with("@deprecated("))
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let text = text.replace(&format!("@{HOST_VERSION}"), &format!("@{version}"));
        resolve
            .push_str(&path, &text)
            .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    }
    // Every interface a component may import: `wasi:cli/run` and
    // `wasi:http/incoming-handler` are exported.
    let (world, interfaces) = every_import(&mut resolve, &["run", "incoming-handler"]);
    (resolve, world, interfaces)
}

/// WASI 0.3's packages as wasmtime-wasi-http ships them, and a world
/// importing every interface of them the host provides.
fn wasi_p3_world() -> (Resolve, WorldId, Vec<InterfaceId>) {
    let mut resolve = Resolve::default();
    push_p3(&mut resolve);
    // `wasi:cli/run` and `wasi:http/handler` are exported (a middleware's
    // import of the next handler is another component's export).
    let (world, interfaces) = every_import(&mut resolve, &["run", "handler"]);
    (resolve, world, interfaces)
}

/// WASI 0.3's packages the host provides, added to `resolve`.
fn push_p3(resolve: &mut Resolve) {
    for package in ["clocks", "random", "filesystem", "sockets", "cli", "http"] {
        let path = wasi_http_crate().join(format!("src/p3/wit/deps/{package}.wit"));
        resolve
            .push_file(&path)
            .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    }
}

/// A world in `resolve` importing every interface it has but those named
/// `exported`.
fn every_import(resolve: &mut Resolve, exported: &[&str]) -> (WorldId, Vec<InterfaceId>) {
    let interfaces: Vec<InterfaceId> = resolve
        .interfaces
        .iter()
        .filter(|(_, i)| i.name.as_deref().is_some_and(|n| !exported.contains(&n)))
        .map(|(id, _)| id)
        .collect();
    let item = |id: InterfaceId| {
        (
            WorldKey::Interface(id),
            WorldItem::Interface {
                id,
                stability: Stability::Unknown,
                span: Default::default(),
                docs: Default::default(),
                external_id: None,
            },
        )
    };
    let world = resolve.worlds.alloc(World {
        name: "every-wasi-interface".to_string(),
        imports: interfaces.iter().map(|id| item(*id)).collect(),
        exports: Default::default(),
        package: None,
        docs: Default::default(),
        stability: Stability::Unknown,
        includes: Default::default(),
        span: Default::default(),
    });
    let package = resolve.packages.alloc(wit_parser::Package {
        name: wit_parser::PackageName {
            namespace: "test".to_string(),
            name: "every-wasi".to_string(),
            version: None,
        },
        docs: Default::default(),
        interfaces: Default::default(),
        worlds: [("every-wasi-interface".to_string(), world)].into(),
    });
    resolve.worlds[world].package = Some(package);
    (world, interfaces)
}

/// A component importing every WASI interface at `version`, whose core
/// module is named as the preview1 adapter names its own, so that the
/// linker treats its imports as a toolchain's: denied unless granted.
fn every_wasi_component(version: &str) -> Vec<u8> {
    let (resolve, world, _) = wasi_world(version);
    component_of_world(&resolve, world)
}

/// A component of `world`, whose core module is named as the preview1
/// adapter names its own.
fn component_of_world(resolve: &Resolve, world: WorldId) -> Vec<u8> {
    let mut module = wit_component::dummy_module(
        resolve,
        world,
        wit_parser::ManglingAndAbi::Legacy(wit_parser::LiftLowerAbi::Sync),
    );
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    let mut bytes = wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    let mut modules = wasm_encoder::NameMap::new();
    modules.append(0, "wit-component:adapter:wasi_snapshot_preview1");
    let mut names = wasm_encoder::ComponentNameSection::new();
    names.core_modules(&modules);
    // A custom section: its id 0, then its size, name and contents.
    bytes.push(0);
    wasm_encoder::Encode::encode(&names, &mut bytes);
    bytes
}

/// Composes the component of [`every_wasi_component`] at `version` alone,
/// granted what `grants` (a TOML inline table) says.
fn compose_every_wasi(version: &str, grants: &str) -> nanoproc_linker::Composition {
    compose_alone(every_wasi_component(version), grants)
        .unwrap_or_else(|e| panic!("WASI {version}: {e}"))
}

/// Composes `component` alone, granted what `grants` (a TOML inline
/// table) says.
fn compose_alone(
    component: Vec<u8>,
    grants: &str,
) -> Result<nanoproc_linker::Composition, nanoproc_linker::ComposeError> {
    let manifest = Manifest::parse(
        "nanoproc.toml",
        format!(
            "[app]\nexport = [\"all\"]\n[components.all]\npath = \"all.wasm\"\ngrants = {grants}\n"
        ),
    )
    .unwrap();
    let bytes = IndexMap::from([("all".to_string(), component)]);
    compose(&manifest, &bytes)
}

/// SECURITY.md's table of how each denied function answers, as the
/// linker makes its providers.
fn denied_table((resolve, _, interfaces): (Resolve, WorldId, Vec<InterfaceId>)) -> String {
    let mut table =
        String::from("| interface | function | answer when denied |\n| --- | --- | --- |\n");
    for row in denied_answers(&resolve, &interfaces) {
        table.push_str(&format!(
            "| `{}` | `{}` | {} |\n",
            row.interface,
            row.function,
            row.answer.replace('|', "\\|")
        ));
    }
    table
}

#[test]
fn security_md_lists_the_denied_answer_of_every_wasi_function() {
    let path = project_root().join("SECURITY.md");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let mut stale = Vec::new();
    for (start_marker, end_marker, table) in [
        (
            TABLE_START,
            TABLE_END,
            denied_table(wasi_world(HOST_VERSION)),
        ),
        (P3_TABLE_START, P3_TABLE_END, denied_table(wasi_p3_world())),
    ] {
        let start = text
            .find(start_marker)
            .unwrap_or_else(|| panic!("SECURITY.md has the marker {start_marker}"));
        let end = text
            .find(end_marker)
            .unwrap_or_else(|| panic!("SECURITY.md has the marker {end_marker}"));
        let written = &text[start + start_marker.len()..end];
        if written.trim() != table.trim() {
            stale.push(start_marker);
            text = format!("{}{start_marker}\n{table}{}", &text[..start], &text[end..]);
        }
    }
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "SECURITY.md's tables after {stale:?} are out of date: run with BLESS=1 to rewrite them"
    );
}

/// The linker's list of the WASI the host provides (`linker/src/wasi.rs`),
/// as it is written from WASI's WIT.
fn provided_table() -> String {
    let mut text = format!(
        "//! The WASI the host provides: every interface of WASI {HOST_VERSION} and of WASI\n\
         //! {HOST_P3_VERSION}, with its functions, as wasmtime-wasi and wasmtime-wasi-http ship\n\
         //! their WIT. Written by `tests/all/wasi.rs` (`BLESS=1` rewrites it), which\n\
         //! fails when it differs from that WIT; an app importing all of it\n\
         //! instantiates in the host.\n\
         \n\
         /// The WASI 0.2 release the host provides, as its interfaces are named.\n\
         pub const WASI_VERSION: &str = \"{HOST_VERSION}\";\n\
         \n\
         /// The WASI 0.3 release the host provides, as its interfaces are named.\n\
         pub const WASI_P3_VERSION: &str = \"{HOST_P3_VERSION}\";\n\
         \n"
    );
    let (resolve, _, interfaces) = wasi_world(HOST_VERSION);
    text.push_str(&functions_table(
        "Each WASI 0.2 interface the host provides",
        "PROVIDED",
        &resolve,
        &interfaces,
    ));
    text.push('\n');
    let (resolve, _, interfaces) = wasi_p3_world();
    text.push_str(&functions_table(
        "Each WASI 0.3 interface the host provides",
        "PROVIDED_P3",
        &resolve,
        &interfaces,
    ));
    text
}

/// A `const` named `name` listing each of `interfaces` without its
/// version, with the names of its functions, sorted.
fn functions_table(doc: &str, name: &str, resolve: &Resolve, interfaces: &[InterfaceId]) -> String {
    let mut text = format!(
        "/// {doc}, without its version, with the\n\
         /// names of its functions, sorted.\n\
         #[rustfmt::skip]\n\
         pub(crate) const {name}: &[(&str, &[&str])] = &[\n"
    );
    let mut rows: Vec<(String, Vec<String>)> = interfaces
        .iter()
        .map(|id| {
            let name = resolve.id_of(*id).unwrap();
            let base = name.split('@').next().unwrap().to_string();
            let mut functions: Vec<String> =
                resolve.interfaces[*id].functions.keys().cloned().collect();
            functions.sort();
            (base, functions)
        })
        .collect();
    rows.sort();
    for (base, functions) in rows {
        text.push_str(&format!("    (\n        \"{base}\",\n        &[\n"));
        for function in functions {
            text.push_str(&format!("            \"{function}\",\n"));
        }
        text.push_str("        ],\n    ),\n");
    }
    text.push_str("];\n");
    text
}

#[test]
fn the_linker_lists_the_wasi_the_host_provides() {
    let path = project_root().join("linker/src/wasi.rs");
    let table = provided_table();
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &table).unwrap();
        return;
    }
    assert!(
        written == table,
        "linker/src/wasi.rs is out of date: run with BLESS=1 to rewrite it"
    );
    assert_eq!(nanoproc_linker::WASI_VERSION, HOST_VERSION);
    assert_eq!(nanoproc_linker::WASI_P3_VERSION, HOST_P3_VERSION);
}

#[test]
fn a_denied_wasi_function_traps_only_where_no_answer_can_be_right() {
    let (resolve, _, interfaces) = wasi_world(HOST_VERSION);
    let answers = denied_answers(&resolve, &interfaces);
    assert!(answers.len() > 100, "{} functions", answers.len());
    let traps: Vec<String> = answers
        .iter()
        .filter(|a| a.answer.starts_with("traps"))
        .map(|a| format!("{}#{}", a.interface, a.function))
        .collect();
    // Random bytes and exit by design; the rest need a handle that a denied
    // component never gets (every function making one answers an error).
    assert_eq!(
        traps,
        [
            "wasi:random/insecure-seed#insecure-seed",
            "wasi:random/insecure#get-insecure-random-bytes",
            "wasi:random/insecure#get-insecure-random-u64",
            "wasi:random/random#get-random-bytes",
            "wasi:random/random#get-random-u64",
            "wasi:cli/exit#exit",
            "wasi:cli/exit#exit-with-code",
        ]
    );
}

#[test]
fn every_wasi_0_2_version_is_denied_granted_and_audited_alike() {
    let count = wasi_world(HOST_VERSION).2.len();
    // 0.2.13 stands for a release newer than the host's: the same
    // interfaces, which the host provides under the names it knows.
    for minor in 0..=13 {
        let version = format!("0.2.{minor}");
        // Denied: every import answered inside the app, which imports nothing.
        let denied = compose_every_wasi(&version, "{}");
        let imports = &denied.plan.components[0].imports;
        assert_eq!(imports.len(), count, "WASI {version}");
        assert!(
            imports
                .iter()
                .all(|(_, s)| matches!(s, Satisfied::Denied(_))),
            "WASI {version}: {imports:?}"
        );
        let app = nanoproc_linker::ComponentInterface::read(&denied.bytes).unwrap();
        assert_eq!(app.imports.len(), 0, "WASI {version}");
        let audit = nanoproc_linker::Audit::new(&denied.plan).to_string();
        assert_eq!(
            audit.matches(&format!("@{version} ")).count(),
            count,
            "WASI {version}: {audit}"
        );
        assert_eq!(audit.matches("(inert provider)").count(), count, "{audit}");
        let options = nanoproc_host::Options {
            base_dir: project_root().to_path_buf(),
            ..Default::default()
        };
        runtime()
            .load(&denied.bytes, options)
            .unwrap_or_else(|e| panic!("WASI {version} denied: {e:#}"))
            .instantiate()
            .unwrap_or_else(|e| panic!("WASI {version} denied: {e:#}"));

        // Granted: every import the host's, under the standard names at
        // the version the component asked for.
        let granted = compose_every_wasi(&version, EVERYTHING);
        let imports = &granted.plan.components[0].imports;
        assert!(
            imports
                .iter()
                .all(|(_, s)| matches!(s, Satisfied::Granted(_))),
            "WASI {version}: {imports:?}"
        );
        let app = nanoproc_linker::ComponentInterface::read(&granted.bytes).unwrap();
        assert_eq!(app.imports.len(), count, "WASI {version}");
        assert!(
            app.imports
                .iter()
                .all(|i| i.name.ends_with(&format!("@{version}"))),
            "WASI {version}: {:?}",
            app.imports
        );
        let options = nanoproc_host::Options {
            base_dir: project_root().to_path_buf(),
            ..Default::default()
        };
        runtime()
            .load(&granted.bytes, options)
            .unwrap_or_else(|e| panic!("WASI {version} granted: {e:#}"))
            .instantiate()
            .unwrap_or_else(|e| panic!("WASI {version} granted: {e:#}"));
    }
}

/// Every grant a manifest can give, as a TOML inline table.
const EVERYTHING: &str = "{ stdin = true, stdout = true, stderr = true, env = [\"HOME\"], args = true, exit = true, clocks = true, random = true, dirs = [{ host = \".\", mode = \"read-only\" }], network = [\"127.0.0.1:1\"], http = [\"https://example.com\"] }";

#[test]
fn every_wasi_0_3_function_is_granted_and_instantiated_in_the_host() {
    let (resolve, world, interfaces) = wasi_p3_world();
    let granted = compose_alone(component_of_world(&resolve, world), EVERYTHING)
        .unwrap_or_else(|e| panic!("{e}"));
    let imports = &granted.plan.components[0].imports;
    assert_eq!(imports.len(), interfaces.len());
    assert!(
        imports
            .iter()
            .all(|(_, s)| matches!(s, Satisfied::Granted(_))),
        "{imports:?}"
    );
    let app = nanoproc_linker::ComponentInterface::read(&granted.bytes).unwrap();
    assert!(
        app.imports.iter().all(|i| i.name.ends_with("@0.3.0")),
        "{:?}",
        app.imports
    );
    assert!(nanoproc_linker::uses_async(&granted.bytes));
    instantiate(&granted.bytes);
}

#[test]
fn a_component_importing_wasi_0_2_and_0_3_side_by_side_holds_one_grant_for_both() {
    // As Rust's toolchains emit them: WASI 0.3 beside WASI 0.2.
    let (mut resolve, _, _) = wasi_world(HOST_VERSION);
    push_p3(&mut resolve);
    let (world, interfaces) = every_import(&mut resolve, &["run", "incoming-handler", "handler"]);
    let component = component_of_world(&resolve, world);
    let granted = compose_alone(component.clone(), EVERYTHING).unwrap_or_else(|e| panic!("{e}"));
    let imports = &granted.plan.components[0].imports;
    assert_eq!(imports.len(), interfaces.len());
    for version in ["@0.2.12", "@0.3.0"] {
        assert!(imports.iter().any(|(i, _)| i.ends_with(version)));
    }
    assert!(
        imports
            .iter()
            .all(|(_, s)| matches!(s, Satisfied::Granted(_))),
        "{imports:?}"
    );
    instantiate(&granted.bytes);
    // One grant line covers an interface at both versions: without
    // `dirs`, both filesystems are denied (the component counts as a
    // toolchain's, whose ungranted imports are denied).
    let without_dirs = EVERYTHING.replace(", dirs = [{ host = \".\", mode = \"read-only\" }]", "");
    let denied = compose_alone(component, &without_dirs).unwrap_or_else(|e| panic!("{e}"));
    let filesystem: Vec<_> = denied.plan.components[0]
        .imports
        .iter()
        .filter(|(i, _)| i.starts_with("wasi:filesystem/"))
        .collect();
    assert_eq!(filesystem.len(), 4, "{filesystem:?}");
    assert!(
        filesystem
            .iter()
            .all(|(_, s)| matches!(s, Satisfied::Denied(Capability::Dirs))),
        "{filesystem:?}"
    );
    instantiate(&denied.bytes);
}

/// Loads a composed app in the host and instantiates it.
fn instantiate(bytes: &[u8]) {
    let options = nanoproc_host::Options {
        base_dir: project_root().to_path_buf(),
        ..Default::default()
    };
    runtime()
        .load(bytes, options)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .instantiate()
        .unwrap_or_else(|e| panic!("{e:#}"));
}

/// A component of a toolchain's (it carries the preview1 adapter's name)
/// importing WASI 0.3's stdin and stdout, which `probe` uses as a program
/// does: it writes to a stream handed to `write-via-stream` and reads the
/// future that call returns, then reads the stream and the future
/// `read-via-stream` returns. `probe` answers with the status codes of
/// those four operations and the first byte of each future's value, a
/// byte each, in that order.
fn stdio_0_3_probe() -> Vec<u8> {
    let mut resolve = Resolve::default();
    push_p3(&mut resolve);
    let package = resolve
        .push_str(
            "probe.wit",
            "package test:probe;
            world probe {
                import wasi:cli/stdin@0.3.0;
                import wasi:cli/stdout@0.3.0;
                export probe: func() -> u64;
            }",
        )
        .unwrap();
    let world = resolve.select_world(&[package], Some("probe")).unwrap();
    let module = wat::parse_str(
        r#"(module
            (import "wasi:cli/stdout@0.3.0" "write-via-stream" (func $write-via-stream (param i32) (result i32)))
            (import "wasi:cli/stdout@0.3.0" "[stream-new-0]write-via-stream" (func $out-new (result i64)))
            (import "wasi:cli/stdout@0.3.0" "[async-lower][stream-write-0]write-via-stream" (func $out-write (param i32 i32 i32) (result i32)))
            (import "wasi:cli/stdout@0.3.0" "[async-lower][future-read-1]write-via-stream" (func $out-done (param i32 i32) (result i32)))
            (import "wasi:cli/stdin@0.3.0" "read-via-stream" (func $read-via-stream (param i32)))
            (import "wasi:cli/stdin@0.3.0" "[async-lower][stream-read-0]read-via-stream" (func $in-read (param i32 i32 i32) (result i32)))
            (import "wasi:cli/stdin@0.3.0" "[async-lower][future-read-1]read-via-stream" (func $in-done (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
            (func (export "probe") (result i64)
                (local $pair i64) (local $future i32) (local $out i64)
                ;; stdout: a stream of our own, handed over; then write to it.
                call $out-new
                local.set $pair
                local.get $pair
                i32.wrap_i64
                call $write-via-stream
                local.set $future
                (i32.store8 (i32.const 100) (i32.const 104))
                (call $out-write
                    (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32)))
                    (i32.const 100) (i32.const 1))
                i64.extend_i32_u
                local.set $out
                (i32.store8 (i32.const 200) (i32.const 99))
                (call $out-done (local.get $future) (i32.const 200))
                i64.extend_i32_u
                i64.const 8
                i64.shl
                local.get $out
                i64.or
                (i64.shl (i64.load8_u (i32.const 200)) (i64.const 16))
                i64.or
                local.set $out
                ;; stdin: read the stream, then its future.
                (call $read-via-stream (i32.const 300))
                (call $in-read (i32.load (i32.const 300)) (i32.const 400) (i32.const 16))
                i64.extend_i32_u
                i64.const 24
                i64.shl
                local.get $out
                i64.or
                local.set $out
                (i32.store8 (i32.const 500) (i32.const 99))
                (call $in-done (i32.load (i32.const 304)) (i32.const 500))
                i64.extend_i32_u
                i64.const 32
                i64.shl
                local.get $out
                i64.or
                (i64.shl (i64.load8_u (i32.const 500)) (i64.const 40))
                i64.or)
        )"#,
    )
    .unwrap();
    let mut module = module;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    let mut bytes = wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    let mut modules = wasm_encoder::NameMap::new();
    modules.append(0, "wit-component:adapter:wasi_snapshot_preview1");
    let mut names = wasm_encoder::ComponentNameSection::new();
    names.core_modules(&modules);
    bytes.push(0);
    wasm_encoder::Encode::encode(&names, &mut bytes);
    bytes
}

#[test]
fn denied_wasi_0_3_stdio_answers_with_streams_that_end_and_futures_that_resolve() {
    let denied = compose_alone(stdio_0_3_probe(), "{}").unwrap_or_else(|e| panic!("{e}"));
    let imports = &denied.plan.components[0].imports;
    assert!(
        imports
            .iter()
            .all(|(_, s)| matches!(s, Satisfied::Denied(_))),
        "{imports:?}"
    );
    let app = nanoproc_linker::ComponentInterface::read(&denied.bytes).unwrap();
    assert_eq!(app.imports.len(), 0, "{:?}", app.imports);
    let options = nanoproc_host::Options {
        base_dir: project_root().to_path_buf(),
        ..Default::default()
    };
    let mut instance = runtime()
        .load(&denied.bytes, options)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .instantiate()
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (answer,): (u64,) = instance
        .call("probe", ())
        .unwrap_or_else(|e| panic!("{e:#}"));
    // The providers are standard components: stock wasmtime answers alike.
    let wasmtime = nanoproc_tests::peers::wasmtime_cli().unwrap_or_else(|why| panic!("{why}"));
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("probe.wasm");
    std::fs::write(&app, &denied.bytes).unwrap();
    let output = std::process::Command::new(wasmtime)
        .args([
            "run",
            "-W",
            "component-model-async=y",
            "--invoke",
            "probe()",
        ])
        .arg(&app)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        answer.to_string()
    );
    let bytes = answer.to_le_bytes();
    // Status codes: 0 completed, 1 dropped (the other end is gone), with
    // the count above the low four bits.
    assert_eq!(
        bytes[..6],
        [
            1, // the write to stdout: its reader is gone, nothing was taken
            0, // stdout's future: completed
            0, // with `ok`
            1, // the read of stdin: its writer is gone, nothing is there
            0, // stdin's future: completed
            1, // with `err`
        ],
        "{answer:#x}"
    );
}

#[test]
fn a_denied_wasi_0_3_function_traps_only_for_randomness_and_exit() {
    let (resolve, _, interfaces) = wasi_p3_world();
    let answers = denied_answers(&resolve, &interfaces);
    assert!(answers.len() > 80, "{} functions", answers.len());
    let traps: Vec<String> = answers
        .iter()
        .filter(|a| a.answer.starts_with("traps"))
        .map(|a| format!("{}#{}", a.interface, a.function))
        .collect();
    assert_eq!(
        traps,
        [
            "wasi:random/insecure-seed#get-insecure-seed",
            "wasi:random/insecure#get-insecure-random-bytes",
            "wasi:random/insecure#get-insecure-random-u64",
            "wasi:random/random#get-random-bytes",
            "wasi:random/random#get-random-u64",
            "wasi:cli/exit#exit",
            "wasi:cli/exit#exit-with-code",
        ]
    );
}

#[test]
fn two_components_with_their_own_wasi_0_3_directories_and_environments_each_get_their_own() {
    let (resolve, world, _) = wasi_p3_world();
    let component = component_of_world(&resolve, world);
    let grants = |dir: &str, var: &str| {
        EVERYTHING
            .replace("host = \".\"", &format!("host = \"{dir}\""))
            .replace("HOME", var)
    };
    let manifest = Manifest::parse(
        "nanoproc.toml",
        format!(
            "[app]\nexport = [\"a\"]\n[components.a]\npath = \"a.wasm\"\ngrants = {}\n[components.b]\npath = \"b.wasm\"\ngrants = {}\n",
            grants("linker", "PATH"),
            grants("host", "HOME"),
        ),
    )
    .unwrap();
    let bytes = IndexMap::from([
        ("a".to_string(), component.clone()),
        ("b".to_string(), component),
    ]);
    let composed = compose(&manifest, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let engine = nanoproc_tests::engine_for(&composed.bytes);
    let app = wasmtime::component::Component::new(engine, &composed.bytes).unwrap();
    let ty = app.component_type();
    let names: Vec<&str> = ty.imports(engine).map(|(name, _)| name).collect();
    for holder in ["a", "b"] {
        for interface in ["preopens", "environment"] {
            let name = format!("nanoproc-grant:{holder}/{interface}@0.3.0");
            assert!(names.contains(&name.as_str()), "{name} in {names:?}");
        }
    }
    instantiate(&composed.bytes);
}

#[test]
fn different_network_and_http_grants_through_wasi_0_3_are_each_a_components_own() {
    let (resolve, world, _) = wasi_p3_world();
    let component = component_of_world(&resolve, world);
    let bytes = IndexMap::from([
        ("a".to_string(), component.clone()),
        ("b".to_string(), component),
    ]);
    // The app's imports when `b` holds `theirs` beside `a`'s `EVERYTHING`,
    // once the host has instantiated it.
    let imports = |theirs: String| -> Vec<String> {
        let manifest = Manifest::parse(
            "nanoproc.toml",
            format!(
                "[app]\nexport = [\"a\"]\n[components.a]\npath = \"a.wasm\"\ngrants = {EVERYTHING}\n[components.b]\npath = \"b.wasm\"\ngrants = {theirs}\n",
            ),
        )
        .unwrap();
        let composed = compose(&manifest, &bytes).unwrap_or_else(|e| panic!("{e}"));
        instantiate(&composed.bytes);
        let engine = nanoproc_tests::engine_for(&composed.bytes);
        let app = wasmtime::component::Component::new(engine, &composed.bytes).unwrap();
        let ty = app.component_type();
        ty.imports(engine)
            .map(|(name, _)| name.to_string())
            .collect()
    };
    let names = imports(EVERYTHING.replace("127.0.0.1:1", "127.0.0.1:2"));
    for holder in ["a", "b"] {
        let name = format!("nanoproc-grant:{holder}/types@0.3.0");
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    // No component holds the shared one (`ip-name-lookup` takes its types,
    // none of them resources, from the first copy).
    assert!(
        !names.contains(&"wasi:sockets/types@0.3.0".to_string()),
        "{names:?}"
    );
    let names = imports(EVERYTHING.replace("https://example.com", "https://example.org"));
    for holder in ["a", "b"] {
        let name = format!("nanoproc-grant:{holder}/client@0.3.0");
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(
        !names.contains(&"wasi:http/client@0.3.0".to_string()),
        "{names:?}"
    );
}
