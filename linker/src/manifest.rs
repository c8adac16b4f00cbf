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

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::Location;
pub use crate::error::ManifestError;

/// A parsed app manifest, with the source it came from so that every later
/// error can point at a line of it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where the manifest was read from; relative component paths are
    /// relative to its directory.
    pub(crate) path: PathBuf,
    source: Arc<str>,
    /// Where each line of `source` starts, to turn offsets into lines fast.
    lines: Lines,
    /// The `[app]` table.
    pub(crate) app: App,
    /// The components, in the order the manifest declares them.
    pub(crate) components: IndexMap<String, Component>,
    /// The `[limits]` table.
    pub(crate) limits: Limits,
}

/// The `[app]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct App {
    /// The app's name; the manifest's file stem when absent.
    pub(crate) name: Option<String>,
    /// The components whose exports become the app's exports.
    #[serde(default)]
    pub(crate) export: Vec<Spanned<String>>,
    /// Refuse imports a toolchain added instead of denying them with inert
    /// providers: every import must then be wired or granted.
    #[serde(default)]
    pub(crate) strict: bool,
}

impl App {
    /// The app's name as `[app] name` gives it (see [`Manifest::name`]).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The components whose exports become the app's exports.
    pub fn export(&self) -> impl Iterator<Item = &str> {
        self.export.iter().map(|e| e.get_ref().as_str())
    }

    /// Whether imports a toolchain added are refused rather than denied.
    pub fn strict(&self) -> bool {
        self.strict
    }
}

/// One `[components.NAME]` table.
#[derive(Debug, Clone)]
pub struct Component {
    /// The name the manifest gives it.
    pub(crate) name: String,
    /// Where its component comes from.
    pub(crate) source: Source,
    /// Explicit wiring: import name (the version may be left out) to the
    /// name of the component that exports it.
    pub(crate) wire: IndexMap<Spanned<String>, Spanned<String>>,
    /// What the host grants this component, and only this component.
    pub(crate) grants: Grants,
    /// Where the component's table starts in the manifest.
    pub(crate) span: Range<usize>,
    /// Where its `grants` table starts, when it has one.
    pub(crate) grants_span: Option<Range<usize>>,
}

impl Component {
    /// The name the manifest gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where its component comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Explicit wiring: import name (the version may be left out) to the
    /// name of the component that exports it.
    pub fn wire(&self) -> impl Iterator<Item = (&str, &str)> {
        self.wire
            .iter()
            .map(|(import, provider)| (import.get_ref().as_str(), provider.get_ref().as_str()))
    }

    /// What the host grants this component, and only this component.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// Where the component's table starts in the manifest (a byte offset,
    /// for [`Manifest::location`] and [`Manifest::error_at`]).
    pub fn offset(&self) -> usize {
        self.span.start
    }
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
    /// The origins it may send HTTP requests to, `scheme://host[:port]`
    /// (see [`Origin`](crate::Origin)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<String>,
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
        let source: Arc<str> = source.into().into();
        let lines = Lines::new(&source);
        let raw: RawManifest = toml::from_str(&source).map_err(|e| {
            let mut message = e.message().trim_end().to_string();
            if message == "duplicate key"
                && let Some(span) = e.span()
            {
                message = duplicate_key(&source, span);
            }
            error_at(&path, &source, &lines, e.span(), message)
        })?;
        let err = |span: Range<usize>, message: String| {
            error_at(&path, &source, &lines, Some(span), message)
        };

        let mut components = IndexMap::new();
        for (name, raw_component) in raw.components {
            let span = raw_component.span();
            let raw_component = raw_component.into_inner();
            if let Some(problem) = name_problem(&name) {
                return Err(err(span, problem));
            }
            let source_of = match (raw_component.path, raw_component.guest) {
                (Some(p), None) => {
                    if let Some(problem) = path_problem(p.get_ref()) {
                        return Err(err(
                            p.span(),
                            format!(
                                "component `{name}`: the path `{}` {problem}",
                                shown(p.get_ref())
                            ),
                        ));
                    }
                    Source::Path(PathBuf::from(p.into_inner()))
                }
                (None, Some(g)) => {
                    if !is_crate_name(g.get_ref()) {
                        return Err(err(
                            g.span(),
                            format!(
                                "component `{name}`: the guest `{}` is not the name of a crate \
                                 (ASCII letters, digits, `-` and `_`)",
                                shown(g.get_ref())
                            ),
                        ));
                    }
                    Source::Guest(g.into_inner())
                }
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
            for origin in &grants.http {
                if crate::Origin::parse(origin).is_none() {
                    return Err(err(
                        grants_span.clone().unwrap_or(span.clone()),
                        format!(
                            "component `{name}`: http grant `{origin}` is not an origin `scheme://host[:port]` \
                             (such as `https://api.example.com` or `http://127.0.0.1:8080`)"
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
        let manifest = Self {
            path,
            source,
            lines,
            app: raw.app,
            components,
            limits: raw.limits,
        };
        manifest.check_references()?;
        Ok(manifest)
    }

    /// Checks that every wire and every app export names a component of
    /// the app (and no wire its own component), so that composing can look
    /// each one up.
    fn check_references(&self) -> Result<(), ManifestError> {
        let err = |span: Range<usize>, message: String| {
            error_at(&self.path, &self.source, &self.lines, Some(span), message)
        };
        for component in self.components.values() {
            for (import, provider) in &component.wire {
                if !self.components.contains_key(provider.get_ref()) {
                    return Err(err(
                        provider.span(),
                        format!(
                            "component `{}` wires `{}` to `{}`, which is not a component of this app",
                            component.name,
                            shown(import.get_ref()),
                            shown(provider.get_ref())
                        ),
                    ));
                }
                if provider.get_ref() == &component.name {
                    return Err(err(
                        provider.span(),
                        format!(
                            "component `{}` wires `{}` to itself",
                            component.name,
                            shown(import.get_ref())
                        ),
                    ));
                }
            }
        }
        for export in &self.app.export {
            if !self.components.contains_key(export.get_ref()) {
                return Err(err(
                    export.span(),
                    format!(
                        "`export` names `{}`, which is not a component of this app",
                        shown(export.get_ref())
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Reads and parses the manifest at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or as [`Manifest::parse`].
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let source =
            std::fs::read_to_string(path).map_err(|e| ManifestError::unreadable(path, e))?;
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
        self.lines.line_column(&self.source, offset)
    }

    /// The place of byte `offset` in the manifest, for errors: its line
    /// from there on is what they point at.
    pub fn location(&self, offset: usize) -> Location {
        locate(&self.path, &self.source, &self.lines, offset..offset)
    }

    /// Where the manifest was read from; relative component paths are
    /// relative to its directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `[app]` table.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The components, in the order the manifest declares them, by name.
    pub fn components(&self) -> &IndexMap<String, Component> {
        &self.components
    }

    /// The `[limits]` table.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Every place of the manifest that an error may point at: each
    /// component's table and grants, each wire's import and provider, each
    /// app export.
    pub fn places(&self) -> Vec<Location> {
        let mut spans = Vec::new();
        for component in self.components.values() {
            spans.push(component.span.clone());
            spans.extend(component.grants_span.clone());
            for (import, provider) in &component.wire {
                spans.push(import.span());
                spans.push(provider.span());
            }
        }
        spans.extend(self.app.export.iter().map(|e| e.span()));
        spans
            .into_iter()
            .map(|span| locate(&self.path, &self.source, &self.lines, span))
            .collect()
    }

    /// An error about this manifest at byte `offset`, with `message`.
    pub fn error_at(&self, offset: usize, message: String) -> ManifestError {
        error_at(
            &self.path,
            &self.source,
            &self.lines,
            Some(offset..offset),
            message,
        )
    }

    /// The directory relative paths in the manifest start from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The bytes of every component, in the manifest's order: a `path` read
    /// relative to the manifest's directory, a `guest` from `guests_dir` (the
    /// build's output; [`find_components_dir`] finds it).
    ///
    /// # Errors
    ///
    /// When a component file cannot be read; the error points at the
    /// component's table.
    pub fn read_components(
        &self,
        guests_dir: &Path,
    ) -> Result<IndexMap<String, Vec<u8>>, ManifestError> {
        let mut bytes = IndexMap::new();
        for (name, component) in &self.components {
            let file = self
                .base_dir()
                .join(component.source.component_path(guests_dir));
            let data = std::fs::read(&file).map_err(|e| {
                let hint = match component.source {
                    Source::Guest(_) => {
                        " (a guest crate becomes a component when built: `cargo xtask build`)"
                    }
                    Source::Path(_) => "",
                };
                error_at(
                    &self.path,
                    &self.source,
                    &self.lines,
                    Some(component.span.clone()),
                    format!(
                        "component `{name}`: cannot read {}: {e}{hint}",
                        file.display()
                    ),
                )
            })?;
            bytes.insert(name.clone(), data);
        }
        Ok(bytes)
    }
}

/// The place of `span` in the manifest: where it starts, and the bytes it
/// covers on that line (the rest of the line when it covers none).
fn locate(path: &Path, source: &Arc<str>, lines: &Lines, span: Range<usize>) -> Location {
    let (line, column) = lines.line_column(source, span.start);
    let mut start = span.start.min(source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let end = if span.end > start && span.end <= line_end && source.is_char_boundary(span.end) {
        span.end
    } else {
        line_end
    };
    Location {
        path: path.into(),
        line,
        column,
        span: start..end,
        source: Arc::clone(source),
    }
}

/// The error at `span` of the manifest (nowhere, without one).
fn error_at(
    path: &Path,
    source: &Arc<str>,
    lines: &Lines,
    span: Option<Range<usize>>,
    message: String,
) -> ManifestError {
    ManifestError {
        path: path.to_path_buf(),
        location: span.map(|span| locate(path, source, lines, span)),
        message,
        io: None,
    }
}

/// Where the components of `guest = "…"` entries are for a manifest in
/// `start`: the nearest `target/components` at or above it, else
/// `target/components` (relative, so that errors say what to build).
pub fn find_components_dir(start: &Path) -> PathBuf {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .map(|dir| dir.join("target/components"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| PathBuf::from("target/components"))
}

/// Where each line of a text starts, so that an offset's line is found by
/// binary search: a manifest of ten thousand components locates each of
/// them without reading it from the start again.
#[derive(Debug, Clone)]
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(source: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    /// The 1-based line and column (in characters) of byte `offset` of `source`.
    fn line_column(&self, source: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, source[start..offset].chars().count() + 1)
    }
}

/// `text` for a message: ASCII as it is, anything else (letters of other
/// scripts that look like ASCII ones, invisible and right-to-left marks,
/// control characters) as `\u{…}`, so that what is shown is what is there.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    out
}

/// What is wrong with a component name, if anything: it must be a
/// component-model label, lowercase ASCII words joined by `-`.
fn name_problem(name: &str) -> Option<String> {
    const RULE: &str =
        "a name is lowercase ASCII words joined by `-` (like `markdown` or `json-lib`)";
    if name.is_empty() {
        return Some(format!("a component has an empty name; {RULE}"));
    }
    if let Some((i, c)) = name.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        return Some(format!(
            "component name `{}` is not ASCII: character {} is U+{:04X}; {RULE}",
            shown(name),
            i + 1,
            u32::from(c)
        ));
    }
    (!is_kebab(name)).then(|| {
        format!(
            "component name `{}` is not kebab-case (like `markdown` or `json-lib`)",
            shown(name)
        )
    })
}

/// Why a component's `path` does not name a file inside the manifest's
/// directory, and what to do, if it does not. The path is read the same way
/// on every system: `/` and `\` both separate its parts.
fn path_problem(path: &str) -> Option<String> {
    const FIX: &str = ": copy the component there, or name a guest crate with `guest = \"…\"`";
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with(['/', '\\']) || drive || Path::new(path).is_absolute() {
        return Some(format!(
            "is absolute; a component's path must be relative to the manifest's directory and stay inside it{FIX}"
        ));
    }
    let mut depth = 0usize;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => {
                    return Some(format!(
                        "leads outside the manifest's directory; a component's path must stay inside that directory{FIX}"
                    ));
                }
            },
            _ => depth += 1,
        }
    }
    (depth == 0).then(|| {
        "names no file; give the component's file, relative to the manifest's directory".to_string()
    })
}

/// Whether `name` can be a guest crate's name: ASCII letters, digits, `-`
/// and `_` (so that it names a file in the components folder and no other).
fn is_crate_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The message for a key given twice (the `toml` crate says only "duplicate
/// key"): which key, and for a component, that it is declared twice.
fn duplicate_key(source: &str, span: Range<usize>) -> String {
    let unquote = |text: &str| {
        let text = text.trim();
        text.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
            .unwrap_or(text)
            .to_string()
    };
    let Some(key) = source.get(span.clone()).map(unquote) else {
        return "duplicate key".to_string();
    };
    let line_start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line = source[line_start..]
        .lines()
        .next()
        .unwrap_or("")
        .trim_start();
    // The table the key is in: the header on its line, else the last one before.
    let (table, is_header) = if line.starts_with('[') {
        (line, true)
    } else {
        let before = source[..line_start]
            .lines()
            .rev()
            .map(str::trim_start)
            .find(|l| l.starts_with('['))
            .unwrap_or("");
        (before, false)
    };
    let table = table.trim_start_matches('[');
    let table = table[..table.find(']').unwrap_or(table.len())].trim();
    let parts: Vec<String> = table.split('.').map(unquote).collect();
    let component = match (is_header, parts.as_slice()) {
        (true, [components, name, ..]) => components == "components" && *name == key,
        (false, [components]) => components == "components",
        _ => false,
    };
    if component {
        format!(
            "component `{}` is declared twice; give each component one `[components.NAME]` table, with a name of its own",
            shown(&key)
        )
    } else if is_header {
        format!(
            "the table `[{}]` is declared twice; merge the two",
            shown(table)
        )
    } else if table.is_empty() {
        format!("`{}` is given twice; give it once", shown(&key))
    } else {
        format!(
            "`{}` is given twice in `[{}]`; give it once",
            shown(&key),
            shown(table)
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Manifest::parse("nanoproc.toml", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_path_must_name_a_file_inside_the_manifests_directory() {
        for inside in [
            "a.wasm",
            "./a.wasm",
            "sub/a.wasm",
            "sub/../a.wasm",
            "sub//a.wasm",
        ] {
            assert_eq!(path_problem(inside), None, "{inside}");
        }
        for (path, problem) in [
            ("/a.wasm", "is absolute"),
            ("\\a.wasm", "is absolute"),
            ("C:/a.wasm", "is absolute"),
            ("c:a.wasm", "is absolute"),
            ("../a.wasm", "leads outside"),
            ("..\\a.wasm", "leads outside"),
            ("sub/../../a.wasm", "leads outside"),
            ("./sub/./../../sub/a.wasm", "leads outside"),
            ("", "names no file"),
            (".", "names no file"),
            ("sub/..", "names no file"),
        ] {
            let found = path_problem(path).unwrap_or_default();
            assert!(found.starts_with(problem), "{path}: {found}");
        }
    }

    #[test]
    fn a_name_that_is_not_kebab_case_says_so() {
        for name in ["Logger", "json_lib", "a--b", "-a", "a-", "1a", "a b"] {
            assert_eq!(
                name_problem(name).unwrap(),
                format!(
                    "component name `{name}` is not kebab-case (like `markdown` or `json-lib`)"
                )
            );
        }
        assert_eq!(
            name_problem("a\tb").unwrap(),
            "component name `a\\u{9}b` is not kebab-case (like `markdown` or `json-lib`)"
        );
        assert_eq!(name_problem("json-lib2"), None);
    }

    #[test]
    fn a_key_given_twice_is_named() {
        assert_eq!(
            error("[app]\nexport = []\n[app]\nstrict = true\n"),
            "nanoproc.toml:3:2: the table `[app]` is declared twice; merge the two"
        );
        assert_eq!(
            error("[components.m]\nguest = \"a\"\nguest = \"b\"\n"),
            "nanoproc.toml:3:1: `guest` is given twice in `[components.m]`; give it once"
        );
        assert_eq!(
            error("[components.'m']\nguest = \"a\"\n[components.m.grants]\n[components.m]\n"),
            "nanoproc.toml:4:13: component `m` is declared twice; give each component one \
             `[components.NAME]` table, with a name of its own"
        );
    }

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "[app]\nname = \"é\u{200f}\"\n\n[components.x]\n";
        let lines = Lines::new(text);
        let at = |needle: &str| lines.line_column(text, text.find(needle).unwrap());
        assert_eq!(at("[app]"), (1, 1));
        assert_eq!(at("\"é"), (2, 8));
        assert_eq!(at("\"\n\n"), (2, 11));
        assert_eq!(at("[components"), (4, 1));
        // An offset inside a character counts from the character's start.
        assert_eq!(lines.line_column(text, text.find('é').unwrap() + 1), (2, 9));
        assert_eq!(lines.line_column(text, text.len() + 10), (5, 1));
    }

    #[test]
    fn unknown_names_are_shown_escaped() {
        assert_eq!(
            error("[app]\nexport = [\"m\u{430}rkdown\"]\n"),
            "nanoproc.toml:2:11: `export` names `m\\u{430}rkdown`, which is not a component of this app"
        );
    }
}
