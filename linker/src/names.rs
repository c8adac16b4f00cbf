//! Import and export names: `namespace:package/interface@version`.

use std::fmt;

use semver::Version;

/// A parsed interface name such as `wasi:cli/stderr@0.2.12`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InterfaceName {
    /// `namespace:package/interface`, without the version.
    pub base: String,
    /// The package version, when the name has one.
    pub version: Option<Version>,
}

impl InterfaceName {
    /// Parses `name`; `None` when it is a plain name (such as `run`) rather
    /// than an interface name.
    pub fn parse(name: &str) -> Option<Self> {
        let (base, version) = match name.split_once('@') {
            Some((base, version)) => (base, Some(Version::parse(version).ok()?)),
            None => (name, None),
        };
        let (package, interface) = base.split_once('/')?;
        let (namespace, package) = package.split_once(':')?;
        if namespace.is_empty() || package.is_empty() || interface.is_empty() {
            return None;
        }
        Some(Self {
            base: base.to_string(),
            version,
        })
    }

    /// Whether an export named `self` can satisfy an import named `import`:
    /// the same interface, and versions on one semver-compatible track.
    pub fn satisfies(&self, import: &InterfaceName) -> bool {
        self.base == import.base
            && match (&self.version, &import.version) {
                (Some(have), Some(want)) => compatible(have, want),
                (None, None) => true,
                _ => false,
            }
    }

    /// Whether `self` names the interface `text`, which may leave out the version.
    pub fn matches(&self, text: &str) -> bool {
        match InterfaceName::parse(text) {
            Some(other) if other.version.is_none() => other.base == self.base,
            Some(other) => other == *self,
            None => false,
        }
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        if let Some(version) = &self.version {
            write!(f, "@{version}")?;
        }
        Ok(())
    }
}

/// Whether two versions lie on one semver track: the same major version,
/// or for `0.x` the same minor, or for `0.0.x` the same patch.
pub fn compatible(a: &Version, b: &Version) -> bool {
    match (a.major, b.major) {
        (0, 0) => match (a.minor, b.minor) {
            (0, 0) => a.patch == b.patch,
            (x, y) => x == y,
        },
        (x, y) => x == y,
    }
}
