//! Components from older wit-component releases, which carry the WASI
//! preview1 adapter without naming it in their top-level `component-name`
//! section: the adapter's core module names itself only in its own `name`
//! section, and a tool nesting such a component puts the adapter one level
//! deeper still.
//!
//! The corpus crate `tests/adapters/` makes them from the core module of the
//! snoop, as `cargo xtask build` leaves it: a Rust `wasm32-wasip1` guest
//! that reaches WASI only through `std` (its exports are bound by
//! wit-bindgen, whose component-type section each release reads), made a
//! component by each release's own `ComponentEncoder` with the reactor
//! adapter of its era. The crate is built the first time a test here needs
//! it, into `target/adapters/`, and kept there. What each era looks like:
//!
//! | variant | adapter | WASI | where the adapter is named |
//! | --- | --- | --- | --- |
//! | `wit-component-0.212` | wasmtime 23.0.2's | 0.2.0 | its own `name` section |
//! | `wit-component-0.219` | wasmtime 27.0.0's | 0.2.2 | its own `name` section |
//! | `wit-component-0.226` | wasmtime 30.0.2's | 0.2.3 | its own `name` section |
//! | `…-nested` | the same | the same | the same, in a nested component |
//!
//! Every era imports the same 17 interfaces, all of them the adapter's (the
//! snoop's world imports nothing): `wasi:cli/environment`, `exit`, `stdin`,
//! `stdout`, `stderr`, the five `terminal-*` interfaces, `wasi:io/error`,
//! `poll` and `streams`, `wasi:clocks/monotonic-clock` and `wall-clock`,
//! `wasi:filesystem/types` and `preopens`; no `wasi:random`, no sockets.
//! The components `cargo xtask build` makes today import the same ones at
//! 0.2.12, the adapter named in the top-level `component-name` section.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use indexmap::IndexMap;
use nanoproc_host::{Instance, Options, Stdio};
use nanoproc_linker::{Audit, Capability, Composition, Manifest, Satisfied, compose};
use nanoproc_tests::{project_root, runtime};
use wasmparser::{ComponentName, KnownCustom, Name, Parser, Payload};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::host::Refused;

/// The corpus crate, relative to the project root.
const CORPUS_CRATE: &str = "tests/adapters";
/// Its cargo target directory, relative to the project root; the corpus is
/// written into `corpus/` inside it.
const CORPUS_TARGET_DIR: &str = "target/adapters";
/// The core module the corpus is made from, as `cargo xtask build` leaves
/// it, relative to the project root.
const CORE_MODULE: &str = "target/wasm/wasm32-wasip1/guest/guest_snoop.wasm";

/// One component of the corpus.
struct Variant {
    /// The wit-component release that made it.
    release: &'static str,
    /// The WASI version its adapter imports.
    wasi: &'static str,
    /// Whether it is nested inside an outer component.
    nested: bool,
}

impl Variant {
    /// The file the corpus crate writes it to, without `.wasm`.
    fn name(&self) -> String {
        format!(
            "wit-component-{}{}",
            self.release,
            if self.nested { "-nested" } else { "" }
        )
    }
}

/// Every variant the corpus crate makes, oldest release first.
const VARIANTS: &[Variant] = &[
    Variant {
        release: "0.212",
        wasi: "0.2.0",
        nested: false,
    },
    Variant {
        release: "0.212",
        wasi: "0.2.0",
        nested: true,
    },
    Variant {
        release: "0.219",
        wasi: "0.2.2",
        nested: false,
    },
    Variant {
        release: "0.219",
        wasi: "0.2.2",
        nested: true,
    },
    Variant {
        release: "0.226",
        wasi: "0.2.3",
        nested: false,
    },
    Variant {
        release: "0.226",
        wasi: "0.2.3",
        nested: true,
    },
];

/// The interfaces every era of the adapter imports, in the order the
/// components list them, without their version.
const ADAPTER_IMPORTS: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// The command that builds and runs the corpus crate, from the project root.
fn corpus_command() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(project_root())
        .args(["run", "--quiet", "--locked", "--manifest-path"])
        .arg(Path::new(CORPUS_CRATE).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(CORPUS_TARGET_DIR)
        .arg("--")
        .arg(CORE_MODULE)
        .arg(Path::new(CORPUS_TARGET_DIR).join("corpus"));
    // The workspace's build settings are not the corpus crate's: other
    // flags would rebuild it, another target would give nothing to run.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
    ] {
        command.env_remove(var);
    }
    command
}

/// The folder of the corpus, made once per test process (the corpus crate
/// is built the first time, about a minute, and then kept).
///
/// # Panics
///
/// When the snoop's core module has not been built, or the corpus crate
/// fails, with the command that builds it.
fn corpus() -> &'static Path {
    static CORPUS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match CORPUS.get_or_init(make_corpus) {
        Ok(dir) => dir,
        Err(why) => panic!("{why}"),
    }
}

/// Builds and runs the corpus crate, or says why it cannot.
fn make_corpus() -> Result<PathBuf, String> {
    let root = project_root();
    if !root.join(CORE_MODULE).is_file() {
        return Err(format!(
            "`{CORE_MODULE}` is missing: build the guests with `cargo xtask build`"
        ));
    }
    if !root
        .join(CORPUS_TARGET_DIR)
        .join("debug/nanoproc-adapters")
        .exists()
    {
        // Past the test harness's capture: the test is slow only this time.
        let _ = writeln!(
            std::io::stderr(),
            "building the adapter corpus crate `{CORPUS_CRATE}` once (a minute or two)"
        );
    }
    let shown = format!(
        "cargo run --locked --manifest-path {CORPUS_CRATE}/Cargo.toml --target-dir \
         {CORPUS_TARGET_DIR} -- {CORE_MODULE} {CORPUS_TARGET_DIR}/corpus"
    );
    let output = corpus_command()
        .output()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the adapter corpus cannot be made ({}); run `{shown}` from the project's root to see why:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(root.join(CORPUS_TARGET_DIR).join("corpus"))
}

/// The bytes of `variant`.
fn bytes(variant: &Variant) -> Vec<u8> {
    let path = corpus().join(format!("{}.wasm", variant.name()));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Where `bytes` name a core module `wit-component:adapter:…`: for each
/// naming, the section that names it (`component-name`, or the module's
/// own `name`) and how many components are around the module.
fn adapter_names(bytes: &[u8]) -> Vec<(&'static str, usize)> {
    const PREFIX: &str = "wit-component:adapter:";
    let mut found = Vec::new();
    // Whether each binary being read is a component, innermost last.
    let mut open: Vec<bool> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            Payload::Version { encoding, .. } => {
                open.push(encoding == wasmparser::Encoding::Component);
            }
            Payload::End(_) => {
                open.pop();
            }
            Payload::CustomSection(section) => {
                let components = open.iter().filter(|c| **c).count();
                match section.as_known() {
                    KnownCustom::ComponentName(names) => {
                        for name in names {
                            if let ComponentName::CoreModules(map) = name.unwrap() {
                                for naming in map {
                                    if naming.unwrap().name.starts_with(PREFIX) {
                                        found.push(("component-name", components));
                                    }
                                }
                            }
                        }
                    }
                    KnownCustom::Name(names) => {
                        for name in names {
                            if let Name::Module { name, .. } = name.unwrap()
                                && name.starts_with(PREFIX)
                            {
                                found.push(("name", components));
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    found
}

/// `variant` composed alone under `grants` (the `[components.snoop]`
/// table's `grants` value, or none).
fn composed(variant: &Variant, grants: Option<&str>) -> Composition {
    let mut manifest =
        "[app]\nexport = [\"snoop\"]\n[components.snoop]\npath = \"snoop.wasm\"\n".to_string();
    if let Some(grants) = grants {
        manifest.push_str(&format!("grants = {grants}\n"));
    }
    let manifest = Manifest::parse("nanoproc.toml", manifest).unwrap();
    let bytes = IndexMap::from([("snoop".to_string(), bytes(variant))]);
    compose(&manifest, &bytes).unwrap_or_else(|e| panic!("{}: {e:#}", variant.name()))
}

const SNOOPING: &str = "nanoproc:hostile/snooping@0.1.0";

/// What the snoop gets for each thing it tries through the standard
/// library, one line each.
fn snoop(instance: &mut Instance) -> Vec<String> {
    let mut seen = Vec::new();
    let call = |f: &str| format!("{SNOOPING}#{f}");
    let (read,): (Result<String, String>,) = instance
        .call(&call("read-file"), ("/etc/passwd".to_string(),))
        .unwrap();
    seen.push(format!("read /etc/passwd: {read:?}"));
    let (listed,): (Result<Vec<String>, String>,) = instance
        .call(&call("list-dir"), ("/".to_string(),))
        .unwrap();
    seen.push(format!("list /: {listed:?}"));
    let (variables,): (Vec<String>,) = instance.call(&call("variables"), ()).unwrap();
    seen.push(format!("variables: {variables:?}"));
    for (f, text) in [("print", "out\n"), ("eprint", "err\n")] {
        let (printed,): (Result<(), String>,) =
            instance.call(&call(f), (text.to_string(),)).unwrap();
        seen.push(format!("{f}: {printed:?}"));
    }
    let (read,): (Result<String, String>,) = instance.call(&call("read-stdin"), ()).unwrap();
    seen.push(format!("stdin: {read:?}"));
    let (time,): (Result<u64, String>,) = instance.call(&call("unix-time"), ()).unwrap();
    seen.push(format!("unix time: {time:?}"));
    let (slept,): (u64,) = instance.call(&call("sleep"), (20u32,)).unwrap();
    seen.push(format!("sleep 20 ms: {slept} ms passed"));
    seen
}

/// What the snoop gets with every import denied, and with all but stdout
/// and the streams denied: an error where the standard library has one to
/// give, nothing else, and a clock that stands still; no trap.
const ANSWERS: &[&str] = &[
    "read /etc/passwd: Err(\"Capabilities insufficient (os error 76)\")",
    "list /: Err(\"Capabilities insufficient (os error 76)\")",
    "variables: []",
    "print: Ok(())",
    "eprint: Ok(())",
    "stdin: Ok(\"\")",
    "unix time: Ok(0)",
    "sleep 20 ms: 0 ms passed",
];

/// What running the snoop in the host showed.
#[derive(Debug, PartialEq)]
struct Run {
    /// What it got, as [`snoop`] says.
    seen: Vec<String>,
    /// What reached its stdout.
    stdout: String,
    /// What reached its stderr.
    stderr: String,
    /// The refusals the host reported.
    refused: Vec<String>,
}

/// Runs the composed `app` in the host, stdout and stderr into pipes.
fn run(app: &Composition) -> Run {
    let refused = Refused::default();
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 16),
        MemoryOutputPipe::new(1 << 16),
    );
    let options = Options {
        stdout: Stdio::Pipe(stdout.clone()),
        stderr: Stdio::Pipe(stderr.clone()),
        ..refused.options(project_root())
    };
    let app = runtime().load(&app.bytes, options).unwrap();
    let mut instance = app.instantiate().unwrap();
    let seen = snoop(&mut instance);
    let text = |pipe: MemoryOutputPipe| String::from_utf8(pipe.contents().to_vec()).unwrap();
    Run {
        seen,
        stdout: text(stdout),
        stderr: text(stderr),
        refused: refused.take(),
    }
}

/// The capability the linker takes each of [`ADAPTER_IMPORTS`] for.
fn capability(interface: &str) -> Capability {
    match interface {
        "wasi:cli/environment" => Capability::Env,
        "wasi:cli/exit" => Capability::Exit,
        "wasi:cli/stdin" | "wasi:cli/terminal-stdin" => Capability::Stdin,
        "wasi:cli/stdout" | "wasi:cli/terminal-stdout" => Capability::Stdout,
        "wasi:cli/stderr" | "wasi:cli/terminal-stderr" => Capability::Stderr,
        "wasi:clocks/monotonic-clock" | "wasi:clocks/wall-clock" => Capability::Clocks,
        "wasi:filesystem/types" | "wasi:filesystem/preopens" => Capability::Dirs,
        _ => Capability::Io,
    }
}

/// How the plan of `app` satisfies each import, as the audit shows it, and
/// as `granted` (the capabilities granted) says it should be: granted, or
/// else denied.
fn check_plan(variant: &Variant, app: &Composition, granted: &[Capability]) {
    let expected: Vec<(String, Satisfied)> = ADAPTER_IMPORTS
        .iter()
        .map(|interface| {
            let capability = capability(interface);
            let satisfied = if granted.contains(&capability) {
                Satisfied::Granted(capability)
            } else {
                Satisfied::Denied(capability)
            };
            (format!("{interface}@{}", variant.wasi), satisfied)
        })
        .collect();
    assert_eq!(
        app.plan.components[0].imports,
        expected,
        "{}",
        variant.name()
    );
    // The audit says the same, one line per import.
    let audit = Audit::new(&app.plan).to_string();
    for (import, satisfied) in &expected {
        let line = audit
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(import.as_str()))
            .unwrap_or_else(|| panic!("the audit has no line for `{import}`:\n{audit}"));
        let by = line.split_whitespace().nth(2).unwrap();
        let word = match satisfied {
            Satisfied::Denied(_) => "denied",
            _ => "granted",
        };
        assert_eq!(by, word, "{}: {line}", variant.name());
    }
}

#[test]
fn every_variant_carries_the_adapter_where_its_release_put_it() {
    for variant in VARIANTS {
        let bytes = bytes(variant);
        // No `component-name` section names the adapter (the only place
        // nanoproc once looked): its own `name` section does, in the
        // component itself or one level deeper.
        let depth = if variant.nested { 2 } else { 1 };
        assert_eq!(
            adapter_names(&bytes),
            [("name", depth)],
            "{}",
            variant.name()
        );
        let interface = nanoproc_linker::ComponentInterface::read(&bytes).unwrap();
        let imports: Vec<&str> = interface.imports.iter().map(|i| i.name.as_str()).collect();
        let expected: Vec<String> = ADAPTER_IMPORTS
            .iter()
            .map(|name| format!("{name}@{}", variant.wasi))
            .collect();
        assert_eq!(imports, expected, "{}", variant.name());
        let exports: Vec<&str> = interface.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(exports, [SNOOPING], "{}", variant.name());
        // The linker names the adapter it found where an app is `strict`.
        let manifest = Manifest::parse(
            "nanoproc.toml",
            "[app]\nstrict = true\nexport = [\"snoop\"]\n[components.snoop]\npath = \"snoop.wasm\"\n"
                .to_string(),
        )
        .unwrap();
        let error = compose(&manifest, &IndexMap::from([("snoop".to_string(), bytes)]))
            .map(|_| ())
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("it carries the `wasi_snapshot_preview1` adapter"),
            "{}: {error:#}",
            variant.name()
        );
    }
}

/// With nothing granted, every import is denied and answered by the deny
/// providers inside the app: the host is asked for nothing.
fn nothing_granted(variant: &Variant) {
    let app = composed(variant, None);
    check_plan(variant, &app, &[]);
    let audit = Audit::new(&app.plan).to_string();
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.ends_with("(inert provider)"))
            .count(),
        ADAPTER_IMPORTS.len(),
        "{audit}"
    );
    let imports = nanoproc_linker::ComponentInterface::read(&app.bytes)
        .unwrap()
        .imports;
    assert!(imports.is_empty(), "{}: {imports:?}", variant.name());
    assert_eq!(
        run(&app),
        Run {
            seen: ANSWERS.iter().map(ToString::to_string).collect(),
            stdout: String::new(),
            stderr: String::new(),
            refused: Vec::new(),
        },
        "{}",
        variant.name()
    );
}

/// Granted only stdout, it prints there; the streams it takes from the host
/// come with the grant, and the rest stays denied, stderr's writes refused
/// by the host and discarded without an error.
fn only_stdout_granted(variant: &Variant) {
    let app = composed(variant, Some("{ stdout = true }"));
    check_plan(variant, &app, &[Capability::Stdout, Capability::Io]);
    assert_eq!(
        run(&app),
        Run {
            seen: ANSWERS.iter().map(ToString::to_string).collect(),
            stdout: "out\n".to_string(),
            stderr: String::new(),
            refused: vec![
                "refused `snoop` writing 4 bytes to stderr: not granted (discarded, no error)"
                    .to_string()
            ],
        },
        "{}",
        variant.name()
    );
}

/// The tests of each variant, in a module named after it.
macro_rules! variant_tests {
    ($($module:ident: $index:expr,)*) => {$(
        mod $module {
            #[test]
            fn composed_with_nothing_granted_every_import_is_denied_and_answered() {
                super::nothing_granted(&super::VARIANTS[$index]);
            }

            #[test]
            fn granted_only_stdout_it_prints_and_the_rest_is_denied() {
                super::only_stdout_granted(&super::VARIANTS[$index]);
            }
        }
    )*};
}

variant_tests! {
    wit_component_0_212: 0,
    wit_component_0_212_nested: 1,
    wit_component_0_219: 2,
    wit_component_0_219_nested: 3,
    wit_component_0_226: 4,
    wit_component_0_226_nested: 5,
}
