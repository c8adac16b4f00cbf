//! Helpers shared by the integration tests: where the built components are,
//! and one engine and compiled component per test process.
//!
//! The components are built by `cargo xtask build` (which `cargo xtask test`
//! runs first); a test that finds one missing fails and says so.

pub mod fuzz;
pub mod measure;
pub mod native;
pub mod peers;
pub mod serving;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use indexmap::IndexMap;
use std::sync::{Mutex, OnceLock};

use wasmtime::Engine;
use wasmtime::component::Component;

/// The guests every build produces, in the order the tests report them.
pub const GUESTS: &[&str] = &[
    "callee",
    "caller",
    "compress",
    "hash",
    "hostile",
    "json",
    "logger",
    "lz4",
    "markdown",
    "markdown-compromised",
    "middle",
    "packer",
    "pages",
    "prober",
    "relay",
    "site",
    "slug",
    "snoop",
];

/// The project's root directory.
pub fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the project")
}

/// The folder `cargo xtask build` writes components to.
pub fn components_dir() -> PathBuf {
    project_root().join("target/components")
}

/// The files directly in `dir`, by name in order, with their bytes.
///
/// # Errors
///
/// When the directory or one of its files cannot be read.
pub fn files(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        files.push((entry.file_name().to_string_lossy().into_owned(), bytes));
    }
    files.sort();
    Ok(files)
}

/// The bytes of the built component `name`.
///
/// # Panics
///
/// When the component has not been built, with the command that builds it.
pub fn component_bytes(name: &str) -> Vec<u8> {
    let path = components_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the component `{name}` at {}: {e}; build it with `cargo xtask build`",
            path.display()
        )
    })
}

/// The runtime all tests share: the host's engine, without a cache.
pub fn runtime() -> &'static nanoproc_host::Runtime {
    static RUNTIME: OnceLock<nanoproc_host::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        nanoproc_host::Runtime::with_engine(
            nanoproc_host::engine().expect("the host's engine configuration"),
        )
        .expect("a runtime")
    })
}

/// The engine all tests share, configured as the host configures it.
pub fn engine() -> &'static Engine {
    runtime().engine()
}

/// The engine the host runs apps using the async component model on
/// ([`nanoproc_host::with_async`] of [`engine`]).
pub fn async_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| nanoproc_host::with_async(engine()).expect("the host's async engine"))
}

/// The engine the host runs the component `bytes` on: [`async_engine`]
/// when it uses the async component model, else [`engine`].
pub fn engine_for(bytes: &[u8]) -> &'static Engine {
    if nanoproc_linker::uses_async(bytes) {
        async_engine()
    } else {
        engine()
    }
}

/// A store on [`engine`] with no deadline, for tests that drive wasmtime
/// themselves.
pub fn store<T: 'static>(data: T) -> wasmtime::Store<T> {
    store_on(engine(), data)
}

/// A store on `engine` with no deadline.
pub fn store_on<T: 'static>(engine: &Engine, data: T) -> wasmtime::Store<T> {
    let mut store = wasmtime::Store::new(engine, data);
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

/// The built component `name`, compiled once per test process.
pub fn component(name: &str) -> Component {
    static COMPILED: OnceLock<Mutex<HashMap<String, Component>>> = OnceLock::new();
    let mut compiled = COMPILED.get_or_init(Default::default).lock().unwrap();
    compiled
        .entry(name.to_string())
        .or_insert_with(|| {
            Component::new(engine(), component_bytes(name))
                .unwrap_or_else(|e| panic!("wasmtime cannot compile `{name}`: {e:?}"))
        })
        .clone()
}

/// The app manifest at `path` (relative to the project root, or absolute)
/// and the bytes of its components, with `guest = "…"` sources taken from
/// [`components_dir`].
///
/// # Errors
///
/// When the manifest is malformed or a component file cannot be read.
pub fn app_inputs(
    path: &Path,
) -> anyhow::Result<(nanoproc_linker::Manifest, IndexMap<String, Vec<u8>>)> {
    let manifest = nanoproc_linker::Manifest::read(&project_root().join(path))?;
    let bytes = manifest.read_components(&components_dir())?;
    Ok((manifest, bytes))
}

/// Composes the app manifest at `path` (relative to the project root), with
/// `guest = "…"` sources taken from [`components_dir`].
///
/// # Errors
///
/// As [`nanoproc_linker::compose`].
///
/// # Panics
///
/// When the manifest cannot be read or a component file is missing.
pub fn compose_manifest(
    path: &str,
) -> Result<nanoproc_linker::Composition, nanoproc_linker::ComposeError> {
    let (manifest, bytes) = app_inputs(Path::new(path)).unwrap_or_else(|e| panic!("{e:#}"));
    nanoproc_linker::compose(&manifest, &bytes)
}

/// Store data giving a component WASI with its stderr captured.
pub struct WasiHost {
    ctx: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl WasiHost {
    /// A host with the WASI context `builder` describes.
    pub fn from_builder(mut builder: wasmtime_wasi::WasiCtxBuilder) -> Self {
        Self {
            ctx: builder.build(),
            table: wasmtime::component::ResourceTable::new(),
        }
    }

    /// A host whose only capability is stderr, written into `stderr`.
    pub fn with_stderr(stderr: wasmtime_wasi::p2::pipe::MemoryOutputPipe) -> Self {
        Self {
            ctx: wasmtime_wasi::WasiCtx::builder().stderr(stderr).build(),
            table: wasmtime::component::ResourceTable::new(),
        }
    }

    /// A host that grants nothing: every WASI call a component may make finds
    /// empty stdin, discarded output, no environment, no files and no network.
    pub fn without_capabilities() -> Self {
        Self {
            ctx: wasmtime_wasi::WasiCtx::builder().build(),
            table: wasmtime::component::ResourceTable::new(),
        }
    }
}

impl wasmtime_wasi::WasiView for WasiHost {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// The function `func` of the exported interface `interface` of `instance`.
///
/// # Panics
///
/// When the instance has no such export.
pub fn export_func<T>(
    instance: &wasmtime::component::Instance,
    store: &mut wasmtime::Store<T>,
    interface: &str,
    func: &str,
) -> wasmtime::component::Func {
    let found = instance
        .get_export_index(&mut *store, None, interface)
        .and_then(|i| instance.get_export_index(&mut *store, Some(&i), func))
        .and_then(|i| instance.get_func(&mut *store, i));
    found.unwrap_or_else(|| panic!("the instance exports no `{func}` in `{interface}`"))
}
