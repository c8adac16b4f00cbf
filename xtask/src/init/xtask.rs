//! `cargo xtask`: this project's build, run and test commands, which are
//! nanoproc's (`cargo xtask --help` lists them).

fn main() -> std::process::ExitCode {
    nanoproc_xtask::project_main(env!("CARGO_MANIFEST_DIR"))
}
