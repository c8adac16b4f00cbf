//! Per-component grants, as the composed app carries them to the host.
//!
//! Most capabilities are the same for whoever holds them (stderr is stderr),
//! so the composed app imports them once under their standard WASI names.
//! Four are narrowed per component: the environment variables, the
//! directories, the network endpoints and the HTTP origins. When two
//! components hold one of these with different narrowings, the app imports
//! the interface that hands the narrowed authority out once per holder,
//! under a name of its own:
//!
//! | capability | handed out by | imported per holder as |
//! | --- | --- | --- |
//! | `env` | `wasi:cli/environment` | `nanoproc-grant:HOLDER/environment@V` |
//! | `dirs` | `wasi:filesystem/preopens` | `nanoproc-grant:HOLDER/preopens@V` |
//! | `network` | `wasi:sockets/tcp-create-socket`, `udp-create-socket` | `nanoproc-grant:HOLDER/tcp-create-socket@V`, … |
//! | `http` | `wasi:http/outgoing-handler` | `nanoproc-grant:HOLDER/outgoing-handler@V` |
//!
//! The host binds each such import to that component's narrowing only (a
//! WASI context of its own; for `http`, its list of origins). Everything
//! these interfaces hand out (a directory descriptor, a socket) carries its
//! own rights, so the interfaces that use it afterwards
//! (`wasi:filesystem/types`, `wasi:sockets/tcp`) stay shared. When all
//! holders agree, the standard name is kept and the app runs in any WASI
//! host.
//!
//! A denial the host must answer (a stream of the host's kind for a denied
//! stdout) is imported per holder too, as `nanoproc-deny:HOLDER/stdout@V`
//! (see [`answered_by_host`]).
//!
//! The grants themselves travel in the composed component, in a custom
//! section named [`AppGrants::SECTION`], so that the host needs nothing but
//! the app file.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use wasmparser::Payload;

use crate::capability::Capability;
use crate::manifest::{Grants, Limits};
use crate::names::InterfaceName;
use crate::plan::{Plan, PlannedComponent, Satisfied};

/// A standard WASI interface a composed app may import once per holder,
/// under a name of its own (see [`HolderImport`]): the one list of them
/// that the linker, which names the imports, and the host, which binds
/// them, both use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderInterface {
    /// `wasi:cli/environment`: the holder's environment variables.
    Environment,
    /// `wasi:filesystem/preopens`: the holder's directories.
    Preopens,
    /// `wasi:sockets/tcp-create-socket`: sockets under the holder's network grant.
    TcpCreateSocket,
    /// `wasi:sockets/udp-create-socket`: sockets under the holder's network grant.
    UdpCreateSocket,
    /// `wasi:http/outgoing-handler`: requests to the holder's origins.
    OutgoingHandler,
    /// `wasi:http/client` (WASI 0.3): requests to the holder's origins.
    HttpClient,
    /// `wasi:sockets/types` (WASI 0.3), which makes sockets and holds
    /// their methods: sockets under the holder's network grant.
    SocketsTypes,
    /// `wasi:cli/stdin`, denied: a stream at its end.
    Stdin,
    /// `wasi:cli/stdout`, denied: a stream that discards.
    Stdout,
    /// `wasi:cli/stderr`, denied: a stream that discards.
    Stderr,
    /// `wasi:clocks/monotonic-clock`, denied: a clock that stands still.
    MonotonicClock,
}

impl HolderInterface {
    /// The standard interface, without its version.
    pub fn standard(self) -> &'static str {
        match self {
            Self::Environment => "wasi:cli/environment",
            Self::Preopens => "wasi:filesystem/preopens",
            Self::TcpCreateSocket => "wasi:sockets/tcp-create-socket",
            Self::UdpCreateSocket => "wasi:sockets/udp-create-socket",
            Self::OutgoingHandler => "wasi:http/outgoing-handler",
            Self::HttpClient => "wasi:http/client",
            Self::SocketsTypes => "wasi:sockets/types",
            Self::Stdin => "wasi:cli/stdin",
            Self::Stdout => "wasi:cli/stdout",
            Self::Stderr => "wasi:cli/stderr",
            Self::MonotonicClock => "wasi:clocks/monotonic-clock",
        }
    }
}

/// The interfaces imported once per holder when holders' narrowings differ.
const PER_HOLDER: &[(Capability, HolderInterface)] = &[
    (Capability::Env, HolderInterface::Environment),
    (Capability::Dirs, HolderInterface::Preopens),
    (Capability::Network, HolderInterface::TcpCreateSocket),
    (Capability::Network, HolderInterface::UdpCreateSocket),
    (Capability::Network, HolderInterface::SocketsTypes),
    (Capability::Http, HolderInterface::OutgoingHandler),
    (Capability::Http, HolderInterface::HttpClient),
];

/// The interfaces whose denial the host answers, for a component that
/// takes the resources they hand out (streams, pollables) from the host: a
/// deny provider cannot make a host's stream, so the component imports the
/// interface under a name of its own, bound by the host to an inert one.
/// Each comes with the interface its resources come from.
const INERT: &[(Capability, HolderInterface, &str)] = &[
    (Capability::Stdin, HolderInterface::Stdin, "wasi:io/streams"),
    (
        Capability::Stdout,
        HolderInterface::Stdout,
        "wasi:io/streams",
    ),
    (
        Capability::Stderr,
        HolderInterface::Stderr,
        "wasi:io/streams",
    ),
    (
        Capability::Clocks,
        HolderInterface::MonotonicClock,
        "wasi:io/poll",
    ),
];

/// The namespace of per-holder import names of a grant.
const NAMESPACE: &str = "nanoproc-grant";
/// The namespace of per-holder import names of a denial the host answers.
const DENY_NAMESPACE: &str = "nanoproc-deny";

/// The capability whose narrowing the interface `base` (a name without its
/// version) hands out, if it is one handed out per holder.
pub(crate) fn narrowed_by(base: &str) -> Option<Capability> {
    PER_HOLDER
        .iter()
        .find(|(_, interface)| interface.standard() == base)
        .map(|(capability, _)| *capability)
}

/// Whether `component`'s denied import `import` is answered by the host's
/// inert provider (through an import of the app's own for it) rather than by
/// a deny provider the linker makes: it hands out a resource that the
/// component takes from the host.
pub(crate) fn answered_by_host(component: &PlannedComponent, import: &str) -> bool {
    let Some(name) = InterfaceName::parse(import) else {
        return false;
    };
    let Some((_, _, source)) = INERT
        .iter()
        .find(|(_, interface, _)| interface.standard() == name.base)
    else {
        return false;
    };
    let denied = component
        .imports
        .iter()
        .any(|(i, s)| i == import && matches!(s, Satisfied::Denied(_)));
    denied
        && component.imports.iter().any(|(i, s)| {
            matches!(s, Satisfied::Granted(_))
                && InterfaceName::parse(i).is_some_and(|n| n.base == *source)
        })
}

/// The name under which the app imports the interface `standard` (a full
/// WASI interface name) for `holder` alone.
pub(crate) fn holder_import_name(holder: &str, standard: &InterfaceName) -> String {
    copy_name(NAMESPACE, holder, standard)
}

/// The name under which the app imports the host's inert answer to the
/// interface `standard` for `holder` alone.
pub(crate) fn inert_import_name(holder: &str, standard: &InterfaceName) -> String {
    copy_name(DENY_NAMESPACE, holder, standard)
}

fn copy_name(namespace: &str, holder: &str, standard: &InterfaceName) -> String {
    let interface = standard.base.rsplit('/').next().unwrap_or(&standard.base);
    match &standard.version {
        Some(version) => format!("{namespace}:{holder}/{interface}@{version}"),
        None => format!("{namespace}:{holder}/{interface}"),
    }
}

/// The names under which the app imports the interface `standard`, each
/// with the one component it serves, if it serves one alone: once for all
/// (the standard name), once per holder of a grant split per holder
/// (`split`, from [`split_per_holder`]), and once per component whose denial
/// of it the host answers. The shared import is left out when it would serve
/// nobody: no component is granted it, and no other import (`used`
/// says whether one does) takes types from it.
pub(crate) fn import_copies(
    plan: &Plan,
    split: &[(Capability, Vec<String>)],
    standard: &InterfaceName,
    used: bool,
) -> Vec<(Option<String>, String)> {
    let split_holders = narrowed_by(&standard.base)
        .and_then(|capability| split.iter().find(|(c, _)| *c == capability));
    if let Some((_, holders)) = split_holders {
        return holders
            .iter()
            .map(|holder| (Some(holder.clone()), holder_import_name(holder, standard)))
            .collect();
    }
    let same = |import: &str| InterfaceName::parse(import).is_some_and(|n| n.base == standard.base);
    let granted = plan.components.iter().any(|c| {
        c.imports
            .iter()
            .any(|(i, s)| matches!(s, Satisfied::Granted(_)) && same(i))
    });
    let inert = plan.components.iter().filter(|c| {
        c.imports
            .iter()
            .any(|(i, _)| same(i) && answered_by_host(c, i))
    });
    let mut copies = Vec::new();
    if granted || used {
        copies.push((None, standard.to_string()));
    }
    copies.extend(inert.map(|c| (Some(c.name.clone()), inert_import_name(&c.name, standard))));
    if copies.is_empty() {
        copies.push((None, standard.to_string()));
    }
    copies
}

/// An import of the composed app that serves one component alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderImport {
    /// The component it serves.
    pub holder: String,
    /// The standard WASI interface it is a copy of, with its version.
    pub interface: String,
    /// That interface, as the host binds it.
    pub kind: HolderInterface,
    /// The capability whose narrowing it hands out, or that it denies.
    pub capability: Capability,
    /// Whether it is a denial the host answers with inert values (a stdin
    /// at its end, an output that discards, a clock that stands still)
    /// rather than the component's own narrowing of a grant.
    pub denied: bool,
}

impl HolderImport {
    /// Reads an import name of a composed app; `None` for a standard name.
    pub fn parse(import: &str) -> Option<Self> {
        let (namespace, rest) = import.split_once(':')?;
        let denied = match namespace {
            NAMESPACE => false,
            DENY_NAMESPACE => true,
            _ => return None,
        };
        let (holder, interface) = rest.split_once('/')?;
        let (interface, version) = match interface.split_once('@') {
            Some((i, v)) => (i, Some(v)),
            None => (interface, None),
        };
        let short = |kind: &HolderInterface| kind.standard().rsplit('/').next() == Some(interface);
        let (capability, kind) = if denied {
            INERT
                .iter()
                .find(|(_, kind, _)| short(kind))
                .map(|(capability, kind, _)| (*capability, *kind))?
        } else {
            PER_HOLDER.iter().find(|(_, kind)| short(kind)).copied()?
        };
        let standard = kind.standard();
        Some(Self {
            holder: holder.to_string(),
            interface: match version {
                Some(v) => format!("{standard}@{v}"),
                None => standard.to_string(),
            },
            kind,
            capability,
            denied,
        })
    }
}

/// What the host is to grant, as the composed app carries it.
///
/// The section [`AppGrants::SECTION`] holds them as one JSON object whose
/// first field is the app format, `"format": 1`, followed by these fields
/// (`app`, `components`, `limits`). The format says how to read the rest: a
/// host reads the formats up to [`AppGrants::FORMAT`] and refuses a newer
/// one before reading anything else, naming both. A section without a
/// `format` was written before the format was numbered, and its content is
/// that of format 1, so it is read as format 1. Within a format, a field
/// that is not known is an error, as in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppGrants {
    /// The app's name.
    pub app: String,
    /// The grants of each component that holds any, by component name.
    pub components: IndexMap<String, Grants>,
    /// The bounds of every instance of the app.
    pub limits: Limits,
}

/// Why the grants a composed app carries cannot be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum GrantsError {
    /// The bytes are not wasm.
    Wasm(wasmparser::BinaryReaderError),
    /// The section is not JSON.
    NotJson(serde_json::Error),
    /// The app is of an app format newer than this host reads.
    Newer {
        /// The app's format.
        found: u64,
        /// The newest format this host reads, [`AppGrants::FORMAT`].
        supported: u64,
    },
    /// The section names an app format no nanoproc writes.
    UnknownFormat {
        /// The format as the section gives it.
        format: String,
    },
    /// The section is not valid for its app format.
    Invalid {
        /// The app's format.
        format: u64,
        /// What serde found wrong.
        source: serde_json::Error,
    },
}

impl std::fmt::Display for GrantsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let section = AppGrants::SECTION;
        match self {
            GrantsError::Wasm(e) => e.fmt(f),
            GrantsError::NotJson(e) => write!(
                f,
                "the app's `{section}` section is not valid JSON ({e}): compose the app again"
            ),
            GrantsError::Newer { found, supported } => write!(
                f,
                "the app was composed by a newer nanoproc (app format {found}; this host \
                 reads format {supported}): run it with a newer nanoproc, or compose it again \
                 with this one"
            ),
            GrantsError::UnknownFormat { format } => write!(
                f,
                "the app's `{section}` section says app format {format}, which no nanoproc \
                 writes: compose the app again"
            ),
            GrantsError::Invalid { format, source } => write!(
                f,
                "the app's `{section}` section is not valid for app format {format} ({source}): \
                 compose the app again"
            ),
        }
    }
}

impl std::error::Error for GrantsError {}

/// The section as written: the format first, then the grants.
#[derive(Serialize)]
struct Written<'a> {
    format: u64,
    #[serde(flatten)]
    grants: &'a AppGrants,
}

impl AppGrants {
    /// The custom section of the composed component that holds them, as JSON.
    pub const SECTION: &'static str = "nanoproc-grants";

    /// The app format this linker writes, and the newest this host reads.
    pub const FORMAT: u64 = 1;

    /// The content of the section [`AppGrants::SECTION`] that carries them,
    /// in the app format [`AppGrants::FORMAT`].
    ///
    /// # Errors
    ///
    /// When they cannot be written as JSON.
    pub fn write(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&Written {
            format: Self::FORMAT,
            grants: self,
        })
    }

    /// Reads the grants a composed app carries; `None` when it carries none
    /// (a component that nanoproc did not compose).
    ///
    /// # Errors
    ///
    /// When the bytes are not wasm, or the section is not JSON, is of an
    /// app format newer than this host reads (or one no nanoproc writes),
    /// or is not valid for its format.
    pub fn read(app: &[u8]) -> Result<Option<Self>, GrantsError> {
        for payload in crate::inspect::top_level_payloads(app) {
            if let Payload::CustomSection(section) = payload.map_err(GrantsError::Wasm)?
                && section.name() == Self::SECTION
            {
                return Self::parse(section.data()).map(Some);
            }
        }
        Ok(None)
    }

    /// Reads the content of the section: its format first, then the rest
    /// as that format says.
    fn parse(data: &[u8]) -> Result<Self, GrantsError> {
        let mut value: serde_json::Value =
            serde_json::from_slice(data).map_err(GrantsError::NotJson)?;
        let format = match value.as_object_mut().and_then(|o| o.shift_remove("format")) {
            // Written before the format was numbered: format 1's content.
            None => 1,
            Some(format) => match format.as_u64() {
                Some(found) if found > Self::FORMAT => {
                    return Err(GrantsError::Newer {
                        found,
                        supported: Self::FORMAT,
                    });
                }
                Some(n) if n >= 1 => n,
                _ => {
                    return Err(GrantsError::UnknownFormat {
                        format: format.to_string(),
                    });
                }
            },
        };
        serde_json::from_value(value).map_err(|source| GrantsError::Invalid { format, source })
    }

    /// The grants that apply to a standard (shared) import: the union of
    /// every holder's, which for narrowed capabilities are all the same
    /// (otherwise the import would have been split per holder).
    pub fn shared(&self) -> Grants {
        let mut all = Grants::default();
        for grants in self.components.values() {
            all.stdin |= grants.stdin;
            all.stdout |= grants.stdout;
            all.stderr |= grants.stderr;
            all.clocks |= grants.clocks;
            all.random |= grants.random;
            all.exit |= grants.exit;
            all.args |= grants.args;
            for var in &grants.env {
                if !all.env.contains(var) {
                    all.env.push(var.clone());
                }
            }
            for dir in &grants.dirs {
                if !all.dirs.contains(dir) {
                    all.dirs.push(dir.clone());
                }
            }
            for endpoint in &grants.network {
                if !all.network.contains(endpoint) {
                    all.network.push(endpoint.clone());
                }
            }
            for origin in &grants.http {
                if !all.http.contains(origin) {
                    all.http.push(origin.clone());
                }
            }
        }
        all
    }
}

/// The capabilities whose holders disagree on the narrowing, with their
/// holders: these get an import per holder.
pub(crate) fn split_per_holder(plan: &Plan) -> Vec<(Capability, Vec<String>)> {
    let mut split = Vec::new();
    for capability in [
        Capability::Env,
        Capability::Dirs,
        Capability::Network,
        Capability::Http,
    ] {
        let holders: Vec<&PlannedComponent> = plan
            .components
            .iter()
            .filter(|c| {
                c.imports
                    .iter()
                    .any(|(_, s)| *s == Satisfied::Granted(capability))
            })
            .collect();
        let same = |a: &Grants, b: &Grants| match capability {
            Capability::Env => a.env == b.env && a.args == b.args,
            Capability::Dirs => a.dirs == b.dirs,
            Capability::Http => a.http == b.http,
            _ => a.network == b.network,
        };
        let differ = holders
            .windows(2)
            .any(|w| !same(&w[0].grants, &w[1].grants));
        if differ {
            split.push((capability, holders.iter().map(|c| c.name.clone()).collect()));
        }
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component that carries `data` in the grants section.
    fn app(data: &[u8]) -> Vec<u8> {
        let mut component = wasm_encoder::Component::new();
        component.section(&wasm_encoder::CustomSection {
            name: AppGrants::SECTION.into(),
            data: data.into(),
        });
        component.finish()
    }

    fn error(data: &str) -> String {
        format!("{:#}", AppGrants::read(&app(data.as_bytes())).unwrap_err())
    }

    fn grants() -> AppGrants {
        let mut components = IndexMap::new();
        components.insert(
            "reader".to_string(),
            Grants {
                stdout: true,
                env: vec!["HOME".into()],
                ..Grants::default()
            },
        );
        AppGrants {
            app: "demo".into(),
            components,
            limits: Limits {
                timeout_ms: Some(100),
                ..Limits::default()
            },
        }
    }

    #[test]
    fn what_is_written_is_read_back_with_the_format_first() {
        let written = grants().write().unwrap();
        assert!(
            written.starts_with(br#"{"format":1,"app":"demo","components":"#),
            "{}",
            String::from_utf8_lossy(&written)
        );
        assert_eq!(AppGrants::read(&app(&written)).unwrap(), Some(grants()));
    }

    #[test]
    fn a_component_without_the_section_carries_no_grants() {
        let component = wasm_encoder::Component::new().finish();
        assert_eq!(AppGrants::read(&component).unwrap(), None);
    }

    #[test]
    fn a_section_without_a_format_is_read_as_format_1() {
        let mut written: serde_json::Value =
            serde_json::from_slice(&grants().write().unwrap()).unwrap();
        written.as_object_mut().unwrap().shift_remove("format");
        let unversioned = serde_json::to_vec(&written).unwrap();
        assert_eq!(AppGrants::read(&app(&unversioned)).unwrap(), Some(grants()));
    }

    #[test]
    fn a_newer_format_is_refused_before_the_rest_is_read() {
        assert_eq!(
            error(r#"{"format":2,"app":"demo","sandboxes":{}}"#),
            "the app was composed by a newer nanoproc (app format 2; this host reads \
             format 1): run it with a newer nanoproc, or compose it again with this one"
        );
    }

    #[test]
    fn a_format_no_nanoproc_writes_is_refused() {
        assert_eq!(
            error(r#"{"format":0,"app":"demo","components":{},"limits":{}}"#),
            "the app's `nanoproc-grants` section says app format 0, which no nanoproc \
             writes: compose the app again"
        );
        assert_eq!(
            error(r#"{"format":"one","app":"demo","components":{},"limits":{}}"#),
            "the app's `nanoproc-grants` section says app format \"one\", which no \
             nanoproc writes: compose the app again"
        );
    }

    #[test]
    fn a_section_that_is_not_json_is_refused_naming_it() {
        assert_eq!(
            error(r#"{"format":1,"app":"#),
            "the app's `nanoproc-grants` section is not valid JSON (EOF while parsing \
             a value at line 1 column 18): compose the app again"
        );
    }

    #[test]
    fn a_field_not_known_in_its_format_is_refused() {
        assert_eq!(
            error(r#"{"format":1,"app":"demo","components":{},"limits":{},"sandboxes":{}}"#),
            "the app's `nanoproc-grants` section is not valid for app format 1 (unknown \
             field `sandboxes`, expected one of `app`, `components`, `limits`): compose \
             the app again"
        );
        assert_eq!(
            error(r#"{"app":"demo","components":{},"limits":{"memory":"a lot"}}"#),
            "the app's `nanoproc-grants` section is not valid for app format 1 (invalid \
             type: string \"a lot\", expected u64): compose the app again"
        );
    }
}
