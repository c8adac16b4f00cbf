//! Per-component grants, as the composed app carries them to the host.
//!
//! Most capabilities are the same for whoever holds them (stderr is stderr),
//! so the composed app imports them once under their standard WASI names.
//! Three are narrowed per component: the environment variables, the
//! directories and the network endpoints. When two components hold one of
//! these with different narrowings, the app imports the interface that hands
//! the narrowed authority out once per holder, under a name of its own:
//!
//! | capability | handed out by | imported per holder as |
//! | --- | --- | --- |
//! | `env` | `wasi:cli/environment` | `nanoproc-grant:HOLDER/environment@V` |
//! | `dirs` | `wasi:filesystem/preopens` | `nanoproc-grant:HOLDER/preopens@V` |
//! | `network` | `wasi:sockets/tcp-create-socket`, `udp-create-socket` | `nanoproc-grant:HOLDER/tcp-create-socket@V`, … |
//!
//! The host binds each such import to a WASI context holding that
//! component's narrowing only. Everything these interfaces hand out (a
//! directory descriptor, a socket) carries its own rights, so the interfaces
//! that use it afterwards (`wasi:filesystem/types`, `wasi:sockets/tcp`) stay
//! shared. When all holders agree, the standard name is kept and the app
//! runs in any WASI host.
//!
//! The grants themselves travel in the composed component, in a custom
//! section named [`AppGrants::SECTION`], so that the host needs nothing but
//! the app file.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use wasmparser::{Parser, Payload};

use crate::capability::Capability;
use crate::compose::{Plan, PlannedComponent, Satisfied};
use crate::manifest::{Grants, Limits};
use crate::names::InterfaceName;

/// The interfaces imported once per holder when holders' narrowings differ.
const PER_HOLDER: &[(Capability, &str)] = &[
    (Capability::Env, "wasi:cli/environment"),
    (Capability::Dirs, "wasi:filesystem/preopens"),
    (Capability::Network, "wasi:sockets/tcp-create-socket"),
    (Capability::Network, "wasi:sockets/udp-create-socket"),
];

/// The namespace of per-holder import names.
const NAMESPACE: &str = "nanoproc-grant";

/// The capability whose narrowing the interface `base` (a name without its
/// version) hands out, if it is one handed out per holder.
pub(crate) fn narrowed_by(base: &str) -> Option<Capability> {
    PER_HOLDER
        .iter()
        .find(|(_, name)| *name == base)
        .map(|(capability, _)| *capability)
}

/// The name under which the app imports the interface `standard` (a full
/// WASI interface name) for `holder` alone.
pub(crate) fn holder_import_name(holder: &str, standard: &InterfaceName) -> String {
    let interface = standard.base.rsplit('/').next().unwrap_or(&standard.base);
    match &standard.version {
        Some(version) => format!("{NAMESPACE}:{holder}/{interface}@{version}"),
        None => format!("{NAMESPACE}:{holder}/{interface}"),
    }
}

/// An import of the composed app that serves one component alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderImport {
    /// The component it serves.
    pub holder: String,
    /// The standard WASI interface it is a copy of, with its version.
    pub interface: String,
    /// The capability whose narrowing it hands out.
    pub capability: Capability,
}

impl HolderImport {
    /// Reads an import name of a composed app; `None` for a standard name.
    pub fn parse(import: &str) -> Option<Self> {
        let rest = import.strip_prefix(NAMESPACE)?.strip_prefix(':')?;
        let (holder, interface) = rest.split_once('/')?;
        let (interface, version) = match interface.split_once('@') {
            Some((i, v)) => (i, Some(v)),
            None => (interface, None),
        };
        let (capability, standard) = PER_HOLDER
            .iter()
            .find(|(_, name)| name.rsplit('/').next() == Some(interface))?;
        Some(Self {
            holder: holder.to_string(),
            interface: match version {
                Some(v) => format!("{standard}@{v}"),
                None => standard.to_string(),
            },
            capability: *capability,
        })
    }
}

/// What the host is to grant, as the composed app carries it.
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

impl AppGrants {
    /// The custom section of the composed component that holds them, as JSON.
    pub const SECTION: &'static str = "nanoproc-grants";

    /// Reads the grants a composed app carries; `None` when it carries none
    /// (a component that nanoproc did not compose).
    ///
    /// # Errors
    ///
    /// When the bytes are not wasm, or the section is not valid.
    pub fn read(app: &[u8]) -> anyhow::Result<Option<Self>> {
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(app) {
            match payload? {
                Payload::Version { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::CustomSection(section)
                    if depth == 1 && section.name() == Self::SECTION =>
                {
                    let grants = serde_json::from_slice(section.data()).map_err(|e| {
                        anyhow::anyhow!("the app's `{}` section is not valid: {e}", Self::SECTION)
                    })?;
                    return Ok(Some(grants));
                }
                _ => {}
            }
        }
        Ok(None)
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
        }
        all
    }
}

/// The capabilities whose holders disagree on the narrowing, with their
/// holders: these get an import per holder.
pub(crate) fn split_per_holder(plan: &Plan) -> Vec<(Capability, Vec<String>)> {
    let mut split = Vec::new();
    for capability in [Capability::Env, Capability::Dirs, Capability::Network] {
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
