//! The lsdir3-mixed component: the lsdir3 command as Rust's toolchains
//! emit such programs, importing WASI 0.2 and 0.3 side by side. Its
//! arguments come from `wasi:cli/environment@0.2.12`; the listing, on WASI
//! 0.3.0's filesystem and stdout, is lsdir3's own source.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;
#[path = "../../lsdir3/src/list.rs"]
mod list;

/// WASI 0.3's interfaces, under the names `list` uses: this world imports
/// `wasi:cli` in both releases, so its bindings name each one's module
/// with its version.
mod wasi3 {
    pub use crate::bindings::wasi::{cli0_3_0 as cli, filesystem};
}

use bindings::exports::wasi::cli0_3_0::run::Guest;
use bindings::wasi::cli0_2_12::environment;

struct Lsdir3Mixed;

impl Guest for Lsdir3Mixed {
    async fn run() -> Result<(), ()> {
        list::run(environment::get_arguments().into_iter().nth(1)).await
    }
}

bindings::export!(Lsdir3Mixed with_types_in bindings);
