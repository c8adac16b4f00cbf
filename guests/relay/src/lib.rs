//! The relay component: calls the hostile component it is wired to, so
//! that a test can tell a trap there from a trap here.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::hostile::forward::Guest;
use bindings::nanoproc::hostile::attacks;

struct Relay;

impl Guest for Relay {
    fn fail_there(message: String) {
        attacks::fail(&message);
    }

    fn fail_here(message: String) {
        panic!("{message}");
    }

    fn echo_there(text: String) -> String {
        attacks::echo(&text)
    }

    fn spin_there() {
        attacks::spin();
    }

    fn step_there(times: u32) -> u64 {
        (0..times).fold(0, |value, _| attacks::step(value))
    }

    fn step_here(times: u32) -> u64 {
        (0..times).fold(0, |value, _| step(std::hint::black_box(value)))
    }
}

/// What `step` of the attacks does, here: kept out of line so that each
/// step stays a call.
#[inline(never)]
fn step(value: u64) -> u64 {
    value.wrapping_add(1)
}

bindings::export!(Relay with_types_in bindings);
