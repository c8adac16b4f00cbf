//! Serving HTTP: `nanoproc serve` beside stock `wasmtime serve` on the same
//! composed app file, and `nanoproc serve` under a mix of requests of which
//! 1% trap.
//!
//! Both servers are processes (the release build of the CLI `cargo xtask
//! bench` makes, and the prebuilt wasmtime CLI from PyPI), listening on
//! loopback. The load generator is here: `CONNECTIONS` keep-alive
//! connections, each sending its share of a round's requests one after the
//! other, on one thread of this process. A round's figures are its
//! requests per second and the 50th and 99th percentiles of its requests'
//! latencies (sent to answered, body read); the servers take turns round by
//! round, the first turn each swapped every round, and the rows give the
//! medians over the rounds.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use nanoproc_tests::measure::Stats;
use nanoproc_tests::{compose_manifest, peers, project_root};

use crate::Bench;
use crate::report::{Figure, Report, Row, Target};

const SECTION: &str = "serving HTTP";

/// Keep-alive connections the load generator keeps busy at once.
const CONNECTIONS: usize = 8;
/// Rounds each case is measured in, after a warm-up round.
const ROUNDS: usize = 11;

/// `nanoproc serve` vs `wasmtime serve` on the publish app and on the
/// hello handler, WASI 0.2's and WASI 0.3's; then the probe with 1% of its
/// requests trapping.
pub fn serve(_bench: &Bench, report: &mut Report) -> Result<()> {
    let cli = project_root().join("target/release/nanoproc");
    ensure!(
        cli.exists(),
        "{} is missing: run the benchmark with `cargo xtask bench`, which builds it",
        cli.display()
    );
    let scratch = tempfile::tempdir()?;
    let wasmtime = peers::wasmtime_cli();
    let document = std::fs::read_to_string(project_root().join("guests/publish/sample/hello.md"))?;
    // Stock wasmtime as it serves WASI 0.2: a fresh instance per request.
    let fresh: &[Stock] = &[Stock {
        how: "",
        flags: &[],
    }];
    let cases = [
        (
            "publish app (`POST /render`, a small document)",
            "guests/publish/nanoproc.toml",
            Plan::one(Ask::post("/render", &document, 200)),
            3_000,
            fresh,
        ),
        (
            "hello handler (`GET /`)",
            "guests/hello-http/nanoproc.toml",
            Plan::one(Ask::get("/", 200)),
            6_000,
            fresh,
        ),
        (
            "WASI 0.3 hello handler (`GET /`)",
            "tests/apps/hello-http3/nanoproc.toml",
            Plan::one(Ask::get("/", 200)),
            6_000,
            // Stock wasmtime serves WASI 0.3 when asked to, by default
            // reusing an instance for many requests; nanoproc gives each
            // request a fresh instance, so the target is beside stock
            // wasmtime doing the same.
            &[
                Stock {
                    how: " with a fresh instance per request",
                    flags: &[
                        "-W",
                        "component-model-async=y",
                        "-S",
                        "p3=y",
                        "--max-instance-reuse-count",
                        "1",
                    ],
                },
                Stock {
                    how: " reusing instances (its default: 128 requests each, 16 at once)",
                    flags: &["-W", "component-model-async=y", "-S", "p3=y"],
                },
            ][..],
        ),
    ];
    // Requests per second of `nanoproc serve` on the WASI 0.2 hello handler.
    let mut hello_rate = None;
    for (app_name, manifest, plan, requests, stocks) in cases {
        let app = compose_into(manifest, scratch.path())?;
        let ours = Server::nanoproc(&cli, &app, scratch.path())?;
        let mut theirs = Vec::new();
        match wasmtime {
            Ok(wasmtime) => {
                for stock in stocks {
                    theirs.push((stock, Server::wasmtime(wasmtime, &app, stock.flags)?));
                }
            }
            Err(why) => report.add(Row::new(
                SECTION,
                format!("{app_name}: `wasmtime serve`"),
                Figure::Skipped(why.to_string()),
            )),
        }
        let mut servers = vec![(ours.addr, &plan)];
        servers.extend(theirs.iter().map(|(_, server)| (server.addr, &plan)));
        let figures = in_turns(&servers, requests)?;
        let ours_figures = &figures[0];
        let mut rate = Row::new(
            SECTION,
            format!("{app_name}: `nanoproc serve`, requests per second"),
            Figure::Rate(ours_figures.rate),
        );
        if let (Some(theirs_figures), Some((stock, _))) = (figures.get(1), theirs.first()) {
            let ratio = ours_figures.rate.median / theirs_figures.rate.median;
            rate = rate
                .ratio(ratio, format!("{ratio:.2}× wasmtime serve{}", stock.how))
                .target(Target::at_least(ratio, 1.0, "≥ 1× wasmtime serve"));
        }
        report.add(rate);
        if manifest.ends_with("hello-http/nanoproc.toml") {
            hello_rate = Some(ours_figures.rate.median);
        } else if let (Some(hello), true) = (hello_rate, manifest.contains("hello-http3")) {
            let ratio = ours_figures.rate.median / hello;
            report.add(
                Row::new(
                    SECTION,
                    format!("{app_name}: `nanoproc serve` beside the WASI 0.2 hello handler"),
                    Figure::Rate(ours_figures.rate),
                )
                .ratio(ratio, format!("{ratio:.2}× the WASI 0.2 handler's rate")),
            );
        }
        latency_rows(report, app_name, "`nanoproc serve`", ours_figures, true);
        let version = peers::WASMTIME_CLI;
        for (i, ((stock, _), theirs_figures)) in theirs.iter().zip(&figures[1..]).enumerate() {
            let server = format!("`wasmtime serve` {version}{}", stock.how);
            let mut rate = Row::new(
                SECTION,
                format!("{app_name}: {server}, requests per second"),
                Figure::Rate(theirs_figures.rate),
            );
            // The first is beside `nanoproc serve`'s row already.
            if i > 0 {
                let ratio = ours_figures.rate.median / theirs_figures.rate.median;
                rate = rate.ratio(ratio, format!("`nanoproc serve` is {ratio:.2}× this"));
            }
            report.add(rate);
            latency_rows(report, app_name, &server, theirs_figures, false);
        }
        ours.check()?;
    }

    // The probe: 1% of requests trap (answered 500, each on an instance of
    // its own), beside the same load without them.
    let app = compose_into("guests/http-probe/nanoproc.toml", scratch.path())?;
    let probe = Server::nanoproc(&cli, &app, scratch.path())?;
    let good = Ask::get("/", 200);
    let mixed = Plan {
        sends: vec![good.clone(), Ask::get("/trap", 500)],
        // Every hundredth request traps.
        pick: |i| usize::from(i % 100 == 99),
    };
    let clean = Plan::one(good);
    let figures = in_turns(&[(probe.addr, &mixed), (probe.addr, &clean)], 6_000)?;
    let (with_traps, without) = (&figures[0], &figures[1]);
    let moved = with_traps.p99.median / without.p99.median;
    report.add(
        Row::new(
            SECTION,
            "probe, 1% of requests trap: the good requests' p99, `nanoproc serve`",
            Figure::Time(with_traps.p99),
        )
        .ratio(moved, format!("{moved:.2}× without traps"))
        .target(Target::at_most(moved, 2.0, "≤ 2× without traps")),
    );
    report.add(Row::new(
        SECTION,
        "the same without traps: p99",
        Figure::Time(without.p99),
    ));
    report.add(Row::new(
        SECTION,
        "probe, 1% of requests trap: requests per second",
        Figure::Rate(with_traps.rate),
    ));
    report.add(Row::new(
        SECTION,
        "the same without traps: requests per second",
        Figure::Rate(without.rate),
    ));
    probe.check()?;
    Ok(())
}

/// How stock `wasmtime serve` is run on a case: what the rows say of it,
/// and the flags that make it so.
struct Stock {
    how: &'static str,
    flags: &'static [&'static str],
}

/// The p50 and p99 rows of one server on one app; the p99 judged against
/// 3× the p50 when `target`.
fn latency_rows(report: &mut Report, app: &str, server: &str, figures: &Figures, target: bool) {
    report.add(Row::new(
        SECTION,
        format!("{app}: {server}, p50 latency"),
        Figure::Time(figures.p50),
    ));
    let spread = figures.p99.median / figures.p50.median;
    let mut row = Row::new(
        SECTION,
        format!("{app}: {server}, p99 latency"),
        Figure::Time(figures.p99),
    )
    .ratio(spread, format!("{spread:.1}× p50"));
    if target {
        row = row.target(Target::at_most(spread, 3.0, "≤ 3× p50"));
    }
    report.add(row);
}

/// Composes the app manifest `manifest` (relative to the project) into a
/// file in `dir`, named after the manifest's folder.
fn compose_into(manifest: &str, dir: &Path) -> Result<PathBuf> {
    let composition = compose_manifest(manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = Path::new(manifest)
        .parent()
        .and_then(Path::file_name)
        .context("a manifest in a folder")?;
    let path = dir.join(name).with_extension("wasm");
    std::fs::write(&path, &composition.bytes)?;
    Ok(path)
}

/// A server process, listening on loopback until dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    what: String,
}

impl Server {
    /// `nanoproc serve APP` with a compiled-artifact cache in `scratch`;
    /// its access log goes where a busy server's goes when nobody reads it.
    fn nanoproc(cli: &Path, app: &Path, scratch: &Path) -> Result<Self> {
        let mut command = Command::new(cli);
        command
            .arg("serve")
            .arg(app)
            .args(["--addr", "127.0.0.1:0"])
            .env("XDG_CACHE_HOME", scratch.join("cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        Self::start(command, "nanoproc serve", |line| {
            line.strip_prefix("listening on http://")
        })
    }

    /// Stock `wasmtime serve APP`, as its defaults are but for `flags`.
    fn wasmtime(wasmtime: &Path, app: &Path, flags: &[&str]) -> Result<Self> {
        let mut command = Command::new(wasmtime);
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(flags)
            .arg(app)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Self::start(command, "wasmtime serve", |line| {
            line.split_once("Serving HTTP on http://")
                .map(|(_, addr)| addr.trim_end_matches('/'))
        })
    }

    /// Starts `command` and waits for the line its `address` finds the
    /// address in, on whichever of stdout and stderr is piped; the rest
    /// of that stream is read and dropped.
    fn start(mut command: Command, what: &str, address: fn(&str) -> Option<&str>) -> Result<Self> {
        let mut child = command
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let output: Box<dyn std::io::Read + Send> = match (child.stdout.take(), child.stderr.take())
        {
            (Some(out), _) => Box::new(out),
            (None, Some(err)) => Box::new(err),
            (None, None) => bail!("{what}: nothing to read its address from"),
        };
        let (said, heard) = mpsc::channel();
        std::thread::spawn(move || {
            let mut said = Some(said);
            for line in BufReader::new(output).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = address(line.trim_end())
                    && let Some(said) = said.take()
                {
                    let _ = said.send(addr.to_string());
                }
            }
        });
        let addr = match heard.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                bail!("{what} printed no address: {:?}", child.wait());
            }
        };
        Ok(Self {
            addr: addr
                .parse()
                .with_context(|| format!("{what} listens on `{addr}`"))?,
            child,
            what: what.to_string(),
        })
    }

    /// Fails when the server has exited.
    fn check(mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited during the benchmark: {status}", self.what);
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One kind of request, and the status it must be answered with.
#[derive(Clone)]
struct Ask {
    method: hyper::Method,
    path: &'static str,
    body: Bytes,
    status: u16,
}

impl Ask {
    fn get(path: &'static str, status: u16) -> Self {
        Self {
            method: hyper::Method::GET,
            path,
            body: Bytes::new(),
            status,
        }
    }

    fn post(path: &'static str, body: &str, status: u16) -> Self {
        Self {
            method: hyper::Method::POST,
            path,
            body: Bytes::from(body.to_string()),
            status,
        }
    }
}

/// What a round sends: request `i` is `sends[pick(i)]`; the latencies of
/// `sends[0]` are the ones measured.
struct Plan {
    sends: Vec<Ask>,
    pick: fn(usize) -> usize,
}

impl Plan {
    fn one(send: Ask) -> Self {
        Self {
            sends: vec![send],
            pick: |_| 0,
        }
    }
}

/// One case's figures over the rounds.
struct Figures {
    rate: Stats,
    p50: Stats,
    p99: Stats,
}

/// One round's figures: requests per second, p50 and p99 in nanoseconds.
struct Round {
    rate: f64,
    p50: f64,
    p99: f64,
}

/// Measures each `(server, plan)` in turns, `requests` requests a round.
fn in_turns(cases: &[(SocketAddr, &Plan)], requests: usize) -> Result<Vec<Figures>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for (addr, plan) in cases {
        runtime.block_on(round(*addr, plan, requests))?;
    }
    let mut rounds: Vec<Vec<Round>> = cases.iter().map(|_| Vec::new()).collect();
    for turn in 0..ROUNDS {
        let mut order: Vec<usize> = (0..cases.len()).collect();
        if turn % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (addr, plan) = cases[i];
            rounds[i].push(runtime.block_on(round(addr, plan, requests))?);
        }
    }
    Ok(rounds
        .into_iter()
        .map(|rounds| Figures {
            rate: Stats::of(rounds.iter().map(|r| r.rate).collect()),
            p50: Stats::of(rounds.iter().map(|r| r.p50).collect()),
            p99: Stats::of(rounds.iter().map(|r| r.p99).collect()),
        })
        .collect())
}

/// One round: `requests` requests over [`CONNECTIONS`] connections,
/// request `i` on connection `i % CONNECTIONS`.
async fn round(addr: SocketAddr, plan: &Plan, requests: usize) -> Result<Round> {
    let started = Instant::now();
    let mut connections = tokio::task::JoinSet::new();
    for c in 0..CONNECTIONS {
        let sends: Vec<(bool, Ask)> = (c..requests)
            .step_by(CONNECTIONS)
            .map(|i| {
                let pick = (plan.pick)(i);
                (pick == 0, plan.sends[pick].clone())
            })
            .collect();
        connections.spawn(connection(addr, sends));
    }
    let mut latencies = Vec::with_capacity(requests);
    while let Some(done) = connections.join_next().await {
        latencies.extend(done??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok(Round {
        rate: requests as f64 / elapsed,
        p50: at(0.50) as f64,
        p99: at(0.99) as f64,
    })
}

/// Sends `sends` one after the other on one keep-alive connection (a new
/// one when the server closes it), checking each status; the latencies in
/// nanoseconds of those marked measured.
async fn connection(addr: SocketAddr, sends: Vec<(bool, Ask)>) -> Result<Vec<u64>> {
    let host = addr.to_string();
    let mut sender = connect(addr).await?;
    let mut latencies = Vec::with_capacity(sends.len());
    for (measured, send) in sends {
        if sender.ready().await.is_err() {
            sender = connect(addr).await?;
        }
        let request = hyper::Request::builder()
            .method(send.method.clone())
            .uri(send.path)
            .header(hyper::header::HOST, &host)
            .body(Full::new(send.body.clone()))?;
        let started = Instant::now();
        let response = sender
            .send_request(request)
            .await
            .with_context(|| format!("{} {} to {addr}", send.method, send.path))?;
        let status = response.status().as_u16();
        let closes = response
            .headers()
            .get(hyper::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        response.into_body().collect().await?;
        let spent = started.elapsed().as_nanos() as u64;
        ensure!(
            status == send.status,
            "{} {} to {addr} answered {status}, not {}",
            send.method,
            send.path,
            send.status
        );
        if measured {
            latencies.push(spent);
        }
        if closes {
            sender = connect(addr).await?;
        }
    }
    Ok(latencies)
}

/// A keep-alive HTTP/1.1 connection to `addr`.
async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
