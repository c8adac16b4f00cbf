//! The composed HTTP apps are standard components: the same app file,
//! served by stock `wasmtime serve` (the prebuilt CLI from PyPI, installed
//! into `target/peers/` the first time) and by nanoproc's server loaded as
//! `nanoproc serve APP.wasm` loads it, answers every request the same:
//! status, the app's headers and body. The headers about the connection
//! rather than the answer are left out: `date`, and `connection`,
//! `keep-alive` and `transfer-encoding`, which are each server's own (stock
//! wasmtime closes a connection whose request body the app left unread;
//! nanoproc's server reads it to the end and keeps the connection).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nanoproc_host::Options;
use nanoproc_host::serve::{Log, Server};
use nanoproc_linker::compose;
use nanoproc_tests::serving::Running;
use nanoproc_tests::{app_inputs, peers, project_root, runtime};

/// One request: method, path, extra headers, body.
type Request<'a> = (&'a str, &'a str, Vec<(&'a str, String)>, &'a str);

/// What a server answered: the status, the headers but [`SERVERS_OWN`]
/// (names in lowercase, in the order sent), the body.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The headers that describe the connection or the moment, not the answer.
const SERVERS_OWN: &[&str] = &["date", "connection", "keep-alive", "transfer-encoding"];

/// Sends `request` to the server at `origin`.
fn ask(origin: &str, (method, path, headers, body): &Request<'_>) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{origin}{path}");
    let mut builder = ureq::http::Request::builder().method(*method).uri(&url);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let mut response = agent
        .run(builder.body(body.as_bytes().to_vec()).unwrap())
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !SERVERS_OWN.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                value.to_str().unwrap().to_string(),
            )
        })
        .collect();
    Answer {
        status: response.status().as_u16(),
        headers,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

/// Stock `wasmtime serve` of the app file `app`, on a free loopback port,
/// until dropped.
struct Stock {
    child: Child,
    origin: String,
}

impl Stock {
    /// `wasmtime serve` with `flags` serving `app`.
    fn start_with(app: &Path, flags: &[&str]) -> Self {
        let wasmtime = peers::wasmtime_cli().unwrap_or_else(|why| panic!("{why}"));
        let mut child = Command::new(wasmtime)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(flags)
            .arg(app)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", wasmtime.display()));
        // It says where it listens on stderr: `Serving HTTP on http://ADDR/`.
        let stderr = child.stderr.take().unwrap();
        let (said, heard) = mpsc::channel();
        std::thread::spawn(move || {
            let mut said = Some(said);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(said) = said.take_if(|_| line.contains("Serving HTTP on ")) {
                    let _ = said.send(line);
                } else if said.is_some() {
                    eprintln!("wasmtime serve: {line}");
                }
            }
        });
        let Ok(line) = heard.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("`wasmtime serve` printed no address: {:?}", child.wait());
        };
        let address = line
            .split("Serving HTTP on ")
            .nth(1)
            .unwrap()
            .trim()
            .trim_end_matches('/');
        Self {
            origin: address.to_string(),
            child,
        }
    }
}

impl Drop for Stock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nanoproc's server of the app file `app`, loaded as `nanoproc serve`
/// loads an app file (its own directory `.`, its name as its argument),
/// on a free loopback port, until dropped.
struct Ours;

impl Ours {
    fn start(app: &Path) -> Running {
        let bytes = std::fs::read(app).unwrap();
        let name = app.file_stem().unwrap().to_string_lossy().into_owned();
        let options = Options {
            base_dir: ".".into(),
            args: vec![name],
            ..Options::default()
        };
        let app = runtime().load(&bytes, options).unwrap();
        let mut server = Server::new(&app).unwrap();
        server.log(Log::Ignore);
        Running::start(&server)
    }
}

/// Composes the app manifest `manifest` (relative to the project) into a
/// file in `dir`, and returns the file.
fn compose_into(manifest: &str, dir: &Path, name: &str) -> std::path::PathBuf {
    let (manifest, bytes) = app_inputs(Path::new(manifest)).unwrap();
    let composition = compose(&manifest, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, &composition.bytes).unwrap();
    path
}

/// Serves the app file `app` both ways, asks both every request `requests`
/// makes (given the answers so far, from stock wasmtime), checks that the
/// answers are the same, and returns them.
fn same_answers(app: &Path, requests: impl Fn(&[Answer]) -> Vec<Request<'static>>) -> Vec<Answer> {
    same_answers_with(app, &[], requests)
}

/// As [`same_answers`], with `flags` for `wasmtime serve`.
fn same_answers_with(
    app: &Path,
    flags: &[&str],
    requests: impl Fn(&[Answer]) -> Vec<Request<'static>>,
) -> Vec<Answer> {
    let stock = Stock::start_with(app, flags);
    let ours = Ours::start(app);
    let mut answers: Vec<Answer> = Vec::new();
    loop {
        let asked = requests(&answers);
        let Some(request) = asked.get(answers.len()) else {
            break;
        };
        let theirs = ask(&stock.origin, request);
        let mine = ask(&ours.origin, request);
        assert_eq!(
            mine, theirs,
            "{} {} answered differently by nanoproc (left) and wasmtime serve (right)",
            request.0, request.1
        );
        answers.push(theirs);
    }
    let stopped = ours.stop();
    assert_eq!(stopped.served, answers.len() as u64);
    drop(stock);
    answers
}

#[test]
fn stock_wasmtime_serve_answers_the_publish_app_file_as_nanoproc_does() {
    let scratch = tempfile::tempdir().unwrap();
    let app = compose_into("guests/publish/nanoproc.toml", scratch.path(), "publish");
    let sample: &'static str = Box::leak(
        std::fs::read_to_string(project_root().join("guests/publish/sample/hello.md"))
            .unwrap()
            .into_boxed_str(),
    );
    let table =
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n~~gone~~ and a footnote[^1].\n\n[^1]: Here.\n";
    // The `ETag` the first render answered, for the requests that revalidate.
    let requests = |answers: &[Answer]| -> Vec<Request<'static>> {
        let tag = answers
            .first()
            .and_then(|a| a.header("etag"))
            .unwrap_or("\"none yet\"")
            .to_string();
        vec![
            ("POST", "/render", vec![], sample),
            (
                "POST",
                "/render",
                vec![("if-none-match", tag.clone())],
                sample,
            ),
            (
                "POST",
                "/render",
                vec![("if-none-match", format!("W/{tag}"))],
                sample,
            ),
            (
                "POST",
                "/render",
                vec![("if-none-match", "\"other\"".into())],
                sample,
            ),
            ("POST", "/render", vec![], table),
            ("POST", "/render", vec![], ""),
            ("GET", "/health", vec![], ""),
            ("GET", "/health?verbose=1", vec![], ""),
            ("GET", "/", vec![], ""),
            ("GET", "/render/more", vec![], ""),
            ("GET", "/render", vec![], ""),
            ("PUT", "/render", vec![], "x"),
            ("POST", "/health", vec![], ""),
        ]
    };
    let answers = same_answers(&app, requests);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            200, 304, 304, 200, 200, 200, 200, 200, 404, 404, 405, 405, 405
        ]
    );
    let rendered = &answers[0];
    assert_eq!(
        rendered.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(rendered.body.starts_with("<h1>"), "{rendered:?}");
    let tag = rendered.header("etag").expect("an ETag");
    assert_eq!((tag.len(), answers[1].header("etag")), (66, Some(tag)));
    assert_eq!(answers[1].body, "");
    assert_eq!(answers[6].body, "ok\n");
    assert_eq!(answers[10].header("allow"), Some("POST"));
    assert_eq!(answers[12].header("allow"), Some("GET"));
}

#[test]
fn stock_wasmtime_serve_answers_the_hello_app_file_as_nanoproc_does() {
    let scratch = tempfile::tempdir().unwrap();
    let app = compose_into("guests/hello-http/nanoproc.toml", scratch.path(), "hello");
    let answers = same_answers(&app, |_| {
        vec![
            ("GET", "/", vec![], ""),
            ("GET", "/elsewhere?x=1", vec![], ""),
            ("POST", "/", vec![], "ignored"),
        ]
    });
    assert_eq!(
        (answers[0].status, answers[0].body.as_str()),
        (200, "hello\n")
    );
}

#[test]
fn stock_wasmtime_serve_answers_the_wasi_0_3_hello_app_file_as_nanoproc_does() {
    let scratch = tempfile::tempdir().unwrap();
    let app = compose_into(
        "tests/apps/hello-http3/nanoproc.toml",
        scratch.path(),
        "hello3",
    );
    // Larger than one frame of a body: it is streamed back in pieces.
    let big: &'static str = Box::leak("0123456789abcdef".repeat(40_000).into_boxed_str());
    let routes = |_: &[Answer]| {
        vec![
            ("GET", "/", vec![], ""),
            ("GET", "/elsewhere?x=1", vec![], ""),
            ("POST", "/", vec![], "ignored"),
            (
                "POST",
                "/echo",
                vec![("content-type", "text/plain".to_string())],
                "echoed",
            ),
            ("POST", "/echo", vec![], big),
        ]
    };
    let answers = same_answers_with(
        &app,
        &["-W", "component-model-async=y", "-S", "p3=y"],
        routes,
    );
    assert_eq!(
        (answers[0].status, answers[0].body.as_str()),
        (200, "hello\n")
    );
    assert_eq!(
        (answers[3].status, answers[3].body.as_str()),
        (200, "echoed")
    );
    assert_eq!(answers[4].body, big);
    // The WASI 0.2 build answers the routes both have alike.
    let app2 = compose_into("guests/hello-http/nanoproc.toml", scratch.path(), "hello2");
    let ours = Ours::start(&app2);
    for (answer, request) in answers.iter().zip(&routes(&[])[..3]) {
        assert_eq!(
            &ask(&ours.origin, request),
            answer,
            "{} {}",
            request.0,
            request.1
        );
    }
}
