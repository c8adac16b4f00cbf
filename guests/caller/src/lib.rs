//! The caller: makes the calls the benchmark measures, in loops, so that
//! each figure is the cost of one call between components.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::cell::RefCell;

use bindings::exports::nanoproc::bench::caller::Guest;
use bindings::nanoproc::bench::callee;

struct Caller;

thread_local! {
    /// The string and the bytes `prepare` made.
    static PREPARED: RefCell<(String, Vec<u8>)> = const { RefCell::new((String::new(), Vec::new())) };
}

impl Guest for Caller {
    fn step_there(times: u32) -> u64 {
        (0..times).fold(0, |value, _| callee::step(value))
    }

    fn step_here(times: u32) -> u64 {
        (0..times).fold(0, |value, _| step(std::hint::black_box(value)))
    }

    fn prepare(length: u32) {
        let text = "a".repeat(length as usize);
        let bytes = vec![0x5a; length as usize];
        PREPARED.with(|prepared| *prepared.borrow_mut() = (text, bytes));
    }

    fn send_string(times: u32) -> u64 {
        PREPARED.with(|prepared| {
            let text = &prepared.borrow().0;
            (0..times)
                .map(|_| u64::from(callee::take_string(text)))
                .sum()
        })
    }

    fn send_bytes(times: u32) -> u64 {
        PREPARED.with(|prepared| {
            let bytes = &prepared.borrow().1;
            (0..times)
                .map(|_| u64::from(callee::take_bytes(bytes)))
                .sum()
        })
    }
}

/// What `step` of the callee does, here: kept out of line so that each
/// step stays a call.
#[inline(never)]
fn step(value: u64) -> u64 {
    value.wrapping_add(1)
}

bindings::export!(Caller with_types_in bindings);
