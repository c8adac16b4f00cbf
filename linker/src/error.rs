//! The error of composing an app: what is wrong, where in the manifest, and
//! how to fix it.

use std::fmt;

/// Why an app could not be composed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeError {
    /// Which sort of problem this is.
    pub kind: ErrorKind,
    /// What is wrong, naming the component and the import.
    pub message: String,
    /// The chain of causes, outermost first.
    pub causes: Vec<String>,
    /// `manifest:line:column` of the line to change, when there is one.
    pub location: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

/// The sorts of composition errors, for callers that act on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The manifest cannot be read or says something impossible.
    Manifest,
    /// A component's bytes are not a valid component.
    Component,
    /// A component imports a capability it was not granted.
    MissingGrant,
    /// An import that no component exports and no grant covers.
    Unresolved,
    /// An import that more than one component exports, with no explicit wiring.
    Ambiguous,
    /// Explicit wiring names a component that does not export the import.
    NotExported,
    /// Components that import from each other in a circle.
    Cycle,
    /// An import wired to an export of a different type.
    TypeMismatch,
    /// The app's exports are missing or clash.
    Export,
    /// The app needs more components or instances than one component may
    /// hold.
    TooLarge,
    /// The composition could not be encoded (a bug in the linker).
    Encoding,
}

impl ComposeError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            causes: Vec::new(),
            location: None,
            help: None,
        }
    }

    pub(crate) fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn caused_by(mut self, causes: Vec<String>) -> Self {
        self.causes = causes;
        self
    }
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, "\n  caused by: {cause}")?;
        }
        if let Some(location) = &self.location {
            write!(f, "\n  --> {location}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ComposeError {}

impl From<crate::manifest::ManifestError> for ComposeError {
    fn from(e: crate::manifest::ManifestError) -> Self {
        Self::new(ErrorKind::Manifest, e.to_string())
    }
}
