//! Reading what a component imports and exports.

use anyhow::{Context as _, Result, bail};
use wasmparser::{
    ComponentExternalKind, ComponentName, ComponentTypeRef, KnownCustom, Parser, Payload,
};
use wit_component::WitPrinter;
use wit_parser::decoding::{DecodedWasm, decode};

/// The outside of one component: the names it imports and exports, and its
/// world in WIT syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInterface {
    /// The component's top-level imports, in the order the component lists them.
    pub imports: Vec<Item>,
    /// The component's top-level exports, in the order the component lists them.
    pub exports: Vec<Item>,
    /// The component's world, with every interface it names, as WIT text.
    pub wit: String,
}

/// One import or export of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The name, such as `wasi:cli/stderr@0.2.12` or `render`.
    pub name: String,
    /// What sort of item it is.
    pub kind: ItemKind,
}

/// The sort of an imported or exported item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An instance, which is how an interface is imported or exported.
    Instance,
    /// A single function.
    Func,
    /// A type, such as a resource.
    Type,
    /// A nested component.
    Component,
    /// A core module.
    Module,
    /// A value.
    Value,
}

impl ComponentInterface {
    /// Reads the imports, exports and world of the component in `bytes`.
    ///
    /// # Errors
    ///
    /// When `bytes` is not a valid component: malformed wasm, a core module,
    /// or a component that fails validation.
    pub fn read(bytes: &[u8]) -> Result<Self> {
        validate(bytes)?;
        let (imports, exports) = top_level_items(bytes)?;
        let wit = match decode(bytes).context("cannot read the component's world")? {
            DecodedWasm::Component(resolve, world) => {
                let pkg = resolve.worlds[world]
                    .package
                    .context("the component's world has no package")?;
                let others: Vec<_> = resolve
                    .packages
                    .iter()
                    .map(|(id, _)| id)
                    .filter(|id| *id != pkg)
                    .collect();
                let mut printer = WitPrinter::default();
                printer.emit_docs(false);
                printer.print(&resolve, pkg, &others)?;
                printer.output.to_string()
            }
            DecodedWasm::WitPackage(..) => {
                bail!("this is a WIT package encoded as wasm, not a component")
            }
        };
        Ok(Self {
            imports,
            exports,
            wit,
        })
    }
}

/// Checks that `bytes` are a valid component, with a message for people when not.
pub(crate) fn validate(bytes: &[u8]) -> Result<()> {
    header(bytes)?;
    crate::validate::validate(bytes, wasmparser::WasmFeatures::all())
        .context("the component is not valid")?;
    Ok(())
}

/// Checks that `bytes` start with the component header, with a message for
/// people when not.
pub(crate) fn header(bytes: &[u8]) -> Result<()> {
    if !Parser::is_component(bytes) {
        if Parser::is_core_wasm(bytes) {
            bail!("this is a core wasm module, not a component");
        }
        bail!("this is not a wasm component (it does not start with the component header)");
    }
    Ok(())
}

fn top_level_items(bytes: &[u8]) -> Result<(Vec<Item>, Vec<Item>)> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            // Nested modules and components open with a version of their own.
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import?;
                    imports.push(Item {
                        name: import.name.name.to_string(),
                        kind: type_ref_kind(import.ty),
                    });
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export?;
                    exports.push(Item {
                        name: export.name.name.to_string(),
                        kind: external_kind(export.kind),
                    });
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

fn type_ref_kind(ty: ComponentTypeRef) -> ItemKind {
    match ty {
        ComponentTypeRef::Module(_) => ItemKind::Module,
        ComponentTypeRef::Func(_) => ItemKind::Func,
        ComponentTypeRef::Value(_) => ItemKind::Value,
        ComponentTypeRef::Type(_) => ItemKind::Type,
        ComponentTypeRef::Instance(_) => ItemKind::Instance,
        ComponentTypeRef::Component(_) => ItemKind::Component,
    }
}

fn external_kind(kind: ComponentExternalKind) -> ItemKind {
    match kind {
        ComponentExternalKind::Module => ItemKind::Module,
        ComponentExternalKind::Func => ItemKind::Func,
        ComponentExternalKind::Value => ItemKind::Value,
        ComponentExternalKind::Type => ItemKind::Type,
        ComponentExternalKind::Instance => ItemKind::Instance,
        ComponentExternalKind::Component => ItemKind::Component,
    }
}

/// The name of the WASI preview1 adapter that wit-component built into the
/// component, if any (the component's name section names the adapter's core
/// module `wit-component:adapter:NAME`). A component that carries one
/// imports whatever the adapter needs, used by its code or not.
pub(crate) fn adapter(bytes: &[u8]) -> Option<String> {
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(section) if depth == 1 => {
                let KnownCustom::ComponentName(names) = section.as_known() else {
                    continue;
                };
                for name in names.into_iter().flatten() {
                    let ComponentName::CoreModules(map) = name else {
                        continue;
                    };
                    for naming in map.into_iter().flatten() {
                        if let Some(adapter) = naming.name.strip_prefix("wit-component:adapter:") {
                            return Some(adapter.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    None
}
