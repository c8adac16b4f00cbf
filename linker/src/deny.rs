//! Deny providers: inert components the linker synthesizes to satisfy the
//! imports a toolchain added to a component that was not granted them.
//!
//! A provider exports exactly the denied interfaces, typed as the component
//! imports them, and imports whatever those interfaces take types from
//! (bound to the same instances as the component's own imports, so resource
//! types stay equal). Every function returns the most "denied" value its type
//! allows, precomputed at link time:
//! - `result` → `err`, preferring an error case named like `access`,
//!   `access-denied`, `not-permitted` or `closed`;
//! - `option` → `none`; lists, strings and maps → empty; numbers → zero;
//!   records, tuples and variants built from those;
//! - a handle to a resource the provider itself exports (a denied stream, a
//!   denied file descriptor) → a fresh handle whose methods deny in turn.
//!
//! Only where no value can be made (a handle to a resource the host owns)
//! and for `wasi:random` (no predictable "random" bytes) and `wasi:cli/exit`
//! (it must not return) does a function trap.
//!
//! This file says which interfaces a provider exports and imports and wraps
//! its core module into a component: wit-component does that from a world
//! made here. The rest is in three parts:
//! - `answers`: the few functions answered otherwise than by their type (a
//!   denied stdout discards writes, `wasi:random` traps), the error cases
//!   preferred, and each answer in words for [`denied_answers`];
//! - `layout`: the denied value of a type as the canonical ABI lays it out
//!   in linear memory;
//! - `module`: the core module, written with wasm-encoder; it holds a
//!   one-page memory with the precomputed results and a bump allocator,
//!   reset on every call, for arguments the caller copies in.

mod answers;
mod layout;
mod module;

use wit_parser::{InterfaceId, Resolve, Stability, World, WorldId, WorldItem, WorldKey};

use crate::error::{ComposeError, ErrorKind};
use module::CoreModule;

fn internal(what: &str, e: impl std::fmt::Display) -> ComposeError {
    ComposeError::new(
        ErrorKind::Encoding,
        format!("cannot build a deny provider: {what}: {e}"),
    )
}

/// A synthesized deny provider.
pub(crate) struct Provider {
    /// The provider component.
    pub bytes: Vec<u8>,
    /// The names of the interfaces it imports (a subset of the component's
    /// imports).
    pub imports: Vec<String>,
}

/// Builds the deny provider for the interfaces `denied` (import names of
/// `world` in `resolve`, the component's decoded world).
pub(crate) fn provider(
    resolve: &Resolve,
    world: WorldId,
    denied: &[String],
) -> Result<Provider, ComposeError> {
    let mut resolve = resolve.clone();
    let exported = exported(&resolve, world, denied)?;
    let imported = imported(&resolve, &exported);
    let deny_world = deny_world(&mut resolve, world, &imported, &exported);

    let mut module = CoreModule::new(&resolve, &exported).encode()?;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        deny_world,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| internal("embedding its world", e))?;
    let bytes = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| internal("encoding it as a component", format!("{e:#}")))?;
    let imports = imported
        .iter()
        .map(|id| resolve.name_world_key(&WorldKey::Interface(*id)))
        .collect();
    Ok(Provider { bytes, imports })
}

/// The interfaces the provider exports: those of `world`'s imports named
/// in `denied`, in that order.
fn exported(
    resolve: &Resolve,
    world: WorldId,
    denied: &[String],
) -> Result<Vec<InterfaceId>, ComposeError> {
    let imports = &resolve.worlds[world].imports;
    let mut exported: Vec<InterfaceId> = Vec::new();
    for name in denied {
        let id = imports
            .iter()
            .find_map(|(key, item)| match (key, item) {
                (WorldKey::Interface(id), _) if &resolve.name_world_key(key) == name => Some(*id),
                _ => None,
            })
            .ok_or_else(|| internal("the component does not import an interface", name))?;
        exported.push(id);
    }
    Ok(exported)
}

/// The interfaces the provider imports: what the `exported` ones take types
/// from and is not exported itself, those it depends on first.
fn imported(resolve: &Resolve, exported: &[InterfaceId]) -> Vec<InterfaceId> {
    fn add(resolve: &Resolve, id: InterfaceId, skip: &[InterfaceId], out: &mut Vec<InterfaceId>) {
        if out.contains(&id) {
            return;
        }
        let deps: Vec<_> = resolve.interface_direct_deps(id).collect();
        for dep in deps {
            add(resolve, dep, skip, out);
        }
        if !skip.contains(&id) {
            out.push(id);
        }
    }
    let mut imported = Vec::new();
    for id in exported {
        let deps: Vec<_> = resolve.interface_direct_deps(*id).collect();
        for dep in deps {
            add(resolve, dep, exported, &mut imported);
        }
    }
    imported
}

/// Adds the provider's world, `deny`, to `resolve`, in the package of
/// `world`: it imports `imported` and exports `exported`.
fn deny_world(
    resolve: &mut Resolve,
    world: WorldId,
    imported: &[InterfaceId],
    exported: &[InterfaceId],
) -> WorldId {
    let item = |id: InterfaceId| {
        (
            WorldKey::Interface(id),
            WorldItem::Interface {
                id,
                stability: Stability::Unknown,
                span: Default::default(),
                docs: Default::default(),
                external_id: None,
            },
        )
    };
    let package = resolve.worlds[world].package;
    resolve.worlds.alloc(World {
        name: "deny".to_string(),
        imports: imported.iter().map(|id| item(*id)).collect(),
        exports: exported.iter().map(|id| item(*id)).collect(),
        package,
        docs: Default::default(),
        stability: Stability::Unknown,
        includes: Default::default(),
        span: Default::default(),
    })
}

/// How a deny provider answers one function of a denied interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedAnswer {
    /// The interface, as `namespace:package/interface` without its version.
    pub interface: String,
    /// The function, as the component model names it (`get-stdout`,
    /// `[method]descriptor.read`).
    pub function: String,
    /// The answer in words: the value returned (`err(access)`, `none`,
    /// `[]`), or why it traps.
    pub answer: String,
}

/// How the deny provider the linker would make for `interfaces` (of
/// `resolve`) answers each of their functions, in the order they are
/// declared: the table SECURITY.md shows.
pub fn denied_answers(resolve: &Resolve, interfaces: &[InterfaceId]) -> Vec<DeniedAnswer> {
    let module = CoreModule::new(resolve, interfaces);
    let mut rows = Vec::new();
    for &iface in interfaces {
        let name = module.interface_name(iface);
        let base = name.split('@').next().unwrap_or_default().to_string();
        for func in resolve.interfaces[iface].functions.values() {
            rows.push(DeniedAnswer {
                interface: base.clone(),
                function: func.name.clone(),
                answer: module.describe_function(&name, func),
            });
        }
    }
    rows
}
