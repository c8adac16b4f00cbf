//! A component as the linker sees it: its world, decoded from its bytes,
//! with the error for bytes that are not a valid component.

use indexmap::IndexMap;
use wit_parser::decoding::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, WorldId, WorldItem, WorldKey};

use crate::error::{ComposeError, ErrorKind};

/// A component as the linker sees it: its world, decoded from its bytes.
pub(crate) struct Decoded {
    pub name: String,
    pub resolve: Resolve,
    pub world: WorldId,
    /// The WASI preview1 adapter built into the component, if any.
    pub adapter: Option<String>,
    /// When its bytes were a core module: the component the linker made of
    /// it, and with which adapter.
    pub core_module: Option<(Vec<u8>, crate::adapt::Adapter)>,
    /// The SHA-256 of its bytes, in hex, for the lock (taken here, where
    /// components are read in parallel).
    pub sha256: String,
}

/// When `bytes` are a core module, the component the linker makes of it
/// and the adapter it took; an error naming the component `name` when it
/// cannot be made one.
pub(crate) fn adapted(
    name: &str,
    bytes: &[u8],
) -> Result<Option<(Vec<u8>, crate::adapt::Adapter)>, ComposeError> {
    if !wasmparser::Parser::is_core_wasm(bytes) {
        return Ok(None);
    }
    crate::adapt::component(bytes).map(Some).map_err(|e| {
        ComposeError::new(
            ErrorKind::Component {
                component: name.to_string(),
            },
            format!(
                "component `{name}` is a core wasm module, which the linker cannot make a component with the WASI preview1 adapter"
            ),
        )
        .caused_by(e.chain().map(|c| c.to_string()).collect())
        .help(
            "a core module must be built for WASI preview1 (`wasm32-wasip1`), importing only \
             `wasi_snapshot_preview1` and what a WIT world embedded in it declares, and export \
             `_start` (a command) or the functions of that world (a library); otherwise make it \
             a component with its toolchain (`wasm-tools component new`)",
        )
    })
}

/// The error for a component whose bytes are not a valid component.
pub(crate) fn invalid(name: &str, e: &anyhow::Error) -> ComposeError {
    ComposeError::new(
        ErrorKind::Component {
            component: name.to_string(),
        },
        format!("component `{name}` is not a valid component"),
    )
    .caused_by(e.chain().map(|c| c.to_string()).collect())
}

impl Decoded {
    /// Decodes the world of the component `name`. Decoding validates the
    /// component's structure but not the code of its functions: that is
    /// validated once, inside the composed component (see
    /// [`compose`](crate::compose())).
    ///
    /// Bytes that are a core module are first made a component with the
    /// preview1 adapter ([`adapt`](crate::adapt)); the SHA-256 is still
    /// that of the bytes given.
    pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<Self, ComposeError> {
        let core_module = adapted(name, bytes)?;
        let component = core_module.as_ref().map_or(bytes, |(c, _)| c.as_slice());
        crate::inspect::framing(component, crate::inspect::MAX_NESTING)
            .map_err(|e| invalid(name, &e))?;
        match crate::inspect::decode_world(component).map_err(|e| invalid(name, &e))? {
            DecodedWasm::Component(resolve, world) => Ok(Self {
                name: name.to_string(),
                resolve,
                world,
                adapter: crate::inspect::adapter(component),
                sha256: crate::lock::sha256_hex(bytes),
                core_module,
            }),
            DecodedWasm::WitPackage(..) => Err(ComposeError::new(
                ErrorKind::Component {
                    component: name.to_string(),
                },
                format!("component `{name}` is a WIT package, not a component"),
            )),
        }
    }

    /// The component's bytes: those given, or the component the linker
    /// made of a core module.
    pub(crate) fn component_bytes<'a>(&'a self, given: &'a [u8]) -> &'a [u8] {
        self.core_module
            .as_ref()
            .map_or(given, |(c, _)| c.as_slice())
    }

    /// The function the component imports or exports under the plain name
    /// `name`, if it does.
    pub(crate) fn function(&self, name: &str, exports: bool) -> Option<&wit_parser::Function> {
        let items = self.world_items(exports);
        items.iter().find_map(|(key, item)| match (key, item) {
            (WorldKey::Name(n), WorldItem::Function(f)) if n == name => Some(f),
            _ => None,
        })
    }

    /// Whether the component serves HTTP: it exports
    /// `wasi:http/incoming-handler`, at any version.
    pub(crate) fn serves_http(&self) -> bool {
        crate::capability::serves_http(self.items(true).iter().map(|(name, _)| name.as_str()))
    }

    /// The items of the component's world: its exports, or its imports.
    pub(crate) fn world_items(&self, exports: bool) -> &IndexMap<WorldKey, WorldItem> {
        let world = &self.resolve.worlds[self.world];
        if exports {
            &world.exports
        } else {
            &world.imports
        }
    }

    /// The component's imports or exports: name, and interface when it is one.
    pub(crate) fn items(&self, exports: bool) -> Vec<(String, Option<InterfaceId>)> {
        let items = self.world_items(exports);
        items
            .iter()
            .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }))
            .map(|(key, item)| {
                let id = match (key, item) {
                    (WorldKey::Interface(id), _) => Some(*id),
                    (_, WorldItem::Interface { id, .. }) => Some(*id),
                    _ => None,
                };
                (self.resolve.name_world_key(key), id)
            })
            .collect()
    }
}
