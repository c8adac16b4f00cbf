//! The fetcher3 component, the WASI 0.3 twin of `fetcher`: GETs a URL
//! through `wasi:http/client@0.3.0`'s async `send` and reads the whole
//! response body as a stream. What it may reach is its `http` grant's list
//! of origins, and nothing else.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::fetcher3::fetch::{Guest, Response};
use bindings::wasi::http::client;
use bindings::wasi::http::types::{
    ErrorCode, Fields, Method, Request, Response as HttpResponse, Scheme, Trailers,
};
use bindings::wit_future;
use wit_bindgen::StreamResult;

/// How many bytes of the body are read at a time.
const CHUNK: usize = 64 * 1024;

/// What a request's trailers future carries.
type TrailersResult = Result<Option<Trailers>, ErrorCode>;

struct Fetcher;

impl Guest for Fetcher {
    async fn get(url: String) -> Result<Response, String> {
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
        // A GET: no body, and no trailers (the writer, dropped, sends its
        // default).
        let (_, trailers) = wit_future::new::<TrailersResult>(|| Ok(None));
        let (request, _sent) = Request::new(Fields::new(), None, trailers, None);
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

        let response = client::send(request).await.map_err(|e| code(&e))?;
        let status = response.get_status_code();
        // The outcome of reading the body, told to the host once it is read.
        let (_handled, handled) = wit_future::new::<Result<(), ErrorCode>>(|| Ok(()));
        let (mut body, trailers) = HttpResponse::consume_body(response, handled);
        let mut bytes = Vec::new();
        let mut buffer = Vec::with_capacity(CHUNK);
        loop {
            buffer.clear();
            let (status, chunk) = body.read(buffer).await;
            buffer = chunk;
            bytes.extend_from_slice(&buffer);
            if !matches!(status, StreamResult::Complete(_)) {
                break;
            }
        }
        drop(body);
        // The trailers, or the error that cut the body short.
        trailers.await.map_err(|e| code(&e))?;
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

/// The WIT name of an error code, as `wasi:http` spells it.
fn code(error: &ErrorCode) -> String {
    match error {
        ErrorCode::HttpRequestDenied => "HTTP-request-denied".into(),
        ErrorCode::ConnectionRefused => "connection-refused".into(),
        ErrorCode::DnsError(_) => "DNS-error".into(),
        other => format!("{other:?}"),
    }
}

bindings::export!(Fetcher with_types_in bindings);
