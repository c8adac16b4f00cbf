//! Building every guest crate under `guests/` into a component.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use nanoproc_linker::{human_size, write_atomically};
use serde_json::Value;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER as WASI_ADAPTER,
};
use wit_bindgen_core::WorldGenerator as _;

use crate::relative;
use crate::toolchain::{Target, Toolchain};
use crate::wit::Wit;

/// Where the components are written, relative to the project root.
pub const COMPONENTS_DIR: &str = "target/components";
/// The cargo target directory of the guest build, relative to the project root.
const GUEST_TARGET_DIR: &str = "target/wasm";

/// What to do with a generated file that differs from the one on disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// Write the new one.
    Write,
    /// Fail: the committed file is stale.
    Check,
}

impl Generated {
    /// Writes `contents` to the generated file `path` when it differs, or
    /// adds the file to `stale` when checking.
    pub fn apply(
        self,
        root: &Path,
        path: &Path,
        contents: &[u8],
        stale: &mut Vec<String>,
    ) -> Result<()> {
        if std::fs::read(path).ok().as_deref() == Some(contents) {
            return Ok(());
        }
        match self {
            Generated::Write => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                write_atomically(path, contents)?;
                eprintln!("xtask: regenerated {}", relative(root, path).display());
            }
            Generated::Check => stale.push(relative(root, path).display().to_string()),
        }
        Ok(())
    }

    /// Fails naming the generated files that differ from the committed ones.
    pub fn fail_if_stale(stale: &[String]) -> Result<()> {
        if !stale.is_empty() {
            bail!(
                "generated bindings are out of date: {}\nrun `cargo xtask build` and commit the result",
                stale.join(", ")
            );
        }
        Ok(())
    }
}

/// A guest crate, as `cargo metadata` describes it.
struct Guest {
    name: String,
    package: String,
    lib_name: String,
    dir: PathBuf,
    world: String,
    target: Target,
}

/// Generates bindings, builds the guests whose names `wanted` accepts for
/// wasm and encodes each as a component in [`COMPONENTS_DIR`]. Unchanged
/// outputs are left untouched.
pub fn build(root: &Path, generated: Generated, wanted: &dyn Fn(&str) -> bool) -> Result<()> {
    build_into(root, root, generated, wanted)
}

/// Builds nanoproc's own Rust guests whose names `wanted` accepts for the
/// project at `project`: into its `target/`, from nanoproc's sources and
/// lock file as they are (generated bindings checked, not written), so
/// nothing is written into nanoproc's tree.
pub fn build_library(project: &Path, wanted: &dyn Fn(&str) -> bool) -> Result<()> {
    build_into(&crate::nanoproc_root(), project, Generated::Check, wanted)
}

/// Builds the guests of the project at `root` that `wanted` accepts into
/// the `target/` of the project at `out`: all of them when `out` is `root`,
/// only those written in Rust otherwise.
fn build_into(
    root: &Path,
    out: &Path,
    generated: Generated,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let started = Instant::now();
    let metadata = cargo_metadata(root)?;
    let mut guests = find_guests(root, &metadata)?;
    guests.retain(|guest| wanted(&guest.name));
    let wit = wit_of(root, &metadata)?;

    let mut stale = Vec::new();
    for guest in &guests {
        let world = wit.world(&guest.world).with_context(|| {
            let manifest = guest.dir.join("Cargo.toml");
            let line = std::fs::read_to_string(&manifest)
                .ok()
                .and_then(|text| {
                    text.lines().position(|l| {
                        l.trim_start().starts_with("world") && l.contains(&guest.world)
                    })
                })
                .map_or(String::new(), |i| format!(":{}", i + 1));
            format!(
                "{}{line}: guest `{}` names the world `{}`, which no package in wit/ has",
                relative(root, &manifest).display(),
                guest.name,
                guest.world
            )
        })?;
        let source = bindings(&wit, world, &guest.world)?;
        let path = guest.dir.join("src/bindings.rs");
        generated.apply(root, &path, source.as_bytes(), &mut stale)?;
    }
    Generated::fail_if_stale(&stale)?;

    // One cargo build per target, all into the same target directory.
    let target_dir = out.join(GUEST_TARGET_DIR);
    let mut by_target: BTreeMap<Target, Vec<&Guest>> = BTreeMap::new();
    for guest in &guests {
        by_target.entry(guest.target).or_default().push(guest);
    }
    for (target, members) in &by_target {
        let toolchain = Toolchain::find_or_install(*target)?;
        let first_build = !target_dir.join(target.triple()).exists();
        eprintln!(
            "xtask: building {} guest{} for {target} with {}{}",
            members.len(),
            if members.len() == 1 { "" } else { "s" },
            toolchain.describe(),
            if first_build && matches!(toolchain, Toolchain::BuildStd) {
                " (the first build also compiles std: 1 to 2 minutes)"
            } else {
                ""
            }
        );
        let mut cmd = toolchain.cargo_build(*target, root, &target_dir);
        if out != root {
            // Another project's build leaves this one's lock file as it is.
            cmd.arg("--locked");
        }
        for guest in members {
            cmd.args(["--package", &guest.package]);
        }
        run(cmd.current_dir(root))?;
    }

    let out_dir = out.join(COMPONENTS_DIR);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let width = guests.iter().map(|g| g.name.len()).max().unwrap_or(0);
    for guest in &guests {
        let core = target_dir
            .join(guest.target.triple())
            .join("guest")
            .join(format!("{}.wasm", guest.lib_name));
        let module =
            std::fs::read(&core).with_context(|| format!("cannot read {}", core.display()))?;
        let adapter = guest.target.needs_adapter();
        let component = componentize(&module, &wit, &guest.name, &guest.world, adapter)?;
        write_component(out, &guest.name, &component, width)?;
    }
    let mut count = guests.len();
    if out == root {
        count += crate::clang::build(root, &metadata, &wit, generated, &out_dir, wanted)?.len()
            + crate::foreign::build(root, &wit, wanted)?.len();
    }
    eprintln!(
        "xtask: {count} component{} ready in {:.1} s",
        if count == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The project's WIT packages with WASI's, as the build loads them.
pub fn load_wit(root: &Path) -> Result<Wit> {
    wit_of(root, &cargo_metadata(root)?)
}

/// The WIT packages under the `wit/` of the project at `root` (whose `cargo
/// metadata` is `metadata`), with WASI's available to them and, in a
/// project other than nanoproc, nanoproc's own packages too, for using the
/// library components nanoproc has.
fn wit_of(root: &Path, metadata: &Value) -> Result<Wit> {
    let mut deps = wasi_wit(metadata)?;
    let nanoproc = crate::nanoproc_root();
    if root != nanoproc {
        deps.push(nanoproc.join("wit"));
    }
    Wit::load(&root.join("wit"), &deps)
}

/// A guest's component and the imports its toolchain added to it.
pub struct Component {
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// The `wasi:` imports beyond its world's, in the component's order.
    pub added: Vec<String>,
    /// What added them, for the build's output: `adapter` (the WASI
    /// preview1 adapter) or a toolchain's name.
    pub added_by: &'static str,
}

/// The imports a toolchain may add to a component beyond its world's.
pub struct Allowance<'a> {
    /// What adds them, as [`Component::added_by`] says it.
    pub by: &'static str,
    /// Whether the toolchain may add the import of this name.
    pub allows: &'a dyn Fn(&str) -> bool,
    /// Said after naming an import it may not add: why not, or the fix.
    pub note: String,
}

/// Encodes the core `module` of the guest `name` as a component of `world`
/// (with the WASI preview1 adapter when `adapter`) and checks that it
/// imports nothing its world does not declare; the adapter may add `wasi:`
/// imports of its own, which are allowed and returned so the build can show
/// them.
pub fn componentize(
    module: &[u8],
    wit: &Wit,
    name: &str,
    world: &str,
    adapter: bool,
) -> Result<Component> {
    let bytes = wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|encoder| {
            if adapter {
                encoder.adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_ADAPTER)
            } else {
                Ok(encoder)
            }
        })
        .and_then(|encoder| encoder.validate(true).encode())
        .with_context(|| format!("cannot make a component of guest `{name}`"))?;
    let allowance = Allowance {
        by: "adapter",
        allows: &|import: &str| adapter && import.starts_with("wasi:"),
        note: if adapter {
            " (the WASI adapter adds only `wasi:` imports)".to_string()
        } else {
            String::new()
        },
    };
    check_imports(bytes, wit, name, world, &allowance)
}

/// Checks that the component `bytes` of the guest `name` imports nothing
/// but what its world `world` declares and what `allowance` lets its
/// toolchain add, and returns it with the added imports.
pub fn check_imports(
    bytes: Vec<u8>,
    wit: &Wit,
    name: &str,
    world: &str,
    allowance: &Allowance<'_>,
) -> Result<Component> {
    let allowed = wit.import_names(wit.world(world)?);
    let interface = nanoproc_linker::ComponentInterface::read(&bytes)
        .with_context(|| format!("the component of guest `{name}` cannot be read"))?;
    let mut added = Vec::new();
    for import in &interface.imports {
        if allowed.contains(&import.name) {
            continue;
        }
        if (allowance.allows)(&import.name) {
            added.push(import.name.clone());
            continue;
        }
        bail!(
            "guest `{name}` imports `{}`, which its world `{world}` does not declare{}",
            import.name,
            allowance.note
        );
    }
    Ok(Component {
        bytes,
        added,
        added_by: allowance.by,
    })
}

/// Writes the component of the guest `name` to [`COMPONENTS_DIR`] (only
/// when its bytes changed) and shows its size and any imports its
/// toolchain added, names padded to `width`.
pub fn write_component(root: &Path, name: &str, component: &Component, width: usize) -> Result<()> {
    let path = root.join(COMPONENTS_DIR).join(format!("{name}.wasm"));
    if std::fs::read(&path).ok().as_deref() != Some(component.bytes.as_slice()) {
        write_atomically(&path, &component.bytes)?;
    }
    eprintln!(
        "xtask:   {name:<width$} {:>10}  {}",
        human_size(component.bytes.len() as u64),
        relative(root, &path).display()
    );
    if !component.added.is_empty() {
        eprintln!(
            "xtask:   {:<width$} {}-added imports: {}",
            "",
            component.added_by,
            component.added.join(", ")
        );
    }
    Ok(())
}

/// The Rust bindings of `world`, as committed in each guest's `src/bindings.rs`.
fn bindings(wit: &Wit, world: wit_parser::WorldId, spec: &str) -> Result<String> {
    let opts = wit_bindgen_rust::Opts {
        format: true,
        // Bindings for imported WASI interfaces are generated here too.
        generate_all: true,
        runtime_path: Some("wit_bindgen::rt".to_string()),
        ..Default::default()
    };
    let mut files = wit_bindgen_core::Files::default();
    let mut resolve = wit.for_bindings(world);
    opts.build().generate(&mut resolve, world, &mut files)?;
    let (_, source) = files
        .iter()
        .next()
        .context("wit-bindgen generated no file")?;
    Ok(format!(
        "// Generated by `cargo xtask build` from the WIT world `{spec}`: do not edit.\n{}",
        String::from_utf8_lossy(source)
    ))
}

/// `cargo metadata` of the workspace at `root`.
pub fn cargo_metadata(root: &Path) -> Result<Value> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(root)
        .output()
        .context("cannot run `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("cannot parse `cargo metadata` output")
}

/// The workspace members under `guests/`, each with the world it names in
/// `[package.metadata.nanoproc]`.
fn find_guests(root: &Path, metadata: &Value) -> Result<Vec<Guest>> {
    let guests_dir = root.join("guests");
    let members = metadata["workspace_members"]
        .as_array()
        .context("`cargo metadata` lists no workspace members")?;
    let mut guests = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        if !members.contains(&package["id"]) {
            continue;
        }
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let Some(dir) = manifest.parent() else {
            continue;
        };
        if dir.parent() != Some(guests_dir.as_path()) {
            continue;
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let package_name = package["name"].as_str().unwrap_or_default().to_string();
        let world = package["metadata"]["nanoproc"]["world"]
            .as_str()
            .with_context(|| {
                format!(
                    "{}: add `[package.metadata.nanoproc] world = \"namespace:package/world\"` \
                     naming the WIT world this guest implements",
                    relative(root, &manifest).display()
                )
            })?
            .to_string();
        let target = match &package["metadata"]["nanoproc"]["target"] {
            Value::Null => Target::Unknown,
            Value::String(triple) => Target::from_triple(triple).with_context(|| {
                format!(
                    "{}: `target = \"{triple}\"` in `[package.metadata.nanoproc]` is not a \
                     guest target; use one of {}",
                    relative(root, &manifest).display(),
                    target_list()
                )
            })?,
            other => bail!(
                "{}: `target` in `[package.metadata.nanoproc]` is `{other}`, not a string; \
                 use one of {}",
                relative(root, &manifest).display(),
                target_list()
            ),
        };
        let lib_name = library_name(package, &["cdylib"]).with_context(|| {
            format!(
                "{}: a guest is built as `[lib] crate-type = [\"cdylib\"]`",
                relative(root, &manifest).display()
            )
        })?;
        guests.push(Guest {
            name,
            package: package_name,
            lib_name,
            dir: dir.to_path_buf(),
            world,
            target,
        });
    }
    if guests.is_empty() {
        bail!("no guest crates found under {}", guests_dir.display());
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(guests)
}

/// The name Rust code uses for the library of the `cargo metadata` package
/// `package` (`-` made `_`), when it has a target of one of `kinds`.
pub fn library_name(package: &Value, kinds: &[&str]) -> Option<String> {
    package["targets"]
        .as_array()?
        .iter()
        .find(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| kinds.iter().any(|kind| k == kind)))
        })
        .and_then(|t| t["name"].as_str())
        .map(|n| n.replace('-', "_"))
}

/// The targets a guest may name, for error messages: `"a"` or `"b"`.
fn target_list() -> String {
    Target::ALL
        .iter()
        .map(|t| format!("`\"{t}\"`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// WASI's WIT packages, 0.2 and 0.3 side by side: those of the project's
/// own `wasmtime-wasi` (in a project that runs its components), else those
/// of nanoproc's host.
fn wasi_wit(metadata: &Value) -> Result<Vec<PathBuf>> {
    wasi_wit_dirs(metadata).or_else(|e| {
        let tools = crate::nanoproc_root();
        wasi_wit_dirs(&cargo_metadata(&tools)?).map_err(|_| e)
    })
}

/// WASI's WIT packages, as shipped inside the crates the host uses:
/// `wasmtime-wasi-http`'s, which hold `wasi:http` beside the rest of WASI,
/// else `wasmtime-wasi`'s. Two directories: WASI 0.2's packages, then WASI
/// 0.3's (`wasi:cli@0.3.0` and the rest, on the async component model);
/// their package names carry their versions, so a world may import both.
fn wasi_wit_dirs(metadata: &Value) -> Result<Vec<PathBuf>> {
    let crate_dir = |name: &str| {
        metadata["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == name)
            .and_then(|p| p["manifest_path"].as_str())
            .and_then(|m| Path::new(m).parent().map(Path::to_path_buf))
    };
    let http = crate_dir("wasmtime-wasi-http");
    let wasi = crate_dir("wasmtime-wasi");
    if http.is_none() && wasi.is_none() {
        bail!(
            "neither `wasmtime-wasi-http` nor `wasmtime-wasi` is in the dependency graph: they ship WASI's WIT"
        );
    }
    let release = |http_dir: &str, wasi_dir: &str| {
        let dirs = [
            http.as_ref().map(|d| d.join(http_dir)),
            wasi.as_ref().map(|d| d.join(wasi_dir)),
        ];
        dirs.iter()
            .flatten()
            .find(|dir| dir.is_dir())
            .cloned()
            .with_context(|| {
                format!(
                    "{} is missing: this version keeps WASI's WIT elsewhere",
                    dirs.iter()
                        .flatten()
                        .next()
                        .map_or(String::new(), |d| d.display().to_string())
                )
            })
    };
    Ok(vec![
        release("wit/deps", "src/p2/wit/deps")?,
        release("src/p3/wit/deps", "src/p3/wit/deps")?,
    ])
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("the guest build failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo metadata` output for one guest crate with `metadata`.
    fn metadata(nanoproc: Value) -> Value {
        serde_json::json!({
            "workspace_members": ["guest"],
            "packages": [{
                "id": "guest",
                "name": "guest-demo",
                "manifest_path": "/project/guests/demo/Cargo.toml",
                "metadata": { "nanoproc": nanoproc },
                "targets": [{ "kind": ["cdylib"], "name": "guest-demo" }],
            }],
        })
    }

    fn guests(nanoproc: Value) -> Result<Vec<Guest>> {
        find_guests(Path::new("/project"), &metadata(nanoproc))
    }

    #[test]
    fn wasi_0_2_and_0_3_are_available_side_by_side() {
        let wit = load_wit(&crate::nanoproc_root()).unwrap();
        let names: Vec<String> = wit
            .resolve
            .package_names
            .keys()
            .map(ToString::to_string)
            .collect();
        for package in [
            "wasi:cli@0.2.12",
            "wasi:io@0.2.12",
            "wasi:cli@0.3.0",
            "wasi:http@0.3.0",
        ] {
            assert!(
                names.iter().any(|n| n == package),
                "{package} missing from {names:?}"
            );
        }
    }

    #[test]
    fn module_names_carry_versions_only_where_a_world_imports_two_releases() {
        let wit = load_wit(&crate::nanoproc_root()).unwrap();
        let modules = |spec: &str| {
            let text = bindings(&wit, wit.world(spec).unwrap(), spec).unwrap();
            let mut names: Vec<String> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("pub mod "))
                .filter_map(|l| l.strip_suffix(" {"))
                .filter(|m| m.starts_with("cli") || m.starts_with("filesystem"))
                .map(str::to_string)
                .collect();
            names.sort();
            names.dedup();
            names
        };
        // WASI 0.2 only, and WASI 0.3 only: plain names.
        assert_eq!(modules("nanoproc:logger/logger"), ["cli"]);
        assert_eq!(modules("nanoproc:lsdir3/lsdir3"), ["cli", "filesystem"]);
        // Both releases of `wasi:cli`: each named with its version.
        assert_eq!(
            modules("nanoproc:lsdir3/lsdir3-mixed"),
            ["cli0_2_12", "cli0_3_0", "filesystem"]
        );
    }

    #[test]
    fn the_target_defaults_to_wasm32_unknown_unknown() {
        let found = guests(serde_json::json!({ "world": "a:b/c" })).unwrap();
        assert_eq!(found[0].target, Target::Unknown);
        assert_eq!(found[0].lib_name, "guest_demo");
    }

    #[test]
    fn a_guest_may_ask_for_wasm32_wasip1() {
        let found =
            guests(serde_json::json!({ "world": "a:b/c", "target": "wasm32-wasip1" })).unwrap();
        assert_eq!(found[0].target, Target::Wasip1);
    }

    #[test]
    fn an_unknown_target_is_a_clear_error() {
        let err = guests(serde_json::json!({ "world": "a:b/c", "target": "wasm32-wasip2" }))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "guests/demo/Cargo.toml: `target = \"wasm32-wasip2\"` in \
             `[package.metadata.nanoproc]` is not a guest target; use one of \
             `\"wasm32-unknown-unknown\"` or `\"wasm32-wasip1\"`"
        );
        let err = guests(serde_json::json!({ "world": "a:b/c", "target": 1 }))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("is `1`, not a string"), "{err}");
    }
}
