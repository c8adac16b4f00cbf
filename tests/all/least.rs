//! Least authority for a component built by an ordinary toolchain: the
//! snoop, a Rust `wasm32-wasip1` guest that reaches through the standard
//! library (the preview1 adapter adds every WASI import the library could
//! need), granted exactly one capability. With that one grant it works, and
//! every other import answers without a trap.

use std::path::Path;

use nanoproc_host::{Instance, Options, Stdio};
use nanoproc_tests::{compose_manifest, project_root};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::host::{Refused, load};

const SNOOPING: &str = "nanoproc:hostile/snooping@0.1.0";

/// What the snoop got for each thing it tried, one line each.
fn snoop_everything(instance: &mut Instance, stdin: bool) -> Vec<String> {
    let mut seen = Vec::new();
    let mut call = |what: &str, line: String| seen.push(format!("{what}: {line}"));
    for path in ["/data/note.txt", "/etc/passwd"] {
        let (read,): (Result<String, String>,) = instance
            .call(&format!("{SNOOPING}#read-file"), (path.to_string(),))
            .unwrap();
        call(&format!("read {path}"), format!("{read:?}"));
    }
    let (listed,): (Result<Vec<String>, String>,) = instance
        .call(&format!("{SNOOPING}#list-dir"), ("/data".to_string(),))
        .unwrap();
    call("list /data", format!("{listed:?}"));
    let (variables,): (Vec<String>,) = instance.call(&format!("{SNOOPING}#variables"), ()).unwrap();
    call("variables", format!("{variables:?}"));
    let (printed,): (Result<(), String>,) = instance
        .call(&format!("{SNOOPING}#print"), ("out\n".to_string(),))
        .unwrap();
    call("print", format!("{printed:?}"));
    let (printed,): (Result<(), String>,) = instance
        .call(&format!("{SNOOPING}#eprint"), ("err\n".to_string(),))
        .unwrap();
    call("eprint", format!("{printed:?}"));
    if stdin {
        let (read,): (Result<String, String>,) = instance
            .call(&format!("{SNOOPING}#read-stdin"), ())
            .unwrap();
        call("stdin", format!("{read:?}"));
    }
    let (time,): (Result<u64, String>,) =
        instance.call(&format!("{SNOOPING}#unix-time"), ()).unwrap();
    // A real clock is past 2026; a clock that stands still is at 0.
    call(
        "unix time",
        match time {
            Ok(0) => "0".to_string(),
            Ok(t) if t > 1_767_225_600 => "now".to_string(),
            other => format!("{other:?}"),
        },
    );
    let (slept,): (u64,) = instance
        .call(&format!("{SNOOPING}#sleep"), (20u32,))
        .unwrap();
    call(
        "sleep 20 ms",
        if slept >= 20 {
            "slept".to_string()
        } else {
            format!("{slept} ms passed")
        },
    );
    seen
}

/// Runs the snoop granted what `manifest` (in `tests/apps/snoop/`) grants
/// it: what it saw, what it wrote to stdout and stderr, and the refusals.
fn snoop_with(manifest: &str, stdin: bool) -> (Vec<String>, String, String, Vec<String>) {
    let refused = Refused::default();
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 16),
        MemoryOutputPipe::new(1 << 16),
    );
    let options = Options {
        stdout: Stdio::Pipe(stdout.clone()),
        stderr: Stdio::Pipe(stderr.clone()),
        ..refused.options(&project_root().join("tests/apps/snoop"))
    };
    let app = load(&Path::new("tests/apps/snoop").join(manifest), options);
    let mut instance = app.instantiate().unwrap();
    let seen = snoop_everything(&mut instance, stdin);
    let text = |pipe: MemoryOutputPipe| String::from_utf8(pipe.contents().to_vec()).unwrap();
    (seen, text(stdout), text(stderr), refused.take())
}

/// What the snoop sees with nothing granted but `granted`, the lines that
/// differ from nothing at all given as `(what, line)`.
fn expected(granted: &[(&str, &str)]) -> Vec<String> {
    let nothing = [
        (
            "read /data/note.txt",
            "Err(\"Capabilities insufficient (os error 76)\")",
        ),
        (
            "read /etc/passwd",
            "Err(\"Capabilities insufficient (os error 76)\")",
        ),
        (
            "list /data",
            "Err(\"Capabilities insufficient (os error 76)\")",
        ),
        ("variables", "[]"),
        ("print", "Ok(())"),
        ("eprint", "Ok(())"),
        ("stdin", "Ok(\"\")"),
        ("unix time", "0"),
        ("sleep 20 ms", "0 ms passed"),
    ];
    nothing
        .iter()
        .map(|(what, line)| {
            let line = granted
                .iter()
                .find(|(w, _)| w == what)
                .map_or(*line, |(_, l)| *l);
            format!("{what}: {line}")
        })
        .filter(|line| !line.ends_with(": -"))
        .collect()
}

#[test]
fn a_wasip1_guest_granted_only_a_directory_reads_it_and_is_answered_for_the_rest() {
    let (seen, stdout, stderr, refused) = snoop_with("only-dirs.toml", true);
    assert_eq!(
        seen,
        expected(&[
            (
                "read /data/note.txt",
                "Ok(\"granted to the prober only\\n\")"
            ),
            ("list /data", "Ok([\"note.txt\"])"),
        ])
    );
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
    assert_eq!(
        refused,
        [
            "refused `snoop` writing 4 bytes to stdout: not granted (discarded, no error)",
            "refused `snoop` writing 4 bytes to stderr: not granted (discarded, no error)",
        ]
    );
}

#[test]
fn a_wasip1_guest_granted_only_a_variable_sees_it_and_is_answered_for_the_rest() {
    let (seen, stdout, stderr, _) = snoop_with("only-env.toml", true);
    assert_eq!(
        seen,
        expected(&[("variables", "[\"CARGO_PKG_NAME=nanoproc-tests\"]")])
    );
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
}

#[test]
fn a_wasip1_guest_granted_only_its_arguments_sees_no_variable_and_is_answered_for_the_rest() {
    let (seen, stdout, stderr, _) = snoop_with("only-args.toml", true);
    assert_eq!(seen, expected(&[]));
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
}

#[test]
fn a_wasip1_guest_granted_only_stdout_prints_and_is_answered_for_the_rest() {
    let (seen, stdout, stderr, refused) = snoop_with("only-stdout.toml", true);
    assert_eq!(seen, expected(&[]));
    assert_eq!((stdout.as_str(), stderr.as_str()), ("out\n", ""));
    assert_eq!(
        refused,
        ["refused `snoop` writing 4 bytes to stderr: not granted (discarded, no error)"]
    );
}

#[test]
fn a_wasip1_guest_granted_only_stderr_prints_there_and_is_answered_for_the_rest() {
    let (seen, stdout, stderr, refused) = snoop_with("only-stderr.toml", true);
    assert_eq!(seen, expected(&[]));
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", "err\n"));
    assert_eq!(
        refused,
        ["refused `snoop` writing 4 bytes to stdout: not granted (discarded, no error)"]
    );
}

#[test]
fn a_wasip1_guest_granted_only_stdin_is_answered_for_the_rest() {
    // The test process's own stdin is not read: it may be a terminal.
    let (seen, stdout, stderr, _) = snoop_with("only-stdin.toml", false);
    assert_eq!(seen, expected(&[("stdin", "-")]));
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
}

#[test]
fn a_wasip1_guest_granted_only_clocks_tells_the_time_and_is_answered_for_the_rest() {
    let (seen, stdout, stderr, _) = snoop_with("only-clocks.toml", true);
    assert_eq!(
        seen,
        expected(&[("unix time", "now"), ("sleep 20 ms", "slept")])
    );
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
}

#[test]
fn a_wasip1_guest_granted_only_exit_is_answered_for_the_rest() {
    let (seen, stdout, stderr, _) = snoop_with("only-exit.toml", true);
    assert_eq!(seen, expected(&[]));
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
}

#[test]
fn a_network_or_random_grant_to_a_wasip1_guest_gives_it_nothing_and_says_so() {
    // The standard library of `wasm32-wasip1` has no sockets, and asks for
    // no randomness here: the adapter imports neither.
    for (file, grant) in [
        ("only-network.toml", "network"),
        ("only-random.toml", "random"),
    ] {
        let path = format!("tests/apps/snoop/{file}");
        let composition = compose_manifest(&path).unwrap();
        let manifest = project_root().join(&path);
        assert_eq!(
            composition.plan.warnings,
            [format!(
                "{}:10:10: component `snoop` is granted `{grant}`, which it does not import",
                manifest.display()
            )]
        );
        let (seen, _, _, _) = snoop_with(file, true);
        assert_eq!(seen, expected(&[]), "{file}");
    }
}
