//! Sandboxes: one dependency of a native Rust program in a nanoprocess,
//! called with typed Rust calls from any thread.
//!
//! [`sandbox!`](crate::sandbox!) reads a component's WIT world and makes a
//! handle type with one method per exported function, its parameters and
//! results the WIT types as Rust types (wasmtime's own bindings generator
//! makes them). Behind every handle is a [`Sandbox`]: the component loaded
//! once, and a pool of warm instances that calls take one from and give
//! back. A call that faults throws its instance away; the next call gets a
//! fresh one.
//!
//! ```ignore
//! nanoproc_host::sandbox!({
//!     world: "nanoproc:markdown/markdown",
//!     path: "wit/markdown",
//! });
//!
//! let markdown = Markdown::load("target/components/markdown.wasm")?;
//! let html = markdown.to_html("# Hello", options)?;
//! ```
//!
//! Every call returns `Result<_, Fault>`: the [`Fault`] when the call
//! trapped, ran past its deadline or hit the memory limit, and otherwise
//! the function's own result, `result<T, E>` in WIT being
//! `Result<T, E>` inside it.

// A `Fault` is returned as it is, as `App` returns it: it is the rare
// path, and the `Ok` path of a call writes only its value.
#![allow(clippy::result_large_err)]

use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use tokio::sync::oneshot;
use wasmtime::component::{
    Accessor, FutureConsumer, FutureReader, InstancePre, Lift, Lower, ResourceAny, Source,
    StreamConsumer, StreamReader, StreamResult,
};
use wasmtime::{Store, StoreContextMut};

use crate::app::{App, EPOCH_TICK, Runtime};
use crate::capabilities::{HostState, Options};
use crate::fault::{Cause, Fault};
use crate::refusal::Refusals;

/// The bindings of one WIT world, as wasmtime's bindings generator makes
/// them: implemented by [`sandbox!`](crate::sandbox!) for the world's
/// generated type.
pub trait World: Sized + Send + Sync + 'static {
    /// The world's pre-instantiated form (`<World>Pre`): export indices
    /// looked up once.
    type Pre: Send + Sync + 'static;

    /// Whether the world's exports use the async component model (an
    /// async function, a `stream` or a `future`): its component runs on an
    /// engine with concurrency support, and every call through
    /// [`Sandbox::call_concurrent`].
    const ASYNC: bool;

    /// Looks the world's exports up in `pre`.
    ///
    /// # Errors
    ///
    /// When the component does not export what the world does, or with
    /// other types.
    fn prepare(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;

    /// Instantiates the component in `store` and loads its exports.
    ///
    /// # Errors
    ///
    /// When instantiation traps or goes over a limit.
    fn instantiate(pre: &Self::Pre, store: &mut Store<HostState>) -> wasmtime::Result<Self>;

    /// Loads the world's exports from `instance`, made in `store` from the
    /// component `pre` was prepared from (instantiated asynchronously, as
    /// components on the async component model are).
    ///
    /// # Errors
    ///
    /// When the instance does not export what the world does.
    fn load(
        pre: &Self::Pre,
        store: &mut Store<HostState>,
        instance: &wasmtime::component::Instance,
    ) -> wasmtime::Result<Self>;
}

/// A handle type made by [`sandbox!`](crate::sandbox!): a [`Sandbox`] of
/// its world with a typed method per exported function.
pub trait Sandboxed: Sized {
    /// The world the handle calls.
    type World: World;

    /// The component's name in refusals and faults (the world's name).
    const NAME: &'static str;

    /// The handle over `sandbox`.
    fn from_sandbox(sandbox: Sandbox<Self::World>) -> Self;
}

/// Whether calls share instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reuse {
    /// An instance serves call after call (the fastest): the component may
    /// keep state from one call to the next, as a library in the same
    /// process would. An instance that faults is thrown away.
    #[default]
    Instances,
    /// Every call runs in a fresh instance, thrown away afterwards: nothing
    /// one call leaves in the component's memory is seen by the next (for
    /// example between two tenants).
    Never,
}

/// How a sandbox is set up: its limits, whether calls share instances,
/// where refusals go. Made by the handle's `builder()`.
pub struct Builder<H> {
    options: Options,
    reuse: Reuse,
    runtime: Option<&'static Runtime>,
    handle: PhantomData<fn() -> H>,
}

impl<H: Sandboxed> Default for Builder<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Sandboxed> Builder<H> {
    /// A builder with the defaults: instances reused, the component's own
    /// limits (or the host's: 1 GiB of memory, no deadline), refusals
    /// reported on stderr.
    pub fn new() -> Self {
        let options = Options {
            name: Some(H::NAME.to_string()),
            ..Options::default()
        };
        Self {
            options,
            reuse: Reuse::default(),
            runtime: None,
            handle: PhantomData,
        }
    }

    /// The longest one call may run; a call that runs longer ends with a
    /// [`Fault`] whose cause is [`Cause::Deadline`]. The deadline is kept
    /// to the host's tick ([`crate::app::EPOCH_TICK`]).
    pub fn deadline(&mut self, deadline: Duration) -> &mut Self {
        let ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX);
        self.options.limits.timeout_ms = Some(ms.max(1));
        self
    }

    /// The most linear memory one instance may hold, in bytes; a call
    /// that would grow past it ends with a [`Fault`] whose cause is
    /// [`Cause::Memory`].
    pub fn memory_limit(&mut self, bytes: u64) -> &mut Self {
        self.options.limits.memory = Some(bytes);
        self
    }

    /// The runtime to load on. By default the process's sandboxes share
    /// two, with the per-user cache of compiled components: one without
    /// epoch checks for reused instances whose calls have no deadline,
    /// whose code runs faster, and one with them for the rest. A deadline
    /// is enforced only on a runtime whose engine has epoch interruption
    /// on ([`crate::engine`]).
    pub fn runtime(&mut self, runtime: &'static Runtime) -> &mut Self {
        self.runtime = Some(runtime);
        self
    }

    /// Whether calls share instances ([`Reuse::Instances`], the default)
    /// or each runs in a fresh one ([`Reuse::Never`]).
    pub fn reuse(&mut self, reuse: Reuse) -> &mut Self {
        self.reuse = reuse;
        self
    }

    /// Where refusals of what the component was not granted are reported
    /// (by default one line each on stderr).
    pub fn refusals(&mut self, refusals: Refusals) -> &mut Self {
        self.options.refusals = refusals;
        self
    }

    /// Loads the component (or composed app) in the file `path`: compiled
    /// once, through the per-user cache of compiled components, so that
    /// later runs of the program load it in milliseconds.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, as [`Builder::from_bytes`].
    pub fn load(&self, path: impl AsRef<Path>) -> Result<H> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the component {}", path.display()))?;
        self.from_bytes(&bytes)
            .with_context(|| format!("cannot load the component {}", path.display()))
    }

    /// Loads the component (or composed app) `bytes`, for example
    /// embedded in the program with `include_bytes!`.
    ///
    /// # Errors
    ///
    /// When the bytes are no component this host can run, or the
    /// component does not export the world's functions with the world's
    /// types.
    pub fn from_bytes(&self, bytes: &[u8]) -> Result<H> {
        // Bytes that are no app are refused by `load` below.
        let grants = nanoproc_linker::AppGrants::read(bytes).ok().flatten();
        let runtime = match self.runtime {
            Some(runtime) => runtime,
            None => {
                // Calls with no deadline need no epoch checks in the code.
                let carried = grants.as_ref().and_then(|g| g.limits.timeout_ms);
                let deadline = self.options.limits.timeout_ms.or(carried);
                shared_runtime(deadline.is_some() || self.reuse == Reuse::Never)?
            }
        };
        let is_async = nanoproc_linker::uses_async(bytes);
        if is_async != H::World::ASYNC {
            let message = if is_async {
                format!(
                    "the component uses the async component model (async functions, \
                         streams, futures or WASI 0.3), but the world `{}` exports no async \
                         function, stream or future, and its handle calls it synchronously, \
                         which this host cannot do for such a component",
                    H::NAME
                )
            } else {
                format!(
                    "the world `{}` exports async functions, streams or futures, but the \
                         component does not use the async component model",
                    H::NAME
                )
            };
            anyhow::bail!(message);
        }
        let app = runtime.load(bytes, self.options.clone())?;
        // The linker names the core modules of a composed app after its
        // components; those of a component as it was built are named by
        // its build, so its faults take the handle's name.
        let as_built = grants.is_none();
        let pre = H::World::prepare(app.instance_pre().clone()).map_err(|e| {
            anyhow::anyhow!(
                "the component does not implement the world `{}`: {e:#}",
                H::NAME
            )
        })?;
        Ok(H::from_sandbox(Sandbox(Arc::new(Shared {
            app,
            pre,
            name: H::NAME,
            as_built,
            reuse: self.reuse,
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            idle: Mutex::new(Vec::new()),
        }))))
    }
}

/// The runtimes sandboxes load on unless told otherwise, shared by the
/// whole process, with the per-user cache: with `deadlines`, one on
/// nanoproc's [`engine`](crate::engine) (epoch checks, and a pool of
/// instances, which reserves address space up front, so one per process);
/// without, one on [`engine_without_deadlines`](crate::engine_without_deadlines),
/// whose code runs faster for reused instances.
fn shared_runtime(deadlines: bool) -> Result<&'static Runtime> {
    static WITH: OnceLock<Runtime> = OnceLock::new();
    static WITHOUT: OnceLock<Runtime> = OnceLock::new();
    let (cell, make): (_, fn() -> Result<Runtime>) = if deadlines {
        (&WITH, Runtime::new)
    } else {
        (&WITHOUT, Runtime::without_deadlines)
    };
    if let Some(runtime) = cell.get() {
        return Ok(runtime);
    }
    let runtime = make()?;
    Ok(cell.get_or_init(|| runtime))
}

/// A component loaded once and called from any number of threads: cheap
/// to clone, `Send` and `Sync`. Handle types made by
/// [`sandbox!`](crate::sandbox!) wrap one.
pub struct Sandbox<W: World>(Arc<Shared<W>>);

impl<W: World> Clone for Sandbox<W> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

struct Shared<W: World> {
    app: App,
    pre: W::Pre,
    /// The component's name in faults whose backtrace names none.
    name: &'static str,
    /// Whether the component was loaded as it was built (not composed):
    /// then its faults always take `name`.
    as_built: bool,
    reuse: Reuse,
    /// One warm instance for each thread that calls (threads share a slot
    /// when there are more than [`SLOTS`]): a thread finds the instance it
    /// used last, whose memory is still in its core's caches, and threads
    /// touch no shared line of memory.
    slots: Box<[Slot<W>]>,
    /// Warm instances no slot had room for, the most recently used last.
    idle: Mutex<Vec<Box<Warm<W>>>>,
}

/// One instance: its store and its exports. Boxed, so that taking it
/// from the pool and giving it back moves a pointer.
struct Warm<W> {
    store: Store<HostState>,
    world: W,
}

/// A place for one warm instance, alone on its cache lines.
#[repr(align(128))]
struct Slot<W>(Mutex<Option<Box<Warm<W>>>>);

impl<W> Default for Slot<W> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

/// How many threads find an instance of their own in a sandbox.
const SLOTS: usize = 32;

/// The most idle instances a sandbox keeps beside its slots; more are
/// dropped when given back.
const MAX_IDLE: usize = 64;

/// The slot of the calling thread.
fn slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
    }
    SLOT.with(|slot| *slot)
}

impl<W: World> Sandbox<W> {
    /// Calls `call` on an instance of the component: a warm one when
    /// instances are reused and one is idle, else a fresh one. `function`
    /// names the export for a fault (`interface#function`).
    ///
    /// # Errors
    ///
    /// A [`Fault`] when instantiating or the call trapped, ran past the
    /// deadline or hit a limit; the instance is thrown away.
    pub fn call<R>(
        &self,
        function: &str,
        call: impl FnOnce(&mut Store<HostState>, &W) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let mut warm = self.take()?;
        let result = self.0.run(&mut warm, function, call);
        if result.is_ok() {
            self.give_back(warm);
        }
        result
    }

    /// Runs `call` with the store's [`Accessor`] and the world's exports
    /// inside the store's event loop, on an instance of a component on the
    /// async component model ([`World::ASYNC`]): a warm one when instances
    /// are reused and one is idle, else a fresh one, made asynchronously.
    /// The call ends when `call` does, which for functions returning a
    /// `stream` or a `future` is when the caller has read them
    /// ([`receive_stream`], [`receive_future`]); the component's tasks run
    /// meanwhile. `function` names the export for a fault.
    ///
    /// The deadline is kept as for [`Sandbox::call`]: the epoch deadline
    /// ends a component that runs past it, and a timer of the ambient tokio
    /// runtime (or wasmtime-wasi's, outside one, which [`block_on`] uses)
    /// one that waits past it for something that never comes.
    ///
    /// # Errors
    ///
    /// A [`Fault`] when instantiating or the call trapped, ran past the
    /// deadline or hit a limit; the instance is thrown away.
    pub async fn call_concurrent<R>(
        &self,
        function: &str,
        call: impl AsyncFnOnce(&Accessor<HostState>, &W) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let mut warm = self.take_async().await?;
        let result = self.0.run_concurrent(&mut warm, function, call).await;
        if result.is_ok() {
            self.give_back(warm);
        }
        result
    }

    /// An instance kept for the caller until the lease is dropped: for
    /// resources, which live in one instance.
    ///
    /// # Errors
    ///
    /// A [`Fault`] when a fresh instance cannot be made.
    pub fn lease(&self) -> Result<Lease<W>, Fault> {
        Ok(Lease {
            sandbox: self.clone(),
            warm: Some(self.take()?),
        })
    }

    /// An instance for a call: a warm one when instances are reused and
    /// one is idle, else a fresh one.
    fn take(&self) -> Result<Box<Warm<W>>, Fault> {
        let warm = match self.0.reuse {
            Reuse::Instances => self.0.slots[slot()]
                .0
                .try_lock()
                .ok()
                .and_then(|mut own| own.take())
                .or_else(|| self.idle().pop()),
            Reuse::Never => None,
        };
        match warm {
            Some(warm) => Ok(warm),
            None => self.fresh(),
        }
    }

    /// As [`Sandbox::take`], a fresh instance made asynchronously.
    async fn take_async(&self) -> Result<Box<Warm<W>>, Fault> {
        let warm = match self.0.reuse {
            Reuse::Instances => self.0.slots[slot()]
                .0
                .try_lock()
                .ok()
                .and_then(|mut own| own.take())
                .or_else(|| self.idle().pop()),
            Reuse::Never => None,
        };
        match warm {
            Some(warm) => Ok(warm),
            None => self.fresh_async().await,
        }
    }

    /// Puts an instance whose calls all returned back in the pool, when
    /// instances are reused and the pool has room.
    fn give_back(&self, warm: Box<Warm<W>>) {
        if self.0.reuse == Reuse::Instances {
            if let Ok(mut own) = self.0.slots[slot()].0.try_lock()
                && own.is_none()
            {
                *own = Some(warm);
                return;
            }
            let mut idle = self.idle();
            if idle.len() < MAX_IDLE {
                idle.push(warm);
            }
        }
    }

    /// How many warm instances wait for a call.
    pub fn idle_instances(&self) -> usize {
        let in_slots = self.0.slots.iter().filter(|slot| {
            let own = slot.0.lock().unwrap_or_else(|e| e.into_inner());
            own.is_some()
        });
        in_slots.count() + self.idle().len()
    }

    /// The limits each instance runs under.
    pub fn limits(&self) -> &nanoproc_linker::Limits {
        self.0.app.limits()
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Box<Warm<W>>>> {
        // A panic while the lock was held left the list whole.
        self.0.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self) -> Result<Box<Warm<W>>, Fault> {
        let mut store = self.store()?;
        let world = W::instantiate(&self.0.pre, &mut store)
            .map_err(|e| self.0.fault("instantiation", &e))?;
        Ok(Box::new(Warm { store, world }))
    }

    /// As [`Sandbox::fresh`], instantiated asynchronously, as a component
    /// on the async component model is.
    async fn fresh_async(&self) -> Result<Box<Warm<W>>, Fault> {
        let mut store = self.store()?;
        let instantiated = match self
            .0
            .app
            .instance_pre()
            .instantiate_async(&mut store)
            .await
        {
            Ok(instance) => W::load(&self.0.pre, &mut store, &instance),
            Err(e) => Err(e),
        };
        let world = instantiated.map_err(|e| self.0.fault("instantiation", &e))?;
        Ok(Box::new(Warm { store, world }))
    }

    /// A store for a fresh instance.
    fn store(&self) -> Result<Store<HostState>, Fault> {
        self.0.app.store().map_err(|e| Fault {
            call: "instantiation".into(),
            component: Some(self.0.name.to_string()),
            function: None,
            innermost: None,
            cause: Cause::Other(format!("{e:#}")),
        })
    }
}

/// An instance of a sandbox kept for one caller: calls on it share the
/// instance's state, such as the resources it made. Dropped, it goes back
/// to the sandbox's pool (when instances are reused and it did not fault).
pub struct Lease<W: World> {
    sandbox: Sandbox<W>,
    /// `None` once a call on it faulted.
    warm: Option<Box<Warm<W>>>,
}

impl<W: World> Lease<W> {
    /// Calls `call` on the leased instance; see [`Sandbox::call`].
    ///
    /// # Errors
    ///
    /// A [`Fault`] when the call trapped, ran past the deadline or hit a
    /// limit, or an earlier call on this lease did: the instance is gone.
    pub fn call<R>(
        &mut self,
        function: &str,
        call: impl FnOnce(&mut Store<HostState>, &W) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let shared = &self.sandbox.0;
        let Some(warm) = self.warm.as_mut() else {
            return Err(Fault {
                call: function.to_string(),
                component: Some(shared.name.to_string()),
                function: None,
                innermost: None,
                cause: Cause::Other(
                    "an earlier call faulted, and the instance it ran in is gone".into(),
                ),
            });
        };
        let result = shared.run(warm, function, call);
        if result.is_err() {
            self.warm = None;
        }
        result
    }

    /// Drops the guest resource `resource` of this instance, running its
    /// destructor; a failure there only throws the instance away.
    pub fn drop_resource(&mut self, resource: ResourceAny) {
        if let Some(warm) = self.warm.as_mut() {
            let app = &self.sandbox.0.app;
            app.arm(&mut warm.store);
            if resource.resource_drop(&mut warm.store).is_err() {
                self.warm = None;
            }
        }
    }
}

impl<W: World> Drop for Lease<W> {
    fn drop(&mut self) {
        if let Some(warm) = self.warm.take() {
            self.sandbox.give_back(warm);
        }
    }
}

impl<W: World> Shared<W> {
    /// Runs `call` on the instance `warm` with the deadline set; a failure
    /// becomes a [`Fault`] naming the component.
    fn run<R>(
        &self,
        warm: &mut Warm<W>,
        function: &str,
        call: impl FnOnce(&mut Store<HostState>, &W) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        self.app.arm(&mut warm.store);
        call(&mut warm.store, &warm.world).map_err(|error| self.fault(function, &error))
    }

    /// Runs `call` inside the event loop of `warm`'s store with the
    /// deadline set; a failure becomes a [`Fault`] naming the component.
    async fn run_concurrent<R>(
        &self,
        warm: &mut Warm<W>,
        function: &str,
        call: impl AsyncFnOnce(&Accessor<HostState>, &W) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        self.app.arm(&mut warm.store);
        let Warm { store, world } = warm;
        let world = &*world;
        let run = store.run_concurrent(async move |accessor| call(accessor, world).await);
        let outcome = match self.app.timeout() {
            // The epoch deadline ends a component that runs; the timer, a
            // little later, one that waits for what never comes.
            Some(timeout) => {
                let waited = wasmtime_wasi::runtime::with_ambient_tokio_runtime(|| {
                    tokio::time::timeout(timeout + 2 * EPOCH_TICK, run)
                })
                .await;
                match waited {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        return Err(Fault {
                            call: function.to_string(),
                            component: Some(self.name.to_string()),
                            function: None,
                            innermost: None,
                            cause: Cause::Deadline(timeout),
                        });
                    }
                }
            }
            None => run.await,
        };
        outcome
            .and_then(|result| result)
            .map_err(|error| self.fault(function, &error))
    }

    /// The fault `error` of `call` describes, naming the component.
    fn fault(&self, call: &str, error: &wasmtime::Error) -> Fault {
        let mut fault = Fault::new(call, error, self.app.timeout());
        if self.as_built || fault.component.is_none() {
            fault.component = Some(self.name.to_string());
        }
        fault
    }
}

/// Runs `future` to its end on the calling thread: what the blocking
/// methods of a handle on a component on the async component model do
/// around [`Sandbox::call_concurrent`]. Inside a tokio runtime it blocks
/// on that runtime's handle (which panics on one of its worker threads:
/// there, `.await` the handle's `_async` methods instead); elsewhere on
/// wasmtime-wasi's runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    wasmtime_wasi::runtime::in_tokio(future)
}

/// A `stream` carrying `items` and then ending, for a parameter of a call
/// made in [`Sandbox::call_concurrent`].
///
/// # Errors
///
/// When the store's table of streams is full.
pub fn stream_of<T>(
    accessor: &Accessor<HostState>,
    items: Vec<T>,
) -> wasmtime::Result<StreamReader<T>>
where
    T: Lower + Lift + Send + Sync + Unpin + 'static,
{
    accessor.with(|mut access| StreamReader::new(&mut access, items))
}

/// A `future` resolved with `value`, for a parameter of a call made in
/// [`Sandbox::call_concurrent`].
///
/// # Errors
///
/// When the store's table of futures is full.
pub fn future_of<T>(accessor: &Accessor<HostState>, value: T) -> wasmtime::Result<FutureReader<T>>
where
    T: Lower + Lift + Send + Sync + 'static,
{
    accessor.with(|mut access| {
        FutureReader::new(&mut access, async move { Ok::<T, wasmtime::Error>(value) })
    })
}

/// What a `stream` or a `future` a component handed out will carry,
/// collected by the host as the component writes it: [`Received::value`]
/// waits for the end. Receive every stream and future of a result before
/// waiting for any, since the component may write them in any order.
pub struct Received<T> {
    receiver: oneshot::Receiver<T>,
    what: &'static str,
}

impl<T> Received<T> {
    /// What was written, once the stream has ended or the future resolved.
    ///
    /// # Errors
    ///
    /// When the component dropped a future without writing it.
    pub async fn value(self) -> wasmtime::Result<T> {
        self.receiver.await.map_err(|_| {
            wasmtime::Error::msg(format!(
                "the component dropped the {} it returned without writing it",
                self.what
            ))
        })
    }
}

/// Starts collecting what the `stream` the component returned carries,
/// until it ends.
///
/// # Errors
///
/// When the stream was closed already.
pub fn receive_stream<T>(
    accessor: &Accessor<HostState>,
    stream: StreamReader<T>,
) -> wasmtime::Result<Received<Vec<T>>>
where
    T: Lift + Send + Sync + 'static,
{
    let (sender, receiver) = oneshot::channel();
    let collect = Collect {
        items: Vec::new(),
        done: Some(sender),
    };
    accessor.with(|mut access| stream.pipe(&mut access, collect))?;
    Ok(Received {
        receiver,
        what: "stream",
    })
}

/// Starts waiting for the value of the `future` the component returned.
///
/// # Errors
///
/// When the future was closed already.
pub fn receive_future<T>(
    accessor: &Accessor<HostState>,
    future: FutureReader<T>,
) -> wasmtime::Result<Received<T>>
where
    T: Lift + Send + Sync + 'static,
{
    let (sender, receiver) = oneshot::channel();
    accessor.with(|mut access| future.pipe(&mut access, Resolve(Some(sender))))?;
    Ok(Received {
        receiver,
        what: "future",
    })
}

/// The host's end of a stream a component writes: keeps every item, and
/// hands them over when the stream ends (wasmtime drops the consumer then).
struct Collect<T> {
    items: Vec<T>,
    done: Option<oneshot::Sender<Vec<T>>>,
}

impl<T: Lift + Send + Sync + 'static, D> StreamConsumer<D> for Collect<T> {
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let this = self.get_mut();
        this.items.reserve(source.remaining(&mut store));
        source.read(&mut store, &mut this.items)?;
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

// Nothing of a `Collect` is pinned: its items move out when it ends.
impl<T> Unpin for Collect<T> {}

impl<T> Drop for Collect<T> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            // The caller may have stopped waiting: nobody wants the items.
            let _ = done.send(std::mem::take(&mut self.items));
        }
    }
}

/// The host's end of a future a component writes.
struct Resolve<T>(Option<oneshot::Sender<T>>);

impl<T: Lift + Send + Sync + 'static, D> FutureConsumer<D> for Resolve<T> {
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _: bool,
    ) -> Poll<wasmtime::Result<()>> {
        let mut value = None;
        source.read(&mut store, &mut value)?;
        if let (Some(value), Some(sender)) = (value, self.get_mut().0.take()) {
            // The caller may have stopped waiting.
            let _ = sender.send(value);
        }
        Poll::Ready(Ok(()))
    }
}
