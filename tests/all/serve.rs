//! Serving HTTP (`nanoproc_host::serve`) over real loopback connections:
//! the hello handler and the probe (`guests/http-probe`), served in this
//! process on a runtime of their own, and asked with an ordinary client.
//! The `nanoproc serve` process itself, stopped by a signal, is tested
//! with the command's own tests (`host/cli/tests/serve.rs`).

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nanoproc_host::serve::{Entry, Log, Server, Stopped};
use nanoproc_linker::{Manifest, compose};
use nanoproc_tests::serving::Running;
use nanoproc_tests::{components_dir, project_root, runtime};

use crate::host::Refused;
use crate::http::Server as Upstream;

/// The hello handler alone.
const HELLO: &str = "[app]\nexport = [\"hello\"]\n[components.hello]\nguest = \"hello-http\"\n";

/// The probe alone, granted the clock and outgoing HTTP to `origins`, its
/// calls limited to 5 s (plenty on a loaded machine). It imports the
/// outgoing handler, so it holds one origin at least: without others, a
/// documentation address that no test reaches.
fn probe(origins: &[&str]) -> String {
    probe_within(origins, 5000)
}

/// [`probe`] with its calls limited to `timeout_ms`.
fn probe_within(origins: &[&str], timeout_ms: u64) -> String {
    let origins: Vec<String> = match origins {
        [] => vec!["\"http://192.0.2.1\"".to_string()],
        _ => origins.iter().map(|o| format!("\"{o}\"")).collect(),
    };
    format!(
        "[app]\nexport = [\"probe\"]\n\
         [components.probe]\nguest = \"http-probe\"\ngrants = {{ clocks = true, http = [{}] }}\n\
         [limits]\ntimeout-ms = {timeout_ms}\n",
        origins.join(", ")
    )
}

/// An app served on loopback by this process until dropped.
struct Serving {
    running: Running,
    entries: Arc<Mutex<Vec<Entry>>>,
    refused: Refused,
}

impl Serving {
    /// Serves the app `manifest` composes, configured by `configure`.
    fn start(manifest: &str, configure: impl FnOnce(&mut Server)) -> Self {
        Self::start_on(runtime(), manifest, configure)
    }

    /// [`Serving::start`] on the engine of `runtime`.
    fn start_on(
        runtime: &nanoproc_host::Runtime,
        manifest: &str,
        configure: impl FnOnce(&mut Server),
    ) -> Self {
        let manifest = Manifest::parse("nanoproc.toml", manifest).unwrap();
        let bytes = manifest.read_components(&components_dir()).unwrap();
        let composition = compose(&manifest, &bytes).unwrap();
        let refused = Refused::default();
        let app = runtime
            .load(&composition.bytes, refused.options(Path::new(".")))
            .unwrap();
        let entries = Arc::new(Mutex::new(Vec::new()));
        let log = entries.clone();
        let mut server = Server::new(&app).unwrap();
        server.log(Log::Report(Arc::new(move |entry: &Entry| {
            log.lock().unwrap().push(entry.clone());
        })));
        configure(&mut server);
        Self {
            running: Running::start(&server),
            entries,
            refused,
        }
    }

    fn url(&self, path: &str) -> String {
        self.running.url(path)
    }

    /// The access-log lines so far, without their durations, in order.
    fn served(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .filter_map(|entry| match entry {
                Entry::Served(served) => Some(format!(
                    "{} {} {}",
                    served.method,
                    served.path,
                    served.status.map_or("-".into(), |s| s.as_u16().to_string())
                )),
                Entry::Failed(_) => None,
            })
            .collect()
    }

    /// The failures reported so far, as their lines.
    fn failed(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .filter_map(|entry| match entry {
                Entry::Failed(failed) => Some(failed.to_string()),
                Entry::Served(_) => None,
            })
            .collect()
    }

    /// The failures reported, once `done` says they are all there (or 5 s
    /// have passed).
    fn failed_once(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let waited = Instant::now();
        loop {
            let failed = self.failed();
            if done(&failed) || waited.elapsed() > Duration::from_secs(5) {
                return failed;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server and waits for it.
    fn stop(self) -> Stopped {
        self.running.stop()
    }
}

/// A client that reports every status as a response, not an error.
fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// `GET url`: the status and the body.
fn get(url: &str) -> (u16, String) {
    let mut response = client().get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// `POST url` with `body`, its length given up front when `sized`, else
/// sent in chunks.
fn post(url: &str, body: Vec<u8>, sized: bool) -> (u16, String) {
    let request = client().post(url);
    let mut response = if sized {
        request.send(&body[..])
    } else {
        let mut reader = std::io::Cursor::new(body);
        request.send(ureq::SendBody::from_reader(&mut reader))
    }
    .unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

#[test]
fn the_hello_handler_answers_its_path_and_404_elsewhere() {
    let serving = Serving::start(HELLO, |_| {});
    assert_eq!(get(&serving.url("/")), (200, "hello\n".into()));
    assert_eq!(get(&serving.url("/?lang=en")), (200, "hello\n".into()));
    assert_eq!(get(&serving.url("/missing")), (404, "not found\n".into()));
    let stopped = serving.stop();
    assert_eq!(
        stopped,
        Stopped {
            served: 3,
            unfinished: 0
        }
    );
}

#[test]
fn each_request_is_logged_with_its_method_path_and_status() {
    let serving = Serving::start(HELLO, |_| {});
    get(&serving.url("/"));
    get(&serving.url("/a/b?secret=1"));
    // The line is written once the response is over, as the client reads it.
    let waited = Instant::now();
    while serving.served().len() < 2 && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(serving.served(), ["GET / 200", "GET /a/b 404"]);
    assert_eq!(serving.failed(), [""; 0]);
}

#[test]
fn a_body_over_the_limit_is_answered_413_before_the_app_sees_it() {
    let serving = Serving::start(HELLO, |server| {
        server.max_body(1024);
    });
    let refusal = "the request body is larger than this server's limit of 1 KiB\n";
    // Refused by its `content-length`, unread, and counted as it comes.
    assert_eq!(
        post(&serving.url("/"), vec![b'x'; 2048], true),
        (413, refusal.into())
    );
    assert_eq!(
        post(&serving.url("/"), vec![b'x'; 4096], false),
        (413, refusal.into())
    );
    // At the limit it reaches the app (which answers no POST).
    assert_eq!(
        post(&serving.url("/"), vec![b'x'; 1024], false),
        (404, "not found\n".into())
    );
    assert_eq!(serving.failed(), [""; 0]);
}

#[test]
fn a_request_without_a_host_is_answered_400() {
    let serving = Serving::start(HELLO, |_| {});
    let mut stream =
        std::net::TcpStream::connect(&serving.running.origin["http://".len()..]).unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.0 400 Bad Request\r\n"),
        "{response}"
    );
    assert!(
        response.ends_with("\r\n\r\nthe request names no host: it has no `host` header\n"),
        "{response}"
    );
}

#[test]
fn an_app_without_the_incoming_handler_cannot_be_served() {
    let manifest = Manifest::parse(
        "nanoproc.toml",
        "[app]\nexport = [\"slug\"]\n[components.slug]\nguest = \"slug\"\n",
    )
    .unwrap();
    let bytes = manifest.read_components(&components_dir()).unwrap();
    let app = runtime()
        .load(
            &compose(&manifest, &bytes).unwrap().bytes,
            nanoproc_host::Options::default(),
        )
        .unwrap();
    let error = Server::new(&app).err().unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "the app exports no `wasi:http/incoming-handler` (WASI 0.2) or `wasi:http/handler` (WASI 0.3), so it cannot serve HTTP; it exports: {}",
            app.functions().collect::<Vec<_>>().join(", ")
        )
    );
}

#[test]
fn a_grant_the_host_cannot_give_stops_the_server_before_it_listens() {
    // The compromised publish app, whose markdown is granted `sample`, from
    // a folder without one.
    let manifest = Manifest::read(&project_root().join("guests/publish/compromised.toml")).unwrap();
    let bytes = manifest.read_components(&components_dir()).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let app = runtime()
        .load(
            &compose(&manifest, &bytes).unwrap().bytes,
            nanoproc_host::Options {
                base_dir: elsewhere.path().to_path_buf(),
                ..nanoproc_host::Options::default()
            },
        )
        .unwrap();
    let error = Server::new(&app).err().unwrap();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot open the granted directory {}: No such file or directory (os error 2)",
            elsewhere.path().join("sample").display()
        )
    );
}

#[test]
fn a_trap_fails_its_own_request_while_the_others_succeed() {
    let serving = Serving::start(&probe(&[]), |_| {});
    let good: Vec<_> = (0..4)
        .map(|_| {
            let url = serving.url("/");
            std::thread::spawn(move || (0..10).map(|_| get(&url)).collect::<Vec<_>>())
        })
        .collect();
    let traps: Vec<_> = (0..3).map(|_| get(&serving.url("/trap"))).collect();
    for answers in good {
        for answer in answers.join().unwrap() {
            assert_eq!(answer, (200, "ok".into()));
        }
    }
    for answer in traps {
        assert_eq!(
            answer,
            (500, "the app failed while answering this request\n".into())
        );
    }
    assert_eq!(
        serving.failed(),
        ["GET /trap: component `probe` trapped in `wasi:http/incoming-handler@0.2.12#handle` \
             (innermost frame `__rustc::rust_panic`) during the call to \
             `wasi:http/incoming-handler@0.2.12#handle`: wasm trap: wasm `unreachable` instruction executed";
            3]
    );
}

#[test]
fn a_request_past_the_deadline_is_answered_504() {
    let serving = Serving::start(&probe_within(&[], 300), |_| {});
    let started = Instant::now();
    assert_eq!(
        get(&serving.url("/spin")),
        (
            504,
            "the app did not answer within its deadline of 300ms\n".into()
        )
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // The server goes on.
    assert_eq!(get(&serving.url("/")), (200, "ok".into()));
    // The epoch check ends the guest; on a machine so loaded that the
    // server answered first, it still does, a little later.
    let fault = "GET /spin: component `probe` ran past the deadline of 300ms in \
                 `wasi:http/incoming-handler@0.2.12#handle` (innermost frame `guest_http_probe::spin`) \
                 during the call to `wasi:http/incoming-handler@0.2.12#handle`";
    let answered = "GET /spin: no response within the app's deadline of 300ms; \
                    its instance ends at its next epoch check";
    let failed = serving.failed_once(|lines| lines.iter().any(|l| l == fault));
    assert!(
        failed == [fault] || failed == [answered, fault],
        "{failed:#?}"
    );
}

#[test]
fn a_request_waiting_in_a_host_call_past_the_deadline_is_answered_504_on_time() {
    let serving = Serving::start(&probe_within(&[], 300), |_| {});
    let started = Instant::now();
    // The epoch check cannot end a guest sleeping in the host: the server
    // answers for it.
    assert_eq!(
        get(&serving.url("/slow?ms=3000")),
        (
            504,
            "the app did not answer within its deadline of 300ms\n".into()
        )
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(
        serving.failed(),
        [
            "GET /slow: no response within the app's deadline of 300ms; \
          its instance ends at its next epoch check"
        ]
    );
}

/// A configuration whose pool holds one instance of a small app.
fn one_instance_pool() -> wasmtime::Config {
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(1)
        .total_core_instances(8)
        .total_memories(8)
        .total_tables(8);
    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Checks that each pool-full answer of `serving` was logged with the
/// pool's reason (beside the failures starting with `besides`), and that
/// `GET /` is answered `ok` again once the instance holding the slot is
/// gone.
fn answered_503_until_the_slot_is_free(serving: &Serving, ok: (u16, String), besides: &str) {
    let (_, full): (Vec<String>, Vec<String>) = serving
        .failed()
        .into_iter()
        .partition(|line| !besides.is_empty() && line.starts_with(besides));
    assert!(!full.is_empty());
    for line in full {
        assert_eq!(
            line,
            "GET /: no room for another instance: \
             maximum concurrent limit of 1 for component instances reached"
        );
    }
    // The slot is free once the slow request's instance is dropped, just
    // after its response is sent.
    let waited = Instant::now();
    let mut answer = get(&serving.url("/"));
    while answer.0 == 503 && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
        answer = get(&serving.url("/"));
    }
    assert_eq!(answer, ok);
}

/// Checks that `GET /` on `serving` is answered 503 as a full pool is.
fn a_get_is_answered_503(serving: &Serving) {
    let mut response = client().get(&serving.url("/")).call().unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "the server is answering as many requests as it can; try again shortly\n"
    );
}

#[test]
fn a_request_finding_the_pool_full_is_answered_503() {
    let engine = wasmtime::Engine::new(&one_instance_pool()).unwrap();
    let runtime = nanoproc_host::Runtime::with_engine(engine).unwrap();
    // Calls enough at once for the second to reach the pool on any machine.
    let serving = Serving::start_on(&runtime, &probe(&[]), |server| {
        server.calls(4);
    });
    let url = serving.url("/slow?ms=1000");
    let slow = std::thread::spawn(move || get(&url));
    std::thread::sleep(Duration::from_millis(400));
    a_get_is_answered_503(&serving);
    assert_eq!(slow.join().unwrap(), (200, "slept 1000 ms".into()));
    answered_503_until_the_slot_is_free(&serving, (200, "ok".into()), "");
}

#[test]
fn a_request_over_the_memory_limit_fails_alone() {
    let manifest = probe(&[]).replace("[limits]\n", "[limits]\nmemory = 3145728\n");
    let serving = Serving::start(&manifest, |server| {
        server.max_body(8 << 20);
    });
    // The probe keeps the body it reads: 4 MiB do not fit in 3.
    assert_eq!(
        post(&serving.url("/echo"), vec![7; 4 << 20], true),
        (500, "the app failed while answering this request\n".into())
    );
    assert_eq!(
        post(&serving.url("/echo"), vec![7; 1000], true),
        (200, "1000".into())
    );
    let failed = serving.failed();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].starts_with(
            "POST /echo: component `probe` hit the memory limit in \
             `wasi:http/incoming-handler@0.2.12#handle`"
        ),
        "{failed:#?}"
    );
    assert!(
        failed[0].contains(": the app's memory limit of 3 MiB would be exceeded: "),
        "{failed:#?}"
    );
}

#[test]
fn the_app_reads_the_request_body() {
    let serving = Serving::start(&probe(&[]), |_| {});
    assert_eq!(
        post(&serving.url("/echo"), vec![7; 5000], true),
        (200, "5000".into())
    );
    assert_eq!(
        post(&serving.url("/echo"), vec![7; 70_000], false),
        (200, "70000".into())
    );
}

#[test]
fn a_granted_origin_is_reached_and_any_other_refused_with_the_wasi_http_error() {
    let (granted, other) = (Upstream::start(), Upstream::start());
    let serving = Serving::start(&probe(&[&granted.origin]), |_| {});
    let (status, body) = get(&serving.url(&format!("/fetch?url={}/hello", granted.origin)));
    assert_eq!(
        (status, body.as_str()),
        (200, "200\nyou asked: GET /hello HTTP/1.1")
    );
    assert_eq!(
        get(&serving.url(&format!("/fetch?url={}/secrets", other.origin))),
        (502, "HTTP-request-denied".into())
    );
    assert_eq!(granted.seen(), ["GET /hello HTTP/1.1"]);
    assert_eq!(other.seen(), [""; 0]);
    assert_eq!(
        serving.refused.take(),
        [format!(
            "refused `probe` an HTTP request to {}/secrets: not in its http grant (HTTP-request-denied)",
            other.origin
        )]
    );
}

#[test]
fn stopping_finishes_the_requests_in_flight() {
    let serving = Serving::start(&probe(&[]), |_| {});
    let url = serving.url("/slow?ms=1000");
    let slow = std::thread::spawn(move || get(&url));
    // Well inside the slow request.
    std::thread::sleep(Duration::from_millis(400));
    let stopped = serving.stop();
    assert_eq!(slow.join().unwrap().0, 200);
    assert_eq!(
        stopped,
        Stopped {
            served: 1,
            unfinished: 0
        }
    );
}

// ---------------------------------------------------------------------
// WASI 0.3 handlers (`wasi:http/handler@0.3.0`), on the async component
// model.

/// The WASI 0.3 hello handler alone.
const HELLO3: &str = "[app]\nexport = [\"hello\"]\n[components.hello]\nguest = \"hello-http3\"\n";

/// The WASI 0.3 gzip handler wired to the gzip library on streams.
const GZIP3: &str = "[app]\nexport = [\"handler\"]\n\
    [components.handler]\nguest = \"gzip-http3\"\n\
    [components.gzip]\nguest = \"gzip-stream\"\n";

/// The access log's lines, once there are `count` (or 5 s have passed).
fn served_once(serving: &Serving, count: usize) -> Vec<String> {
    let waited = Instant::now();
    while serving.served().len() < count && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    serving.served()
}

#[test]
fn a_wasi_0_3_handler_answers_streams_logs_limits_and_stops_as_a_0_2_one_does() {
    let serving = Serving::start(HELLO3, |server| {
        server.max_body(1 << 20);
    });
    assert_eq!(get(&serving.url("/")), (200, "hello\n".into()));
    assert_eq!(get(&serving.url("/missing")), (404, "not found\n".into()));
    // The body streams back, sized or sent in chunks, longer than a frame.
    let body: Vec<u8> = (0..700_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let text = String::from_utf8(body.clone()).unwrap();
    assert_eq!(
        post(&serving.url("/echo"), body.clone(), true),
        (200, text.clone())
    );
    assert_eq!(post(&serving.url("/echo"), body, false), (200, text));
    assert_eq!(
        served_once(&serving, 4),
        [
            "GET / 200",
            "GET /missing 404",
            "POST /echo 200",
            "POST /echo 200"
        ]
    );
    assert_eq!(serving.failed(), [""; 0]);
    assert_eq!(
        serving.stop(),
        Stopped {
            served: 4,
            unfinished: 0
        }
    );

    let limited = Serving::start(HELLO3, |server| {
        server.max_body(1024);
    });
    let refusal = "the request body is larger than this server's limit of 1 KiB\n";
    assert_eq!(
        post(&limited.url("/echo"), vec![b'x'; 2048], true),
        (413, refusal.into())
    );
    assert_eq!(
        post(&limited.url("/echo"), vec![b'x'; 4096], false),
        (413, refusal.into())
    );
    assert_eq!(
        post(&limited.url("/echo"), vec![b'x'; 1024], false),
        (200, "x".repeat(1024))
    );
    assert_eq!(limited.failed(), [""; 0]);
}

#[test]
fn a_wasi_0_3_handler_streams_bodies_through_another_component() {
    let serving = Serving::start(GZIP3, |server| {
        server.max_body(16 << 20);
    });
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x3f)
        .collect();
    let client = client();
    let mut response = client.post(serving.url("/gzip")).send(&data[..]).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let gzip = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&gzip[..])
        .read_to_end(&mut out)
        .unwrap();
    assert!(
        out == data,
        "the gzip handler's body does not gunzip to the request's"
    );

    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(&data).unwrap();
    let native = encoder.finish().unwrap();
    let mut reader = std::io::Cursor::new(native);
    let mut response = client
        .post(serving.url("/gunzip"))
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let back = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    assert!(
        back == data,
        "the gunzip handler's body is not the original"
    );

    let (status, reason) = post(&serving.url("/gunzip"), b"plain text".to_vec(), true);
    assert_eq!(status, 400, "{reason}");
    assert_eq!(get(&serving.url("/gzip")).0, 404);
    assert_eq!(
        served_once(&serving, 4),
        [
            "POST /gzip 200",
            "POST /gunzip 200",
            "POST /gunzip 400",
            "GET /gzip 404"
        ]
    );
    assert_eq!(serving.failed(), [""; 0]);
}

#[test]
fn a_wasi_0_3_request_finding_the_pool_full_is_answered_503() {
    // The async engine's pool holds one instance of the handler.
    let mut config = one_instance_pool();
    config
        .concurrency_support(true)
        .wasm_component_model_async(true);
    let runtime = nanoproc_host::Runtime::with_engine(nanoproc_tests::engine().clone())
        .unwrap()
        .with_async_engine(wasmtime::Engine::new(&config).unwrap())
        .unwrap();
    let serving = Serving::start_on(
        &runtime,
        &format!("{HELLO3}[limits]\ntimeout-ms = 1000\n"),
        |server| {
            server.calls(4);
        },
    );
    // `/spin` holds its instance until the deadline ends it.
    let url = serving.url("/spin");
    let spinning = std::thread::spawn(move || get(&url));
    std::thread::sleep(Duration::from_millis(400));
    a_get_is_answered_503(&serving);
    assert_eq!(spinning.join().unwrap().0, 504);
    answered_503_until_the_slot_is_free(&serving, (200, "hello\n".into()), "GET /spin: ");
    // Where in the loop the deadline caught it varies.
    let failed = serving.failed();
    assert!(
        failed.iter().any(|line| line.starts_with(
            "GET /spin: component `hello` ran past the deadline of 1s \
             in `wasi:http/handler@0.3.0#handle` (innermost frame"
        )),
        "{failed:#?}"
    );
}

#[test]
fn a_wasi_0_3_handler_that_traps_fails_its_own_request_and_one_past_the_deadline_is_answered_504() {
    let serving = Serving::start(&format!("{HELLO3}[limits]\ntimeout-ms = 300\n"), |_| {});
    assert_eq!(
        get(&serving.url("/trap")),
        (500, "the app failed while answering this request\n".into())
    );
    assert_eq!(get(&serving.url("/")), (200, "hello\n".into()));
    let started = Instant::now();
    assert_eq!(
        get(&serving.url("/spin")),
        (
            504,
            "the app did not answer within its deadline of 300ms\n".into()
        )
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(get(&serving.url("/")), (200, "hello\n".into()));
    let failed = serving.failed_once(|lines| lines.len() >= 2);
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert_eq!(
        failed[0],
        "GET /trap: component `hello` trapped in `wasi:http/handler@0.3.0#handle` \
         (innermost frame `__rustc::rust_panic`) during the call to \
         `wasi:http/handler@0.3.0#handle`: wasm trap: wasm `unreachable` instruction executed"
    );
    assert!(failed[1].starts_with("GET /spin: "), "{failed:#?}");
}
