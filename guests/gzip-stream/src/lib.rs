//! The gzip-stream component: flate2 (on miniz_oxide) behind
//! `nanoproc:gzip-stream/gzip`, over the async component model's streams.
//!
//! Each call returns its output stream at once and spawns the work, which
//! reads a chunk of input, feeds it through flate2's writer and hands what
//! comes out to the output stream before reading more. flate2's writers
//! produce at most one internal buffer (32 KiB) of output per `write`, so
//! memory stays bounded by a few chunks for input of any length, a
//! decompression bomb included; the reader's pace is the component's pace.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::io::Write;

use bindings::exports::nanoproc::gzip_stream::gzip::Guest;
use flate2::Compression;
use flate2::write::{GzEncoder, MultiGzDecoder};
use wit_bindgen::{FutureWriter, StreamReader, StreamResult, StreamWriter};

/// How many bytes of input are read at a time.
const CHUNK: usize = 64 * 1024;

struct GzipStream;

impl Guest for GzipStream {
    async fn compress(input: StreamReader<u8>, level: u8) -> StreamReader<u8> {
        let (output, reader) = bindings::wit_stream::new::<u8>();
        let level = Compression::new(u32::from(level.min(9)));
        wit_bindgen::spawn_local(async move {
            // An error here only means that the output's reader went away.
            let _ = pump(input, output, GzEncoder::new(Vec::new(), level)).await;
        });
        reader
    }

    async fn decompress(
        input: StreamReader<u8>,
    ) -> (
        StreamReader<u8>,
        wit_bindgen::FutureReader<Result<(), String>>,
    ) {
        let (output, reader) = bindings::wit_stream::new::<u8>();
        let (outcome, outcome_reader) = bindings::wit_future::new::<Result<(), String>>(|| {
            Err("the decompressor stopped before the input ended".to_string())
        });
        wit_bindgen::spawn_local(async move {
            let result = pump(input, output, MultiGzDecoder::new(Vec::new())).await;
            report(outcome, result).await;
        });
        (reader, outcome_reader)
    }
}

/// Why [`pump`] stopped early.
enum Stopped {
    /// The output's reader dropped its end: nobody wants the rest.
    ReaderGone,
    /// flate2 refused the input.
    Corrupt(String),
}

/// A flate2 writer into a `Vec<u8>`: the encoder or the decoder.
trait Coder: Write {
    /// The bytes written into the inner `Vec` so far, taken out of it.
    fn take_output(&mut self) -> Vec<u8>;
    /// Ends the input, writing what is left (and, decoding, checking the
    /// trailer).
    fn end(&mut self) -> std::io::Result<()>;
}

impl Coder for GzEncoder<Vec<u8>> {
    fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(self.get_mut())
    }
    fn end(&mut self) -> std::io::Result<()> {
        self.try_finish()
    }
}

impl Coder for MultiGzDecoder<Vec<u8>> {
    fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(self.get_mut())
    }
    fn end(&mut self) -> std::io::Result<()> {
        self.try_finish()
    }
}

/// Reads `input` a chunk at a time through `coder` into `output`, until
/// the input ends; `output` is dropped (ending the stream) on return.
async fn pump(
    mut input: StreamReader<u8>,
    mut output: StreamWriter<u8>,
    mut coder: impl Coder,
) -> Result<(), Stopped> {
    let mut buffer = Vec::with_capacity(CHUNK);
    loop {
        buffer.clear();
        let (status, chunk) = input.read(buffer).await;
        buffer = chunk;
        match status {
            StreamResult::Complete(_) => {}
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
        let mut rest = buffer.as_slice();
        while !rest.is_empty() {
            // One `write` makes at most one internal buffer of output.
            let taken = coder.write(rest).map_err(corrupt)?;
            if taken == 0 {
                return Err(Stopped::Corrupt(
                    "the input cannot be decoded further".into(),
                ));
            }
            rest = &rest[taken..];
            send(&mut output, coder.take_output()).await?;
        }
    }
    coder.end().map_err(corrupt)?;
    send(&mut output, coder.take_output()).await
}

/// Writes all of `bytes` to `output`.
async fn send(output: &mut StreamWriter<u8>, bytes: Vec<u8>) -> Result<(), Stopped> {
    if bytes.is_empty() {
        return Ok(());
    }
    let unsent = output.write_all(bytes).await;
    if unsent.is_empty() {
        Ok(())
    } else {
        Err(Stopped::ReaderGone)
    }
}

fn corrupt(error: std::io::Error) -> Stopped {
    Stopped::Corrupt(error.to_string())
}

/// Resolves the decompression's outcome future; the reader may have gone.
async fn report(outcome: FutureWriter<Result<(), String>>, result: Result<(), Stopped>) {
    let value = match result {
        Ok(()) => Ok(()),
        Err(Stopped::ReaderGone) => Err("the reader of the output dropped it".to_string()),
        Err(Stopped::Corrupt(reason)) => Err(reason),
    };
    let _ = outcome.write(value).await;
}

bindings::export!(GzipStream with_types_in bindings);
