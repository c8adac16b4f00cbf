//! Reading what a component imports and exports.

use anyhow::{Context as _, Result, bail};
use wasmparser::{
    BinaryReader, ComponentExternalKind, ComponentName, ComponentTypeRef, KnownCustom, Parser,
    Payload,
};
use wit_component::WitPrinter;
use wit_parser::decoding::{DecodedWasm, decode};

/// How deep modules and components may be nested inside a component the
/// linker reads. Toolchains nest one or two levels; validating nesting
/// takes time that grows with the square of its depth, so a component
/// nested thousands deep would take minutes to refuse.
pub(crate) const MAX_NESTING: usize = 100;

/// The header of every component: the magic number, version `0xd` and layer 1.
const COMPONENT_HEADER: [u8; 8] = *b"\0asm\x0d\0\x01\0";

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
    /// Reads the imports, exports and world of the component in `bytes`;
    /// of a WASI preview1 core module, those of the component the linker
    /// makes of it with the preview1 adapter, as [`compose`](crate::compose())
    /// does.
    ///
    /// # Errors
    ///
    /// When `bytes` is not a valid component: malformed or cut short (see
    /// [`check_framing`]), a core module the adapter cannot make a
    /// component, or a component that fails validation.
    pub fn read(bytes: &[u8]) -> Result<Self> {
        let adapted = if Parser::is_core_wasm(bytes) {
            Some(
                crate::adapt::component(bytes)
                    .context("this is a core wasm module, which cannot be made a component with the WASI preview1 adapter")?
                    .0,
            )
        } else {
            None
        };
        let bytes = adapted.as_deref().unwrap_or(bytes);
        check_framing(bytes)?;
        validate(bytes)?;
        let (imports, exports) = top_level_items(bytes)?;
        let wit = match decode_world(bytes).context("cannot read the component's world")? {
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
fn header(bytes: &[u8]) -> Result<()> {
    if !Parser::is_component(bytes) {
        if Parser::is_core_wasm(bytes) {
            bail!("this is a core wasm module, not a component");
        }
        if bytes.is_empty() {
            bail!("the file is empty");
        }
        if COMPONENT_HEADER.starts_with(bytes) {
            bail!(
                "the file is cut short: it ends {} bytes into the 8-byte component header",
                bytes.len()
            );
        }
        bail!("this is not a wasm component (it does not start with the component header)");
    }
    Ok(())
}

/// Checks that `bytes` are framed as a component file: the component header,
/// then sections that each fit in the file, nested modules and components
/// framed alike and nested at most 101 levels deep (the linker reads
/// components nested at most 100 deep, and a composed app nests them once
/// more).
///
/// This is what a download or copy cut short breaks, and what a bit flipped
/// in a section's length most often breaks; it is cheap (no validation) and
/// catches what validation alone lets through (wasmparser accepts some
/// components whose last nested module is cut short). Anything else wrong is
/// left to validation.
///
/// # Errors
///
/// When the bytes are not a component, are cut short, or nest too deep,
/// with a message for people.
pub fn check_framing(bytes: &[u8]) -> Result<()> {
    framing(bytes, MAX_NESTING + 1)
}

/// [`check_framing`] with nesting at most `max_nesting` deep (the linker's
/// inputs: [`MAX_NESTING`]).
pub(crate) fn framing(bytes: &[u8], max_nesting: usize) -> Result<()> {
    header(bytes)?;
    // The binaries being read, innermost last: where each ends, and whether
    // it is a component (whose sections may nest more).
    let mut open = vec![(bytes.len(), true)];
    let mut at = COMPONENT_HEADER.len();
    while let Some(&(end, component)) = open.last() {
        if at == end {
            open.pop();
            continue;
        }
        let in_file = open.len() == 1;
        let section = at;
        let id = bytes[at];
        at += 1;
        let Some((size, width)) = var_u32(&bytes[at..end]) else {
            if in_file && end - at < 5 {
                bail!(
                    "the file is cut short: it ends inside the header of the section at offset {section:#x}"
                );
            }
            // A malformed length: validation says so.
            return Ok(());
        };
        at += width;
        let size = size as usize;
        if size > end - at {
            if in_file {
                bail!(
                    "the file is cut short, or corrupt: the section at offset {section:#x} is {size} bytes long, \
                     but the file ends {} bytes into it",
                    end - at
                );
            }
            bail!(
                "the file is corrupt: the section at offset {section:#x} is {size} bytes long, \
                 but the module or component it is in ends {} bytes into it",
                end - at
            );
        }
        let nested = match id {
            CORE_MODULE_SECTION => Some((&CORE_MODULE_HEADER, "core module")),
            COMPONENT_SECTION => Some((&COMPONENT_HEADER, "component")),
            _ => None,
        };
        if component && let Some((header, what)) = nested {
            if !bytes[at..at + size].starts_with(header) {
                bail!(
                    "the file is corrupt: the {what} in the section at offset {section:#x} \
                     does not start with the {what} header"
                );
            }
            if open.len() > max_nesting {
                bail!(
                    "it nests modules and components more than {max_nesting} levels deep \
                     (at offset {section:#x}), deeper than the linker reads"
                );
            }
            open.push((at + size, id == COMPONENT_SECTION));
            at += COMPONENT_HEADER.len();
        } else {
            at += size;
        }
    }
    Ok(())
}

/// The header of a core module: the magic number and version 1.
const CORE_MODULE_HEADER: [u8; 8] = *b"\0asm\x01\0\0\0";
const CORE_MODULE_SECTION: u8 = 1;
const COMPONENT_SECTION: u8 = 4;

/// The unsigned LEB128 `u32` at the start of `bytes`, and its width; `None`
/// when `bytes` end first or it is not one.
fn var_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut reader = BinaryReader::new(bytes, 0);
    let value = reader.read_var_u32().ok()?;
    Some((value, reader.current_position()))
}

/// The world of the component `bytes`, decoded by `wit-parser`.
///
/// `wit-parser` assumes some things validation does not check and panics
/// where they do not hold: those known are checked first, and any other
/// panic is turned into an error.
pub(crate) fn decode_world(bytes: &[u8]) -> Result<DecodedWasm> {
    functions_named_as_interfaces(bytes)?;
    match std::panic::catch_unwind(|| decode(bytes)) {
        Ok(decoded) => decoded,
        Err(_) => bail!("its world cannot be read (the WIT decoder failed on it)"),
    }
}

/// Fails when a top-level import or export of the component is a function
/// with an interface's name (`ns:pkg/name`), which only an instance can
/// have: validation lets it through, and `wit-parser` panics on it.
fn functions_named_as_interfaces(bytes: &[u8]) -> Result<()> {
    let (imports, exports) = top_level_items(bytes)?;
    for (items, what) in [(imports, "imports"), (exports, "exports")] {
        for item in items {
            if item.kind == ItemKind::Func
                && crate::names::InterfaceName::parse(&item.name).is_some()
            {
                bail!(
                    "it {what} a function named `{}`, an interface's name: only an instance can be named so",
                    item.name
                );
            }
        }
    }
    Ok(())
}

/// The payloads of the component or module `bytes` itself, not those of
/// the modules and components nested in it, and any error where reading
/// stops.
pub(crate) fn top_level_payloads(
    bytes: &[u8],
) -> impl Iterator<Item = wasmparser::Result<Payload<'_>>> {
    let mut depth = 0usize;
    Parser::new(0).parse_all(bytes).filter(move |payload| {
        match payload {
            // Nested modules and components open with a version of their own.
            Ok(Payload::Version { .. }) => depth += 1,
            Ok(Payload::End(_)) => {
                depth = depth.saturating_sub(1);
                return depth == 0;
            }
            Ok(_) => {}
            Err(_) => return true,
        }
        depth == 1
    })
}

fn top_level_items(bytes: &[u8]) -> Result<(Vec<Item>, Vec<Item>)> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in top_level_payloads(bytes) {
        match payload? {
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import?;
                    imports.push(Item {
                        name: import.name.name.to_string(),
                        kind: type_ref_kind(import.ty),
                    });
                }
            }
            Payload::ComponentExportSection(reader) => {
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

/// What wit-component names the core module of an adapter it builds into a
/// component: this prefix, then the adapter's name.
const ADAPTER_MODULE_PREFIX: &str = "wit-component:adapter:";

/// The name of the WASI preview1 adapter that wit-component built into the
/// component, if any. A component that carries one imports whatever the
/// adapter needs, used by its code or not.
///
/// The adapter is a core module named `wit-component:adapter:NAME`, and it
/// is found wherever wit-component, or a tool nesting what it made, puts
/// it: named so by a `component-name` section (as recent releases name
/// it), or by the core module's own `name` section (as releases up to 0.226
/// did), in the component itself or in a component nested in it at any
/// depth, whose imports the outer component's feed.
///
/// One pass over the payloads; it stops at the first one that cannot be
/// read (the framing is checked before, and validation reports the rest).
pub(crate) fn adapter(bytes: &[u8]) -> Option<String> {
    let adapter = |name: &str| name.strip_prefix(ADAPTER_MODULE_PREFIX).map(str::to_string);
    for payload in Parser::new(0).parse_all(bytes).map_while(Result::ok) {
        let Payload::CustomSection(section) = payload else {
            continue;
        };
        let found = match section.as_known() {
            KnownCustom::ComponentName(names) => names
                .into_iter()
                .map_while(Result::ok)
                .filter_map(|name| match name {
                    ComponentName::CoreModules(map) => Some(map),
                    _ => None,
                })
                .flat_map(|map| map.into_iter().map_while(Result::ok))
                .find_map(|naming| adapter(naming.name)),
            KnownCustom::Name(names) => {
                names
                    .into_iter()
                    .map_while(Result::ok)
                    .find_map(|name| match name {
                        wasmparser::Name::Module { name, .. } => adapter(name),
                        _ => None,
                    })
            }
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The components nested at the top level of the component `bytes`, in
/// the order of their index, each with its name in the component's name
/// section, if it has one.
pub(crate) fn nested_components(bytes: &[u8]) -> Result<Vec<(Option<String>, &[u8])>> {
    let mut nested: Vec<(Option<String>, &[u8])> = Vec::new();
    // The component index space: imported and aliased components take
    // indices too.
    let mut index = 0u32;
    let mut at: Vec<(u32, usize)> = Vec::new();
    let mut names: Vec<(u32, String)> = Vec::new();
    for payload in top_level_payloads(bytes) {
        match payload? {
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let component = usize::try_from(unchecked_range.start)
                    .ok()
                    .zip(usize::try_from(unchecked_range.end).ok())
                    .and_then(|(start, end)| bytes.get(start..end))
                    .context("a nested component lies outside the file")?;
                at.push((index, nested.len()));
                nested.push((None, component));
                index += 1;
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    if matches!(import?.ty, ComponentTypeRef::Component(_)) {
                        index += 1;
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    let kind = match alias? {
                        wasmparser::ComponentAlias::InstanceExport { kind, .. } => Some(kind),
                        wasmparser::ComponentAlias::Outer { kind, .. } => (kind
                            == wasmparser::ComponentOuterAliasKind::Component)
                            .then_some(ComponentExternalKind::Component),
                        wasmparser::ComponentAlias::CoreInstanceExport { .. } => None,
                    };
                    if kind == Some(ComponentExternalKind::Component) {
                        index += 1;
                    }
                }
            }
            Payload::CustomSection(section) => {
                if let KnownCustom::ComponentName(reader) = section.as_known() {
                    for name in reader {
                        if let ComponentName::Components(map) = name? {
                            for naming in map {
                                let naming = naming?;
                                names.push((naming.index, naming.name.to_string()));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (index, name) in names {
        if let Some((_, i)) = at.iter().find(|(at, _)| *at == index) {
            nested[*i].0 = Some(name);
        }
    }
    Ok(nested)
}

/// The names the core modules in the component `bytes`, at any depth, give
/// themselves in their name sections, in the order they come.
pub(crate) fn core_module_names(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(Payload::CustomSection(section)) = payload else {
            continue;
        };
        if let KnownCustom::Name(reader) = section.as_known() {
            for name in reader.into_iter().flatten() {
                if let wasmparser::Name::Module { name, .. } = name {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_cut_anywhere_but_between_sections_is_refused() {
        let bytes = wat::parse_str(
            r#"(component
                (core module (func (export "f") (result i32) i32.const 7))
                (component (core module (memory 1)))
                (type (func (result u32))))"#,
        )
        .unwrap();
        let mut boundaries = vec![COMPONENT_HEADER.len()];
        let mut at = COMPONENT_HEADER.len();
        while at < bytes.len() {
            let (size, width) = var_u32(&bytes[at + 1..]).unwrap();
            at += 1 + width + size as usize;
            boundaries.push(at);
        }
        for len in 0..=bytes.len() {
            let framed = framing(&bytes[..len], MAX_NESTING);
            assert_eq!(
                framed.is_ok(),
                boundaries.contains(&len),
                "{len}: {framed:?}"
            );
        }
    }

    #[test]
    fn top_level_payloads_leave_out_what_is_nested() {
        let bytes = wat::parse_str(
            r#"(component
                (@custom "outer" "")
                (core module (@custom "module" ""))
                (component (@custom "inner" "") (core module (@custom "deep" "")))
                (@custom "last" ""))"#,
        )
        .unwrap();
        let customs: Vec<String> = top_level_payloads(&bytes)
            .filter_map(|payload| match payload.unwrap() {
                Payload::CustomSection(section) => Some(section.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(customs, ["outer", "last"]);
        let ends = top_level_payloads(&bytes)
            .filter(|payload| matches!(payload, Ok(Payload::End(_))))
            .count();
        assert_eq!(ends, 1);
    }

    /// A component of `sections`, each a core module (`1`) or a component
    /// (`4`) given as its bytes, then a `component-name` section naming its
    /// core modules `module_names` when there are any.
    fn component(sections: &[(u8, &[u8])], module_names: &[&str]) -> Vec<u8> {
        let mut component = wasm_encoder::Component::new();
        for (id, data) in sections {
            component.section(&wasm_encoder::RawSection { id: *id, data });
        }
        if !module_names.is_empty() {
            let mut map = wasm_encoder::NameMap::new();
            for (index, name) in (0..).zip(module_names) {
                map.append(index, name);
            }
            let mut names = wasm_encoder::ComponentNameSection::new();
            names.core_modules(&map);
            component.section(&names);
        }
        component.finish()
    }

    /// A core module, named `name` by its own `name` section.
    fn module(name: Option<&str>) -> Vec<u8> {
        let name = name.map_or(String::new(), |name| format!("(@name \"{name}\")"));
        wat::parse_str(format!("(module {name} (memory 1))")).unwrap()
    }

    const ADAPTER: &str = "wit-component:adapter:wasi_snapshot_preview1";

    #[test]
    fn the_adapter_is_found_by_the_component_name_section() {
        let main = module(None);
        let bytes = component(
            &[(CORE_MODULE_SECTION, &main), (CORE_MODULE_SECTION, &main)],
            &["main", ADAPTER],
        );
        assert_eq!(core_module_names(&bytes), Vec::<String>::new());
        assert_eq!(adapter(&bytes).as_deref(), Some("wasi_snapshot_preview1"));
    }

    #[test]
    fn the_adapter_is_found_by_its_own_name_section() {
        let (main, adapter_module) = (module(Some("main")), module(Some(ADAPTER)));
        let bytes = component(
            &[
                (CORE_MODULE_SECTION, &main),
                (CORE_MODULE_SECTION, &adapter_module),
            ],
            &[],
        );
        assert_eq!(core_module_names(&bytes), ["main", ADAPTER]);
        assert_eq!(adapter(&bytes).as_deref(), Some("wasi_snapshot_preview1"));
        // As the text format writes it, named both ways.
        let bytes = wat::parse_str(
            r#"(component (core module $wit-component:adapter:wasi_snapshot_preview1))"#,
        )
        .unwrap();
        assert_eq!(adapter(&bytes).as_deref(), Some("wasi_snapshot_preview1"));
    }

    #[test]
    fn the_adapter_is_found_in_nested_components_at_any_depth() {
        let (main, adapter_module) = (module(None), module(Some(ADAPTER)));
        let by_own_name = component(&[(CORE_MODULE_SECTION, &adapter_module)], &[]);
        let by_component_name = component(
            &[(CORE_MODULE_SECTION, &main), (CORE_MODULE_SECTION, &main)],
            &["main", "wit-component:adapter:other"],
        );
        for (inner, name) in [
            (by_own_name, "wasi_snapshot_preview1"),
            (by_component_name, "other"),
        ] {
            let mut nested = inner;
            for depth in 1..=3 {
                nested = component(
                    &[(CORE_MODULE_SECTION, &main), (COMPONENT_SECTION, &nested)],
                    &["main"],
                );
                framing(&nested, MAX_NESTING).unwrap();
                assert_eq!(adapter(&nested).as_deref(), Some(name), "depth {depth}");
            }
        }
    }

    #[test]
    fn other_names_are_no_adapter() {
        let shim = module(Some("wit-component:shim"));
        let bytes = component(&[(CORE_MODULE_SECTION, &shim)], &["wit-component:fixups"]);
        assert_eq!(adapter(&bytes), None);
        // Only a core module is an adapter: not a component, a function or
        // an instance of that name.
        let bytes = wat::parse_str(
            r#"(component
                (component $wit-component:adapter:a)
                (core module (func $wit-component:adapter:b))
                (core instance $wit-component:adapter:c))"#,
        )
        .unwrap();
        assert_eq!(adapter(&bytes), None);
        assert_eq!(adapter(&wat::parse_str("(component)").unwrap()), None);
    }

    #[test]
    fn the_adapter_is_looked_for_in_bad_bytes_without_a_panic() {
        let inner = component(&[(CORE_MODULE_SECTION, &module(Some(ADAPTER)))], &[]);
        let bytes = component(&[(COMPONENT_SECTION, &inner)], &[]);
        for len in 0..bytes.len() {
            let mut cut = bytes[..len].to_vec();
            let _ = adapter(&cut);
            // And with garbage where the rest was.
            cut.resize(bytes.len(), 0xff);
            let _ = adapter(&cut);
        }
        assert_eq!(adapter(b"not wasm at all"), None);
        assert_eq!(adapter(&[]), None);
    }

    #[test]
    fn lengths_are_read_as_unsigned_leb128() {
        assert_eq!(var_u32(&[0x05]), Some((5, 1)));
        assert_eq!(var_u32(&[0x82, 0x9a, 0x01]), Some((0x4d02, 3)));
        assert_eq!(
            var_u32(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Some((u32::MAX, 5))
        );
        assert_eq!(var_u32(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None);
        assert_eq!(var_u32(&[0x80, 0x80]), None);
        assert_eq!(var_u32(&[]), None);
    }
}
