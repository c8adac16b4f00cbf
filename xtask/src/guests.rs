//! Building every guest crate under `guests/` into a component.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use wit_bindgen_core::WorldGenerator as _;

use crate::toolchain::{TARGET, Toolchain};
use crate::wit::Wit;
use crate::{human_size, relative};

/// Where the components are written, relative to the project root.
pub const COMPONENTS_DIR: &str = "target/components";
/// The cargo target directory of the guest build, relative to the project root.
const GUEST_TARGET_DIR: &str = "target/wasm";

/// One component the build produced.
pub struct Built {
    /// The guest's name: its directory under `guests/`.
    pub name: String,
    /// The component file.
    pub component: PathBuf,
}

/// What to do with a generated file that differs from the one on disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// Write the new one.
    Write,
    /// Fail: the committed file is stale.
    Check,
}

/// A guest crate, as `cargo metadata` describes it.
struct Guest {
    name: String,
    package: String,
    lib_name: String,
    dir: PathBuf,
    world: String,
}

/// Generates bindings, builds the guests for wasm and encodes each as a
/// component in [`COMPONENTS_DIR`]. Unchanged outputs are left untouched.
pub fn build(root: &Path, generated: Generated) -> Result<Vec<Built>> {
    let started = Instant::now();
    let metadata = cargo_metadata(root)?;
    let guests = find_guests(root, &metadata)?;
    let wasi_wit = wasi_wit_dir(&metadata)?;
    let wit = Wit::load(&root.join("wit"), &wasi_wit)?;

    let mut stale = Vec::new();
    for guest in &guests {
        let world = wit
            .world(&guest.world)
            .with_context(|| format!("guest `{}` names world `{}`", guest.name, guest.world))?;
        let source = bindings(&wit, world, &guest.world)?;
        let path = guest.dir.join("src/bindings.rs");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(source.as_str()) {
            match generated {
                Generated::Write => {
                    write_atomically(&path, source.as_bytes())?;
                    eprintln!("xtask: regenerated {}", relative(root, &path).display());
                }
                Generated::Check => stale.push(relative(root, &path).display().to_string()),
            }
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated bindings are out of date: {}\nrun `cargo xtask build` and commit the result",
            stale.join(", ")
        );
    }

    let toolchain = Toolchain::find_or_install()?;
    let target_dir = root.join(GUEST_TARGET_DIR);
    let first_build = !target_dir.join(TARGET).exists();
    eprintln!(
        "xtask: building {} guests with {}{}",
        guests.len(),
        toolchain.describe(),
        if first_build && matches!(toolchain, Toolchain::BuildStd) {
            " (the first build also compiles std: 1 to 2 minutes)"
        } else {
            ""
        }
    );
    let mut cmd = toolchain.cargo_build(&target_dir);
    for guest in &guests {
        cmd.args(["--package", &guest.package]);
    }
    run(cmd.current_dir(root))?;

    let out_dir = root.join(COMPONENTS_DIR);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut built = Vec::new();
    for guest in &guests {
        let core = target_dir
            .join(TARGET)
            .join("guest")
            .join(format!("{}.wasm", guest.lib_name));
        let component = componentize(&core, &wit, guest)?;
        let path = out_dir.join(format!("{}.wasm", guest.name));
        if std::fs::read(&path).ok().as_deref() != Some(component.as_slice()) {
            write_atomically(&path, &component)?;
        }
        eprintln!(
            "xtask:   {:<10} {:>10}  {}",
            guest.name,
            human_size(component.len()),
            relative(root, &path).display()
        );
        built.push(Built {
            name: guest.name.clone(),
            component: path,
        });
    }
    eprintln!(
        "xtask: {} components ready in {:.1} s",
        built.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(built)
}

/// Encodes the core module at `core` as a component and checks that it
/// imports nothing its world does not declare.
fn componentize(core: &Path, wit: &Wit, guest: &Guest) -> Result<Vec<u8>> {
    let module = std::fs::read(core).with_context(|| format!("cannot read {}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .with_context(|| format!("cannot make a component of guest `{}`", guest.name))?;

    let world = wit.world(&guest.world)?;
    let allowed = wit.import_names(world);
    let interface = nanoproc_linker::ComponentInterface::read(&component)?;
    for import in &interface.imports {
        if !allowed.contains(&import.name) {
            bail!(
                "guest `{}` imports `{}`, which its world `{}` does not declare",
                guest.name,
                import.name,
                guest.world
            );
        }
    }
    Ok(component)
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
    let mut resolve = wit.resolve.clone();
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

fn cargo_metadata(root: &Path) -> Result<Value> {
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
        let lib_name = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
            })
            .and_then(|t| t["name"].as_str())
            .map(|n| n.replace('-', "_"))
            .with_context(|| {
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
        });
    }
    if guests.is_empty() {
        bail!("no guest crates found under {}", guests_dir.display());
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(guests)
}

/// WASI's WIT packages, as shipped inside the `wasmtime-wasi` crate the host uses.
fn wasi_wit_dir(metadata: &Value) -> Result<PathBuf> {
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "wasmtime-wasi")
        .context("`wasmtime-wasi` is not in the dependency graph: it ships WASI's WIT")?;
    let manifest = Path::new(package["manifest_path"].as_str().unwrap_or_default());
    let dir = manifest
        .parent()
        .map(|d| d.join("src/p2/wit/deps"))
        .context("`wasmtime-wasi` has no manifest path")?;
    if !dir.is_dir() {
        bail!(
            "{} is missing: this version of `wasmtime-wasi` keeps WASI's WIT elsewhere",
            dir.display()
        );
    }
    Ok(dir)
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

/// Writes `bytes` to `path` through a temporary file, so that a failure never
/// leaves a half-written file behind.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
