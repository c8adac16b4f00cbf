//! The connect3 component: opens a TCP connection or sends a UDP datagram
//! through WASI 0.3's `wasi:sockets/types`, whose `create`s hand out
//! sockets under the component's `network` grant; where it may connect is that grant's list
//! of endpoints, and nowhere else.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::connect3::probe::Guest;
use bindings::wasi::sockets::types::{
    ErrorCode, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, TcpSocket, UdpSocket,
};

struct Connect3;

impl Guest for Connect3 {
    async fn connect(address: String) -> Result<(), String> {
        let remote = ipv4(&address)?;
        let socket = TcpSocket::create(IpAddressFamily::Ipv4).map_err(|e| code(&e))?;
        socket.connect(remote).await.map_err(|e| code(&e))
    }

    async fn send_datagram(address: String, data: Vec<u8>) -> Result<(), String> {
        let remote = ipv4(&address)?;
        let socket = UdpSocket::create(IpAddressFamily::Ipv4).map_err(|e| code(&e))?;
        let any = IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port: 0,
            address: (0, 0, 0, 0),
        });
        socket.bind(any).map_err(|e| code(&e))?;
        socket.send(data, Some(remote)).await.map_err(|e| code(&e))
    }
}

/// The socket address `address` (an IPv4 `ip:port`) names.
fn ipv4(address: &str) -> Result<IpSocketAddress, String> {
    let parsed: std::net::SocketAddrV4 = address
        .parse()
        .map_err(|_| format!("`{address}` is not an IPv4 `ip:port`"))?;
    let [a, b, c, d] = parsed.ip().octets();
    Ok(IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port: parsed.port(),
        address: (a, b, c, d),
    }))
}

/// An error code as WASI's WIT spells it (`access-denied`, ...).
fn code(error: &ErrorCode) -> String {
    let debug = format!("{error:?}");
    let case = debug.strip_prefix("ErrorCode::").unwrap_or(&debug);
    let mut name = String::new();
    for (i, c) in case.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                name.push('-');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

bindings::export!(Connect3 with_types_in bindings);
