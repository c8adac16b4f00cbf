//! Capability providers: WASI 0.2 through wasmtime-wasi, set up from the
//! grants a composed app carries, each component seeing only its own.
//!
//! The store holds one WASI context for the app's shared imports (built
//! from the union of the grants, which for anything narrowed is the one
//! narrowing all holders agree on) and one more context per component that
//! holds a narrowing of its own. The linker imports the interfaces that hand
//! out narrowed authority (`wasi:cli/environment`, `wasi:filesystem/preopens`,
//! `wasi:sockets/*-create-socket`) once per such component, under
//! `nanoproc-grant:COMPONENT/…` names; [`add_to_linker`] binds each of them
//! to that component's context. All contexts share one resource table, so a
//! descriptor or socket handed out under one component's narrowing keeps
//! that narrowing's rights wherever it goes, and the shared interfaces that
//! use it (`wasi:filesystem/types`, `wasi:sockets/tcp`) need no copies.
//!
//! Refusals are reported ([`Refusal`]) and attributed to the components
//! of the context they came from: a network address not granted
//! through the context's address check, a path outside a granted directory
//! through the `wasi:filesystem/types` functions that take a path (each
//! descriptor remembers whose preopen it came from), and environment
//! variables left out when a component reads its environment.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use nanoproc_linker::{AppGrants, Capability, Grants, HolderImport, Limits, Origin};
use wasmtime::component::{Component, Resource, ResourceTable};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod context;
mod http;
mod inert;
mod linking;
mod sockets3;

pub use linking::add_to_linker;

use crate::limits::Budget;
use crate::refusal::{Answer, Refusal, Refusals, Reporter};

// The WASI 0.2 version wasmtime-wasi provides, as in the names it gives
// its interfaces in a linker, and as the linker checks imports against.
// The interfaces the host shadows to report refusals must be named exactly
// so, or they would be defined beside wasmtime-wasi's instead of replacing
// them.
use nanoproc_linker::WASI_VERSION;

/// Where a granted stream goes, when it is granted.
#[derive(Clone)]
pub enum Stdio {
    /// The host process's own stream.
    Inherit,
    /// An in-memory pipe (for embedding and tests). It keeps everything
    /// written to it, so an app that runs for long needs another sink.
    Pipe(wasmtime_wasi::p2::pipe::MemoryOutputPipe),
    /// Accepted and dropped: the guest's writes succeed and go nowhere.
    Discard,
}

/// Where a granted stdin reads from.
#[derive(Clone, Default)]
pub enum Stdin {
    /// The host process's own stdin.
    #[default]
    Inherit,
    /// These bytes, then the end (for embedding and tests).
    Bytes(bytes::Bytes),
}

/// How the host sets up the capabilities an app is granted.
#[derive(Clone)]
pub struct Options {
    /// Relative `host` paths of directory grants are resolved against this.
    pub base_dir: std::path::PathBuf,
    /// Arguments seen through `wasi:cli/environment` by the components
    /// granted an environment.
    pub args: Vec<String>,
    /// Where a granted stdin reads from.
    pub stdin: Stdin,
    /// Where a granted stdout goes.
    pub stdout: Stdio,
    /// Where a granted stderr goes.
    pub stderr: Stdio,
    /// Limits that replace the app's own where set (e.g. a deadline given
    /// on the command line).
    pub limits: Limits,
    /// Where each refusal of something a component was not granted is
    /// reported (by default the host process's stderr).
    pub refusals: Refusals,
    /// The name refusals give a component loaded as it was built, which
    /// carries no grants of an app to name its components (by default such
    /// a component is called `the app`).
    pub name: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            base_dir: ".".into(),
            args: Vec::new(),
            stdin: Stdin::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            limits: Limits::default(),
            refusals: Refusals::Stderr,
            name: None,
        }
    }
}

/// The per-store state of an app: its WASI contexts, resource table and
/// what it has used of its limits.
pub struct HostState {
    shared: WasiCtx,
    holders: HashMap<String, WasiCtx>,
    table: ResourceTable,
    /// The instance's limits, enforced through `Store::limiter`.
    pub budget: Budget,
    attribution: Arc<Attribution>,
    /// Whose grant each descriptor (by its handle's representation) came
    /// from: set for each preopen handed out, inherited by what is opened
    /// from it.
    descriptors: HashMap<u32, Label>,
    /// The state of `wasi:http`.
    http: wasmtime_wasi_http::WasiHttpCtx,
    /// What WASI 0.3's `wasi:http/client` sends requests through: only to
    /// the origins of the shared `http` grant.
    origins: http::Origins,
}

/// The components a refusal is attributed to: those a context serves.
type Label = Arc<[String]>;

/// How refusals are reported and attributed, the same for every instance
/// of an app.
struct Attribution {
    reporter: Reporter,
    /// The components the shared context serves each narrowed capability
    /// to: those granted it that have no narrowing of their own.
    shared_dirs: Label,
    shared_env: Label,
    shared_network: Label,
    /// The origins each narrowing of `http` allows, with the components it
    /// serves: the shared import's under `None`, each per-component
    /// import's under its component's name.
    http: HashMap<Option<String>, (Arc<[Origin]>, Label)>,
}

/// The capabilities of one app: its grants, how the host provides them,
/// and which components hold a narrowing of their own. Prepared once per
/// app; [`Capabilities::state`] makes the state of each new instance.
pub struct Capabilities {
    grants: AppGrants,
    options: Options,
    /// The components the app imports a per-component copy for.
    holders: Vec<String>,
    attribution: Arc<Attribution>,
    /// The addresses of every granted network endpoint, resolved once when
    /// the app is loaded (or why one did not resolve).
    endpoints: Endpoints,
}

/// Granted `host:port` endpoints and what they resolved to.
type Endpoints = HashMap<String, Result<Arc<[SocketAddr]>, String>>;

impl Capabilities {
    /// The capabilities of the composed app `component`, granted `grants`
    /// (usually [`AppGrants::read`] of the app's bytes).
    pub fn new(component: &Component, mut grants: AppGrants, options: Options) -> Self {
        let (limits, overrides) = (&mut grants.limits, &options.limits);
        limits.memory = overrides.memory.or(limits.memory);
        limits.timeout_ms = overrides.timeout_ms.or(limits.timeout_ms);
        limits.tables = overrides.tables.or(limits.tables);
        limits.instances = overrides.instances.or(limits.instances);
        let mut holders = Vec::new();
        let mut own = Vec::new();
        for (name, _) in component.component_type().imports(component.engine()) {
            if let Some(import) = HolderImport::parse(name)
                && !import.denied
            {
                own.push((import.holder.clone(), import.capability));
                if !holders.contains(&import.holder) {
                    holders.push(import.holder);
                }
            }
        }
        let shared = |capability: Capability| -> Label {
            if grants.components.is_empty() {
                // A component as it was built: every refusal is its own.
                return options.name.iter().cloned().collect();
            }
            grants
                .components
                .iter()
                .filter(|(name, theirs)| {
                    capability.granted_by(theirs)
                        && !own.iter().any(|(h, c)| h == *name && *c == capability)
                })
                .map(|(name, _)| name.clone())
                .collect()
        };
        let origins = |grants: &Grants| -> Arc<[Origin]> {
            grants
                .http
                .iter()
                .filter_map(|o| Origin::parse(o))
                .collect()
        };
        let mut http =
            HashMap::from([(None, (origins(&grants.shared()), shared(Capability::Http)))]);
        for (holder, capability) in &own {
            if let (Capability::Http, Some(theirs)) = (capability, grants.components.get(holder)) {
                let label: Label = Arc::from([holder.clone()]);
                http.insert(Some(holder.clone()), (origins(theirs), label));
            }
        }
        let attribution = Arc::new(Attribution {
            reporter: Reporter::new(&options.refusals),
            shared_dirs: shared(Capability::Dirs),
            shared_env: shared(Capability::Env),
            shared_network: shared(Capability::Network),
            http,
        });
        let endpoints = std::iter::once(&grants.shared())
            .chain(grants.components.values())
            .flat_map(|g| g.network.iter())
            .map(|endpoint| {
                let addrs = endpoint
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Arc<[SocketAddr]>>())
                    .map_err(|e| e.to_string());
                (endpoint.clone(), addrs)
            })
            .collect();
        Self {
            grants,
            options,
            holders,
            attribution,
            endpoints,
        }
    }

    /// The limits every instance runs under: the app's own, replaced by
    /// those set in [`Options::limits`].
    pub fn limits(&self) -> &Limits {
        &self.grants.limits
    }

    /// The state of one new instance of the app.
    ///
    /// # Errors
    ///
    /// When a granted directory cannot be opened (each instance opens
    /// them) or a granted `host:port` did not resolve (when the app was
    /// loaded).
    pub fn state(&self) -> Result<HostState> {
        let attribution = &self.attribution;
        let shared = context::build(
            &self.grants.shared(),
            &self.endpoints,
            &self.options,
            &attribution.reporter,
            &attribution.shared_network,
        )?;
        let mut holders = HashMap::new();
        for name in &self.holders {
            let theirs = self.grants.components.get(name).with_context(|| {
                format!("the app imports capabilities for `{name}`, but carries no grants for it")
            })?;
            let label: Label = Arc::from([name.clone()]);
            holders.insert(
                name.clone(),
                context::build(
                    theirs,
                    &self.endpoints,
                    &self.options,
                    &attribution.reporter,
                    &label,
                )
                .with_context(|| format!("granting `{name}`"))?,
            );
        }
        Ok(HostState {
            shared,
            holders,
            table: ResourceTable::new(),
            budget: Budget::new(&self.grants.limits),
            attribution: attribution.clone(),
            descriptors: HashMap::new(),
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            origins: http::Origins::new(attribution.clone()),
        })
    }
}

impl HostState {
    /// The context of `holder`'s own narrowing.
    fn holder(&mut self, holder: &str) -> wasmtime::Result<(&mut WasiCtx, &mut ResourceTable)> {
        let ctx = self
            .holders
            .get_mut(holder)
            .ok_or_else(|| wasmtime::format_err!("the app holds no grants for `{holder}`"))?;
        Ok((ctx, &mut self.table))
    }

    /// The filesystem of the shared context, which serves every descriptor.
    fn filesystem(&mut self) -> WasiFilesystemCtxView<'_> {
        WasiFilesystemCtxView {
            ctx: self.shared.filesystem(),
            table: &mut self.table,
        }
    }

    /// Records that `dirs` were handed out under the grant of `label`.
    fn preopened(&mut self, dirs: &[(Resource<Descriptor>, String)], label: &Label) {
        for (dir, _) in dirs {
            self.descriptors.insert(dir.rep(), label.clone());
        }
    }

    /// Whose grant the descriptor `rep` came from.
    fn owner(&self, rep: u32) -> Label {
        self.descriptors
            .get(&rep)
            .unwrap_or(&self.attribution.shared_dirs)
            .clone()
    }

    /// Reports the environment variables of the host that were left out of
    /// `environment`, the environment `label` just read.
    fn environment_read(&self, environment: &[(String, String)], label: &Label) {
        self.attribution.reporter.report(|| {
            let mut withheld: Vec<String> = std::env::vars_os()
                .map(|(name, _)| name.to_string_lossy().into_owned())
                .filter(|name| !environment.iter().any(|(granted, _)| granted == name))
                .collect();
            withheld.sort();
            let attempt = match withheld.as_slice() {
                [] => return None,
                [one] => format!("the host's environment variable `{one}`"),
                [first, ..] => format!(
                    "{} of the host's environment variables, such as `{first}`",
                    withheld.len()
                ),
            };
            Some(Refusal {
                components: label.to_vec(),
                capability: Capability::Env,
                attempt,
                answer: Answer::LeftOut,
            })
        });
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.shared,
            table: &mut self.table,
        }
    }
}
