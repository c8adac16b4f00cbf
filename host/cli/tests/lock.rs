//! `nanoproc.lock` as a user meets it: `compose` writes it beside the
//! manifest once the app is written, `nanoproc lock` writes it alone, and
//! `--locked` refuses an app that differs from it, writing nothing.

use std::path::Path;
use std::process::{Command, Output};

const GREETER: &str = r#"(component
  (import "hello" (func $hello (param "x" u32) (result u32)))
  (core func $h (canon lower (func $hello)))
  (core instance $imports (export "hello" (func $h)))
  (core module $m
    (import "" "hello" (func $h (param i32) (result i32)))
    (func (export "greet") (param i32) (result i32) local.get 0 call $h))
  (core instance $i (instantiate $m (with "" (instance $imports))))
  (func $greet (param "x" u32) (result u32) (canon lift (core func $i "greet")))
  (export "greet" (func $greet))
)"#;

const HELLO: &str = r#"(component
  (core module $m (func (export "hello") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
  (core instance $i (instantiate $m))
  (func $hello (param "x" u32) (result u32) (canon lift (core func $i "hello")))
  (export "hello" (func $hello))
)"#;

const MANIFEST: &str = "[app]\nname = \"greetings\"\nexport = [\"greeter\"]\n\n\
    [components.greeter]\npath = \"greeter.wasm\"\n\n[components.hello]\npath = \"hello.wasm\"\n";

/// Runs `nanoproc ARGS` in `dir`.
fn nanoproc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nanoproc"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .expect("nanoproc runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn compose_writes_the_lock_and_locked_refuses_what_differs_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("greeter.wasm"), wat::parse_str(GREETER).unwrap()).unwrap();
    std::fs::write(dir.join("hello.wasm"), wat::parse_str(HELLO).unwrap()).unwrap();
    std::fs::write(dir.join("nanoproc.toml"), MANIFEST).unwrap();
    let lock = || std::fs::read_to_string(dir.join("nanoproc.lock"));

    // Without a lock, `--locked` says how to make one, and writes nothing.
    let output = nanoproc(
        dir,
        &["compose", "nanoproc.toml", "-o", "app.wasm", "--locked"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: `--locked` found no lock at nanoproc.lock: write it with `nanoproc lock \
         nanoproc.toml`, review it and commit it\n"
    );
    assert!(!dir.join("app.wasm").exists() && lock().is_err());

    // `compose` writes the app, then the lock; `nanoproc lock` finds it current.
    let output = nanoproc(dir, &["compose", "nanoproc.toml", "-o", "app.wasm"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("wrote nanoproc.lock: review it, and commit it\n"),
        "{}",
        stderr(&output)
    );
    let written = lock().unwrap();
    assert!(
        written.contains("[components.hello]\nsha256 = \""),
        "{written}"
    );
    let output = nanoproc(dir, &["lock", "nanoproc.toml"]);
    assert!(output.status.success());
    assert_eq!(stderr(&output), "");
    assert_eq!(lock().unwrap(), written);

    // The same app composes `--locked`.
    let output = nanoproc(
        dir,
        &["compose", "nanoproc.toml", "-o", "app.wasm", "--locked"],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    // Grants widened: refused, naming each, with nothing written.
    let widened = format!("{MANIFEST}\n[components.hello.grants]\nenv = [\"HOME\"]\n");
    std::fs::write(dir.join("nanoproc.toml"), widened).unwrap();
    let output = nanoproc(
        dir,
        &["compose", "nanoproc.toml", "-o", "new.wasm", "--locked"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "warning: nanoproc.toml:11:1: component `hello` is granted `env`, which it does not \
         import\n  \
         × the app `greetings` differs from what nanoproc.lock says was reviewed:\n  \
         │   - `hello` is now granted `env HOME`\n  \
         help: review the changes; to accept them, write the lock again with `nanoproc lock` \
         (or compose without `--locked`) and commit it\n"
    );
    assert!(!dir.join("new.wasm").exists());
    assert_eq!(lock().unwrap(), written);

    // `--locked` checks a manifest's app, not an app file.
    let output = nanoproc(dir, &["run", "app.wasm", "--locked"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: `--locked` checks an app against the lock beside its manifest: give the \
         manifest app.wasm was composed from instead of the app\n"
    );
}
