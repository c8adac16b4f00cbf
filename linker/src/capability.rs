//! The host capabilities a manifest can grant, and which WASI interfaces
//! each one stands for.

use std::fmt;

use crate::manifest::Grants;

/// A capability the host provides to the components granted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// `stdin = true`: `wasi:cli/stdin`, `wasi:cli/terminal-stdin`.
    Stdin,
    /// `stdout = true`: `wasi:cli/stdout`, `wasi:cli/terminal-stdout`.
    Stdout,
    /// `stderr = true`: `wasi:cli/stderr`, `wasi:cli/terminal-stderr`.
    Stderr,
    /// `env = [...]`: `wasi:cli/environment`.
    Env,
    /// `exit = true`: `wasi:cli/exit`.
    Exit,
    /// `clocks = true`: `wasi:clocks/*`.
    Clocks,
    /// `random = true`: `wasi:random/*`.
    Random,
    /// `dirs = [...]`: `wasi:filesystem/*`.
    Dirs,
    /// `network = [...]`: `wasi:sockets/*`.
    Network,
    /// `http = [...]`: `wasi:http/outgoing-handler` and `wasi:http/types`.
    Http,
    /// `wasi:io/*` and `wasi:cli/terminal-input` / `terminal-output`: the
    /// streams, errors and pollables the other capabilities hand out. Held by
    /// every component that holds one of those.
    Io,
}

impl Capability {
    /// Every capability, in the order of the manifest's grants table; `Io`,
    /// which no line grants by itself, last.
    pub const ALL: [Self; 11] = [
        Self::Stdin,
        Self::Stdout,
        Self::Stderr,
        Self::Env,
        Self::Exit,
        Self::Clocks,
        Self::Random,
        Self::Dirs,
        Self::Network,
        Self::Http,
        Self::Io,
    ];

    /// The capability an import named `base` (an interface name without its
    /// version) stands for, if it is a host capability at all.
    pub fn of_interface(base: &str) -> Option<Self> {
        let (package, interface) = base.split_once('/')?;
        Some(match (package, interface) {
            ("wasi:cli", "stdin" | "terminal-stdin") => Self::Stdin,
            ("wasi:cli", "stdout" | "terminal-stdout") => Self::Stdout,
            ("wasi:cli", "stderr" | "terminal-stderr") => Self::Stderr,
            ("wasi:cli", "environment") => Self::Env,
            ("wasi:cli", "exit") => Self::Exit,
            ("wasi:cli", "terminal-input" | "terminal-output") => Self::Io,
            ("wasi:io", _) => Self::Io,
            ("wasi:clocks", _) => Self::Clocks,
            ("wasi:random", _) => Self::Random,
            ("wasi:filesystem", _) => Self::Dirs,
            ("wasi:sockets", _) => Self::Network,
            ("wasi:http", "types" | "outgoing-handler") => Self::Http,
            _ => return None,
        })
    }

    /// Whether `grants` holds this capability.
    pub fn granted_by(self, grants: &Grants) -> bool {
        match self {
            Self::Stdin => grants.stdin,
            Self::Stdout => grants.stdout,
            Self::Stderr => grants.stderr,
            Self::Env => !grants.env.is_empty() || grants.args,
            Self::Exit => grants.exit,
            Self::Clocks => grants.clocks,
            Self::Random => grants.random,
            Self::Dirs => !grants.dirs.is_empty(),
            Self::Network => !grants.network.is_empty(),
            Self::Http => !grants.http.is_empty(),
            Self::Io => {
                grants.stdin
                    || grants.stdout
                    || grants.stderr
                    || grants.clocks
                    || !grants.dirs.is_empty()
                    || !grants.network.is_empty()
                    || !grants.http.is_empty()
            }
        }
    }

    /// The manifest line that grants this capability, for messages.
    pub fn grant_line(self) -> &'static str {
        match self {
            Self::Stdin => "stdin = true",
            Self::Stdout => "stdout = true",
            Self::Stderr => "stderr = true",
            Self::Env => "env = [\"VAR\"]",
            Self::Exit => "exit = true",
            Self::Clocks => "clocks = true",
            Self::Random => "random = true",
            Self::Dirs => "dirs = [{ host = \"dir\", mode = \"read-only\" }]",
            Self::Network => "network = [\"host:port\"]",
            Self::Http => "http = [\"https://host\"]",
            Self::Io => "stdout = true (or another grant that hands out streams)",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stdin => "stdin",
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
            Self::Env => "env",
            Self::Exit => "exit",
            Self::Clocks => "clocks",
            Self::Random => "random",
            Self::Dirs => "dirs",
            Self::Network => "network",
            Self::Http => "http",
            Self::Io => "io",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_holds_every_capability_once() {
        // Exhaustive, so that a new capability must be placed in `ALL`.
        let place = |capability| match capability {
            Capability::Stdin => 0,
            Capability::Stdout => 1,
            Capability::Stderr => 2,
            Capability::Env => 3,
            Capability::Exit => 4,
            Capability::Clocks => 5,
            Capability::Random => 6,
            Capability::Dirs => 7,
            Capability::Network => 8,
            Capability::Http => 9,
            Capability::Io => 10,
        };
        for (i, capability) in Capability::ALL.into_iter().enumerate() {
            assert_eq!(place(capability), i, "{capability}");
        }
    }
}
