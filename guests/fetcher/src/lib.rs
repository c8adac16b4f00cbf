//! The fetcher component: GETs a URL through `wasi:http`'s outgoing
//! handler and reads the whole response. What it may reach is its `http`
//! grant's list of origins, and nothing else.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::fetch::fetch::{Guest, Response};
use bindings::wasi::http::outgoing_handler;
use bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingRequest, Scheme,
};
use bindings::wasi::io::streams::StreamError;

struct Fetcher;

impl Guest for Fetcher {
    fn get(url: String) -> Result<Response, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` is not a URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, "/"),
        };
        let request = OutgoingRequest::new(Fields::new());
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => Scheme::Other(other.to_string()),
        };
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
        let mut bytes = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend(chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
            }
        }
        drop(stream);
        IncomingBody::finish(body);
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
