//! Typed calls into components on the async component model, through the
//! handles `nanoproc_host::sandbox!` makes for worlds with async functions,
//! streams and futures: a `stream<u8>` passed in as bytes and a `future`
//! or `stream` given back as its value, each answer compared with the same
//! crate called natively; the blocking method and its `_async` twin; and
//! faults and deadlines on the hostile-async component (a trap during the
//! call, a trap in a task after the call returned, an endless loop), each
//! followed by a correct call on a fresh instance.

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use nanoproc_host::{Cause, Fault};
use sha2::Digest as _;

use crate::typed::{built, sample};

mod hash_stream {
    nanoproc_host::sandbox!({
        path: "../wit/hash-stream",
        world: "nanoproc:hash-stream/hash-stream",
        component: "../target/components/hash-stream.wasm",
    });
}

mod gzip_stream {
    nanoproc_host::sandbox!({
        path: "../wit/gzip-stream",
        world: "nanoproc:gzip-stream/gzip-stream",
        component: "../target/components/gzip-stream.wasm",
    });
}

mod hostile_async {
    nanoproc_host::sandbox!({
        path: "../wit/hostile-async",
        world: "nanoproc:hostile-async/hostile-async",
        component: "../target/components/hostile-async.wasm",
    });
}

/// The interface of the hostile-async component's attacks.
const ATTACKS: &str = "nanoproc:hostile-async/attacks@0.1.0";

#[test]
fn a_stream_in_and_a_future_out_digest_as_sha2_does_natively() {
    let hasher = hash_stream::HashStream::new().unwrap();
    for data in [Vec::new(), b"abc".to_vec(), sample(1 << 20, 7)] {
        let summary = hasher.digest(data.clone()).unwrap();
        assert_eq!(summary.length, data.len() as u64);
        assert_eq!(summary.digest, sha2::Sha256::digest(&data).to_vec());
    }
    // The instance was reused between the calls.
    assert_eq!(hasher.sandbox().idle_instances(), 1);
}

#[test]
fn the_async_twin_awaits_on_a_tokio_runtime_and_calls_run_side_by_side() {
    let hasher = hash_stream::HashStream::new().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let inputs: Vec<Vec<u8>> = (0..8).map(|seed| sample(100_000, seed)).collect();
    let summaries = runtime.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for (i, data) in inputs.iter().enumerate() {
            let (hasher, data) = (hasher.clone(), data.clone());
            calls.spawn(async move { (i, hasher.digest_async(data).await) });
        }
        let mut summaries = calls.join_all().await;
        summaries.sort_by_key(|(i, _)| *i);
        summaries
    });
    assert_eq!(summaries.len(), inputs.len());
    for (data, (_, summary)) in inputs.iter().zip(summaries) {
        let summary = summary.unwrap();
        assert_eq!(summary.length, data.len() as u64);
        assert_eq!(summary.digest, sha2::Sha256::digest(data).to_vec());
    }
}

/// `data` gzip-compressed by flate2 natively.
fn native_gzip(data: &[u8], level: u8) -> Vec<u8> {
    let level = flate2::Compression::new(u32::from(level.min(9)));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// `gzip` decompressed by flate2 natively.
fn native_gunzip(gzip: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gzip)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn streams_in_and_out_gzip_as_flate2_does_natively() {
    let gzip = gzip_stream::GzipStream::new().unwrap();
    for data in [Vec::new(), b"a".to_vec(), sample(300_000, 3)] {
        for level in [0u8, 6, 9] {
            let compressed = gzip.compress(data.clone(), level).unwrap();
            assert_eq!(native_gunzip(&compressed), data, "level {level}");
            let (out, end) = gzip.decompress(native_gzip(&data, level)).unwrap();
            assert_eq!((out, end), (data.clone(), Ok(())), "level {level}");
        }
    }
    let good = native_gzip(&sample(10_000, 4), 6);
    let (_, end) = gzip.decompress(good[..good.len() / 2].to_vec()).unwrap();
    let reason = end.unwrap_err();
    assert!(!reason.is_empty());
    let (out, end) = gzip.decompress(b"plain text, not gzip".to_vec()).unwrap();
    assert_eq!(out, b"");
    assert!(end.is_err());
}

#[test]
fn an_async_call_that_traps_is_a_fault_and_the_next_call_gets_a_fresh_instance() {
    let hostile = hostile_async::HostileAsync::new().unwrap();
    assert_eq!(hostile.remember("before".into()).unwrap(), None);
    assert_eq!(
        hostile.remember("kept".into()).unwrap(),
        Some("before".into())
    );
    let fault: Fault = hostile.fail("boom".into()).unwrap_err();
    assert_eq!(
        fault.cause,
        Cause::Trap(wasmtime::Trap::UnreachableCodeReached)
    );
    assert_eq!(fault.call, format!("{ATTACKS}#fail"));
    assert_eq!(fault.component.as_deref(), Some("hostile-async"));
    assert_eq!(hostile.sandbox().idle_instances(), 0);
    assert_eq!(hostile.remember("after".into()).unwrap(), None);
}

#[test]
fn a_trap_in_a_task_after_the_call_returned_is_a_fault_of_that_call() {
    let hostile = hostile_async::HostileAsync::new().unwrap();
    assert_eq!(hostile.remember("before".into()).unwrap(), None);
    let fault = hostile.fail_later("late".into()).unwrap_err();
    assert_eq!(
        fault.cause,
        Cause::Trap(wasmtime::Trap::UnreachableCodeReached)
    );
    assert_eq!(fault.call, format!("{ATTACKS}#fail-later"));
    assert_eq!(hostile.remember("after".into()).unwrap(), None);
}

#[test]
fn a_deadline_stops_an_endless_async_loop() {
    let hostile = hostile_async::HostileAsync::builder()
        .deadline(Duration::from_millis(100))
        .load(built("hostile-async"))
        .unwrap();
    // Something kept in the instance the call will run in.
    hostile.remember("before".into()).unwrap();
    let started = Instant::now();
    let fault = hostile.spin().unwrap_err();
    let took = started.elapsed();
    assert_eq!(fault.cause, Cause::Deadline(Duration::from_millis(100)));
    assert_eq!(fault.call, format!("{ATTACKS}#spin"));
    // Stopped by the epoch deadline, in its own code.
    assert_eq!(fault.function, Some(format!("{ATTACKS}#spin")));
    assert!(
        fault.to_string().starts_with(&format!(
            "component `hostile-async` ran past the deadline of 100ms in \
             `{ATTACKS}#spin` (innermost frame `"
        )),
        "{fault}"
    );
    assert!(
        fault
            .to_string()
            .ends_with(&format!("during the call to `{ATTACKS}#spin`")),
        "{fault}"
    );
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A fresh instance, with the whole deadline again.
    assert_eq!(hostile.remember("after".into()).unwrap(), None);
}

#[test]
fn a_handle_of_a_sync_world_refuses_a_component_on_the_async_component_model() {
    let path = built("hash-stream");
    let error = crate::typed::hash::Hash::load(&path).err().unwrap();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot load the component {}: the component uses the async component model \
             (async functions, streams, futures or WASI 0.3), but the world `hash` exports \
             no async function, stream or future, and its handle calls it synchronously, \
             which this host cannot do for such a component",
            path.display()
        )
    );
}

#[test]
fn a_call_in_wave_reaches_an_async_export_but_not_a_stream_or_future() {
    let bytes = std::fs::read(built("hostile-async")).unwrap();
    let app = load(&bytes);
    let mut instance = app.instantiate().unwrap();
    assert_eq!(instance.call_wave(r#"remember("kept")"#).unwrap(), "none");
    assert_eq!(
        instance.call_wave(r#"remember("again")"#).unwrap(),
        r#"some("kept")"#
    );
    assert_eq!(
        instance
            .call_wave("wait-forever()")
            .unwrap_err()
            .to_string(),
        format!(
            "`{ATTACKS}#wait-forever` returns a future, which a call written in WAVE cannot \
             read; call it through a `sandbox!` handle or from a component"
        )
    );
    let bytes = std::fs::read(built("hash-stream")).unwrap();
    let app = load(&bytes);
    let error = app
        .instantiate()
        .unwrap()
        .call_wave("digest([])")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`nanoproc:hash-stream/sha256@0.1.0#digest` takes a stream, which a call written in \
         WAVE cannot make; call it through a `sandbox!` handle or from a component"
    );
}

/// wasmtime 48 keeps an entry for each async call between components that
/// returned at once until the instance is dropped, and a million of them
/// fill the instance's table: the call fails saying so, not with
/// wasmtime's bare `resource table has no free keys`, and a fresh
/// instance makes such calls again.
#[test]
fn a_million_async_calls_between_components_fill_the_instance_and_say_so() {
    let composition = nanoproc_tests::compose_manifest("guests/async-caller/nanoproc.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    let app = load(&composition.bytes);
    let error = app
        .instantiate()
        .unwrap()
        .call::<(u32,), (u64,)>("step-there", (1_000_000,))
        .unwrap_err();
    let step = "nanoproc:bench/async-caller@0.1.0#step-there";
    assert_eq!(
        error.to_string(),
        format!(
            "component `async-caller` failed in `{step}` during the call to `{step}`: the \
             instance's table of resources, streams, futures and async calls is full (a \
             million entries). wasmtime 48 keeps an entry for every async call between \
             components that returned at once until the instance is dropped, so a component \
             making a million of them fills it; a fresh instance starts empty"
        )
    );
    let mut fresh = app.instantiate().unwrap();
    assert_eq!(
        fresh.call::<(u32,), (u64,)>("step-there", (1000,)).unwrap(),
        (1000,)
    );
}

/// A component whose async runtime breaks a rule of the async ABI wasmtime
/// 48 implements: it joins a stream to a waitable set, then reads it
/// synchronously. The trap says what the component did and why.
const SYNC_READ_IN_A_SET: &str = r#"(component
  (type $s (stream u8))
  (core module $libc (memory (export "m") 1))
  (core instance $libc (instantiate $libc))
  (core func $new (canon stream.new $s))
  (core func $read (canon stream.read $s (memory (core memory $libc "m"))))
  (core func $set (canon waitable-set.new))
  (core func $join (canon waitable.join))
  (core func $return (canon task.return))
  (core module $m
    (import "" "new" (func $new (result i64)))
    (import "" "read" (func $read (param i32 i32 i32) (result i32)))
    (import "" "set" (func $set (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "return" (func $return))
    (func (export "run")
      (local $readable i32)
      (local.set $readable (i32.wrap_i64 (call $new)))
      (call $join (local.get $readable) (call $set))
      (drop (call $read (local.get $readable) (i32.const 0) (i32.const 1)))
      (call $return)))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "read" (func $read)) (export "set" (func $set))
    (export "join" (func $join)) (export "return" (func $return))))))
  (func (export "run") async (canon lift (core func $i "run") async))
)"#;

#[test]
fn a_component_built_for_another_revision_of_the_async_abi_is_told_so() {
    let bytes = wat::parse_str(SYNC_READ_IN_A_SET).unwrap();
    let app = load(&bytes);
    let error = app
        .instantiate()
        .unwrap()
        .call::<(), ()>("run", ())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "component `m` trapped during the call to `run`: wasm trap: waitable cannot be used \
         synchronously while added to a waitable set; the component waited synchronously on \
         a stream, future or call it also watches in a waitable set, which the async ABI \
         wasmtime 48 implements forbids (component-model PR #647). Its toolchain's async \
         runtime was written for another revision of that ABI: rebuild it with a toolchain \
         that targets WASI 0.3.0"
    );
}

/// The app `bytes` make, loaded with default options.
fn load(bytes: &[u8]) -> nanoproc_host::App {
    nanoproc_tests::runtime()
        .load(bytes, nanoproc_host::Options::default())
        .unwrap()
}

#[test]
fn a_deadline_ends_a_call_waiting_for_a_future_that_never_comes() {
    let hostile = hostile_async::HostileAsync::builder()
        .deadline(Duration::from_millis(100))
        .load(built("hostile-async"))
        .unwrap();
    hostile.remember("before".into()).unwrap();
    let started = Instant::now();
    // The component runs no code while it waits: the epoch deadline never
    // fires, the host's timer does.
    let fault = hostile.wait_forever().unwrap_err();
    let took = started.elapsed();
    assert_eq!(fault.cause, Cause::Deadline(Duration::from_millis(100)));
    assert_eq!(
        fault.to_string(),
        format!(
            "component `hostile-async` ran past the deadline of 100ms \
             during the call to `{ATTACKS}#wait-forever`"
        )
    );
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(hostile.remember("after".into()).unwrap(), None);
}
