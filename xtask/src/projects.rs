//! The check `cargo xtask test` runs on `cargo xtask init`: the README's
//! section "Start your own app" runs as written, making a project in a
//! temporary home folder outside this tree; then, in that project, the
//! sections of its own README run as written: its two commands, and adding
//! a crate in a nanoprocess, wiring it into the app, testing it and meeting
//! a missing grant, running one of nanoproc's library components by name,
//! and calling a component from a native program. Nothing may be written
//! into nanoproc's tree.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};

use crate::guests::COMPONENTS_DIR;
use crate::scaffolds::{run_block, shell_blocks};

/// nanoproc's README section that makes the project.
const START: &str = "## Start your own app";
/// The folder, in the home folder, the section makes the project in.
const PROJECT: &str = "greetings";
/// The project's README sections that are run there, in order.
const OWN_SECTIONS: [&str; 4] = [
    "## The two commands",
    "## Put a dependency in a nanoprocess",
    "## Use nanoproc's components",
    "## Call a component from a native program",
];

/// Runs the check; the temporary home folder is removed afterwards unless
/// the check failed (it is then named, to look into).
pub fn check(root: &Path) -> Result<()> {
    let started = Instant::now();
    let home = std::env::temp_dir().join(format!("nanoproc-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).with_context(|| format!("cannot create {}", home.display()))?;
    let home = home.canonicalize()?;
    ensure!(
        !home.starts_with(root.canonicalize()?),
        "the temporary folder {} is inside nanoproc's tree",
        home.display()
    );
    eprintln!(
        "xtask: following the README's `{}` with {} as the home folder",
        START.trim_start_matches("## "),
        home.display()
    );
    let before = tree(root);
    follow(root, &home).with_context(|| {
        format!(
            "a project of its own does not work as the READMEs say; it is left in {}",
            home.join(PROJECT).display()
        )
    })?;
    let after = tree(root);
    ensure!(
        after == before,
        "making and using a project of its own changed nanoproc's tree:\nbefore:\n{}\nafter:\n{}",
        before.join("\n"),
        after.join("\n")
    );
    std::fs::remove_dir_all(&home)?;
    eprintln!(
        "xtask: a project of its own passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs nanoproc's README section at `root`, then the project's own
/// sections in the project it made, with `home` as the home folder.
fn follow(root: &Path, home: &Path) -> Result<()> {
    let env = environment(home);
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let readme = std::fs::read_to_string(root.join("README.md"))?;
    for block in shell_blocks(&readme, START)? {
        run_block(root, &block, &env)?;
    }
    let project = home.join(PROJECT);
    let own = std::fs::read_to_string(project.join("README.md"))
        .with_context(|| format!("{START} made no project in ~/{PROJECT}"))?;
    for heading in OWN_SECTIONS {
        eprintln!("xtask: in the project, its README's `{heading}`");
        for block in shell_blocks(&own, heading)? {
            run_block(&project, &block, &env)?;
        }
    }
    Ok(())
}

/// `home` as the home folder, with cargo's and rustup's homes left where
/// they are.
fn environment(home: &Path) -> Vec<(&'static str, OsString)> {
    let real = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let keep = |var: &str, default: &str| {
        std::env::var_os(var).unwrap_or_else(|| real.join(default).into_os_string())
    };
    vec![
        ("HOME", home.as_os_str().to_owned()),
        ("CARGO_HOME", keep("CARGO_HOME", ".cargo")),
        ("RUSTUP_HOME", keep("RUSTUP_HOME", ".rustup")),
    ]
}

/// What of nanoproc's tree a project of its own must leave alone: the files
/// git sees changed or new, and the components built for nanoproc.
fn tree(root: &Path) -> Vec<String> {
    let mut lines: Vec<String> = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut components: Vec<String> = std::fs::read_dir(root.join(COMPONENTS_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| format!("component {}", e.file_name().to_string_lossy()))
        .collect();
    components.sort();
    lines.extend(components);
    lines
}
