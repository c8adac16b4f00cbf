//! The middle component: the B of a call chain A -> B -> C in the tests.
//! It passes each attack on and counts it, so that a test can see its state
//! survive calls and vanish with a fault.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::sync::atomic::{AtomicU32, Ordering};

use bindings::exports::nanoproc::hostile::{attacks::Guest as Attacks, tally::Guest as Tally};
use bindings::nanoproc::hostile::attacks;

/// Attacks passed on by this instance.
static PASSED_ON: AtomicU32 = AtomicU32::new(0);

fn count() {
    PASSED_ON.fetch_add(1, Ordering::Relaxed);
}

struct Middle;

impl Attacks for Middle {
    fn spin() {
        count();
        attacks::spin();
    }

    fn hoard(mebibytes: u32) -> u64 {
        count();
        attacks::hoard(mebibytes)
    }

    fn recurse(depth: u64) -> u64 {
        count();
        attacks::recurse(depth)
    }

    fn flood(length: u64) -> Vec<u8> {
        count();
        attacks::flood(length)
    }

    fn fail(message: String) {
        if message.starts_with("middle:") {
            panic!("{message}");
        }
        count();
        attacks::fail(&message);
    }

    fn echo(text: String) -> String {
        count();
        attacks::echo(&text)
    }

    fn step(value: u64) -> u64 {
        count();
        attacks::step(value)
    }
}

impl Tally for Middle {
    fn passed_on() -> u32 {
        PASSED_ON.load(Ordering::Relaxed)
    }
}

bindings::export!(Middle with_types_in bindings);
