//! Outgoing HTTP as a capability: the fetcher (a Rust `wasm32-wasip1`
//! guest importing `wasi:http/outgoing-handler`) against real HTTP servers
//! on loopback, granted one origin, none, or beside a neighbour granted
//! another.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use nanoproc_host::{App, Options};
use nanoproc_linker::{Manifest, compose};
use nanoproc_tests::{component_bytes, runtime};

use crate::host::Refused;

const GET: &str = "nanoproc:fetch/fetch@0.1.0#get";
/// The WASI 0.3 fetcher's `get`.
const GET3: &str = "nanoproc:fetcher3/fetch@0.1.0#get";

/// An HTTP server on loopback that answers every request with its own
/// request line, and remembers each.
pub(crate) struct Server {
    pub(crate) origin: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end().to_string();
                // The rest of the head, up to the blank line.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let body = format!("you asked: {line}");
                // Seen before it is answered, so a client that has its
                // answer finds it seen.
                log.lock().unwrap().push(line);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { origin, seen }
    }

    pub(crate) fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// The app `manifest` (its components all fetchers), with refusals kept.
fn app(manifest: &str) -> (App, Refused) {
    app_of("fetcher", manifest)
}

/// The app `manifest`, each of its components the guest `guest`, with
/// refusals kept.
fn app_of(guest: &str, manifest: &str) -> (App, Refused) {
    let manifest = Manifest::parse("nanoproc.toml", manifest).unwrap();
    let bytes: IndexMap<String, Vec<u8>> = manifest
        .components()
        .keys()
        .map(|name| (name.clone(), component_bytes(guest)))
        .collect();
    let composition = compose(&manifest, &bytes).unwrap();
    let refused = Refused::default();
    let options = Options {
        ..refused.options(std::path::Path::new("."))
    };
    (
        runtime().load(&composition.bytes, options).unwrap(),
        refused,
    )
}

fn get(app: &App, url: &str) -> Result<(u16, String), String> {
    get_through(app, GET, url)
}

/// As [`get`], calling `function`.
fn get_through(app: &App, function: &str, url: &str) -> Result<(u16, String), String> {
    #[derive(wasmtime::component::ComponentType, wasmtime::component::Lift)]
    #[component(record)]
    struct Response {
        status: u16,
        body: String,
    }
    let (response,): (Result<Response, String>,) = app
        .instantiate()
        .unwrap()
        .call(function, (url.to_string(),))
        .unwrap();
    response.map(|r| (r.status, r.body))
}

#[test]
fn a_component_granted_one_origin_reaches_it_and_no_other() {
    let (granted, other) = (Server::start(), Server::start());
    let (app, refused) = app(&format!(
        "[app]\nexport = [\"fetcher\"]\n[components.fetcher]\nguest = \"fetcher\"\ngrants = {{ http = [\"{}\"] }}\n",
        granted.origin
    ));
    assert_eq!(
        get(&app, &format!("{}/hello?x=1", granted.origin)),
        Ok((200, "you asked: GET /hello?x=1 HTTP/1.1".into()))
    );
    assert_eq!(
        get(&app, &format!("{}/secrets", other.origin)),
        Err("HTTP-request-denied".into())
    );
    // The scheme is part of the origin, and a name is not looked up.
    let https = granted.origin.replace("http://", "https://");
    assert_eq!(
        get(&app, &format!("{https}/")),
        Err("HTTP-request-denied".into())
    );
    assert_eq!(
        get(&app, "http://example.com/"),
        Err("HTTP-request-denied".into())
    );
    assert_eq!(
        refused.take(),
        [
            format!(
                "refused `fetcher` an HTTP request to {}/secrets: not in its http grant (HTTP-request-denied)",
                other.origin
            ),
            format!(
                "refused `fetcher` an HTTP request to {https}/: not in its http grant (HTTP-request-denied)"
            ),
            "refused `fetcher` an HTTP request to http://example.com/: not in its http grant (HTTP-request-denied)".to_string(),
        ]
    );
    assert_eq!(granted.seen(), ["GET /hello?x=1 HTTP/1.1"]);
    assert_eq!(other.seen(), [""; 0]);
}

#[test]
fn a_wasi_0_3_component_granted_one_origin_reaches_it_and_no_other() {
    let (granted, other) = (Server::start(), Server::start());
    let (app, refused) = app_of(
        "fetcher3",
        &format!(
            "[app]\nexport = [\"fetcher3\"]\n[components.fetcher3]\nguest = \"fetcher3\"\ngrants = {{ http = [\"{}\"] }}\n",
            granted.origin
        ),
    );
    assert_eq!(
        get_through(&app, GET3, &format!("{}/hello?x=3", granted.origin)),
        Ok((200, "you asked: GET /hello?x=3 HTTP/1.1".into()))
    );
    assert_eq!(
        get_through(&app, GET3, &format!("{}/secrets", other.origin)),
        Err("HTTP-request-denied".into())
    );
    assert_eq!(
        refused.take(),
        [format!(
            "refused `fetcher3` an HTTP request to {}/secrets: not in its http grant (HTTP-request-denied)",
            other.origin
        )]
    );
    assert_eq!(granted.seen(), ["GET /hello?x=3 HTTP/1.1"]);
    assert_eq!(other.seen(), [""; 0]);
}

#[test]
fn a_component_not_granted_http_is_answered_request_denied_inside_the_app() {
    let server = Server::start();
    let (app, refused) =
        app("[app]\nexport = [\"fetcher\"]\n[components.fetcher]\nguest = \"fetcher\"\n");
    assert_eq!(
        get(&app, &format!("{}/", server.origin)),
        Err("HTTP-request-denied".into())
    );
    // The deny provider answered: the host was never asked.
    assert_eq!(refused.take(), [""; 0]);
    assert_eq!(server.seen(), [""; 0]);
}

#[test]
fn neighbours_granted_different_origins_each_reach_only_their_own() {
    neighbours_reach_only_their_own(
        "fetcher",
        GET,
        [
            "wasi:http/types@0.2.12",
            "nanoproc-grant:a/outgoing-handler@0.2.12",
            "nanoproc-grant:b/outgoing-handler@0.2.12",
        ],
    );
}

#[test]
fn wasi_0_3_neighbours_granted_different_origins_each_reach_only_their_own() {
    neighbours_reach_only_their_own(
        "fetcher3",
        GET3,
        [
            "wasi:http/types@0.3.0",
            "nanoproc-grant:a/client@0.3.0",
            "nanoproc-grant:b/client@0.3.0",
        ],
    );
}

/// Composes two fetchers `a` and `b` (the guest `guest`) granted different
/// origins, checks that the app imports `http` as `imports` say (once per
/// holder), and that `a`, called through `function`, reaches its own origin
/// and not `b`'s.
fn neighbours_reach_only_their_own(guest: &str, function: &str, imports: [&str; 3]) {
    let (mine, theirs) = (Server::start(), Server::start());
    let manifest = format!(
        "[app]\nexport = [\"a\"]\n\
         [components.a]\nguest = \"{guest}\"\ngrants = {{ http = [\"{}\"] }}\n\
         [components.b]\nguest = \"{guest}\"\ngrants = {{ http = [\"{}\"] }}\n",
        mine.origin, theirs.origin
    );
    let parsed = Manifest::parse("nanoproc.toml", manifest.as_str()).unwrap();
    let bytes: IndexMap<String, Vec<u8>> = ["a", "b"]
        .map(|n| (n.to_string(), component_bytes(guest)))
        .into();
    let composition = compose(&parsed, &bytes).unwrap();
    // (Such an app cannot be printed as WIT: its imports are read as they are.)
    let (mut imported, mut depth) = (Vec::new(), 0);
    for payload in wasmparser::Parser::new(0).parse_all(&composition.bytes) {
        match payload.unwrap() {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    let name = import.unwrap().name.name.to_string();
                    if ["http", "outgoing-handler", "/client@"]
                        .iter()
                        .any(|part| name.contains(part))
                    {
                        imported.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(imported, imports);
    let (app, refused) = app_of(guest, &manifest);
    assert_eq!(
        get_through(&app, function, &format!("{}/mine", mine.origin)),
        Ok((200, "you asked: GET /mine HTTP/1.1".into()))
    );
    assert_eq!(
        get_through(&app, function, &format!("{}/theirs", theirs.origin)),
        Err("HTTP-request-denied".into())
    );
    assert_eq!(
        refused.take(),
        [format!(
            "refused `a` an HTTP request to {}/theirs: not in its http grant (HTTP-request-denied)",
            theirs.origin
        )]
    );
    assert_eq!(mine.seen(), ["GET /mine HTTP/1.1"]);
    assert_eq!(theirs.seen(), [""; 0]);
}

#[test]
fn an_http_grant_that_is_not_an_origin_is_refused_at_its_line() {
    let error = Manifest::parse(
        "nanoproc.toml",
        "[app]\nexport = [\"f\"]\n[components.f]\nguest = \"fetcher\"\ngrants = { http = [\"api.example.com/v1\"] }\n",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "nanoproc.toml:5:10: component `f`: http grant `api.example.com/v1` is not an origin `scheme://host[:port]` (such as `https://api.example.com` or `http://127.0.0.1:8080`)"
    );
}
