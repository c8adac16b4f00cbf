//! Standard artefacts, checked rather than claimed: composed apps run in two
//! runtimes that share no code with nanoproc's host, wasmtime's Python
//! package and jco on Node.js (`nanoproc_tests::peers`), each as a process
//! of its own, given the same inputs; what they print and write is
//! compared byte for byte with what nanoproc's host makes of the same app.
//!
//! Where a runtime cannot hold a grant as narrowly as the manifest says, the
//! test shows exactly what it does instead, and `SECURITY.md` ("Running an
//! app in other runtimes") says what that means. A runtime that cannot be
//! installed here is skipped with a `skipped: …` line saying how to install
//! it, or, under CI, fails the test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use nanoproc_host::{Options, Refusals, Stdio};
use nanoproc_tests::peers::{self, Kind, Peer};
use nanoproc_tests::{app_inputs, files, native, project_root, runtime};
use serde_json::{Value, json};
use tempfile::TempDir;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

const SITE: &str = "guests/site/nanoproc.toml";
const COMPROMISED: &str = "guests/site/compromised.toml";
const SNOOP: &str = "tests/apps/snoop/nanoproc.toml";
const PACKER: &str = "tests/apps/packer/nanoproc.toml";

/// An app composed from its manifest, written to a file a runtime can read.
struct Composed {
    manifest: nanoproc_linker::Manifest,
    bytes: Vec<u8>,
    path: PathBuf,
    /// Scratch space for the drivers' specs; also holds the component.
    work: TempDir,
}

fn compose(manifest: &str) -> Composed {
    let (parsed, components) = app_inputs(Path::new(manifest)).unwrap();
    let composition = nanoproc_linker::compose(&parsed, &components)
        .unwrap_or_else(|e| panic!("cannot compose {manifest}: {e}"));
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("app.wasm");
    std::fs::write(&path, &composition.bytes).unwrap();
    Composed {
        manifest: parsed,
        bytes: composition.bytes,
        path,
        work,
    }
}

impl Composed {
    /// Runs the app in `peer` as `spec` says.
    fn run_in(&self, peer: &Peer, spec: &Value) -> peers::Output {
        peer.run(&self.path, spec, self.work.path())
    }

    /// The app loaded in nanoproc's host with `base` as its directory and
    /// `args` after the program's name.
    fn load(&self, base: &Path, args: &[&str]) -> (nanoproc_host::App, [MemoryOutputPipe; 2]) {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let stderr = MemoryOutputPipe::new(1 << 20);
        let options = Options {
            base_dir: base.to_path_buf(),
            args: std::iter::once(self.manifest.name())
                .chain(args.iter().map(|a| a.to_string()))
                .collect(),
            stdout: Stdio::Pipe(stdout.clone()),
            stderr: Stdio::Pipe(stderr.clone()),
            refusals: Refusals::Ignore,
            ..Default::default()
        };
        let app = runtime().load(&self.bytes, options).unwrap();
        (app, [stdout, stderr])
    }
}

/// What one run of the site app did: its status and output, and the files
/// in its two directories afterwards.
#[derive(Debug, PartialEq)]
struct SiteRun {
    status: i32,
    stdout: String,
    stderr: String,
    written: Vec<(String, Vec<u8>)>,
    sample: Vec<(String, Vec<u8>)>,
}

/// A folder laid out as the site's manifest expects: the sample documents
/// in `sample/` and an empty `out/`.
fn site_workspace() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample");
    std::fs::create_dir(&sample).unwrap();
    for (name, bytes) in files(&project_root().join("guests/site/sample")).unwrap() {
        std::fs::write(sample.join(name), bytes).unwrap();
    }
    std::fs::create_dir(dir.path().join("out")).unwrap();
    dir
}

fn site_run(dir: &Path, status: i32, stdout: Vec<u8>, stderr: String) -> SiteRun {
    SiteRun {
        status,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr,
        written: files(&dir.join("out")).unwrap(),
        sample: files(&dir.join("sample")).unwrap(),
    }
}

/// The site app run by nanoproc's host, with `args` after its name.
fn site_in_nanoproc(app: &Composed, args: &[&str]) -> SiteRun {
    let dir = site_workspace();
    let (loaded, [stdout, stderr]) = app.load(dir.path(), args);
    let status = loaded.instantiate().unwrap().run().unwrap();
    let stderr = String::from_utf8(stderr.contents().to_vec()).unwrap();
    site_run(dir.path(), status, stdout.contents().to_vec(), stderr)
}

/// The site app run by `peer`, with `args` after its name and `extra`
/// added to the spec.
fn site_in(peer: &Peer, app: &Composed, args: &[&str], extra: &[(&str, Value)]) -> SiteRun {
    let dir = site_workspace();
    let program = app.manifest.name();
    let argv: Vec<&str> = std::iter::once(program.as_str())
        .chain(args.iter().copied())
        .collect();
    let mut spec = peers::spec_for(&app.manifest, dir.path(), &argv);
    spec["run"] = json!(run_function_of(app));
    for (key, value) in extra {
        spec[*key] = value.clone();
    }
    let output = app.run_in(peer, &spec);
    site_run(dir.path(), output.status, output.stdout, output.stderr)
}

/// The full name of the app's `wasi:cli/run` function.
fn run_function_of(app: &Composed) -> String {
    let (_, exports) = top_level(&app.bytes);
    let run = exports
        .iter()
        .find(|name| name.starts_with("wasi:cli/run@"))
        .expect("the app is a command");
    format!("{run}#run")
}

/// The names of the imports and exports of the component `bytes` itself
/// (not of the components nested in it).
fn top_level(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    use wasmparser::{Parser, Payload};
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    imports.push(import.unwrap().name.name.to_string());
                }
            }
            Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    exports.push(export.unwrap().name.name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn the_site_app_writes_the_same_bytes_in_wasmtime_for_python_and_in_jco() {
    let app = compose(SITE);
    let native_out = tempfile::tempdir().unwrap();
    let report = native::site(
        &project_root().join("guests/site/sample"),
        native_out.path(),
    )
    .unwrap();
    let ours = site_in_nanoproc(&app, &[]);
    assert_eq!((ours.status, ours.stdout.as_str()), (0, report.as_str()));
    assert!(ours.written == files(native_out.path()).unwrap());
    assert_eq!(ours.written.len(), 6);

    for peer in
        peers::available("the_site_app_writes_the_same_bytes_in_wasmtime_for_python_and_in_jco")
    {
        let theirs = site_in(peer, &app, &[], &[]);
        assert_eq!(
            (theirs.status, theirs.stdout.as_str()),
            (0, ours.stdout.as_str()),
            "{}: {}",
            peer.name(),
            theirs.stderr
        );
        // The logger's lines, through the one component granted stderr.
        assert_eq!(theirs.stderr, ours.stderr, "{}", peer.name());
        assert!(
            theirs.written == ours.written,
            "{} wrote other pages",
            peer.name()
        );
        assert!(theirs.sample == ours.sample);
    }
}

/// preview2-shim lists no preopened directory: the site app, which lists
/// the directory it was given, fails under jco without the driver's
/// workaround (see `tests/runtimes/jco.mjs`), where nanoproc's host and
/// wasmtime list it.
#[test]
fn jco_cannot_list_a_preopened_directory_without_the_drivers_workaround() {
    let test = "jco_cannot_list_a_preopened_directory_without_the_drivers_workaround";
    let Some(jco) = peers::or_skip(Kind::Jco, test) else {
        return;
    };
    let app = compose(SITE);
    let stock = site_in(jco, &app, &[], &[("shim_preopen_fix", json!(false))]);
    assert_eq!(
        (stock.status, stock.stdout.as_str()),
        (1, "site: cannot list `/in`: bad-descriptor\n"),
        "{}",
        stock.stderr
    );
    assert_eq!(stock.written, []);
}

/// The site's input directory is granted read-only. wasmtime holds that
/// (the directory is preopened without `fs_mutable`), with nanoproc's very
/// error; preview2-shim has no read-only directory, so under jco the app
/// writes where the manifest says it may not.
#[test]
fn a_read_only_directory_stays_read_only_in_wasmtime_for_python_but_not_in_jco() {
    let test = "a_read_only_directory_stays_read_only_in_wasmtime_for_python_but_not_in_jco";
    let app = compose(SITE);
    let args = ["/in", "/in"];
    let ours = site_in_nanoproc(&app, &args);
    assert_eq!(
        (ours.status, ours.stdout.as_str()),
        (1, "site: cannot write `/in/about.html`: not-permitted\n")
    );
    assert_eq!(ours.written, []);
    let untouched = ours.sample.clone();
    assert_eq!(untouched.len(), 3);

    for peer in peers::available(test) {
        let theirs = site_in(peer, &app, &args, &[]);
        match peer.kind() {
            Kind::WasmtimePy => assert!(theirs == ours, "{theirs:#?}"),
            Kind::Jco => {
                assert_eq!(theirs.status, 0, "{}", theirs.stderr);
                assert!(theirs.stdout.ends_with("\n3 pages\n"), "{}", theirs.stdout);
                let names: Vec<&str> = theirs.sample.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "about.html",
                        "about.html.gz",
                        "about.md",
                        "index.html",
                        "index.html.gz",
                        "index.md",
                        "notes.html",
                        "notes.html.gz",
                        "notes.md"
                    ]
                );
            }
        }
    }
}

/// The snoop beside a prober that holds grants (`tests/apps/snoop`): a
/// library app, called function by function. The snoop's imports are
/// answered inside the composed component, so it reaches nothing in any
/// runtime; the prober reaches what each runtime gives for its grants.
#[test]
fn the_snoop_app_answers_as_in_nanoproc_but_where_a_runtime_cannot_narrow_a_grant() {
    let test = "the_snoop_app_answers_as_in_nanoproc_but_where_a_runtime_cannot_narrow_a_grant";
    let app = compose(SNOOP);
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for (name, bytes) in files(&project_root().join("tests/apps/snoop/data")).unwrap() {
        std::fs::write(data.join(name), bytes).unwrap();
    }
    let granted_file = data.join("note.txt").display().to_string();
    // Nobody is granted this host: a connection would be accepted here.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let ungranted = listener.local_addr().unwrap().to_string();

    let probe = |f: &str| format!("nanoproc:prober/probe@0.1.0#{f}");
    let snoop = |f: &str| format!("nanoproc:hostile/snooping@0.1.0#{f}");
    let calls: Vec<(String, Vec<Value>)> = vec![
        (probe("directories"), vec![]),
        (probe("read"), vec![json!("/data"), json!("note.txt")]),
        (probe("read"), vec![json!("/data"), json!("missing.txt")]),
        (
            probe("read"),
            vec![json!("/data"), json!("../../Cargo.toml")],
        ),
        (
            probe("write"),
            vec![json!("/data"), json!("new.txt"), json!("written")],
        ),
        (probe("env"), vec![json!("CARGO_PKG_NAME")]),
        (probe("env"), vec![json!("HOME")]),
        (probe("connect"), vec![json!("127.0.0.1:1")]),
        (probe("connect"), vec![json!(ungranted)]),
        (snoop("read-file"), vec![json!("/data/note.txt")]),
        (snoop("read-file"), vec![json!(granted_file)]),
        (snoop("list-dir"), vec![json!("/")]),
        (snoop("variables"), vec![]),
        (snoop("connect"), vec![json!(ungranted)]),
    ];
    let calls: Vec<(&str, Vec<Value>)> =
        calls.iter().map(|(f, a)| (f.as_str(), a.clone())).collect();

    let (loaded, _) = app.load(base.path(), &[]);
    let ours = peers::calls_in_nanoproc(&loaded, &calls).unwrap();
    let no_preopen = json!({ "err": "Capabilities insufficient (os error 76)" });
    assert_eq!(
        ours,
        [
            json!(["/data"]),
            json!({ "ok": "granted to the prober only\n" }),
            json!({ "err": "no-entry" }),
            json!({ "err": "not-permitted" }),
            json!({ "err": "not-permitted" }),
            json!({ "some": "nanoproc-tests" }),
            json!(null),
            json!({ "err": "connection-refused" }),
            json!({ "err": "access-denied" }),
            no_preopen.clone(),
            no_preopen.clone(),
            no_preopen,
            json!([]),
            json!({ "err": "operation not supported on this platform" }),
        ]
    );
    assert!(!data.join("new.txt").exists());

    let mut spec = peers::spec_for(&app.manifest, base.path(), &[]);
    spec["calls"] = peers::calls_spec(&loaded, &calls);
    // The stock shim: the prober opens files in its preopen, never lists it.
    spec["shim_preopen_fix"] = json!(false);
    for peer in peers::available(test) {
        let output = app.run_in(peer, &spec);
        assert_eq!(output.status, 0, "{}: {}", peer.name(), output.stderr);
        let theirs = output.answers();
        let mut expected = ours.clone();
        // Neither runtime narrows a network grant to a list of hosts, so
        // the drivers give no network: the granted host is refused too.
        expected[7] = json!({ "err": "access-denied" });
        if peer.kind() == Kind::Jco {
            // preview2-shim has no read-only directory.
            expected[4] = json!({ "ok": null });
        }
        assert_eq!(theirs, expected, "{}", peer.name());
        let written = std::fs::read_to_string(data.join("new.txt")).ok();
        assert_eq!(
            written.as_deref(),
            (peer.kind() == Kind::Jco).then_some("written"),
            "{}",
            peer.name()
        );
        let _ = std::fs::remove_file(data.join("new.txt"));
    }
    assert!(listener.accept().is_err(), "nothing connected");
}

/// The packer app: Rust and C components and no capability at all. What it
/// seals, and what it makes of damaged blobs, is the same everywhere.
#[test]
fn the_packer_app_seals_the_same_bytes_in_other_runtimes() {
    let test = "the_packer_app_seals_the_same_bytes_in_other_runtimes";
    let app = compose(PACKER);
    let base = tempfile::tempdir().unwrap();
    let (loaded, _) = app.load(base.path(), &[]);
    let seal = "nanoproc:packer/seal@0.1.0#seal";
    let open = "nanoproc:packer/seal@0.1.0#open";
    let text: Vec<u8> = (0..2_000u32)
        .flat_map(|i| format!("line {} of a text that repeats\n", i % 97).into_bytes())
        .collect();
    let inputs = [&b""[..], b"nanoproc", &text];
    let sealing: Vec<(&str, Vec<Value>)> = inputs
        .iter()
        .map(|data| (seal, vec![json!(peers::hex(data))]))
        .collect();
    let sealed = peers::calls_in_nanoproc(&loaded, &sealing).unwrap();
    let blob = sealed[2]["ok"].as_str().expect("sealed").to_string();
    let mut calls = sealing.clone();
    calls.push((open, vec![json!(blob)]));
    calls.push((open, vec![json!(peers::hex(b"not sealed at all"))]));
    let mut corrupt = blob.clone();
    corrupt.truncate(corrupt.len() - 8);
    calls.push((open, vec![json!(corrupt)]));

    let ours = peers::calls_in_nanoproc(&loaded, &calls).unwrap();
    assert_eq!(ours[..3], sealed[..]);
    assert_eq!(ours[3], json!({ "ok": peers::hex(&text) }));
    assert_eq!(ours[4], json!({ "err": { "not-sealed": null } }));
    assert_eq!(ours[5], json!({ "err": { "corrupt": null } }));

    let mut spec = peers::spec_for(&app.manifest, base.path(), &[]);
    spec["calls"] = peers::calls_spec(&loaded, &calls);
    for peer in peers::available(test) {
        let output = app.run_in(peer, &spec);
        assert_eq!(output.status, 0, "{}: {}", peer.name(), output.stderr);
        assert!(
            output.answers() == ours,
            "{} answers otherwise",
            peer.name()
        );
    }
}

/// The compromised release holds grants of its own beside the site's, so
/// the composed app imports `nanoproc-grant:HOLDER/…` names that only
/// nanoproc's host binds. Another runtime refuses the whole app before
/// anything runs: it fails closed, never with one component's authority
/// given to another.
#[test]
fn an_app_whose_grants_split_an_interface_fails_closed_in_other_runtimes() {
    let test = "an_app_whose_grants_split_an_interface_fails_closed_in_other_runtimes";
    let app = compose(COMPROMISED);
    let (imports, _) = top_level(&app.bytes);
    let named = |prefix: &str| -> String {
        imports
            .iter()
            .find(|name| name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no import `{prefix}…` among {imports:?}"))
            .clone()
    };
    // The first import stock wasmtime cannot bind, and the first whose WIT
    // jco cannot write (two imports hand out one `descriptor` type).
    let environment = named("nanoproc-");
    assert!(environment.starts_with("nanoproc-grant:markdown/environment@"));
    let preopens = named("nanoproc-grant:site/preopens@");
    assert!(
        !imports
            .iter()
            .any(|name| name.starts_with("wasi:filesystem/preopens@")),
        "{imports:?}"
    );

    for peer in peers::available(test) {
        let theirs = site_in(peer, &app, &[], &[]);
        let refusal = match peer.kind() {
            Kind::WasmtimePy => format!(
                "refused: component imports instance `{environment}`, but a matching \
                 implementation was not found in the linker\n\nCaused by:\n    \
                 0: instance export `get-arguments` has the wrong type\n    \
                 1: function implementation is missing\n"
            ),
            Kind::Jco => format!(
                "refused: failed to extract interface information from component\n\n\
                 Caused by:\n    0: failed to decode WIT from import `{preopens}`\n    \
                 1: cannot represent this component in WIT: the type `descriptor` appears \
                 more than once (for example, when an imported instance is re-exported \
                 under a new name)\n"
            ),
        };
        assert_eq!(
            (
                theirs.status,
                theirs.stdout.as_str(),
                theirs.stderr.as_str()
            ),
            (2, "", refusal.as_str()),
            "{}",
            peer.name()
        );
        assert_eq!(theirs.written, []);
        assert_eq!(theirs.sample.len(), 3);
    }
}

/// The snoop granted stdout alone: its other standard streams and its
/// monotonic clock are denied, and since its streams come from the host the
/// host answers those denials, through `nanoproc-deny:HOLDER/…` imports
/// that only nanoproc's host binds. Other runtimes refuse the app before
/// anything runs, as they refuse split grants.
#[test]
fn an_app_whose_denials_the_host_answers_fails_closed_in_other_runtimes() {
    let test = "an_app_whose_denials_the_host_answers_fails_closed_in_other_runtimes";
    let app = compose("tests/apps/snoop/only-stdout.toml");
    let (imports, _) = top_level(&app.bytes);
    let first = imports
        .iter()
        .find(|name| name.starts_with("nanoproc-"))
        .unwrap_or_else(|| panic!("no import only nanoproc binds among {imports:?}"));
    assert!(
        first.starts_with("nanoproc-deny:snoop/stdin@"),
        "{imports:?}"
    );

    let base = tempfile::tempdir().unwrap();
    let mut spec = peers::spec_for(&app.manifest, base.path(), &[]);
    spec["calls"] = json!([]);
    for peer in peers::available(test) {
        let output = app.run_in(peer, &spec);
        let refusal = match peer.kind() {
            Kind::WasmtimePy => format!(
                "refused: component imports instance `{first}`, but a matching implementation \
                 was not found in the linker\n\nCaused by:\n    \
                 0: instance export `get-stdin` has the wrong type\n    \
                 1: function implementation is missing\n"
            ),
            Kind::Jco => "refused: Only URLs with a scheme in: file, data, and node are supported \
                 by the default ESM loader. Received protocol 'nanoproc-deny:'\n"
                .to_string(),
        };
        assert_eq!(
            (output.status, output.stdout_text(), output.stderr.as_str()),
            (2, "", refusal.as_str()),
            "{}",
            peer.name()
        );
    }
}

/// The smallest shape of a deny provider's stream (`tests/runtimes/jco-borrow/
/// borrow-back.wat`): a provider makes a handle of the representation the
/// caller asks for, and the caller borrows it back into the provider, which
/// returns the `self` it received. The component model lets a
/// representation be any `i32` and lowers a borrow passed to the
/// resource's own component as the representation itself, so every runtime
/// should return what it was given. jco 1.35 traps on representation 0
/// (its resource tables take 0 for an empty slot), which is why deny
/// providers make their handles with representation 1. When jco takes 0,
/// this test fails, and the jco case becomes the others'.
#[test]
fn a_handle_borrowed_back_by_its_maker_arrives_as_its_representation_and_jco_traps_on_0() {
    let test =
        "a_handle_borrowed_back_by_its_maker_arrives_as_its_representation_and_jco_traps_on_0";
    let wat = project_root().join("tests/runtimes/jco-borrow/borrow-back.wat");
    let bytes = wat::parse_file(&wat).unwrap();
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("borrow-back.wasm");
    std::fs::write(&path, &bytes).unwrap();

    let calls: Vec<(&str, Vec<Value>)> = [1, 7, 0]
        .into_iter()
        .map(|rep| ("run", vec![json!(rep)]))
        .collect();
    let loaded = runtime().load(&bytes, Options::default()).unwrap();
    let ours = peers::calls_in_nanoproc(&loaded, &calls).unwrap();
    assert_eq!(ours, [json!(1), json!(7), json!(0)]);

    let spec = json!({ "calls": peers::calls_spec(&loaded, &calls) });
    for peer in peers::available(test) {
        let output = peer.run(&path, &spec, work.path());
        let (status, stdout, stderr) = match peer.kind() {
            Kind::WasmtimePy => (0, "1\n7\n0\n", ""),
            Kind::Jco => (3, "1\n7\n", "trapped: unknown handle index 3\n"),
        };
        assert_eq!(
            (output.status, output.stdout_text(), output.stderr.as_str()),
            (status, stdout, stderr),
            "{}",
            peer.name()
        );
    }
}

/// The snoop granted nothing (`tests/apps/snoop/no-grants.toml`): its
/// standard streams, and the `wasi:io` they are made of, come from its deny
/// provider, so the composed app imports nothing. What it prints goes to the
/// provider's inert streams, borrowed back into the provider on every
/// write: accepted and dropped in every runtime, nothing reaching the
/// runtime's own stdout or stderr, and its stdin is empty.
#[test]
fn a_component_denied_its_standard_streams_writes_to_inert_streams_in_every_runtime() {
    let test = "a_component_denied_its_standard_streams_writes_to_inert_streams_in_every_runtime";
    let app = compose("tests/apps/snoop/no-grants.toml");
    assert_eq!(top_level(&app.bytes).0, Vec::<String>::new());

    let snoop = |f: &str| format!("nanoproc:hostile/snooping@0.1.0#{f}");
    // More than one `check-write` allows, so the adapter writes it in parts.
    let long = "a line printed to a stream that was denied\n".repeat(300);
    let calls: Vec<(String, Vec<Value>)> = vec![
        (snoop("print"), vec![json!("to a denied stdout\n")]),
        (snoop("print"), vec![json!(long)]),
        (snoop("eprint"), vec![json!("to a denied stderr\n")]),
        (snoop("read-stdin"), vec![]),
        (snoop("print"), vec![json!("and once more\n")]),
    ];
    let calls: Vec<(&str, Vec<Value>)> =
        calls.iter().map(|(f, a)| (f.as_str(), a.clone())).collect();

    let base = tempfile::tempdir().unwrap();
    let (loaded, [stdout, stderr]) = app.load(base.path(), &[]);
    let ours = peers::calls_in_nanoproc(&loaded, &calls).unwrap();
    let ok = json!({ "ok": null });
    assert_eq!(
        ours,
        [
            ok.clone(),
            ok.clone(),
            ok.clone(),
            json!({ "ok": "" }),
            ok.clone()
        ]
    );
    assert_eq!(stdout.contents().len() + stderr.contents().len(), 0);

    let answers: String = ours.iter().map(|answer| format!("{answer}\n")).collect();
    let mut spec = peers::spec_for(&app.manifest, base.path(), &[]);
    spec["calls"] = peers::calls_spec(&loaded, &calls);
    for peer in peers::available(test) {
        let output = app.run_in(peer, &spec);
        // The driver's stdout holds its answers and nothing the app wrote.
        assert_eq!(
            (output.status, output.stdout_text(), output.stderr.as_str()),
            (0, answers.as_str(), ""),
            "{}",
            peer.name()
        );
    }
}
