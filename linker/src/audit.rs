//! The audit: who can reach which capability, directly or through other
//! components' exports.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::capability::Capability;
use crate::manifest::{DirMode, Grants};
use crate::plan::{Plan, PlannedComponent, Satisfied};

/// The capability audit of a composed app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// The app's name.
    pub app: String,
    /// Every component, in instantiation order, with each of its imports.
    pub components: Vec<ComponentAudit>,
    /// Every capability some component can reach.
    pub capabilities: Vec<CapabilityAudit>,
    /// The app's exports and the components they come from.
    pub exports: Vec<ExportAudit>,
}

/// One component's imports and how each is satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentAudit {
    /// The component's name.
    pub name: String,
    /// When it was a core module: the preview1 adapter the linker made it a
    /// component with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_module: Option<crate::adapt::Adapter>,
    /// Its imports.
    pub imports: Vec<ImportAudit>,
}

/// One import and how it is satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportAudit {
    /// The import's name.
    pub name: String,
    /// How it is satisfied.
    #[serde(flatten)]
    pub satisfied: SatisfiedAudit,
}

/// How an import is satisfied, for the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum SatisfiedAudit {
    /// Wired to another component's export.
    Wired {
        /// The exporting component.
        component: String,
        /// Its export.
        export: String,
    },
    /// Granted by the host.
    Granted {
        /// The capability.
        capability: String,
        /// Its narrowing for this component, such as `out -> /out (read-write)`.
        narrowing: String,
        /// The app's own import for this component alone, when its
        /// narrowing differs from another holder's.
        #[serde(skip_serializing_if = "Option::is_none")]
        own_import: Option<String>,
    },
    /// Denied: an inert provider the linker synthesized answers every call
    /// with an error, an empty value, or a trap; or, where the answer is a
    /// resource the component takes from the host (a stream, a pollable),
    /// the host answers through an import of the app's own for this
    /// component, with an inert one (see SECURITY.md).
    Denied {
        /// The capability the import stands for.
        capability: String,
        /// The app's own import through which the host answers, when it does.
        #[serde(skip_serializing_if = "Option::is_none")]
        own_import: Option<String>,
    },
}

/// One capability and who can reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapabilityAudit {
    /// The capability.
    pub capability: String,
    /// Components granted it, with their narrowing.
    pub direct: Vec<Holder>,
    /// Components that can make a holder use it on their behalf, by calling
    /// exports that lead to a holder.
    pub through: Vec<Reach>,
}

/// A component that holds a capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The component.
    pub component: String,
    /// Its narrowing.
    pub narrowing: String,
}

/// A component that reaches a capability through another's exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// The component.
    pub component: String,
    /// The chain of components it calls through, ending at a holder.
    pub via: Vec<String>,
}

/// One export of the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportAudit {
    /// The export's name.
    pub name: String,
    /// The component it comes from.
    pub component: String,
}

impl Audit {
    /// The audit of `plan`, with the narrowings of its grants.
    pub fn new(plan: &Plan) -> Self {
        let split = crate::grants::split_per_holder(plan);
        let components: Vec<ComponentAudit> = plan
            .components
            .iter()
            .map(|c| ComponentAudit {
                name: c.name.clone(),
                core_module: c.core_module,
                imports: c
                    .imports
                    .iter()
                    .map(|(name, satisfied)| ImportAudit {
                        name: name.clone(),
                        satisfied: match satisfied {
                            Satisfied::Wired { component, export } => SatisfiedAudit::Wired {
                                component: component.clone(),
                                export: export.clone(),
                            },
                            Satisfied::Granted(capability) => SatisfiedAudit::Granted {
                                capability: capability.to_string(),
                                narrowing: narrowing(*capability, &c.grants, serves(c)),
                                own_import: own_import(&split, &c.name, name),
                            },
                            Satisfied::Denied(capability) => SatisfiedAudit::Denied {
                                capability: capability.to_string(),
                                own_import: crate::grants::answered_by_host(c, name)
                                    .then(|| crate::names::InterfaceName::parse(name))
                                    .flatten()
                                    .map(|n| crate::grants::inert_import_name(&c.name, &n)),
                            },
                        },
                    })
                    .collect(),
            })
            .collect();

        let mut held: BTreeSet<Capability> = BTreeSet::new();
        for c in &plan.components {
            for (_, s) in &c.imports {
                if let Satisfied::Granted(capability) = s {
                    held.insert(*capability);
                }
            }
        }
        let capabilities = held
            .into_iter()
            .map(|capability| {
                let holds = |name: &str| {
                    plan.components.iter().any(|c| {
                        c.name == name
                            && c.imports
                                .iter()
                                .any(|(_, s)| *s == Satisfied::Granted(capability))
                    })
                };
                let direct = plan
                    .components
                    .iter()
                    .filter(|c| holds(&c.name))
                    .map(|c| Holder {
                        component: c.name.clone(),
                        narrowing: narrowing(capability, &c.grants, serves(c)),
                    })
                    .collect();
                let through = plan
                    .components
                    .iter()
                    .filter(|c| !holds(&c.name))
                    .filter_map(|c| {
                        path_to(plan, &c.name, &holds).map(|via| Reach {
                            component: c.name.clone(),
                            via,
                        })
                    })
                    .collect();
                CapabilityAudit {
                    capability: capability.to_string(),
                    direct,
                    through,
                }
            })
            .collect();
        let exports = plan
            .exports
            .iter()
            .map(|(name, component)| ExportAudit {
                name: name.clone(),
                component: component.clone(),
            })
            .collect();
        Self {
            app: plan.app.clone(),
            components,
            capabilities,
            exports,
        }
    }
}

/// The shortest chain of wiring from `from` to a component for which
/// `holds` is true, not counting `from` itself.
fn path_to(plan: &Plan, from: &str, holds: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    let mut queue = std::collections::VecDeque::from([vec![from.to_string()]]);
    let mut seen = BTreeSet::from([from.to_string()]);
    while let Some(path) = queue.pop_front() {
        let last = path.last().expect("paths are never empty");
        let component = plan.components.iter().find(|c| &c.name == last)?;
        for (_, s) in &component.imports {
            if let Satisfied::Wired {
                component: next, ..
            } = s
            {
                if !seen.insert(next.clone()) {
                    continue;
                }
                let mut longer = path.clone();
                longer.push(next.clone());
                if holds(next) {
                    return Some(longer[1..].to_vec());
                }
                queue.push_back(longer);
            }
        }
    }
    None
}

/// The app's import that serves `holder`'s `import` alone, if the import's
/// capability is split per holder.
fn own_import(split: &[(Capability, Vec<String>)], holder: &str, import: &str) -> Option<String> {
    let name = crate::names::InterfaceName::parse(import)?;
    let capability = crate::grants::narrowed_by(&name.base)?;
    split
        .iter()
        .any(|(c, holders)| *c == capability && holders.iter().any(|h| h == holder))
        .then(|| crate::grants::holder_import_name(holder, &name))
}

/// Whether the planned component `c` serves HTTP.
fn serves(c: &PlannedComponent) -> bool {
    crate::capability::serves_http(c.exports.iter().map(String::as_str))
}

/// How `capability` is narrowed for a component with `grants`, which
/// `serves` HTTP or not.
fn narrowing(capability: Capability, grants: &Grants, serves: bool) -> String {
    match capability {
        Capability::Io if serves && !capability.granted_by(grants) => {
            "the requests it serves and their responses".to_string()
        }
        Capability::Io if serves => {
            "streams of its other grants, and the requests it serves".to_string()
        }
        Capability::Env if grants.env.is_empty() => "arguments, no variables".to_string(),
        Capability::Env => format!("variables {}", grants.env.join(", ")),
        Capability::Dirs => grants
            .dirs
            .iter()
            .map(|d| {
                format!(
                    "{} as {} ({})",
                    d.host.display(),
                    d.guest
                        .clone()
                        .unwrap_or_else(|| d.host.display().to_string()),
                    match d.mode {
                        DirMode::ReadOnly => "read-only",
                        DirMode::ReadWrite => "read-write",
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        Capability::Network => format!("connect to {}", grants.network.join(", ")),
        Capability::Http => format!("requests to {}", grants.http.join(", ")),
        Capability::Io => "streams of its other grants".to_string(),
        other => format!("{other}"),
    }
}

impl fmt::Display for Audit {
    /// The audit as tables for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "app `{}`", self.app)?;
        for c in &self.components {
            if let Some(adapter) = c.core_module {
                writeln!(
                    f,
                    "`{}` is a core wasm module, {}",
                    c.name,
                    adapter.describe()
                )?;
            }
        }
        let mut rows = vec![[
            "component".to_string(),
            "import".to_string(),
            "satisfied by".to_string(),
        ]];
        for c in &self.components {
            if c.imports.is_empty() {
                rows.push([c.name.clone(), "(none)".into(), "imports nothing".into()]);
            }
            for i in &c.imports {
                let how = match &i.satisfied {
                    SatisfiedAudit::Wired { component, .. } => format!("wired to {component}"),
                    SatisfiedAudit::Granted {
                        capability,
                        narrowing,
                        own_import,
                    } => {
                        let mut how = format!("granted {capability}");
                        if narrowing != capability {
                            how = format!("{how}: {narrowing}");
                        }
                        if let Some(import) = own_import {
                            how = format!("{how}, as its own import {import}");
                        }
                        how
                    }
                    SatisfiedAudit::Denied {
                        capability,
                        own_import: None,
                    } => format!("denied {capability} (inert provider)"),
                    SatisfiedAudit::Denied {
                        capability,
                        own_import: Some(import),
                    } => format!(
                        "denied {capability} (inert, from the host, as its own import {import})"
                    ),
                };
                rows.push([c.name.clone(), i.name.clone(), how]);
            }
        }
        table(f, &rows)?;
        writeln!(f)?;
        let mut rows = vec![[
            "capability".to_string(),
            "held by".to_string(),
            "reachable through exports by".to_string(),
        ]];
        for c in &self.capabilities {
            let held = c
                .direct
                .iter()
                .map(|h| h.component.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let mut through = String::new();
            for (i, r) in c.through.iter().enumerate() {
                if i > 0 {
                    through.push_str(", ");
                }
                let _ = write!(through, "{} (via {})", r.component, r.via.join(" -> "));
            }
            if through.is_empty() {
                through.push_str("nobody");
            }
            rows.push([c.capability.clone(), held, through]);
        }
        if self.capabilities.is_empty() {
            rows.push(["(none)".into(), "nobody".into(), "nobody".into()]);
        }
        table(f, &rows)?;
        writeln!(f)?;
        for e in &self.exports {
            writeln!(f, "exports {} from {}", e.name, e.component)?;
        }
        Ok(())
    }
}

fn table(f: &mut fmt::Formatter<'_>, rows: &[[String; 3]]) -> fmt::Result {
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1) = (width(0), width(1));
    for row in rows {
        writeln!(f, "{:<w0$}  {:<w1$}  {}", row[0], row[1], row[2])?;
    }
    Ok(())
}
