//! The hostile component: a dependency that misbehaves on request, so that
//! the tests can show the host survives it, and remembers what it was last
//! given, so that they can tell whether two calls shared an instance. Not a
//! library to reuse.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::hint::black_box;
use std::sync::Mutex;

use bindings::exports::nanoproc::hostile::attacks::Guest;
use bindings::exports::nanoproc::hostile::memory::Guest as Memory;

/// What the last call to `remember` kept in this instance.
static KEPT: Mutex<Option<String>> = Mutex::new(None);

struct Hostile;

impl Guest for Hostile {
    fn spin() {
        let mut n = 0u64;
        loop {
            n = black_box(n.wrapping_add(1));
        }
    }

    fn hoard(mebibytes: u32) -> u64 {
        let mut kept = Vec::new();
        for _ in 0..mebibytes {
            // Writing every byte makes the pages real.
            kept.push(black_box(vec![0xa5u8; 1 << 20]));
        }
        black_box(&kept)
            .iter()
            .map(|block| block.len() as u64)
            .sum()
    }

    fn recurse(depth: u64) -> u64 {
        descend(depth)
    }

    fn flood(length: u64) -> Vec<u8> {
        vec![0x5a; usize::try_from(length).unwrap_or(usize::MAX)]
    }

    fn fail(message: String) {
        panic!("{message}");
    }

    fn echo(text: String) -> String {
        text
    }

    fn step(value: u64) -> u64 {
        value.wrapping_add(1)
    }
}

impl Memory for Hostile {
    fn remember(text: String) -> Option<String> {
        // A panic while the lock was held left the value whole.
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        kept.replace(text)
    }
}

/// One wasm stack frame per level: the addition after the call keeps it
/// from becoming a loop.
fn descend(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    1 + descend(black_box(depth - 1))
}

bindings::export!(Hostile with_types_in bindings);
