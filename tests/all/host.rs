//! The host: each grant works and each missing grant is refused, faults
//! name the component and function, limits stop hostile guests, and the
//! host carries on with a fresh instance.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use nanoproc_host::cache::{Cache, Outcome};
use nanoproc_host::{App, Cause, Fault, Options, Runtime};
use nanoproc_linker::Limits;
use nanoproc_tests::{compose_manifest, engine, runtime};

/// The app composed from the manifest at `path` (relative to the project
/// root, or absolute), loaded with `options`.
fn load(path: &Path, options: Options) -> App {
    let composition = compose_manifest(path.to_str().unwrap())
        .unwrap_or_else(|e| panic!("{} does not compose: {e}", path.display()));
    runtime().load(&composition.bytes, options).unwrap()
}

fn limited(limits: Limits) -> Options {
    Options {
        limits,
        ..Options::default()
    }
}

/// The relay wired to the hostile component.
fn relay(limits: Limits) -> App {
    load(Path::new("tests/apps/relay/nanoproc.toml"), limited(limits))
}

/// The hostile component alone, with the limits of its manifest.
fn hostile(limits: Limits) -> App {
    load(
        Path::new("tests/apps/hostile/nanoproc.toml"),
        limited(limits),
    )
}

fn fault(error: anyhow::Error) -> Fault {
    match error.downcast::<Fault>() {
        Ok(fault) => fault,
        Err(other) => panic!("not a fault: {other:#}"),
    }
}

#[test]
fn a_trap_in_a_callee_names_the_callee_and_the_next_call_gets_a_fresh_instance() {
    let app = relay(Limits::default());
    let mut instance = app.instantiate().unwrap();
    let error = instance
        .call::<(String,), ()>("fail-there", ("boom".into(),))
        .unwrap_err();
    let fault = fault(error);
    assert_eq!(fault.component.as_deref(), Some("hostile"));
    assert_eq!(
        fault.function.as_deref(),
        Some("nanoproc:hostile/attacks@0.1.0#fail")
    );
    assert_eq!(fault.call, "nanoproc:hostile/forward@0.1.0#fail-there");
    assert!(matches!(
        fault.cause,
        Cause::Trap(wasmtime::Trap::UnreachableCodeReached)
    ));
    assert_eq!(
        fault.to_string(),
        "component `hostile` trapped in `nanoproc:hostile/attacks@0.1.0#fail` \
         (innermost frame `__rustc::rust_panic`) during the call to \
         `nanoproc:hostile/forward@0.1.0#fail-there`: wasm trap: wasm `unreachable` instruction executed"
    );
    let (echo,): (String,) = instance
        .call("echo-there", ("still here".to_string(),))
        .unwrap();
    assert_eq!(echo, "still here");
}

#[test]
fn a_trap_in_the_caller_names_the_caller() {
    let mut instance = relay(Limits::default()).instantiate().unwrap();
    let fault = fault(
        instance
            .call::<(String,), ()>("fail-here", ("boom".into(),))
            .unwrap_err(),
    );
    assert_eq!(fault.component.as_deref(), Some("relay"));
    assert_eq!(
        fault.function.as_deref(),
        Some("nanoproc:hostile/forward@0.1.0#fail-here")
    );
}

#[test]
fn the_deadline_stops_an_endless_loop() {
    let app = relay(Limits {
        timeout_ms: Some(100),
        ..Limits::default()
    });
    let mut instance = app.instantiate().unwrap();
    let started = Instant::now();
    let fault = fault(instance.call::<(), ()>("spin-there", ()).unwrap_err());
    let took = started.elapsed();
    assert_eq!(fault.cause, Cause::Deadline(Duration::from_millis(100)));
    assert_eq!(fault.component.as_deref(), Some("hostile"));
    assert_eq!(
        fault.function.as_deref(),
        Some("nanoproc:hostile/attacks@0.1.0#spin")
    );
    assert!(took >= Duration::from_millis(100), "stopped after {took:?}");
    assert!(
        fault
            .to_string()
            .starts_with("component `hostile` ran past the deadline of 100ms in `nanoproc:hostile/attacks@0.1.0#spin`"),
        "{fault}"
    );
    // The deadline is per call: the next one has all of its time again.
    let (echo,): (String,) = instance.call("echo-there", ("after".to_string(),)).unwrap();
    assert_eq!(echo, "after");
}

#[test]
fn the_memory_cap_stops_a_memory_bomb() {
    // The manifest limits the app to 32 MiB.
    let app = hostile(Limits::default());
    assert_eq!(app.limits().memory, Some(32 << 20));
    let mut instance = app.instantiate().unwrap();
    let fault = fault(
        instance
            .call::<(u32,), (u64,)>("hoard", (1024,))
            .unwrap_err(),
    );
    let Cause::Memory(exceeded) = &fault.cause else {
        panic!("not a memory fault: {fault}");
    };
    assert_eq!(exceeded.limit, 32 << 20);
    assert!(exceeded.used <= 32 << 20);
    assert_eq!(fault.component.as_deref(), Some("hostile"));
    assert_eq!(
        fault.function.as_deref(),
        Some("nanoproc:hostile/attacks@0.1.0#hoard")
    );
    let (held,): (u64,) = instance.call("hoard", (4u32,)).unwrap();
    assert_eq!(held, 4 << 20);
}

#[test]
fn a_huge_return_value_is_stopped_by_the_memory_cap_and_a_large_one_arrives_whole() {
    let mut instance = hostile(Limits::default()).instantiate().unwrap();
    let fault = fault(
        instance
            .call::<(u64,), (Vec<u8>,)>("flood", (64 << 20,))
            .unwrap_err(),
    );
    assert!(matches!(fault.cause, Cause::Memory(_)), "{fault}");
    let (bytes,): (Vec<u8>,) = instance.call("flood", (8u64 << 20,)).unwrap();
    assert_eq!(bytes.len(), 8 << 20);
    assert!(bytes.iter().all(|&b| b == 0x5a));
}

#[test]
fn deep_recursion_overflows_the_stack_cleanly() {
    let mut instance = hostile(Limits::default()).instantiate().unwrap();
    let fault = fault(
        instance
            .call::<(u64,), (u64,)>("recurse", (u64::MAX,))
            .unwrap_err(),
    );
    assert_eq!(fault.cause, Cause::StackOverflow);
    assert_eq!(fault.component.as_deref(), Some("hostile"));
    let (depth,): (u64,) = instance.call("recurse", (1000u64,)).unwrap();
    assert_eq!(depth, 1000);
}

#[test]
fn an_instance_limit_refuses_instantiation() {
    let app = relay(Limits {
        instances: Some(1),
        ..Limits::default()
    });
    let error = app.instantiate().map(|_| ()).unwrap_err();
    let fault = fault(error);
    assert_eq!(fault.call, "instantiation");
    let Cause::Other(message) = &fault.cause else {
        panic!("{fault}");
    };
    assert!(message.contains("instance"), "{message}");
}

#[test]
fn a_table_limit_refuses_instantiation() {
    let error = relay(Limits {
        tables: Some(0),
        ..Limits::default()
    })
    .instantiate()
    .map(|_| ())
    .unwrap_err();
    let fault = fault(error);
    assert!(matches!(fault.cause, Cause::Other(_)), "{fault}");
    assert!(fault.to_string().contains("table"), "{fault}");
}

#[test]
fn wave_calls_take_and_give_wave() {
    let mut instance = relay(Limits::default()).instantiate().unwrap();
    assert_eq!(
        instance
            .call_wave(r#"echo-there("a \"quoted\" word")"#)
            .unwrap(),
        r#""a \"quoted\" word""#
    );
    assert_eq!(
        instance
            .call_wave(r#"nanoproc:hostile/forward.echo-there@0.1.0("x")"#)
            .unwrap(),
        r#""x""#
    );
    assert_eq!(instance.call_wave("forward.step-there(3)").unwrap(), "3");
    let error = instance.call_wave("echo-there(42)").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("the arguments of `echo-there(42)` do not fit `echo-there(text: string)`"),
        "{error}"
    );
    let error = instance.call_wave("nothing()").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the app exports no function `nothing`; it exports: \
         nanoproc:hostile/forward@0.1.0#fail-there, nanoproc:hostile/forward@0.1.0#fail-here, \
         nanoproc:hostile/forward@0.1.0#echo-there, nanoproc:hostile/forward@0.1.0#spin-there, \
         nanoproc:hostile/forward@0.1.0#step-there, nanoproc:hostile/forward@0.1.0#step-here"
    );
}

#[test]
fn a_second_load_is_a_cache_hit_and_skips_compilation() {
    let dir = tempfile::tempdir().unwrap();
    let composition = compose_manifest("tests/apps/relay/nanoproc.toml").unwrap();
    let runtime = Runtime::with_engine(engine().clone())
        .unwrap()
        .with_cache(Some(Cache::new(dir.path())));
    let started = Instant::now();
    let first = runtime
        .load(&composition.bytes, Options::default())
        .unwrap();
    let compiling = started.elapsed();
    assert_eq!(first.outcome(), &Outcome::Compiled);
    let started = Instant::now();
    let second = runtime
        .load(&composition.bytes, Options::default())
        .unwrap();
    let loading = started.elapsed();
    assert_eq!(second.outcome(), &Outcome::Hit);
    let (echo,): (String,) = second
        .instantiate()
        .unwrap()
        .call("echo-there", ("cached".to_string(),))
        .unwrap();
    assert_eq!(echo, "cached");
    eprintln!("compiled in {compiling:?}, loaded from the cache in {loading:?}");
}

/// A folder with a granted directory `data` (a file, and a symlink to a
/// secret outside it) and the secret beside it.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/public.txt"), "public").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("../secret.txt", dir.path().join("data/link.txt")).unwrap();
        Self { dir }
    }

    /// The prober app, composed from a manifest written into the folder:
    /// granted `data` read-only as `/data`, the variable `CARGO_PKG_NAME`
    /// and no host to connect to, unless `grants` (TOML) says otherwise.
    fn prober(&self, grants: &str) -> App {
        let mut all: Vec<String> = [grants.to_string()]
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect();
        for (key, default) in [
            ("dirs", r#"dirs = [{ host = "data", guest = "/data" }]"#),
            ("env", r#"env = ["CARGO_PKG_NAME"]"#),
            ("network", r#"network = ["127.0.0.1:1"]"#),
        ] {
            if !grants.contains(key) {
                all.push(default.to_string());
            }
        }
        let grants = all.join(", ");
        let manifest = self.dir.path().join("nanoproc.toml");
        std::fs::write(
            &manifest,
            format!(
                "[app]\nname = \"probe\"\nexport = [\"prober\"]\n\n\
                 [components.prober]\nguest = \"prober\"\ngrants = {{ {grants} }}\n"
            ),
        )
        .unwrap();
        load(
            &manifest,
            Options {
                base_dir: self.dir.path().to_path_buf(),
                ..Options::default()
            },
        )
    }
}

fn read(app: &App, dir: &str, path: &str) -> Result<String, String> {
    let (result,): (Result<String, String>,) = app
        .instantiate()
        .unwrap()
        .call("read", (dir.to_string(), path.to_string()))
        .unwrap();
    result
}

#[test]
fn a_granted_directory_gives_its_files_and_nothing_outside_it() {
    let files = Files::new();
    let app = files.prober("");
    let (dirs,): (Vec<String>,) = app.instantiate().unwrap().call("directories", ()).unwrap();
    assert_eq!(dirs, ["/data"]);
    assert_eq!(read(&app, "/data", "public.txt"), Ok("public".into()));
    // `..` out of the directory.
    assert_eq!(
        read(&app, "/data", "../secret.txt"),
        Err("not-permitted".into())
    );
    // A symlink inside pointing out of it.
    assert_eq!(read(&app, "/data", "link.txt"), Err("not-permitted".into()));
    // An absolute path.
    assert_eq!(
        read(&app, "/data", "/etc/passwd"),
        Err("not-permitted".into())
    );
    // A directory that was not granted.
    assert_eq!(
        read(&app, "/", "etc/passwd"),
        Err("no directory `/` was given".into())
    );
}

#[test]
fn a_read_only_directory_refuses_writes_and_a_read_write_one_takes_them() {
    let files = Files::new();
    let write = |app: &App| {
        let (result,): (Result<(), String>,) = app
            .instantiate()
            .unwrap()
            .call(
                "write",
                (
                    "/data".to_string(),
                    "new.txt".to_string(),
                    "hello".to_string(),
                ),
            )
            .unwrap();
        result
    };
    let read_only = files.prober("");
    assert_eq!(write(&read_only), Err("not-permitted".into()));
    assert!(!files.dir.path().join("data/new.txt").exists());
    let read_write =
        files.prober(r#"dirs = [{ host = "data", guest = "/data", mode = "read-write" }]"#);
    assert_eq!(write(&read_write), Ok(()));
    assert_eq!(
        std::fs::read_to_string(files.dir.path().join("data/new.txt")).unwrap(),
        "hello"
    );
}

#[test]
fn only_the_environment_variables_on_the_list_are_seen() {
    // Cargo sets both for every test process it runs.
    let allowed = std::env::var("CARGO_PKG_NAME").unwrap();
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok());
    let files = Files::new();
    let app = files.prober(r#"env = ["CARGO_PKG_NAME"]"#);
    let env = |name: &str| {
        let (value,): (Option<String>,) = app
            .instantiate()
            .unwrap()
            .call("env", (name.to_string(),))
            .unwrap();
        value
    };
    assert_eq!(env("CARGO_PKG_NAME"), Some(allowed));
    assert_eq!(env("CARGO_MANIFEST_DIR"), None);
}

#[test]
fn an_arguments_grant_gives_no_variables() {
    let files = Files::new();
    let app = files.prober("args = true, env = []");
    let (value,): (Option<String>,) = app
        .instantiate()
        .unwrap()
        .call("env", ("CARGO_PKG_NAME".to_string(),))
        .unwrap();
    assert_eq!(value, None);
}

#[test]
fn only_the_hosts_on_the_list_can_be_reached() {
    let granted = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let granted = granted.local_addr().unwrap();
    let other = other.local_addr().unwrap();
    let files = Files::new();
    let app = files.prober(&format!(r#"network = ["{granted}"]"#));
    let connect = |address: std::net::SocketAddr| {
        let (result,): (Result<(), String>,) = app
            .instantiate()
            .unwrap()
            .call("connect", (address.to_string(),))
            .unwrap();
        result
    };
    assert_eq!(connect(granted), Ok(()));
    assert_eq!(connect(other), Err("access-denied".into()));
}
