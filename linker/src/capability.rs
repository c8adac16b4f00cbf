//! The host capabilities a manifest can grant, and which WASI interfaces
//! each one stands for.

use std::fmt;

use crate::manifest::Grants;
use crate::names::InterfaceName;
use crate::wasi::{PROVIDED, PROVIDED_P3, WASI_P3_VERSION, WASI_VERSION};

/// The interface a component exports to answer HTTP requests, without its
/// version: the server hands it each request, and the place for its
/// response, as resources of `wasi:http/types`.
pub(crate) const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// WASI 0.3's [`INCOMING_HANDLER`]: it takes a request and returns a
/// response, both of `wasi:http/types`.
pub(crate) const HANDLER: &str = "wasi:http/handler";

/// Whether a component whose exports are named `exports` serves HTTP: it
/// exports [`INCOMING_HANDLER`] or [`HANDLER`], at any version.
pub(crate) fn serves_http<'a>(exports: impl IntoIterator<Item = &'a str>) -> bool {
    exports.into_iter().any(|name| {
        InterfaceName::parse(name)
            .is_some_and(|name| name.base == INCOMING_HANDLER || name.base == HANDLER)
    })
}

/// Why the host cannot provide the WASI import `name`, one of whose
/// functions are `functions`; `None` when it can: the host provides the
/// interfaces of WASI [`WASI_VERSION`] under any 0.2 version and those of
/// WASI [`WASI_P3_VERSION`] under any 0.3 version, each with the functions
/// that release has (`wasi.rs`).
pub(crate) fn unprovided<'a>(
    name: &InterfaceName,
    mut functions: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let provides = format!(
        "the host provides WASI 0.2 (0.2.0 to {WASI_VERSION}) and WASI 0.3 ({WASI_P3_VERSION})"
    );
    let Some(version) = &name.version else {
        return Some(format!("`{name}` names no WASI version; {provides}"));
    };
    let release = [(WASI_VERSION, PROVIDED), (WASI_P3_VERSION, PROVIDED_P3)]
        .into_iter()
        .find(|(host, _)| {
            let host = semver::Version::parse(host).expect("a WASI release is a version");
            crate::names::compatible(version, &host)
        });
    let Some((host, provided)) = release else {
        let release = match version.major {
            0 => format!("0.{}", version.minor),
            major => major.to_string(),
        };
        return Some(format!("`{name}` is WASI {release}; {provides}"));
    };
    let Some((_, have)) = provided.iter().find(|(base, _)| *base == name.base) else {
        return Some(format!(
            "WASI {host}, which the host provides, has no interface `{}`",
            name.base
        ));
    };
    functions.find(|f| !have.contains(f)).map(|missing| {
        format!(
            "the host's `{}@{host}` has no function `{missing}`",
            name.base
        )
    })
}

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
            // WASI 0.3: the error codes of the streams' futures.
            ("wasi:cli", "types") => Self::Io,
            ("wasi:io", _) => Self::Io,
            ("wasi:clocks", _) => Self::Clocks,
            ("wasi:random", _) => Self::Random,
            ("wasi:filesystem", _) => Self::Dirs,
            ("wasi:sockets", _) => Self::Network,
            // `client` is WASI 0.3's `outgoing-handler`.
            ("wasi:http", "types" | "outgoing-handler" | "client") => Self::Http,
            _ => return None,
        })
    }

    /// The capability the import `base` (an interface name without its
    /// version) of a component stands for, given whether the component
    /// `serves` HTTP (exports `wasi:http/incoming-handler`). As
    /// [`of_interface`](Self::of_interface), except that a handler's
    /// `wasi:http/types` is `Io`: it reads the request and writes the
    /// response the server hands it, which reaches nothing by itself; only
    /// sending a request of its own (`wasi:http/outgoing-handler`) is `Http`.
    pub fn of_import(base: &str, serves: bool) -> Option<Self> {
        match base {
            "wasi:http/types" if serves => Some(Self::Io),
            _ => Self::of_interface(base),
        }
    }

    /// Whether a component with `grants` that `serves` HTTP holds this
    /// capability: what `grants` holds, and for a handler also `Io`, the
    /// request, the response and their bodies' streams, which the server
    /// hands it with each request.
    pub fn held_by(self, grants: &Grants, serves: bool) -> bool {
        self.granted_by(grants) || (serves && self == Self::Io)
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
            Self::Io => {
                "stdout = true (or another grant that hands out streams; a component that exports `wasi:http/incoming-handler` holds them without one)"
            }
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
    fn a_handler_holds_the_types_it_answers_with_and_sends_only_when_granted() {
        let none = Grants::default();
        let types = "wasi:http/types";
        assert_eq!(Capability::of_import(types, true), Some(Capability::Io));
        assert_eq!(Capability::of_import(types, false), Some(Capability::Http));
        let outgoing = "wasi:http/outgoing-handler";
        assert_eq!(
            Capability::of_import(outgoing, true),
            Some(Capability::Http)
        );
        assert!(Capability::Io.held_by(&none, true));
        assert!(!Capability::Io.held_by(&none, false));
        assert!(!Capability::Http.held_by(&none, true));
        assert!(!Capability::Clocks.held_by(&none, true));
    }

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
