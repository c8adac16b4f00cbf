//! The gzip-http3 handler: a WASI 0.3 `wasi:http/handler@0.3.0` that hands
//! request bodies to `nanoproc:gzip-stream/gzip` in another component.
//!
//! - `POST /gzip` answers 200 `application/gzip`: the request's body stream
//!   goes to `compress` and the stream it returns is the response's body, so
//!   the bytes pass from the host through the gzip component and back
//!   without this component touching them.
//! - `POST /gunzip` answers 200 `application/octet-stream` with the
//!   request's body decompressed. The handler waits for the first bytes
//!   `decompress` makes before it answers: if the input is bad before any
//!   byte came out (not gzip, a bad header, a body cut short), it answers
//!   400 `text/plain` naming the reason instead. An error found later, once
//!   the 200 and some of the body have gone (bad data, a bad checksum, a cut
//!   short member), ends the body with an error: its trailers future resolves
//!   to `error-code.internal-error` with the reason, and the server closes
//!   the connection without the body's proper end, so the client sees an
//!   incomplete body rather than a complete wrong one. Here the bytes are
//!   copied through this component, a chunk at a time.
//! - Anything else answers 404 `not found`.
//!
//! An error reading the request's body (the client went away) ends the
//! response's body with that error too. Memory stays bounded by a few
//! chunks in each component for a body of any length.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::http::handler::Guest;
use bindings::nanoproc::gzip_stream::gzip;
use bindings::wasi::http::types::{ErrorCode, Fields, Method, Request, Response, Trailers};
use bindings::{wit_future, wit_stream};
use wit_bindgen::{FutureReader, StreamReader, StreamResult, StreamWriter};

/// The level `POST /gzip` compresses at, gzip's default.
const LEVEL: u8 = 6;

/// How many bytes are read at a time.
const CHUNK: usize = 64 * 1024;

/// What a body's trailers future carries.
type TrailersResult = Result<Option<Trailers>, ErrorCode>;

struct GzipHttp;

impl Guest for GzipHttp {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let target = request.get_path_with_query().unwrap_or_default();
        let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
        match (request.get_method(), path) {
            (Method::Post, "/gzip") => compress(request).await,
            (Method::Post, "/gunzip") => decompress(request).await,
            _ => text(404, "not found\n".into()),
        }
    }
}

/// `POST /gzip`: the request's body through `compress`, as the response's.
async fn compress(request: Request) -> Result<Response, ErrorCode> {
    let (body, request_trailers) = body_of(request);
    let output = gzip::compress(body, LEVEL).await;
    let (trailers, trailers_reader) = wit_future::new::<TrailersResult>(|| Ok(None));
    let response = respond(200, "application/gzip", output, trailers_reader, &[])?;
    wit_bindgen::spawn_local(async move {
        // The request's trailers resolve once its body has ended; its error,
        // if any, ends the response's body too. Its trailers are not passed
        // on: they describe the input, not the gzip.
        let outcome = request_trailers.await.map(|_| None);
        let _ = trailers.write(outcome).await;
    });
    Ok(response)
}

/// `POST /gunzip`: the request's body through `decompress`, as the
/// response's; a 400 if the input fails before any byte came out.
async fn decompress(request: Request) -> Result<Response, ErrorCode> {
    let (body, request_trailers) = body_of(request);
    let (mut output, decoded) = gzip::decompress(body).await;
    let mut first = Vec::with_capacity(CHUNK);
    let ended = loop {
        let (status, chunk) = output.read(first).await;
        first = chunk;
        match status {
            StreamResult::Complete(_) if first.is_empty() => {}
            StreamResult::Complete(_) => break false,
            StreamResult::Dropped | StreamResult::Cancelled => break true,
        }
    };
    // Nothing came out: the outcome tells an empty input from a bad one.
    let rest = if ended {
        if let Err(reason) = decoded.await {
            return text(400, format!("bad gzip input: {reason}\n"));
        }
        None
    } else {
        Some((output, decoded))
    };
    let (writer, contents) = wit_stream::new::<u8>();
    let (trailers, trailers_reader) = wit_future::new::<TrailersResult>(|| Ok(None));
    let response = respond(
        200,
        "application/octet-stream",
        contents,
        trailers_reader,
        &[],
    )?;
    wit_bindgen::spawn_local(async move {
        let outcome = match rest {
            // The body is empty: the writer, dropped, ends it.
            None => Ok(()),
            Some((output, decoded)) => match forward(first, output, writer).await {
                Err(()) => Err(internal("the client stopped reading")),
                Ok(()) => decoded
                    .await
                    .map_err(|reason| internal(&format!("bad gzip input: {reason}"))),
            },
        };
        let outcome = match outcome {
            Ok(()) => request_trailers.await.map(|_| None),
            Err(error) => Err(error),
        };
        let _ = trailers.write(outcome).await;
    });
    Ok(response)
}

/// Writes `first`, then the rest of `input`, to `output`, a chunk at a
/// time; `Err` if the reader of `output` went away.
async fn forward(
    first: Vec<u8>,
    mut input: StreamReader<u8>,
    mut output: StreamWriter<u8>,
) -> Result<(), ()> {
    let mut buffer = output.write_all(first).await;
    if !buffer.is_empty() {
        return Err(());
    }
    loop {
        buffer.clear();
        buffer.reserve(CHUNK);
        let (status, chunk) = input.read(buffer).await;
        buffer = chunk;
        if !buffer.is_empty() {
            buffer = output.write_all(buffer).await;
            if !buffer.is_empty() {
                return Err(());
            }
        }
        match status {
            StreamResult::Complete(_) => {}
            StreamResult::Dropped | StreamResult::Cancelled => return Ok(()),
        }
    }
}

/// The request's body stream and the future of its trailers.
fn body_of(request: Request) -> (StreamReader<u8>, FutureReader<TrailersResult>) {
    // Dropped unwritten, this sends its default: the body was handled.
    let (_, handled) = wit_future::new::<Result<(), ErrorCode>>(|| Ok(()));
    Request::consume_body(request, handled)
}

/// A response of `status` and `content_type`, with `more` headers, whose
/// body is `contents`.
fn respond(
    status: u16,
    content_type: &str,
    contents: StreamReader<u8>,
    trailers: FutureReader<TrailersResult>,
    more: &[(String, Vec<u8>)],
) -> Result<Response, ErrorCode> {
    let mut entries = vec![("content-type".to_string(), content_type.as_bytes().to_vec())];
    entries.extend_from_slice(more);
    let headers = Fields::from_list(&entries).map_err(|e| internal(&format!("headers: {e:?}")))?;
    let (response, _sent) = Response::new(headers, Some(contents), trailers);
    response
        .set_status_code(status)
        .map_err(|()| internal("a bad status"))?;
    Ok(response)
}

/// A `text/plain` response of `status` whose body is `body`.
fn text(status: u16, body: String) -> Result<Response, ErrorCode> {
    let (mut writer, contents) = wit_stream::new::<u8>();
    let (_, trailers) = wit_future::new::<TrailersResult>(|| Ok(None));
    let length = (
        "content-length".to_string(),
        body.len().to_string().into_bytes(),
    );
    let response = respond(
        status,
        "text/plain; charset=utf-8",
        contents,
        trailers,
        &[length],
    )?;
    wit_bindgen::spawn_local(async move {
        // Bytes left unsent mean the client went away: nothing is left to tell.
        let _ = writer.write_all(body.into_bytes()).await;
    });
    Ok(response)
}

fn internal(reason: &str) -> ErrorCode {
    ErrorCode::InternalError(Some(reason.to_string()))
}

bindings::export!(GzipHttp with_types_in bindings);
