//! Warnings: what composes but looks like a mistake. A wire for an import
//! the component does not have, a grant of a capability it does not import,
//! a component nothing can call.

use std::collections::HashSet;

use crate::capability::Capability;
use crate::manifest::Manifest;
use crate::plan::{PlannedComponent, Satisfied};

/// A warning for each wire of the component `name` that no import used.
pub(crate) fn unused_wires(manifest: &Manifest, name: &str, used: &[bool]) -> Vec<String> {
    let entry = &manifest.components[name];
    entry
        .wire
        .keys()
        .zip(used)
        .filter(|(_, used)| !**used)
        .map(|(key, _)| {
            format!(
                "{}: component `{name}` wires `{}`, which it does not import",
                manifest.location(key.span().start),
                crate::manifest::shown(key.get_ref())
            )
        })
        .collect()
}

/// A warning for each capability granted to the component `name` that it
/// does not import (`used` are those it does).
pub(crate) fn unused_grants(manifest: &Manifest, name: &str, used: &[Capability]) -> Vec<String> {
    let entry = &manifest.components[name];
    let location = manifest.location(
        entry
            .grants_span
            .as_ref()
            .map_or(entry.span.start, |span| span.start),
    );
    // `io` is never granted by itself, only with the grants that use it.
    Capability::ALL
        .into_iter()
        .filter(|c| *c != Capability::Io)
        .filter(|c| c.granted_by(&entry.grants) && !used.contains(c))
        .map(|capability| {
            format!(
                "{location}: component `{name}` is granted `{capability}`, which it does not import"
            )
        })
        .collect()
}

/// A warning for each component that is neither exported by the app nor
/// imported from by another, so that nothing can call it.
pub(crate) fn uncalled(manifest: &Manifest, planned: &[PlannedComponent]) -> Vec<String> {
    let exported: HashSet<&str> = manifest
        .app
        .export
        .iter()
        .map(|e| e.get_ref().as_str())
        .collect();
    let imported_from: HashSet<&str> = planned
        .iter()
        .flat_map(|other| &other.imports)
        .filter_map(|(_, s)| match s {
            Satisfied::Wired { component, .. } => Some(component.as_str()),
            Satisfied::Granted(_) | Satisfied::Denied(_) => None,
        })
        .collect();
    planned
        .iter()
        .map(|component| component.name.as_str())
        .filter(|name| !exported.contains(name) && !imported_from.contains(name))
        .map(|name| {
            format!(
                "{}: component `{name}` is neither exported nor imported from, so nothing can call it",
                manifest.location(manifest.components[name].span.start),
            )
        })
        .collect()
}
