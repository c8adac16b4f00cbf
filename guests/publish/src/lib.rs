//! The publish handler: the example HTTP app's component. `POST /render`
//! renders the markdown it is sent through the markdown component and tags
//! the HTML with an `ETag` of its SHA-256 from the hash component, so that
//! a client holding the page gets `304 Not Modified` instead; `GET /health`
//! answers `ok`. The routes are listed in `nanoproc:publish/publish`.
//!
//! It imports the two libraries and the `wasi:http` types of the request it
//! is handed and the response it writes: it can reach nothing else.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::nanoproc::hash::digest::{Algorithm, hash_hex};
use bindings::nanoproc::markdown::render::{Options, to_html};
use bindings::wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use bindings::wasi::io::streams::StreamError;

/// WASI streams accept at most this many bytes per blocking write.
const MAX_WRITE: usize = 4096;

/// How many bytes one read of the request body asks for.
const READ_CHUNK: u64 = 64 * 1024;

/// The markdown extensions the app renders with: GitHub's tables,
/// strikethrough, task lists and footnotes.
const OPTIONS: Options = Options {
    tables: true,
    footnotes: true,
    strikethrough: true,
    tasklists: true,
    smart_punctuation: false,
    heading_attributes: false,
};

/// A response: status, headers and body.
struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    /// A `text/plain` response.
    fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/plain; charset=utf-8".into())],
            body: text.as_bytes().to_vec(),
        }
    }

    /// 405, naming the one method `allow` the path takes.
    fn method_not_allowed(allow: &str) -> Self {
        let mut response = Self::text(405, "method not allowed\n");
        response.headers.push(("allow", allow.into()));
        response
    }
}

struct Publish;

impl Guest for Publish {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
        let response = match (path, request.method()) {
            ("/render", Method::Post) => render(request),
            ("/render", _) => Response::method_not_allowed("POST"),
            ("/health", Method::Get) => Response::text(200, "ok\n"),
            ("/health", _) => Response::method_not_allowed("GET"),
            _ => Response::text(404, "not found\n"),
        };
        send(response_out, response);
    }
}

/// The HTML of the markdown body of `request`, tagged with its SHA-256; 304
/// when the request's `If-None-Match` holds that tag already.
fn render(request: IncomingRequest) -> Response {
    let if_none_match: Vec<String> = request
        .headers()
        .get("if-none-match")
        .into_iter()
        .map(|value| String::from_utf8_lossy(&value).into_owned())
        .collect();
    let markdown = match read_body(request) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return Response::text(400, "the body is not UTF-8\n"),
        },
        Err(e) => return Response::text(400, &format!("cannot read the body: {e}\n")),
    };
    let html = to_html(&markdown, OPTIONS);
    let etag = format!("\"{}\"", hash_hex(Algorithm::Sha256, html.as_bytes()));
    if if_none_match.iter().any(|value| matches(value, &etag)) {
        return Response {
            status: 304,
            headers: vec![("etag", etag)],
            body: Vec::new(),
        };
    }
    Response {
        status: 200,
        headers: vec![
            ("content-type", "text/html; charset=utf-8".into()),
            ("etag", etag),
        ],
        body: html.into_bytes(),
    }
}

/// Whether the `If-None-Match` value `value` (`*`, or a list of tags, each
/// maybe weak) names the tag `etag`, compared weakly as RFC 9110 says.
fn matches(value: &str, etag: &str) -> bool {
    value.trim() == "*"
        || value
            .split(',')
            .map(|tag| tag.trim())
            .any(|tag| tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The whole body of `request`.
fn read_body(request: IncomingRequest) -> Result<Vec<u8>, String> {
    let body = request
        .consume()
        .map_err(|()| "the body was taken already")?;
    let stream = body.stream().map_err(|()| "no body stream")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
    }
    drop(stream);
    IncomingBody::finish(body);
    Ok(bytes)
}

/// Sends `response` as the answer to the request.
fn send(response_out: ResponseOutparam, response: Response) {
    let headers: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.into_bytes()))
        .collect();
    let headers = Fields::from_list(&headers).expect("valid headers");
    let outgoing = OutgoingResponse::new(headers);
    outgoing
        .set_status_code(response.status)
        .expect("a valid status");
    let body = outgoing.body().expect("the body, taken once");
    ResponseOutparam::set(response_out, Ok(outgoing));
    let stream = body.write().expect("the stream, taken once");
    for chunk in response.body.chunks(MAX_WRITE) {
        // An error means the client went away: nothing is left to tell.
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

bindings::export!(Publish with_types_in bindings);
