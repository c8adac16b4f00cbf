//! `cargo xtask new`: scaffolding a component that builds, composes, runs
//! and passes its test before anyone edits it.
//!
//! A component is four things: its WIT package in `wit/NAME/`, its guest
//! crate in `guests/NAME/`, an app manifest beside the crate that runs it on
//! its own, and a test that composes that manifest and runs the component in
//! wasmtime. A library component has a fifth, its sandbox crate in
//! `guests/NAME/sandbox/`: a native Rust program depends on it with one line
//! and calls the component with typed calls. Everything is written under a
//! scratch directory first and moved into place at the end, so a failure
//! leaves nothing behind.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::ArgGroup;

use crate::guests::{self, Generated};
use crate::relative;

/// What `cargo xtask new` is asked to make.
#[derive(clap::Args)]
#[command(group(ArgGroup::new("kind").required(true).args(["lib", "app", "from_crate"])))]
pub struct Args {
    /// The component's name: lowercase words joined by `-`, such as
    /// `word-count`. It names the guest crate (`guest-NAME`), the WIT package
    /// (`NAMESPACE:NAME`), its world, and the component in manifests.
    name: String,
    /// A library component: exports an interface of functions for other
    /// components to call, and imports nothing. Native Rust programs call
    /// it through its sandbox crate, `guests/NAME/sandbox`.
    #[arg(long)]
    lib: bool,
    /// An app component: a command that runs when the app runs (it exports
    /// `wasi:cli/run`), granted stdout in its manifest.
    #[arg(long)]
    app: bool,
    /// A library component that wraps the crates.io crate CRATE (`CRATE` or
    /// `CRATE@VERSION`), added to its dependencies with `cargo add`; it has
    /// a sandbox crate too.
    #[arg(long, value_name = "CRATE")]
    from_crate: Option<String>,
    /// The namespace of the new WIT package.
    #[arg(long, default_value = "local")]
    namespace: String,
}

/// What kind of component is scaffolded.
enum Kind {
    Lib,
    App,
    FromCrate(String),
}

/// Scaffolds the component `args` asks for in the project at `root`, then
/// builds it once, so that what was made is known to build, and says what
/// to do next.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let kind = create(root, args)?;
    let name = args.name.as_str();
    let manifest = format!("guests/{name}/nanoproc.toml");
    let try_it = match kind {
        Kind::App => format!("cargo xtask run {manifest}"),
        Kind::Lib => format!("cargo xtask run {manifest} --call 'greet(\"world\")'"),
        Kind::FromCrate(_) => format!("cargo xtask run {manifest} --call 'about()'"),
    };
    eprintln!(
        "\nNext:\n  {try_it}\n  cargo test -p guest-{name}\n  \
         cargo xtask watch {manifest}   # again on every change\n\
         Describe what it offers in wit/{name}/{name}.wit and write the code in \
         guests/{name}/src/lib.rs;\nthe comments there say where."
    );
    if let Some(call) = match kind {
        Kind::App => None,
        Kind::Lib => Some("greet(\"world\")"),
        Kind::FromCrate(_) => Some("about()"),
    } {
        let snake = name.replace('-', "_");
        let handle = upper_camel(name);
        eprintln!(
            "\nA native Rust program in this workspace (in a folder at its root) calls it \
             in a nanoprocess\nwith typed calls: one line under [dependencies] in its \
             Cargo.toml,\n  {name}-sandbox = {{ path = \"../guests/{name}/sandbox\" }}\n\
             and in its code\n  let {snake} = {snake}_sandbox::{handle}::new()?; \
             // loads target/components/{name}.wasm\n  \
             println!(\"{{}}\", {snake}.{call}?);"
        );
    }
    Ok(())
}

/// Scaffolds the app component `name` in the project at `root` and builds
/// it once, saying nothing of what to do next.
pub fn app(root: &Path, name: &str) -> Result<()> {
    let args = Args {
        name: name.to_string(),
        lib: false,
        app: true,
        from_crate: None,
        namespace: "local".to_string(),
    };
    create(root, &args).map(drop)
}

/// Scaffolds and builds the component `args` asks for in the project at
/// `root`; returns what kind it is.
fn create(root: &Path, args: &Args) -> Result<Kind> {
    let kind = match (&args.from_crate, args.app) {
        (Some(krate), _) => Kind::FromCrate(krate.clone()),
        (None, true) => Kind::App,
        (None, false) => Kind::Lib,
    };
    check_name(&args.name, "the component's name")?;
    check_name(&args.namespace, "the namespace")?;
    let name = args.name.as_str();
    let guest_dir = root.join("guests").join(name);
    let wit_dir = root.join("wit").join(name);
    for dir in [&guest_dir, &wit_dir] {
        if dir.exists() {
            bail!(
                "{} already exists: choose another name, or remove it first",
                relative(root, dir).display()
            );
        }
    }

    let files = Files::new(name, &args.namespace, &kind, root)?;
    // Written into a scratch directory, then moved into place: either the
    // whole component appears or nothing does.
    // A new workspace member changes the lock file, and a sandbox crate may
    // change the members: both are put back when undone.
    let kept = ["Cargo.lock", "Cargo.toml"]
        .map(|file| (root.join(file), std::fs::read(root.join(file)).ok()));
    let scratch = root.join("target/new").join(name);
    let _ = std::fs::remove_dir_all(&scratch);
    let written = files
        .write(&scratch)
        .and_then(|()| move_into_place(&scratch, root, name));
    let _ = std::fs::remove_dir_all(&scratch);
    written?;
    let created = Created {
        dirs: vec![guest_dir.clone(), wit_dir.clone()],
        kept,
    };
    if !matches!(kind, Kind::App) {
        sandbox_members(root).inspect_err(|_| created.remove())?;
    }

    if let Kind::FromCrate(krate) = &kind {
        eprintln!("xtask: adding `{krate}` to guest-{name}");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["add", "--package", &format!("guest-{name}"), krate])
            .current_dir(root)
            .status()
            .context("cannot run `cargo add`")?;
        if !status.success() {
            created.remove();
            bail!("`cargo add {krate}` failed ({status}); nothing was created");
        }
        let wrapped = wrapped_crate(root, name, krate).inspect_err(|_| created.remove())?;
        let lib = guest_dir.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib)?
            .replace("{{crate}}", &wrapped.package)
            .replace("{{crate-lib}}", &wrapped.lib)
            .replace("{{crate-version}}", &wrapped.version);
        std::fs::write(&lib, text)?;
        let test = guest_dir.join(format!("tests/{name}.rs"));
        let text = std::fs::read_to_string(&test)?
            .replace("{{crate}}", &wrapped.package)
            .replace("{{crate-version}}", &wrapped.version);
        std::fs::write(&test, text)?;
    }

    for (path, _) in &files.0 {
        eprintln!("xtask: created {}", path.display());
    }
    eprintln!("xtask: building it once, to check that it builds");
    guests::build(root, Generated::Write, &|guest| guest == name).with_context(|| {
        format!(
            "the new component does not build yet; its files are in place, \
             fix them or remove {} and {}",
            relative(root, &guest_dir).display(),
            relative(root, &wit_dir).display()
        )
    })?;
    // A project whose workspace does not take in `guests/*` builds nothing.
    if !root
        .join(guests::COMPONENTS_DIR)
        .join(format!("{name}.wasm"))
        .is_file()
    {
        bail!(
            "guests/{name} is not a member of the workspace, so nothing built it: add \
             \"guests/*\" to `members` under `[workspace]` in Cargo.toml"
        );
    }
    Ok(kind)
}

/// `name` (lowercase words joined by `-`) as the Rust type the `sandbox!`
/// macro names its world's handle: `word-count` is `WordCount`.
fn upper_camel(name: &str) -> String {
    name.split('-')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// Directories `new` created, removed again when a later step fails, and
/// the files it may change, as they were before.
struct Created {
    dirs: Vec<PathBuf>,
    kept: [(PathBuf, Option<Vec<u8>>); 2],
}

impl Created {
    fn remove(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        for (path, bytes) in &self.kept {
            if let Some(bytes) = bytes {
                let _ = std::fs::write(path, bytes);
            }
        }
    }
}

/// The workspace member pattern of the sandbox crates.
const SANDBOX_MEMBERS: &str = "guests/*/sandbox";

/// Makes the sandbox crates members of the workspace at `root` when they
/// are not: a project starts without the pattern, since cargo refuses one
/// that matches nothing.
fn sandbox_members(root: &Path) -> Result<()> {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).context("cannot read Cargo.toml")?;
    let manifest: toml::Table = text.parse().context("cannot parse Cargo.toml")?;
    let members = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array);
    if members.is_some_and(|m| m.iter().any(|m| m.as_str() == Some(SANDBOX_MEMBERS))) {
        return Ok(());
    }
    let Some(at) = text.find("\"guests/*\"]") else {
        bail!(
            "add \"{SANDBOX_MEMBERS}\" to `members` under `[workspace]` in Cargo.toml, \
             for the new sandbox crate; nothing was created"
        );
    };
    let edited = format!(
        "{}\"guests/*\", \"{SANDBOX_MEMBERS}\"]{}",
        &text[..at],
        &text[at + "\"guests/*\"]".len()..]
    );
    nanoproc_linker::write_atomically(&path, edited.as_bytes())?;
    eprintln!("xtask: added \"{SANDBOX_MEMBERS}\" to the workspace's members in Cargo.toml");
    Ok(())
}

/// Refuses a name that cannot name a crate, a WIT package and a world alike.
pub fn check_name(name: &str, what: &str) -> Result<()> {
    let words_ok = !name.is_empty()
        && name.split('-').all(|word| {
            word.starts_with(|c: char| c.is_ascii_lowercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !words_ok {
        bail!(
            "{what} `{}` is not lowercase words joined by `-` (such as `word-count`): \
             each word starts with a letter `a`-`z` and has only letters and digits",
            name.escape_debug()
        );
    }
    if KEYWORDS.contains(&name) {
        bail!("{what} `{name}` is a keyword of WIT or Rust: choose another");
    }
    Ok(())
}

/// Words WIT or Rust reserve, which a name made into a world, a package or
/// a module path may not be.
const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "await",
    "bool",
    "borrow",
    "box",
    "break",
    "char",
    "const",
    "constructor",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "export",
    "extern",
    "f32",
    "f64",
    "false",
    "flags",
    "fn",
    "for",
    "func",
    "future",
    "if",
    "impl",
    "import",
    "in",
    "include",
    "interface",
    "let",
    "list",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "option",
    "own",
    "package",
    "priv",
    "pub",
    "record",
    "ref",
    "resource",
    "result",
    "return",
    "s16",
    "s32",
    "s64",
    "s8",
    "self",
    "static",
    "stream",
    "string",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "tuple",
    "type",
    "typeof",
    "u16",
    "u32",
    "u64",
    "u8",
    "union",
    "unsafe",
    "use",
    "variant",
    "where",
    "while",
    "with",
    "world",
    "yield",
];

/// The text of every file of a new component, by path relative to the
/// project root.
struct Files(Vec<(PathBuf, String)>);

impl Files {
    fn new(name: &str, namespace: &str, kind: &Kind, root: &Path) -> Result<Self> {
        let snake = name.replace('-', "_");
        let (wit, lib, test, manifest) = match kind {
            Kind::Lib => (LIB_WIT, LIB_RS, LIB_TEST, LIB_MANIFEST),
            Kind::FromCrate(_) => (CRATE_WIT, CRATE_RS, CRATE_TEST, LIB_MANIFEST),
            Kind::App => (APP_WIT, APP_RS, APP_TEST, APP_MANIFEST),
        };
        let host_imports = match kind {
            Kind::App => "App, MemoryOutputPipe, Options, Runtime, Stdio",
            _ => "App, Options, Runtime",
        };
        let test = format!("{TEST_HEAD}{test}").replace("{{host-imports}}", host_imports);
        let wasi = if matches!(kind, Kind::App) {
            wasi_version()?
        } else {
            String::new()
        };
        let fill = |text: &str| {
            text.replace("{{name}}", name)
                .replace("{{snake}}", &snake)
                .replace("{{namespace}}", namespace)
                .replace("{{namespace-snake}}", &namespace.replace('-', "_"))
                .replace("{{wasi}}", &wasi)
        };
        let mut files = vec![
            (format!("wit/{name}/{name}.wit").into(), fill(wit)),
            (format!("guests/{name}/Cargo.toml").into(), fill(CARGO_TOML)),
            (format!("guests/{name}/src/lib.rs").into(), fill(lib)),
            (format!("guests/{name}/tests/{name}.rs").into(), fill(&test)),
            (
                format!("guests/{name}/nanoproc.toml").into(),
                fill(manifest),
            ),
        ];
        if !matches!(kind, Kind::App) {
            let inherited = workspace_package_keys(root);
            files.extend(sandbox_files(name, namespace, &inherited));
        }
        Ok(Self(files))
    }

    /// Writes every file under `dir`.
    fn write(&self, dir: &Path) -> Result<()> {
        for (path, text) in &self.0 {
            let path = dir.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

/// The sandbox crate of the library component `name`, `guests/NAME/sandbox/`:
/// the `sandbox!` macro over the component's world, for native programs. Of
/// the `[package]` keys a crate may inherit from the workspace, it inherits
/// those in `inherited` and sets the others itself.
fn sandbox_files(name: &str, namespace: &str, inherited: &[String]) -> Vec<(PathBuf, String)> {
    let mut package = String::new();
    for (key, own) in [
        ("version", Some("\"0.1.0\"")),
        ("edition", None),
        ("rust-version", None),
        ("license", None),
        ("publish", Some("false")),
    ] {
        // The guest crate already inherits `edition` and `rust-version`.
        match (inherited.iter().any(|k| k == key), own) {
            (false, Some(value)) => package.push_str(&format!("{key} = {value}\n")),
            (false, None) if key == "license" => {}
            _ => package.push_str(&format!("{key}.workspace = true\n")),
        }
    }
    let fill = |text: &str| {
        text.replace("{{package}}", &package)
            .replace("{{name}}", name)
            .replace("{{camel}}", &upper_camel(name))
            .replace("{{namespace}}", namespace)
    };
    vec![
        (
            format!("guests/{name}/sandbox/Cargo.toml").into(),
            fill(SANDBOX_CARGO_TOML),
        ),
        (
            format!("guests/{name}/sandbox/src/lib.rs").into(),
            fill(SANDBOX_RS),
        ),
    ]
}

/// The keys under `[workspace.package]` in the project's `Cargo.toml`.
fn workspace_package_keys(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let manifest: toml::Table = text.parse().unwrap_or_default();
    manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(toml::Value::as_table)
        .map(|package| package.keys().cloned().collect())
        .unwrap_or_default()
}

/// Moves `guests/NAME` and `wit/NAME` from `scratch` into the project,
/// taking the first back when the second cannot move.
fn move_into_place(scratch: &Path, root: &Path, name: &str) -> Result<()> {
    for dir in ["guests", "wit"] {
        std::fs::create_dir_all(root.join(dir))
            .with_context(|| format!("cannot create {}", root.join(dir).display()))?;
    }
    let guest = root.join("guests").join(name);
    std::fs::rename(scratch.join("guests").join(name), &guest)
        .with_context(|| format!("cannot create {}", guest.display()))?;
    let wit = root.join("wit").join(name);
    std::fs::rename(scratch.join("wit").join(name), &wit).map_err(|e| {
        let _ = std::fs::remove_dir_all(&guest);
        anyhow::Error::new(e).context(format!("cannot create {}", wit.display()))
    })
}

/// The WASI version of the WIT the guests build against (the one nanoproc's
/// host ships), such as `0.2.12`.
pub fn wasi_version() -> Result<String> {
    let wit = guests::load_wit(&crate::nanoproc_root())?;
    wit.resolve
        .package_names
        .keys()
        .find(|package| package.namespace == "wasi" && package.name == "cli")
        .and_then(|package| package.version.as_ref())
        .map(ToString::to_string)
        .context("the WASI WIT the host ships has no versioned `wasi:cli` package")
}

/// The crate a `--from-crate` component wraps, as `cargo add` resolved it.
struct Wrapped {
    package: String,
    lib: String,
    version: String,
}

/// Finds what `cargo add` added to the guest crate `guest-NAME` for `krate`.
fn wrapped_crate(root: &Path, name: &str, krate: &str) -> Result<Wrapped> {
    let wanted = krate.split('@').next().unwrap_or(krate);
    let metadata = guests::cargo_metadata(root)?;
    let packages = metadata["packages"].as_array().into_iter().flatten();
    let package = packages
        .filter(|p| p["name"] == wanted)
        .max_by(|a, b| {
            let version = |p: &serde_json::Value| {
                semver::Version::parse(p["version"].as_str().unwrap_or("0.0.0")).ok()
            };
            version(a).cmp(&version(b))
        })
        .with_context(|| format!("`cargo add` added no package `{wanted}` to guest-{name}"))?;
    let lib = guests::library_name(package, &["lib", "rlib"])
        .with_context(|| format!("the crate `{wanted}` has no library to wrap"))?;
    Ok(Wrapped {
        package: wanted.to_string(),
        lib,
        version: package["version"].as_str().unwrap_or_default().to_string(),
    })
}

const CARGO_TOML: &str = r#"[package]
name = "guest-{{name}}"
description = "The `{{name}}` component"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
publish = false

# A guest is built as a wasm library: `cargo xtask build` makes it a component.
[lib]
crate-type = ["cdylib"]

# What the component's code needs goes here; it builds for
# wasm32-unknown-unknown, so it reaches only what its world imports.
[dependencies]
wit-bindgen.workspace = true

# The test composes `nanoproc.toml` and runs the component in wasmtime.
[dev-dependencies]
anyhow.workspace = true
nanoproc-host.workspace = true
nanoproc-linker.workspace = true

# The WIT world the component implements (in wit/{{name}}/{{name}}.wit). A crate
# that needs Rust's std on WASI (files or clocks through std) adds
# `target = "wasm32-wasip1"`.
[package.metadata.nanoproc]
world = "{{namespace}}:{{name}}/{{name}}"

[lints]
workspace = true
"#;

const SANDBOX_CARGO_TOML: &str = r#"[package]
name = "{{name}}-sandbox"
description = "The `{{name}}` component in a nanoprocess, called from native Rust with typed calls"
{{package}}
[dependencies]
nanoproc-host.workspace = true

[lints]
workspace = true
"#;

const SANDBOX_RS: &str = r#"//! The `{{name}}` component in a nanoprocess, for native Rust programs:
//! [`{{camel}}`] calls it with typed calls, from any number of threads.
//!
//! The component is the one `cargo xtask build` writes;
//! [`{{camel}}::new`] loads it from there, [`{{camel}}::load`] from any path,
//! and [`{{camel}}::from_bytes`] from bytes embedded in the program.

nanoproc_host::sandbox!({
    path: "../../../wit/{{name}}",
    world: "{{namespace}}:{{name}}/{{name}}",
    component: "../../../target/components/{{name}}.wasm",
});

/// What [`{{camel}}::builder`] and a failed call use, so that a program
/// needs no dependency but this crate.
pub use nanoproc_host::{Cause, Fault, Refusal, Refusals, Reuse};
"#;

const LIB_WIT: &str = r#"package {{namespace}}:{{name}}@0.1.0;

/// What the `{{name}}` component offers. Put your own functions and types
/// here: strings, lists, records, variants, options, results and resources
/// cross between components by value.
interface api {
  /// An example to replace: a greeting for `name`.
  greet: func(name: string) -> string;
}

/// The `{{name}}` component exports `api` and imports nothing, so it can
/// reach nothing. Add an `import` for each thing it may use: another
/// component's interface (the app's manifest wires it), or a WASI interface
/// (the manifest must grant it).
world {{name}} {
  export api;
}
"#;

const LIB_RS: &str = r#"//! The `{{name}}` component: implements `api` of wit/{{name}}/{{name}}.wit.

// Generated from the world by `cargo xtask build`, which rewrites it when the
// WIT changes; do not edit.
#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::{{namespace-snake}}::{{snake}}::api::Guest;

struct Component;

impl Guest for Component {
    // Your code goes here: one function for each function of `api` in
    // wit/{{name}}/{{name}}.wit. After changing the WIT, `cargo xtask build`
    // regenerates the bindings and the compiler says what is missing.
    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }
}

bindings::export!(Component with_types_in bindings);
"#;

const LIB_TEST: &str = r##"// Your tests go here: call the component as its users will, arguments and
// results written in WAVE (https://github.com/bytecodealliance/wasm-tools/tree/main/crates/wasm-wave).
#[test]
fn greets_by_name() -> anyhow::Result<()> {
    let greeting = app(Options::default())?.instantiate()?.call_wave(r#"greet("world")"#)?;
    assert_eq!(greeting, r#""Hello, world!""#);
    Ok(())
}
"##;

const LIB_MANIFEST: &str = r#"# The app that runs the `{{name}}` component on its own, for trying it and
# for its test:
#
#     cargo xtask run guests/{{name}}/nanoproc.toml --call 'FUNCTION(ARGS)'
[app]
name = "{{name}}"
export = ["{{name}}"]

[components.{{name}}]
guest = "{{name}}"
# It is granted nothing. Whatever its world imports must be wired to another
# component or granted here, such as
#
#     [components.{{name}}.grants]
#     env = ["LANG"]
"#;

const CRATE_WIT: &str = r#"package {{namespace}}:{{name}}@0.1.0;

/// What the `{{name}}` component offers. Put the functions and types of the
/// crate you wrap here: strings, lists, records, variants, options, results
/// and resources cross between components by value.
interface api {
  /// An example to replace: which crate this component wraps.
  about: func() -> string;
}

/// The `{{name}}` component exports `api` and imports nothing, so the crate
/// it wraps can reach nothing. Add an `import` for each thing it may use:
/// another component's interface (the app's manifest wires it), or a WASI
/// interface (the manifest must grant it).
world {{name}} {
  export api;
}
"#;

const CRATE_RS: &str = r#"//! The `{{name}}` component: `{{crate}}` behind `api` of wit/{{name}}/{{name}}.wit.

// Generated from the world by `cargo xtask build`, which rewrites it when the
// WIT changes; do not edit.
#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::{{namespace-snake}}::{{snake}}::api::Guest;
// The crate this component wraps; call it from the functions below.
use {{crate-lib}} as _;

struct Component;

impl Guest for Component {
    // Your code goes here: one function for each function of `api` in
    // wit/{{name}}/{{name}}.wit, each calling `{{crate}}`. After changing the WIT,
    // `cargo xtask build` regenerates the bindings and the compiler says what
    // is missing.
    fn about() -> String {
        "wraps {{crate}} {{crate-version}}".to_string()
    }
}

bindings::export!(Component with_types_in bindings);
"#;

const CRATE_TEST: &str = r##"// Your tests go here: call the component as its users will, arguments and
// results written in WAVE (https://github.com/bytecodealliance/wasm-tools/tree/main/crates/wasm-wave).
#[test]
fn says_what_it_wraps() -> anyhow::Result<()> {
    let about = app(Options::default())?.instantiate()?.call_wave("about()")?;
    assert_eq!(about, r#""wraps {{crate}} {{crate-version}}""#);
    Ok(())
}
"##;

const APP_WIT: &str = r#"package {{namespace}}:{{name}}@0.1.0;

/// The `{{name}}` app component: a command that runs when the app runs. It
/// can reach only what it imports and the app's manifest grants it: here,
/// stdout. To call a library component, import its interface here (such as
/// `import local:words/api@0.1.0;`) and add the component to the manifest.
world {{name}} {
  import wasi:cli/stdout@{{wasi}};
  export wasi:cli/run@{{wasi}};
}
"#;

const APP_RS: &str = r#"//! The `{{name}}` app component: runs when the app runs.

// Generated from the world by `cargo xtask build`, which rewrites it when the
// WIT changes; do not edit.
#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::cli::run::Guest;
use bindings::wasi::cli::stdout::get_stdout;

struct Component;

impl Guest for Component {
    // Your code goes here. An interface the world imports is called through
    // `bindings`: a library `local:words/api` as `bindings::local::words::api`.
    fn run() -> Result<(), ()> {
        say("Hello from {{name}}!\n")
    }
}

/// Writes `text` to stdout (granted in nanoproc.toml).
fn say(text: &str) -> Result<(), ()> {
    let stdout = get_stdout();
    // One write may carry at most 4096 bytes.
    for chunk in text.as_bytes().chunks(4096) {
        stdout.blocking_write_and_flush(chunk).map_err(|_| ())?;
    }
    Ok(())
}

bindings::export!(Component with_types_in bindings);
"#;

const APP_TEST: &str = r#"// Your tests go here: run the app and check what it wrote.
#[test]
fn says_hello() -> anyhow::Result<()> {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let app = app(Options {
        stdout: Stdio::Pipe(stdout.clone()),
        ..Options::default()
    })?;
    assert_eq!(app.instantiate()?.run()?, 0);
    let said = String::from_utf8_lossy(&stdout.contents()).into_owned();
    assert_eq!(said, "Hello from {{name}}!\n");
    Ok(())
}
"#;

/// The start of every test: composing the manifest beside it and loading
/// the app.
const TEST_HEAD: &str = r#"//! Runs the `{{name}}` component in wasmtime, composed from `nanoproc.toml`
//! with the component `cargo xtask build` made of this crate.

use nanoproc_host::{{{host-imports}}};

/// The app of `nanoproc.toml`, composed and loaded with `options`.
fn app(options: Options) -> anyhow::Result<App> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("nanoproc.toml");
    let manifest = nanoproc_linker::Manifest::read(&path)?;
    let guests = nanoproc_linker::find_components_dir(manifest.base_dir());
    let composed = nanoproc_linker::compose(&manifest, &manifest.read_components(&guests)?)?;
    Ok(Runtime::new()?.load(&composed.bytes, options)?)
}

"#;

const APP_MANIFEST: &str = r#"# The `{{name}}` app: `cargo xtask run guests/{{name}}/nanoproc.toml`.
[app]
name = "{{name}}"
export = ["{{name}}"]

[components.{{name}}]
guest = "{{name}}"

# Each component gets only what is granted under its own name.
[components.{{name}}.grants]
stdout = true

# Library components it uses are added like this; the linker wires its
# imports to their exports:
#
#     [components.words]
#     guest = "words"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_words_joined_by_dashes() {
        for good in ["words", "word-count", "sha2", "a1-b2"] {
            check_name(good, "the name").unwrap();
        }
        assert_eq!(
            check_name("Word_Count", "the component's name")
                .unwrap_err()
                .to_string(),
            "the component's name `Word_Count` is not lowercase words joined by `-` \
             (such as `word-count`): each word starts with a letter `a`-`z` and has \
             only letters and digits"
        );
        for bad in ["", "-a", "a-", "a--b", "2fa", "a-2b", "é", "a b", "../x"] {
            assert!(check_name(bad, "the name").is_err(), "{bad:?}");
        }
        assert_eq!(
            check_name("type", "the component's name")
                .unwrap_err()
                .to_string(),
            "the component's name `type` is a keyword of WIT or Rust: choose another"
        );
    }

    #[test]
    fn every_placeholder_is_filled() {
        for kind in [Kind::Lib, Kind::FromCrate("heck".into())] {
            let files = Files::new("word-count", "acme", &kind, Path::new("/none")).unwrap();
            for (path, text) in &files.0 {
                let left: Vec<_> = text
                    .match_indices("{{")
                    .filter(|(i, _)| !text[*i..].starts_with("{{crate"))
                    .collect();
                assert!(left.is_empty(), "{}: {left:?}", path.display());
            }
        }
    }

    #[test]
    fn handles_are_named_as_the_sandbox_macro_names_them() {
        assert_eq!(upper_camel("markdown"), "Markdown");
        assert_eq!(upper_camel("word-count"), "WordCount");
        assert_eq!(upper_camel("a1-b2"), "A1B2");
    }

    /// The sandbox crate `new` writes for the `markdown` component is the
    /// one the project keeps in guests/markdown/sandbox.
    #[test]
    fn the_sandbox_crate_of_markdown_is_the_one_in_the_project() {
        let root = crate::nanoproc_root();
        let inherited = workspace_package_keys(&root);
        for (path, text) in sandbox_files("markdown", "nanoproc", &inherited) {
            let kept = std::fs::read_to_string(root.join(&path)).unwrap();
            assert_eq!(text, kept, "{}", path.display());
        }
    }

    #[test]
    fn a_sandbox_crate_inherits_only_what_the_workspace_has() {
        let files = sandbox_files("word-count", "acme", &["edition".into()]);
        let cargo_toml = &files[0].1;
        assert!(cargo_toml.starts_with(
            "[package]\nname = \"word-count-sandbox\"\n\
             description = \"The `word-count` component in a nanoprocess, called from \
             native Rust with typed calls\"\nversion = \"0.1.0\"\n\
             edition.workspace = true\nrust-version.workspace = true\npublish = false\n\n\
             [dependencies]\n"
        ));
        assert!(files[1].1.contains("[`WordCount::new`]"));
        assert!(
            files[1]
                .1
                .contains("world: \"acme:word-count/word-count\",")
        );
    }
}
