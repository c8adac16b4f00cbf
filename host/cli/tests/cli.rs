//! The `nanoproc` command's `run` and `call`, as a user runs them: exit
//! statuses, what goes to stdout and the exact errors on stderr.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `nanoproc ARGS` from the project root, with a cache of its own.
fn nanoproc(args: &[&str], cache: &tempfile::TempDir) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nanoproc"))
        .args(args)
        .current_dir(root())
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("nanoproc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const RELAY: &str = "tests/apps/relay/nanoproc.toml";

#[test]
fn call_prints_the_result_in_wave() {
    let cache = tempfile::tempdir().unwrap();
    let output = nanoproc(&["call", RELAY, r#"echo-there("hi")"#], &cache);
    assert_eq!(text(&output.stderr), "");
    assert_eq!(text(&output.stdout), "\"hi\"\n");
    assert!(output.status.success());
}

#[test]
fn a_call_past_its_deadline_fails_naming_the_component() {
    let cache = tempfile::tempdir().unwrap();
    let output = nanoproc(&["call", RELAY, "spin-there()", "--timeout", "50"], &cache);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: component `hostile` ran past the deadline of 50ms in \
         `nanoproc:hostile/attacks@0.1.0#spin` during the call to \
         `nanoproc:hostile/forward@0.1.0#spin-there`\n"
    );
}

#[test]
fn run_refuses_an_app_that_is_no_command() {
    let cache = tempfile::tempdir().unwrap();
    let output = nanoproc(&["run", "tests/apps/hostile/nanoproc.toml"], &cache);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: the app exports no `wasi:cli/run`, so it cannot be run; call one of its \
         functions instead: nanoproc:hostile/attacks@0.1.0#spin, \
         nanoproc:hostile/attacks@0.1.0#hoard, nanoproc:hostile/attacks@0.1.0#recurse, \
         nanoproc:hostile/attacks@0.1.0#flood, nanoproc:hostile/attacks@0.1.0#fail, \
         nanoproc:hostile/attacks@0.1.0#echo, nanoproc:hostile/attacks@0.1.0#step, \
         nanoproc:hostile/memory@0.1.0#remember\n"
    );
}

#[test]
fn the_second_run_loads_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let call = ["call", RELAY, "step-there(2)", "--verbose"];
    let first = nanoproc(&call, &cache);
    assert!(
        text(&first.stderr)
            .contains(" KiB) with Cranelift; later runs load it from the cache\ncompiled in ")
            && text(&first.stderr).contains("\ncompiling `relay` ("),
        "{}",
        text(&first.stderr)
    );
    let second = nanoproc(&call, &cache);
    assert!(
        text(&second.stderr).contains("\nloaded from the cache in "),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(text(&second.stdout), "2\n");
}

#[test]
fn a_bad_call_says_what_is_wrong() {
    let cache = tempfile::tempdir().unwrap();
    let output = nanoproc(&["call", RELAY, "echo-there("], &cache);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: cannot parse the arguments of `echo-there(`: unexpected end of input at 11..11\n"
    );
}

#[test]
fn each_refusal_is_a_line_on_stderr_and_the_guest_gets_its_error() {
    let cache = tempfile::tempdir().unwrap();
    let app = tempfile::tempdir().unwrap();
    std::fs::create_dir(app.path().join("data")).unwrap();
    let manifest = app.path().join("nanoproc.toml");
    std::fs::write(
        &manifest,
        "[app]\nname = \"probe\"\nexport = [\"prober\"]\n\n\
         [components.prober]\nguest = \"prober\"\n\
         grants = { dirs = [{ host = \"data\", guest = \"/data\" }], \
         env = [\"HOME\"], network = [\"127.0.0.1:1\"] }\n",
    )
    .unwrap();
    let components = root().join("target/components");
    let call = |call: &str| {
        nanoproc(
            &[
                "call",
                manifest.to_str().unwrap(),
                call,
                "--components",
                components.to_str().unwrap(),
            ],
            &cache,
        )
    };
    let output = call(r#"read("/data", "../secret.txt")"#);
    assert_eq!(text(&output.stdout), "err(\"not-permitted\")\n");
    assert_eq!(
        text(&output.stderr),
        "nanoproc: refused `prober` opening `../secret.txt` in a granted directory: \
         not in its filesystem grant (not-permitted)\n"
    );
    assert!(output.status.success());
    let output = call(r#"connect("127.0.0.1:2")"#);
    assert_eq!(text(&output.stdout), "err(\"access-denied\")\n");
    assert_eq!(
        text(&output.stderr),
        "nanoproc: refused `prober` a TCP connection to 127.0.0.1:2: \
         not in its network grant (access-denied)\n"
    );
}
