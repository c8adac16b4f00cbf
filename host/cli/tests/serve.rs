//! `nanoproc serve` as a user runs it: the address it prints, its refusal
//! of an app that serves no HTTP, and a stop by SIGTERM that finishes the
//! request in flight. (What the server answers is tested in
//! `tests/all/serve.rs`, in process.)

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The probe's own manifest: `guests/http-probe` alone, granted the clock.
const PROBE: &str = "guests/http-probe/nanoproc.toml";

/// `nanoproc serve` of the probe, listening on any free port, with a
/// cache of its own.
struct Serving {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    stderr: Option<JoinHandle<String>>,
    _scratch: tempfile::TempDir,
}

impl Serving {
    fn start(extra: &[&str]) -> Self {
        let scratch = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_nanoproc"))
            .args(["serve", PROBE, "--addr", "127.0.0.1:0"])
            .args(extra)
            .current_dir(root())
            .env("XDG_CACHE_HOME", scratch.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nanoproc runs");
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            stderr.read_to_string(&mut text).unwrap();
            text
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(addr) = line.strip_prefix("listening on http://") else {
            let _ = child.kill();
            panic!(
                "no address printed: {line:?}; stderr: {}",
                stderr.join().unwrap()
            );
        };
        Self {
            addr: addr.trim_end().to_string(),
            child,
            stderr: Some(stderr),
            _scratch: scratch,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process: its exit code and its stderr.
    fn wait(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        (status.code(), self.stderr.take().unwrap().join().unwrap())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// The stderr lines with each access line's duration left out.
fn lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(|line| match line.rsplit_once(' ') {
            Some((rest, ms)) if ms.ends_with("ms") && rest.starts_with("GET ") => rest.to_string(),
            _ => line.to_string(),
        })
        .collect()
}

#[test]
#[cfg(unix)]
fn sigterm_stops_accepting_and_finishes_the_request_in_flight() {
    let serving = Serving::start(&[]);
    assert_eq!(get(&serving.url("/")), (200, "ok".into()));
    let url = serving.url("/slow?ms=1500");
    let slow = std::thread::spawn(move || get(&url));
    // Well inside the slow request.
    std::thread::sleep(Duration::from_millis(500));
    serving.terminate();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        TcpStream::connect(&serving.addr).is_err(),
        "a stopping server accepts no more connections"
    );
    assert_eq!(slow.join().unwrap().0, 200);
    let (code, stderr) = serving.wait();
    assert_eq!(
        lines(&stderr),
        [
            "GET / 200",
            "stopping: no new connections, 10000 ms for the requests in flight \
             (a second signal stops at once)",
            "GET /slow 200",
            "stopped after 2 requests"
        ],
        "{stderr}"
    );
    assert_eq!(code, Some(0));
}

#[test]
#[cfg(unix)]
fn a_request_still_in_flight_after_the_grace_period_is_cut() {
    let serving = Serving::start(&["--grace", "100"]);
    let url = serving.url("/slow?ms=3000");
    let slow = std::thread::spawn(move || {
        let agent = ureq::agent();
        agent.get(&url).call().map(|r| r.status().as_u16())
    });
    std::thread::sleep(Duration::from_millis(500));
    serving.terminate();
    assert!(slow.join().unwrap().is_err(), "the connection is closed");
    let (code, stderr) = serving.wait();
    assert_eq!(
        lines(&stderr),
        [
            "stopping: no new connections, 100 ms for the requests in flight \
             (a second signal stops at once)",
            "GET /slow -",
            "stopped with 1 request unanswered after the grace period of 100 ms"
        ],
        "{stderr}"
    );
    assert_eq!(code, Some(1));
}

#[test]
#[cfg(unix)]
fn a_second_signal_stops_at_once() {
    let serving = Serving::start(&[]);
    let url = serving.url("/slow?ms=3000");
    let slow = std::thread::spawn(move || {
        let agent = ureq::agent();
        agent.get(&url).call().map(|r| r.status().as_u16())
    });
    std::thread::sleep(Duration::from_millis(500));
    serving.terminate();
    std::thread::sleep(Duration::from_millis(200));
    serving.terminate();
    assert!(slow.join().unwrap().is_err(), "the connection is closed");
    let (code, stderr) = serving.wait();
    assert_eq!(
        lines(&stderr),
        [
            "stopping: no new connections, 10000 ms for the requests in flight \
             (a second signal stops at once)",
            "stopped at once by a second signal"
        ],
        "{stderr}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn an_app_that_serves_no_http_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nanoproc"))
        .args([
            "serve",
            "tests/apps/relay/nanoproc.toml",
            "--addr",
            "127.0.0.1:0",
        ])
        .current_dir(root())
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "cannot serve `relay`: the app exports no `wasi:http/incoming-handler` (WASI 0.2) or `wasi:http/handler` (WASI 0.3), so it cannot serve HTTP; it exports: "
        ),
        "{stderr}"
    );
    assert_eq!(output.stdout, b"");
    assert_eq!(output.status.code(), Some(1));
}
