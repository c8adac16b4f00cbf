//! Loading composed apps and calling them: a [`Runtime`] loads an [`App`]
//! once (compiled through the cache, linked to its capabilities, ready to
//! instantiate), and each [`Instance`] of it lives in a store of its own
//! with the app's limits.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use nanoproc_linker::{AppGrants, GrantsError, Limits};
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, Func, InstancePre, Lift, Linker, Lower,
    Val, wasm_wave,
};
use wasmtime::{Engine, EngineWeak, Store};

use crate::cache::{Cache, Outcome};
use crate::capabilities::{Capabilities, HostState, Options, add_to_linker};
use crate::fault::{Cause, Fault};

/// How often the engine's epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The exported interface every command component implements.
const CLI_RUN: &str = "wasi:cli/run";

/// The engine nanoproc runs apps on, with the thread that advances its
/// epoch for deadlines and the cache of compiled apps.
pub struct Runtime {
    engine: Engine,
    /// The engine for apps using the async component model, made from
    /// `engine`'s configuration when the first such app is loaded.
    async_engine: OnceLock<Engine>,
    /// Whether a thread advances the engines' epochs.
    deadlines: bool,
    cache: Option<Cache>,
}

impl Runtime {
    /// A runtime with nanoproc's engine ([`crate::engine`]) and the
    /// per-user compiled-artifact cache ([`Cache::user`]).
    ///
    /// # Errors
    ///
    /// When wasmtime rejects the engine configuration on this machine.
    pub fn new() -> Result<Self> {
        Ok(Self::with_engine(crate::engine()?)?.with_cache(Some(Cache::user())))
    }

    /// A runtime on [`crate::engine_without_deadlines`], with the per-user
    /// cache: for apps whose calls run without a deadline. No thread
    /// advances its epoch; a deadline set in the app is not enforced.
    ///
    /// # Errors
    ///
    /// When wasmtime rejects the engine configuration on this machine.
    pub fn without_deadlines() -> Result<Self> {
        Ok(Self {
            engine: crate::engine_without_deadlines()?,
            async_engine: OnceLock::new(),
            deadlines: false,
            cache: Some(Cache::user()),
        })
    }

    /// A runtime on `engine`, which must have epoch interruption on, with
    /// no cache. The first runtime on an engine starts a thread that
    /// advances the engine's epoch every [`EPOCH_TICK`] for as long as the
    /// engine lives.
    ///
    /// # Errors
    ///
    /// When the thread cannot be started.
    pub fn with_engine(engine: Engine) -> Result<Self> {
        tick(&engine)?;
        Ok(Self {
            engine,
            async_engine: OnceLock::new(),
            deadlines: true,
            cache: None,
        })
    }

    /// The same runtime, with the apps using the async component model
    /// run on `engine` instead of one made from the runtime's own
    /// ([`crate::pooled_with_async`] with deadlines, else
    /// [`crate::with_async`]): for an embedder sizing that engine's pool
    /// itself. `engine` needs concurrency support and the async features
    /// [`crate::with_async`] turns on, and with deadlines, epoch
    /// interruption.
    ///
    /// # Errors
    ///
    /// With deadlines, when the thread advancing `engine`'s epoch cannot be
    /// started.
    pub fn with_async_engine(mut self, engine: Engine) -> Result<Self> {
        if self.deadlines {
            tick(&engine)?;
        }
        self.async_engine = OnceLock::from(engine);
        Ok(self)
    }

    /// The engine to compile `bytes` for: the runtime's own, or for an app
    /// using the async component model, its engine with concurrency
    /// support ([`crate::with_async`]).
    fn engine_for(&self, bytes: &[u8]) -> Result<&Engine> {
        if !nanoproc_linker::uses_async(bytes) {
            return Ok(&self.engine);
        }
        if let Some(engine) = self.async_engine.get() {
            return Ok(engine);
        }
        // A runtime with deadlines runs many short-lived instances (a
        // server, a command): they come from a pool.
        let engine = if self.deadlines {
            crate::pooled_with_async(&self.engine)?
        } else {
            crate::with_async(&self.engine)?
        };
        if self.deadlines {
            tick(&engine)?;
        }
        Ok(self.async_engine.get_or_init(|| engine))
    }

    /// Whether [`Runtime::load`] would find `bytes` compiled in the cache
    /// (an entry is there; it is still checked when loaded), so that a
    /// caller can say when a compilation is coming.
    pub fn is_cached(&self, bytes: &[u8]) -> bool {
        let Ok(engine) = self.engine_for(bytes) else {
            return false;
        };
        self.cache
            .as_ref()
            .is_some_and(|cache| cache.entry_path(engine, bytes).is_file())
    }

    /// The same runtime with compiled apps kept in `cache` (none: compile
    /// every time).
    #[must_use]
    pub fn with_cache(mut self, cache: Option<Cache>) -> Self {
        self.cache = cache;
        self
    }

    /// The engine apps are compiled for, but for those using the async
    /// component model.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Loads the composed app `bytes` with the grants and limits it
    /// carries: compiled (or taken from the cache), linked to the host
    /// capabilities it was granted, and ready to instantiate.
    ///
    /// # Errors
    ///
    /// When the bytes are no component, are cut short or nest too deep
    /// (checked first, since wasmtime compiles some files cut short), are no
    /// component wasmtime can compile, the grants section is malformed or
    /// of an app format newer than this host reads (see
    /// [`AppGrants`]), or the app imports something this host does not
    /// provide.
    pub fn load(&self, bytes: &[u8], options: Options) -> Result<App, LoadError> {
        nanoproc_linker::check_framing(bytes).map_err(LoadError::NotAComponent)?;
        let engine = self.engine_for(bytes).map_err(LoadError::Compile)?;
        let (component, outcome) = match &self.cache {
            Some(cache) => cache.component(engine, bytes).map_err(LoadError::Compile)?,
            None => (
                Component::new(engine, bytes).map_err(|e| {
                    LoadError::Compile(anyhow::anyhow!("cannot compile the app: {e:?}"))
                })?,
                Outcome::Compiled,
            ),
        };
        let grants = AppGrants::read(bytes)
            .map_err(LoadError::Grants)?
            .unwrap_or_default();
        let capabilities = Capabilities::new(&component, grants, options);
        let mut linker = Linker::new(engine);
        add_to_linker(&mut linker, &component).map_err(LoadError::Link)?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            LoadError::Link(anyhow::anyhow!("cannot link the app to this host: {e:#}"))
        })?;
        let exports = Exports::of(&component);
        Ok(App(Arc::new(Loaded {
            is_async: !Engine::same(engine, &self.engine),
            pre,
            capabilities,
            exports,
            outcome,
        })))
    }
}

/// Starts, unless one runs already, a thread that advances `engine`'s
/// epoch every [`EPOCH_TICK`] for as long as the engine lives.
fn tick(engine: &Engine) -> Result<()> {
    static TICKING: Mutex<Vec<EngineWeak>> = Mutex::new(Vec::new());
    let mut ticking = TICKING.lock().unwrap_or_else(|e| e.into_inner());
    // Engines that are gone drop out; their threads have ended.
    ticking.retain(|weak| weak.upgrade().is_some());
    let ticks = |weak: &EngineWeak| weak.upgrade().is_some_and(|e| Engine::same(&e, engine));
    if !ticking.iter().any(ticks) {
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("nanoproc-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .context("cannot start the thread that enforces deadlines")?;
        ticking.push(engine.weak());
    }
    Ok(())
}

/// Why [`Runtime::load`] could not load an app.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a component: not wasm, cut short, or nested too
    /// deep.
    NotAComponent(anyhow::Error),
    /// The grants the app carries cannot be read: among them, an app of a
    /// newer app format ([`GrantsError::Newer`]).
    Grants(GrantsError),
    /// wasmtime cannot compile the component (or the cache cannot hold it).
    Compile(anyhow::Error),
    /// The app imports something this host does not provide.
    Link(anyhow::Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotAComponent(e) | LoadError::Compile(e) | LoadError::Link(e) => e.fmt(f),
            LoadError::Grants(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::NotAComponent(e) | LoadError::Compile(e) | LoadError::Link(e) => e.source(),
            LoadError::Grants(e) => e.source(),
        }
    }
}

/// A loaded app: compile and link once, instantiate many times, from any
/// thread (cloning is cheap).
#[derive(Clone)]
pub struct App(Arc<Loaded>);

struct Loaded {
    /// Whether the app uses the async component model: its engine has
    /// concurrency support, and it is instantiated and called through
    /// wasmtime's async entry points, each call run to its end on the
    /// caller's thread.
    is_async: bool,
    pre: InstancePre<HostState>,
    capabilities: Capabilities,
    exports: Exports,
    outcome: Outcome,
}

impl App {
    /// A fresh instance of the app, in a store of its own.
    ///
    /// # Errors
    ///
    /// A [`Fault`] when instantiation traps or goes over a limit; an error
    /// when a granted directory cannot be opened or a granted endpoint
    /// does not resolve.
    pub fn instantiate(&self) -> Result<Instance> {
        let live = self.live()?;
        Ok(Instance {
            app: self.clone(),
            live: Some(live),
        })
    }

    fn live(&self) -> Result<Live> {
        let mut store = self.store()?;
        let instance = if self.0.is_async {
            wasmtime_wasi::runtime::in_tokio(self.0.pre.instantiate_async(&mut store))
        } else {
            self.0.pre.instantiate(&mut store)
        }
        .map_err(|e| Fault::new("instantiation", &e, self.timeout()))?;
        Ok(Live { store, instance })
    }

    /// A store for one new instance: its capabilities, its limits, and
    /// the deadline of its first call set.
    pub(crate) fn store(&self) -> Result<Store<HostState>> {
        let mut store = Store::new(self.0.pre.engine(), self.0.capabilities.state()?);
        store.limiter(|state| &mut state.budget);
        self.arm(&mut store);
        Ok(store)
    }

    /// The app compiled and linked, ready to instantiate.
    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        &self.0.pre
    }

    /// Sets the deadline of the next call into `store`.
    pub(crate) fn arm(&self, store: &mut Store<HostState>) {
        let ticks = match self.timeout() {
            // One more tick than the time covers: the first may come at once.
            Some(timeout) => (timeout.as_nanos() / EPOCH_TICK.as_nanos()) as u64 + 1,
            None => u64::MAX / 2,
        };
        store.set_epoch_deadline(ticks);
    }

    /// The longest one call may run, from the app's limits.
    pub fn timeout(&self) -> Option<Duration> {
        self.0
            .capabilities
            .limits()
            .timeout_ms
            .map(Duration::from_millis)
    }

    /// The limits each instance runs under.
    pub fn limits(&self) -> &Limits {
        self.0.capabilities.limits()
    }

    /// Whether the compiled app came from the cache.
    pub fn outcome(&self) -> &Outcome {
        &self.0.outcome
    }

    /// The functions the app exports, by the names [`Instance::call`]
    /// accepts in full (`interface#function`, or `function` at the top).
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.0.exports.funcs.iter().map(|f| f.name.as_str())
    }

    /// The type of the exported function `name`.
    ///
    /// # Errors
    ///
    /// When the app exports no such function, or several match.
    pub fn function_type(&self, name: &str) -> Result<ComponentFunc> {
        Ok(self.0.exports.find(name)?.ty.clone())
    }

    /// The full name of the exported function `name` (looked up as
    /// [`Instance::call`] does), such as
    /// `wasi:http/incoming-handler@0.2.6#handle`.
    pub(crate) fn export_name(&self, name: &str) -> Result<String> {
        Ok(self.0.exports.find(name)?.name.clone())
    }

    /// Whether the app is a command (exports `wasi:cli/run`).
    pub fn is_command(&self) -> bool {
        self.0.exports.find(&format!("{CLI_RUN}#run")).is_ok()
    }
}

/// An instance of an app. A call that faults drops the instance it ran in
/// (its state can no longer be trusted); the next call runs on a fresh one.
pub struct Instance {
    app: App,
    live: Option<Live>,
}

struct Live {
    store: Store<HostState>,
    instance: wasmtime::component::Instance,
}

impl Instance {
    /// Calls the exported function `name` with `params`, typed.
    ///
    /// `name` is `interface#function`, as the component model and
    /// [`App::functions`] write it (the version may be left out of the
    /// interface), a function exported at the top, or just the function's
    /// name when only one export has a function of that name; a full name
    /// always means the function it names in full. Functions of resources
    /// are named as the component model names them, such as
    /// `interface#[static]resource.function`.
    ///
    /// # Errors
    ///
    /// A [`Fault`] when the call traps, runs past the deadline or goes over
    /// a limit; an error when there is no such function or its type is not
    /// `(P) -> R`.
    pub fn call<P, R>(&mut self, name: &str, params: P) -> Result<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let (func, export) = self.func(name)?;
        let is_async = self.app.0.is_async;
        let live = self.live.as_mut().context("the instance is live")?;
        let typed = func
            .typed::<P, R>(&live.store)
            .map_err(|e| anyhow::anyhow!("`{export}` has another type: {e}"))?;
        let result = if is_async {
            wasmtime_wasi::runtime::in_tokio(typed.call_async(&mut live.store, params))
        } else {
            typed.call(&mut live.store, params)
        };
        self.settle(&export, result)
    }

    /// Calls the exported function `name` with `params` as dynamic values,
    /// returning its results.
    ///
    /// # Errors
    ///
    /// As [`Instance::call`].
    pub fn call_values(&mut self, name: &str, params: &[Val]) -> Result<Vec<Val>> {
        let (func, export) = self.func(name)?;
        let live = self.live.as_mut().context("the instance is live")?;
        let mut results = vec![Val::Bool(false); func.ty(&live.store).results().len()];
        let result = if self.app.0.is_async {
            wasmtime_wasi::runtime::in_tokio(func.call_async(&mut live.store, params, &mut results))
        } else {
            func.call(&mut live.store, params, &mut results)
        };
        self.settle(&export, result)?;
        Ok(results)
    }

    /// Calls a function written as a call with WAVE arguments,
    /// `render("# hi")` or `docs:adder/add@0.1.0#add(1, 2)`, the function
    /// named as [`Instance::call`] takes it, and returns its results in
    /// WAVE: one value as itself, several as a tuple, none as the empty
    /// string.
    ///
    /// # Errors
    ///
    /// When the call does not parse, its arguments do not fit the
    /// function's parameters, or the function needs a resource that an
    /// earlier call would have to make (a method), and as
    /// [`Instance::call`].
    pub fn call_wave(&mut self, call: &str) -> Result<String> {
        let (name, parsed, shift) = parse_call(call)?;
        let export = self.app.0.exports.find(name)?;
        let (name, ty) = (export.name.clone(), export.ty.clone());
        one_call_can_make_its_arguments(export)?;
        let param_types: Vec<_> = ty.params().map(|(_, t)| t).collect();
        let params: Vec<Val> = parsed.to_wasm_params(&param_types).map_err(|e| {
            let expected: Vec<String> = ty
                .params()
                .map(|(n, t)| format!("{n}: {}", wasm_wave::wasm::DisplayType(&t)))
                .collect();
            anyhow::anyhow!(
                "the arguments of `{call}` do not fit `{name}({})`: {}",
                expected.join(", "),
                wave_error(&e, shift)
            )
        })?;
        let results = self.call_values(&name, &params)?;
        let mut wave = Vec::new();
        for value in &results {
            wave.push(
                value
                    .to_wave()
                    .map_err(|e| anyhow::anyhow!("cannot write a result in WAVE: {e}"))?,
            );
        }
        Ok(match wave.len() {
            1 => wave.remove(0),
            _ if wave.is_empty() => String::new(),
            _ => format!("({})", wave.join(", ")),
        })
    }

    /// Runs the app as a command: calls `wasi:cli/run#run`.
    ///
    /// # Errors
    ///
    /// When the app is no command, or as [`Instance::call`]. An exit
    /// through `wasi:cli/exit` is not an error: its status is returned.
    pub fn run(&mut self) -> Result<i32> {
        if !self.app.is_command() {
            bail!(
                "the app exports no `{CLI_RUN}`, so it cannot be run; call one of its functions instead: {}",
                self.app.functions().collect::<Vec<_>>().join(", ")
            );
        }
        match self.call::<(), (Result<(), ()>,)>(&format!("{CLI_RUN}#run"), ()) {
            Ok((Ok(()),)) => Ok(0),
            Ok((Err(()),)) => Ok(1),
            Err(error) => match error.downcast_ref::<Fault>().map(|f| &f.cause) {
                Some(Cause::Exit(status)) => Ok(*status),
                _ => Err(error),
            },
        }
    }

    fn revive(&mut self) -> Result<&mut Live> {
        if self.live.is_none() {
            self.live = Some(self.app.live()?);
        }
        Ok(self.live.as_mut().expect("just made live"))
    }

    /// The function called `name`, and its full name.
    fn func(&mut self, name: &str) -> Result<(Func, String)> {
        let export = self.app.0.exports.find(name)?;
        let (index, full) = (export.index, export.name.clone());
        let app = self.app.clone();
        let live = self.revive()?;
        app.arm(&mut live.store);
        let func = live
            .instance
            .get_func(&mut live.store, index)
            .with_context(|| format!("the instance has no function `{full}`"))?;
        Ok((func, full))
    }

    /// The outcome of a call: on failure the instance is dropped and the
    /// error becomes a [`Fault`].
    fn settle<T>(&mut self, export: &str, result: wasmtime::Result<T>) -> Result<T> {
        result.map_err(|error| {
            self.live = None;
            Fault::new(export, &error, self.app.timeout()).into()
        })
    }
}

/// A call written `function(arguments)` split into the function's name, as
/// the component model writes it (`interface#function`, which WAVE's own
/// names cannot say, `[static]resource.function`, or a name alone), and its
/// arguments, parsed as WAVE but not yet typed, with what to add to the
/// places their errors give to make them places in `call`.
fn parse_call(call: &str) -> Result<(&str, wasm_wave::untyped::UntypedFuncCall<'static>, usize)> {
    // A name holds no `(`, so the arguments start at the first.
    let Some(open) = call.find('(') else {
        bail!(
            "cannot parse the call `{call}`: it has no arguments in parentheses; \
             write `function(arguments)`, such as `render(\"# hi\")` or `docs:adder/add#add(1, 2)`"
        );
    };
    let name = call[..open].trim();
    if name.is_empty() {
        bail!("cannot parse the call `{call}`: it names no function before `(`");
    }
    // WAVE parses the arguments after a one-letter name standing in for it.
    let source = format!("f{}", &call[open..]);
    let shift = open - 1;
    let parsed = wasm_wave::untyped::UntypedFuncCall::parse(&source).map_err(|e| {
        anyhow::anyhow!(
            "cannot parse the arguments of `{call}`: {}",
            wave_error(&e, shift)
        )
    })?;
    Ok((name, parsed.into_owned(), shift))
}

/// WAVE's error `e`, its place moved by `shift` bytes.
fn wave_error(e: &wasm_wave::parser::ParserError, shift: usize) -> String {
    let span = e.span();
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    format!(
        "{}{detail} at {}..{}",
        e.kind(),
        span.start + shift,
        span.end + shift
    )
}

/// Fails when one call cannot make the arguments `export` takes: a method,
/// or any function taking a resource, needs a resource made by an earlier
/// call (a constructor's), which a call written in WAVE cannot pass.
fn one_call_can_make_its_arguments(export: &Export) -> Result<()> {
    if let Some(method) = export.func.strip_prefix("[method]") {
        let resource = method.split('.').next().unwrap_or(method);
        bail!(
            "`{}` is a method of the resource `{resource}`: it needs a `{resource}` made by an \
             earlier call (its constructor's), which one call cannot make and pass on",
            export.name
        );
    }
    if let Some((param, _)) = export.ty.params().find(|(_, ty)| {
        matches!(
            ty,
            wasmtime::component::types::Type::Own(_) | wasmtime::component::types::Type::Borrow(_)
        )
    }) {
        bail!(
            "`{}` takes a resource (`{param}`), which only an earlier call can make, and one call cannot make and pass on",
            export.name
        );
    }
    if let Some(held) = export.ty.params().find_map(|(_, ty)| asynchronous(&ty)) {
        bail!(
            "`{}` takes {held}, which a call written in WAVE cannot make; call it through a \
             `sandbox!` handle or from a component",
            export.name
        );
    }
    if let Some(held) = export
        .ty
        .results()
        .filter_map(|ty| asynchronous(&ty))
        .next()
    {
        bail!(
            "`{}` returns {held}, which a call written in WAVE cannot read; call it through a \
             `sandbox!` handle or from a component",
            export.name
        );
    }
    Ok(())
}

/// The stream, future or error context `ty` holds, if any, said for
/// people.
fn asynchronous(ty: &wasmtime::component::types::Type) -> Option<&'static str> {
    use wasmtime::component::types::Type;
    match ty {
        Type::Stream(_) => Some("a stream"),
        Type::Future(_) => Some("a future"),
        Type::ErrorContext => Some("an error context"),
        Type::List(list) => asynchronous(&list.ty()),
        Type::FixedLengthList(list) => asynchronous(&list.ty()),
        Type::Map(map) => asynchronous(&map.key()).or_else(|| asynchronous(&map.value())),
        Type::Option(option) => asynchronous(&option.ty()),
        Type::Result(result) => [result.ok(), result.err()]
            .iter()
            .flatten()
            .find_map(asynchronous),
        Type::Record(record) => record.fields().find_map(|field| asynchronous(&field.ty)),
        Type::Tuple(tuple) => tuple.types().find_map(|ty| asynchronous(&ty)),
        Type::Variant(variant) => variant
            .cases()
            .find_map(|case| case.ty.as_ref().and_then(asynchronous)),
        _ => None,
    }
}

/// The functions an app exports.
struct Exports {
    funcs: Vec<Export>,
}

struct Export {
    /// `interface#function`, or `function` at the top.
    name: String,
    /// The interface without its version, for lookups that leave it out.
    unversioned: Option<String>,
    func: String,
    index: ComponentExportIndex,
    ty: ComponentFunc,
}

impl Export {
    /// Whether `name` names this function: `interface#function` as the
    /// component model writes it, `[ns:pkg/]interface.function[@version]`
    /// as WAVE does, or `function` alone. Versions may be left out.
    fn is_named(&self, name: &str) -> bool {
        let Some(unversioned) = &self.unversioned else {
            return self.func == name;
        };
        if name == self.func {
            return true;
        }
        let interface = &self.name[..self.name.len() - self.func.len() - 1];
        if let Some((wanted, func)) = name.rsplit_once('#') {
            return func == self.func && (wanted == interface || wanted == unversioned);
        }
        let (path, version) = match name.split_once('@') {
            Some((path, version)) => (path, Some(version)),
            None => (name, None),
        };
        let Some((wanted, func)) = path.rsplit_once('.') else {
            return false;
        };
        let short = unversioned.rsplit('/').next().unwrap_or(unversioned);
        func == self.func
            && (wanted == unversioned || wanted == short)
            && version.is_none_or(|v| interface.ends_with(&format!("@{v}")))
    }
}

impl Exports {
    fn of(component: &Component) -> Self {
        let engine = component.engine();
        let mut funcs = Vec::new();
        for (name, item) in component.component_type().exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(ty) => {
                    if let Some(index) = component.get_export_index(None, name) {
                        funcs.push(Export {
                            name: name.to_string(),
                            unversioned: None,
                            func: name.to_string(),
                            index,
                            ty,
                        });
                    }
                }
                ComponentItem::ComponentInstance(instance) => {
                    let Some(parent) = component.get_export_index(None, name) else {
                        continue;
                    };
                    for (func, item) in instance.exports(engine) {
                        let ComponentItem::ComponentFunc(ty) = item.ty else {
                            continue;
                        };
                        if let Some(index) = component.get_export_index(Some(&parent), func) {
                            funcs.push(Export {
                                name: format!("{name}#{func}"),
                                unversioned: Some(name.split('@').next().unwrap_or(name).into()),
                                func: func.to_string(),
                                index,
                                ty,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        Self { funcs }
    }

    /// The function `name` names: the one whose full name it is, else the
    /// one it names in short.
    fn find(&self, name: &str) -> Result<&Export> {
        if let Some(exact) = self.funcs.iter().find(|e| e.name == name) {
            return Ok(exact);
        }
        let found: Vec<&Export> = self.funcs.iter().filter(|e| e.is_named(name)).collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => bail!(
                "the app exports no function `{name}`; it exports: {}",
                self.list()
            ),
            many => bail!(
                "`{name}` could be any of {}; name one in full",
                many.iter()
                    .map(|e| format!("`{}`", e.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn list(&self) -> String {
        if self.funcs.is_empty() {
            return "nothing".to_string();
        }
        self.funcs
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
