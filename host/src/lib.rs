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
//! A native program that moves one dependency into a nanoprocess calls it
//! through a handle [`sandbox!`] makes from the component's WIT world:
//! typed methods, from any thread, with a pool of warm instances behind
//! them ([`sandbox`]).
//!
//! An app that exports `wasi:http/incoming-handler` is served over HTTP by
//! a [`serve::Server`], a fresh instance per request.
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
pub mod sandbox;
pub mod serve;

#[doc(hidden)]
pub use anyhow;
pub use app::{App, Instance, LoadError, Runtime};
pub use capabilities::{Options, Stdin, Stdio};
pub use fault::{Cause, Fault};
pub use nanoproc_macro::sandbox;
pub use refusal::{Answer, Refusal, Refusals};
pub use sandbox::Reuse;
/// The wasmtime this host runs on, for the code [`sandbox!`] makes and
/// for embedders that reach past the host's API.
pub use wasmtime;

/// The in-memory pipe behind [`Stdio::Pipe`], to read what an app wrote.
pub use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use anyhow::Result;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How many live instances of a typical app the engine's pool has room
/// for at once: a composed app of seven Rust components holds 17 core
/// instances, 7 memories and 11 tables. Each memory slot reserves 4 GiB of
/// address space (not memory), so the pool reserves 32 TiB of the 128 TiB a
/// 64-bit Linux process has.
pub const POOL_APPS: u32 = 1024;

/// Bytes of each linear memory kept resident when its slot is freed:
/// reset by copying rather than unmapped, so that the next instance in the
/// slot takes no page faults there.
const MEMORY_KEEP_RESIDENT: usize = 1 << 20;

/// Bytes of each table kept resident when its slot is freed.
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// The engine nanoproc runs apps on: the component model, Cranelift
/// optimising for speed, epoch interruption for deadlines, and the pooling
/// allocator with copy-on-write memory images, so that instantiating is
/// mostly bookkeeping. A freed slot is reset in place (only its dirty pages,
/// found with `PAGEMAP_SCAN` where the kernel has it) and stays warm for the
/// next instance.
///
/// # Errors
///
/// When wasmtime rejects the configuration on this machine.
pub fn engine() -> Result<Engine> {
    let mut config = config();
    config
        .epoch_interruption(true)
        .allocation_strategy(pool(POOL_APPS));
    Ok(Engine::new(&config)?)
}

/// A pool with room for `apps` live instances of a typical app, its freed
/// slots reset in place and kept warm.
fn pool(apps: u32) -> InstanceAllocationStrategy {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(apps)
        .total_core_instances(apps * 20)
        .total_memories(apps * 8)
        .total_tables(apps * 12)
        .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
        .table_keep_resident(TABLE_KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    InstanceAllocationStrategy::Pooling(pool)
}

/// How many live instances of a typical app on the async component model
/// the pool of [`pooled_with_async`]'s engine has room for: an eighth of
/// [`POOL_APPS`], so that both pools together reserve 36 TiB of address
/// space.
pub const ASYNC_POOL_APPS: u32 = POOL_APPS / 8;

/// The engine for instances that live long and whose calls have no
/// deadline, such as a [`Sandbox`]'s reused instances: as [`engine`], but
/// the compiled code has no epoch checks (in call-heavy code they cost
/// about a sixth of the time), and instances are allocated when made
/// rather than from a pool reserved up front. A deadline set on a store of
/// this engine is never checked.
///
/// # Errors
///
/// When wasmtime rejects the configuration on this machine.
pub fn engine_without_deadlines() -> Result<Engine> {
    Ok(Engine::new(&config())?)
}

/// What every engine of the host has: the component model, Cranelift
/// optimising for speed, copy-on-write memory images, and no concurrency
/// support, so that the adapters between components keep no task state:
/// an app using the async component model runs on [`with_async`] of
/// the engine instead.
fn config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        .memory_init_cow(true);
    config
}

/// The engine for apps using the async component model
/// ([`nanoproc_linker::uses_async`]): `engine`'s configuration with
/// concurrency support and the features of
/// [`nanoproc_linker::ASYNC_FEATURES`] on (async functions, `stream`,
/// `future`, `error-context`, the further async built-ins, stackful
/// lifts), which WASI 0.3 is built on. Its instances are allocated when
/// made, not from a pool, for instances that live long (a [`Sandbox`]'s):
/// [`pooled_with_async`] is the engine for many short-lived ones.
///
/// # Errors
///
/// When wasmtime rejects the configuration on this machine.
pub fn with_async(engine: &Engine) -> Result<Engine> {
    async_engine(engine, InstanceAllocationStrategy::OnDemand)
}

/// As [`with_async`], but instances come from a pool of their own, with
/// room for [`ASYNC_POOL_APPS`] live instances: the engine a server
/// instantiating an app per request runs such apps on, since allocating
/// memories and fiber stacks on demand costs more than the request.
///
/// # Errors
///
/// When wasmtime rejects the configuration on this machine.
pub fn pooled_with_async(engine: &Engine) -> Result<Engine> {
    async_engine(engine, pool(ASYNC_POOL_APPS))
}

fn async_engine(engine: &Engine, allocation: InstanceAllocationStrategy) -> Result<Engine> {
    let mut config = engine.config().clone();
    config
        .allocation_strategy(allocation)
        .concurrency_support(true)
        .wasm_component_model_async(true)
        .wasm_component_model_more_async_builtins(true)
        .wasm_component_model_async_stackful(true)
        .wasm_component_model_error_context(true);
    Ok(Engine::new(&config)?)
}
