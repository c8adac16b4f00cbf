//! The callee: answers the benchmark's calls between components with as
//! little work of its own as possible.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::bench::callee::Guest;

struct Callee;

impl Guest for Callee {
    fn step(value: u64) -> u64 {
        value.wrapping_add(1)
    }

    fn take_string(text: String) -> u32 {
        text.len() as u32
    }

    fn take_bytes(bytes: Vec<u8>) -> u32 {
        bytes.len() as u32
    }
}

bindings::export!(Callee with_types_in bindings);
