//! The hash-stream component: SHA-256 by the sha2 crate behind
//! `nanoproc:hash-stream/sha256`, over the async component model. `digest`
//! returns a future at once and keeps hashing the stream it was given, a
//! chunk at a time, after it has returned; the future resolves with the
//! length and the digest once the stream ends.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::hash_stream::sha256::{Guest, Summary};
use sha2::{Digest as _, Sha256};
use wit_bindgen::{FutureReader, StreamReader, StreamResult};

/// How many bytes are read at a time.
const CHUNK: usize = 64 * 1024;

struct HashStream;

impl Guest for HashStream {
    async fn digest(mut data: StreamReader<u8>) -> FutureReader<Summary> {
        // What the reader gets should the writer be dropped unwritten
        // (which the task below never does): no bytes, no digest.
        let (summary, reader) = bindings::wit_future::new(|| Summary {
            length: 0,
            digest: Vec::new(),
        });
        wit_bindgen::spawn_local(async move {
            let mut hasher = Sha256::new();
            let mut length = 0u64;
            let mut buffer = Vec::with_capacity(CHUNK);
            loop {
                buffer.clear();
                let (status, chunk) = data.read(buffer).await;
                buffer = chunk;
                hasher.update(&buffer);
                length += buffer.len() as u64;
                if !matches!(status, StreamResult::Complete(_)) {
                    break;
                }
            }
            let digest = hasher.finalize().to_vec();
            // The future's reader may have gone: nobody wants the digest.
            let _ = summary.write(Summary { length, digest }).await;
        });
        reader
    }
}

bindings::export!(HashStream with_types_in bindings);
