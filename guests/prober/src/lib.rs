//! The prober component: reaches for files, environment variables and
//! network hosts through exactly the WASI its world imports, and reports
//! what it got. The tests grant it some and check that it gets no more.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::net::SocketAddr;

use bindings::exports::nanoproc::prober::probe::Guest;
use bindings::wasi::cli::environment::get_environment;
use bindings::wasi::filesystem::preopens::get_directories;
use bindings::wasi::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use bindings::wasi::sockets::instance_network::instance_network;
use bindings::wasi::sockets::network::{
    IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};
use bindings::wasi::sockets::tcp::ErrorCode;
use bindings::wasi::sockets::tcp_create_socket::create_tcp_socket;

struct Prober;

impl Guest for Prober {
    fn directories() -> Vec<String> {
        get_directories()
            .into_iter()
            .map(|(_, path)| path)
            .collect()
    }

    fn read(dir: String, path: String) -> Result<String, String> {
        let file = open(&dir)?
            .open_at(
                PathFlags::SYMLINK_FOLLOW,
                &path,
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .map_err(|e| e.name().to_string())?;
        let mut contents = Vec::new();
        loop {
            let (chunk, end) = file
                .read(65536, contents.len() as u64)
                .map_err(|e| e.name().to_string())?;
            contents.extend_from_slice(&chunk);
            if end || chunk.is_empty() {
                break;
            }
        }
        String::from_utf8(contents).map_err(|e| e.to_string())
    }

    fn write(dir: String, path: String, contents: String) -> Result<(), String> {
        let file = open(&dir)?
            .open_at(
                PathFlags::SYMLINK_FOLLOW,
                &path,
                OpenFlags::CREATE | OpenFlags::TRUNCATE,
                DescriptorFlags::WRITE,
            )
            .map_err(|e| e.name().to_string())?;
        file.write(contents.as_bytes(), 0)
            .map(|_| ())
            .map_err(|e| e.name().to_string())
    }

    fn env(name: String) -> Option<String> {
        get_environment()
            .into_iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    fn connect(address: String) -> Result<(), String> {
        let address: SocketAddr = address.parse().map_err(|e| format!("{e}"))?;
        let (family, remote) = match address {
            SocketAddr::V4(v4) => {
                let [a, b, c, d] = v4.ip().octets();
                (
                    IpAddressFamily::Ipv4,
                    IpSocketAddress::Ipv4(Ipv4SocketAddress {
                        port: v4.port(),
                        address: (a, b, c, d),
                    }),
                )
            }
            SocketAddr::V6(v6) => {
                let [a, b, c, d, e, f, g, h] = v6.ip().segments();
                (
                    IpAddressFamily::Ipv6,
                    IpSocketAddress::Ipv6(Ipv6SocketAddress {
                        port: v6.port(),
                        address: (a, b, c, d, e, f, g, h),
                        flow_info: 0,
                        scope_id: 0,
                    }),
                )
            }
        };
        let socket = create_tcp_socket(family).map_err(|e| e.name().to_string())?;
        socket
            .start_connect(&instance_network(), remote)
            .map_err(|e| e.name().to_string())?;
        loop {
            match socket.finish_connect() {
                Ok(_streams) => return Ok(()),
                Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
                Err(e) => return Err(e.name().to_string()),
            }
        }
    }
}

/// The directory given under the guest path `dir`.
fn open(dir: &str) -> Result<Descriptor, String> {
    get_directories()
        .into_iter()
        .find(|(_, path)| path == dir)
        .map(|(descriptor, _)| descriptor)
        .ok_or_else(|| format!("no directory `{dir}` was given"))
}

bindings::export!(Prober with_types_in bindings);
