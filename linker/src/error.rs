//! The linker's errors, one type per stage: [`ManifestError`] for reading a
//! manifest, [`ComposeError`] for composing an app. Each keeps where in the
//! manifest the problem is ([`Location`]) and its chain of causes. A
//! manifest error becomes a compose error of kind [`ErrorKind::Manifest`]
//! with its location kept; [`ComposeError`] implements
//! [`miette::Diagnostic`], so that [`report`] (or any miette handler) shows
//! the manifest's line with the error.

use std::error::Error;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};

/// A place in a manifest: the file, the 1-based line and column, and the
/// bytes of the source to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The manifest's path, as given.
    pub path: Arc<Path>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The bytes of the manifest the problem is in.
    pub span: Range<usize>,
    /// The manifest's text, for showing the line.
    pub(crate) source: Arc<str>,
}

impl Location {
    /// The manifest's text and path, as miette shows them.
    fn source_code(&self) -> &dyn SourceCode {
        self
    }

    /// The label under the manifest's line.
    fn label(&self, text: Option<String>) -> LabeledSpan {
        LabeledSpan::new_with_span(text, self.span.clone())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

impl SourceCode for Location {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .source
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.path.display().to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// A manifest that cannot be read, with where in the file the problem is.
#[derive(Debug, Clone)]
pub struct ManifestError {
    /// The manifest's path, as given.
    pub path: PathBuf,
    /// Where in the manifest the problem is, when it has a place.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// Why the file could not be read, when it could not.
    pub(crate) io: Option<Arc<std::io::Error>>,
}

impl ManifestError {
    /// The error for a manifest at `path` that cannot be read.
    pub(crate) fn unreadable(path: &Path, error: std::io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            location: None,
            message: "cannot read the manifest".to_string(),
            io: Some(Arc::new(error)),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}", self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl Error for ManifestError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.io.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// Why an app could not be composed: which sort of problem ([`ErrorKind`],
/// with the names involved), what is wrong, where in the manifest, why
/// ([`Error::source`]) and how to fix it.
#[derive(Debug)]
pub struct ComposeError(Box<Inner>);

/// What a [`ComposeError`] holds, boxed so that results stay small.
#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    location: Option<Location>,
    help: Option<String>,
    cause: Option<Box<dyn Error + Send + Sync + 'static>>,
}

/// The sorts of composition errors, with the names a caller acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The manifest cannot be read or says something impossible.
    Manifest,
    /// A component's bytes are not a valid component, or were not given.
    Component {
        /// The component's name in the manifest.
        component: String,
    },
    /// A component imports capabilities it was not granted.
    MissingGrant {
        /// The component's name in the manifest.
        component: String,
        /// The imports no grant covers.
        imports: Vec<String>,
    },
    /// WASI imports of a component that the host does not provide (another
    /// WASI release, or an interface or function its release lacks), which
    /// no wiring covers.
    Unprovided {
        /// The component's name in the manifest.
        component: String,
        /// The imports the host does not provide.
        imports: Vec<String>,
    },
    /// Imports that no component exports and no grant covers.
    Unresolved {
        /// The importing component.
        component: String,
        /// The imports, in the order the component lists them.
        imports: Vec<String>,
    },
    /// An import that more than one component exports, with no explicit wiring.
    Ambiguous {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The components that export it.
        exporters: Vec<String>,
    },
    /// Explicit wiring names a component that does not export the import.
    NotExported {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The component the manifest wires it to.
        provider: String,
    },
    /// Components that import from each other in a circle.
    Cycle {
        /// The components of the cycle, each importing from the next (and
        /// the last from the first).
        components: Vec<String>,
    },
    /// An import wired to an export of a different type.
    TypeMismatch {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The component whose export is wired to it.
        provider: String,
        /// That export.
        export: String,
    },
    /// The app's exports are missing or clash.
    Export,
    /// The app needs more components or instances than one component may
    /// hold.
    TooLarge {
        /// How many it needs.
        count: usize,
    },
    /// The composition could not be encoded (a bug in the linker).
    Encoding,
    /// The app differs from its lock (`--locked`).
    Locked {
        /// What changed, component by component.
        changes: Vec<crate::lock::Change>,
    },
}

impl ErrorKind {
    /// A short name of the sort, as diagnostics show it.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::Manifest => "manifest",
            ErrorKind::Component { .. } => "component",
            ErrorKind::MissingGrant { .. } => "missing-grant",
            ErrorKind::Unprovided { .. } => "unprovided",
            ErrorKind::Unresolved { .. } => "unresolved",
            ErrorKind::Ambiguous { .. } => "ambiguous",
            ErrorKind::NotExported { .. } => "not-exported",
            ErrorKind::Cycle { .. } => "cycle",
            ErrorKind::TypeMismatch { .. } => "type-mismatch",
            ErrorKind::Export => "export",
            ErrorKind::TooLarge { .. } => "too-large",
            ErrorKind::Encoding => "encoding",
            ErrorKind::Locked { .. } => "locked",
        }
    }
}

impl ComposeError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            location: None,
            help: None,
            cause: None,
        }))
    }

    pub(crate) fn at(mut self, location: Location) -> Self {
        self.0.location = Some(location);
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    /// Sets the chain of causes, outermost first.
    pub(crate) fn caused_by(mut self, causes: Vec<String>) -> Self {
        let chain = causes.into_iter().rev().fold(None, |next, message| {
            Some(Box::new(Cause { message, next }))
        });
        self.0.cause = chain.map(|c| c as Box<dyn Error + Send + Sync>);
        self
    }

    /// Sets the cause: an error of another crate.
    pub(crate) fn because(mut self, cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        self.0.cause = Some(cause.into());
        self
    }

    /// Which sort of problem this is, with the names involved.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// What is wrong, naming the component and the import.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Where in the manifest the line to change is, when there is one.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// How to fix it, when the linker knows.
    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// The causes, outermost first, as text.
    pub fn causes(&self) -> impl Iterator<Item = String> + '_ {
        let mut next = self.source();
        std::iter::from_fn(move || {
            let cause = next?;
            next = cause.source();
            Some(cause.to_string())
        })
    }
}

/// The message; with `{:#}`, in plain text on a few lines: the message,
/// each cause, the manifest's `path:line:column` and the help.
impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return f.write_str(&self.0.message);
        }
        match (&self.0.kind, &self.0.location) {
            (ErrorKind::Manifest, Some(location)) => write!(f, "{location}: {}", self.0.message)?,
            _ => f.write_str(&self.0.message)?,
        }
        for cause in self.causes() {
            write!(f, "\n  caused by: {cause}")?;
        }
        if let (Some(location), false) = (&self.0.location, self.0.kind == ErrorKind::Manifest) {
            write!(f, "\n  --> {location}")?;
        }
        if let Some(help) = &self.0.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl Error for ComposeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.cause.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl Diagnostic for ComposeError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.0.location.as_ref().map(Location::source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = self.0.location.as_ref()?.label(None);
        Some(Box::new(std::iter::once(label)))
    }
}

impl From<ManifestError> for ComposeError {
    fn from(e: ManifestError) -> Self {
        // Shown with its location, the message needs no path; without one,
        // it names the file.
        let message = match &e.location {
            Some(_) => e.message.clone(),
            None => format!("{}: {}", e.path.display(), e.message),
        };
        let mut error = Self::new(ErrorKind::Manifest, message);
        error.0.location = e.location.clone();
        error.0.cause = e.io.clone().map(|io| Box::new(SharedIo(io)) as _);
        error
    }
}

/// An I/O error shared between a [`ManifestError`] and the
/// [`ComposeError`] made from it.
#[derive(Debug)]
struct SharedIo(Arc<std::io::Error>);

impl fmt::Display for SharedIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for SharedIo {}

/// One of a chain of causes the linker itself explains (a type that
/// differs, deep in a record), linked to the next.
#[derive(Debug)]
struct Cause {
    message: String,
    next: Option<Box<Cause>>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.next.as_deref().map(|c| c as &(dyn Error + 'static))
    }
}

/// Shows `error` as the `nanoproc` command does: the message, the chain of
/// causes, the manifest's line with the place marked, and the help. With
/// `color`, in the terminal's colors.
pub fn report(error: &dyn Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(theme).with_wrap_lines(false);
    if handler.render_report(&mut out, error).is_err() {
        out = error.to_string();
    }
    out
}

/// Shows `error` as the `nanoproc` command does: when a [`ComposeError`] or
/// [`ManifestError`] is in its chain, as [`report`] shows that (after the
/// context around it, on a line of its own); otherwise the chain on one
/// line after `error: `.
pub fn report_any(error: &(dyn Error + 'static), color: bool) -> String {
    let mut context = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let manifest = e
            .downcast_ref::<ManifestError>()
            .cloned()
            .map(ComposeError::from);
        if let Some(found) = e.downcast_ref::<ComposeError>().or(manifest.as_ref()) {
            let mut out = String::new();
            if !context.is_empty() {
                out = format!("error: {}\n", context.join(": "));
            }
            return out + &report(found, color);
        }
        context.push(e.to_string());
        next = e.source();
    }
    format!("error: {}\n", context.join(": "))
}
