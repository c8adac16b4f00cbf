//! The async callee: answers the benchmark's async calls and reads the
//! streams it is handed, with as little work of its own as possible.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::cell::Cell;

use bindings::exports::nanoproc::bench::async_callee::Guest;
use wit_bindgen::{StreamReader, StreamResult};

struct AsyncCallee;

thread_local! {
    /// The buffer `take-stream` reads into, kept from call to call as a
    /// reader that reads many streams would keep it.
    static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl Guest for AsyncCallee {
    async fn step(value: u64) -> u64 {
        value.wrapping_add(1)
    }

    async fn take_stream(mut data: StreamReader<u8>, chunk: u32) -> u64 {
        let chunk = chunk.max(1) as usize;
        let mut buffer = BUFFER.take();
        if buffer.capacity() != chunk {
            buffer = Vec::with_capacity(chunk);
        }
        let mut length = 0u64;
        loop {
            buffer.clear();
            let (status, read) = data.read(buffer).await;
            buffer = read;
            length += buffer.len() as u64;
            if !matches!(status, StreamResult::Complete(_)) {
                break;
            }
        }
        BUFFER.set(buffer);
        length
    }
}

bindings::export!(AsyncCallee with_types_in bindings);
