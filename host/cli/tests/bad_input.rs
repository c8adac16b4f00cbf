//! The `nanoproc` command on bad input, as a user runs it: each refused with
//! its exact error on stderr and exit status 1 (2 for a command that cannot
//! be meant), never a panic, and never an output file: neither a new one nor
//! a temporary one, and an earlier one left as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fixture input of the linker's tests, by case and file name.
fn fixture(case: &str, file: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/compose").join(case).join(file)).unwrap()
}

/// A directory to run `nanoproc` in, and a cache of its own elsewhere.
struct Project {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &[u8])]) -> Self {
        let project = Self {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        for (name, bytes) in files {
            project.write(name, bytes);
        }
        project
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.path().join(name), bytes).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The names of the files in the directory, in order.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Runs `nanoproc ARGS` in the directory.
    fn nanoproc(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nanoproc"))
            .args(args)
            .current_dir(self.dir.path())
            .env("XDG_CACHE_HOME", self.cache.path())
            .output()
            .expect("nanoproc runs")
    }

    /// Runs `nanoproc ARGS`, which must fail with `status` and exactly
    /// `stderr`, print nothing on stdout and change no file.
    fn refused(&self, args: &[&str], status: i32, stderr: &str) {
        let before = self.files();
        let output = self.nanoproc(args);
        let got = String::from_utf8_lossy(&output.stderr);
        assert!(!got.contains("panicked"), "{args:?}: {got}");
        assert_eq!(got, stderr, "{args:?}");
        assert_eq!(output.status.code(), Some(status), "{args:?}: {got}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "", "{args:?}");
        assert_eq!(self.files(), before, "{args:?} left files behind");
    }
}

const MANIFEST: &str = "nanoproc.toml";

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

/// Each bad manifest `nanoproc compose` is given, and its error.
const BAD_MANIFESTS: &[(&str, &str)] = &[
    (
        "[app]\nexport = [\"json\"\n",
        r#"  × unclosed array, expected `]`
   ╭─[nanoproc.toml:2:17]
 1 │ [app]
 2 │ export = ["json"
   ·                 ▲
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"json\"]\n[components.json]\npath = \"c.wasm\"\n[components.\"json\"]\npath = \"c.wasm\"\n",
        r#"  × component `json` is declared twice; give each component one `[components.NAME]` table, with a name of its own
   ╭─[nanoproc.toml:5:13]
 4 │ path = "c.wasm"
 5 │ [components."json"]
   ·             ──────
 6 │ path = "c.wasm"
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"j\u{455}on\"]\n[components.\"j\u{455}on\"]\npath = \"c.wasm\"\n",
        r#"  × component name `j\u{455}on` is not ASCII: character 2 is U+0455; a name is lowercase ASCII words joined by `-` (like `markdown` or `json-lib`)
   ╭─[nanoproc.toml:3:1]
 2 │ export = ["jѕon"]
 3 │ [components."jѕon"]
   · ───────────────────
 4 │ path = "c.wasm"
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"json\"]\n[components.json]\npath = \"../c.wasm\"\n",
        r#"  × component `json`: the path `../c.wasm` leads outside the manifest's directory; a component's path must stay inside that directory: copy the component there, or name a guest crate with `guest = "…"`
   ╭─[nanoproc.toml:4:8]
 3 │ [components.json]
 4 │ path = "../c.wasm"
   ·        ───────────
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"json\"]\n[components.json]\npath = \"/tmp/c.wasm\"\n",
        r#"  × component `json`: the path `/tmp/c.wasm` is absolute; a component's path must be relative to the manifest's directory and stay inside it: copy the component there, or name a guest crate with `guest = "…"`
   ╭─[nanoproc.toml:4:8]
 3 │ [components.json]
 4 │ path = "/tmp/c.wasm"
   ·        ─────────────
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"json\"]\n[components.json]\nguest = \"../json\"\n",
        r#"  × component `json`: the guest `../json` is not the name of a crate (ASCII letters, digits, `-` and `_`)
   ╭─[nanoproc.toml:4:9]
 3 │ [components.json]
 4 │ guest = "../json"
   ·         ─────────
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"json\"]\n[components.json]\npath = \"c.wasm\"\nwire = { \"a:b/c\" = \"json\" }\n",
        r#"  × component `json` wires `a:b/c` to itself
   ╭─[nanoproc.toml:5:20]
 4 │ path = "c.wasm"
 5 │ wire = { "a:b/c" = "json" }
   ·                    ──────
   ╰────
"#,
    ),
    (
        "[app]\nexport = [\"json\"]\n[components.json]\npath = \"missing.wasm\"\n",
        r#"  × component `json`: cannot read missing.wasm: No such file or directory (os error 2)
   ╭─[nanoproc.toml:3:1]
 2 │ export = ["json"]
 3 │ [components.json]
   · ─────────────────
 4 │ path = "missing.wasm"
   ╰────
"#,
    ),
];

#[test]
fn compose_refuses_bad_manifests_and_writes_nothing() {
    let project = Project::new(&[("c.wasm", &fixture("err-bit-flip-in-type", "callee.wasm"))]);
    for (manifest, error) in BAD_MANIFESTS {
        project.write(MANIFEST, manifest.as_bytes());
        project.refused(&["compose", MANIFEST, "-o", "app.wasm"], 1, error);
        project.refused(&["audit", MANIFEST], 1, error);
        project.refused(&["call", MANIFEST, "f()"], 1, error);
    }
}

/// Each bad component, and the error composing it as `c` gives.
fn bad_components() -> Vec<(Vec<u8>, String)> {
    let invalid = "  × component `c` is not a valid component\n  ╰─▶ ";
    let invalid_because = "  × component `c` is not a valid component\n  ├─▶ ";
    vec![
        (Vec::new(), format!("{invalid}the file is empty\n")),
        (
            fixture("err-truncated-header", "callee.wasm"),
            format!(
                "{invalid}the file is cut short: it ends 7 bytes into the 8-byte component header\n"
            ),
        ),
        (
            fixture("err-truncated-in-section", "callee.wasm"),
            format!(
                "{invalid}the file is cut short, or corrupt: the section at offset 0x8 is 19714 bytes \
                 long, but the file ends 4084 bytes into it\n"
            ),
        ),
        (
            fixture("err-bit-flip-in-function-body", "callee.wasm"),
            format!(
                "{invalid_because}the component is not valid\n  ╰─▶ type mismatch: expected i32, \
                 found i64 (at offset 0x1bf)\n"
            ),
        ),
        (
            fixture("err-bit-flip-export-kind", "callee.wasm"),
            format!(
                "{invalid}it exports a function named `nanoproc:bench/callee@0.1.0`, an interface's \
                 name: only an instance can be named so\n"
            ),
        ),
        (
            // A core module is made a component, unless it imports what no
            // adapter provides.
            wat("(module (import \"env\" \"f\" (func)) (func (export \"_start\") call 0))"),
            "  × component `c` is a core wasm module, which the linker cannot make a component \
             with the WASI preview1 adapter\n  \
             ├─▶ failed to decode world from module\n  \
             ├─▶ module was not valid\n  \
             ├─▶ failed to resolve import `env::f`\n  \
             ╰─▶ module requires an import interface named `env`\n  \
             help: a core module must be built for WASI preview1 (`wasm32-wasip1`), importing \
             only `wasi_snapshot_preview1` and what a WIT world embedded in it declares, and \
             export `_start` (a command) or the functions of that world (a library); otherwise \
             make it a component with its toolchain (`wasm-tools component new`)\n"
                .to_string(),
        ),
        (
            b"(component)".to_vec(),
            format!(
                "{invalid}this is not a wasm component (it does not start with the component header)\n"
            ),
        ),
        (
            wat("(component (core module (memory 1 1 shared)))"),
            "  × component `c` uses threads (shared memory and atomics), which the host does not \
             enable\n  ╰─▶ threads must be enabled for shared memories (at offset 0x15)\n  \
             help: rebuild the component without shared memory or atomics (for Rust, without \
             `-C target-feature=+atomics`)\n"
                .to_string(),
        ),
    ]
}

#[test]
fn compose_audit_and_run_refuse_bad_components_and_write_nothing() {
    let project = Project::new(&[(
        MANIFEST,
        b"[app]\nexport = [\"c\"]\n[components.c]\npath = \"c.wasm\"\n",
    )]);
    for (bytes, error) in bad_components() {
        project.write("c.wasm", &bytes);
        project.refused(&["compose", MANIFEST, "-o", "app.wasm"], 1, &error);
        project.refused(&["audit", MANIFEST, "--json"], 1, &error);
        project.refused(&["graph", MANIFEST, "-o", "app.svg"], 1, &error);
        project.refused(&["run", MANIFEST], 1, &error);
    }
}

#[test]
fn a_failed_compose_leaves_an_earlier_output_as_it_was() {
    let project = Project::new(&[
        (
            MANIFEST,
            b"[app]\nexport = [\"c\"]\n[components.c]\npath = \"c.wasm\"\n",
        ),
        ("c.wasm", &fixture("err-truncated-header", "callee.wasm")),
        ("app.wasm", b"the app composed before"),
    ]);
    project.refused(
        &["compose", MANIFEST, "-o", "app.wasm"],
        1,
        "  × component `c` is not a valid component\n  ╰─▶ the file is cut short: it \
         ends 7 bytes into the 8-byte component header\n",
    );
    assert_eq!(
        std::fs::read(project.path("app.wasm")).unwrap(),
        b"the app composed before"
    );
}

#[test]
fn compose_replaces_the_output_whole_and_leaves_no_temporary_file() {
    let project = Project::new(&[
        (
            MANIFEST,
            b"[app]\nexport = [\"markdown\"]\n[components.markdown]\nguest = \"markdown\"\n",
        ),
        ("app.wasm", b"the app composed before"),
    ]);
    let components = root().join("target/components");
    let output = project.nanoproc(&[
        "compose",
        MANIFEST,
        "-o",
        "app.wasm",
        "--components",
        components.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    // The app, and the lock composing writes beside the manifest.
    assert_eq!(project.files(), ["app.wasm", "nanoproc.lock", MANIFEST]);
    let app = std::fs::read(project.path("app.wasm")).unwrap();
    nanoproc_linker::check_framing(&app).unwrap();
}

#[test]
fn an_app_of_ten_thousand_components_is_refused_at_once() {
    let mut manifest = String::from("[app]\nexport = [\"c0\"]\n");
    for i in 0..10_000 {
        manifest.push_str(&format!("[components.c{i}]\npath = \"c.wasm\"\n"));
    }
    let project = Project::new(&[
        (MANIFEST, manifest.as_bytes()),
        ("c.wasm", &fixture("err-bit-flip-in-type", "callee.wasm")),
    ]);
    project.refused(
        &["compose", MANIFEST, "-o", "app.wasm"],
        1,
        r#"  × the app needs 10000 components, more than the 1000 one component may hold
      ╭─[nanoproc.toml:2003:1]
 2002 │ path = "c.wasm"
 2003 │ [components.c1000]
      · ──────────────────
 2004 │ path = "c.wasm"
      ╰────
  help: compose groups of its components into apps of their own first (a composed app is a component), and name those in this manifest
"#,
    );
}

#[test]
fn run_and_call_refuse_an_app_cut_short_or_not_an_app() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("empty.wasm", b"", "the file is empty"),
        (
            "header.wasm",
            &fixture("err-truncated-header", "callee.wasm"),
            "the file is cut short: it ends 7 bytes into the 8-byte component header",
        ),
        (
            "module.wasm",
            &fixture("err-truncated-after-module-header", "callee.wasm"),
            "the file is cut short, or corrupt: the section at offset 0x8 is 19714 bytes long, but \
             the file ends 8 bytes into it",
        ),
        (
            "section.wasm",
            &fixture("err-truncated-in-section", "callee.wasm"),
            "the file is cut short, or corrupt: the section at offset 0x8 is 19714 bytes long, but \
             the file ends 4084 bytes into it",
        ),
        (
            "notes.wasm",
            b"not an app\n",
            "this is not a wasm component (it does not start with the component header)",
        ),
    ];
    for (file, bytes, error) in cases {
        let project = Project::new(&[(file, bytes)]);
        let name = file.trim_end_matches(".wasm");
        let error = format!("error: cannot load `{name}` ({file}): {error}\n");
        project.refused(&["run", file], 1, &error);
        project.refused(&["call", file, "step(1)"], 1, &error);
        project.refused(&["call", file, "step(1)", "--no-cache"], 1, &error);
    }
}

#[test]
fn a_command_that_cannot_be_meant_exits_with_2() {
    let project = Project::new(&[
        (
            MANIFEST,
            b"[app]\nexport = [\"c\"]\n[components.c]\npath = \"c.wasm\"\n",
        ),
        ("c.wasm", &fixture("err-bit-flip-in-type", "callee.wasm")),
    ]);
    project.refused(
        &["compose", MANIFEST, "-o", MANIFEST],
        2,
        "error: the output nanoproc.toml is the manifest, which composing reads: write the app to \
         another file\n",
    );
    project.refused(
        &["compose", MANIFEST, "-o", "./c.wasm"],
        2,
        "error: the output ./c.wasm is component `c`, which composing reads: write the app to \
         another file\n",
    );
    let output = project.nanoproc(&["compose", MANIFEST]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).starts_with(
            "error: the following required arguments were not provided:\n  --output <FILE>\n"
        ),
        "{output:?}"
    );
    let output = project.nanoproc(&["link", MANIFEST]);
    assert_eq!(output.status.code(), Some(2));
    let output = project.nanoproc(&["call", "app.wasm", "f()", "--timeout", "soon"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_output_that_cannot_be_written_is_refused_and_leaves_nothing() {
    let project = Project::new(&[(
        MANIFEST,
        b"[app]\nexport = [\"markdown\"]\n[components.markdown]\nguest = \"markdown\"\n",
    )]);
    std::fs::create_dir(project.path("out")).unwrap();
    let components = root().join("target/components");
    let components = components.to_str().unwrap();
    let args = ["compose", MANIFEST, "--components", components, "-o"];
    project.refused(
        &[&args[..], &["out"]].concat(),
        1,
        "error: cannot write out: Is a directory (os error 21)\n",
    );
    project.refused(
        &[&args[..], &["missing/app.wasm"]].concat(),
        1,
        "error: cannot write missing/app.wasm (in missing): No such file or directory (os error 2)\n",
    );
    assert!(
        Path::new(&project.path("out"))
            .read_dir()
            .unwrap()
            .next()
            .is_none()
    );
}
