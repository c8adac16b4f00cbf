//! The HTTP probe: a handler for the tests of serving HTTP, as `hostile` is
//! for calls. Its routes (`nanoproc:http-probe/probe` lists them) answer,
//! trap, spin, echo the body's length, sleep on the monotonic clock and
//! fetch through the outgoing handler, so that a test can show what the
//! server does with each.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::hint::black_box;

use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::wasi::clocks::monotonic_clock::subscribe_duration;
use bindings::wasi::http::outgoing_handler;
use bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use bindings::wasi::io::streams::{InputStream, StreamError};

/// WASI streams accept at most this many bytes per blocking write.
const MAX_WRITE: usize = 4096;

/// How many bytes one read of a body asks for.
const READ_CHUNK: u64 = 64 * 1024;

struct Probe;

impl Guest for Probe {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (status, body) = match (request.method(), path) {
            (Method::Get, "/") => (200, "ok".to_string()),
            (Method::Get, "/trap") => panic!("the probe traps, as asked"),
            (Method::Get, "/spin") => spin(),
            (Method::Post, "/echo") => match read_body(request) {
                Ok(bytes) => (200, bytes.len().to_string()),
                Err(e) => (400, e),
            },
            (Method::Get, "/slow") => match parameter(query, "ms").and_then(|ms| ms.parse().ok()) {
                Some(ms) => {
                    let ms: u64 = ms;
                    subscribe_duration(ms.saturating_mul(1_000_000)).block();
                    (200, format!("slept {ms} ms"))
                }
                None => (400, "`/slow` takes `ms=N`".to_string()),
            },
            (Method::Get, "/fetch") => match parameter(query, "url") {
                Some(url) => match fetch(&url) {
                    Ok((status, body)) => (200, format!("{status}\n{body}")),
                    Err(e) => (502, e),
                },
                None => (400, "`/fetch` takes `url=URL`".to_string()),
            },
            _ => (404, "not found".to_string()),
        };
        respond(response_out, status, body.as_bytes());
    }
}

/// Never returns.
fn spin() -> ! {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Sends `body` with `status` as `text/plain`.
fn respond(response_out: ResponseOutparam, status: u16, body: &[u8]) {
    let headers = Fields::from_list(&[(
        "content-type".to_string(),
        b"text/plain; charset=utf-8".to_vec(),
    )])
    .expect("a valid header");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a valid status");
    let outgoing = response.body().expect("the body, taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let stream = outgoing.write().expect("the stream, taken once");
    for chunk in body.chunks(MAX_WRITE) {
        // An error means the client went away: nothing is left to tell.
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing, None);
}

/// The whole body of `request`.
fn read_body(request: IncomingRequest) -> Result<Vec<u8>, String> {
    let body = request
        .consume()
        .map_err(|()| "the body was taken already")?;
    let stream = body.stream().map_err(|()| "no body stream")?;
    let bytes = read_all(&stream)?;
    drop(stream);
    IncomingBody::finish(body);
    Ok(bytes)
}

/// Everything `stream` gives until it closes.
fn read_all(stream: &InputStream) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
    }
}

/// The value of `name` in the query `query`, percent-decoded.
fn parameter(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

/// `text` with each `%XX` replaced by its byte and each `+` by a space.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// GETs `url` (`scheme://authority/path`) through the outgoing handler:
/// the status and the body as text, or the name of the error code that
/// ended it.
fn fetch(url: &str) -> Result<(u16, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not a URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let request = OutgoingRequest::new(Fields::new());
    let refused = |what: &str| format!("the request refused its {what}");
    request
        .set_method(&Method::Get)
        .map_err(|()| refused("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(authority))
        .map_err(|()| refused("authority"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| refused("path"))?;

    let future = outgoing_handler::handle(request, None).map_err(|e| code(&e))?;
    let response = loop {
        match future.get() {
            Some(Ok(result)) => break result.map_err(|e| code(&e))?,
            Some(Err(())) => return Err("the response was taken already".into()),
            None => future.subscribe().block(),
        }
    };
    let status = response.status();
    let body = response.consume().map_err(|()| "no body".to_string())?;
    let stream = body.stream().map_err(|()| "no body stream".to_string())?;
    let bytes = read_all(&stream)?;
    drop(stream);
    IncomingBody::finish(body);
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The WIT name of the case of `error`, as `wasi:http` spells it.
fn code(error: &ErrorCode) -> String {
    match error {
        ErrorCode::DnsTimeout => "DNS-timeout",
        ErrorCode::DnsError(_) => "DNS-error",
        ErrorCode::DestinationNotFound => "destination-not-found",
        ErrorCode::DestinationUnavailable => "destination-unavailable",
        ErrorCode::DestinationIpProhibited => "destination-IP-prohibited",
        ErrorCode::DestinationIpUnroutable => "destination-IP-unroutable",
        ErrorCode::ConnectionRefused => "connection-refused",
        ErrorCode::ConnectionTerminated => "connection-terminated",
        ErrorCode::ConnectionTimeout => "connection-timeout",
        ErrorCode::ConnectionReadTimeout => "connection-read-timeout",
        ErrorCode::ConnectionWriteTimeout => "connection-write-timeout",
        ErrorCode::ConnectionLimitReached => "connection-limit-reached",
        ErrorCode::TlsProtocolError => "TLS-protocol-error",
        ErrorCode::TlsCertificateError => "TLS-certificate-error",
        ErrorCode::TlsAlertReceived(_) => "TLS-alert-received",
        ErrorCode::HttpRequestDenied => "HTTP-request-denied",
        ErrorCode::HttpRequestLengthRequired => "HTTP-request-length-required",
        ErrorCode::HttpRequestBodySize(_) => "HTTP-request-body-size",
        ErrorCode::HttpRequestMethodInvalid => "HTTP-request-method-invalid",
        ErrorCode::HttpRequestUriInvalid => "HTTP-request-URI-invalid",
        ErrorCode::HttpRequestUriTooLong => "HTTP-request-URI-too-long",
        ErrorCode::HttpRequestHeaderSectionSize(_) => "HTTP-request-header-section-size",
        ErrorCode::HttpRequestHeaderSize(_) => "HTTP-request-header-size",
        ErrorCode::HttpRequestTrailerSectionSize(_) => "HTTP-request-trailer-section-size",
        ErrorCode::HttpRequestTrailerSize(_) => "HTTP-request-trailer-size",
        ErrorCode::HttpResponseIncomplete => "HTTP-response-incomplete",
        ErrorCode::HttpResponseHeaderSectionSize(_) => "HTTP-response-header-section-size",
        ErrorCode::HttpResponseHeaderSize(_) => "HTTP-response-header-size",
        ErrorCode::HttpResponseBodySize(_) => "HTTP-response-body-size",
        ErrorCode::HttpResponseTrailerSectionSize(_) => "HTTP-response-trailer-section-size",
        ErrorCode::HttpResponseTrailerSize(_) => "HTTP-response-trailer-size",
        ErrorCode::HttpResponseTransferCoding(_) => "HTTP-response-transfer-coding",
        ErrorCode::HttpResponseContentCoding(_) => "HTTP-response-content-coding",
        ErrorCode::HttpResponseTimeout => "HTTP-response-timeout",
        ErrorCode::HttpUpgradeFailed => "HTTP-upgrade-failed",
        ErrorCode::HttpProtocolError => "HTTP-protocol-error",
        ErrorCode::LoopDetected => "loop-detected",
        ErrorCode::ConfigurationError => "configuration-error",
        ErrorCode::InternalError(_) => "internal-error",
    }
    .to_string()
}

bindings::export!(Probe with_types_in bindings);
