//! Outgoing HTTP (`wasi:http/outgoing-handler`) through wasmtime-wasi-http,
//! to the origins each component's `http` grant lists and no others.
//!
//! wasmtime-wasi-http provides `wasi:http/types` and sends requests; the
//! host replaces its `handle` with one that first checks the request's
//! origin (scheme, host and port) against the grant of whoever the import
//! serves: the shared import those components that agree on one list, a
//! `nanoproc-grant:COMPONENT/outgoing-handler` import its component alone.
//! A request to any other origin is answered `HTTP-request-denied` before
//! anything leaves the host, and reported as a refusal.

use std::future::Future;
use std::sync::Arc;

use anyhow::Result;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, LinkerInstance, Resource};
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host as _;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use super::{HostState, WASI_VERSION};
use crate::refusal::{Answer, Refusal};
use nanoproc_linker::{Capability, Origin};

type Params = (
    Resource<HostOutgoingRequest>,
    Option<Resource<RequestOptions>>,
);
type Outcome = (Result<Resource<HostFutureIncomingResponse>, ErrorCode>,);

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: wasmtime_wasi_http::default_hooks(),
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

/// WASI 0.3's `wasi:http` as the app's components see it: requests sent
/// through [`Origins`].
pub(super) fn p3_view(state: &mut HostState) -> WasiHttpCtxView<'_> {
    WasiHttpCtxView {
        hooks: &mut state.origins,
        table: &mut state.table,
        ctx: &mut state.http,
    }
}

/// How WASI 0.3's `wasi:http/client` sends a request: as wasmtime-wasi-http
/// does, if its origin is in the grant of whoever the import serves (the
/// shared one, or [`Origins::sending_for`]'s); otherwise answered
/// `HTTP-request-denied` before anything leaves the host, and reported.
pub(super) struct Origins {
    attribution: Arc<super::Attribution>,
    /// The holder whose own `wasi:http/client` is sending, set by its
    /// `send` just before wasmtime-wasi-http's, which asks
    /// [`WasiHttpHooks::send_request`] before it first waits; `None`: the
    /// shared import.
    sending_for: Option<String>,
}

impl Origins {
    pub(super) fn new(attribution: Arc<super::Attribution>) -> Self {
        Self {
            attribution,
            sending_for: None,
        }
    }
}

impl WasiHttpHooks for Origins {
    fn send_request(
        &mut self,
        request: hyper::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        hyper::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        let holder = self.sending_for.take();
        let grant = self.attribution.http.get(&holder);
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https");
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        let granted = grant.is_some_and(|(allowed, _)| {
            Origin::from_parts(scheme, authority).is_some_and(|o| allowed.contains(&o))
        });
        if granted {
            return wasmtime_wasi_http::default_hooks().send_request(request, options, fut);
        }
        let label = grant.map(|(_, l)| l.to_vec());
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
        let attempt = format!("an HTTP request to {scheme}://{authority}{path}");
        self.attribution.reporter.report(|| {
            Some(Refusal {
                components: label.unwrap_or_default(),
                capability: Capability::Http,
                attempt,
                answer: Answer::Error("HTTP-request-denied"),
            })
        });
        Box::new(async { Err(Error::HttpRequestDenied) })
    }
}

/// Replaces wasmtime-wasi-http's `handle` of the shared import with one
/// that keeps to the shared grant.
pub(super) fn shadow(linker: &mut Linker<HostState>) -> Result<()> {
    let mut instance = linker.instance(&format!("wasi:http/outgoing-handler@{WASI_VERSION}"))?;
    instance.func_wrap("handle", |store, params: Params| {
        handle(store, &None, params)
    })?;
    Ok(())
}

/// Binds `handle` of `holder`'s own import to its own grant.
pub(super) fn add_holder(
    instance: &mut LinkerInstance<'_, HostState>,
    holder: String,
) -> Result<()> {
    let holder = Some(holder);
    instance.func_wrap("handle", move |store, params: Params| {
        handle(store, &holder, params)
    })?;
    Ok(())
}

/// Binds WASI 0.3's `send` of `holder`'s own `wasi:http/client` to its own
/// grant: wasmtime-wasi-http's `send`, with [`Origins`] told whose it is.
pub(super) fn add_p3_holder(
    instance: &mut LinkerInstance<'_, HostState>,
    holder: String,
) -> Result<()> {
    use wasmtime::component::Accessor;
    use wasmtime_wasi_http::WasiHttp;
    use wasmtime_wasi_http::p3::bindings::http::client::HostWithStore;
    use wasmtime_wasi_http::p3::bindings::http::types::{ErrorCode, Request, Response};
    instance.func_wrap_concurrent(
        "send",
        move |accessor: &Accessor<HostState>, (request,): (Resource<Request>,)| {
            let holder = holder.clone();
            Box::pin(async move {
                // Nothing else of the store runs between here and the
                // hook, which wasmtime-wasi-http's `send` asks in its
                // first poll; cleared after, in case it returned before.
                accessor.with(|mut store| store.get().origins.sending_for = Some(holder));
                let http = accessor.with_getter::<WasiHttp>(p3_view);
                let sent = <WasiHttp as HostWithStore<_>>::send(&http, request).await;
                accessor.with(|mut store| store.get().origins.sending_for = None);
                let sent: Result<Resource<Response>, ErrorCode> = match sent {
                    Ok(response) => Ok(response),
                    Err(error) => Err(error.downcast()?),
                };
                Ok((sent,))
            })
        },
    )?;
    Ok(())
}

/// Sends the request if its origin is in the grant `holder`'s import
/// serves (`None`: the shared one); otherwise answers `HTTP-request-denied`.
fn handle(
    mut store: StoreContextMut<'_, HostState>,
    holder: &Option<String>,
    (request, options): Params,
) -> wasmtime::Result<Outcome> {
    let state = store.data_mut();
    let attribution = state.attribution.clone();
    let (allowed, label) = attribution
        .http
        .get(holder)
        .ok_or_else(|| wasmtime::format_err!("the app holds no http grant for {holder:?}"))?;
    let asked = state.table.get(&request)?;
    let scheme = match &asked.scheme {
        Some(Scheme::Http) => "http",
        Some(Scheme::Https) | None => "https",
        Some(Scheme::Other(other)) => other.as_str(),
    };
    let authority = asked.authority.as_deref().unwrap_or_default();
    let granted = Origin::from_parts(scheme, authority).is_some_and(|o| allowed.contains(&o));
    if !granted {
        let path = asked.path_with_query.as_deref().unwrap_or_default();
        let attempt = format!("an HTTP request to {scheme}://{authority}{path}");
        attribution.reporter.report(|| {
            Some(Refusal {
                components: label.to_vec(),
                capability: Capability::Http,
                attempt,
                answer: Answer::Error("HTTP-request-denied"),
            })
        });
        // `handle` takes the request: it goes, whatever the answer.
        state.table.delete(request)?;
        if let Some(options) = options {
            state.table.delete(options)?;
        }
        return Ok((Err(ErrorCode::HttpRequestDenied),));
    }
    match state.http().handle(request, options) {
        Ok(response) => Ok((Ok(response),)),
        Err(error) => Ok((Err(error.downcast()?),)),
    }
}
