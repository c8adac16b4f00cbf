//! The adapter corpus: components made from one `wasm32-wasip1` core module
//! by older wit-component releases, each with the WASI preview1 adapter of
//! its era, as components from the wild carry it.
//!
//! `nanoproc-adapters CORE_MODULE OUT_DIR` writes, for each release in
//! [`ERAS`], `OUT_DIR/wit-component-VERSION.wasm` (the component as that
//! release's `ComponentEncoder` makes it) and
//! `OUT_DIR/wit-component-VERSION-nested.wasm` (the same component nested
//! inside an outer one that imports what it imports, instantiates it and
//! re-exports its exports, so that the adapter sits two levels deep). Each
//! file is written whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use wasm_encoder::{
    Alias, Component, ComponentAliasSection, ComponentExportKind, ComponentExportSection,
    ComponentInstanceSection, ComponentSectionId, RawSection,
};
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeRef, Parser,
    Payload, Validator, WasmFeatures,
};

/// One older wit-component release and the adapter of its era.
struct Era {
    /// The wit-component release, as in the file names.
    version: &'static str,
    /// Makes a component of the core module with that release and adapter.
    encode: fn(&[u8]) -> Result<Vec<u8>>,
}

/// A component of `module` made by the wit-component crate `$wit_component`
/// with the reactor adapter of the crate `$adapter`, validated by it.
macro_rules! encode_with {
    ($wit_component:ident, $adapter:ident) => {
        |module: &[u8]| {
            $wit_component::ComponentEncoder::default()
                .module(module)?
                .adapter(
                    $adapter::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                    $adapter::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
                )?
                .validate(true)
                .encode()
        }
    };
}

/// The releases, oldest first: each wit-component with the adapter of the
/// wasmtime release built with it.
const ERAS: &[Era] = &[
    Era {
        version: "0.212",
        encode: encode_with!(wit_component_0_212, adapter_23),
    },
    Era {
        version: "0.219",
        encode: encode_with!(wit_component_0_219, adapter_27),
    },
    Era {
        version: "0.226",
        encode: encode_with!(wit_component_0_226, adapter_30),
    },
];

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [module, out] = args.as_slice() else {
        bail!("usage: nanoproc-adapters CORE_MODULE OUT_DIR");
    };
    let module =
        std::fs::read(module).with_context(|| format!("cannot read {}", module.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for era in ERAS {
        let component = (era.encode)(&module).with_context(|| {
            format!(
                "wit-component {} cannot make a component of the module",
                era.version
            )
        })?;
        write(out, &format!("wit-component-{}", era.version), &component)?;
        let nested = nest(&component).with_context(|| {
            format!(
                "cannot nest the component wit-component {} made",
                era.version
            )
        })?;
        write(
            out,
            &format!("wit-component-{}-nested", era.version),
            &nested,
        )?;
    }
    Ok(())
}

/// Writes `bytes`, validated, to `dir/NAME.wasm` through a file of its own
/// renamed into place.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .with_context(|| format!("`{name}` is not valid"))?;
    let path = dir.join(format!("{name}.wasm"));
    let scratch = dir.join(format!(".{name}.wasm.{}", std::process::id()));
    std::fs::write(&scratch, bytes)
        .with_context(|| format!("cannot write {}", scratch.display()))?;
    std::fs::rename(&scratch, &path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// The index spaces of a component that its aliases and exports name.
#[derive(Default)]
struct Counts {
    funcs: u32,
    types: u32,
    instances: u32,
    components: u32,
}

impl Counts {
    /// The next index of `kind`, taken.
    fn take(&mut self, kind: ComponentExternalKind) -> Result<u32> {
        let count = match kind {
            ComponentExternalKind::Func => &mut self.funcs,
            ComponentExternalKind::Type => &mut self.types,
            ComponentExternalKind::Instance => &mut self.instances,
            ComponentExternalKind::Component => &mut self.components,
            ComponentExternalKind::Module | ComponentExternalKind::Value => {
                bail!("it exports or imports a {kind:?}, which the outer component does not pass")
            }
        };
        *count += 1;
        Ok(*count - 1)
    }
}

/// `inner` nested in an outer component: the outer one starts with the
/// inner one's own types, imports and aliases (wit-component writes those
/// first), byte for byte, so it imports exactly what the inner one does;
/// then it instantiates the inner one with its imports and exports what the
/// instance exports, under the same names.
fn nest(inner: &[u8]) -> Result<Vec<u8>> {
    let mut outer = Component::new();
    let mut counts = Counts::default();
    let mut imports: Vec<(String, ComponentExportKind, u32)> = Vec::new();
    let mut exports: Vec<(String, ComponentExternalKind)> = Vec::new();
    // Whether the types and imports at the start are behind.
    let mut prefix = true;
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(inner) {
        let payload = payload?;
        match &payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            _ => {}
        }
        if depth != 1 {
            continue;
        }
        let section = |id: ComponentSectionId, range: std::ops::Range<usize>| RawSection {
            id: id as u8,
            data: &inner[range],
        };
        match payload {
            Payload::Version { .. } | Payload::CustomSection(_) => {}
            Payload::ComponentTypeSection(reader) if prefix => {
                counts.types += reader.count();
                outer.section(&section(ComponentSectionId::Type, reader.range()));
            }
            Payload::ComponentImportSection(reader) if prefix => {
                outer.section(&section(ComponentSectionId::Import, reader.range()));
                for import in reader {
                    let import = import?;
                    let kind = match import.ty {
                        ComponentTypeRef::Instance(_) => ComponentExternalKind::Instance,
                        ComponentTypeRef::Func(_) => ComponentExternalKind::Func,
                        ComponentTypeRef::Type(_) => ComponentExternalKind::Type,
                        ComponentTypeRef::Component(_) => ComponentExternalKind::Component,
                        ComponentTypeRef::Module(_) => ComponentExternalKind::Module,
                        ComponentTypeRef::Value(_) => ComponentExternalKind::Value,
                    };
                    let index = counts.take(kind)?;
                    imports.push((import.name.0.to_string(), export_kind(kind), index));
                }
            }
            Payload::ComponentAliasSection(reader) if prefix => {
                outer.section(&section(ComponentSectionId::Alias, reader.range()));
                for alias in reader {
                    match alias? {
                        ComponentAlias::InstanceExport { kind, .. } => {
                            counts.take(kind)?;
                        }
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::Type,
                            ..
                        } => counts.types += 1,
                        other => bail!(
                            "it starts with an alias the outer component cannot copy: {other:?}"
                        ),
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                prefix = false;
                for export in reader {
                    let export = export?;
                    exports.push((export.name.0.to_string(), export.kind));
                }
            }
            _ => prefix = false,
        }
    }
    outer.section(&RawSection {
        id: ComponentSectionId::Component as u8,
        data: inner,
    });
    let component = counts.take(ComponentExternalKind::Component)?;
    let mut instances = ComponentInstanceSection::new();
    instances.instantiate(
        component,
        imports
            .iter()
            .map(|(name, kind, index)| (name.as_str(), *kind, *index)),
    );
    outer.section(&instances);
    let instance = counts.take(ComponentExternalKind::Instance)?;
    let mut aliases = ComponentAliasSection::new();
    let mut reexports = ComponentExportSection::new();
    for (name, kind) in &exports {
        aliases.alias(Alias::InstanceExport {
            instance,
            kind: export_kind(*kind),
            name,
        });
        reexports.export(name, export_kind(*kind), counts.take(*kind)?, None);
    }
    outer.section(&aliases);
    outer.section(&reexports);
    Ok(outer.finish())
}

fn export_kind(kind: ComponentExternalKind) -> ComponentExportKind {
    match kind {
        ComponentExternalKind::Module => ComponentExportKind::Module,
        ComponentExternalKind::Func => ComponentExportKind::Func,
        ComponentExternalKind::Value => ComponentExportKind::Value,
        ComponentExternalKind::Type => ComponentExportKind::Type,
        ComponentExternalKind::Instance => ComponentExportKind::Instance,
        ComponentExternalKind::Component => ComponentExportKind::Component,
    }
}
