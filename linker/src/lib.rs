//! The nanoproc linker: everything that can be decided about an app before it
//! runs, as a pure function of its input bytes.
//!
//! [`compose()`] turns an app manifest and its components' bytes into one
//! composed component, or an error naming what was not granted or does not
//! fit; [`Audit`] and [`Graph`] describe the result. [`ComponentInterface`]
//! tells what one component imports and exports:
//!
//! ```no_run
//! let bytes = std::fs::read("target/components/markdown.wasm")?;
//! let interface = nanoproc_linker::ComponentInterface::read(&bytes)?;
//! assert!(interface.imports.is_empty(), "a pure library reaches nothing");
//! for export in &interface.exports {
//!     println!("exports {}", export.name);
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! **Architecture invariant:** this crate never depends on wasmtime.
#![deny(missing_docs)]

mod adapt;
mod audit;
mod capability;
mod compose;
mod decoded;
mod deny;
mod encode;
mod error;
mod features;
mod grants;
mod graph;
mod inspect;
mod lock;
mod manifest;
mod modules;
mod names;
mod origin;
mod parallel;
mod plan;
mod support;
mod typecheck;
mod validate;
mod warnings;
mod wasi;

pub use adapt::Adapter;
pub use audit::{
    Audit, CapabilityAudit, ComponentAudit, ExportAudit, Holder, ImportAudit, Reach, SatisfiedAudit,
};
pub use capability::Capability;
pub use compose::compose;
pub use deny::{DeniedAnswer, denied_answers};
pub use error::{ComposeError, ErrorKind, Location, report, report_any};
pub use features::{ASYNC as ASYNC_FEATURES, HOST as HOST_FEATURES, uses_async};
pub use grants::{AppGrants, GrantsError, HolderImport, HolderInterface};
pub use graph::Graph;
pub use inspect::{ComponentInterface, Item, ItemKind, check_framing};
pub use lock::{Change, Described, Lock, LockError, LockedComponent, LockedItem, grant_lines};
pub use manifest::{
    App, Component, DirGrant, DirMode, Grants, Limits, Manifest, ManifestError, Source,
    find_components_dir,
};
pub use modules::{component_of_core_module, core_module_name};
pub use names::InterfaceName;
pub use origin::Origin;
pub use plan::{Composition, Plan, PlannedComponent, Satisfied};
pub use support::{human_size, write_atomically};
pub use wasi::{WASI_P3_VERSION, WASI_VERSION};
