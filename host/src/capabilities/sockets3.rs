//! WASI 0.3's `wasi:sockets/types` for one component alone: the app's
//! `nanoproc-grant:COMPONENT/types@0.3.0` import, bound here.
//!
//! WASI 0.3 makes sockets in `wasi:sockets/types` itself
//! (`[static]tcp-socket.create`, `[static]udp-socket.create`), beside every
//! socket's methods, so a component holding a `network` grant of its own
//! imports the whole interface under its own name. Its two `create`s make
//! sockets under its own grant; a socket keeps the grant it was made under
//! (wasmtime-wasi checks each address against the context it was made in),
//! so every other function is wasmtime-wasi's own on the shared table.

use anyhow::Result;
use wasmtime::StoreContextMut;
use wasmtime::component::{Access, Accessor, LinkerInstance, Resource, ResourceType};
use wasmtime_wasi::p3::bindings::sockets::types::{
    Duration, ErrorCode, HostTcpSocket, HostTcpSocketWithStore, HostUdpSocket,
    HostUdpSocketWithStore, IpAddressFamily, IpSocketAddress,
};
use wasmtime_wasi::p3::sockets::SocketResult;
use wasmtime_wasi::sockets::{TcpSocket, UdpSocket, WasiSockets, WasiSocketsCtxView};

use super::HostState;
use super::linking::sockets;

/// A function's outcome as the guest gets it: a socket error is its
/// `error-code`, anything else a trap.
fn answer<T>(result: SocketResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(error) => Ok(Err(error.downcast()?)),
    }
}

/// The sockets of the shared context: what every socket's methods use.
fn shared(state: &mut HostState) -> WasiSocketsCtxView<'_> {
    sockets(&mut state.shared, &mut state.table)
}

/// Defines a method `$name` of the socket resource `$socket` that calls
/// `$method` of `$trait` on the shared sockets' view and answers what it
/// returns: an `error-code` result (`answer`) or a value (`value`).
macro_rules! methods {
    ($instance:expr, $trait:ident, $socket:ty,
     $( $kind:ident $name:literal => $method:ident ( $( $arg:ident : $ty:ty ),* ) ),* $(,)?) => {
        $(
            $instance.func_wrap(
                $name,
                |mut store: StoreContextMut<'_, HostState>,
                 (socket, $( $arg, )*): (Resource<$socket>, $( $ty, )*)| {
                    let mut view = shared(store.data_mut());
                    let result = <WasiSocketsCtxView<'_> as $trait>::$method(
                        &mut view, socket $(, $arg )*
                    );
                    methods!(@ $kind result)
                },
            )?;
        )*
    };
    (@ answer $result:ident) => { Ok((answer($result)?,)) };
    (@ value $result:ident) => { Ok(($result?,)) };
}

/// Binds `instance`, `holder`'s own copy of `wasi:sockets/types@0.3.0`.
pub(super) fn add_holder(
    instance: &mut LinkerInstance<'_, HostState>,
    holder: String,
) -> Result<()> {
    instance.resource(
        "tcp-socket",
        ResourceType::host::<TcpSocket>(),
        |mut store, rep| HostTcpSocket::drop(&mut shared(store.data_mut()), Resource::new_own(rep)),
    )?;
    instance.resource(
        "udp-socket",
        ResourceType::host::<UdpSocket>(),
        |mut store, rep| HostUdpSocket::drop(&mut shared(store.data_mut()), Resource::new_own(rep)),
    )?;

    // Sockets made under the holder's own grant.
    let h = holder.clone();
    instance.func_wrap(
        "[static]tcp-socket.create",
        move |mut store: StoreContextMut<'_, HostState>, (family,): (IpAddressFamily,)| {
            let (ctx, table) = store.data_mut().holder(&h)?;
            let mut view = sockets(ctx, table);
            Ok((answer(HostTcpSocket::create(&mut view, family))?,))
        },
    )?;
    instance.func_wrap_async(
        "[static]udp-socket.create",
        move |mut store: StoreContextMut<'_, HostState>, (family,): (IpAddressFamily,)| {
            let holder = holder.clone();
            Box::new(async move {
                let (ctx, table) = store.data_mut().holder(&holder)?;
                let mut view = sockets(ctx, table);
                Ok((answer(HostUdpSocket::create(&mut view, family).await)?,))
            })
        },
    )?;

    // TCP, whose sockets keep the grant they were made under.
    instance.func_wrap_async(
        "[method]tcp-socket.bind",
        |mut store: StoreContextMut<'_, HostState>,
         (socket, address): (Resource<TcpSocket>, IpSocketAddress)| {
            Box::new(async move {
                let mut view = shared(store.data_mut());
                Ok((answer(
                    HostTcpSocket::bind(&mut view, socket, address).await,
                )?,))
            })
        },
    )?;
    instance.func_wrap_concurrent(
        "[method]tcp-socket.connect",
        |accessor: &Accessor<HostState>,
         (socket, address): (Resource<TcpSocket>, IpSocketAddress)| {
            Box::pin(async move {
                let sockets = accessor.with_getter::<WasiSockets>(shared);
                let result =
                    <WasiSockets as HostTcpSocketWithStore<_>>::connect(&sockets, socket, address)
                        .await;
                Ok((answer(result)?,))
            })
        },
    )?;
    instance.func_wrap_async(
        "[method]tcp-socket.listen",
        |store: StoreContextMut<'_, HostState>, (socket,): (Resource<TcpSocket>,)| {
            Box::new(async move {
                let access = Access::<HostState, WasiSockets>::new(store, shared);
                let result =
                    <WasiSockets as HostTcpSocketWithStore<_>>::listen(access, socket).await;
                Ok((answer(result)?,))
            })
        },
    )?;
    instance.func_wrap(
        "[method]tcp-socket.send",
        |store: StoreContextMut<'_, HostState>,
         (socket, data): (Resource<TcpSocket>, wasmtime::component::StreamReader<u8>)| {
            let access = Access::<HostState, WasiSockets>::new(store, shared);
            Ok((<WasiSockets as HostTcpSocketWithStore<_>>::send(
                access, socket, data,
            )?,))
        },
    )?;
    instance.func_wrap(
        "[method]tcp-socket.receive",
        |store: StoreContextMut<'_, HostState>, (socket,): (Resource<TcpSocket>,)| {
            let access = Access::<HostState, WasiSockets>::new(store, shared);
            Ok((<WasiSockets as HostTcpSocketWithStore<_>>::receive(
                access, socket,
            )?,))
        },
    )?;
    methods!(instance, HostTcpSocket, TcpSocket,
        answer "[method]tcp-socket.get-local-address" => get_local_address(),
        answer "[method]tcp-socket.get-remote-address" => get_remote_address(),
        value "[method]tcp-socket.get-is-listening" => get_is_listening(),
        value "[method]tcp-socket.get-address-family" => get_address_family(),
        answer "[method]tcp-socket.set-listen-backlog-size" => set_listen_backlog_size(value: u64),
        answer "[method]tcp-socket.get-keep-alive-enabled" => get_keep_alive_enabled(),
        answer "[method]tcp-socket.set-keep-alive-enabled" => set_keep_alive_enabled(value: bool),
        answer "[method]tcp-socket.get-keep-alive-idle-time" => get_keep_alive_idle_time(),
        answer "[method]tcp-socket.set-keep-alive-idle-time" => set_keep_alive_idle_time(value: Duration),
        answer "[method]tcp-socket.get-keep-alive-interval" => get_keep_alive_interval(),
        answer "[method]tcp-socket.set-keep-alive-interval" => set_keep_alive_interval(value: Duration),
        answer "[method]tcp-socket.get-keep-alive-count" => get_keep_alive_count(),
        answer "[method]tcp-socket.set-keep-alive-count" => set_keep_alive_count(value: u32),
        answer "[method]tcp-socket.get-hop-limit" => get_hop_limit(),
        answer "[method]tcp-socket.set-hop-limit" => set_hop_limit(value: u8),
        answer "[method]tcp-socket.get-receive-buffer-size" => get_receive_buffer_size(),
        answer "[method]tcp-socket.set-receive-buffer-size" => set_receive_buffer_size(value: u64),
        answer "[method]tcp-socket.get-send-buffer-size" => get_send_buffer_size(),
        answer "[method]tcp-socket.set-send-buffer-size" => set_send_buffer_size(value: u64),
    );

    // UDP, likewise.
    instance.func_wrap_async(
        "[method]udp-socket.bind",
        |mut store: StoreContextMut<'_, HostState>,
         (socket, address): (Resource<UdpSocket>, IpSocketAddress)| {
            Box::new(async move {
                let mut view = shared(store.data_mut());
                Ok((answer(
                    HostUdpSocket::bind(&mut view, socket, address).await,
                )?,))
            })
        },
    )?;
    instance.func_wrap_async(
        "[method]udp-socket.connect",
        |mut store: StoreContextMut<'_, HostState>,
         (socket, address): (Resource<UdpSocket>, IpSocketAddress)| {
            Box::new(async move {
                let mut view = shared(store.data_mut());
                Ok((answer(
                    HostUdpSocket::connect(&mut view, socket, address).await,
                )?,))
            })
        },
    )?;
    instance.func_wrap_concurrent(
        "[method]udp-socket.send",
        |accessor: &Accessor<HostState>,
         (socket, data, address): (Resource<UdpSocket>, Vec<u8>, Option<IpSocketAddress>)| {
            Box::pin(async move {
                let sockets = accessor.with_getter::<WasiSockets>(shared);
                let result = <WasiSockets as HostUdpSocketWithStore<_>>::send(
                    &sockets, socket, data, address,
                )
                .await;
                Ok((answer(result)?,))
            })
        },
    )?;
    instance.func_wrap_concurrent(
        "[method]udp-socket.receive",
        |accessor: &Accessor<HostState>, (socket,): (Resource<UdpSocket>,)| {
            Box::pin(async move {
                let sockets = accessor.with_getter::<WasiSockets>(shared);
                let result =
                    <WasiSockets as HostUdpSocketWithStore<_>>::receive(&sockets, socket).await;
                Ok((answer(result)?,))
            })
        },
    )?;
    methods!(instance, HostUdpSocket, UdpSocket,
        answer "[method]udp-socket.disconnect" => disconnect(),
        answer "[method]udp-socket.get-local-address" => get_local_address(),
        answer "[method]udp-socket.get-remote-address" => get_remote_address(),
        value "[method]udp-socket.get-address-family" => get_address_family(),
        answer "[method]udp-socket.get-unicast-hop-limit" => get_unicast_hop_limit(),
        answer "[method]udp-socket.set-unicast-hop-limit" => set_unicast_hop_limit(value: u8),
        answer "[method]udp-socket.get-receive-buffer-size" => get_receive_buffer_size(),
        answer "[method]udp-socket.set-receive-buffer-size" => set_receive_buffer_size(value: u64),
        answer "[method]udp-socket.get-send-buffer-size" => get_send_buffer_size(),
        answer "[method]udp-socket.set-send-buffer-size" => set_send_buffer_size(value: u64),
    );
    Ok(())
}
