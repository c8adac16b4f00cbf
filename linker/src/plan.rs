//! The plan: what resolution decides about an app (how every import of
//! every component is satisfied, in what order components are instantiated)
//! and the composed app that encodes it. The encoder, the grants, the audit
//! and the graph read it; none of them resolves.

use crate::capability::Capability;
use crate::manifest::{Grants, Limits};

/// A composed app: the component's bytes and the plan it encodes.
#[derive(Debug, Clone)]
pub struct Composition {
    /// The composed component.
    pub bytes: Vec<u8>,
    /// How every import was satisfied.
    pub plan: Plan,
    /// What it is made of, for `nanoproc.lock` (without the crates each
    /// guest wraps, which only the build knows: see [`Lock`](crate::Lock)).
    pub lock: crate::lock::Lock,
}

/// The outcome of resolution: how every import of every component is
/// satisfied, in the order the components are instantiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The app's name.
    pub app: String,
    /// The components in instantiation order (each after those it imports from).
    pub components: Vec<PlannedComponent>,
    /// The app's exports: export name and the component it comes from.
    pub exports: Vec<(String, String)>,
    /// Things that compose but look like mistakes.
    pub warnings: Vec<String>,
    /// The bounds the host is to enforce.
    pub limits: Limits,
}

/// One component of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedComponent {
    /// Its name in the manifest.
    pub name: String,
    /// Each of its imports and how it is satisfied, in the component's order.
    pub imports: Vec<(String, Satisfied)>,
    /// Its exports.
    pub exports: Vec<String>,
    /// What the manifest grants it.
    pub grants: Grants,
    /// When it was a core module: the preview1 adapter the linker made it a
    /// component with.
    pub core_module: Option<crate::adapt::Adapter>,
}

/// How one import is satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Satisfied {
    /// By an export of another component.
    Wired {
        /// The exporting component.
        component: String,
        /// The export's name.
        export: String,
    },
    /// By the host, under a grant to this component.
    Granted(Capability),
    /// By an inert deny provider the linker synthesizes: the import was
    /// added by the component's toolchain (the WASI preview1 adapter) and
    /// the component is not granted it.
    Denied(Capability),
}
