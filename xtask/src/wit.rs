//! Loading the project's WIT packages, with WASI's WIT taken from the
//! `wasmtime-wasi` crates that the host is built on (the repository keeps no
//! copy of third-party WIT): WASI 0.2's packages and WASI 0.3's, whose names
//! carry their versions, so that one world may import both.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use wit_parser::{PackageId, Resolve, UnresolvedPackageGroup, WorldId};

/// Every WIT package the guests may name, resolved together.
pub struct Wit {
    /// The resolved packages.
    pub resolve: Resolve,
    /// The project's own packages (those under `wit/`).
    own: Vec<PackageId>,
}

impl Wit {
    /// Loads each package directory under `own_dir`, with the packages in
    /// each of `deps_dirs` (files or directories, one package each)
    /// available to them.
    pub fn load(own_dir: &Path, deps_dirs: &[PathBuf]) -> Result<Self> {
        let mut deps = Vec::new();
        for dir in deps_dirs {
            deps.extend(read_packages(dir)?);
        }
        let own = read_packages(own_dir)?;
        let own_names: Vec<_> = own.iter().map(|(_, g)| g.main.name.clone()).collect();

        let mut resolve = Resolve::default();
        let mut pending: Vec<_> = deps.into_iter().chain(own).collect();
        // Push packages whose dependencies are all present, until none are left.
        while !pending.is_empty() {
            let ready = pending.iter().position(|(_, group)| {
                group
                    .main
                    .foreign_deps
                    .keys()
                    .all(|dep| resolve.package_names.contains_key(dep))
            });
            let Some(index) = ready else {
                let (path, group) = &pending[0];
                let missing: Vec<String> = group
                    .main
                    .foreign_deps
                    .keys()
                    .filter(|dep| !resolve.package_names.contains_key(*dep))
                    .map(|dep| format!("`{dep}`"))
                    .collect();
                let dirs: Vec<String> = std::iter::once(own_dir)
                    .chain(deps_dirs.iter().map(PathBuf::as_path))
                    .map(|dir| dir.display().to_string())
                    .collect();
                bail!(
                    "{}: package `{}` uses {}, which no package in {} defines \
                     (or the packages use each other in a cycle)",
                    path.display(),
                    group.main.name,
                    missing.join(", "),
                    dirs.join(" or ")
                );
            };
            let (path, group) = pending.remove(index);
            resolve
                .push_group(group)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
        }
        let own = own_names
            .iter()
            .map(|name| resolve.package_names[name])
            .collect();
        Ok(Self { resolve, own })
    }

    /// The world named `spec` (such as `nanoproc:markdown/markdown`) in one
    /// of the project's own packages.
    pub fn world(&self, spec: &str) -> Result<WorldId> {
        self.resolve.select_world(&self.own, Some(spec))
    }

    /// The names a component of `world` may import: each imported interface
    /// (those it uses included) and each imported function.
    pub fn import_names(&self, world: WorldId) -> Vec<String> {
        self.resolve.worlds[world]
            .imports
            .iter()
            .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
            .map(|(key, _)| self.resolve.name_world_key(key))
            .collect()
    }
    /// A copy of the packages for generating the bindings of `world`: the
    /// packages it does not reach are renamed apart, so that a package
    /// loaded in two versions (WASI 0.2's and 0.3's) mangles the versions
    /// into module names only for a world that imports both.
    pub fn for_bindings(&self, world: WorldId) -> Resolve {
        let mut resolve = self.resolve.clone();
        let w = &resolve.worlds[world];
        let mut reached: std::collections::HashSet<PackageId> = w.package.into_iter().collect();
        for item in w.imports.values().chain(w.exports.values()) {
            let package = match item {
                wit_parser::WorldItem::Interface { id, .. } => resolve.interfaces[*id].package,
                wit_parser::WorldItem::Type { id, .. } => match resolve.types[*id].owner {
                    wit_parser::TypeOwner::Interface(i) => resolve.interfaces[i].package,
                    wit_parser::TypeOwner::World(w) => resolve.worlds[w].package,
                    wit_parser::TypeOwner::None => None,
                },
                wit_parser::WorldItem::Function(_) => None,
            };
            reached.extend(package);
        }
        for (id, package) in resolve.packages.iter_mut() {
            if !reached.contains(&id) {
                package.name.name = format!("{}-unreached{}", package.name.name, id.index());
            }
        }
        resolve
    }
}

/// Parses each `*.wit` file and each directory in `dir` as one package.
fn read_packages(dir: &Path) -> Result<Vec<(PathBuf, UnresolvedPackageGroup)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    let mut packages = Vec::new();
    for path in paths {
        let group = if path.is_dir() {
            UnresolvedPackageGroup::parse_dir(&path)?
        } else if path.extension().is_some_and(|e| e == "wit") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            UnresolvedPackageGroup::parse(&path, &text)
                .map_err(|(map, e)| anyhow::anyhow!("{}", e.render(&map)))?
        } else {
            continue;
        };
        packages.push((path, group));
    }
    Ok(packages)
}
