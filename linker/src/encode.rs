//! Encoding a plan as one component with wasm-encoder.
//!
//! The composed component is laid out as:
//! 1. the host capabilities it imports, their types encoded from the union of
//!    what the granted components use (semver-compatible versions merged);
//! 2. each component, embedded once, byte for byte but for the names of its
//!    core modules, which become the component's name (see `modules`);
//! 3. one instance of each, in the plan's order, its imports wired to those
//!    capabilities or to other instances' exports;
//! 4. the app's exports, aliased from the instances that provide them;
//! 5. a name section naming every component and instance.
//!
//! The output is validated before it is returned.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use wasm_encoder::reencode::{ReencodeComponent, RoundtripReencoder};
use wasm_encoder::{ComponentBuilder, ComponentExportKind};
use wasmparser::{ComponentType, ComponentTypeDeclaration, Parser, Payload};
use wit_parser::{
    InterfaceId, Package, PackageName, Resolve, Stability, World, WorldId, WorldItem, WorldKey,
};

use crate::decoded::Decoded;
use crate::error::{ComposeError, ErrorKind};
use crate::grants::AppGrants;
use crate::manifest::Grants;
use crate::names::InterfaceName;
use crate::plan::{Plan, PlannedComponent, Satisfied};

fn internal(what: &str, e: impl std::fmt::Display) -> ComposeError {
    ComposeError::new(
        ErrorKind::Encoding,
        format!("cannot encode the composition: {what}: {e}"),
    )
}

/// The most components, and the most instances, one component may hold:
/// the limits of wasmparser's validator, which wasmtime's shares.
pub(crate) const MAX_NESTED: usize = 1000;

/// The error for an app that needs `count` `what`s, past [`MAX_NESTED`].
pub(crate) fn too_large(count: usize, what: &str) -> ComposeError {
    ComposeError::new(
        ErrorKind::TooLarge { count },
        format!("the app needs {count} {what}, more than the {MAX_NESTED} one component may hold"),
    )
    .help("compose groups of its components into apps of their own first (a composed app is a component), and name those in this manifest")
}

pub(crate) fn encode(
    plan: &Plan,
    decoded: &[Decoded],
    bytes: &IndexMap<String, Vec<u8>>,
) -> Result<Vec<u8>, ComposeError> {
    // Each component is nested once, and one deny provider for each that
    // has denied imports.
    let nested = plan.components.len()
        + plan
            .components
            .iter()
            .filter(|c| {
                c.imports.iter().any(|(import, s)| {
                    matches!(s, Satisfied::Denied(_)) && !crate::grants::answered_by_host(c, import)
                })
            })
            .count();
    if nested > MAX_NESTED {
        return Err(too_large(
            nested,
            "components (one for each of its components, and one for each deny provider)",
        ));
    }
    let decoded_by_name: HashMap<&str, &Decoded> =
        decoded.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut builder = ComponentBuilder::default();
    let imports = import_capabilities(&mut builder, plan, decoded)?;

    let mut component_index = HashMap::new();
    for planned in &plan.components {
        let given = &bytes[&planned.name];
        let component = decoded_by_name
            .get(planned.name.as_str())
            .map_or(given.as_slice(), |d| d.component_bytes(given));
        let named = crate::modules::name_core_modules(component, &planned.name)
            .map_err(|e| internal("naming its core modules", e))?;
        let idx = builder.component_raw(Some(&planned.name), &named);
        component_index.insert(planned.name.as_str(), idx);
    }

    let mut instance_of: HashMap<&str, u32> = HashMap::new();
    let mut aliased: HashMap<(u32, String), u32> = HashMap::new();
    for planned in &plan.components {
        let mut args: Vec<(String, ComponentExportKind, u32)> = Vec::new();
        let mut denied = Vec::new();
        for (import, satisfied) in &planned.imports {
            let instance = match satisfied {
                Satisfied::Wired { component, export } => {
                    let from = instance_of[component.as_str()];
                    let kind = export_kind(decoded, component, export);
                    let item = *aliased
                        .entry((from, export.clone()))
                        .or_insert_with(|| builder.alias_export(from, export, kind));
                    args.push((import.clone(), kind, item));
                    continue;
                }
                Satisfied::Granted(_) => imports
                    .instance_for(import, &planned.name)
                    .ok_or_else(|| internal("no capability import matches", import))?,
                Satisfied::Denied(_) if crate::grants::answered_by_host(planned, import) => imports
                    .holder_instance(import, &planned.name)
                    .ok_or_else(|| internal("no inert import matches", import))?,
                Satisfied::Denied(_) => {
                    denied.push(import.clone());
                    continue;
                }
            };
            args.push((import.clone(), ComponentExportKind::Instance, instance));
        }
        if !denied.is_empty() {
            // The deny provider takes the interfaces it uses types from from
            // the very instances the component gets them from.
            let component = decoded_by_name
                .get(planned.name.as_str())
                .ok_or_else(|| internal("a planned component was not decoded", &planned.name))?;
            let provider = crate::deny::provider(&component.resolve, component.world, &denied)?;
            let name = format!("{}-deny", planned.name);
            // A trap in the provider happens on behalf of the component.
            let named = crate::modules::name_core_modules(&provider.bytes, &planned.name)
                .map_err(|e| internal("naming its deny provider", e))?;
            let idx = builder.component_raw(Some(&name), &named);
            let provider_args: Vec<_> = provider
                .imports
                .iter()
                .map(|import| {
                    let (_, _, instance) = args
                        .iter()
                        .find(|(name, _, _)| name == import)
                        .ok_or_else(|| {
                            internal("a deny provider import is not satisfied", import)
                        })?;
                    Ok((import.clone(), ComponentExportKind::Instance, *instance))
                })
                .collect::<Result<_, ComposeError>>()?;
            let instance = builder.instantiate(Some(&name), idx, provider_args);
            for import in denied {
                let export = builder.alias_export(instance, &import, ComponentExportKind::Instance);
                args.push((import, ComponentExportKind::Instance, export));
            }
        }
        let idx = builder.instantiate(
            Some(&planned.name),
            component_index[planned.name.as_str()],
            args,
        );
        instance_of.insert(planned.name.as_str(), idx);
    }

    for (name, component) in &plan.exports {
        let from = instance_of[component.as_str()];
        let kind = export_kind(decoded, component, name);
        let item = *aliased
            .entry((from, name.clone()))
            .or_insert_with(|| builder.alias_export(from, name, kind));
        builder.export(name, kind, item, None);
    }
    let grants = AppGrants {
        app: plan.app.clone(),
        components: plan
            .components
            .iter()
            .filter(|c| c.grants != Grants::default())
            .map(|c| (c.name.clone(), c.grants.clone()))
            .collect(),
        limits: plan.limits.clone(),
    };
    let grants = grants
        .write()
        .map_err(|e| internal("writing the grants", e))?;
    builder.custom_section(&wasm_encoder::CustomSection {
        name: AppGrants::SECTION.into(),
        data: grants.into(),
    });
    let instances = builder.instance_count() as usize;
    if instances > MAX_NESTED {
        return Err(too_large(
            instances,
            "instances (one for each component, capability and interface passed between them)",
        ));
    }
    builder.append_names();
    let out = builder.finish();

    crate::validate::validate(&out, crate::features::HOST)
        .map_err(|e| internal("the result does not validate", e))?;
    Ok(out)
}

/// What the export `name` of `component` is: a function exported by
/// itself, or (as interfaces are) an instance.
fn export_kind(decoded: &[Decoded], component: &str, name: &str) -> ComponentExportKind {
    let function = decoded
        .iter()
        .find(|d| d.name == component)
        .is_some_and(|d| {
            d.resolve.worlds[d.world].exports.iter().any(|(key, item)| {
                matches!(item, WorldItem::Function(_)) && d.resolve.name_world_key(key) == name
            })
        });
    if function {
        ComponentExportKind::Func
    } else {
        ComponentExportKind::Instance
    }
}

/// The capability imports of the composed component: the interface each
/// stands for, the one component it serves if it is a per-holder copy, and
/// its instance index.
struct CapabilityImports {
    by_name: Vec<(InterfaceName, Option<String>, u32)>,
}

impl CapabilityImports {
    /// The import instance that satisfies `holder`'s import `name`: its own
    /// copy if it has one, the shared import otherwise.
    fn instance_for(&self, name: &str, holder: &str) -> Option<u32> {
        self.find(name, Some(holder))
            .or_else(|| self.find(name, None))
    }

    /// The import instance that serves `holder`'s import `name` alone.
    fn holder_instance(&self, name: &str, holder: &str) -> Option<u32> {
        self.find(name, Some(holder))
    }

    /// The import of the interface `name` serving `serves` alone, or (for
    /// `None`) the shared one.
    fn find(&self, name: &str, serves: Option<&str>) -> Option<u32> {
        let want = InterfaceName::parse(name)?;
        self.by_name
            .iter()
            .find(|(have, for_holder, _)| have.satisfies(&want) && for_holder.as_deref() == serves)
            .map(|(_, _, idx)| *idx)
    }
}

/// Encodes the imports of every granted capability, and the interfaces their
/// types come from, at the top of the composed component.
fn import_capabilities(
    builder: &mut ComponentBuilder,
    plan: &Plan,
    decoded: &[Decoded],
) -> Result<CapabilityImports, ComposeError> {
    // Merge the worlds of the components that hold grants, so that each
    // imported interface is the union of what its holders use.
    let mut resolve = Resolve::default();
    let mut wanted: Vec<InterfaceId> = Vec::new();
    let planned_by_name: HashMap<&str, &PlannedComponent> = plan
        .components
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    for (i, component) in decoded.iter().enumerate() {
        let planned = planned_by_name
            .get(component.name.as_str())
            .ok_or_else(|| internal("a decoded component was not planned", &component.name))?;
        let granted: Vec<&String> = planned
            .imports
            .iter()
            .filter(|(name, s)| match s {
                Satisfied::Granted(_) => true,
                Satisfied::Denied(_) => crate::grants::answered_by_host(planned, name),
                Satisfied::Wired { .. } => false,
            })
            .map(|(name, _)| name)
            .collect();
        if granted.is_empty() {
            continue;
        }
        let mut theirs = component.resolve.clone();
        rename_root_package(&mut theirs, component.world, i);
        let remap = resolve
            .merge(theirs)
            .map_err(|e| internal("merging the components' worlds", e))?;
        let world = &component.resolve.worlds[component.world];
        for (key, _) in &world.imports {
            let WorldKey::Interface(id) = key else {
                continue;
            };
            if granted.contains(&&component.resolve.name_world_key(key)) {
                let id = remap.interfaces[id.index()]
                    .ok_or_else(|| internal("an interface vanished while merging", ""))?;
                if !wanted.contains(&id) {
                    wanted.push(id);
                }
            }
        }
    }
    if wanted.is_empty() {
        return Ok(CapabilityImports {
            by_name: Vec::new(),
        });
    }

    // Everything the wanted interfaces use types from comes first: depth
    // first, with a list of the open interfaces instead of recursion.
    let mut ordered = Vec::new();
    let mut seen = HashSet::new();
    for id in &wanted {
        if !seen.insert(*id) {
            continue;
        }
        let mut open = vec![(
            *id,
            resolve.interface_direct_deps(*id).collect::<Vec<_>>(),
            0,
        )];
        while let Some((id, deps, next)) = open.last_mut() {
            match deps.get(*next) {
                Some(dep) => {
                    *next += 1;
                    let dep = *dep;
                    if seen.insert(dep) {
                        open.push((dep, resolve.interface_direct_deps(dep).collect(), 0));
                    }
                }
                None => {
                    ordered.push(*id);
                    open.pop();
                }
            }
        }
    }

    let package = resolve.packages.alloc(Package {
        name: PackageName {
            namespace: "nanoproc".to_string(),
            name: "composition".to_string(),
            version: None,
        },
        docs: Default::default(),
        interfaces: Default::default(),
        worlds: Default::default(),
    });
    let world = resolve.worlds.alloc(World {
        name: "app".to_string(),
        imports: ordered
            .iter()
            .map(|id| {
                (
                    WorldKey::Interface(*id),
                    WorldItem::Interface {
                        id: *id,
                        stability: Stability::Unknown,
                        span: Default::default(),
                        docs: Default::default(),
                        external_id: None,
                    },
                )
            })
            .collect(),
        exports: Default::default(),
        package: Some(package),
        docs: Default::default(),
        stability: Stability::Unknown,
        includes: Default::default(),
        span: Default::default(),
    });
    resolve.packages[package]
        .worlds
        .insert("app".to_string(), world);
    resolve
        .merge_world_imports_based_on_semver(world)
        .map_err(|e| internal("merging semver-compatible imports", e))?;

    let by_name = copy_world_imports(builder, &resolve, world, plan)?;
    Ok(CapabilityImports { by_name })
}

/// Gives a decoded component's root package a name of its own, so that the
/// worlds of several components can be merged into one resolve.
fn rename_root_package(resolve: &mut Resolve, world: WorldId, i: usize) {
    let Some(package) = resolve.worlds[world].package else {
        return;
    };
    let old = resolve.packages[package].name.clone();
    let new = PackageName {
        namespace: "nanoproc-component".to_string(),
        name: format!("c{i}"),
        version: None,
    };
    resolve.package_names.shift_remove(&old);
    resolve.package_names.insert(new.clone(), package);
    resolve.packages[package].name = new;
}

/// Encodes `world`'s imports as a component type with wit-component, then
/// copies its declarations to the top level of `builder`: the type, alias
/// and import index spaces line up one to one, so no index needs rewriting.
///
/// An interface imported once per holder instead of once for all (a grant
/// split per holder, an inert answer to a denial) is imported under each
/// holder's name: the first copy takes the shared import's place (so
/// indices still line up), the others come after everything else, with the
/// same instance type.
fn copy_world_imports(
    builder: &mut ComponentBuilder,
    resolve: &Resolve,
    world: WorldId,
    plan: &Plan,
) -> Result<Vec<(InterfaceName, Option<String>, u32)>, ComposeError> {
    let encoded =
        wit_component::metadata::encode(resolve, world, wit_component::StringEncoding::UTF8, None)
            .map_err(|e| internal("encoding the capability imports", e))?;
    // The interfaces other imports take types from keep their shared import.
    let used_by_others: HashSet<String> = resolve.worlds[world]
        .imports
        .keys()
        .filter_map(|key| match key {
            WorldKey::Interface(id) => Some(*id),
            WorldKey::Name(_) => None,
        })
        .flat_map(|id| resolve.interface_direct_deps(id).collect::<Vec<_>>())
        .filter_map(|dep| {
            let name = resolve.name_world_key(&WorldKey::Interface(dep));
            Some(InterfaceName::parse(&name)?.base)
        })
        .collect();
    let split = crate::grants::split_per_holder(plan);

    let mut declarations = None;
    for payload in Parser::new(0).parse_all(&encoded) {
        if let Payload::ComponentTypeSection(reader) =
            payload.map_err(|e| internal("reading the capability imports", e))?
        {
            for ty in reader {
                if let ComponentType::Component(outer) =
                    ty.map_err(|e| internal("reading the capability imports", e))?
                {
                    for decl in outer.into_vec() {
                        if let ComponentTypeDeclaration::Type(ComponentType::Component(inner)) =
                            decl
                        {
                            declarations = Some(inner);
                        }
                    }
                }
            }
        }
    }
    let declarations =
        declarations.ok_or_else(|| internal("no world type in the encoded imports", ""))?;

    let mut reencoder = RoundtripReencoder;
    let mut imports = Vec::new();
    let mut later = Vec::new();
    for decl in declarations.into_vec() {
        match decl {
            ComponentTypeDeclaration::Type(ty) => {
                let (_, encoder) = builder.ty(None);
                reencoder
                    .parse_component_type(encoder, ty)
                    .map_err(|e| internal("copying a type", e))?;
            }
            ComponentTypeDeclaration::Alias(alias) => {
                let alias = reencoder
                    .component_alias(alias)
                    .map_err(|e| internal("copying an alias", e))?;
                builder.alias(None, alias);
            }
            ComponentTypeDeclaration::Import(import) => {
                let ty = reencoder
                    .component_type_ref(import.ty)
                    .map_err(|e| internal("copying an import", e))?;
                let name = import.name.name;
                let parsed = InterfaceName::parse(name)
                    .ok_or_else(|| internal("a capability import is not an interface", name))?;
                let copies = crate::grants::import_copies(
                    plan,
                    &split,
                    &parsed,
                    used_by_others.contains(&parsed.base),
                );
                for (i, (holder, copy)) in copies.into_iter().enumerate() {
                    if i == 0 {
                        let idx = builder.import(&copy, ty);
                        imports.push((parsed.clone(), holder, idx));
                    } else {
                        later.push((parsed.clone(), holder, copy, ty));
                    }
                }
            }
            ComponentTypeDeclaration::Export { .. } => {}
            ComponentTypeDeclaration::CoreType(_) => {
                return Err(internal("a core type among the capability imports", ""));
            }
        }
    }
    for (parsed, holder, name, ty) in later {
        let idx = builder.import(&name, ty);
        imports.push((parsed, holder, idx));
    }
    Ok(imports)
}
