//! The hello handler: the smallest `wasi:http/incoming-handler`. `GET /`
//! (with any query) answers 200 `hello` as `text/plain`; anything else
//! answers 404 `not found`.
//!
//! It reads nothing but the request's method and path and writes one
//! response, so it imports the `wasi:http` types and the output stream, and
//! no other capability.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Hello;

impl Guest for Hello {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
        let hello = matches!(request.method(), Method::Get) && path == "/";
        let (status, body): (u16, &[u8]) = if hello {
            (200, b"hello\n")
        } else {
            (404, b"not found\n")
        };
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
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        response.set_status_code(status).expect("a valid status");
        let outgoing = response.body().expect("the body, taken once");
        ResponseOutparam::set(response_out, Ok(response));
        let stream = outgoing.write().expect("the stream, taken once");
        // Errors here mean the client went away: nothing is left to tell.
        let _ = stream.blocking_write_and_flush(body);
        drop(stream);
        let _ = OutgoingBody::finish(outgoing, None);
    }
}

bindings::export!(Hello with_types_in bindings);
