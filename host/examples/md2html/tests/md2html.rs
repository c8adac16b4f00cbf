//! The two commands side by side: `md2html` (the `markdown` component in a
//! nanoprocess) writes byte for byte what `md2html-direct` (pulldown-cmark
//! linked in) writes, over the repository's Markdown and crafted cases,
//! with every combination of extensions; so does the compromised release
//! of the component, whose reaches are refused and reported; the
//! sandboxed command holds no pulldown-cmark code; and errors read as
//! written here.
//!
//! The components are the ones `cargo xtask build` writes to
//! `target/components/`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// The sandboxed command.
const SANDBOXED: &str = env!("CARGO_BIN_EXE_md2html");

/// The command with pulldown-cmark linked in.
const DIRECT: &str = env!("CARGO_BIN_EXE_md2html-direct");

/// The extension flags, in the order of the bits of a combination.
const FLAGS: [&str; 6] = [
    "--tables",
    "--footnotes",
    "--strikethrough",
    "--tasklists",
    "--smart-punctuation",
    "--heading-attributes",
];

/// The workspace's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The built component `name`; fails saying how to build it when missing.
fn component(name: &str) -> PathBuf {
    let path = root()
        .join("target/components")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "target/components/{name}.wasm is missing: build it with `{}`",
        md2html::BUILD_COMMAND
    );
    path
}

/// Crafted cases, by file name.
fn crafted() -> Vec<(&'static str, String)> {
    let mut cases: Vec<(&'static str, String)> = vec![
        ("empty.md", String::new()),
        ("blank.md", " \n\t\n\n   ".into()),
        ("no-final-newline.md", "# Title\n\nlast line".into()),
        (
            "unicode.md",
            "# Ünïcödé 見出し 🦀\n\n\
             Emoji with joiners: 👩‍👩‍👧‍👦, flags 🇳🇿, skin tones 👍🏽.\n\n\
             Right to left: שלום עולם, مرحبا بالعالم.\n\n\
             Combining marks: e\u{301} a\u{30a} n\u{303}; zero width: a\u{200b}b\u{200d}c; \
             a NUL: [\u{0}]; a BOM inside: [\u{feff}].\n\n\
             - 中文列表\n- Ελληνικά *έμφαση*\n- русский **жирный**\n\n\
             `код` and [ссылка](https://example.com/пример?q=ü \"Titel\")\n"
                .into(),
        ),
        (
            "bom-crlf.md",
            "\u{feff}# BOM\r\n\r\nCRLF line\r\nendings\r\n".into(),
        ),
        (
            "tables.md",
            "| Left | Center | Right | None |\n\
             |:-----|:------:|------:|------|\n\
             | a | b | c | d |\n\
             | `x \\| y` | **bold** | ~~gone~~ | [link](/x) |\n\
             | short |\n\
             | too | many | cells | here | and | more |\n\n\
             Not a table:\n\n| a | b |\n| - |\n\n\
             |a|\n|-|\n|1|\n"
                .into(),
        ),
        (
            "footnotes.md",
            "Text with a note[^1] and another[^long] and one undefined[^nope].\n\n\
             [^1]: The first note.\n\
             [^long]: A note with paragraphs.\n\n    Its second paragraph, *indented*.\n\n\
             Use it again[^1]. A note in a note[^outer].\n\n\
             [^outer]: Outer[^inner].\n[^inner]: Inner.\n"
                .into(),
        ),
        (
            "html.md",
            "<div class=\"note\">\n*not emphasis inside a block*\n</div>\n\n\
             Inline <span style=\"color:red\">html</span> and <b>bold</b>.\n\n\
             <script>alert('x')</script>\n\n<!-- a comment -->\n\n\
             Entities: &amp; &copy; &#169; &#x1F980; &nosuch; < > \" '\n\n\
             <https://example.com/auto> <mail@example.com>\n\n\
             [unsafe](javascript:alert(1)) ![img](a.png \"title\")\n"
                .into(),
        ),
        (
            "extensions.md",
            "# Heading {#custom-id .class key=value}\n\n\
             ## Plain heading\n\n\
             - [ ] open task\n- [x] done task\n- [X] done too\n\n\
             ~~struck~~ and ~single~ and ~~~triple~~~\n\n\
             \"Quoted\" -- en -- and --- em --- and ... 'single'\n\n\
             Setext\n======\n"
                .into(),
        ),
        (
            "code.md",
            "```rust\nfn main() { println!(\"<&>\"); }\n```\n\n    indented <code>\n\n\
             ~~~\ntilde fence\n~~~\n\n``` \nunclosed fence\n"
                .into(),
        ),
    ];
    let depth = 200;
    let mut lists = String::new();
    for level in 0..depth {
        lists.push_str(&"  ".repeat(level));
        lists.push_str(&format!("- level {level}\n"));
    }
    cases.push(("nested-lists.md", lists));
    let mut mixed = String::new();
    for level in 0..depth {
        mixed.push_str(&"> ".repeat(level));
        mixed.push_str(&format!("{}. item {level}\n", level + 1));
    }
    cases.push(("nested-quotes.md", mixed));
    cases.push((
        "nested-emphasis.md",
        format!(
            "{}x{}\n\n{}link{}\n",
            "*_".repeat(500),
            "_*".repeat(500),
            "[".repeat(2000),
            "]".repeat(2000)
        ),
    ));
    cases
}

/// The corpus in a folder: the repository's Markdown files (named after
/// their paths, so that no two have the same name) and the crafted cases.
fn corpus() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = root();
    let mut files = Vec::new();
    for top in ["README.md", "ARCHITECTURE.md", "SECURITY.md"] {
        assert!(root.join(top).is_file(), "{top} is missing");
        files.push(PathBuf::from(top));
    }
    for folder in ["guests", "tests"] {
        markdown_under(&root, Path::new(folder), &mut files);
    }
    assert!(files.len() > 3, "no Markdown file under guests/ or tests/");
    for file in &files {
        let name = file.to_string_lossy().replace(['/', '\\'], "-");
        std::fs::copy(root.join(file), dir.path().join(name)).unwrap();
    }
    for (name, text) in crafted() {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The `.md` files under `root/folder`, as paths relative to `root`.
fn markdown_under(root: &Path, folder: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(folder))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let path = folder.join(&name);
        if entry.file_type().unwrap().is_dir() {
            if name != "target"
                && name != "node_modules"
                && !name.to_string_lossy().starts_with('.')
            {
                markdown_under(root, &path, files);
            }
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
}

/// The Markdown files of `dir`, by name.
fn inputs(dir: &Path) -> Vec<OsString> {
    let mut names: Vec<OsString> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    names
}

/// Every file of `dir`, by name.
fn contents(dir: &Path) -> BTreeMap<OsString, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// The extension flags of combination `bits`.
fn flags(bits: u32) -> Vec<&'static str> {
    FLAGS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, flag)| *flag)
        .collect()
}

/// `program` with `args`, run in `dir` with an environment of its own:
/// `SECRET_TOKEN` (for a compromised component to look for), `PATH`, and
/// `HOME` (where the per-user cache of compiled components is; a folder
/// of its own when the tests have no home).
fn command(program: &str, dir: &Path, args: &[&str]) -> Command {
    let home = std::env::var_os("HOME").unwrap_or_else(|| dir.join("home").into());
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("SECRET_TOKEN", "hunter2")
        .stdin(Stdio::null());
    cmd
}

fn run(program: &str, dir: &Path, args: &[&str]) -> Output {
    command(program, dir, args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One run of a command over the corpus.
struct Rendered {
    /// The combination of extensions (bits of [`FLAGS`]).
    bits: u32,
    /// The files it wrote, by name.
    files: BTreeMap<OsString, Vec<u8>>,
    stderr: String,
}

/// Renders every file of `corpus` with `program` (and `extra` arguments
/// first) into a fresh folder, once for each combination of extensions.
fn render_all(program: &str, extra: &[&str], corpus: &Path) -> Vec<Rendered> {
    let names = inputs(corpus);
    (0..1 << FLAGS.len())
        .map(|bits| {
            let out = tempfile::tempdir().unwrap();
            let mut args: Vec<&str> = extra.to_vec();
            args.extend(flags(bits));
            args.push("-o");
            args.push(out.path().to_str().unwrap());
            let mut cmd = command(program, corpus, &args);
            cmd.args(&names);
            let output = cmd.output().unwrap();
            assert!(
                output.status.success(),
                "{program} {args:?} failed: {}",
                stderr(&output)
            );
            Rendered {
                bits,
                files: contents(out.path()),
                stderr: stderr(&output),
            }
        })
        .collect()
}

/// Asserts that `actual` is `expected`, file by file.
fn assert_same(what: &str, expected: &[Rendered], actual: &[Rendered]) {
    assert_eq!(expected.len(), actual.len());
    for (expected, actual) in expected.iter().zip(actual) {
        let (bits, want, got) = (&expected.bits, &expected.files, &actual.files);
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>(),
            "{what} {:?}: other files written",
            flags(*bits)
        );
        for (name, want) in want {
            let got = &got[name];
            if want != got {
                let at = want.iter().zip(got).take_while(|(a, b)| a == b).count();
                let around = |bytes: &[u8]| {
                    let start = at.saturating_sub(80);
                    String::from_utf8_lossy(&bytes[start..bytes.len().min(at + 80)]).into_owned()
                };
                panic!(
                    "{what} {:?}: {} differs from md2html-direct's at byte {at}:\n\
                     --- md2html-direct\n{}\n--- {what}\n{}",
                    flags(*bits),
                    name.to_string_lossy(),
                    around(want),
                    around(got)
                );
            }
        }
    }
}

#[test]
fn the_component_writes_what_pulldown_cmark_writes_with_every_combination_of_extensions() {
    let markdown = component("markdown");
    let corpus = corpus();
    let direct = render_all(DIRECT, &[], corpus.path());
    let sandboxed = render_all(
        SANDBOXED,
        &["--component", markdown.to_str().unwrap()],
        corpus.path(),
    );
    assert_same("md2html", &direct, &sandboxed);
    for run in direct.iter().chain(&sandboxed) {
        assert_eq!(run.stderr, "", "{:?}", flags(run.bits));
        assert_eq!(run.files.len(), inputs(corpus.path()).len());
    }
    // Each extension makes a difference, so each flag was passed on.
    let plain = &direct[0].files;
    for (bit, flag) in FLAGS.iter().enumerate() {
        assert_ne!(&direct[1 << bit].files, plain, "{flag} changed nothing");
    }

    // `--all-extensions` is every flag; the default component is the same.
    let out = tempfile::tempdir().unwrap();
    let mut all = command(
        SANDBOXED,
        corpus.path(),
        &["--all-extensions", "-o", out.path().to_str().unwrap()],
    );
    all.args(inputs(corpus.path()));
    let output = all.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(contents(out.path()), direct[(1 << FLAGS.len()) - 1].files);
}

#[test]
fn a_compromised_component_writes_the_same_html_and_every_reach_is_refused() {
    let compromised = component("markdown-compromised");
    let corpus = corpus();
    let direct = render_all(DIRECT, &[], corpus.path());
    let sandboxed = render_all(
        SANDBOXED,
        &["--component", compromised.to_str().unwrap()],
        corpus.path(),
    );
    assert_same(
        "md2html with the compromised component",
        &direct,
        &sandboxed,
    );
    // The payload runs on the first call of an instance: once per run, as
    // every file of a run is rendered by one instance.
    for run in &sandboxed {
        assert_eq!(
            run.stderr,
            "nanoproc: refused `markdown` 3 of the host's environment variables, such as `HOME`: \
             not in its environment grant (left out, no error)\n\
             nanoproc: refused `markdown` a TCP connection to 203.0.113.7:443: \
             not in its network grant (access-denied)\n",
            "{:?}",
            flags(run.bits)
        );
    }

    // From standard input to standard output, too.
    let mut cmd = command(
        SANDBOXED,
        corpus.path(),
        &["--component", compromised.to_str().unwrap(), "-"],
    );
    let output = cmd
        .stdin(std::fs::File::open(corpus.path().join("README.md")).unwrap())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        output.stdout,
        direct[0].files[&OsString::from("README.html")],
        "stdout differs"
    );
    assert_eq!(stderr(&output).lines().count(), 2, "{}", stderr(&output));
}

/// Whether `bytes` holds `needle`.
fn holds(bytes: &[u8], needle: &[u8]) -> bool {
    let (first, rest) = needle.split_first().unwrap();
    let mut at = 0;
    while let Some(i) = bytes[at..].iter().position(|b| b == first) {
        let start = at + i + 1;
        if bytes[start..].starts_with(rest) {
            return true;
        }
        at = start;
    }
    false
}

#[test]
fn only_the_direct_command_holds_pulldown_cmark() {
    // Mangled Rust symbols name each crate of their path; pulldown-cmark's
    // are under `pulldown_cmark`.
    let sandboxed = std::fs::read(SANDBOXED).unwrap();
    let direct = std::fs::read(DIRECT).unwrap();
    assert!(!holds(&sandboxed, b"pulldown_cmark"), "{SANDBOXED}");
    assert!(holds(&direct, b"pulldown_cmark"), "{DIRECT}");
    // ...and the sandboxed one is the one with wasmtime.
    assert!(holds(&sandboxed, b"wasmtime"));
    assert!(!holds(&direct, b"wasmtime"));
}

/// A missing FILE; the others are still rendered.
const MISSING_FILE: &str = "\
error: cannot read `missing.md`: no such file
";

/// A `--component` that does not exist.
const MISSING_COMPONENT: &str = "\
error: cannot read the component `no/such/markdown.wasm`: no such file \
(`cargo xtask build` builds the markdown components into target/components/)
";

/// A `--component` that is no component.
const NOT_A_COMPONENT: &str = "\
error: cannot load the component `page.md`: this is not a wasm component \
(it does not start with the component header)
";

/// Two FILEs with one output file.
const SAME_OUTPUT: &str = "\
error: `b/page.md` and `a/page.md` would both be written to `out/page.html`
";

/// A FILE that would be written over.
const OVERWRITE: &str = "\
error: `page.html` would be written over itself: give -o DIR or --stdout
";

/// A FILE that is not UTF-8.
const NOT_UTF8: &str = "\
error: cannot render `latin1.md`: it is not UTF-8 text (invalid byte at offset 3)
";

#[test]
fn errors_say_what_went_wrong_with_which_file() {
    component("markdown");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("page.md"), "# Page\n").unwrap();
    std::fs::write(dir.join("page.html"), "# not Markdown\n").unwrap();
    std::fs::write(dir.join("latin1.md"), b"caf\xe9\n").unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
        std::fs::write(dir.join(sub).join("page.md"), "text\n").unwrap();
    }

    for program in [SANDBOXED, DIRECT] {
        let output = run(program, dir, &["missing.md", "page.md"]);
        assert_eq!(output.status.code(), Some(1), "{program}");
        assert_eq!(stderr(&output), MISSING_FILE, "{program}");
        assert_eq!(
            std::fs::read_to_string(dir.join("page.html")).unwrap(),
            "<h1>Page</h1>\n",
            "{program}: the file after the missing one was rendered"
        );
        std::fs::write(dir.join("page.html"), "# not Markdown\n").unwrap();

        let output = run(program, dir, &["latin1.md"]);
        assert_eq!(
            (output.status.code(), stderr(&output).as_str()),
            (Some(1), NOT_UTF8),
            "{program}"
        );

        let output = run(program, dir, &["b/page.md", "a/page.md", "-o", "out"]);
        assert_eq!(
            (output.status.code(), stderr(&output).as_str()),
            (Some(2), SAME_OUTPUT),
            "{program}"
        );
        assert!(!dir.join("out").exists(), "{program} wrote before failing");

        let output = run(program, dir, &["page.html"]);
        assert_eq!(
            (output.status.code(), stderr(&output).as_str()),
            (Some(2), OVERWRITE),
            "{program}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("page.html")).unwrap(),
            "# not Markdown\n"
        );

        let output = run(program, dir, &["--stdout", "-o", "out", "page.md"]);
        assert_eq!(output.status.code(), Some(2), "{program}");
        assert!(stderr(&output).contains("cannot be used with"), "{program}");
    }

    let output = run(
        SANDBOXED,
        dir,
        &["--component", "no/such/markdown.wasm", "page.md"],
    );
    assert_eq!(
        (output.status.code(), stderr(&output).as_str()),
        (Some(1), MISSING_COMPONENT)
    );
    let output = run(SANDBOXED, dir, &["--component", "page.md", "page.md"]);
    assert_eq!(
        (output.status.code(), stderr(&output).as_str()),
        (Some(1), NOT_A_COMPONENT)
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn html_goes_beside_each_file_into_a_folder_or_to_stdout() {
    component("markdown");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir(dir.join("docs")).unwrap();
    std::fs::write(dir.join("docs/one.md"), "# One\n").unwrap();
    std::fs::write(dir.join("two.markdown"), "| a |\n|---|\n| 1 |\n").unwrap();

    for program in [SANDBOXED, DIRECT] {
        let output = run(program, dir, &["docs/one.md", "two.markdown"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(output.stdout.is_empty() && output.stderr.is_empty());
        assert_eq!(
            std::fs::read_to_string(dir.join("docs/one.html")).unwrap(),
            "<h1>One</h1>\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("two.html")).unwrap(),
            "<p>| a |\n|---|\n| 1 |</p>\n"
        );

        let output = run(
            program,
            dir,
            &["--tables", "docs/one.md", "two.markdown", "-o", "site/x"],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            std::fs::read_to_string(dir.join("site/x/two.html")).unwrap(),
            "<table><thead><tr><th>a</th></tr></thead><tbody>\n<tr><td>1</td></tr>\n</tbody></table>\n"
        );
        assert!(dir.join("site/x/one.html").is_file());

        let output = run(program, dir, &["--stdout", "docs/one.md", "docs/one.md"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(output.stdout, b"<h1>One</h1>\n<h1>One</h1>\n");

        let output = command(program, dir, &["-", "--strikethrough"])
            .stdin(std::fs::File::open(dir.join("docs/one.md")).unwrap())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(output.stdout, b"<h1>One</h1>\n");

        for dir_entry in ["docs/one.html", "two.html"] {
            std::fs::remove_file(dir.join(dir_entry)).unwrap();
        }
        std::fs::remove_dir_all(dir.join("site")).unwrap();
    }
}
