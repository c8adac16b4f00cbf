//! The check `cargo xtask test` runs on authoring: in a scratch project of
//! its own, `cargo xtask new` makes a library, an app and a crate wrapper,
//! which must build, compose, run, pass their own tests and be rebuilt and
//! rerun by `watch` after an edit, with no other edit; and the mistakes a
//! newcomer makes get their exact errors. Then the README's two
//! walkthroughs run as written, at the project's root.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

use crate::guests::COMPONENTS_DIR;

/// Runs the whole check; the scratch project is removed afterwards unless
/// the check failed (it is then named, to look into).
pub fn check(root: &Path) -> Result<()> {
    let started = Instant::now();
    let scratch = root.join("target/scaffolds");
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "xtask: checking `cargo xtask new` in a scratch project ({})",
        crate::relative(root, &scratch).display()
    );
    setup(root, &scratch)?;
    steps(&scratch).with_context(|| {
        format!(
            "the scaffold check failed; its project is left in {}",
            scratch.display()
        )
    })?;
    std::fs::remove_dir_all(&scratch)?;
    for name in ["scaffold-lib", "scaffold-app", "scaffold-crate"] {
        let _ = std::fs::remove_file(root.join(COMPONENTS_DIR).join(format!("{name}.wasm")));
    }
    for walkthrough in WALKTHROUGHS {
        walkthrough.run(root)?;
    }
    crate::projects::check(root)?;
    eprintln!(
        "xtask: scaffolds passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A workspace like a user's: nanoproc's workspace settings and lock file,
/// no guests (their sandbox crates are members too), and nanoproc's crates
/// as path dependencies. Its `target` is nanoproc's, so nothing already
/// built is built again.
fn setup(root: &Path, scratch: &Path) -> Result<()> {
    let manifest = crate::init::workspace_of(root, &["guests/*", "guests/*/sandbox"])?;
    std::fs::create_dir_all(scratch.join("guests"))?;
    std::fs::create_dir_all(scratch.join("wit"))?;
    std::fs::write(scratch.join("Cargo.toml"), toml::to_string(&manifest)?)?;
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"))?;
    std::os::unix::fs::symlink(root.join("target"), scratch.join("target"))
        .context("cannot link the scratch project's target directory")?;
    Ok(())
}

fn steps(scratch: &Path) -> Result<()> {
    let xtask = |args: &[&str]| xtask(scratch, args);

    for args in [
        &["new", "scaffold-lib", "--lib"][..],
        &["new", "scaffold-app", "--app"],
        &["new", "scaffold-crate", "--from-crate", "heck"],
    ] {
        succeeds(&xtask(args)?, args)?;
    }
    // A library's sandbox crate, for native programs; an app has none.
    for name in ["scaffold-lib", "scaffold-crate"] {
        let lib = scratch.join(format!("guests/{name}/sandbox/src/lib.rs"));
        ensure!(lib.is_file(), "`new` wrote no {}", lib.display());
    }
    ensure!(
        !scratch.join("guests/scaffold-app/sandbox").exists(),
        "`new --app` wrote a sandbox crate"
    );
    let call = [
        "run",
        "guests/scaffold-lib/nanoproc.toml",
        "--call",
        r#"greet("world")"#,
    ];
    expect_stdout(&xtask(&call)?, &call, "\"Hello, world!\"\n")?;
    let run = ["run", "guests/scaffold-app/nanoproc.toml"];
    expect_stdout(&xtask(&run)?, &run, "Hello from scaffold-app!\n")?;
    let about = [
        "run",
        "guests/scaffold-crate/nanoproc.toml",
        "--call",
        "about()",
    ];
    let output = xtask(&about)?;
    succeeds(&output, &about)?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(
        text.starts_with("\"wraps heck 0.") && text.ends_with("\"\n"),
        "`about()` of the crate wrapper printed {text:?}"
    );

    let compose = [
        "compose",
        "guests/scaffold-lib/nanoproc.toml",
        "-o",
        "lib.wasm",
    ];
    succeeds(&xtask(&compose)?, &compose)?;
    let composed = std::fs::read(scratch.join("lib.wasm"))?;
    nanoproc_linker::ComponentInterface::read(&composed)
        .context("`cargo xtask compose` wrote no component")?;

    // Their own tests, run as a user runs them.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["test", "--workspace"])
        .current_dir(scratch)
        .output()
        .context("cannot run cargo test")?;
    succeeds(&output, &["cargo test --workspace"])?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let passed = stdout
        .lines()
        .filter(|l| l.starts_with("test result: ok. 1 passed"))
        .count();
    ensure!(
        passed == 3,
        "expected each scaffold's one test to pass, got:\n{stdout}"
    );

    watch(scratch)?;

    // What a newcomer gets wrong, and what they are told.
    errors(scratch, &xtask)
}

/// `watch` runs the library, then again after its code changes.
fn watch(scratch: &Path) -> Result<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--project")
        .arg(scratch)
        .args([
            "watch",
            "guests/scaffold-lib/nanoproc.toml",
            "--call",
            r#"greet("watch")"#,
        ])
        .current_dir(scratch)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (lines, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |expected: &str| -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match seen.recv_timeout(left) {
                Ok(line) if line == expected => return Ok(()),
                Ok(_) => {}
                Err(_) => bail!("`watch` never printed {expected}"),
            }
        }
    };
    let result = wait_for(r#""Hello, watch!""#).and_then(|()| {
        let lib = scratch.join("guests/scaffold-lib/src/lib.rs");
        let text = std::fs::read_to_string(&lib)?;
        std::fs::write(&lib, text.replace("Hello, {name}!", "Goodbye, {name}!"))?;
        wait_for(r#""Goodbye, watch!""#)
    });
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Each mistake gives exactly its error.
fn errors(scratch: &Path, xtask: &dyn Fn(&[&str]) -> Result<Output>) -> Result<()> {
    std::fs::write(
        scratch.join("guests/scaffold-app/other.toml"),
        "[app]\nexport = [\"app\"]\n\n[components.app]\nguest = \"scaffold-app\"\n\n[components.helper]\nguest = \"helper\"\n",
    )?;
    let cases: [(&[&str], &str); 4] = [
        (
            &["new", "scaffold-lib", "--lib"],
            "error: guests/scaffold-lib already exists: choose another name, or remove it first\n",
        ),
        (
            &["new", "Hello", "--lib"],
            "error: the component's name `Hello` is not lowercase words joined by `-` (such as \
             `word-count`): each word starts with a letter `a`-`z` and has only letters and digits\n",
        ),
        (
            &["build", "guests/scaffold-app/other.toml"],
            "  × component `helper` names the guest `helper`, but there is no guests/helper: create \
             it with `cargo xtask new helper --lib`, or name one of scaffold-app, scaffold-crate, \
             scaffold-lib\n   ╭─[guests/scaffold-app/other.toml:7:1]\n 6 │ \n 7 │ [components.helper]\n   \
             · ───────────────────\n 8 │ guest = \"helper\"\n   ╰────\n",
        ),
        (
            &["run", "guests/scaffold-app/missing.toml"],
            "  × guests/scaffold-app/missing.toml: cannot read the manifest\n  ╰─▶ No such file or \
             directory (os error 2)\n",
        ),
    ];
    for (args, expected) in cases {
        let output = xtask(args)?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        ensure!(
            !output.status.success() && stderr == expected,
            "`cargo xtask {}` said:\n{stderr}\nexpected:\n{expected}",
            args.join(" ")
        );
    }
    ensure!(
        !scratch.join("guests/Hello").exists() && !scratch.join("wit/Hello").exists(),
        "a refused `new` left files behind"
    );

    // A crate crates.io does not have: cargo says so, and nothing stays.
    let args = [
        "new",
        "wraps-nothing",
        "--from-crate",
        "no-such-crate-0a6f2c",
    ];
    let output = xtask(&args)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = "error: `cargo add no-such-crate-0a6f2c` failed (exit status: 101); \
                    nothing was created\n";
    ensure!(
        !output.status.success() && stderr.ends_with(expected),
        "`cargo xtask {}` said:\n{stderr}\nexpected it to end with:\n{expected}",
        args.join(" ")
    );
    ensure!(
        !scratch.join("guests/wraps-nothing").exists()
            && !scratch.join("wit/wraps-nothing").exists(),
        "a failed `cargo add` left the new component behind"
    );
    Ok(())
}

/// Runs this xtask on the scratch project, from its directory.
fn xtask(scratch: &Path, args: &[&str]) -> Result<Output> {
    eprintln!("xtask:   cargo xtask {}", args.join(" "));
    Command::new(std::env::current_exe()?)
        .arg("--project")
        .arg(scratch)
        .args(args)
        .current_dir(scratch)
        .output()
        .context("cannot run xtask")
}

fn succeeds(output: &Output, args: &[&str]) -> Result<()> {
    ensure!(
        output.status.success(),
        "`{}` failed ({}):\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn expect_stdout(output: &Output, args: &[&str], expected: &str) -> Result<()> {
    succeeds(output, args)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        stdout == expected,
        "`cargo xtask {}` printed {stdout:?}, not {expected:?}",
        args.join(" ")
    );
    Ok(())
}

/// A section of the README whose shell blocks are run in order at the
/// project's root, and what they make, removed again afterwards.
struct Walkthrough {
    heading: &'static str,
    /// Components it creates: their guest, WIT and built component.
    components: &'static [&'static str],
    /// Other directories it creates at the root.
    dirs: &'static [&'static str],
}

/// The README's walkthroughs, in the order they are run.
const WALKTHROUGHS: [Walkthrough; 2] = [
    Walkthrough {
        heading: "## Put your own dependency in a nanoprocess",
        components: &["words", "counter"],
        dirs: &[],
    },
    Walkthrough {
        heading: "## Sandbox one dependency of your Rust program",
        components: &["cases"],
        dirs: &["titles"],
    },
];

impl Walkthrough {
    /// What the walkthrough makes (the program's build output in `target/`
    /// aside).
    fn made(&self, root: &Path) -> Vec<std::path::PathBuf> {
        let components = self.components.iter().flat_map(|name| {
            [
                root.join("guests").join(name),
                root.join("wit").join(name),
                root.join(COMPONENTS_DIR).join(format!("{name}.wasm")),
            ]
        });
        let dirs = self.dirs.iter().map(|dir| root.join(dir));
        components.chain(dirs).collect()
    }

    /// Runs the walkthrough at the project's root, then removes what it
    /// made and puts `Cargo.toml` and `Cargo.lock` back as they were, also
    /// when a step failed.
    fn run(&self, root: &Path) -> Result<()> {
        let readme = std::fs::read_to_string(root.join("README.md"))?;
        let blocks = shell_blocks(&readme, self.heading)?;
        let title = self.heading.trim_start_matches("## ");
        let made = self.made(root);
        if let Some(there) = made.iter().find(|path| path.exists()) {
            let paths: Vec<_> = made
                .iter()
                .filter(|path| path.extension().is_none())
                .map(|path| crate::relative(root, path).display().to_string())
                .collect();
            let members = match self.dirs {
                [] => String::new(),
                dirs => format!(" and {} from `members` in Cargo.toml", dirs.join(", ")),
            };
            eprintln!(
                "xtask: the README's walkthrough `{title}` is not run: {} exists (left by \
                 following it, or by a run that was stopped); remove {}{members} to run it",
                crate::relative(root, there).display(),
                paths.join(", ")
            );
            return Ok(());
        }
        eprintln!(
            "xtask: running the README's walkthrough `{title}` ({} shell blocks)",
            blocks.len()
        );
        let kept: Vec<_> = ["Cargo.toml", "Cargo.lock"]
            .into_iter()
            .map(|file| Ok((root.join(file), std::fs::read(root.join(file))?)))
            .collect::<Result<_>>()?;
        let started = Instant::now();
        let result = blocks
            .iter()
            .try_for_each(|block| run_block(root, block, &[]));
        for path in &made {
            let _ = std::fs::remove_dir_all(path);
            let _ = std::fs::remove_file(path);
        }
        for (path, bytes) in &kept {
            if std::fs::read(path).ok().as_ref() != Some(bytes) {
                std::fs::write(path, bytes)?;
            }
        }
        result.with_context(|| {
            format!("the README's walkthrough `{title}` does not work as written")
        })?;
        eprintln!(
            "xtask: the walkthrough `{title}` passed in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// A shell block of a README: its code, and whether it shows a command
/// failing (its fence is `` ```sh fails ``).
#[derive(Debug, PartialEq, Eq)]
pub struct Block {
    /// The code, ending in a newline.
    pub code: String,
    /// Whether the block must fail, printing its expected lines.
    pub fails: bool,
}

/// The shell blocks of the README section `heading`, but those that run
/// until interrupted (`watch`): the scaffold check runs `watch` itself.
pub fn shell_blocks(readme: &str, heading: &str) -> Result<Vec<Block>> {
    let start = readme
        .find(heading)
        .with_context(|| format!("README.md has no section `{heading}`"))?;
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let blocks: Vec<Block> = section
        .split("```sh")
        .skip(1)
        .filter_map(|block| {
            let (fence, rest) = block.split_once('\n')?;
            let fails = match fence.trim() {
                "" => false,
                "fails" => true,
                _ => return None,
            };
            let (code, _) = rest.split_once("\n```")?;
            Some(Block {
                code: format!("{code}\n"),
                fails,
            })
        })
        .filter(|block| !block.code.contains("cargo xtask watch"))
        .collect();
    ensure!(
        !blocks.is_empty(),
        "README.md's `{heading}` has no shell block"
    );
    Ok(blocks)
}

/// Runs one shell block in `dir` with the environment variables `env` set;
/// every `# …` line right after a command is a line it must print (`…`
/// stands for anything; trailing spaces do not count). A block that
/// `fails` must fail, and its lines are looked for in what it printed to
/// stdout and stderr.
pub fn run_block(dir: &Path, block: &Block, env: &[(&str, &OsStr)]) -> Result<()> {
    let code = &block.code;
    let first = code.lines().next().unwrap_or_default();
    eprintln!(
        "xtask:   $ {first}{}",
        if code.lines().count() > 1 { " …" } else { "" }
    );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", code])
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .context("cannot run bash")?;
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if block.fails {
        ensure!(
            !output.status.success(),
            "this block was to fail, but passed:\n{code}\nits output:\n{printed}{stderr}"
        );
        printed.push_str(&stderr);
    } else {
        ensure!(
            output.status.success(),
            "this block failed ({}):\n{code}\nits output:\n{printed}{stderr}",
            output.status,
        );
    }
    for expected in expected_lines(code) {
        let expected = expected.trim_end();
        let found = printed
            .lines()
            .map(str::trim_end)
            .any(|line| match expected.split_once('…') {
                Some((start, end)) => {
                    line.len() >= start.len() + end.len()
                        && line.starts_with(start)
                        && line.ends_with(end)
                }
                None => line == expected,
            });
        ensure!(
            found,
            "this block did not print `{expected}`:\n{code}\nit printed:\n{printed}"
        );
    }
    Ok(())
}

/// The `# …` comment lines that follow a command outside a here-document.
pub fn expected_lines(block: &str) -> Vec<&str> {
    let mut expected = Vec::new();
    let mut heredoc_end: Option<&str> = None;
    for line in block.lines() {
        if let Some(end) = heredoc_end {
            if line == end {
                heredoc_end = None;
            }
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            expected.push(comment);
        } else if let Some((_, rest)) = line.split_once("<<'") {
            heredoc_end = rest.split_once('\'').map(|(end, _)| end);
        }
    }
    expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walkthrough_is_its_shell_blocks_without_watch() {
        let readme = "# Title\n\n## Steps\n\nText.\n\n```sh\necho one\n# one\n```\n\n\
                      ```toml\n[a]\n```\n\n```sh\ncargo xtask watch x.toml\n```\n\n\
                      ## Next\n\n```sh\necho no\n```\n";
        assert_eq!(
            shell_blocks(readme, "## Steps").unwrap(),
            vec![Block {
                code: "echo one\n# one\n".to_string(),
                fails: false
            }]
        );
        let readme = "## Fails\n\n```sh fails\nfalse\n```\n\n```shell\nno\n```\n";
        assert_eq!(
            shell_blocks(readme, "## Fails").unwrap(),
            vec![Block {
                code: "false\n".to_string(),
                fails: true
            }]
        );
        assert_eq!(
            shell_blocks(readme, "## Missing").unwrap_err().to_string(),
            "README.md has no section `## Missing`"
        );
    }

    #[test]
    fn expected_lines_are_comments_outside_here_documents() {
        let block = "cat > a.rs <<'EOF'\n# not expected\nEOF\nrun it\n# 3 words\n";
        assert_eq!(expected_lines(block), vec!["3 words"]);
    }

    #[test]
    fn the_readme_walkthrough_has_blocks_and_expectations() {
        let readme = std::fs::read_to_string(crate::nanoproc_root().join("README.md")).unwrap();
        for walkthrough in WALKTHROUGHS {
            let blocks = shell_blocks(&readme, walkthrough.heading).unwrap();
            assert!(blocks.len() >= 5, "{blocks:?}");
            assert!(blocks.iter().flat_map(|b| expected_lines(&b.code)).count() >= 3);
        }
    }
}
