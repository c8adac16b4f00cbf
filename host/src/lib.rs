//! The nanoproc host: the wasmtime side of the project.
//!
//! Today it provides the engine configuration every part of the project
//! shares; instantiating composed apps with their grants builds on it.
//!
//! ```no_run
//! let engine = nanoproc_host::engine()?;
//! let bytes = std::fs::read("target/components/markdown.wasm")?;
//! let component = wasmtime::component::Component::new(&engine, &bytes)?;
//! # let _ = component;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! **Architecture invariant:** the host knows nothing of app manifests beyond
//! what the linker hands it.
#![deny(missing_docs)]

pub mod cache;
pub mod capabilities;

use anyhow::Result;
use wasmtime::{Config, Engine};

/// An engine configured as nanoproc runs components: the component model on,
/// synchronous calls, and Cranelift optimising for speed.
///
/// # Errors
///
/// When wasmtime rejects the configuration on this machine.
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    Ok(Engine::new(&config)?)
}
