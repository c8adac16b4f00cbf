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
//!
//! Refusals are reported ([`Refusal`]) and attributed to the components
//! of the context they came from: a network address not granted
//! through the context's address check, a path outside a granted directory
//! through the `wasi:filesystem/types` functions that take a path (each
//! descriptor remembers whose preopen it came from), and environment
//! variables left out when a component reads its environment.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use nanoproc_linker::{AppGrants, Capability, DirMode, Grants, HolderImport, Limits, Origin};
use wasmtime::component::{
    Component, ComponentNamedList, ComponentType, Lift, Linker, LinkerInstance, Lower, Resource,
    ResourceTable,
};
use wasmtime_wasi::cli::WasiCliCtxView;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::p2::FsResult;
use wasmtime_wasi::p2::bindings::cli::environment::Host as _;
use wasmtime_wasi::p2::bindings::filesystem::preopens::Host as _;
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily};
use wasmtime_wasi::p2::bindings::sockets::tcp_create_socket::Host as _;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, DescriptorFlags, HostDescriptor as _, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::bindings::sync::sockets::udp_create_socket::Host as _;
use wasmtime_wasi::p2::{TcpSocket, UdpSocket};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

mod http;
mod inert;

use crate::limits::Budget;
use crate::refusal::{Answer, Refusal, Refusals, Reporter};

/// The WASI 0.2 version wasmtime-wasi provides, as in the names it gives
/// its interfaces in a linker. The interfaces the host shadows to report
/// refusals must be named exactly so, or they would be defined beside
/// wasmtime-wasi's instead of replacing them.
const WASI_VERSION: &str = "0.2.12";

/// Where a granted stream goes, when it is granted.
#[derive(Clone)]
pub enum Stdio {
    /// The host process's own stream.
    Inherit,
    /// An in-memory pipe (for embedding and tests). It keeps everything
    /// written to it, so an app that runs for long needs another sink.
    Pipe(wasmtime_wasi::p2::pipe::MemoryOutputPipe),
    /// Accepted and dropped: the guest's writes succeed and go nowhere.
    Discard,
}

/// How the host sets up the capabilities an app is granted.
#[derive(Clone)]
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
    /// Where each refusal of something a component was not granted is
    /// reported (by default the host process's stderr).
    pub refusals: Refusals,
    /// The name refusals give a component loaded as it was built, which
    /// carries no grants of an app to name its components (by default such
    /// a component is called `the app`).
    pub name: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            base_dir: ".".into(),
            args: Vec::new(),
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            limits: Limits::default(),
            refusals: Refusals::Stderr,
            name: None,
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
    attribution: Arc<Attribution>,
    /// Whose grant each descriptor (by its handle's representation) came
    /// from: set for each preopen handed out, inherited by what is opened
    /// from it.
    descriptors: HashMap<u32, Label>,
    /// The state of `wasi:http`.
    http: wasmtime_wasi_http::WasiHttpCtx,
}

/// The components a refusal is attributed to: those a context serves.
type Label = Arc<[String]>;

/// How refusals are reported and attributed, the same for every instance
/// of an app.
struct Attribution {
    reporter: Reporter,
    /// The components the shared context serves each narrowed capability
    /// to: those granted it that have no narrowing of their own.
    shared_dirs: Label,
    shared_env: Label,
    shared_network: Label,
    /// The origins each narrowing of `http` allows, with the components it
    /// serves: the shared import's under `None`, each per-component
    /// import's under its component's name.
    http: HashMap<Option<String>, (Arc<[Origin]>, Label)>,
}

/// The capabilities of one app: its grants, how the host provides them,
/// and which components hold a narrowing of their own. Prepared once per
/// app; [`Capabilities::state`] makes the state of each new instance.
pub struct Capabilities {
    grants: AppGrants,
    options: Options,
    /// The components the app imports a per-component copy for.
    holders: Vec<String>,
    attribution: Arc<Attribution>,
    /// The addresses of every granted network endpoint, resolved once when
    /// the app is loaded (or why one did not resolve).
    endpoints: Endpoints,
}

/// Granted `host:port` endpoints and what they resolved to.
type Endpoints = HashMap<String, Result<Arc<[SocketAddr]>, String>>;

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
        let mut own = Vec::new();
        for (name, _) in component.component_type().imports(component.engine()) {
            if let Some(import) = HolderImport::parse(name)
                && !import.denied
            {
                own.push((import.holder.clone(), import.capability));
                if !holders.contains(&import.holder) {
                    holders.push(import.holder);
                }
            }
        }
        let shared = |capability: Capability| -> Label {
            if grants.components.is_empty() {
                // A component as it was built: every refusal is its own.
                return options.name.iter().cloned().collect();
            }
            grants
                .components
                .iter()
                .filter(|(name, theirs)| {
                    capability.granted_by(theirs)
                        && !own.iter().any(|(h, c)| h == *name && *c == capability)
                })
                .map(|(name, _)| name.clone())
                .collect()
        };
        let origins = |grants: &Grants| -> Arc<[Origin]> {
            grants
                .http
                .iter()
                .filter_map(|o| Origin::parse(o))
                .collect()
        };
        let mut http =
            HashMap::from([(None, (origins(&grants.shared()), shared(Capability::Http)))]);
        for (holder, capability) in &own {
            if let (Capability::Http, Some(theirs)) = (capability, grants.components.get(holder)) {
                let label: Label = Arc::from([holder.clone()]);
                http.insert(Some(holder.clone()), (origins(theirs), label));
            }
        }
        let attribution = Arc::new(Attribution {
            reporter: Reporter::new(&options.refusals),
            shared_dirs: shared(Capability::Dirs),
            shared_env: shared(Capability::Env),
            shared_network: shared(Capability::Network),
            http,
        });
        let endpoints = std::iter::once(&grants.shared())
            .chain(grants.components.values())
            .flat_map(|g| g.network.iter())
            .map(|endpoint| {
                let addrs = endpoint
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Arc<[SocketAddr]>>())
                    .map_err(|e| e.to_string());
                (endpoint.clone(), addrs)
            })
            .collect();
        Self {
            grants,
            options,
            holders,
            attribution,
            endpoints,
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
    /// When a granted directory cannot be opened (each instance opens
    /// them) or a granted `host:port` did not resolve (when the app was
    /// loaded).
    pub fn state(&self) -> Result<HostState> {
        let attribution = &self.attribution;
        let shared = context(
            &self.grants.shared(),
            &self.endpoints,
            &self.options,
            &attribution.reporter,
            &attribution.shared_network,
        )?;
        let mut holders = HashMap::new();
        for name in &self.holders {
            let theirs = self.grants.components.get(name).with_context(|| {
                format!("the app imports capabilities for `{name}`, but carries no grants for it")
            })?;
            let label: Label = Arc::from([name.clone()]);
            holders.insert(
                name.clone(),
                context(
                    theirs,
                    &self.endpoints,
                    &self.options,
                    &attribution.reporter,
                    &label,
                )
                .with_context(|| format!("granting `{name}`"))?,
            );
        }
        Ok(HostState {
            shared,
            holders,
            table: ResourceTable::new(),
            budget: Budget::new(&self.grants.limits),
            attribution: attribution.clone(),
            descriptors: HashMap::new(),
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
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

    /// The filesystem of the shared context, which serves every descriptor.
    fn filesystem(&mut self) -> WasiFilesystemCtxView<'_> {
        WasiFilesystemCtxView {
            ctx: self.shared.filesystem(),
            table: &mut self.table,
        }
    }

    /// Records that `dirs` were handed out under the grant of `label`.
    fn preopened(&mut self, dirs: &[(Resource<Descriptor>, String)], label: &Label) {
        for (dir, _) in dirs {
            self.descriptors.insert(dir.rep(), label.clone());
        }
    }

    /// Whose grant the descriptor `rep` came from.
    fn owner(&self, rep: u32) -> Label {
        self.descriptors
            .get(&rep)
            .unwrap_or(&self.attribution.shared_dirs)
            .clone()
    }

    /// Reports the environment variables of the host that were left out of
    /// `environment`, the environment `label` just read.
    fn environment_read(&self, environment: &[(String, String)], label: &Label) {
        self.attribution.reporter.report(|| {
            let mut withheld: Vec<String> = std::env::vars_os()
                .map(|(name, _)| name.to_string_lossy().into_owned())
                .filter(|name| !environment.iter().any(|(granted, _)| granted == name))
                .collect();
            withheld.sort();
            let attempt = match withheld.as_slice() {
                [] => return None,
                [one] => format!("the host's environment variable `{one}`"),
                [first, ..] => format!(
                    "{} of the host's environment variables, such as `{first}`",
                    withheld.len()
                ),
            };
            Some(Refusal {
                components: label.to_vec(),
                capability: Capability::Env,
                attempt,
                answer: Answer::LeftOut,
            })
        });
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

/// The WASI context of one set of grants, held by the components `label`,
/// its network endpoints looked up in `endpoints`, reporting refused
/// addresses to `reporter`. The granted directories are opened here, for
/// each instance: wasmtime-wasi takes a preopen by its path.
fn context(
    grants: &Grants,
    endpoints: &Endpoints,
    options: &Options,
    reporter: &Reporter,
    label: &Label,
) -> Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    let refused = |capability, name| inert::Refused {
        reporter: reporter.clone(),
        label: label.clone(),
        capability,
        name,
    };
    if grants.stdout {
        match &options.stdout {
            Stdio::Inherit => builder.inherit_stdout(),
            Stdio::Pipe(pipe) => builder.stdout(pipe.clone()),
            Stdio::Discard => builder.stdout(wasmtime_wasi::p2::pipe::SinkOutputStream),
        };
    } else {
        builder.stdout(refused(Capability::Stdout, "stdout"));
    }
    if grants.stderr {
        match &options.stderr {
            Stdio::Inherit => builder.inherit_stderr(),
            Stdio::Pipe(pipe) => builder.stderr(pipe.clone()),
            Stdio::Discard => builder.stderr(wasmtime_wasi::p2::pipe::SinkOutputStream),
        };
    } else {
        builder.stderr(refused(Capability::Stderr, "stderr"));
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
    // The check is set even without a network grant, so that a component
    // loaded as it was built, whose sockets come from this context, has
    // its attempts reported.
    {
        let mut allowed: Vec<SocketAddr> = Vec::new();
        for endpoint in &grants.network {
            match endpoints.get(endpoint) {
                Some(Ok(addrs)) => allowed.extend(addrs.iter()),
                Some(Err(e)) => bail!("cannot resolve the granted endpoint `{endpoint}`: {e}"),
                None => bail!("the granted endpoint `{endpoint}` was not resolved"),
            }
        }
        let allowed = Arc::new(allowed);
        let (reporter, label) = (reporter.clone(), label.clone());
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
            if !ok {
                reporter.report(|| Some(network_refusal(&label, addr, used)));
            }
            Box::pin(async move { ok })
        });
    }
    Ok(builder.build())
}

/// The refusal of `addr` for `used` to the components `label`, and what
/// wasmtime-wasi answers the guest when the address check says no.
fn network_refusal(label: &Label, addr: SocketAddr, used: SocketAddrUse) -> Refusal {
    let denied = Answer::Error("access-denied");
    let (attempt, answer) = match used {
        SocketAddrUse::TcpConnect => (format!("a TCP connection to {addr}"), denied),
        SocketAddrUse::TcpBind => (format!("binding a TCP socket to {addr}"), denied),
        SocketAddrUse::TcpListen => (format!("listening for TCP connections on {addr}"), denied),
        // The connection is reset before the guest sees it.
        SocketAddrUse::TcpAccept => (format!("a TCP connection from {addr}"), Answer::Dropped),
        SocketAddrUse::UdpBind => (format!("binding a UDP socket to {addr}"), denied),
        SocketAddrUse::UdpSend => (format!("UDP datagrams to {addr}"), denied),
        // Checked on connecting only after sending to the same address
        // was allowed, so refused only for a datagram received.
        SocketAddrUse::UdpReceive => (format!("a UDP datagram from {addr}"), Answer::Dropped),
    };
    Refusal {
        components: label.to_vec(),
        capability: Capability::Network,
        attempt,
        answer,
    }
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
    let uses_http = component
        .component_type()
        .imports(&engine)
        .any(|(name, _)| name.starts_with("wasi:http/"));
    if uses_http {
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)?;
    }
    linker.allow_shadowing(true);
    shadow(linker)?;
    if uses_http {
        http::shadow(linker)?;
    }
    linker.allow_shadowing(false);
    for (name, _) in component.component_type().imports(&engine) {
        let Some(import) = HolderImport::parse(name) else {
            continue;
        };
        let mut instance = linker.instance(name)?;
        if import.denied {
            inert::add(&mut instance, &import)?;
            continue;
        }
        let holder = import.holder.clone();
        match import.interface.split('@').next().unwrap_or_default() {
            "wasi:cli/environment" => {
                let h = holder.clone();
                let label: Label = Arc::from([holder.clone()]);
                instance.func_wrap("get-environment", move |mut store, (): ()| {
                    let state = store.data_mut();
                    let (ctx, table) = state.holder(&h)?;
                    let environment = cli(ctx, table).get_environment()?;
                    state.environment_read(&environment, &label);
                    Ok((environment,))
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
                let label: Label = Arc::from([holder.clone()]);
                instance.func_wrap("get-directories", move |mut store, (): ()| {
                    let state = store.data_mut();
                    let (ctx, table) = state.holder(&holder)?;
                    let dirs: Vec<(Resource<Descriptor>, String)> = WasiFilesystemCtxView {
                        ctx: ctx.filesystem(),
                        table,
                    }
                    .get_directories()?;
                    state.preopened(&dirs, &label);
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
            "wasi:http/outgoing-handler" => http::add_holder(&mut instance, holder)?,
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

/// Replaces the functions of wasmtime-wasi's shared interfaces through
/// which refusals are seen or descriptors handed out with functions that
/// call wasmtime-wasi's own and then report or record; what the guest gets
/// is unchanged.
fn shadow(linker: &mut Linker<HostState>) -> Result<()> {
    let mut environment = linker.instance(&format!("wasi:cli/environment@{WASI_VERSION}"))?;
    environment.func_wrap("get-environment", |mut store, (): ()| {
        let state = store.data_mut();
        let environment = cli(&mut state.shared, &mut state.table).get_environment()?;
        let label = state.attribution.shared_env.clone();
        state.environment_read(&environment, &label);
        Ok((environment,))
    })?;
    let mut preopens = linker.instance(&format!("wasi:filesystem/preopens@{WASI_VERSION}"))?;
    preopens.func_wrap("get-directories", |mut store, (): ()| {
        let state = store.data_mut();
        let dirs: Vec<(Resource<Descriptor>, String)> = state.filesystem().get_directories()?;
        let label = state.attribution.shared_dirs.clone();
        state.preopened(&dirs, &label);
        Ok((dirs,))
    })?;

    type Fd = Resource<Descriptor>;
    let mut types = linker.instance(&format!("wasi:filesystem/types@{WASI_VERSION}"))?;
    path_method(
        &mut types,
        "open-at",
        |(fd, _, path, open, flags): &(Fd, PathFlags, String, OpenFlags, DescriptorFlags)| {
            let writing = flags
                .intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY)
                || open.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE);
            let mode = if writing { " for writing" } else { "" };
            (fd.rep(), format!("opening `{path}`{mode}"))
        },
        |view, (fd, path_flags, path, open, flags)| view.open_at(fd, path_flags, path, open, flags),
    )?;
    path_method(
        &mut types,
        "stat-at",
        |(fd, _, path): &(Fd, PathFlags, String)| {
            (fd.rep(), format!("reading the metadata of `{path}`"))
        },
        |view, (fd, path_flags, path)| view.stat_at(fd, path_flags, path),
    )?;
    path_method(
        &mut types,
        "metadata-hash-at",
        |(fd, _, path): &(Fd, PathFlags, String)| {
            (fd.rep(), format!("reading the metadata of `{path}`"))
        },
        |view, (fd, path_flags, path)| view.metadata_hash_at(fd, path_flags, path),
    )?;
    path_method(
        &mut types,
        "set-times-at",
        |(fd, _, path, _, _): &(Fd, PathFlags, String, fs::NewTimestamp, fs::NewTimestamp)| {
            (fd.rep(), format!("setting the times of `{path}`"))
        },
        |view, (fd, path_flags, path, atim, mtim)| {
            view.set_times_at(fd, path_flags, path, atim, mtim)
        },
    )?;
    path_method(
        &mut types,
        "readlink-at",
        |(fd, path): &(Fd, String)| (fd.rep(), format!("reading the symbolic link `{path}`")),
        |view, (fd, path)| view.readlink_at(fd, path),
    )?;
    path_method(
        &mut types,
        "create-directory-at",
        |(fd, path): &(Fd, String)| (fd.rep(), format!("creating the directory `{path}`")),
        |view, (fd, path)| view.create_directory_at(fd, path),
    )?;
    path_method(
        &mut types,
        "remove-directory-at",
        |(fd, path): &(Fd, String)| (fd.rep(), format!("removing the directory `{path}`")),
        |view, (fd, path)| view.remove_directory_at(fd, path),
    )?;
    path_method(
        &mut types,
        "unlink-file-at",
        |(fd, path): &(Fd, String)| (fd.rep(), format!("removing the file `{path}`")),
        |view, (fd, path)| view.unlink_file_at(fd, path),
    )?;
    path_method(
        &mut types,
        "symlink-at",
        |(fd, target, path): &(Fd, String, String)| {
            (
                fd.rep(),
                format!("making `{path}` a symbolic link to `{target}`"),
            )
        },
        |view, (fd, target, path)| view.symlink_at(fd, target, path),
    )?;
    path_method(
        &mut types,
        "link-at",
        |(fd, _, old, _, new): &(Fd, PathFlags, String, Fd, String)| {
            (fd.rep(), format!("linking `{new}` to `{old}`"))
        },
        |view, (fd, old_flags, old, new_fd, new)| view.link_at(fd, old_flags, old, new_fd, new),
    )?;
    path_method(
        &mut types,
        "rename-at",
        |(fd, old, _, new): &(Fd, String, Fd, String)| {
            (fd.rep(), format!("renaming `{old}` to `{new}`"))
        },
        |view, (fd, old, new_fd, new)| view.rename_at(fd, old, new_fd, new),
    )?;
    Ok(())
}

/// Replaces `[method]descriptor.NAME`, a method taking a path, with one
/// that calls wasmtime-wasi's `call` and reports the refusal of what
/// `attempt` describes (returning the descriptor's representation and a
/// phrase) when the guest gets `not-permitted`: the answer to any path out
/// of a granted directory and to any change in a read-only one. (`access`
/// and `read-only` are the host system's own answers, not the grant's.) A
/// descriptor it opens inherits whose grant its directory came from.
fn path_method<P, R>(
    types: &mut LinkerInstance<'_, HostState>,
    name: &str,
    attempt: fn(&P) -> (u32, String),
    call: fn(&mut WasiFilesystemCtxView<'_>, P) -> FsResult<R>,
) -> Result<()>
where
    P: ComponentNamedList + Lift + Send + Sync + 'static,
    R: ComponentType + Lower + Opened + Send + Sync + 'static,
{
    types.func_wrap(
        &format!("[method]descriptor.{name}"),
        move |mut store, params: P| -> wasmtime::Result<(Result<R, fs::ErrorCode>,)> {
            let (dir, what) = attempt(&params);
            let state = store.data_mut();
            let mut filesystem = state.filesystem();
            let result = match call(&mut filesystem, params) {
                Ok(value) => Ok(value),
                Err(error) => Err(fs::Host::convert_error_code(&mut filesystem, error)?),
            };
            match &result {
                Ok(value) => {
                    if let Some(opened) = value.opened() {
                        let owner = state.owner(dir);
                        state.descriptors.insert(opened, owner);
                    }
                }
                Err(code @ fs::ErrorCode::NotPermitted) => {
                    let code = code.name();
                    state.attribution.reporter.report(|| {
                        Some(Refusal {
                            components: state.owner(dir).to_vec(),
                            capability: Capability::Dirs,
                            attempt: format!("{what} in a granted directory"),
                            answer: Answer::Error(code),
                        })
                    });
                }
                Err(_) => {}
            }
            Ok((result,))
        },
    )?;
    Ok(())
}

/// What a filesystem method returns: a new descriptor, or something else.
trait Opened {
    /// The representation of the descriptor it opened, if it did.
    fn opened(&self) -> Option<u32> {
        None
    }
}

impl Opened for Resource<Descriptor> {
    fn opened(&self) -> Option<u32> {
        Some(self.rep())
    }
}

impl Opened for () {}
impl Opened for String {}
impl Opened for fs::DescriptorStat {}
impl Opened for fs::MetadataHashValue {}

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
