//! The gzip-pipe component: a WASI 0.3 command that hands the stream of
//! its stdin to `nanoproc:gzip-stream/gzip` in another component and the
//! stream it gets back to stdout, so the bytes never pass through this
//! component's memory. `gzip-pipe [LEVEL]` compresses, `gzip-pipe -d`
//! decompresses.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::cli::run::Guest;
use bindings::nanoproc::gzip_stream::gzip;
use bindings::wasi::cli::{environment, stderr, stdin, stdout};

/// The level without an argument, gzip's default.
const DEFAULT_LEVEL: u8 = 6;

struct GzipPipe;

impl Guest for GzipPipe {
    async fn run() -> Result<(), ()> {
        let argument = environment::get_arguments().into_iter().nth(1);
        let (input, read) = stdin::read_via_stream();
        let outcome = match argument.as_deref() {
            Some("-d") => {
                let (output, decoded) = gzip::decompress(input).await;
                let written = stdout::write_via_stream(output).await;
                decoded
                    .await
                    .and(written.map_err(|e| format!("stdout: {e:?}")))
            }
            level => match level.map_or(Ok(DEFAULT_LEVEL), str::parse) {
                Ok(level) => {
                    let output = gzip::compress(input, level).await;
                    stdout::write_via_stream(output)
                        .await
                        .map_err(|e| format!("stdout: {e:?}"))
                }
                Err(_) => Err("usage: gzip-pipe [LEVEL | -d]".to_string()),
            },
        };
        let outcome = outcome.and(read.await.map_err(|e| format!("stdin: {e:?}")));
        if let Err(message) = &outcome {
            let (mut err, err_reader) = bindings::wit_stream::new::<u8>();
            let written = stderr::write_via_stream(err_reader);
            err.write_all(format!("gzip-pipe: {message}\n").into_bytes())
                .await;
            drop(err);
            let _ = written.await;
        }
        outcome.map_err(|_| ())
    }
}

bindings::export!(GzipPipe with_types_in bindings);
