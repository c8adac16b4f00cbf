//! The WASI context of one set of grants: streams, environment,
//! directories, and the network address check that reports refusals.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Result, bail};
use nanoproc_linker::{Capability, DirMode, Grants};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::refusal::{Answer, Refusal, Reporter};

use super::{Endpoints, Label, Options, Stdin, Stdio, inert};

/// The WASI context of one set of grants, held by the components `label`,
/// its network endpoints looked up in `endpoints`, reporting refused
/// addresses to `reporter`. The granted directories are opened here, for
/// each instance: wasmtime-wasi takes a preopen by its path.
pub(super) fn build(
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
        match &options.stdin {
            Stdin::Inherit => builder.inherit_stdin(),
            Stdin::Bytes(bytes) => {
                builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(bytes.clone()))
            }
        };
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
