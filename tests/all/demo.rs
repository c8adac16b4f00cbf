//! The demo, end to end, as `cargo xtask demo` runs it: both apps write
//! exactly what the same crates write natively, byte for byte; the
//! compromised markdown release is refused at compose time, and at run time
//! each of its attempts is refused and logged while the output stays right.
//! A control run shows its payload does steal when it is granted enough.

use std::process::Command;

use nanoproc_host::{Options, Refusals, Stdio};
use nanoproc_tests::{files, native, project_root, runtime};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// The fake secrets the test gives the demo process.
const SECRETS: &[(&str, &str)] = &[
    ("AWS_SECRET_ACCESS_KEY", "test-canary-aws-0d9b"),
    ("GITHUB_TOKEN", "test-canary-github-71ce"),
];

/// The lines of `text` after the line `start` up to the line that starts
/// with `end`, without their margin.
fn section<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|line| line.trim() != start)
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with(end))
        .map(|line| line.trim_start().trim_start_matches("| "))
        .collect()
}

#[test]
fn the_demo_builds_the_native_site_and_contains_the_compromised_dependency() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--work")
        .arg(work.path())
        .args(["--rounds", "1"])
        .envs(SECRETS.iter().copied())
        .current_dir(project_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");

    // The native build, made here with the same crates.
    let native_dir = tempfile::tempdir().unwrap();
    let report = native::site(
        &project_root().join("guests/site/sample"),
        native_dir.path(),
    )
    .unwrap();
    let expected = files(native_dir.path()).unwrap();
    assert_eq!(expected.len(), 6);
    for app in ["site", "compromised"] {
        let out = work.path().join("home").join(app).join("out");
        assert!(
            files(&out).unwrap() == expected,
            "{} differs from native",
            out.display()
        );
    }
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("stdout | "))
        .collect();
    assert_eq!(printed, report.lines().collect::<Vec<_>>());

    // No secret anywhere the apps wrote.
    let planted = [
        std::fs::read_to_string(work.path().join("home/.ssh/id_rsa")).unwrap(),
        std::fs::read_to_string(work.path().join("home/.aws/credentials")).unwrap(),
    ];
    for app in ["site", "compromised"] {
        for (name, bytes) in files(&work.path().join("home").join(app).join("out")).unwrap() {
            let text = String::from_utf8_lossy(&bytes);
            for secret in SECRETS
                .iter()
                .map(|(_, s)| *s)
                .chain(planted.iter().map(|s| s.trim()))
            {
                assert!(!text.contains(secret), "{app}/out/{name} holds `{secret}`");
            }
        }
    }

    assert_eq!(
        section(
            &stdout,
            "composed with the site's own manifest, it is refused:",
            "the site's reviewed lock"
        ),
        [
            "  × component `markdown` imports `wasi:cli/environment@0.2.12`, `wasi:filesystem/types@0.2.12`, \
             `wasi:filesystem/preopens@0.2.12`, `wasi:sockets/network@0.2.12`, \
             `wasi:sockets/instance-network@0.2.12`, `wasi:sockets/tcp@0.2.12`, \
             `wasi:sockets/tcp-create-socket@0.2.12`, which are not granted to it",
            "    ╭─[guests/site/nanoproc.toml:26:1]",
            " 25 │",
            " 26 │ [components.markdown]",
            "    · ─────────────────────",
            " 27 │ guest = \"markdown\"",
            "    ╰────",
            "  help: to grant them, add `env = [\"VAR\"]` and `dirs = [{ host = \"dir\", mode = \"read-only\" }]` \
             and `network = [\"host:port\"]` under `[components.markdown.grants]`",
        ]
    );
    // The site's lock, which the compromised release with its grants
    // widened does not pass, and what `nanoproc diff` says it holds.
    let lock_path = format!("{}/nanoproc.lock", work.path().display());
    let lock = section(
        &stdout,
        &format!(
            "the site's reviewed lock ({lock_path}, as `nanoproc lock` writes it and a project \
             commits it) pins the genuine markdown:"
        ),
        "with the manifest's grants widened",
    );
    let sha256 = lock
        .get(1)
        .and_then(|line| line.strip_prefix("sha256 = \""))
        .and_then(|line| line.strip_suffix('"'))
        .expect("the lock's sha256 line");
    assert!(
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha256}"
    );
    assert_eq!(
        lock.iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, line)| *line)
            .collect::<Vec<_>>(),
        [
            "[components.markdown]",
            "guest = \"markdown\"",
            "crates = [\"pulldown-cmark 0.13.6\"]",
            "grants = []",
            "[components.markdown.exports.\"nanoproc:markdown/render@0.1.0\"]",
            "outline = \"a6977b169987b3dc -> c0d1731ec6c722a4\"",
            "to-html = \"a6977b169987b3dc -> 473287f8298dba71\"",
        ]
    );
    let new_imports = [
        "wasi:cli/environment@0.2.12",
        "wasi:filesystem/preopens@0.2.12",
        "wasi:filesystem/types@0.2.12",
        "wasi:io/error@0.2.12",
        "wasi:io/poll@0.2.12",
        "wasi:io/streams@0.2.12",
        "wasi:sockets/instance-network@0.2.12",
        "wasi:sockets/network@0.2.12",
        "wasi:sockets/tcp-create-socket@0.2.12",
        "wasi:sockets/tcp@0.2.12",
    ];
    let widened = [
        "dirs sample as /docs (read-only)",
        "env LANG",
        "network 127.0.0.1:4318",
    ];
    let mut refused = vec![
        format!("  × the app `site` differs from what {lock_path} says was reviewed:"),
        "  │   - `markdown` now comes from the guest `markdown-compromised` (pulldown-cmark \
         0.13.6) (locked: the guest `markdown` (pulldown-cmark 0.13.6))"
            .to_string(),
    ];
    refused.extend(
        new_imports
            .iter()
            .map(|import| format!("  │   - `markdown` now imports `{import}`")),
    );
    refused.extend(
        widened
            .iter()
            .map(|grant| format!("  │   - `markdown` is now granted `{grant}`")),
    );
    refused.push(
        "  help: review the changes; to accept them, write the lock again with `nanoproc lock` \
         (or compose without `--locked`) and commit it"
            .to_string(),
    );
    assert_eq!(
        section(
            &stdout,
            "with the manifest's grants widened \"to make it build\" \
             (guests/site/compromised.toml), it composes, and `--locked` refuses it:",
            "`nanoproc diff",
        ),
        refused
    );
    let mut diff: Vec<String> = new_imports
        .iter()
        .map(|import| format!("! `markdown` now imports `{import}`"))
        .collect();
    diff.extend(
        widened
            .iter()
            .map(|grant| format!("! `markdown` is now granted `{grant}`")),
    );
    diff.push(
        "more authority: 13 changes (marked !) give the new what the old did not hold".to_string(),
    );
    assert_eq!(
        section(
            &stdout,
            &format!(
                "`nanoproc diff {lock_path} guests/site/compromised.toml` names what it now \
                 reaches for, and exits 1 (more authority):"
            ),
            "granted narrowly",
        ),
        diff
    );

    let refusals = section(
        &stdout,
        "run, the host refuses each attempt and logs it:",
        "its output",
    );
    let (environment, rest) = refusals.split_first().expect("refusals");
    assert!(
        environment.starts_with("refused `markdown` ")
            && environment.ends_with(": not in its environment grant (left out, no error)"),
        "{environment}"
    );
    assert_eq!(
        rest,
        [
            "refused `markdown` opening `../.ssh/id_rsa` in a granted directory: not in its filesystem grant (not-permitted)",
            "refused `markdown` opening `../../.ssh/id_rsa` in a granted directory: not in its filesystem grant (not-permitted)",
            "refused `markdown` opening `../.aws/credentials` in a granted directory: not in its filesystem grant (not-permitted)",
            "refused `markdown` opening `../../.aws/credentials` in a granted directory: not in its filesystem grant (not-permitted)",
            "refused `markdown` a TCP connection to 203.0.113.7:443: not in its network grant (access-denied)",
        ]
    );
    let calls = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("calls between components"))
        .expect("the number of calls between components");
    assert_eq!(
        calls.split_whitespace().collect::<Vec<_>>().join(" "),
        "calls between components in one run 19 (site -> pages 1; \
         pages -> json 4, markdown 4, compress 3, hash 3, logger 4)"
    );
    assert!(work.path().join("site.svg").is_file());
}

/// The control: granted the home directory itself, the compromised release
/// does steal the planted key and hides it in the page it renders.
#[test]
fn granted_enough_the_compromised_dependency_steals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("home/.ssh")).unwrap();
    std::fs::write(dir.path().join("home/.ssh/id_rsa"), "planted-key-3e1f\n").unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::create_dir(dir.path().join("sample")).unwrap();
    std::fs::write(dir.path().join("sample/page.md"), "# Page\n").unwrap();
    let manifest = std::fs::read_to_string(project_root().join("guests/site/compromised.toml"))
        .unwrap()
        .replace(
            r#"dirs = [{ host = "sample", guest = "/docs", mode = "read-only" }]"#,
            r#"dirs = [{ host = "home", guest = "/docs", mode = "read-only" }]"#,
        );
    std::fs::write(dir.path().join("nanoproc.toml"), manifest).unwrap();
    let composition =
        nanoproc_tests::compose_manifest(dir.path().join("nanoproc.toml").to_str().unwrap())
            .unwrap();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let options = Options {
        base_dir: dir.path().to_path_buf(),
        args: vec!["site".into()],
        stdout: Stdio::Pipe(stdout.clone()),
        stderr: Stdio::Pipe(MemoryOutputPipe::new(1 << 20)),
        refusals: Refusals::Ignore,
        ..Default::default()
    };
    let app = runtime().load(&composition.bytes, options).unwrap();
    assert_eq!(app.instantiate().unwrap().run().unwrap(), 0);
    let page = std::fs::read_to_string(dir.path().join("out/page.html")).unwrap();
    assert!(
        page.ends_with("<h1>Page</h1>\n<!-- .ssh/id_rsa: planted-key-3e1f\n -->\n"),
        "{page}"
    );
}
