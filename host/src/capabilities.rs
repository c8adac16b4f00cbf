//! Capability providers: WASI 0.2 through wasmtime-wasi, set up from the
//! grants a composed app carries, each component seeing only its own.
//!
//! The store holds one WASI context for the app's shared imports (built
//! from the union of the grants, which for anything narrowed is the one
//! narrowing all holders agree on) and one more context per component that
//! holds a narrowing of its own. The linker imports the interfaces that hand
//! out narrowed authority (`wasi:cli/environment`, `wasi:filesystem/preopens`,
//! `wasi:sockets/*-create-socket`) once per such component, under
//! `nanoproc-grant:COMPONENT/…` names; [`add_to_linker`] binds each of them
//! to that component's context. All contexts share one resource table, so a
//! descriptor or socket handed out under one component's narrowing keeps
//! that narrowing's rights wherever it goes, and the shared interfaces that
//! use it (`wasi:filesystem/types`, `wasi:sockets/tcp`) need no copies.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use nanoproc_linker::{AppGrants, DirMode, Grants, HolderImport, Limits};
use wasmtime::component::{Component, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::WasiCliCtxView;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::p2::bindings::cli::environment::Host as _;
use wasmtime_wasi::p2::bindings::filesystem::preopens::Host as _;
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily};
use wasmtime_wasi::p2::bindings::sockets::tcp_create_socket::Host as _;
use wasmtime_wasi::p2::bindings::sync::sockets::udp_create_socket::Host as _;
use wasmtime_wasi::p2::{TcpSocket, UdpSocket};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::limits::Budget;

/// Where a granted stream goes, when it is granted.
pub enum Stdio {
    /// The host process's own stream.
    Inherit,
    /// An in-memory pipe (for embedding and tests).
    Pipe(wasmtime_wasi::p2::pipe::MemoryOutputPipe),
}

/// How the host sets up the capabilities an app is granted.
pub struct Options {
    /// Relative `host` paths of directory grants are resolved against this.
    pub base_dir: std::path::PathBuf,
    /// Arguments seen through `wasi:cli/environment` by the components
    /// granted an environment.
    pub args: Vec<String>,
    /// Where a granted stdout goes.
    pub stdout: Stdio,
    /// Where a granted stderr goes.
    pub stderr: Stdio,
    /// Limits that replace the app's own where set (e.g. a deadline given
    /// on the command line).
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            base_dir: ".".into(),
            args: Vec::new(),
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            limits: Limits::default(),
        }
    }
}

/// The per-store state of an app: its WASI contexts, resource table and
/// what it has used of its limits.
pub struct HostState {
    shared: WasiCtx,
    holders: HashMap<String, WasiCtx>,
    table: ResourceTable,
    /// The instance's limits, enforced through `Store::limiter`.
    pub budget: Budget,
}

/// The capabilities of one app: its grants, how the host provides them,
/// and which components hold a narrowing of their own. Prepared once per
/// app; [`Capabilities::state`] makes the state of each new instance.
pub struct Capabilities {
    grants: AppGrants,
    options: Options,
    /// The components the app imports a per-component copy for.
    holders: Vec<String>,
}

impl Capabilities {
    /// The capabilities of the composed app `component`, granted `grants`
    /// (usually [`AppGrants::read`] of the app's bytes).
    pub fn new(component: &Component, mut grants: AppGrants, options: Options) -> Self {
        let (limits, overrides) = (&mut grants.limits, &options.limits);
        limits.memory = overrides.memory.or(limits.memory);
        limits.timeout_ms = overrides.timeout_ms.or(limits.timeout_ms);
        limits.tables = overrides.tables.or(limits.tables);
        limits.instances = overrides.instances.or(limits.instances);
        let mut holders = Vec::new();
        for (name, _) in component.component_type().imports(component.engine()) {
            if let Some(import) = HolderImport::parse(name)
                && !holders.contains(&import.holder)
            {
                holders.push(import.holder);
            }
        }
        Self {
            grants,
            options,
            holders,
        }
    }

    /// The limits every instance runs under: the app's own, replaced by
    /// those set in [`Options::limits`].
    pub fn limits(&self) -> &Limits {
        &self.grants.limits
    }

    /// The state of one new instance of the app.
    ///
    /// # Errors
    ///
    /// When a granted directory cannot be opened or a granted `host:port`
    /// does not resolve.
    pub fn state(&self) -> Result<HostState> {
        let shared = context(&self.grants.shared(), &self.options)?;
        let mut holders = HashMap::new();
        for name in &self.holders {
            let theirs = self.grants.components.get(name).with_context(|| {
                format!("the app imports capabilities for `{name}`, but carries no grants for it")
            })?;
            holders.insert(
                name.clone(),
                context(theirs, &self.options).with_context(|| format!("granting `{name}`"))?,
            );
        }
        Ok(HostState {
            shared,
            holders,
            table: ResourceTable::new(),
            budget: Budget::new(&self.grants.limits),
        })
    }
}

impl HostState {
    /// The context of `holder`'s own narrowing.
    fn holder(&mut self, holder: &str) -> wasmtime::Result<(&mut WasiCtx, &mut ResourceTable)> {
        let ctx = self
            .holders
            .get_mut(holder)
            .ok_or_else(|| wasmtime::format_err!("the app holds no grants for `{holder}`"))?;
        Ok((ctx, &mut self.table))
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.shared,
            table: &mut self.table,
        }
    }
}

/// The WASI context of one set of grants.
fn context(grants: &Grants, options: &Options) -> Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    if grants.stdout {
        match &options.stdout {
            Stdio::Inherit => builder.inherit_stdout(),
            Stdio::Pipe(pipe) => builder.stdout(pipe.clone()),
        };
    }
    if grants.stderr {
        match &options.stderr {
            Stdio::Inherit => builder.inherit_stderr(),
            Stdio::Pipe(pipe) => builder.stderr(pipe.clone()),
        };
    }
    if grants.stdin {
        builder.inherit_stdin();
    }
    if !grants.env.is_empty() || grants.args {
        for var in &grants.env {
            if let Ok(value) = std::env::var(var) {
                builder.env(var, value);
            }
        }
        builder.args(&options.args);
    }
    for dir in &grants.dirs {
        let host = options.base_dir.join(&dir.host);
        let guest = dir
            .guest
            .clone()
            .unwrap_or_else(|| dir.host.display().to_string());
        let perms = match dir.mode {
            DirMode::ReadOnly => FsPerms::ReadOnly,
            DirMode::ReadWrite => FsPerms::ReadWrite,
        };
        builder.preopened_dir(&host, guest, perms).map_err(|e| {
            anyhow::anyhow!(
                "cannot open the granted directory {}: {e:#}",
                host.display()
            )
        })?;
    }
    if !grants.network.is_empty() {
        let mut allowed: Vec<SocketAddr> = Vec::new();
        for endpoint in &grants.network {
            let addrs = endpoint
                .to_socket_addrs()
                .with_context(|| format!("cannot resolve the granted endpoint `{endpoint}`"))?;
            allowed.extend(addrs);
        }
        let allowed = Arc::new(allowed);
        builder.allow_tcp(true).allow_udp(true);
        builder.socket_addr_check(move |addr, used| {
            let ok = match used {
                // Replies come from the granted endpoints only.
                SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
                    allowed.contains(&addr)
                }
                // An outgoing socket is bound to an ephemeral port of any
                // address before it connects; nothing else may be bound.
                SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                    addr.ip().is_unspecified() && addr.port() == 0
                }
                SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
            };
            Box::pin(async move { ok })
        });
    }
    Ok(builder.build())
}

/// Adds WASI 0.2 to `linker`, and binds each per-component import of
/// `component` (a composed app) to its component's own context.
///
/// # Errors
///
/// When the app imports a per-component interface this host does not know.
pub fn add_to_linker(linker: &mut Linker<HostState>, component: &Component) -> Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    let engine = component.engine().clone();
    for (name, _) in component.component_type().imports(&engine) {
        let Some(import) = HolderImport::parse(name) else {
            continue;
        };
        let holder = import.holder.clone();
        let mut instance = linker.instance(name)?;
        match import.interface.split('@').next().unwrap_or_default() {
            "wasi:cli/environment" => {
                let h = holder.clone();
                instance.func_wrap("get-environment", move |mut store, (): ()| {
                    let (ctx, table) = store.data_mut().holder(&h)?;
                    Ok((cli(ctx, table).get_environment()?,))
                })?;
                let h = holder.clone();
                instance.func_wrap("get-arguments", move |mut store, (): ()| {
                    let (ctx, table) = store.data_mut().holder(&h)?;
                    Ok((cli(ctx, table).get_arguments()?,))
                })?;
                let h = holder;
                instance.func_wrap("initial-cwd", move |mut store, (): ()| {
                    let (ctx, table) = store.data_mut().holder(&h)?;
                    Ok((cli(ctx, table).initial_cwd()?,))
                })?;
            }
            "wasi:filesystem/preopens" => {
                instance.func_wrap("get-directories", move |mut store, (): ()| {
                    let (ctx, table) = store.data_mut().holder(&holder)?;
                    let dirs: Vec<(Resource<Descriptor>, String)> = WasiFilesystemCtxView {
                        ctx: ctx.filesystem(),
                        table,
                    }
                    .get_directories()?;
                    Ok((dirs,))
                })?;
            }
            "wasi:sockets/tcp-create-socket" => {
                instance.func_wrap(
                    "create-tcp-socket",
                    move |mut store, (family,): (IpAddressFamily,)| {
                        let (ctx, table) = store.data_mut().holder(&holder)?;
                        let socket: Result<Resource<TcpSocket>, ErrorCode> =
                            socket_result(sockets(ctx, table).create_tcp_socket(family))?;
                        Ok((socket,))
                    },
                )?;
            }
            "wasi:sockets/udp-create-socket" => {
                instance.func_wrap(
                    "create-udp-socket",
                    move |mut store, (family,): (IpAddressFamily,)| {
                        let (ctx, table) = store.data_mut().holder(&holder)?;
                        let socket: Result<Resource<UdpSocket>, ErrorCode> =
                            socket_result(sockets(ctx, table).create_udp_socket(family))?;
                        Ok((socket,))
                    },
                )?;
            }
            other => bail!(
                "the app imports `{name}`, a per-component copy of `{other}`, which this host cannot provide"
            ),
        }
    }
    Ok(())
}

fn cli<'a>(ctx: &'a mut WasiCtx, table: &'a mut ResourceTable) -> WasiCliCtxView<'a> {
    WasiCliCtxView {
        ctx: ctx.cli(),
        table,
    }
}

fn sockets<'a>(ctx: &'a mut WasiCtx, table: &'a mut ResourceTable) -> WasiSocketsCtxView<'a> {
    WasiSocketsCtxView {
        ctx: ctx.sockets(),
        table,
    }
}

/// Splits a socket call's outcome into the error code the guest sees and a
/// trap for anything else.
fn socket_result<T>(
    result: wasmtime_wasi::p2::SocketResult<T>,
) -> wasmtime::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(error) => match error.downcast() {
            Ok(code) => Ok(Err(code)),
            Err(trap) => Err(trap),
        },
    }
}
