//! Helpers shared by the integration tests: where the built components are,
//! and one engine and compiled component per test process.
//!
//! The components are built by `cargo xtask build` (which `cargo xtask test`
//! runs first); a test that finds one missing fails and says so.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use wasmtime::Engine;
use wasmtime::component::Component;

/// The guests every build produces, in the order the tests report them.
pub const GUESTS: &[&str] = &["compress", "hash", "json", "logger", "markdown"];

/// The folder `cargo xtask build` writes components to.
pub fn components_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components")
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

/// The engine all tests share, configured as the host configures it.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| nanoproc_host::engine().expect("the host's engine configuration"))
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
