//! The site command, composed from its manifest and run on the host: the
//! pages it writes are pulldown-cmark's rendering, gzipped and hashed, and
//! whatever goes wrong ends the run with a message and nothing half-written.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nanoproc_host::{Options, Stdio};
use nanoproc_tests::{compose_manifest, runtime};
use sha2::Digest as _;
use tempfile::TempDir;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

const MANIFEST: &str = "guests/site/nanoproc.toml";

/// The sample documents by file stem, with the title each page must get.
const SAMPLES: &[(&str, &str)] = &[
    ("about", "About this site"),
    ("index", "Welcome to nanoproc"),
    ("notes", "Notes & <Thoughts>"),
];

/// The app, composed once per test process.
fn app_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        compose_manifest(MANIFEST)
            .unwrap_or_else(|e| panic!("cannot compose {MANIFEST}: {e}"))
            .bytes
    })
}

fn sample_dir() -> PathBuf {
    nanoproc_tests::project_root().join("guests/site/sample")
}

/// A directory laid out as the manifest expects: the sample documents and
/// `extra` ones in `sample/`, and an empty `out/`.
fn workspace(extra: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample");
    std::fs::create_dir(&sample).unwrap();
    for entry in std::fs::read_dir(sample_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), sample.join(entry.file_name())).unwrap();
    }
    for (name, contents) in extra {
        std::fs::write(sample.join(name), contents).unwrap();
    }
    std::fs::create_dir(dir.path().join("out")).unwrap();
    dir
}

/// What one run of the app did.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs the app with `base` as the manifest's directory and `args` after
/// the program's name.
fn run(base: &Path, args: &[&str]) -> Run {
    run_app(app_bytes(), base, args)
}

/// Runs the composed site app `bytes` as [`run`] does.
fn run_app(bytes: &[u8], base: &Path, args: &[&str]) -> Run {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let options = Options {
        base_dir: base.to_path_buf(),
        args: std::iter::once("site")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        stdout: Stdio::Pipe(stdout.clone()),
        stderr: Stdio::Pipe(stderr.clone()),
        ..Default::default()
    };
    let app = runtime().load(bytes, options).unwrap();
    assert!(app.is_command(), "the site app exports `wasi:cli/run`");
    let status = app.instantiate().unwrap().run().unwrap();
    Run {
        status,
        stdout: String::from_utf8(stdout.contents().to_vec()).unwrap(),
        stderr: String::from_utf8(stderr.contents().to_vec()).unwrap(),
    }
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_each_page_and_its_gzip_and_reports_their_hashes() {
    let expected_sources: Vec<String> = SAMPLES.iter().map(|(s, _)| format!("{s}.md")).collect();
    assert_eq!(listing(&sample_dir()), expected_sources);

    let dir = workspace(&[]);
    let run = run(dir.path(), &[]);
    assert_eq!(
        run.status, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );

    let out = dir.path().join("out");
    let expected_files: Vec<String> = SAMPLES
        .iter()
        .flat_map(|(stem, _)| [format!("{stem}.html"), format!("{stem}.html.gz")])
        .collect();
    assert_eq!(listing(&out), expected_files);

    let mut expected_stdout = String::new();
    for (stem, title) in SAMPLES {
        let text = std::fs::read_to_string(sample_dir().join(format!("{stem}.md"))).unwrap();
        let html = std::fs::read_to_string(out.join(format!("{stem}.html"))).unwrap();
        let native = nanoproc_tests::native::page(stem, &text).unwrap();
        assert_eq!(
            (html.as_str(), native.title.as_str()),
            (native.html.as_str(), *title),
            "page `{stem}`"
        );

        let gzip = std::fs::read(out.join(format!("{stem}.html.gz"))).unwrap();
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, html, "gzip of `{stem}`");

        let sha256: String = sha2::Sha256::digest(html.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        expected_stdout.push_str(&format!("{sha256}  {stem}.html  {title}\n"));
    }
    expected_stdout.push_str("3 pages\n");
    assert_eq!(run.stdout, expected_stdout);
    assert!(
        run.stderr.ends_with(
            "INFO  [pages] built 3 pages; calls to libraries: \
             json 4, markdown 4, compress 3, hash 3, logger 4\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_front_matter_fails_naming_the_document_and_writes_nothing() {
    let dir = workspace(&[("broken.md", b"---\n{\"title\": }\n---\n# Broken\n")]);
    let run = run(dir.path(), &[]);
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stdout,
        "site: /in/broken.md: front matter line 1, column 11: expected value at line 1 column 11\n"
    );
    assert!(
        run.stderr
            .contains("ERROR [pages] broken: front matter line 1, column 11"),
        "{}",
        run.stderr
    );
    assert_eq!(listing(&dir.path().join("out")), Vec::<String>::new());
}

#[test]
fn a_document_that_is_not_utf8_fails_naming_it() {
    let dir = workspace(&[("binary.md", b"\xff\xfe# Title\n")]);
    let run = run(dir.path(), &[]);
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stdout,
        "site: `/in/binary.md` is not UTF-8 text: invalid utf-8 sequence of 1 bytes from index 0\n"
    );
    assert_eq!(listing(&dir.path().join("out")), Vec::<String>::new());
}

#[test]
fn arguments_name_the_directories() {
    let dir = workspace(&[]);
    let built = run(dir.path(), &["/in", "/out/"]);
    assert_eq!(built.status, 0, "{}", built.stdout);
    assert_eq!(built.stdout.lines().count(), SAMPLES.len() + 1);
    assert!(built.stdout.ends_with("\n3 pages\n"), "{}", built.stdout);

    // Each run compiles the app again: a few cases only.
    let refused: &[(&[&str], &str)] = &[
        (&["/nowhere"], "site: no directory `/nowhere` was given\n"),
        (&["/in", "/out", "more"], "site: usage: site [IN [OUT]]\n"),
    ];
    for (args, stdout) in refused {
        let run = run(dir.path(), args);
        assert_eq!((run.status, run.stdout.as_str()), (1, *stdout), "{args:?}");
    }
}

#[test]
fn a_read_only_output_directory_fails_with_the_error_code() {
    let dir = workspace(&[]);
    let run = run(dir.path(), &["/in", "/in"]);
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stdout,
        "site: cannot write `/in/about.html`: not-permitted\n"
    );
    assert_eq!(listing(&dir.path().join("out")), Vec::<String>::new());
    assert_eq!(
        listing(&dir.path().join("sample")),
        ["about.md", "index.md", "notes.md"]
    );
}

#[test]
fn the_committed_picture_of_the_app_is_its_graph() {
    let composition = compose_manifest(MANIFEST).unwrap();
    let svg = nanoproc_linker::Graph::new(&composition.plan).to_svg();
    let committed =
        std::fs::read_to_string(nanoproc_tests::project_root().join("guests/site/site.svg"))
            .unwrap();
    assert!(
        committed == svg,
        "guests/site/site.svg is stale: run \
         `cargo run -p nanoproc-cli -- graph guests/site/nanoproc.toml -o guests/site/site.svg`"
    );
}

#[test]
fn with_its_logger_in_javascript_granted_stderr_alone_the_app_logs_the_same_lines() {
    let composition = compose_manifest("tests/apps/site-jslogger/nanoproc.toml").unwrap();
    let logger = composition
        .plan
        .components
        .iter()
        .find(|c| c.name == "logger")
        .unwrap();
    let granted: Vec<&str> = logger
        .imports
        .iter()
        .filter(|(_, s)| matches!(s, nanoproc_linker::Satisfied::Granted(_)))
        .map(|(name, _)| name.as_str())
        .collect();
    // stderr, and the streams it is written through; stdin, stdout, the
    // clocks, randomness, files and `wasi:http` componentize-js imports are
    // denied.
    assert_eq!(
        granted,
        [
            "wasi:io/poll@0.2.12",
            "wasi:io/error@0.2.12",
            "wasi:io/streams@0.2.12",
            "wasi:cli/stderr@0.2.12",
            "wasi:cli/terminal-input@0.2.12",
            "wasi:cli/terminal-output@0.2.12",
            "wasi:cli/terminal-stderr@0.2.12",
        ]
    );
    let denied: Vec<&str> = logger
        .imports
        .iter()
        .filter(|(_, s)| matches!(s, nanoproc_linker::Satisfied::Denied(_)))
        .map(|(name, _)| name.split('@').next().unwrap())
        .collect();
    assert_eq!(
        denied,
        [
            "wasi:clocks/monotonic-clock",
            "wasi:http/types",
            "wasi:http/outgoing-handler",
            "wasi:cli/stdin",
            "wasi:cli/stdout",
            "wasi:cli/terminal-stdin",
            "wasi:cli/terminal-stdout",
            "wasi:clocks/wall-clock",
            "wasi:filesystem/types",
            "wasi:filesystem/preopens",
            "wasi:random/random",
        ]
    );
    let (rust, javascript) = (workspace(&[]), workspace(&[]));
    let expected = run(rust.path(), &[]);
    let got = run_app(&composition.bytes, javascript.path(), &[]);
    assert_eq!(got.status, 0, "stderr: {}", got.stderr);
    assert_eq!(got.stdout, expected.stdout);
    assert_eq!(got.stderr, expected.stderr);
    assert!(
        got.stderr.contains("INFO  [pages] built 3 pages"),
        "{}",
        got.stderr
    );
    for name in listing(&rust.path().join("out")) {
        assert_eq!(
            std::fs::read(javascript.path().join("out").join(&name)).unwrap(),
            std::fs::read(rust.path().join("out").join(&name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn with_its_digests_from_a_zig_core_module_the_app_builds_the_pages_the_native_crates_build() {
    let composition = compose_manifest("tests/apps/site-zighash/nanoproc.toml").unwrap();
    let hash = composition
        .plan
        .components
        .iter()
        .find(|c| c.name == "hash")
        .unwrap();
    // A core module, made a component of its embedded world: it imports
    // nothing of WASI, so it takes no adapter and reaches nothing.
    assert_eq!(hash.core_module, Some(nanoproc_linker::Adapter::None));
    assert!(hash.imports.is_empty(), "{:?}", hash.imports);
    let audit = nanoproc_linker::Audit::new(&composition.plan).to_string();
    assert!(
        audit.contains(
            "`hash` is a core wasm module, made a component of its embedded world \
             (it imports no WASI, so it takes no adapter)\n"
        ),
        "{audit}"
    );
    let (native, zig) = (workspace(&[]), workspace(&[]));
    let report =
        nanoproc_tests::native::site(&native.path().join("sample"), &native.path().join("out"))
            .unwrap();
    let got = run_app(&composition.bytes, zig.path(), &[]);
    assert_eq!(got.status, 0, "stderr: {}", got.stderr);
    assert_eq!(got.stdout, report);
    for name in listing(&native.path().join("out")) {
        assert_eq!(
            std::fs::read(zig.path().join("out").join(&name)).unwrap(),
            std::fs::read(native.path().join("out").join(&name)).unwrap(),
            "{name}"
        );
    }
}
