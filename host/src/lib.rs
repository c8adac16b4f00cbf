//! The nanoproc host: runs composed apps on wasmtime, providing only the
//! capabilities they were granted, within their limits.
//!
//! Load an app once, then instantiate it as often as needed; each instance
//! has a store, memory and limits of its own, and a call that traps costs
//! only that instance:
//!
//! ```no_run
//! use nanoproc_host::{Options, Runtime};
//!
//! let runtime = Runtime::new()?;
//! let app = runtime.load(&std::fs::read("markdown.wasm")?, Options::default())?;
//! let mut instance = app.instantiate()?;
//! let (html,): (String,) = instance.call("render", ("# Hello".to_string(),))?;
//! assert_eq!(html, "<h1>Hello</h1>\n");
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! **Architecture invariant:** the host knows nothing of app manifests beyond
//! what the linker hands it.
#![deny(missing_docs)]

pub mod app;
pub mod cache;
pub mod capabilities;
pub mod fault;
pub mod limits;
pub mod refusal;

pub use app::{App, Instance, Runtime};
pub use capabilities::{Options, Stdio};
pub use fault::{Cause, Fault};
pub use refusal::{Answer, Refusal, Refusals};

use anyhow::Result;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How many instances of core modules, memories and tables the engine's
/// pool holds at once, across all live app instances. A composed app uses
/// one or more of each per component.
pub const POOL_SLOTS: u32 = 2000;

/// The engine nanoproc runs apps on: the component model, Cranelift
/// optimising for speed, epoch interruption for deadlines, and the pooling
/// allocator with copy-on-write memory images, so that instantiating is
/// mostly bookkeeping.
///
/// # Errors
///
/// When wasmtime rejects the configuration on this machine.
pub fn engine() -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOL_SLOTS)
        .total_core_instances(POOL_SLOTS)
        .total_memories(POOL_SLOTS)
        .total_tables(POOL_SLOTS);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(Engine::new(&config)?)
}
