//! The lsdir3 component: a WASI 0.3 command that lists a granted directory,
//! each file with its length and SHA-256 (by the sha2 crate), reading
//! files through `read-via-stream` and writing through `write-via-stream`.
//! Its arguments come from `wasi:cli/environment@0.3.0`: the one after the
//! program's name, when given, names the directory to list inside the
//! first preopened one.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;
mod list;

/// WASI 0.3's interfaces, under the names `list` uses.
mod wasi3 {
    pub use crate::bindings::wasi::{cli, filesystem};
}

use bindings::exports::wasi::cli::run::Guest;
use bindings::wasi::cli::environment;

struct Lsdir3;

impl Guest for Lsdir3 {
    async fn run() -> Result<(), ()> {
        list::run(environment::get_arguments().into_iter().nth(1)).await
    }
}

bindings::export!(Lsdir3 with_types_in bindings);
