//! The `markdown` component in a nanoprocess, for native Rust programs:
//! [`Markdown`] calls it with typed calls, from any number of threads.
//!
//! The component is the one `cargo xtask build` writes;
//! [`Markdown::new`] loads it from there, [`Markdown::load`] from any path,
//! and [`Markdown::from_bytes`] from bytes embedded in the program.

nanoproc_host::sandbox!({
    path: "../../../wit/markdown",
    world: "nanoproc:markdown/markdown",
    component: "../../../target/components/markdown.wasm",
});

/// What [`Markdown::builder`] and a failed call use, so that a program
/// needs no dependency but this crate.
pub use nanoproc_host::{Cause, Fault, Refusal, Refusals, Reuse};
