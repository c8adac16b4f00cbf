//! The app manifest (`nanoproc.toml`): the components of an app, how their
//! imports are wired, what each one is granted, and the app's limits.
//!
//! ```toml
//! [app]
//! name = "pages"
//! export = ["app"]
//!
//! [components.markdown]
//! path = "target/components/markdown.wasm"
//!
//! [components.app]
//! path = "target/components/pages.wasm"
//! wire = { "nanoproc:markdown/render" = "markdown" }
//!
//! [components.app.grants]
//! stderr = true
//! dirs = [{ host = "out", guest = "/out", mode = "read-write" }]
//! env = ["PAGES_TITLE"]
//! ```

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A parsed app manifest, with the source it came from so that every later
/// error can point at a line of it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where the manifest was read from; relative component paths are
    /// relative to its directory.
    pub path: PathBuf,
    source: String,
    /// The `[app]` table.
    pub app: App,
    /// The components, in the order the manifest declares them.
    pub components: IndexMap<String, Component>,
    /// The `[limits]` table.
    pub limits: Limits,
}

/// The `[app]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct App {
    /// The app's name; the manifest's file stem when absent.
    pub name: Option<String>,
    /// The components whose exports become the app's exports.
    #[serde(default)]
    pub export: Vec<Spanned<String>>,
    /// Refuse imports a toolchain added instead of denying them with inert
    /// providers: every import must then be wired or granted.
    #[serde(default)]
    pub strict: bool,
}

/// One `[components.NAME]` table.
#[derive(Debug, Clone)]
pub struct Component {
    /// The name the manifest gives it.
    pub name: String,
    /// Where its component comes from.
    pub source: Source,
    /// Explicit wiring: import name (the version may be left out) to the
    /// name of the component that exports it.
    pub wire: IndexMap<Spanned<String>, Spanned<String>>,
    /// What the host grants this component, and only this component.
    pub grants: Grants,
    /// Where the component's table starts in the manifest.
    pub span: Range<usize>,
    /// Where its `grants` table starts, when it has one.
    pub grants_span: Option<Range<usize>>,
}

/// Where a component comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A built component file, relative to the manifest's directory.
    Path(PathBuf),
    /// A guest crate of this project, by name, which the build turns into a component.
    Guest(String),
}

impl Source {
    /// The component file this source stands for, relative to the manifest:
    /// a path as given, or the build's output in `guests_output` for a guest crate.
    pub fn component_path(&self, guests_output: &Path) -> PathBuf {
        match self {
            Source::Path(path) => path.clone(),
            Source::Guest(name) => guests_output.join(format!("{name}.wasm")),
        }
    }
}

/// The capabilities granted to one component. Everything is off unless said.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Grants {
    /// Standard input.
    #[serde(default)]
    pub stdin: bool,
    /// Standard output.
    #[serde(default)]
    pub stdout: bool,
    /// Standard error.
    #[serde(default)]
    pub stderr: bool,
    /// The wall clock and the monotonic clock.
    #[serde(default)]
    pub clocks: bool,
    /// Random numbers, secure and insecure.
    #[serde(default)]
    pub random: bool,
    /// Ending the app early with an exit status.
    #[serde(default)]
    pub exit: bool,
    /// The environment variables it may read, by name (and its arguments).
    #[serde(default)]
    pub env: Vec<String>,
    /// Its arguments, without any environment variable unless `env` names
    /// some (both come through `wasi:cli/environment`).
    #[serde(default)]
    pub args: bool,
    /// The host directories it may open.
    #[serde(default)]
    pub dirs: Vec<DirGrant>,
    /// The `host:port` pairs it may connect to.
    #[serde(default)]
    pub network: Vec<String>,
}

/// A directory of the host, seen by one component under a path of its own.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DirGrant {
    /// The directory on the host, relative to the manifest's directory.
    pub host: PathBuf,
    /// The path the component opens it by; `host` when absent.
    pub guest: Option<String>,
    /// Read-only unless said otherwise.
    #[serde(default)]
    pub mode: DirMode,
}

/// What a component may do in a granted directory.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DirMode {
    /// Read files and list directories.
    #[default]
    ReadOnly,
    /// Also create, write, rename and remove.
    ReadWrite,
}

/// The `[limits]` table: bounds the host enforces on every instance of the app.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// The most linear memory all components together may hold, in bytes.
    pub memory: Option<u64>,
    /// The longest a call into the app may run, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// The most tables all components together may hold.
    pub tables: Option<u32>,
    /// The most core module instances an instance of the app may hold
    /// (each component holds one or more).
    pub instances: Option<u32>,
}

/// A manifest that cannot be read, with where in the file the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's path, as given.
    pub path: PathBuf,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// 1-based column, when the problem has a place.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    app: App,
    #[serde(default)]
    components: IndexMap<String, Spanned<RawComponent>>,
    #[serde(default)]
    limits: Limits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    path: Option<Spanned<String>>,
    guest: Option<Spanned<String>>,
    #[serde(default)]
    wire: IndexMap<Spanned<String>, Spanned<String>>,
    grants: Option<Spanned<Grants>>,
}

impl Manifest {
    /// Parses the manifest text `source`, read from `path`.
    ///
    /// # Errors
    ///
    /// When the text is not TOML, has a key the manifest does not know, or
    /// says something that cannot be meant (a component with no source,
    /// an unknown component named in `export` or `wire`, a bad `host:port`).
    pub fn parse(
        path: impl Into<PathBuf>,
        source: impl Into<String>,
    ) -> Result<Self, ManifestError> {
        let path = path.into();
        let source = source.into();
        let raw: RawManifest = toml::from_str(&source).map_err(|e| {
            let message = e.message().trim_end().to_string();
            locate(&path, &source, e.span(), message)
        })?;
        let err = |span: Range<usize>, message: String| locate(&path, &source, Some(span), message);

        let mut components = IndexMap::new();
        for (name, raw_component) in raw.components {
            let span = raw_component.span();
            let raw_component = raw_component.into_inner();
            if !is_kebab(&name) {
                return Err(err(
                    span,
                    format!(
                        "component name `{name}` is not kebab-case (like `markdown` or `json-lib`)"
                    ),
                ));
            }
            let source_of = match (raw_component.path, raw_component.guest) {
                (Some(p), None) => Source::Path(PathBuf::from(p.into_inner())),
                (None, Some(g)) => Source::Guest(g.into_inner()),
                (Some(p), Some(_)) => {
                    return Err(err(
                        p.span(),
                        format!("component `{name}` has both `path` and `guest`: give one"),
                    ));
                }
                (None, None) => {
                    return Err(err(
                        span,
                        format!(
                            "component `{name}` has no source: add `path = \"….wasm\"` or `guest = \"crate\"`"
                        ),
                    ));
                }
            };
            let (grants, grants_span) = match raw_component.grants {
                Some(g) => {
                    let span = g.span();
                    (g.into_inner(), Some(span))
                }
                None => (Grants::default(), None),
            };
            for address in &grants.network {
                if !is_host_port(address) {
                    return Err(err(
                        grants_span.clone().unwrap_or(span.clone()),
                        format!(
                            "component `{name}`: network grant `{address}` is not `host:port` \
                             (such as `example.com:443` or `127.0.0.1:8080`)"
                        ),
                    ));
                }
            }
            components.insert(
                name.clone(),
                Component {
                    name,
                    source: source_of,
                    wire: raw_component.wire,
                    grants,
                    span,
                    grants_span,
                },
            );
        }
        for component in components.values() {
            for (import, provider) in &component.wire {
                if !components.contains_key(provider.get_ref()) {
                    return Err(err(
                        provider.span(),
                        format!(
                            "component `{}` wires `{}` to `{}`, which is not a component of this app",
                            component.name,
                            import.get_ref(),
                            provider.get_ref()
                        ),
                    ));
                }
                if provider.get_ref() == &component.name {
                    return Err(err(
                        provider.span(),
                        format!(
                            "component `{}` wires `{}` to itself",
                            component.name,
                            import.get_ref()
                        ),
                    ));
                }
            }
        }
        for export in &raw.app.export {
            if !components.contains_key(export.get_ref()) {
                return Err(err(
                    export.span(),
                    format!(
                        "`export` names `{}`, which is not a component of this app",
                        export.get_ref()
                    ),
                ));
            }
        }
        Ok(Self {
            path,
            source,
            app: raw.app,
            components,
            limits: raw.limits,
        })
    }

    /// Reads and parses the manifest at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or as [`Manifest::parse`].
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let source = std::fs::read_to_string(path).map_err(|e| ManifestError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: format!("cannot read the manifest: {e}"),
        })?;
        Self::parse(path, source)
    }

    /// The app's name: `[app] name`, else the manifest's file stem, else
    /// (for a `nanoproc.toml`) the name of its directory, else `app`.
    pub fn name(&self) -> String {
        if let Some(name) = &self.app.name {
            return name.clone();
        }
        let stem = self.path.file_stem().map(|s| s.to_string_lossy());
        match stem.as_deref() {
            Some("nanoproc") | None => self
                .path
                .parent()
                .and_then(Path::file_name)
                .map_or_else(|| "app".to_string(), |d| d.to_string_lossy().into_owned()),
            Some(stem) => stem.to_string(),
        }
    }

    /// The 1-based line and column of byte `offset` in the manifest.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        line_column(&self.source, offset)
    }

    /// `path:line:column` of byte `offset`, for messages.
    pub fn location(&self, offset: usize) -> String {
        let (line, column) = self.line_column(offset);
        format!("{}:{line}:{column}", self.path.display())
    }

    /// The directory relative paths in the manifest start from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

fn locate(path: &Path, source: &str, span: Option<Range<usize>>, message: String) -> ManifestError {
    let (line, column) = match span {
        Some(span) => {
            let (line, column) = line_column(source, span.start);
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    ManifestError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Whether `name` is a component-model label: lowercase words joined by `-`.
fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn is_host_port(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
}
