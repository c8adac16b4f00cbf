//! Faults: what went wrong inside an app, and in which component.
//!
//! The linker names every core module of a composed app after its
//! component (`nanoproc_linker::core_module_name`, read back with
//! `component_of_core_module`), so the frames of wasmtime's backtrace say
//! which component was running; the component's outermost frame is the function it was
//! entered through (wit-bindgen and wit-component name it after the
//! export, e.g. `nanoproc:markdown/render@0.1.0#render`).

use std::fmt;
use std::time::Duration;

use wasmtime::component::ResourceTableError;
use wasmtime::{Trap, WasmBacktrace};

use crate::limits::MemoryLimitExceeded;

/// A call into an app that did not return: the app trapped, ran past its
/// deadline, hit a limit, or a host function it called failed. The instance
/// it happened in is dropped; the next call gets a fresh one.
#[derive(Debug)]
pub struct Fault {
    /// What the host was doing: the export it called, or `instantiation`.
    pub call: String,
    /// The component running when it happened (its name in the manifest),
    /// when the backtrace says.
    pub component: Option<String>,
    /// The function that component was entered through, when named.
    pub function: Option<String>,
    /// The innermost function on the stack, when named and not `function`.
    pub innermost: Option<String>,
    /// What happened.
    pub cause: Cause,
}

/// What ended a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The call ran longer than the app's time limit.
    Deadline(Duration),
    /// A memory grow would have taken the app over its memory limit.
    Memory(MemoryLimitExceeded),
    /// The wasm stack grew past the engine's limit (deep recursion).
    StackOverflow,
    /// Any other trap (`unreachable`, which a guest's panic becomes, an
    /// out-of-bounds access, a division by zero, ...).
    Trap(Trap),
    /// The app asked to exit with this status through `wasi:cli/exit`.
    Exit(i32),
    /// A failure that is no trap: a host function returned an error, or
    /// wasmtime refused to instantiate (a limit on tables or instances).
    Other(String),
}

impl Fault {
    /// The fault that `error` (from calling `call`) describes, `timeout`
    /// being the deadline that was set.
    pub(crate) fn new(call: &str, error: &wasmtime::Error, timeout: Option<Duration>) -> Self {
        let cause = cause(error, timeout);
        let (component, function, innermost) = error
            .downcast_ref::<WasmBacktrace>()
            .map(locate)
            .unwrap_or_default();
        Self {
            call: call.to_string(),
            component,
            function,
            innermost,
            cause,
        }
    }
}

fn cause(error: &wasmtime::Error, timeout: Option<Duration>) -> Cause {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Cause::Exit(exit.0);
    }
    if let Some(exceeded) = error.downcast_ref::<MemoryLimitExceeded>() {
        return Cause::Memory(exceeded.clone());
    }
    if let Some(ResourceTableError::Full) = error.downcast_ref::<ResourceTableError>() {
        return Cause::Other(TABLE_FULL.to_string());
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Cause::Deadline(timeout.unwrap_or_default()),
        Some(Trap::StackOverflow) => Cause::StackOverflow,
        Some(trap) => Cause::Trap(*trap),
        None => Cause::Other(format!("{error:#}")),
    }
}

/// Why wasmtime's table of an instance's handles filled up, and what
/// empties it.
const TABLE_FULL: &str = "the instance's table of resources, streams, futures and async \
    calls is full (a million entries). wasmtime 48 keeps an entry for every async call \
    between components that returned at once until the instance is dropped, so a \
    component making a million of them fills it; a fresh instance starts empty";

/// What a component that trapped with `Trap::WaitableSyncAndAsync` did,
/// and where such a component comes from.
const SYNC_AND_ASYNC: &str = "the component waited synchronously on a stream, future or \
    call it also watches in a waitable set, which the async ABI wasmtime 48 implements \
    forbids (component-model PR #647). Its toolchain's async runtime was written for \
    another revision of that ABI: rebuild it with a toolchain that targets WASI 0.3.0";

/// The innermost component on `backtrace`, the function it was entered
/// through and the innermost function.
fn locate(backtrace: &WasmBacktrace) -> (Option<String>, Option<String>, Option<String>) {
    let frames = backtrace.frames();
    let Some(first) = frames.iter().position(|f| f.module().name().is_some()) else {
        return (None, None, None);
    };
    let component = component_of(&frames[first]).map(str::to_string);
    // Frames without a module name are wasmtime's own trampolines between
    // components; the component's frames end at the next named module.
    let entered = frames[first..]
        .iter()
        .take_while(|f| component_of(f).is_none_or(|c| Some(c) == component.as_deref()))
        .filter(|f| f.module().name().is_some())
        .last();
    let function = entered
        .and_then(|f| f.func_name())
        .map(|name| demangle(export_of(name)));
    let innermost = frames[first]
        .func_name()
        .map(demangle)
        .filter(|name| Some(name) != function.as_ref());
    (component, function, innermost)
}

/// The component whose code `frame` is in, when its module is named.
fn component_of(frame: &wasmtime::FrameInfo) -> Option<&str> {
    frame
        .module()
        .name()
        .map(nanoproc_linker::component_of_core_module)
}

/// The export a core function named `name` lifts: the name without the
/// tags the component model's async lifts put before it (`[async-lift]`,
/// `[async-lift-stackful]`, and `[callback]` for their callbacks).
fn export_of(name: &str) -> &str {
    let mut name = name;
    for tag in ["[callback]", "[async-lift]", "[async-lift-stackful]"] {
        name = name.strip_prefix(tag).unwrap_or(name);
    }
    name
}

fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.component {
            Some(component) => write!(f, "component `{component}`")?,
            None => write!(f, "the app")?,
        }
        match &self.cause {
            Cause::Deadline(limit) => write!(f, " ran past the deadline of {limit:?}")?,
            Cause::Memory(_) => write!(f, " hit the memory limit")?,
            Cause::StackOverflow => write!(f, " overflowed the wasm stack")?,
            Cause::Trap(_) => write!(f, " trapped")?,
            Cause::Exit(status) => write!(f, " exited with status {status}")?,
            Cause::Other(_) => write!(f, " failed")?,
        }
        if let Some(function) = &self.function {
            write!(f, " in `{function}`")?;
        }
        if let Some(innermost) = &self.innermost {
            write!(f, " (innermost frame `{innermost}`)")?;
        }
        if self.call == "instantiation" {
            write!(f, " while instantiating")?;
        } else {
            write!(f, " during the call to `{}`", self.call)?;
        }
        match &self.cause {
            Cause::Memory(exceeded) => write!(f, ": {exceeded}")?,
            Cause::Trap(trap) => write!(f, ": {trap}")?,
            Cause::Other(message) => write!(f, ": {message}")?,
            Cause::Deadline(_) | Cause::StackOverflow | Cause::Exit(_) => {}
        }
        if let Some(grant) = self.grant_that_answers() {
            write!(f, "; {grant}")?;
        }
        if let Cause::Trap(Trap::WaitableSyncAndAsync) = self.cause {
            write!(f, "; {SYNC_AND_ASYNC}")?;
        }
        Ok(())
    }
}

impl Fault {
    /// When the fault is a trap in a function the app denies its component
    /// on purpose (the linker's deny providers trap only where no value can
    /// answer, as for `wasi:random` and `wasi:cli/exit`), what says so and
    /// names the grant that would answer it. The provider's functions are
    /// named `denied INTERFACE#FUNCTION`.
    fn grant_that_answers(&self) -> Option<String> {
        let Cause::Trap(_) = self.cause else {
            return None;
        };
        let denied = self
            .innermost
            .as_deref()
            .or(self.function.as_deref())?
            .strip_prefix("denied ")?;
        let (interface, _) = denied.split_once('#')?;
        let base = nanoproc_linker::InterfaceName::parse(interface)?.base;
        let capability = nanoproc_linker::Capability::of_interface(&base)?;
        let component = self.component.as_deref()?;
        Some(format!(
            "`{denied}` is denied to `{component}`, and no value can answer it; \
             to grant it, add `{}` under `[components.{component}.grants]`",
            capability.grant_line()
        ))
    }
}

impl std::error::Error for Fault {}
