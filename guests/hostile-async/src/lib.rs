//! The hostile-async component: the attacks of `hostile` that matter to a
//! host's async calls, behind `nanoproc:hostile-async/attacks`, each an
//! async function on the async component model.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::cell::RefCell;

use bindings::exports::nanoproc::hostile_async::attacks::Guest;
use wit_bindgen::FutureReader;

thread_local! {
    /// What the last call of `remember` kept in this instance.
    static KEPT: RefCell<Option<String>> = const { RefCell::new(None) };
}

struct HostileAsync;

impl Guest for HostileAsync {
    async fn spin() {
        let mut turns = 0u64;
        loop {
            // Volatile, so that the loop is not optimised into nothing.
            turns = std::hint::black_box(turns.wrapping_add(1));
        }
    }

    async fn fail(message: String) {
        panic!("{message}");
    }

    async fn fail_later(message: String) -> FutureReader<u32> {
        let (writer, reader) = bindings::wit_future::new(|| 0);
        wit_bindgen::spawn_local(async move {
            // Let the call return first.
            wit_bindgen::yield_async().await;
            let _writer = writer;
            panic!("{message}");
        });
        reader
    }

    async fn wait_forever() -> FutureReader<u32> {
        let (writer, reader) = bindings::wit_future::new(|| 0);
        // A future read whose writer the same task keeps: something to wait
        // for (a task waiting for nothing at all traps in wit-bindgen's
        // runtime) that never comes.
        let (never, never_read) = bindings::wit_future::new::<u32>(|| 0);
        wit_bindgen::spawn_local(async move {
            let _writers = (writer, never);
            never_read.await;
        });
        reader
    }

    async fn remember(text: String) -> Option<String> {
        KEPT.with(|kept| kept.borrow_mut().replace(text))
    }
}

bindings::export!(HostileAsync with_types_in bindings);
