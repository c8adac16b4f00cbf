//! Resolution and policy: deciding how every import of every component is
//! satisfied, before anything is encoded or run.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use wit_parser::InterfaceId;

use crate::capability::Capability;
use crate::decoded::{Decoded, invalid};
use crate::error::{ComposeError, ErrorKind, Location};
use crate::manifest::Manifest;
use crate::names::InterfaceName;
use crate::plan::{Composition, Plan, PlannedComponent, Satisfied};
use crate::typecheck::{Side, check_function, check_interface};

/// Composes the app described by `manifest` from the component bytes in
/// `components` (one entry per manifest component, by name).
///
/// # Errors
///
/// When an import is neither wired nor granted, wiring is ambiguous or
/// circular, types do not match, a component is not valid (or uses a
/// WebAssembly feature the host does not enable), the app needs more
/// components or instances than one component may hold, or the result does
/// not validate.
pub fn compose(
    manifest: &Manifest,
    components: &IndexMap<String, Vec<u8>>,
) -> Result<Composition, ComposeError> {
    // Each component is nested in the composed one: past the most it may
    // hold, nothing needs reading to know the app cannot be composed.
    let count = manifest.components.len();
    if let Some((_, beyond)) = manifest.components.get_index(crate::encode::MAX_NESTED) {
        return Err(
            crate::encode::too_large(count, "components").at(manifest.location(beyond.span.start))
        );
    }
    // Each component's bytes are read once here, for its world, which
    // validates their structure. The code of their functions is validated
    // once too, as part of the composed component, which embeds it
    // unchanged. So that an invalid component is still reported as such,
    // and before anything else is, every failure is preceded by validating
    // in full the components the failure comes after: the outcome is that
    // of validating each component in full, with the features the host
    // enables, before reading it. Components are read in parallel, their
    // failures taken in the manifest's order.
    let names: Vec<&String> = manifest.components.keys().collect();
    let reads = crate::parallel::map(&names, |name| match components.get(*name) {
        Some(bytes) => Decoded::read(name, bytes),
        None => Err(ComposeError::new(
            ErrorKind::Component {
                component: name.to_string(),
            },
            format!("component `{name}` was not loaded"),
        )),
    });
    let mut decoded = Vec::new();
    for (i, read) in reads.into_iter().enumerate() {
        match read {
            Ok(component) => decoded.push(component),
            Err(e) => return Err(first_invalid(manifest, components, i + 1).unwrap_or(e)),
        }
    }
    let composed = resolve(manifest, &decoded).and_then(|plan| {
        let bytes = crate::encode::encode(&plan, &decoded, components)?;
        let lock = crate::lock::Lock::new(manifest, &decoded);
        Ok(Composition { bytes, plan, lock })
    });
    composed
        .map_err(|e| first_invalid(manifest, components, manifest.components.len()).unwrap_or(e))
}

/// The error for the first of the first `count` components of the manifest
/// that is loaded and not valid in full, functions included, with the
/// features the host enables.
fn first_invalid(
    manifest: &Manifest,
    components: &IndexMap<String, Vec<u8>>,
    count: usize,
) -> Option<ComposeError> {
    manifest.components.keys().take(count).find_map(|name| {
        let bytes = components.get(name)?;
        check_in_full(name, bytes).err()
    })
}

/// Checks the component `name` as the host will compile it: framed as a
/// component, valid in full with the features the host enables. A component
/// that is valid only with more features is refused naming the feature.
fn check_in_full(name: &str, bytes: &[u8]) -> Result<(), ComposeError> {
    let adapted = crate::decoded::adapted(name, bytes)?;
    let bytes = adapted.as_ref().map_or(bytes, |(c, _)| c.as_slice());
    crate::inspect::framing(bytes, crate::inspect::MAX_NESTING).map_err(|e| invalid(name, &e))?;
    let Err(host_error) = crate::validate::validate(bytes, crate::features::HOST) else {
        return Ok(());
    };
    crate::inspect::validate(bytes).map_err(|e| invalid(name, &e))?;
    let error = match crate::features::beyond_host(bytes) {
        Some((feature, help)) => ComposeError::new(
            ErrorKind::Component {
                component: name.to_string(),
            },
            format!("component `{name}` uses {feature}, which the host does not enable"),
        )
        .help(help),
        None => ComposeError::new(
            ErrorKind::Component {
                component: name.to_string(),
            },
            format!("component `{name}` uses WebAssembly features the host does not enable"),
        )
        .help("rebuild the component without them"),
    };
    Err(error.because(host_error))
}

/// Decides how each import is satisfied and in what order components are
/// instantiated.
pub(crate) fn resolve(manifest: &Manifest, decoded: &[Decoded]) -> Result<Plan, ComposeError> {
    let app = Resolver::new(manifest, decoded);
    let mut warnings = Vec::new();
    let mut planned = Vec::new();
    for ci in 0..decoded.len() {
        planned.push(app.plan_component(ci, &mut warnings)?);
    }
    let order = instantiation_order(manifest, &planned)?;
    let exports = app_exports(manifest, &planned, &app.index)?;
    warnings.extend(crate::warnings::uncalled(manifest, &planned));
    let components = order.into_iter().map(|i| planned[i].clone()).collect();
    Ok(Plan {
        app: manifest.name(),
        components,
        exports,
        warnings,
        limits: manifest.limits.clone(),
    })
}

/// What resolution looks things up in: the manifest, the decoded components
/// and what each exports.
struct Resolver<'a> {
    manifest: &'a Manifest,
    decoded: &'a [Decoded],
    /// Each component's place in `decoded`, by name.
    index: HashMap<&'a str, usize>,
    /// Each component's exports: name, and interface when it is one.
    exports: Vec<Vec<(String, Option<InterfaceId>)>>,
    /// The interfaces components export, by name without the version, each
    /// with the exporting component and the export's name, in manifest order.
    exporters: HashMap<String, Vec<(usize, String, InterfaceName)>>,
}

/// One import of a component: its name, parsed when it names an interface,
/// and the interface when it is one.
struct Import {
    name: String,
    parsed: Option<InterfaceName>,
    interface: Option<InterfaceId>,
}

/// What of a component's manifest entry its imports used: each wire, and
/// the capabilities granted.
struct Used {
    wires: Vec<bool>,
    capabilities: Vec<Capability>,
}

impl<'a> Resolver<'a> {
    fn new(manifest: &'a Manifest, decoded: &'a [Decoded]) -> Self {
        let index = decoded
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.as_str(), i))
            .collect();
        let exports: Vec<Vec<(String, Option<InterfaceId>)>> =
            decoded.iter().map(|d| d.items(true)).collect();
        let mut exporters: HashMap<String, Vec<(usize, String, InterfaceName)>> = HashMap::new();
        for (pi, list) in exports.iter().enumerate() {
            for (export, _) in list {
                if let Some(name) = InterfaceName::parse(export) {
                    exporters.entry(name.base.clone()).or_default().push((
                        pi,
                        export.clone(),
                        name,
                    ));
                }
            }
        }
        Self {
            manifest,
            decoded,
            index,
            exports,
            exporters,
        }
    }

    /// Where the manifest declares the component `ci`.
    fn here(&self, ci: usize) -> Location {
        let entry = &self.manifest.components[&self.decoded[ci].name];
        self.manifest.location(entry.span.start)
    }

    /// How each import of the component `ci` is satisfied, its wired imports
    /// type-checked, with the warnings for what its entry has and it does
    /// not use.
    fn plan_component(
        &self,
        ci: usize,
        warnings: &mut Vec<String>,
    ) -> Result<PlannedComponent, ComposeError> {
        let component = &self.decoded[ci];
        let entry = &self.manifest.components[&component.name];
        self.check_provided(ci)?;
        let denied = missing_grants(self.manifest, component)?;
        let mut used = Used {
            wires: vec![false; entry.wire.len()],
            capabilities: Vec::new(),
        };
        let mut imports = Vec::new();
        let mut unresolved = Vec::new();
        for (name, interface) in component.items(false) {
            let import = Import {
                parsed: InterfaceName::parse(&name),
                name,
                interface,
            };
            let Some(satisfied) = self.satisfy(ci, &import, &denied, &mut used)? else {
                unresolved.push(import);
                continue;
            };
            self.check_function(ci, &import, &satisfied)?;
            self.check_interface(ci, &import, &satisfied)?;
            imports.push((import.name, satisfied));
        }
        if !unresolved.is_empty() {
            return Err(self.unresolved(ci, &unresolved));
        }
        warnings.extend(crate::warnings::unused_wires(
            self.manifest,
            &component.name,
            &used.wires,
        ));
        warnings.extend(crate::warnings::unused_grants(
            self.manifest,
            &component.name,
            &used.capabilities,
        ));
        Ok(PlannedComponent {
            name: component.name.clone(),
            imports,
            exports: self.exports[ci].iter().map(|(e, _)| e.clone()).collect(),
            grants: entry.grants.clone(),
            core_module: component.core_module.as_ref().map(|(_, adapter)| *adapter),
        })
    }

    /// Fails when the host does not provide a WASI import of the component
    /// `ci` that no wire covers, naming every such import with the reason:
    /// granted or denied, it would be accepted here and fail to load, or
    /// be answered by a provider made for another release.
    fn check_provided(&self, ci: usize) -> Result<(), ComposeError> {
        let component = &self.decoded[ci];
        let serves = component.serves_http();
        let mut imports = Vec::new();
        let mut reasons = Vec::new();
        for (name, interface) in component.items(false) {
            let Some(parsed) = InterfaceName::parse(&name) else {
                continue;
            };
            if Capability::of_import(&parsed.base, serves).is_none() {
                continue;
            }
            let import = Import {
                parsed: Some(parsed.clone()),
                name,
                interface,
            };
            if self.explicit_wire(ci, &import).is_some() {
                continue;
            }
            let functions = interface
                .map(|id| &component.resolve.interfaces[id].functions)
                .into_iter()
                .flat_map(|functions| functions.keys().map(String::as_str));
            if let Some(reason) = crate::capability::unprovided(&parsed, functions) {
                imports.push(import.name);
                reasons.push(reason);
            }
        }
        if imports.is_empty() {
            return Ok(());
        }
        let quoted: Vec<String> = imports.iter().map(|i| format!("`{i}`")).collect();
        Err(ComposeError::new(
            ErrorKind::Unprovided {
                component: component.name.clone(),
                imports: imports.clone(),
            },
            format!(
                "component `{}` imports {}, which the host does not provide",
                component.name,
                quoted.join(", ")
            ),
        )
        .caused_by(reasons)
        .at(self.here(ci))
        .help(format!(
            "build the component for WASI 0.2 (0.2.0 to {}) or WASI 0.3 ({}), or wire {} to a component that exports it",
            crate::WASI_VERSION,
            crate::WASI_P3_VERSION,
            if imports.len() == 1 { "the import" } else { "each import" },
        )))
    }

    /// The rules, in order: an import denied for want of a grant, an
    /// explicit wire, a grant, automatic wiring. `None` when nothing
    /// provides the import.
    fn satisfy(
        &self,
        ci: usize,
        import: &Import,
        denied: &[(String, Capability)],
        used: &mut Used,
    ) -> Result<Option<Satisfied>, ComposeError> {
        if let Some((_, capability)) = denied.iter().find(|(name, _)| name == &import.name) {
            return Ok(Some(Satisfied::Denied(*capability)));
        }
        if let Some((wi, key, provider)) = self.explicit_wire(ci, import) {
            used.wires[wi] = true;
            return self.wired_explicitly(ci, import, key, provider).map(Some);
        }
        if let Some(capability) = import
            .parsed
            .as_ref()
            .and_then(|name| Capability::of_import(&name.base, self.decoded[ci].serves_http()))
        {
            used.capabilities.push(capability);
            return Ok(Some(Satisfied::Granted(capability)));
        }
        self.wired_automatically(ci, import)
    }

    /// The first wire of the component `ci` whose key names `import`: its
    /// place, key and provider.
    fn explicit_wire(
        &self,
        ci: usize,
        import: &Import,
    ) -> Option<(usize, &'a toml::Spanned<String>, &'a toml::Spanned<String>)> {
        let entry = &self.manifest.components[&self.decoded[ci].name];
        entry
            .wire
            .iter()
            .enumerate()
            .find(|(_, (key, _))| match &import.parsed {
                Some(name) => name.matches(key.get_ref()),
                None => key.get_ref() == &import.name,
            })
            .map(|(wi, (key, provider))| (wi, key, provider))
    }

    /// An import wired by the manifest, to the provider's export that
    /// satisfies it; an error when the provider exports nothing that does.
    fn wired_explicitly(
        &self,
        ci: usize,
        import: &Import,
        key: &toml::Spanned<String>,
        provider: &toml::Spanned<String>,
    ) -> Result<Satisfied, ComposeError> {
        let component = &self.decoded[ci];
        let pi = self.index[provider.get_ref().as_str()];
        let found = self.exports[pi].iter().find(|(export, _)| {
            match (&import.parsed, InterfaceName::parse(export)) {
                (Some(want), Some(have)) => have.satisfies(want),
                _ => export == &import.name,
            }
        });
        let Some((export, _)) = found else {
            return Err(ComposeError::new(
                ErrorKind::NotExported {
                    component: component.name.clone(),
                    import: import.name.clone(),
                    provider: provider.get_ref().clone(),
                },
                format!(
                    "component `{}` wires `{}` to `{}`, which does not export it",
                    component.name,
                    import.name,
                    provider.get_ref()
                ),
            )
            .at(self.manifest.location(key.span().start))
            .help(format!(
                "`{}` exports {}",
                provider.get_ref(),
                list_or_nothing(self.exports[pi].iter().map(|(e, _)| e.as_str()))
            )));
        };
        Ok(Satisfied::Wired {
            component: provider.get_ref().clone(),
            export: export.clone(),
        })
    }

    /// An import neither denied, wired nor granted, wired to the one other
    /// component that exports it; `None` when none does, an error when
    /// several do.
    fn wired_automatically(
        &self,
        ci: usize,
        import: &Import,
    ) -> Result<Option<Satisfied>, ComposeError> {
        let providers = match &import.parsed {
            Some(want) => self.interface_exporters(ci, want),
            // A plain function is wired to the one function exported under
            // the same name.
            None if self.decoded[ci].function(&import.name, false).is_some() => {
                self.function_exporters(ci, &import.name)
            }
            None => Vec::new(),
        };
        match providers.as_slice() {
            [(pi, export)] => Ok(Some(Satisfied::Wired {
                component: self.decoded[*pi].name.clone(),
                export: (*export).clone(),
            })),
            [] => Ok(None),
            many => {
                let names: Vec<&str> = many
                    .iter()
                    .map(|(pi, _)| self.decoded[*pi].name.as_str())
                    .collect();
                Err(self.ambiguous(ci, import, &names))
            }
        }
    }

    /// The components other than `ci` exporting an interface that satisfies
    /// `want`, with the export's name.
    fn interface_exporters(&self, ci: usize, want: &InterfaceName) -> Vec<(usize, &String)> {
        self.exporters
            .get(&want.base)
            .map(|candidates| {
                candidates
                    .iter()
                    .filter(|(pi, _, have)| *pi != ci && have.satisfies(want))
                    .map(|(pi, export, _)| (*pi, export))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The components other than `ci` exporting a function named `name`.
    fn function_exporters(&self, ci: usize, name: &str) -> Vec<(usize, &String)> {
        self.exports
            .iter()
            .enumerate()
            .filter(|(pi, _)| *pi != ci)
            .filter_map(|(pi, list)| {
                let (export, _) = list.iter().find(|(e, _)| *e == name)?;
                self.decoded[pi]
                    .function(export, true)
                    .map(|_| (pi, export))
            })
            .collect()
    }

    /// The fix that wires `imports` of the component `ci` to `provider`,
    /// each keyed by its interface without the version unless two of them
    /// share that.
    fn wire_hint(&self, ci: usize, imports: &[&Import], provider: &str) -> String {
        let base = |import: &Import| {
            import
                .parsed
                .as_ref()
                .map_or(import.name.clone(), |n| n.base.clone())
        };
        let wires: Vec<String> = imports
            .iter()
            .map(|import| {
                let key = base(import);
                let shared = imports.iter().filter(|other| base(other) == key).count() > 1;
                let key = if shared { import.name.clone() } else { key };
                format!("\"{key}\" = \"{provider}\"")
            })
            .collect();
        format!(
            "add `wire = {{ {} }}` under `[components.{}]`",
            wires.join(", "),
            self.decoded[ci].name
        )
    }

    /// The error for the imports of the component `ci` that nothing
    /// provides.
    fn unresolved(&self, ci: usize, imports: &[Import]) -> ComposeError {
        let quoted: Vec<String> = imports.iter().map(|i| format!("`{}`", i.name)).collect();
        let one = imports.len() == 1;
        ComposeError::new(
            ErrorKind::Unresolved {
                component: self.decoded[ci].name.clone(),
                imports: imports.iter().map(|i| i.name.clone()).collect(),
            },
            format!(
                "component `{}` imports {}, which no component exports and no grant provides",
                self.decoded[ci].name,
                quoted.join(", ")
            ),
        )
        .at(self.here(ci))
        .help(format!(
            "add {} that {} {}, or {}",
            if one { "a component" } else { "components" },
            if one { "exports" } else { "export" },
            if one { "it" } else { "them" },
            self.wire_hint(ci, &imports.iter().collect::<Vec<_>>(), "COMPONENT")
        ))
    }

    /// The error for an import that the components `names` all export.
    fn ambiguous(&self, ci: usize, import: &Import, names: &[&str]) -> ComposeError {
        ComposeError::new(
            ErrorKind::Ambiguous {
                component: self.decoded[ci].name.clone(),
                import: import.name.clone(),
                exporters: names.iter().map(|n| n.to_string()).collect(),
            },
            format!(
                "component `{}` imports `{}`, which {} {} export",
                self.decoded[ci].name,
                import.name,
                quoted_list(names),
                if names.len() == 2 { "both" } else { "all" }
            ),
        )
        .at(self.here(ci))
        .help(format!(
            "choose one: {}",
            self.wire_hint(ci, &[import], names[0])
        ))
    }

    /// The error for an import whose type the export wired to it does not
    /// have.
    fn mismatch(
        &self,
        ci: usize,
        import: &Import,
        provider: &str,
        export: &str,
        causes: Vec<String>,
    ) -> ComposeError {
        ComposeError::new(
            ErrorKind::TypeMismatch {
                component: self.decoded[ci].name.clone(),
                import: import.name.clone(),
                provider: provider.to_string(),
                export: export.to_string(),
            },
            format!(
                "component `{}` imports `{}` with a type that `{provider}`'s export `{export}` does not have",
                self.decoded[ci].name, import.name
            ),
        )
        .caused_by(causes)
        .at(self.here(ci))
    }

    /// Checks a wired plain function import against the function exported to
    /// it.
    fn check_function(
        &self,
        ci: usize,
        import: &Import,
        satisfied: &Satisfied,
    ) -> Result<(), ComposeError> {
        let component = &self.decoded[ci];
        let Satisfied::Wired {
            component: provider,
            export,
        } = satisfied
        else {
            return Ok(());
        };
        let Some(want) = component.function(&import.name, false) else {
            return Ok(());
        };
        let pi = self.index[provider.as_str()];
        let have = self.decoded[pi].function(export, true).ok_or_else(|| {
            ComposeError::new(
                ErrorKind::TypeMismatch {
                    component: component.name.clone(),
                    import: import.name.clone(),
                    provider: provider.clone(),
                    export: export.clone(),
                },
                format!(
                    "component `{}` imports the function `{}`, but `{provider}`'s export `{export}` is not a function",
                    component.name, import.name
                ),
            )
            .at(self.here(ci))
        })?;
        check_function(&component.resolve, want, &self.decoded[pi].resolve, have)
            .map_err(|causes| self.mismatch(ci, import, provider, export, causes))
    }

    /// Checks a wired interface import against the interface exported to it.
    fn check_interface(
        &self,
        ci: usize,
        import: &Import,
        satisfied: &Satisfied,
    ) -> Result<(), ComposeError> {
        let (
            Satisfied::Wired {
                component: provider,
                export,
            },
            Some(want),
        ) = (satisfied, import.interface)
        else {
            return Ok(());
        };
        let pi = self.index[provider.as_str()];
        let have = self.exports[pi]
            .iter()
            .find(|(e, _)| e == export)
            .and_then(|(_, id)| *id);
        let Some(have) = have else {
            return Ok(());
        };
        check_interface(
            Side {
                resolve: &self.decoded[ci].resolve,
                interface: want,
            },
            Side {
                resolve: &self.decoded[pi].resolve,
                interface: have,
            },
        )
        .map_err(|causes| self.mismatch(ci, import, provider, export, causes))
    }
}

/// The app's exports: every export of each component the manifest names,
/// with that component; an error when there are none to name or two share
/// a name.
fn app_exports(
    manifest: &Manifest,
    planned: &[PlannedComponent],
    index: &HashMap<&str, usize>,
) -> Result<Vec<(String, String)>, ComposeError> {
    let mut app_exports: Vec<(String, String)> = Vec::new();
    if manifest.app.export.is_empty() {
        return Err(ComposeError::new(ErrorKind::Export, "the app exports nothing")
            .help("name the components whose exports are the app's: `export = [\"COMPONENT\"]` under `[app]`"));
    }
    for export in &manifest.app.export {
        let component = &planned[index[export.get_ref().as_str()]];
        for name in &component.exports {
            if let Some((_, other)) = app_exports.iter().find(|(n, _)| n == name) {
                return Err(ComposeError::new(
                    ErrorKind::Export,
                    format!(
                        "the app cannot export `{name}` twice: both `{other}` and `{}` export it",
                        component.name
                    ),
                )
                .at(manifest.location(export.span().start)));
            }
            app_exports.push((name.clone(), component.name.clone()));
        }
    }
    Ok(app_exports)
}

/// The imports of `component` that no grant to it and no wire covers.
///
/// When the component carries the WASI preview1 adapter (which imports what
/// it needs whether the code uses it or not) they are returned, to be denied
/// by inert providers; otherwise, or in strict mode, composing fails naming
/// them (the capabilities themselves before the streams they hand out).
fn missing_grants(
    manifest: &Manifest,
    component: &Decoded,
) -> Result<Vec<(String, Capability)>, ComposeError> {
    let entry = &manifest.components[&component.name];
    let missing: Vec<(String, Capability)> = component
        .items(false)
        .into_iter()
        .filter(|(import, _)| {
            !entry.wire.keys().any(|key| {
                InterfaceName::parse(import).is_some_and(|name| name.matches(key.get_ref()))
            })
        })
        .filter_map(|(import, _)| {
            let serves = component.serves_http();
            let capability = Capability::of_import(&InterfaceName::parse(&import)?.base, serves)?;
            (!capability.held_by(&entry.grants, serves)).then_some((import, capability))
        })
        .collect();
    if missing.is_empty() {
        return Ok(missing);
    }
    if component.adapter.is_some() && !manifest.app.strict {
        return Ok(missing);
    }
    Err(missing_grant_error(manifest, component, missing))
}

/// The error for the imports `missing` of `component`, which no grant
/// covers: the capabilities themselves named before the streams they hand
/// out, with the grant lines that fix it.
fn missing_grant_error(
    manifest: &Manifest,
    component: &Decoded,
    missing: Vec<(String, Capability)>,
) -> ComposeError {
    let entry = &manifest.components[&component.name];
    let mut named = missing;
    if named.iter().any(|(_, c)| *c != Capability::Io) {
        named.retain(|(_, c)| *c != Capability::Io);
    }
    let imports: Vec<String> = named.iter().map(|(i, _)| format!("`{i}`")).collect();
    let mut lines: Vec<&str> = named.iter().map(|(_, c)| c.grant_line()).collect();
    let mut seen = HashSet::new();
    lines.retain(|line| seen.insert(*line));
    let location = entry
        .grants_span
        .as_ref()
        .map_or(entry.span.start, |span| span.start);
    let mut error = ComposeError::new(
        ErrorKind::MissingGrant {
            component: component.name.clone(),
            imports: named.iter().map(|(i, _)| i.clone()).collect(),
        },
        format!(
            "component `{}` imports {}, which {} not granted to it",
            component.name,
            imports.join(", "),
            if imports.len() == 1 { "is" } else { "are" }
        ),
    )
    .at(manifest.location(location))
    .help(format!(
        "to grant {}, add `{}` under `[components.{}.grants]`",
        if imports.len() == 1 { "it" } else { "them" },
        lines.join("` and `"),
        component.name
    ));
    if let Some(adapter) = &component.adapter {
        error = error.caused_by(vec![format!(
            "the component's toolchain added these imports (it carries the `{adapter}` adapter); they would be denied by inert providers, but the app is `strict`"
        )]);
    }
    error
}

/// Orders components so that each comes after those it imports from, keeping
/// the manifest's order otherwise; a cycle is an error naming it.
fn instantiation_order(
    manifest: &Manifest,
    planned: &[PlannedComponent],
) -> Result<Vec<usize>, ComposeError> {
    let deps = dependencies(planned);
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    // Depth first, each component after its dependencies, with a list of
    // the open components instead of recursion: a chain of any length fits.
    let mut marks = vec![Mark::New; planned.len()];
    let mut order = Vec::with_capacity(planned.len());
    for root in 0..planned.len() {
        if marks[root] != Mark::New {
            continue;
        }
        marks[root] = Mark::Open;
        // The open components, each with the next of its dependencies to visit.
        let mut open = vec![(root, 0)];
        while let Some(&(i, next)) = open.last() {
            let Some(&d) = deps[i].get(next) else {
                marks[i] = Mark::Done;
                order.push(i);
                open.pop();
                continue;
            };
            if let Some(top) = open.last_mut() {
                top.1 += 1;
            }
            match marks[d] {
                Mark::Done => {}
                Mark::New => {
                    marks[d] = Mark::Open;
                    open.push((d, 0));
                }
                Mark::Open => {
                    let start = open.iter().position(|&(o, _)| o == d).unwrap_or(0);
                    let names: Vec<&str> = open[start..]
                        .iter()
                        .map(|&(c, _)| planned[c].name.as_str())
                        .collect();
                    return Err(cycle_error(manifest, &names));
                }
            }
        }
    }
    Ok(order)
}

/// For each planned component, the components it imports from (their
/// places in `planned`), each once, in the order of its imports.
fn dependencies(planned: &[PlannedComponent]) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    planned
        .iter()
        .map(|c| {
            let mut deps: Vec<usize> = c
                .imports
                .iter()
                .filter_map(|(_, s)| match s {
                    Satisfied::Wired { component, .. } => Some(index[component.as_str()]),
                    Satisfied::Granted(_) | Satisfied::Denied(_) => None,
                })
                .collect();
            let mut seen = HashSet::new();
            deps.retain(|dep| seen.insert(*dep));
            deps
        })
        .collect()
}

/// The error for the components `names`, which import from each other in a
/// cycle, in that order.
fn cycle_error(manifest: &Manifest, names: &[&str]) -> ComposeError {
    let first = &manifest.components[names[0]];
    ComposeError::new(
        ErrorKind::Cycle {
            components: names.iter().map(|n| n.to_string()).collect(),
        },
        format!(
            "components import from each other in a cycle: {}",
            cycle_text(names)
        ),
    )
    .at(manifest.location(first.span.start))
    .help("a component cannot be instantiated before the components it imports from; break the cycle by wiring one of these imports elsewhere")
}

/// A cycle as `a -> b -> c -> a`; a long one shortened in the middle, with
/// its length.
fn cycle_text(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    if names.len() <= SHOWN {
        return format!("{} -> {}", names.join(" -> "), names[0]);
    }
    format!(
        "{} -> … -> {} -> {} ({} components)",
        names[..SHOWN - 2].join(" -> "),
        names[names.len() - 1],
        names[0],
        names.len()
    )
}

fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn list_or_nothing<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        "nothing".to_string()
    } else {
        quoted_list(&items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Grants;

    /// A component whose structure is valid but whose one function is not:
    /// it must return an `i32` and returns nothing.
    const INVALID_CODE: &str = "(component (core module (func (result i32))))";

    /// A component that imports an interface no other component exports.
    const UNRESOLVED: &str = r#"(component
        (import "test:missing/thing@1.0.0" (instance))
    )"#;

    fn compose_wat(manifest: &str, components: &[(&str, &str)]) -> Result<Vec<u8>, ComposeError> {
        let manifest = Manifest::parse("nanoproc.toml", manifest).unwrap();
        let bytes = components
            .iter()
            .map(|(name, wat)| (name.to_string(), wat::parse_str(wat).unwrap()))
            .collect();
        compose(&manifest, &bytes).map(|c| c.bytes)
    }

    const INVALID: &str = "component `bad` is not a valid component
  caused by: the component is not valid
  caused by: type mismatch: expected i32 but nothing on stack (at offset 0x22)";

    /// `count` components `c0`, `c1`, …, each importing from the one `next`
    /// gives, ordered for instantiation.
    fn order(count: usize, next: impl Fn(usize) -> Option<usize>) -> Result<Vec<usize>, String> {
        let mut text = String::from("[app]\nexport = [\"c0\"]\n");
        let mut planned = Vec::new();
        for i in 0..count {
            text.push_str(&format!("[components.c{i}]\npath = \"c.wasm\"\n"));
            let imports = next(i).map(|next| {
                (
                    "test:many/link".to_string(),
                    Satisfied::Wired {
                        component: format!("c{next}"),
                        export: "test:many/link".to_string(),
                    },
                )
            });
            planned.push(PlannedComponent {
                name: format!("c{i}"),
                imports: imports.into_iter().collect(),
                exports: vec!["test:many/link".to_string()],
                grants: Grants::default(),
                core_module: None,
            });
        }
        let manifest = Manifest::parse("nanoproc.toml", text).unwrap();
        instantiation_order(&manifest, &planned).map_err(|e| e.message().to_string())
    }

    #[test]
    fn a_chain_of_any_length_is_ordered_without_recursion() {
        let order = order(50_000, |i| (i + 1 < 50_000).then_some(i + 1)).unwrap();
        assert!(order.iter().copied().eq((0..50_000).rev()));
    }

    #[test]
    fn a_cycle_of_any_length_is_found_without_recursion_and_shortened() {
        let error = order(50_000, |i| Some((i + 1) % 50_000)).unwrap_err();
        assert_eq!(
            error,
            "components import from each other in a cycle: \
             c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> … -> c49999 -> c0 (50000 components)"
        );
        let error = order(3, |i| Some((i + 1) % 3)).unwrap_err();
        assert_eq!(
            error,
            "components import from each other in a cycle: c0 -> c1 -> c2 -> c0"
        );
    }

    #[test]
    fn a_wire_for_no_import_is_shown_escaped() {
        let manifest = Manifest::parse(
            "nanoproc.toml",
            "[app]\nexport = [\"a\"]\n[components.a]\npath = \"a.wat\"\n\
             wire = { \"test:m\u{430}rkdown/render\" = \"b\" }\n\
             [components.b]\npath = \"b.wat\"\n",
        )
        .unwrap();
        let bytes = [("a", "(component)"), ("b", "(component)")]
            .iter()
            .map(|(name, wat)| (name.to_string(), wat::parse_str(wat).unwrap()))
            .collect();
        let plan = compose(&manifest, &bytes).unwrap().plan;
        assert_eq!(
            plan.warnings[0],
            "nanoproc.toml:5:10: component `a` wires `test:m\\u{430}rkdown/render`, which it does not import"
        );
    }

    #[test]
    fn invalid_function_code_is_an_invalid_component() {
        let error = compose_wat(
            "[app]\nexport = [\"bad\"]\n[components.bad]\npath = \"bad.wat\"\n",
            &[("bad", INVALID_CODE)],
        )
        .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Component { component } if component == "bad"));
        assert_eq!(format!("{error:#}"), INVALID);
    }

    #[test]
    fn an_error_names_what_it_is_about_and_keeps_its_place() {
        let manifest =
            "[app]\nexport = [\"lonely\"]\n\n[components.lonely]\npath = \"lonely.wat\"\n";
        let error = compose_wat(manifest, &[("lonely", UNRESOLVED)]).unwrap_err();
        assert_eq!(
            *error.kind(),
            ErrorKind::Unresolved {
                component: "lonely".into(),
                imports: vec!["test:missing/thing@1.0.0".into()],
            }
        );
        let location = error.location().unwrap();
        assert_eq!((location.line, location.column), (4, 1));
        assert_eq!(&manifest[location.span.clone()], "[components.lonely]");
        assert_eq!(
            error.help_text(),
            Some(
                "add a component that exports it, or add \
                 `wire = { \"test:missing/thing\" = \"COMPONENT\" }` under `[components.lonely]`"
            )
        );
        // A manifest error keeps its place too.
        let manifest = Manifest::parse("nanoproc.toml", "[app]\nexport = 3\n").unwrap_err();
        let error = ComposeError::from(manifest);
        assert_eq!(*error.kind(), ErrorKind::Manifest);
        let location = error.location().unwrap();
        assert_eq!(
            (location.line, location.column, location.span.clone()),
            (2, 10, 15..16)
        );
        assert_eq!(
            crate::report(&error, false),
            "  × invalid type: integer `3`, expected a sequence\n   ╭─[nanoproc.toml:2:10]\n \
             1 │ [app]\n 2 │ export = 3\n   ·          ─\n   ╰────\n"
        );
    }

    #[test]
    fn invalid_component_is_reported_before_what_comes_after_it() {
        let manifest = "[app]\nexport = [\"bad\"]\n[components.bad]\npath = \"bad.wat\"\n\
            [components.lonely]\npath = \"lonely.wat\"\n";
        let error =
            compose_wat(manifest, &[("bad", INVALID_CODE), ("lonely", UNRESOLVED)]).unwrap_err();
        assert_eq!(format!("{error:#}"), INVALID);
        let error = compose_wat(manifest, &[("bad", INVALID_CODE)]).unwrap_err();
        assert_eq!(format!("{error:#}"), INVALID);
    }

    #[test]
    fn invalid_component_is_not_reported_before_what_comes_before_it() {
        let manifest = "[app]\nexport = [\"bad\"]\n[components.lonely]\npath = \"lonely.wat\"\n\
            [components.bad]\npath = \"bad.wat\"\n";
        let error = compose_wat(manifest, &[("bad", INVALID_CODE)]).unwrap_err();
        assert_eq!(error.to_string(), "component `lonely` was not loaded");
    }
}
