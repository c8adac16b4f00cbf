//! WASI 0.3 and the async component model: commands built by the xtask in
//! async Rust (wit-bindgen's async support), composed with least grants,
//! run in the host as stock wasmtime runs them, and passing streams and
//! futures between components, each answering exactly as the crate it
//! wraps does natively.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};

use nanoproc_host::{Options, Refusals, Stdin, Stdio};
use nanoproc_linker::{Capability, Satisfied};
use nanoproc_tests::{compose_manifest, project_root, runtime};
use sha2::Digest as _;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// What a command printed and the status it ended with.
struct Ran {
    status: i32,
    stdout: Vec<u8>,
    stderr: String,
    /// The refusals the host reported, each as its line says it.
    refusals: Vec<String>,
}

/// Runs the app of the manifest `app` (relative to the project root) as a
/// command, its directory grants taken relative to `base`, with `args`
/// after the program's name and `stdin` as its input.
fn run(app: &str, base: &Path, args: &[&str], stdin: &[u8]) -> Ran {
    let composition = compose_manifest(app).unwrap_or_else(|e| panic!("{app}: {e}"));
    assert!(
        nanoproc_linker::uses_async(&composition.bytes),
        "{app} uses the async component model"
    );
    let (stdout, stderr) = (
        MemoryOutputPipe::new(1 << 26),
        MemoryOutputPipe::new(1 << 20),
    );
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let report = refusals.clone();
    let options = Options {
        base_dir: base.to_path_buf(),
        args: std::iter::once("app")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        stdin: Stdin::Bytes(stdin.to_vec().into()),
        stdout: Stdio::Pipe(stdout.clone()),
        stderr: Stdio::Pipe(stderr.clone()),
        refusals: Refusals::Report(Arc::new(move |refusal| {
            report.lock().unwrap().push(refusal.to_string())
        })),
        ..Options::default()
    };
    let status = runtime()
        .load(&composition.bytes, options)
        .unwrap_or_else(|e| panic!("{app}: {e:#}"))
        .instantiate()
        .unwrap_or_else(|e| panic!("{app}: {e:#}"))
        .run()
        .unwrap_or_else(|e| panic!("{app}: {e:#}"));
    Ran {
        status,
        stdout: stdout.contents().to_vec(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
        refusals: refusals.lock().unwrap().clone(),
    }
}

/// A directory `data` of files to list, under a new temporary directory.
fn data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("hello.txt"), "hello, world\n").unwrap();
    std::fs::write(data.join("empty"), "").unwrap();
    // Larger than a stream's first read.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(data.join("big.bin"), big).unwrap();
    std::fs::write(data.join("sub/inner.txt"), "inside\n").unwrap();
    dir
}

/// What `lsdir3` prints for `dir`, computed natively: each entry sorted by
/// name, a file with its size and the SHA-256 of its contents.
fn listing(dir: &Path) -> String {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    let mut out = String::new();
    for entry in entries {
        let name = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.push_str(&format!("{name}/\tdir\n"));
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            let digest: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            out.push_str(&format!("{name}\t{}\t{digest}\n", bytes.len()));
        }
    }
    out
}

#[test]
fn a_wasi_0_3_command_lists_its_granted_directory_as_it_is_natively() {
    let dir = data();
    for app in [
        "tests/apps/lsdir3/nanoproc.toml",
        "tests/apps/lsdir3-mixed/nanoproc.toml",
    ] {
        let ran = run(app, dir.path(), &[], b"");
        assert_eq!(ran.status, 0, "{app}: {}", ran.stderr);
        assert_eq!(ran.refusals, [] as [String; 0], "{app}");
        assert_eq!(
            String::from_utf8(ran.stdout).unwrap(),
            listing(&dir.path().join("data")),
            "{app}"
        );
        let ran = run(app, dir.path(), &["sub"], b"");
        assert_eq!(
            String::from_utf8(ran.stdout).unwrap(),
            listing(&dir.path().join("data/sub")),
            "{app}"
        );
    }
}

/// What stock wasmtime prints running the composed app of `app` with WASI
/// 0.3, `dir` (when given) as its `/`, `args` and `stdin`.
fn stock(app: &str, dir: Option<&Path>, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let composition = compose_manifest(app).unwrap();
    let wasmtime = nanoproc_tests::peers::wasmtime_cli().unwrap_or_else(|why| panic!("{why}"));
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("app.wasm");
    std::fs::write(&file, &composition.bytes).unwrap();
    let mut command = std::process::Command::new(wasmtime);
    command.args(["run", "-W", "component-model-async=y", "-S", "p3=y"]);
    if let Some(dir) = dir {
        command.arg("--dir").arg(format!("{}::/", dir.display()));
    }
    let mut child = command
        .arg(&file)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || input.write_all(&stdin));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(output.status.success(), "{app}: {output:?}");
    output.stdout
}

#[test]
fn wasi_0_3_apps_print_in_the_host_what_they_print_in_stock_wasmtime() {
    let dir = data();
    let ran = run("tests/apps/lsdir3/nanoproc.toml", dir.path(), &[], b"");
    let data = dir.path().join("data");
    assert_eq!(
        ran.stdout,
        stock("tests/apps/lsdir3/nanoproc.toml", Some(&data), &[], b"")
    );
    let input = b"streamed from stdin to another component\n".repeat(1000);
    for app in [
        "tests/apps/hash-stdin/nanoproc.toml",
        "tests/apps/hash-stdin-py/nanoproc.toml",
    ] {
        let ran = run(app, project_root(), &[], &input);
        assert_eq!(ran.stdout, stock(app, None, &[], &input), "{app}");
    }
}

#[test]
fn a_wasi_0_3_command_cannot_leave_its_read_only_directory() {
    let dir = data();
    std::fs::write(dir.path().join("secret.txt"), "not granted").unwrap();
    for escape in ["..", "../secret.txt", "/.."] {
        let ran = run(
            "tests/apps/lsdir3/nanoproc.toml",
            dir.path(),
            &[escape],
            b"",
        );
        assert_eq!(ran.status, 1, "{escape}: {}", ran.stderr);
        assert!(ran.stdout.is_empty(), "{escape}");
        assert_eq!(
            ran.stderr,
            format!("lsdir3: cannot open `{escape}` in `/`: not-permitted\n")
        );
        assert_eq!(
            ran.refusals,
            [format!(
                "refused `lsdir3` opening `{escape}` in a granted directory: \
                 not in its filesystem grant (not-permitted)"
            )]
        );
    }
}

#[test]
fn a_mixed_wasi_0_2_and_0_3_command_holds_each_grant_once() {
    let composition = compose_manifest("tests/apps/lsdir3-mixed/nanoproc.toml").unwrap();
    let imports = &composition.plan.components[0].imports;
    let granted = |capability: Capability, version: &str| {
        imports.iter().any(|(name, satisfied)| {
            name.ends_with(version) && *satisfied == Satisfied::Granted(capability)
        })
    };
    assert!(granted(Capability::Env, "@0.2.12"), "{imports:?}");
    assert!(granted(Capability::Dirs, "@0.3.0"), "{imports:?}");
    assert!(granted(Capability::Stdout, "@0.3.0"), "{imports:?}");
}

/// Pipes three inputs (empty, short, 5 MB) through `app` and checks that
/// each digest is the sha2 crate's.
fn digests_as_sha2_does(app: &str) {
    let inputs: [Vec<u8>; 3] = [
        Vec::new(),
        b"hello, world\n".to_vec(),
        (0..5_000_000u32).map(|i| (i * 31 % 256) as u8).collect(),
    ];
    for input in inputs {
        let ran = run(app, project_root(), &[], &input);
        assert_eq!(ran.status, 0, "{}", ran.stderr);
        let digest: String = sha2::Sha256::digest(&input)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            String::from_utf8(ran.stdout).unwrap(),
            format!("{digest}\t{}\n", input.len())
        );
    }
}

#[test]
fn a_stream_and_a_future_pass_between_components_and_digest_as_sha2_does() {
    digests_as_sha2_does("tests/apps/hash-stdin/nanoproc.toml");
}

/// The callee is Python built by componentize-py, whose own async runtime
/// reads the stream and writes the future the Rust caller awaits.
#[test]
fn a_stream_and_a_future_pass_between_toolchains_and_digest_as_sha2_does() {
    digests_as_sha2_does("tests/apps/hash-stdin-py/nanoproc.toml");
}

#[test]
fn gzip_streams_through_a_component_as_flate2_reads_and_writes_it() {
    let input: Vec<u8> = (0..2_000_000u32)
        .flat_map(|i| format!("line {}\n", i % 1000).into_bytes())
        .take(3_000_000)
        .collect();
    let app = "tests/apps/gzip-pipe/nanoproc.toml";
    let root = project_root();
    // Compressed by the component, decompressed natively.
    let ran = run(app, root, &[], &input);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.len() < input.len() / 10,
        "{} bytes",
        ran.stdout.len()
    );
    let mut back = Vec::new();
    flate2::read::MultiGzDecoder::new(&ran.stdout[..])
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == input, "the round trip differs");
    // Compressed natively, decompressed by the component.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&input).unwrap();
    let gz = encoder.finish().unwrap();
    let ran = run(app, root, &["-d"], &gz);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stdout == input, "decompressed output differs");
    // A stream cut short: what was whole is written, then the error.
    let ran = run(app, root, &["-d"], &gz[..gz.len() / 2]);
    assert_eq!(ran.status, 1);
    assert!(input.starts_with(&ran.stdout));
    assert!(!ran.stderr.is_empty());
}

#[test]
fn wasi_0_3_neighbours_granted_different_networks_each_reach_only_their_own() {
    // Two endpoints that accept, kept listening for the test's length, and
    // two that take datagrams on the same ports.
    let listeners = [(); 2].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let [mine, theirs] = listeners.each_ref().map(|l| l.local_addr().unwrap());
    let [mine_udp, theirs_udp] =
        [mine, theirs].map(|addr| std::net::UdpSocket::bind(addr).unwrap());
    mine_udp
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let manifest = format!(
        "[app]\nexport = [\"a\"]\n\
         [components.a]\nguest = \"connect3\"\ngrants = {{ network = [\"{mine}\"] }}\n\
         [components.b]\nguest = \"connect3\"\ngrants = {{ network = [\"{theirs}\"] }}\n"
    );
    let parsed = nanoproc_linker::Manifest::parse("nanoproc.toml", manifest.as_str()).unwrap();
    let bytes: indexmap::IndexMap<String, Vec<u8>> = ["a", "b"]
        .map(|n| (n.to_string(), nanoproc_tests::component_bytes("connect3")))
        .into();
    let composition = nanoproc_linker::compose(&parsed, &bytes).unwrap_or_else(|e| panic!("{e}"));
    // Each holds its own copy of the interface that makes sockets.
    let engine = nanoproc_tests::engine_for(&composition.bytes);
    let component = wasmtime::component::Component::new(engine, &composition.bytes).unwrap();
    let ty = component.component_type();
    let sockets: Vec<&str> = ty
        .imports(engine)
        .map(|(name, _)| name)
        .filter(|name| name.contains("/types@0.3.0"))
        .collect();
    assert_eq!(
        sockets,
        [
            "nanoproc-grant:a/types@0.3.0",
            "nanoproc-grant:b/types@0.3.0"
        ]
    );
    let refused = crate::host::Refused::default();
    let app = runtime()
        .load(&composition.bytes, refused.options(Path::new(".")))
        .unwrap();
    let connect = |to: std::net::SocketAddr| -> Result<(), String> {
        let (answer,): (Result<(), String>,) = app
            .instantiate()
            .unwrap()
            .call("nanoproc:connect3/probe@0.1.0#connect", (to.to_string(),))
            .unwrap();
        answer
    };
    assert_eq!(connect(mine), Ok(()));
    assert_eq!(connect(theirs), Err("access-denied".into()));
    let send = |to: std::net::SocketAddr| -> Result<(), String> {
        let (answer,): (Result<(), String>,) = app
            .instantiate()
            .unwrap()
            .call(
                "nanoproc:connect3/probe@0.1.0#send-datagram",
                (to.to_string(), b"ping".to_vec()),
            )
            .unwrap();
        answer
    };
    assert_eq!(send(mine), Ok(()));
    let mut got = [0u8; 16];
    let (len, _) = mine_udp.recv_from(&mut got).unwrap();
    assert_eq!(&got[..len], b"ping");
    assert_eq!(send(theirs), Err("access-denied".into()));
    theirs_udp.set_nonblocking(true).unwrap();
    assert!(
        theirs_udp.recv_from(&mut got).is_err(),
        "a datagram got through"
    );
    assert_eq!(
        refused.take(),
        [
            format!(
                "refused `a` a TCP connection to {theirs}: not in its network grant (access-denied)"
            ),
            format!(
                "refused `a` UDP datagrams to {theirs}: not in its network grant (access-denied)"
            ),
        ]
    );
}
