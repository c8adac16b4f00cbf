//! Binding the host's capabilities in a linker: wasmtime-wasi's WASI 0.2,
//! each per-component import bound to its component's own context, and the
//! shared functions shadowed to report refusals and remember whose grant
//! each descriptor came from.

use std::sync::Arc;

use anyhow::{Result, bail};
use nanoproc_linker::{Capability, HolderImport, HolderInterface};
use wasmtime::component::{
    Component, ComponentNamedList, ComponentType, Lift, Linker, LinkerInstance, Lower, Resource,
    ResourceTable,
};
use wasmtime_wasi::WasiCtx;
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
use wasmtime_wasi::sockets::WasiSocketsCtxView;

use crate::refusal::{Answer, Refusal};

use super::{HostState, Label, WASI_VERSION, http, inert};

/// Adds WASI 0.2 to `linker`, and binds each per-component import of
/// `component` (a composed app) to its component's own context.
///
/// # Errors
///
/// When the app imports a per-component interface this host does not know.
pub fn add_to_linker(linker: &mut Linker<HostState>, component: &Component) -> Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    let engine = component.engine().clone();
    // WASI 0.3's host functions are async: only an engine with concurrency
    // support takes them, and only an app importing WASI 0.3 is given one.
    let uses_p3 = component
        .component_type()
        .imports(&engine)
        .any(|(name, _)| is_p3(name));
    if uses_p3 {
        wasmtime_wasi::p3::add_to_linker(linker)?;
    }
    // WASI 0.3's `wasi:http`: its types (a handler's request and response)
    // and its client, whose requests go only to granted origins.
    let uses_p3_http = component
        .component_type()
        .imports(&engine)
        .any(|(name, _)| name.starts_with("wasi:http/") && is_p3(name));
    if uses_p3_http {
        use wasmtime_wasi_http::WasiHttp;
        use wasmtime_wasi_http::p3::bindings::http::{client, types};
        types::add_to_linker::<_, WasiHttp>(linker, http::p3_view)?;
        client::add_to_linker::<_, WasiHttp>(linker, http::p3_view)?;
    }
    let uses_http = component
        .component_type()
        .imports(&engine)
        .any(|(name, _)| name.starts_with("wasi:http/") && !is_p3(name));
    if uses_http {
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)?;
    }
    linker.allow_shadowing(true);
    shadow(linker)?;
    if uses_http {
        http::shadow(linker)?;
    }
    if uses_p3 {
        shadow_p3(linker)?;
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
        if is_p3(&import.interface) {
            add_p3_holder(&mut instance, &import)?;
            continue;
        }
        match import.kind {
            HolderInterface::Environment => {
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
            HolderInterface::Preopens => {
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
            HolderInterface::TcpCreateSocket => {
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
            HolderInterface::OutgoingHandler => http::add_holder(&mut instance, holder)?,
            HolderInterface::UdpCreateSocket => {
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
            // Only denials are imported per holder for these.
            HolderInterface::Stdin
            | HolderInterface::Stdout
            | HolderInterface::Stderr
            | HolderInterface::MonotonicClock => bail!(
                "the app imports `{name}`, a per-component grant of `{}`, which is only ever denied",
                import.interface
            ),
        }
    }
    Ok(())
}

/// As [`shadow`], for WASI 0.3's environment (whose reads report the
/// variables left out) and preopened directories (whose descriptors are
/// remembered as the shared grant's). Its filesystem functions taking a
/// path are wasmtime-wasi's own: a refused path gets its error code, but is
/// not reported.
fn shadow_p3(linker: &mut Linker<HostState>) -> Result<()> {
    use wasmtime_wasi::p3::bindings::cli::environment::Host as Environment;
    use wasmtime_wasi::p3::bindings::filesystem::preopens::Host as Preopens;
    let version = nanoproc_linker::WASI_P3_VERSION;
    let mut environment = linker.instance(&format!("wasi:cli/environment@{version}"))?;
    environment.func_wrap("get-environment", |mut store, (): ()| {
        let state = store.data_mut();
        let environment =
            Environment::get_environment(&mut cli(&mut state.shared, &mut state.table))?;
        let label = state.attribution.shared_env.clone();
        state.environment_read(&environment, &label);
        Ok((environment,))
    })?;
    let mut preopens = linker.instance(&format!("wasi:filesystem/preopens@{version}"))?;
    preopens.func_wrap("get-directories", |mut store, (): ()| {
        let state = store.data_mut();
        let dirs: Vec<(Resource<Descriptor>, String)> =
            Preopens::get_directories(&mut state.filesystem())?;
        let label = state.attribution.shared_dirs.clone();
        state.preopened(&dirs, &label);
        Ok((dirs,))
    })?;
    Ok(())
}

/// Whether the import `name` is of WASI 0.3 (a `wasi:` interface, or a
/// per-component copy of one, at a 0.3 version).
fn is_p3(name: &str) -> bool {
    name.split_once('@')
        .is_some_and(|(_, version)| version.starts_with("0.3."))
}

/// Binds the per-component import `import` of a WASI 0.3 interface to its
/// holder's own context.
fn add_p3_holder(
    instance: &mut LinkerInstance<'_, HostState>,
    import: &HolderImport,
) -> Result<()> {
    use wasmtime_wasi::p3::bindings::cli::environment::Host as Environment;
    use wasmtime_wasi::p3::bindings::filesystem::preopens::Host as Preopens;
    let holder = import.holder.clone();
    match import.kind {
        HolderInterface::Environment => {
            let h = holder.clone();
            let label: Label = Arc::from([holder.clone()]);
            instance.func_wrap("get-environment", move |mut store, (): ()| {
                let state = store.data_mut();
                let (ctx, table) = state.holder(&h)?;
                let environment = Environment::get_environment(&mut cli(ctx, table))?;
                state.environment_read(&environment, &label);
                Ok((environment,))
            })?;
            let h = holder.clone();
            instance.func_wrap("get-arguments", move |mut store, (): ()| {
                let (ctx, table) = store.data_mut().holder(&h)?;
                Ok((Environment::get_arguments(&mut cli(ctx, table))?,))
            })?;
            instance.func_wrap("get-initial-cwd", move |mut store, (): ()| {
                let (ctx, table) = store.data_mut().holder(&holder)?;
                Ok((Environment::get_initial_cwd(&mut cli(ctx, table))?,))
            })?;
        }
        HolderInterface::Preopens => {
            let label: Label = Arc::from([holder.clone()]);
            instance.func_wrap("get-directories", move |mut store, (): ()| {
                let state = store.data_mut();
                let (ctx, table) = state.holder(&holder)?;
                let dirs: Vec<(Resource<Descriptor>, String)> =
                    Preopens::get_directories(&mut WasiFilesystemCtxView {
                        ctx: ctx.filesystem(),
                        table,
                    })?;
                state.preopened(&dirs, &label);
                Ok((dirs,))
            })?;
        }
        _ => bail!(
            "the app imports `{}` for `{}` alone, which this host does not bind for WASI 0.3",
            import.interface,
            import.holder
        ),
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
