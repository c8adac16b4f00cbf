//! Binding the host's capabilities in a linker: wasmtime-wasi's WASI 0.2,
//! each per-component import bound to its component's own context, and the
//! shared functions shadowed to report refusals and remember whose grant
//! each descriptor came from.

use std::fmt;
use std::sync::Arc;

use anyhow::{Result, bail};
use nanoproc_linker::{Capability, HolderImport, HolderInterface};
use wasmtime::component::{
    Accessor, Component, ComponentNamedList, ComponentType, Lift, Linker, LinkerInstance, Lower,
    Resource, ResourceTable,
};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi::cli::WasiCliCtxView;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystem, WasiFilesystemCtxView};
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

use super::{HostState, Label, WASI_VERSION, http, inert, sockets3};

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
            HolderInterface::HttpClient | HolderInterface::SocketsTypes => bail!(
                "the app imports `{name}`, a per-component grant of `{}` at a version \
                 this host does not provide",
                import.interface
            ),
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
/// remembered as the shared grant's), and its filesystem functions taking
/// a path, whose refusals are reported as [`path_method`]'s are.
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

    use wasmtime_wasi::p3::bindings::filesystem::types::{
        DescriptorFlags, HostDescriptorWithStore, NewTimestamp, OpenFlags, PathFlags,
    };
    type Fd = Resource<Descriptor>;
    type Fs = WasiFilesystem;
    let mut types = linker.instance(&format!("wasi:filesystem/types@{version}"))?;
    path_method_p3(
        &mut types,
        "open-at",
        |(fd, _, path, open, flags): &(Fd, PathFlags, String, OpenFlags, DescriptorFlags)| {
            let writing = flags
                .intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY)
                || open.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE);
            (fd.rep(), Attempt::Open { path, writing }.to_string())
        },
        |fs, (fd, path_flags, path, open, flags)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::open_at(
                fs, fd, path_flags, path, open, flags,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "stat-at",
        |(fd, _, path): &(Fd, PathFlags, String)| (fd.rep(), Attempt::Metadata(path).to_string()),
        |fs, (fd, path_flags, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::stat_at(
                fs, fd, path_flags, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "metadata-hash-at",
        |(fd, _, path): &(Fd, PathFlags, String)| (fd.rep(), Attempt::Metadata(path).to_string()),
        |fs, (fd, path_flags, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::metadata_hash_at(
                fs, fd, path_flags, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "set-times-at",
        |(fd, _, path, _, _): &(Fd, PathFlags, String, NewTimestamp, NewTimestamp)| {
            (fd.rep(), Attempt::SetTimes(path).to_string())
        },
        |fs, (fd, path_flags, path, atim, mtim)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::set_times_at(
                fs, fd, path_flags, path, atim, mtim,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "readlink-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::Readlink(path).to_string()),
        |fs, (fd, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::readlink_at(
                fs, fd, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "create-directory-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::CreateDirectory(path).to_string()),
        |fs, (fd, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::create_directory_at(
                fs, fd, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "remove-directory-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::RemoveDirectory(path).to_string()),
        |fs, (fd, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::remove_directory_at(
                fs, fd, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "unlink-file-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::Unlink(path).to_string()),
        |fs, (fd, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::unlink_file_at(
                fs, fd, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "symlink-at",
        |(fd, target, path): &(Fd, String, String)| {
            (fd.rep(), Attempt::Symlink { path, target }.to_string())
        },
        |fs, (fd, target, path)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::symlink_at(
                fs, fd, target, path,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "link-at",
        |(fd, _, old, _, new): &(Fd, PathFlags, String, Fd, String)| {
            (fd.rep(), Attempt::Link { new, old }.to_string())
        },
        |fs, (fd, old_flags, old, new_fd, new)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::link_at(
                fs, fd, old_flags, old, new_fd, new,
            ))
        },
    )?;
    path_method_p3(
        &mut types,
        "rename-at",
        |(fd, old, _, new): &(Fd, String, Fd, String)| {
            (fd.rep(), Attempt::Rename { old, new }.to_string())
        },
        |fs, (fd, old, new_fd, new)| {
            Box::pin(<Fs as HostDescriptorWithStore<_>>::rename_at(
                fs, fd, old, new_fd, new,
            ))
        },
    )?;
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
        HolderInterface::HttpClient => http::add_p3_holder(instance, holder)?,
        HolderInterface::SocketsTypes => sockets3::add_holder(instance, holder)?,
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
            (fd.rep(), Attempt::Open { path, writing }.to_string())
        },
        |view, (fd, path_flags, path, open, flags)| view.open_at(fd, path_flags, path, open, flags),
    )?;
    path_method(
        &mut types,
        "stat-at",
        |(fd, _, path): &(Fd, PathFlags, String)| (fd.rep(), Attempt::Metadata(path).to_string()),
        |view, (fd, path_flags, path)| view.stat_at(fd, path_flags, path),
    )?;
    path_method(
        &mut types,
        "metadata-hash-at",
        |(fd, _, path): &(Fd, PathFlags, String)| (fd.rep(), Attempt::Metadata(path).to_string()),
        |view, (fd, path_flags, path)| view.metadata_hash_at(fd, path_flags, path),
    )?;
    path_method(
        &mut types,
        "set-times-at",
        |(fd, _, path, _, _): &(Fd, PathFlags, String, fs::NewTimestamp, fs::NewTimestamp)| {
            (fd.rep(), Attempt::SetTimes(path).to_string())
        },
        |view, (fd, path_flags, path, atim, mtim)| {
            view.set_times_at(fd, path_flags, path, atim, mtim)
        },
    )?;
    path_method(
        &mut types,
        "readlink-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::Readlink(path).to_string()),
        |view, (fd, path)| view.readlink_at(fd, path),
    )?;
    path_method(
        &mut types,
        "create-directory-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::CreateDirectory(path).to_string()),
        |view, (fd, path)| view.create_directory_at(fd, path),
    )?;
    path_method(
        &mut types,
        "remove-directory-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::RemoveDirectory(path).to_string()),
        |view, (fd, path)| view.remove_directory_at(fd, path),
    )?;
    path_method(
        &mut types,
        "unlink-file-at",
        |(fd, path): &(Fd, String)| (fd.rep(), Attempt::Unlink(path).to_string()),
        |view, (fd, path)| view.unlink_file_at(fd, path),
    )?;
    path_method(
        &mut types,
        "symlink-at",
        |(fd, target, path): &(Fd, String, String)| {
            (fd.rep(), Attempt::Symlink { path, target }.to_string())
        },
        |view, (fd, target, path)| view.symlink_at(fd, target, path),
    )?;
    path_method(
        &mut types,
        "link-at",
        |(fd, _, old, _, new): &(Fd, PathFlags, String, Fd, String)| {
            (fd.rep(), Attempt::Link { new, old }.to_string())
        },
        |view, (fd, old_flags, old, new_fd, new)| view.link_at(fd, old_flags, old, new_fd, new),
    )?;
    path_method(
        &mut types,
        "rename-at",
        |(fd, old, _, new): &(Fd, String, Fd, String)| {
            (fd.rep(), Attempt::Rename { old, new }.to_string())
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
            state.path_answered(
                dir,
                what,
                result.as_ref().ok().and_then(Opened::opened),
                matches!(result, Err(fs::ErrorCode::NotPermitted)),
            );
            Ok((result,))
        },
    )?;
    Ok(())
}

/// As [`path_method`], for WASI 0.3's `[method]descriptor.NAME`, whose
/// host function is async.
fn path_method_p3<P, R>(
    types: &mut LinkerInstance<'_, HostState>,
    name: &str,
    attempt: fn(&P) -> (u32, String),
    call: for<'a> fn(&'a Accessor<HostState, WasiFilesystem>, P) -> P3Call<'a, R>,
) -> Result<()>
where
    P: ComponentNamedList + Lift + Send + 'static,
    R: ComponentType + Lower + Opened + Send + 'static,
{
    use wasmtime_wasi::p3::bindings::filesystem::types::ErrorCode;
    types.func_wrap_concurrent(
        &format!("[method]descriptor.{name}"),
        move |accessor: &Accessor<HostState>, params: P| {
            Box::pin(async move {
                let (dir, what) = attempt(&params);
                let filesystem = accessor.with_getter::<WasiFilesystem>(HostState::filesystem);
                let result = match call(&filesystem, params).await {
                    Ok(value) => Ok(value),
                    Err(error) => Err(error.downcast()?),
                };
                accessor.with(|mut access| {
                    access.get().path_answered(
                        dir,
                        what,
                        result.as_ref().ok().and_then(Opened::opened),
                        matches!(result, Err(ErrorCode::NotPermitted)),
                    );
                });
                Ok((result,))
            })
        },
    )?;
    Ok(())
}

/// The future of a WASI 0.3 filesystem call wasmtime-wasi answers.
type P3Call<'a, R> = std::pin::Pin<
    Box<dyn Future<Output = wasmtime_wasi::p3::filesystem::FilesystemResult<R>> + Send + 'a>,
>;

impl HostState {
    /// Records what a filesystem method taking a path did with the
    /// descriptor `dir`: the descriptor it `opened` inherits whose grant
    /// `dir` came from, and its `not-permitted` (the answer to any path out
    /// of a granted directory and to any change in a read-only one) is
    /// reported as the refusal of `what`. (`access` and `read-only` are the
    /// host system's own answers, not the grant's.)
    fn path_answered(&mut self, dir: u32, what: String, opened: Option<u32>, refused: bool) {
        if let Some(opened) = opened {
            let owner = self.owner(dir);
            self.descriptors.insert(opened, owner);
        }
        if refused {
            self.attribution.reporter.report(|| {
                Some(Refusal {
                    components: self.owner(dir).to_vec(),
                    capability: Capability::Dirs,
                    attempt: format!("{what} in a granted directory"),
                    answer: Answer::Error("not-permitted"),
                })
            });
        }
    }
}

/// What a filesystem method taking a path attempts, as its refusal says it.
enum Attempt<'a> {
    Open { path: &'a str, writing: bool },
    Metadata(&'a str),
    SetTimes(&'a str),
    Readlink(&'a str),
    CreateDirectory(&'a str),
    RemoveDirectory(&'a str),
    Unlink(&'a str),
    Symlink { path: &'a str, target: &'a str },
    Link { new: &'a str, old: &'a str },
    Rename { old: &'a str, new: &'a str },
}

impl fmt::Display for Attempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { path, writing } => {
                let mode = if *writing { " for writing" } else { "" };
                write!(f, "opening `{path}`{mode}")
            }
            Self::Metadata(path) => write!(f, "reading the metadata of `{path}`"),
            Self::SetTimes(path) => write!(f, "setting the times of `{path}`"),
            Self::Readlink(path) => write!(f, "reading the symbolic link `{path}`"),
            Self::CreateDirectory(path) => write!(f, "creating the directory `{path}`"),
            Self::RemoveDirectory(path) => write!(f, "removing the directory `{path}`"),
            Self::Unlink(path) => write!(f, "removing the file `{path}`"),
            Self::Symlink { path, target } => {
                write!(f, "making `{path}` a symbolic link to `{target}`")
            }
            Self::Link { new, old } => write!(f, "linking `{new}` to `{old}`"),
            Self::Rename { old, new } => write!(f, "renaming `{old}` to `{new}`"),
        }
    }
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
impl Opened for wasmtime_wasi::p3::bindings::filesystem::types::DescriptorStat {}
impl Opened for wasmtime_wasi::p3::bindings::filesystem::types::MetadataHashValue {}

fn cli<'a>(ctx: &'a mut WasiCtx, table: &'a mut ResourceTable) -> WasiCliCtxView<'a> {
    WasiCliCtxView {
        ctx: ctx.cli(),
        table,
    }
}

/// The sockets of the context `ctx`, on `table`.
pub(super) fn sockets<'a>(
    ctx: &'a mut WasiCtx,
    table: &'a mut ResourceTable,
) -> WasiSocketsCtxView<'a> {
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
