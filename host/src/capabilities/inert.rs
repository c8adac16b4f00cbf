//! The host's answers to denials that a deny provider cannot give.
//!
//! A deny provider (made by the linker) answers a denied interface with
//! values it makes itself. It cannot make a resource the component takes
//! from the host: when a component holds `wasi:io` from the host (because it
//! is granted a directory, say) but not stdout, the output stream that
//! `get-stdout` must return is the host's kind of stream. The linker then
//! imports the denied interface for that component alone, under a
//! `nanoproc-deny:COMPONENT/…` name ([`HolderImport`] with `denied`), and
//! the host binds it here to inert values:
//!
//! | interface | answer |
//! | --- | --- |
//! | `wasi:cli/stdin` | a stream at its end: every read reports `closed` |
//! | `wasi:cli/stdout`, `wasi:cli/stderr` | a stream that accepts every write and discards it; the first write is reported as a refusal |
//! | `wasi:clocks/monotonic-clock` | a clock standing at 0 with a resolution of 0; every pollable it makes is ready at once |
//!
//! Nothing here reaches the host's own streams or clock.

use anyhow::{Result, bail};
use wasmtime::component::{LinkerInstance, Resource};
use wasmtime_wasi::p2::pipe::ClosedInputStream;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, OutputStream, Pollable};
use wasmtime_wasi::p2::{StreamError, subscribe};

use super::{HostState, Label};
use crate::refusal::{Answer, Refusal, Reporter};
use nanoproc_linker::{Capability, HolderImport, HolderInterface};

/// Binds the functions of `import`, a denial the host answers, in `instance`.
///
/// # Errors
///
/// When the interface is not one the host answers for.
pub(super) fn add(
    instance: &mut LinkerInstance<'_, HostState>,
    import: &HolderImport,
) -> Result<()> {
    let label: Label = std::sync::Arc::from([import.holder.clone()]);
    match import.kind {
        HolderInterface::Stdin => {
            instance.func_wrap("get-stdin", |mut store, (): ()| {
                let stream: DynInputStream = Box::new(ClosedInputStream);
                Ok((store.data_mut().table.push(stream)?,))
            })?;
        }
        kind @ (HolderInterface::Stdout | HolderInterface::Stderr) => {
            let (function, capability, name) = if kind == HolderInterface::Stdout {
                ("get-stdout", Capability::Stdout, "stdout")
            } else {
                ("get-stderr", Capability::Stderr, "stderr")
            };
            instance.func_wrap(function, move |mut store, (): ()| {
                let state = store.data_mut();
                let stream: DynOutputStream = Box::new(Discarded {
                    reporter: Some(state.attribution.reporter.clone()),
                    label: label.clone(),
                    capability,
                    name,
                });
                Ok((state.table.push(stream)?,))
            })?;
        }
        HolderInterface::MonotonicClock => {
            instance.func_wrap("now", |_, (): ()| Ok((0u64,)))?;
            instance.func_wrap("resolution", |_, (): ()| Ok((0u64,)))?;
            instance.func_wrap("subscribe-instant", |mut store, (_,): (u64,)| {
                Ok((ready(store.data_mut())?,))
            })?;
            instance.func_wrap("subscribe-duration", |mut store, (_,): (u64,)| {
                Ok((ready(store.data_mut())?,))
            })?;
        }
        HolderInterface::Environment
        | HolderInterface::Preopens
        | HolderInterface::TcpCreateSocket
        | HolderInterface::UdpCreateSocket
        | HolderInterface::OutgoingHandler
        | HolderInterface::HttpClient
        | HolderInterface::SocketsTypes => bail!(
            "the app imports an inert answer to `{}`, which is never answered so",
            import.interface
        ),
    }
    Ok(())
}

/// A pollable that is ready at once.
fn ready(state: &mut HostState) -> wasmtime::Result<Resource<DynPollable>> {
    let at_once = state.table.push(AtOnce)?;
    subscribe(&mut state.table, at_once)
}

/// What a pollable of the standing clock waits for: nothing.
struct AtOnce;

#[wasmtime_wasi::async_trait]
impl Pollable for AtOnce {
    async fn ready(&mut self) {}
}

/// A stdout or stderr not granted, for a WASI context: every stream it
/// hands out discards what is written and reports the first write. (A
/// component loaded as it was built takes its stdio from the shared
/// context; in a composed app a component not granted stdio imports a
/// denial instead.)
pub(super) struct Refused {
    pub(super) reporter: Reporter,
    pub(super) label: Label,
    pub(super) capability: Capability,
    pub(super) name: &'static str,
}

impl wasmtime_wasi::cli::IsTerminal for Refused {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for Refused {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        wasmtime_wasi::cli::StdoutStream::async_stream(&wasmtime_wasi::p2::pipe::SinkOutputStream)
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(Discarded {
            reporter: Some(self.reporter.clone()),
            label: self.label.clone(),
            capability: self.capability,
            name: self.name,
        })
    }
}

/// The output stream of a denied stdout or stderr: every write succeeds and
/// goes nowhere; the first is reported.
struct Discarded {
    /// Taken on the first write.
    reporter: Option<Reporter>,
    label: Label,
    capability: Capability,
    name: &'static str,
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Discarded {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        if let Some(reporter) = self.reporter.take() {
            reporter.report(|| {
                Some(Refusal {
                    components: self.label.to_vec(),
                    capability: self.capability,
                    attempt: format!("writing {} bytes to {}", bytes.len(), self.name),
                    answer: Answer::Discarded,
                })
            });
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Discarded {
    async fn ready(&mut self) {}
}
