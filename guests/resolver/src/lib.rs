//! The resolver: picks dependency versions from a package index, reading
//! versions and ranges only through the semver component (npm's `semver`,
//! written in JavaScript).

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::resolver::resolve::{Error, Guest, Pick, Release, Requirement};
use bindings::nanoproc::semver::versions;

struct Resolver;

impl Guest for Resolver {
    fn resolve(requirements: Vec<Requirement>, index: Vec<Release>) -> Result<Vec<Pick>, Error> {
        requirements
            .into_iter()
            .map(|requirement| {
                let release = index
                    .iter()
                    .find(|r| r.name == requirement.name)
                    .ok_or_else(|| Error::UnknownPackage(requirement.name.clone()))?;
                match versions::max_satisfying(&release.versions, &requirement.range) {
                    Ok(Some(version)) => Ok(Pick {
                        name: requirement.name,
                        version,
                    }),
                    Ok(None) => Err(Error::NoMatch(requirement)),
                    Err(versions::Error::InvalidVersion(text)) => Err(Error::InvalidVersion(text)),
                    Err(versions::Error::InvalidRange(text)) => Err(Error::InvalidRange(text)),
                }
            })
            .collect()
    }
}

bindings::export!(Resolver with_types_in bindings);
