//! The hash-stdin component: a WASI 0.3 command that hands its stdin, as
//! the stream WASI gives it, to `nanoproc:hash-stream/sha256.digest` in
//! another component, awaits the future that call returns, and prints
//! `SHA256<tab>LENGTH` on stdout.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::wasi::cli::run::Guest;
use bindings::nanoproc::hash_stream::sha256;
use bindings::wasi::cli::{stdin, stdout};

struct HashStdin;

impl Guest for HashStdin {
    async fn run() -> Result<(), ()> {
        let (data, read) = stdin::read_via_stream();
        let summary = sha256::digest(data).await.await;
        // The digest covers what stdin gave before it ended or failed; a
        // failure makes the command's result `err`.
        let read = read.await;
        let hex: String = summary.digest.iter().map(|b| format!("{b:02x}")).collect();
        let (mut out, out_reader) = bindings::wit_stream::new::<u8>();
        let written = stdout::write_via_stream(out_reader);
        out.write_all(format!("{hex}\t{}\n", summary.length).into_bytes())
            .await;
        drop(out);
        written.await.map_err(|_| ())?;
        read.map_err(|_| ())
    }
}

bindings::export!(HashStdin with_types_in bindings);
