//! The hello handler on WASI 0.3: the smallest `wasi:http/handler@0.3.0`,
//! the twin of `hello-http`. `GET /` (with any query) answers 200 `hello`
//! as `text/plain`; `POST /echo` answers 200 with the request's body,
//! streamed back a chunk at a time, and the request's `content-type` if it
//! had one; anything else answers 404 `not found`. Two routes show a
//! server's limits at work: `GET /trap` panics, which traps, and `GET /spin`
//! loops for ever.
//!
//! It imports only the `wasi:http` types: it reads the request and makes
//! the response, and reaches no other capability.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::http::handler::Guest;
use bindings::wasi::http::types::{ErrorCode, Fields, Method, Request, Response, Trailers};
use bindings::{wit_future, wit_stream};
use wit_bindgen::{StreamReader, StreamResult, StreamWriter};

/// How many bytes of the body are read at a time.
const CHUNK: usize = 64 * 1024;

/// What a response's trailers future carries.
type TrailersResult = Result<Option<Trailers>, ErrorCode>;

struct Hello;

impl Guest for Hello {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let target = request.get_path_with_query().unwrap_or_default();
        let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
        match (request.get_method(), path) {
            (Method::Get, "/") => fixed(200, b"hello\n"),
            (Method::Post, "/echo") => echo(request),
            (Method::Get, "/trap") => panic!("asked to trap"),
            (Method::Get, "/spin") => {
                let mut turns = 0u64;
                loop {
                    turns = std::hint::black_box(turns.wrapping_add(1));
                }
            }
            _ => fixed(404, b"not found\n"),
        }
    }
}

/// A response of `status` whose body is `body`, as `text/plain`.
fn fixed(status: u16, body: &'static [u8]) -> Result<Response, ErrorCode> {
    let headers = Fields::from_list(&[
        (
            "content-type".to_string(),
            b"text/plain; charset=utf-8".to_vec(),
        ),
        (
            "content-length".to_string(),
            body.len().to_string().into_bytes(),
        ),
    ])
    .map_err(|e| ErrorCode::InternalError(Some(format!("headers: {e:?}"))))?;
    let (mut writer, contents) = wit_stream::new::<u8>();
    // No trailers: the writer, dropped, sends its default.
    let (_, trailers) = wit_future::new::<TrailersResult>(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(contents), trailers);
    response
        .set_status_code(status)
        .map_err(|()| ErrorCode::InternalError(Some("a bad status".into())))?;
    wit_bindgen::spawn_local(async move {
        // Bytes left unsent mean the client went away: nothing is left to tell.
        let _ = writer.write_all(body.to_vec()).await;
    });
    Ok(response)
}

/// A 200 response whose body is `request`'s, copied a chunk at a time as
/// it arrives, with its `content-type`, if any, and its trailers.
fn echo(request: Request) -> Result<Response, ErrorCode> {
    let content_type = request.get_headers().get("content-type");
    let entries: Vec<_> = content_type
        .into_iter()
        .map(|value| ("content-type".to_string(), value))
        .collect();
    let headers = Fields::from_list(&entries)
        .map_err(|e| ErrorCode::InternalError(Some(format!("headers: {e:?}"))))?;
    // The outcome of handling the request's body, told to the host once it
    // has been read.
    let (handled, handled_reader) = wit_future::new::<Result<(), ErrorCode>>(|| Ok(()));
    let (body, request_trailers) = Request::consume_body(request, handled_reader);
    let (writer, contents) = wit_stream::new::<u8>();
    let (trailers, trailers_reader) = wit_future::new::<TrailersResult>(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(contents), trailers_reader);
    wit_bindgen::spawn_local(async move {
        let copied = copy(body, writer).await;
        // The request's trailers, or the error that cut its body short,
        // end the response's body too.
        let outcome = if copied {
            request_trailers.await
        } else {
            Err(ErrorCode::InternalError(Some(
                "the client stopped reading".into(),
            )))
        };
        let _ = trailers.write(outcome).await;
        if !copied {
            let _ = handled
                .write(Err(ErrorCode::InternalError(Some(
                    "the response's body was not read".into(),
                ))))
                .await;
        }
        // Dropped unwritten, `handled` sends its default: handled well.
    });
    Ok(response)
}

/// Copies `input` into `output` a chunk at a time until `input` ends;
/// `false` if the reader of `output` went away first.
async fn copy(mut input: StreamReader<u8>, mut output: StreamWriter<u8>) -> bool {
    let mut buffer = Vec::with_capacity(CHUNK);
    loop {
        buffer.clear();
        let (status, chunk) = input.read(buffer).await;
        buffer = chunk;
        if !buffer.is_empty() {
            buffer = output.write_all(buffer).await;
            if !buffer.is_empty() {
                return false;
            }
        }
        match status {
            StreamResult::Complete(_) => {}
            StreamResult::Dropped | StreamResult::Cancelled => return true,
        }
    }
}

bindings::export!(Hello with_types_in bindings);
