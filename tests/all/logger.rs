//! The logger component writes through the one capability it imports.

use nanoproc_tests::{WasiHost, component, engine, store};
use wasmtime::component::{ComponentType, Linker, Lower};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// `nanoproc:logger/log.level`, declared by hand: the logger's world names
/// WASI packages, which the tests do not load.
#[derive(ComponentType, Lower, Clone, Copy)]
#[component(enum)]
#[repr(u8)]
enum Level {
    #[component(name = "trace")]
    Trace,
    #[component(name = "debug")]
    Debug,
    #[component(name = "info")]
    Info,
    #[component(name = "warn")]
    Warn,
    #[component(name = "error")]
    Error,
}

/// Calls `log` once for each of `lines` and returns what reached stderr.
fn log(lines: &[(Level, &str, &str)]) -> String {
    let stderr = MemoryOutputPipe::new(usize::MAX);
    let mut store = store(WasiHost::with_stderr(stderr.clone()));
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let instance = linker
        .instantiate(&mut store, &component("logger"))
        .unwrap();
    let interface = instance
        .get_export_index(&mut store, None, "nanoproc:logger/log@0.1.0")
        .unwrap();
    let func = instance
        .get_export_index(&mut store, Some(&interface), "log")
        .unwrap();
    let log = instance
        .get_typed_func::<(Level, &str, &str), ()>(&mut store, func)
        .unwrap();
    for (level, target, message) in lines {
        log.call(&mut store, (*level, target, message)).unwrap();
    }
    drop(store);
    String::from_utf8(stderr.contents().to_vec()).unwrap()
}

#[test]
fn writes_one_line_per_call() {
    let out = log(&[
        (Level::Info, "demo", "rendered 3 pages"),
        (Level::Error, "json", "bad front matter"),
        (Level::Trace, "", "ünïcödé ✓"),
        (Level::Debug, "a", "b"),
        (Level::Warn, "a", "b"),
    ]);
    assert_eq!(
        out,
        "INFO  [demo] rendered 3 pages\n\
         ERROR [json] bad front matter\n\
         TRACE [] ünïcödé ✓\n\
         DEBUG [a] b\n\
         WARN  [a] b\n"
    );
}

#[test]
fn line_breaks_cannot_forge_extra_lines() {
    let out = log(&[(Level::Info, "x\ny", "ok\nERROR [auth] forged\r\n")]);
    assert_eq!(out, "INFO  [x\\ny] ok\\nERROR [auth] forged\\r\\n\n");
}

#[test]
fn long_messages_arrive_whole() {
    let message = "0123456789".repeat(10_000);
    let out = log(&[(Level::Info, "big", &message)]);
    assert_eq!(out, format!("INFO  [big] {message}\n"));
}
