//! The slug component: the slug crate behind `nanoproc:slug/slugify`.
//!
//! Built for `wasm32-wasip1` like any std crate, so the component carries the
//! WASI preview1 adapter and its imports, although this code calls none of them.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::slug::slugify::Guest;

struct Slug;

impl Guest for Slug {
    fn slugify(text: String) -> String {
        slug::slugify(text)
    }
}

bindings::export!(Slug with_types_in bindings);
