//! The async caller: makes the async calls and passes the streams the
//! benchmark measures, in loops, so that each figure is the cost of one
//! call or one stream between components.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

use bindings::exports::nanoproc::bench::async_caller::Guest;
use bindings::nanoproc::bench::async_callee;

struct AsyncCaller;

thread_local! {
    /// The bytes `prepare` made.
    static PREPARED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl Guest for AsyncCaller {
    async fn step_there(times: u32) -> u64 {
        let mut value = 0;
        for _ in 0..times {
            value = async_callee::step(value).await;
        }
        value
    }

    fn prepare(length: u32) {
        PREPARED.set(vec![0x5a; length as usize]);
    }

    async fn send_stream(times: u32, chunk: u32) -> u64 {
        let mut bytes = PREPARED.take();
        let length = bytes.len();
        let mut received = 0;
        for _ in 0..times {
            let (mut writer, reader) = bindings::wit_stream::new::<u8>();
            let read = async_callee::take_stream(reader, chunk);
            let write = async move {
                let unwritten = writer.write_all(bytes).await;
                // Dropping the writer ends the stream.
                drop(writer);
                unwritten
            };
            let (count, unwritten) = join(read, write).await;
            received += count;
            bytes = unwritten;
            assert!(bytes.is_empty(), "the callee left bytes unread");
            // SAFETY: `write_all` gives back the same allocation, every
            // byte of it written and none of it changed (a write only reads
            // it), so its first `length` bytes are still the prepared ones.
            unsafe { bytes.set_len(length) };
        }
        PREPARED.set(bytes);
        received
    }
}

/// Awaits `a` and `b` together, polling `a` first: the call that reads
/// the stream starts before the bytes are written into it.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_out, mut b_out) = (None, None);
    poll_fn(|cx| {
        if a_out.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(cx)
        {
            a_out = Some(out);
        }
        if b_out.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(cx)
        {
            b_out = Some(out);
        }
        match (a_out.take(), b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (a_out, b_out) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}

bindings::export!(AsyncCaller with_types_in bindings);
