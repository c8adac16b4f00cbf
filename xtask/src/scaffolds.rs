//! The check `cargo xtask test` runs on authoring: in a scratch project of
//! its own, `cargo xtask new` makes a library, an app and a crate wrapper,
//! which must build, compose, run, pass their own tests and be rebuilt and
//! rerun by `watch` after an edit, with no other edit; and the mistakes a
//! newcomer makes get their exact errors.

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
    eprintln!(
        "xtask: scaffolds passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A workspace like a user's: nanoproc's workspace settings and lock file,
/// no guests, and nanoproc's crates as path dependencies. Its `target` is
/// nanoproc's, so nothing already built is built again.
fn setup(root: &Path, scratch: &Path) -> Result<()> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut manifest: toml::Table = text.parse().context("cannot parse Cargo.toml")?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("Cargo.toml has no [workspace]")?;
    workspace.insert("members".into(), toml::Value::from(vec!["guests/*"]));
    workspace.remove("default-members");
    workspace.remove("exclude");
    if let Some(deps) = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_mut())
    {
        for (_, dep) in deps.iter_mut() {
            if let Some(path) = dep.get_mut("path") {
                let absolute = root.join(path.as_str().unwrap_or_default());
                *path = toml::Value::from(absolute.to_string_lossy().into_owned());
            }
        }
    }
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
            "error: guests/scaffold-app/other.toml:7:1: component `helper` names the guest `helper`, \
             but there is no guests/helper: create it with `cargo xtask new helper --lib`, or name \
             one of scaffold-app, scaffold-crate, scaffold-lib\n",
        ),
        (
            &["run", "guests/scaffold-app/missing.toml"],
            "error: guests/scaffold-app/missing.toml: cannot read the manifest: No such file or directory \
             (os error 2)\n",
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
