//! The host: each grant works and each missing grant is refused, each
//! refusal is reported naming the component, faults name the component and
//! function, limits stop hostile guests, and the host carries on with a
//! fresh instance.

use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use nanoproc_host::cache::{Cache, Outcome};
use nanoproc_host::{Answer, App, Cause, Fault, LoadError, Options, Refusal, Refusals, Runtime};
use nanoproc_linker::{Capability, GrantsError, Limits, Manifest, compose};
use nanoproc_tests::{compose_manifest, engine, runtime};

/// The app composed from the manifest at `path` (relative to the project
/// root, or absolute), loaded with `options`.
pub(crate) fn load(path: &Path, options: Options) -> App {
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

/// The fault a failed call ended with.
pub(crate) fn fault(error: anyhow::Error) -> Fault {
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
        error.to_string().starts_with(
            "the arguments of `echo-there(42)` do not fit \
             `nanoproc:hostile/forward@0.1.0#echo-there(text: string)`"
        ),
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
fn a_call_names_a_function_as_the_component_model_and_errors_write_it() {
    let bytes =
        wat::parse_file(nanoproc_tests::project_root().join("tests/apps/adder/adder.wat")).unwrap();
    let app = runtime().load(&bytes, Options::default()).unwrap();
    let mut instance = app.instantiate().unwrap();
    let mut call = |call: &str| instance.call_wave(call).map_err(|e| e.to_string());
    // A full name means the function it names, however many others share
    // its last part.
    assert_eq!(call("add(1, 2)"), Ok("3".into()));
    assert_eq!(call("docs:adder/add@0.1.0#add(1, 2)"), Ok("103".into()));
    assert_eq!(call("docs:adder/add#add(1, 2)"), Ok("103".into()));
    assert_eq!(call("docs:adder/add.add@0.1.0(1, 2)"), Ok("103".into()));
    assert_eq!(call(" add ( 1, 2 ) "), Ok("3".into()));
    // Static functions of resources, in full or alone.
    assert_eq!(
        call("docs:adder/add@0.1.0#[static]scalars.get-a()"),
        Ok("7".into())
    );
    assert_eq!(call("[static]scalars.get-a()"), Ok("7".into()));
    // What one call cannot do, with the reason.
    assert_eq!(
        call("docs:adder/add@0.1.0#[method]scalars.get-b()"),
        Err(
            "`docs:adder/add@0.1.0#[method]scalars.get-b` is a method of the resource `scalars`: \
             it needs a `scalars` made by an earlier call (its constructor's), which one call \
             cannot make and pass on"
                .into()
        )
    );
    assert_eq!(
        call("docs:adder/add#add(1, ])"),
        Err(
            "cannot parse the arguments of `docs:adder/add#add(1, ])`: unexpected token: BracketClose at 22..23"
                .into()
        )
    );
    assert_eq!(
        call("docs:adder/add#add(1)"),
        Err("the arguments of `docs:adder/add#add(1)` do not fit \
             `docs:adder/add@0.1.0#add(a: u32, b: u32)`: invalid params: missing required param(s) \
             at 20..21"
            .into())
    );
    assert_eq!(
        call("docs:adder/add#add"),
        Err(
            "cannot parse the call `docs:adder/add#add`: it has no arguments in parentheses; \
             write `function(arguments)`, such as `render(\"# hi\")` or `docs:adder/add#add(1, 2)`"
                .into()
        )
    );
    assert_eq!(
        call("(1)"),
        Err("cannot parse the call `(1)`: it names no function before `(`".into())
    );
    assert_eq!(
        call("sub(1, 2)"),
        Err("the app exports no function `sub`; it exports: docs:adder/add@0.1.0#add, \
             docs:adder/add@0.1.0#[constructor]scalars, docs:adder/add@0.1.0#[static]scalars.get-a, \
             docs:adder/add@0.1.0#[method]scalars.get-b, add"
            .into())
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

/// The refusals reported by the apps loaded with [`Refused::options`].
#[derive(Clone, Default)]
pub(crate) struct Refused(Arc<Mutex<Vec<Refusal>>>);

impl Refused {
    pub(crate) fn options(&self, base_dir: &Path) -> Options {
        let log = self.0.clone();
        Options {
            base_dir: base_dir.to_path_buf(),
            refusals: Refusals::Report(Arc::new(move |refusal| {
                log.lock().unwrap().push(refusal.clone());
            })),
            ..Options::default()
        }
    }

    /// The refusals reported since the last call, as their lines.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}

/// Runs `f` until the host's environment is the same before and after it,
/// since another test may set a variable meanwhile.
fn with_steady_environment<T>(mut f: impl FnMut() -> T) -> T {
    loop {
        let before: Vec<_> = std::env::vars_os().collect();
        let result = f();
        if std::env::vars_os().eq(before) {
            return result;
        }
    }
}

/// The refusal reported when `who` (as the line names it) reads an
/// environment that grants it the variables `granted`.
fn environment_refusal(who: &str, granted: &[&str]) -> String {
    let mut withheld: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .filter(|name| !granted.contains(&name.as_str()))
        .collect();
    withheld.sort();
    assert!(withheld.len() > 1, "the test runs with a few variables set");
    format!(
        "refused {who} {} of the host's environment variables, such as `{}`: \
         not in its environment grant (left out, no error)",
        withheld.len(),
        withheld[0]
    )
}

/// A folder with a granted directory `data` (a file, a subdirectory, a
/// symlink to a secret outside it and one to the folder) and the secret
/// beside it.
struct Files {
    dir: tempfile::TempDir,
    /// What the host refused the apps loaded from it.
    refused: Refused,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/public.txt"), "public").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("../secret.txt", dir.path().join("data/link.txt")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("data/up")).unwrap();
        std::fs::create_dir(dir.path().join("data/sub")).unwrap();
        Self {
            dir,
            refused: Refused::default(),
        }
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
        load(&manifest, self.refused.options(self.dir.path()))
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

/// The refusal of opening `path` in a granted directory to `who`.
fn opening(who: &str, path: &str) -> String {
    format!(
        "refused {who} opening `{path}` in a granted directory: \
         not in its filesystem grant (not-permitted)"
    )
}

#[test]
fn a_granted_directory_gives_its_files_and_nothing_outside_it() {
    let files = Files::new();
    let app = files.prober("");
    let (dirs,): (Vec<String>,) = app.instantiate().unwrap().call("directories", ()).unwrap();
    assert_eq!(dirs, ["/data"]);
    assert_eq!(read(&app, "/data", "public.txt"), Ok("public".into()));
    assert_eq!(files.refused.take(), [""; 0]);
    // `..` out of the directory.
    assert_eq!(
        read(&app, "/data", "../secret.txt"),
        Err("not-permitted".into())
    );
    assert_eq!(files.refused.take(), [opening("`prober`", "../secret.txt")]);
    // A symlink inside pointing out of it.
    assert_eq!(read(&app, "/data", "link.txt"), Err("not-permitted".into()));
    assert_eq!(files.refused.take(), [opening("`prober`", "link.txt")]);
    // Through a symlink to the directory above, and down then up again.
    for path in ["up/secret.txt", "sub/../../secret.txt", "sub/../link.txt"] {
        assert_eq!(read(&app, "/data", path), Err("not-permitted".into()));
        assert_eq!(files.refused.take(), [opening("`prober`", path)]);
    }
    assert_eq!(
        read(&app, "/data", "sub/../public.txt"),
        Ok("public".into())
    );
    // An absolute path.
    assert_eq!(
        read(&app, "/data", "/etc/passwd"),
        Err("not-permitted".into())
    );
    assert_eq!(files.refused.take(), [opening("`prober`", "/etc/passwd")]);
    // A directory that was not granted: the guest finds no such preopen,
    // and the host is asked nothing it could refuse.
    assert_eq!(
        read(&app, "/", "etc/passwd"),
        Err("no directory `/` was given".into())
    );
    assert_eq!(files.refused.take(), [""; 0]);
}

#[test]
fn a_refusal_says_who_what_which_grant_and_the_answer() {
    let files = Files::new();
    let app = files.prober("");
    assert_eq!(
        read(&app, "/data", "../secret.txt"),
        Err("not-permitted".into())
    );
    let refusals = std::mem::take(&mut *files.refused.0.lock().unwrap());
    assert_eq!(
        refusals,
        [Refusal {
            components: vec!["prober".into()],
            capability: Capability::Dirs,
            attempt: "opening `../secret.txt` in a granted directory".into(),
            answer: Answer::Error("not-permitted"),
        }]
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
    assert_eq!(
        files.refused.take(),
        [
            "refused `prober` opening `new.txt` for writing in a granted directory: \
          not in its filesystem grant (not-permitted)"
        ]
    );
    let read_write =
        files.prober(r#"dirs = [{ host = "data", guest = "/data", mode = "read-write" }]"#);
    assert_eq!(write(&read_write), Ok(()));
    assert_eq!(
        std::fs::read_to_string(files.dir.path().join("data/new.txt")).unwrap(),
        "hello"
    );
    assert_eq!(files.refused.take(), [""; 0]);
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
    let refusal = || environment_refusal("`prober`", &["CARGO_PKG_NAME"]);
    with_steady_environment(|| {
        assert_eq!(env("CARGO_PKG_NAME"), Some(allowed.clone()));
        assert_eq!(files.refused.take(), [refusal()]);
    });
    with_steady_environment(|| {
        assert_eq!(env("CARGO_MANIFEST_DIR"), None);
        assert_eq!(files.refused.take(), [refusal()]);
    });
}

#[test]
fn an_arguments_grant_gives_no_variables() {
    let files = Files::new();
    let app = files.prober("args = true, env = []");
    with_steady_environment(|| {
        let (value,): (Option<String>,) = app
            .instantiate()
            .unwrap()
            .call("env", ("CARGO_PKG_NAME".to_string(),))
            .unwrap();
        assert_eq!(value, None);
        assert_eq!(files.refused.take(), [environment_refusal("`prober`", &[])]);
    });
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
    assert_eq!(files.refused.take(), [""; 0]);
    assert_eq!(connect(other), Err("access-denied".into()));
    assert_eq!(
        files.refused.take(),
        [format!(
            "refused `prober` a TCP connection to {other}: not in its network grant (access-denied)"
        )]
    );
}

/// A component that imports `wasi:cli/environment`,
/// `wasi:filesystem/preopens` and `open-at` of `wasi:filesystem/types`, and
/// exports `test:NAME/probe` with `variables` (how many environment
/// variables it sees), `open(path)` (opens `path` for reading in its first
/// preopened directory) and `open-in(sub, path)` (opens the directory
/// `sub` there, then `path` in it). Opening returns 0 when it opens and
/// 1 + the error code's index when it does not (`not-permitted` is 32);
/// `open-in` adds 100 when `sub` does not open.
fn opener(name: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"
(component
  (import "wasi:cli/environment@0.2.12" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))
  ))
  (import "wasi:filesystem/types@0.2.12" (instance $types
    (export "descriptor" (type (sub resource)))
    (type (flags "symlink-follow"))
    (export "path-flags" (type (eq 1)))
    (type (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type (eq 3)))
    (type (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type (eq 5)))
    (type (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock"
      "quota" "exist" "file-too-large" "illegal-byte-sequence" "in-progress"
      "interrupted" "invalid" "io" "is-directory" "loop" "too-many-links"
      "message-size" "name-too-long" "no-device" "no-entry" "no-lock"
      "insufficient-memory" "insufficient-space" "not-directory" "not-empty"
      "not-recoverable" "unsupported" "no-tty" "no-such-device" "overflow"
      "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy"
      "cross-device"))
    (export "error-code" (type (eq 7)))
    (type (borrow 0))
    (type (own 0))
    (type (result 10 (error 8)))
    (export "[method]descriptor.open-at" (func
      (param "self" 9) (param "path-flags" 2) (param "path" string)
      (param "open-flags" 4) (param "flags" 6) (result 11)))
  ))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.12" (instance $preopens
    (alias outer 1 $descriptor (type))
    (export "descriptor" (type (eq 0)))
    (type (own 1))
    (type (tuple 2 string))
    (type (list 3))
    (export "get-directories" (func (result 4)))
  ))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (alias export $env "get-environment" (func $get-environment))
  (alias export $preopens "get-directories" (func $get-directories))
  (alias export $types "[method]descriptor.open-at" (func $open-at))
  (core func $get-environment (canon lower (func $get-environment)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $get-directories (canon lower (func $get-directories)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $open-at (canon lower (func $open-at) (memory (core memory $libc "memory"))))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "wasi" "get-environment" (func $get-environment (param i32)))
    (import "wasi" "get-directories" (func $get-directories (param i32)))
    (import "wasi" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (func (export "variables") (result i32)
      (call $get-environment (i32.const 16))
      (i32.load (i32.const 20)))
    ;; The handle of the first preopened directory.
    (func $dir (result i32)
      (call $get-directories (i32.const 32))
      (i32.load (i32.load (i32.const 32))))
    ;; Opens the path at `ptr`, `len` in `dir` for reading, with `oflags`;
    ;; the handle it opens is at 52.
    (func $open (param $dir i32) (param $ptr i32) (param $len i32) (param $oflags i32)
      (result i32)
      (call $open-at (local.get $dir) (i32.const 0) (local.get $ptr) (local.get $len)
        (local.get $oflags) (i32.const 1) (i32.const 48))
      (if (result i32) (i32.load8_u (i32.const 48))
        (then (i32.add (i32.const 1) (i32.load8_u (i32.const 52))))
        (else (i32.const 0))))
    (func (export "open") (param i32 i32) (result i32)
      (call $open (call $dir) (local.get 0) (local.get 1) (i32.const 0)))
    (func (export "open-in") (param i32 i32 i32 i32) (result i32)
      (local $opened i32)
      (local.set $opened (call $open (call $dir) (local.get 0) (local.get 1) (i32.const 2)))
      (if (result i32) (local.get $opened)
        (then (i32.add (i32.const 100) (local.get $opened)))
        (else (call $open (i32.load (i32.const 52)) (local.get 2) (local.get 3) (i32.const 0))))))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-environment" (func $get-environment))
      (export "get-directories" (func $get-directories))
      (export "open-at" (func $open-at))))))
  (func $variables (result u32) (canon lift (core func $main "variables")))
  (func $open (param "path" string) (result u32) (canon lift (core func $main "open")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (func $open-in (param "sub" string) (param "path" string) (result u32)
    (canon lift (core func $main "open-in")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (instance $probe
    (export "variables" (func $variables))
    (export "open" (func $open))
    (export "open-in" (func $open-in)))
  (export "test:{name}/probe" (instance $probe))
)
"#
    ))
    .unwrap()
}

/// Two openers, `a` and `b`, granted what the TOML tables `a` and `b` say,
/// in a folder with the directories `one` (holding `sub/inner.txt` and
/// `public.txt`) and `two`, and `secret.txt` beside them.
struct Openers {
    app: App,
    refused: Refused,
    _dir: tempfile::TempDir,
}

impl Openers {
    fn new(a: &str, b: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("one/sub")).unwrap();
        std::fs::create_dir(dir.path().join("two")).unwrap();
        std::fs::write(dir.path().join("one/sub/inner.txt"), "inner").unwrap();
        std::fs::write(dir.path().join("one/public.txt"), "public").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        let manifest = Manifest::parse(
            "nanoproc.toml",
            format!(
                "[app]\nexport = [\"a\", \"b\"]\n\
                 [components.a]\npath = \"a.wasm\"\ngrants = {a}\n\
                 [components.b]\npath = \"b.wasm\"\ngrants = {b}\n"
            ),
        )
        .unwrap();
        let bytes = IndexMap::from([
            ("a".to_string(), opener("a")),
            ("b".to_string(), opener("b")),
        ]);
        let composition = compose(&manifest, &bytes).unwrap();
        let refused = Refused::default();
        let app = runtime()
            .load(&composition.bytes, refused.options(dir.path()))
            .unwrap();
        Self {
            app,
            refused,
            _dir: dir,
        }
    }

    fn open(&self, who: &str, path: &str) -> u32 {
        let (opened,): (u32,) = self
            .app
            .instantiate()
            .unwrap()
            .call(&format!("test:{who}/probe#open"), (path.to_string(),))
            .unwrap();
        opened
    }

    fn open_in(&self, who: &str, sub: &str, path: &str) -> u32 {
        let (opened,): (u32,) = self
            .app
            .instantiate()
            .unwrap()
            .call(
                &format!("test:{who}/probe#open-in"),
                (sub.to_string(), path.to_string()),
            )
            .unwrap();
        opened
    }

    fn variables(&self, who: &str) -> u32 {
        let (count,): (u32,) = self
            .app
            .instantiate()
            .unwrap()
            .call(&format!("test:{who}/probe#variables"), ())
            .unwrap();
        count
    }
}

/// What `open` returns for `not-permitted`.
const NOT_PERMITTED: u32 = 32;

#[test]
fn a_refusal_names_the_component_whose_own_grant_refused_it() {
    let openers = Openers::new(
        r#"{ env = ["CARGO_PKG_NAME"], dirs = [{ host = "one" }] }"#,
        r#"{ env = ["CARGO_MANIFEST_DIR"], dirs = [{ host = "two" }] }"#,
    );
    assert_eq!(openers.open("a", "public.txt"), 0);
    assert_eq!(openers.open("a", "../secret.txt"), NOT_PERMITTED);
    assert_eq!(openers.refused.take(), [opening("`a`", "../secret.txt")]);
    assert_eq!(openers.open("b", "../secret.txt"), NOT_PERMITTED);
    assert_eq!(openers.refused.take(), [opening("`b`", "../secret.txt")]);
    // A descriptor opened from a preopen is held under the same grant;
    // it is a directory of its own, so `..` leaves it.
    assert_eq!(openers.open_in("a", "sub", "inner.txt"), 0);
    assert_eq!(openers.refused.take(), [""; 0]);
    assert_eq!(openers.open_in("a", "sub", "../public.txt"), NOT_PERMITTED);
    assert_eq!(openers.refused.take(), [opening("`a`", "../public.txt")]);
    with_steady_environment(|| {
        assert_eq!(openers.variables("a"), 1);
        assert_eq!(
            openers.refused.take(),
            [environment_refusal("`a`", &["CARGO_PKG_NAME"])]
        );
        assert_eq!(openers.variables("b"), 1);
        assert_eq!(
            openers.refused.take(),
            [environment_refusal("`b`", &["CARGO_MANIFEST_DIR"])]
        );
    });
}

#[test]
fn a_refusal_under_a_grant_several_components_share_names_them_all() {
    let same = r#"{ env = ["CARGO_PKG_NAME"], dirs = [{ host = "one" }] }"#;
    let openers = Openers::new(same, same);
    assert_eq!(openers.open("b", "../secret.txt"), NOT_PERMITTED);
    assert_eq!(
        openers.refused.take(),
        [opening("`a` or `b`", "../secret.txt")]
    );
    assert_eq!(openers.open_in("a", "sub", "/etc/passwd"), NOT_PERMITTED);
    assert_eq!(
        openers.refused.take(),
        [opening("`a` or `b`", "/etc/passwd")]
    );
    with_steady_environment(|| {
        assert_eq!(openers.variables("b"), 1);
        assert_eq!(
            openers.refused.take(),
            [environment_refusal("`a` or `b`", &["CARGO_PKG_NAME"])]
        );
    });
}

#[test]
fn an_app_cut_short_is_refused_before_wasmtime_compiles_it() {
    let bytes = compose_manifest("tests/apps/relay/nanoproc.toml")
        .unwrap()
        .bytes;
    // Cut inside the first section: its header promises more than follows.
    let Err(error) = runtime().load(&bytes[..20], Options::default()) else {
        panic!("an app cut short was loaded");
    };
    let said = format!("{error:#}");
    assert!(
        said.starts_with("the file is cut short, or corrupt: the section at offset 0x8 is "),
        "{said}"
    );
    assert!(runtime().load(&bytes, Options::default()).is_ok());
}

#[test]
fn an_app_of_a_newer_format_is_refused_saying_what_to_do() {
    let mut bytes = compose_manifest("tests/apps/relay/nanoproc.toml")
        .unwrap()
        .bytes;
    // The section as a newer linker would write it: the same length, so
    // the file stays well formed.
    let written = br#"{"format":1,"#;
    let at = bytes
        .windows(written.len())
        .position(|w| w == written)
        .expect("the app carries its format");
    bytes[at..at + written.len()].copy_from_slice(br#"{"format":2,"#);
    let Err(error) = runtime().load(&bytes, Options::default()) else {
        panic!("an app of a newer format was loaded");
    };
    assert!(
        matches!(
            error,
            LoadError::Grants(GrantsError::Newer {
                found: 2,
                supported: 1
            })
        ),
        "{error:?}"
    );
    assert_eq!(
        format!("{error:#}"),
        "the app was composed by a newer nanoproc (app format 2; this host reads format 1): \
         run it with a newer nanoproc, or compose it again with this one"
    );
}
