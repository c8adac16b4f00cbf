//! `cargo xtask` in nanoproc's own workspace: see the library for the commands.

fn main() -> std::process::ExitCode {
    nanoproc_xtask::main()
}
