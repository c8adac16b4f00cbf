//! Serving HTTP: an app that exports `wasi:http/incoming-handler@0.2.x`
//! answers each request in a fresh instance of its own.
//!
//! A [`Server`] is made from a loaded [`App`] (and says so when the app
//! does not export the handler), configured with `&mut` setters, then
//! bound to an address ([`Server::bind`]) and run until a shutdown future
//! completes ([`Listening::serve`]):
//!
//! ```no_run
//! use nanoproc_host::serve::{self, Server};
//! use nanoproc_host::{Options, Runtime};
//!
//! let runtime = Runtime::new()?;
//! let app = runtime.load(&std::fs::read("hello-http.wasm")?, Options::default())?;
//! let mut server = Server::new(&app)?;
//! server.max_body(64 << 10);
//! let workers = tokio::runtime::Runtime::new()?;
//! let stopped = workers.block_on(async {
//!     let mut signals = serve::Signals::new()?;
//!     let listening = server.bind("127.0.0.1:8080")?;
//!     println!("listening on http://{}", listening.local_addr());
//!     listening.serve(signals.recv()).await
//! })?;
//! eprintln!("served {} requests", stopped.served);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Connections are HTTP/1.1 (hyper) on the tokio runtime the caller runs
//! [`Listening::serve`] on; a multi-threaded one serves on every core.
//! Each request's body is read first, up to [`Server::max_body`] (a larger
//! one is answered `413` before the app sees it); then a blocking task
//! makes a store with the app's capabilities and limits
//! ([`App`]'s memory budget and deadline, the deadline covering
//! instantiation and the call), instantiates the app from its
//! `InstancePre` in the engine's pool and calls `handle`. The response
//! goes back as soon as the app sets it, and its body streams while the
//! app writes it. Outgoing requests go through each component's own
//! `http` grant, as in any instance of the app.
//!
//! A call that traps or fails fails that request only: `500`, or `504`
//! when it ran past the app's deadline, and a line naming the component
//! and the function ([`Fault`]); `503` when the engine's pool has no room
//! for another instance. A guest waiting in a host call (a sleep,
//! an outgoing request) is not interrupted by the deadline until it is
//! back in wasm; its client gets the `504` all the same, a little after
//! the deadline, and the instance ends at its next epoch check.
//!
//! What happened is reported to [`Server::log`]: by default one line per
//! request on stderr (`GET /path 200 0.41ms`), and one line more for each
//! failure (`nanoproc: GET /trap: component `probe` trapped in …`).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use nanoproc_linker::human_size;
use tokio::sync::oneshot;
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::sync::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::app::App;
use crate::capabilities::HostState;
use crate::fault::{Cause, Fault};

/// The interface an app serves HTTP through, without its version.
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// WASI 0.3's interface an app serves HTTP through, without its version.
pub const HANDLER: &str = "wasi:http/handler";

/// The app's handler, as wasmtime-wasi-http calls it.
#[derive(Clone)]
enum Handler {
    /// WASI 0.2's `wasi:http/incoming-handler`, called on a blocking thread
    /// with the response sent through an outparam.
    P2(ProxyPre<HostState>),
    /// WASI 0.3's `wasi:http/handler`, an async function returning the
    /// response, whose body the instance goes on writing after it returns.
    P3(ServicePre<HostState>),
}

/// The largest request body the app is given unless [`Server::max_body`]
/// says otherwise: 1 MiB.
pub const DEFAULT_MAX_BODY: u64 = 1 << 20;

/// How long a stopping server waits for the requests in flight unless
/// [`Server::grace`] says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// How long a request waits for its response, from when its deadline is
/// armed, before the server answers `504` from outside the instance, for
/// the app's deadline `limit`: twice
/// the deadline, at least 100 ms and at most 1 s past it. The epoch check
/// ends a guest running wasm at the deadline (counted in ticks of the
/// epoch, which a loaded machine may stretch); this covers a guest
/// waiting in a host call, which the check cannot interrupt.
fn outer_deadline(limit: Duration) -> Duration {
    limit + limit.clamp(Duration::from_millis(100), Duration::from_secs(1))
}

/// An app ready to serve HTTP, and how: the largest request body, the
/// grace period of a shutdown, where requests are logged.
pub struct Server {
    app: App,
    pre: Handler,
    handle: String,
    max_body: u64,
    grace: Duration,
    calls: usize,
    log: Log,
}

/// How many calls into the app run at once unless [`Server::calls`] says
/// otherwise: one per core.
pub fn default_calls() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl Server {
    /// A server of `app`, which must export `wasi:http/incoming-handler`
    /// (any 0.2 version) or `wasi:http/handler` (WASI 0.3), with the
    /// defaults: bodies up to
    /// [`DEFAULT_MAX_BODY`], a grace period of [`DEFAULT_GRACE`], logging
    /// to stderr.
    ///
    /// # Errors
    ///
    /// When the app does not export a handler (the message lists what it
    /// does export), exports it with a type other than WASI's, or holds
    /// a grant the host cannot give (a granted directory that cannot be
    /// opened).
    pub fn new(app: &App) -> Result<Self> {
        let (handle, pre) = match app.export_name(&format!("{INCOMING_HANDLER}#handle")) {
            Ok(handle) => {
                let pre = ProxyPre::new(app.instance_pre().clone()).map_err(|e| {
                    anyhow::anyhow!(
                        "the app's `{handle}` is not the one of WASI 0.2's `wasi:http`: {e:#}"
                    )
                })?;
                (handle, Handler::P2(pre))
            }
            Err(_) => {
                let handle = app.export_name(&format!("{HANDLER}#handle")).map_err(|_| {
                    let exports: Vec<&str> = app.functions().collect();
                    anyhow::anyhow!(
                        "the app exports no `{INCOMING_HANDLER}` (WASI 0.2) or `{HANDLER}` (WASI 0.3), so it cannot serve HTTP; it exports: {}",
                        if exports.is_empty() {
                            "nothing".to_string()
                        } else {
                            exports.join(", ")
                        }
                    )
                })?;
                let pre = ServicePre::new(app.instance_pre().clone()).map_err(|e| {
                    anyhow::anyhow!(
                        "the app's `{handle}` is not the one of WASI 0.3's `wasi:http`: {e:#}"
                    )
                })?;
                (handle, Handler::P3(pre))
            }
        };
        // What each request's instance is given is made once now, so that a
        // grant the host cannot honour (a granted directory that is not
        // there) stops the server before it listens, rather than failing
        // every request.
        app.store()?;
        Ok(Self {
            app: app.clone(),
            pre,
            handle,
            max_body: DEFAULT_MAX_BODY,
            grace: DEFAULT_GRACE,
            calls: default_calls(),
            log: Log::default(),
        })
    }

    /// How many calls into the app run at once (at least one); the
    /// requests past that wait their turn, first come first served, before
    /// their instance is made (their deadline is not running yet).
    ///
    /// The default, one per core, keeps each call on a core of its own, so
    /// that a request's latency is its own call's and not that of the
    /// calls sharing its core: the slowest requests stay close to the
    /// typical one. An app whose calls mostly wait (outgoing requests,
    /// sleeps) serves more at once with a higher number.
    pub fn calls(&mut self, calls: usize) -> &mut Self {
        self.calls = calls.max(1);
        self
    }

    /// Requests whose body is longer than `bytes` are answered `413
    /// Content Too Large` before the app sees them (by their
    /// `content-length` when they have one, else once that much has come).
    pub fn max_body(&mut self, bytes: u64) -> &mut Self {
        self.max_body = bytes;
        self
    }

    /// How long [`Listening::serve`] waits, once told to stop, for the
    /// requests in flight to finish.
    pub fn grace(&mut self, grace: Duration) -> &mut Self {
        self.grace = grace;
        self
    }

    /// Where each request and each failure is reported.
    pub fn log(&mut self, log: Log) -> &mut Self {
        self.log = log;
        self
    }

    /// Listens on `addr` (port 0: any free port, see
    /// [`Listening::local_addr`]). Nothing is accepted until
    /// [`Listening::serve`].
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve or cannot be bound.
    pub fn bind(&self, addr: impl ToSocketAddrs + fmt::Debug) -> Result<Listening> {
        let listener = std::net::TcpListener::bind(&addr)
            .with_context(|| format!("cannot listen on {addr:?}"))?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        Ok(Listening {
            listener,
            local_addr,
            grace: self.grace,
            service: Arc::new(Service {
                app: self.app.clone(),
                pre: self.pre.clone(),
                handle: self.handle.clone(),
                max_body: self.max_body,
                calls: Arc::new(tokio::sync::Semaphore::new(self.calls)),
                log: self.log.clone(),
                in_flight: AtomicUsize::new(0),
                served: AtomicU64::new(0),
            }),
        })
    }
}

/// A bound server, ready to serve.
pub struct Listening {
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    grace: Duration,
    service: Arc<Service>,
}

/// How a server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// Requests answered (or given up by their clients) in all.
    pub served: u64,
    /// Requests still in flight when the grace period ran out; their
    /// connections are closed.
    pub unfinished: usize,
}

impl Listening {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts connections and answers their requests until `shutdown`
    /// completes; then stops accepting, closes idle connections, and
    /// waits for the requests in flight for at most the grace period,
    /// after which their connections are closed. Must run within a tokio
    /// runtime (with its I/O and time drivers). A guest still blocked in a
    /// host call then may still hold a blocking thread of the runtime
    /// until the call returns.
    ///
    /// # Errors
    ///
    /// When the listener cannot be registered with the runtime.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<Stopped> {
        let listener = tokio::net::TcpListener::from_std(self.listener)
            .context("cannot listen on the tokio runtime")?;
        let graceful = GracefulShutdown::new();
        let mut connections = tokio::task::JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            while connections.try_join_next().is_some() {}
            let stream = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors, or a connection reset
                        // before it was accepted: the next may do.
                        self.service.log.report(&Entry::Failed(Failed {
                            request: None,
                            message: format!("cannot accept a connection: {error}"),
                        }));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            // Small writes of a streamed body go out at once.
            let _ = stream.set_nodelay(true);
            let service = self.service.clone();
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(
                    TokioIo::new(stream),
                    hyper::service::service_fn(move |request| {
                        let service = service.clone();
                        async move { Ok::<_, Infallible>(service.answer(request).await) }
                    }),
                );
            let connection = graceful.watch(connection);
            // A connection's errors are its client's (a reset, a malformed
            // request, which hyper answers itself).
            connections.spawn(async move {
                let _ = connection.await;
            });
        }
        drop(listener);
        let _ = tokio::time::timeout(self.grace, graceful.shutdown()).await;
        // What is left is cut: its requests are logged as given up.
        let unfinished = self.service.in_flight.load(Ordering::Relaxed);
        connections.shutdown().await;
        Ok(Stopped {
            served: self.service.served.load(Ordering::Relaxed),
            unfinished,
        })
    }
}

/// SIGINT and SIGTERM (Ctrl-C where there are no Unix signals), which
/// stop a server: pass [`Signals::recv`] to [`Listening::serve`], and wait
/// for the next to stop at once. The handlers are installed when this is
/// made, so a signal that comes after it is not lost; from then on those
/// signals no longer end the process.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers.
    ///
    /// # Errors
    ///
    /// When the handlers cannot be installed, or this is not called within
    /// a tokio runtime.
    pub fn new() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Completes at the next signal.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Where a server reports what it did.
#[derive(Clone, Default)]
pub enum Log {
    /// On the host process's stderr: one line per request, as [`Served`]
    /// shows it, and one per failure as `nanoproc: ` and [`Failed`].
    #[default]
    Stderr,
    /// Nowhere.
    Ignore,
    /// To this function, called on the thread where it happened.
    Report(Arc<dyn Fn(&Entry) + Send + Sync>),
}

impl Log {
    fn report(&self, entry: &Entry) {
        use std::io::Write as _;
        match self {
            Self::Stderr => {
                let line = match entry {
                    Entry::Served(served) => format!("{served}\n"),
                    Entry::Failed(failed) => format!("nanoproc: {failed}\n"),
                };
                // A host that cannot write to its stderr has nowhere to say so.
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
            Self::Ignore => {}
            Self::Report(report) => report(entry),
        }
    }
}

/// One thing a server reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A request is over: its access-log line.
    Served(Served),
    /// Why a request failed, or the server could not go on with a
    /// connection.
    Failed(Failed),
}

/// A request that is over: answered, or given up by its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The request's method.
    pub method: Method,
    /// The request's path, without its query.
    pub path: String,
    /// The status answered; none when the client went away first.
    pub status: Option<StatusCode>,
    /// From the request's head read to its response's body sent.
    pub duration: Duration,
}

/// `GET /path 200 0.41ms`; `-` for the status of a request whose client
/// went away before it was answered.
impl fmt::Display for Served {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.method, self.path)?;
        match self.status {
            Some(status) => write!(f, "{}", status.as_u16())?,
            None => f.write_str("-")?,
        }
        write!(f, " {:.2}ms", self.duration.as_secs_f64() * 1e3)
    }
}

/// A request that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The request's method and path (`GET /trap`); none when no request
    /// was read.
    pub request: Option<String>,
    /// Why: the [`Fault`] (naming the component and the function), or
    /// what else went wrong.
    pub message: String,
}

/// `GET /trap: component `probe` trapped in `…`: …`.
impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.request {
            Some(request) => write!(f, "{request}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What a bound server shares among its connections.
struct Service {
    app: App,
    pre: Handler,
    /// The full name of the `handle` export, for faults.
    handle: String,
    max_body: u64,
    /// A permit for each call that may run at once.
    calls: Arc<tokio::sync::Semaphore>,
    log: Log,
    in_flight: AtomicUsize,
    served: AtomicU64,
}

/// How a call into the app ended, as the blocking task that made it saw.
enum Ended {
    /// `handle` returned.
    Returned,
    /// The call ran past the app's deadline (reported).
    Deadline,
    /// The engine's pool had no room for another instance (reported).
    Busy,
    /// Any other failure (reported).
    Failed,
}

/// The engine's pool of instances is full: every slot is taken by a live
/// instance (of this app, or of others on the same engine).
#[derive(Debug)]
struct Busy(wasmtime::Error);

impl fmt::Display for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no room for another instance: {}", self.0)
    }
}

impl std::error::Error for Busy {}

type Reply = Result<Response<HyperOutgoingBody>, ErrorCode>;

impl Service {
    /// Answers one request; what happened is logged when its response is
    /// over.
    async fn answer(self: Arc<Self>, request: Request<Incoming>) -> Response<Logged> {
        let mut pending = Pending::new(self.clone(), &request);
        let response = self.respond(request, &pending.request).await;
        pending.status = Some(response.status());
        response.map(|body| Logged {
            body,
            _pending: pending,
        })
    }

    async fn respond(
        self: &Arc<Self>,
        request: Request<Incoming>,
        target: &str,
    ) -> Response<HyperOutgoingBody> {
        let request = match self.read_body(request).await {
            Ok(request) => request,
            Err(response) => return response,
        };
        let (reply, replied) = oneshot::channel::<Reply>();
        let service = self.clone();
        let called = target.to_string();
        let (start, started) = oneshot::channel::<()>();
        // The semaphore is never closed, so a permit always comes.
        let permit = self.calls.clone().acquire_owned().await.ok();
        let call = tokio::task::spawn_blocking(move || {
            let ended = service.call(request, reply, start, &called);
            drop(permit);
            ended
        });
        let limit = self.app.timeout();
        let waited = match limit {
            Some(limit) => {
                // From when the deadline is armed, which may be a while
                // after the task was spawned on a loaded machine.
                let _ = started.await;
                tokio::time::timeout(outer_deadline(limit), replied)
                    .await
                    .ok()
            }
            None => Some(replied.await),
        };
        match waited {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => {
                self.failed(target, format!("the app answered the error `{code:?}`"));
                internal_error()
            }
            // The instance ended without a response.
            Some(Err(_)) => match call.await {
                Ok(Ended::Deadline) => past_deadline(limit),
                Ok(Ended::Failed) => internal_error(),
                Ok(Ended::Busy) => busy(),
                Ok(Ended::Returned) => {
                    self.failed(target, "the app returned without a response".into());
                    internal_error()
                }
                Err(panicked) => {
                    self.failed(
                        target,
                        format!("the call into the app panicked: {panicked}"),
                    );
                    internal_error()
                }
            },
            None => {
                self.failed(
                    target,
                    format!(
                        "no response within the app's deadline of {:?}; its instance ends at its next epoch check",
                        limit.unwrap_or_default()
                    ),
                );
                past_deadline(limit)
            }
        }
    }

    /// The request with its body read, or the response refusing it (no
    /// host, or a body over the limit).
    async fn read_body(
        &self,
        request: Request<Incoming>,
    ) -> Result<Request<Full<Bytes>>, Response<HyperOutgoingBody>> {
        let (parts, body) = request.into_parts();
        // wasi:http gives the app the request's authority.
        if parts.uri.authority().is_none() && !parts.headers.contains_key(header::HOST) {
            return Err(plain(
                StatusCode::BAD_REQUEST,
                "the request names no host: it has no `host` header",
            ));
        }
        // A `content-length` over the limit is refused unread.
        if body.size_hint().lower() > self.max_body {
            return Err(self.too_large());
        }
        let limit = usize::try_from(self.max_body).unwrap_or(usize::MAX);
        match Limited::new(body, limit).collect().await {
            Ok(body) => Ok(Request::from_parts(parts, Full::new(body.to_bytes()))),
            Err(error) if error.is::<LengthLimitError>() => Err(self.too_large()),
            Err(error) => Err(plain(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the request body: {error}"),
            )),
        }
    }

    fn too_large(&self) -> Response<HyperOutgoingBody> {
        plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the request body is larger than this server's limit of {}",
                human_size(self.max_body)
            ),
        )
    }

    /// Calls the app's handler on a fresh instance (on a blocking thread:
    /// the host's WASI is synchronous); reports a failure.
    fn call(
        &self,
        request: Request<Full<Bytes>>,
        reply: oneshot::Sender<Reply>,
        start: oneshot::Sender<()>,
        target: &str,
    ) -> Ended {
        let Err(error) = self.try_call(request, reply, start) else {
            return Ended::Returned;
        };
        let cause = error.downcast_ref::<Fault>().map(|fault| &fault.cause);
        let ended = match cause {
            Some(Cause::Deadline(_)) => Ended::Deadline,
            _ if error.is::<Busy>() => Ended::Busy,
            _ => Ended::Failed,
        };
        self.failed(target, format!("{error:#}"));
        ended
    }

    /// As [`Service::call`]; `start` is told when the deadline is armed.
    fn try_call(
        &self,
        request: Request<Full<Bytes>>,
        reply: oneshot::Sender<Reply>,
        start: oneshot::Sender<()>,
    ) -> Result<()> {
        let timeout = self.app.timeout();
        let mut store = self.app.store()?;
        let _ = start.send(());
        let pre = match &self.pre {
            Handler::P2(pre) => pre,
            Handler::P3(pre) => return self.call_p3(pre, store, request, reply),
        };
        let mut http = store.data_mut().http();
        let request = http
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| anyhow::anyhow!("cannot hand the request to the app: {e:#}"))?;
        let response = http.new_response_outparam(reply)?;
        let proxy = pre
            .instantiate(&mut store)
            .map_err(|e| instantiation_failed(e, timeout))?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, request, response)
            .map_err(|e| Fault::new(&self.handle, &e, timeout))?;
        Ok(())
    }

    /// As [`Service::try_call`], for a WASI 0.3 handler: the instance is
    /// driven on this thread until the response's body is over, each of its
    /// frames handed to the connection through a channel (at most a few in
    /// flight, so a slow client slows the instance down rather than filling
    /// memory).
    fn call_p3(
        &self,
        pre: &ServicePre<HostState>,
        mut store: wasmtime::Store<HostState>,
        request: Request<Full<Bytes>>,
        reply: oneshot::Sender<Reply>,
    ) -> Result<()> {
        use wasmtime_wasi_http::p3::Request as Request3;
        let timeout = self.app.timeout();
        wasmtime_wasi::runtime::in_tokio(async move {
            let service: wasmtime_wasi_http::p3::bindings::Service = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| instantiation_failed(e, timeout))?;
            let (request, _consumed) =
                Request3::from_http(wasmtime_wasi_http::default_hooks(), request);
            store
                .run_concurrent(async |accessor| -> wasmtime::Result<()> {
                    let response = match service.handle(accessor, request).await? {
                        Ok(response) => response,
                        Err(code) => {
                            let code = ErrorCode::InternalError(Some(format!("{code:?}")));
                            let _ = reply.send(Err(code));
                            return Ok(());
                        }
                    };
                    let response =
                        accessor.with(|store| response.into_http(store, async { Ok(()) }))?;
                    let (parts, mut body) = response.into_parts();
                    let (frames, receiver) = tokio::sync::mpsc::channel(4);
                    let relayed = Frames(receiver).boxed_unsync();
                    if reply
                        .send(Ok(Response::from_parts(parts, relayed)))
                        .is_err()
                    {
                        return Ok(());
                    }
                    while let Some(frame) = body.frame().await {
                        let last = frame.is_err();
                        // The connection is gone: nobody reads the rest.
                        if frames.send(frame).await.is_err() || last {
                            break;
                        }
                    }
                    Ok(())
                })
                .await
                .and_then(|called| called)
                .map_err(|e| Fault::new(&self.handle, &e, timeout).into())
        })
    }

    fn failed(&self, target: &str, message: String) {
        self.log.report(&Entry::Failed(Failed {
            request: Some(target.to_string()),
            message,
        }));
    }
}

/// A request being answered: counted in flight, and logged once its
/// response is over (or its client gone).
struct Pending {
    service: Arc<Service>,
    method: Method,
    path: String,
    /// `METHOD /path`, for failures.
    request: String,
    status: Option<StatusCode>,
    started: Instant,
}

impl Pending {
    fn new(service: Arc<Service>, request: &Request<Incoming>) -> Self {
        service.in_flight.fetch_add(1, Ordering::Relaxed);
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        Self {
            service,
            request: format!("{method} {path}"),
            method,
            path,
            status: None,
            started: Instant::now(),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let served = Served {
            method: self.method.clone(),
            path: std::mem::take(&mut self.path),
            status: self.status,
            duration: self.started.elapsed(),
        };
        self.service.served.fetch_add(1, Ordering::Relaxed);
        self.service.log.report(&Entry::Served(served));
        self.service.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that ends its request's [`Pending`] when it is dropped:
/// sent in full, or its connection gone.
struct Logged {
    body: HyperOutgoingBody,
    _pending: Pending,
}

impl Body for Logged {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Why an instance could not be made: the pool is full ([`Busy`]), or a
/// fault.
fn instantiation_failed(e: wasmtime::Error, timeout: Option<Duration>) -> anyhow::Error {
    if e.is::<wasmtime::PoolConcurrencyLimitError>() {
        anyhow::Error::new(Busy(e))
    } else {
        Fault::new("instantiation", &e, timeout).into()
    }
}

/// A response body whose frames come through a channel, from the thread
/// driving a WASI 0.3 handler's instance.
struct Frames(tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, wasmtime_wasi_http::Error>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx)
    }
}

/// A `text/plain` response of the server's own (not the app's).
fn plain(status: StatusCode, text: &str) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(format!("{text}\n")))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// What a client is told when the app failed: nothing of the app's
/// insides, which the log has.
fn internal_error() -> Response<HyperOutgoingBody> {
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the app failed while answering this request",
    )
}

/// What a client is told when every instance slot is taken: to come back.
fn busy() -> Response<HyperOutgoingBody> {
    let mut response = plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is answering as many requests as it can; try again shortly",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

fn past_deadline(limit: Option<Duration>) -> Response<HyperOutgoingBody> {
    plain(
        StatusCode::GATEWAY_TIMEOUT,
        &format!(
            "the app did not answer within its deadline of {:?}",
            limit.unwrap_or_default()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_line_has_method_path_status_and_duration() {
        let served = Served {
            method: Method::GET,
            path: "/a/b".into(),
            status: Some(StatusCode::NOT_FOUND),
            duration: Duration::from_micros(412),
        };
        assert_eq!(served.to_string(), "GET /a/b 404 0.41ms");
        let gone = Served {
            status: None,
            ..served
        };
        assert_eq!(gone.to_string(), "GET /a/b - 0.41ms");
    }

    #[test]
    fn the_server_answers_for_a_blocked_guest_soon_after_its_deadline() {
        let ms = Duration::from_millis;
        assert_eq!(outer_deadline(ms(20)), ms(120));
        assert_eq!(outer_deadline(ms(300)), ms(600));
        assert_eq!(outer_deadline(ms(5000)), ms(6000));
    }
}
