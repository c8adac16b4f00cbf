//! Building guests written in JavaScript (componentize-js), Python
//! (componentize-py), Zig or AssemblyScript. The first two make components;
//! Zig and AssemblyScript make WASI preview1 core modules, which the linker
//! makes components with the preview1 adapter, as it does any core module
//! a manifest names.
//!
//! Such a guest is a directory `guests/NAME/` without a Cargo crate,
//! declared by a [`GUEST_FILE`] as a C guest is:
//!
//! ```toml
//! world = "nanoproc:semver/semver"  # the WIT world it implements
//! language = "javascript"           # or "python", "zig", "assemblyscript"
//! source = "src/guest.js"           # the module whose exports are the world's
//! wasi = []                         # WASI interfaces the toolchain may add
//! features = []                     # JavaScript only: componentize-js features kept
//! ```
//!
//! A JavaScript guest's npm dependencies are those of its `package.json`,
//! pinned by its `package-lock.json`; a Python guest's PyPI dependencies are
//! those of its `requirements.txt`, pinned with their hashes. Both are
//! installed under `target/wasm/{javascript,python}/NAME/` (never into the
//! guest's directory), with their packages' install scripts off and, for
//! Python, wheels only, so that no third-party code runs on the build
//! machine.
//!
//! The toolchains themselves are installed into the project's
//! `target/toolchains/`, from nanoproc's pinned `xtask/js/package-lock.json`
//! and `xtask/py/requirements.txt`, the first time a guest needs them: each
//! into a temporary folder renamed into place once complete, and stamped
//! with what it was installed from, so that a failed install leaves nothing
//! and a finished one is not repeated.
//!
//! Both toolchains embed a whole language runtime and import the WASI it
//! can use, whatever the guest's code calls. `wasi` lists the WASI
//! interfaces (`wasi:cli/stdout`, any 0.2 version) the component may
//! import beyond its world, which the app's manifest grants or the linker
//! denies with answers. componentize-js leaves out each feature the guest
//! does not list in `features`, so a pure library imports nothing;
//! CPython always imports the WASI it is built with (componentize-py's
//! `--stub-wasi` is not used: its stubs trap where a denial answers). A
//! component that imports anything else is refused, as a Rust or C
//! guest's is.
//!
//! A guest is rebuilt only when its inputs changed: the SHA-256 of its
//! directory's files, the world's WIT, the toolchain's stamp and the build
//! recipe is kept beside the last component built.

mod asc;
mod js;
mod py;
mod zig;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use nanoproc_linker::write_atomically;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::clang::GUEST_FILE;
use crate::guests::{self, Allowance, write_component};
use crate::relative;
use crate::wit::Wit;

/// Where the toolchains are installed, relative to the project root.
const TOOLCHAINS_DIR: &str = "target/toolchains";
/// Where each guest's dependencies, intermediate files and last component
/// go, under a folder per language, relative to the project root.
const WORK_DIR: &str = "target/wasm";
/// The file in an installed folder that says what it was installed from.
const STAMP_FILE: &str = ".nanoproc-stamp";
/// The file beside a guest's last component that holds the hash of its
/// inputs and the imports its toolchain added, written once it passed the
/// import check.
const INPUTS_FILE: &str = "inputs.sha256";

/// The languages a [`GUEST_FILE`] may name.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// C, built by clang (`crate::clang`).
    C,
    /// JavaScript, built by componentize-js.
    JavaScript,
    /// Python, built by componentize-py.
    Python,
    /// Zig, built by the Zig compiler into a core module.
    Zig,
    /// AssemblyScript, built by its compiler into a command core module.
    #[serde(rename = "assemblyscript")]
    AssemblyScript,
}

impl Language {
    /// The name a guest file gives the language.
    fn name(self) -> &'static str {
        match self {
            Self::C => "c",
            Self::JavaScript => "javascript",
            Self::Python => "python",
            Self::Zig => "zig",
            Self::AssemblyScript => "assemblyscript",
        }
    }

    /// The language's name for people.
    fn title(self) -> &'static str {
        match self {
            Self::C => "C",
            Self::JavaScript => "JavaScript",
            Self::Python => "Python",
            Self::Zig => "Zig",
            Self::AssemblyScript => "AssemblyScript",
        }
    }

    /// What adds the imports beyond the guest's world, for the build's
    /// output: the toolchain, or the preview1 adapter the linker gives a
    /// core module.
    fn adds_imports(self) -> &'static str {
        match self {
            Self::JavaScript => "componentize-js",
            Self::Python => "componentize-py",
            Self::C | Self::Zig | Self::AssemblyScript => "adapter",
        }
    }
}

/// The language the guest file at `path` names.
pub fn language(root: &Path, path: &Path) -> Result<Language> {
    #[derive(Deserialize)]
    struct Head {
        language: Language,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let head: Head = toml::from_str(&text)
        .with_context(|| format!("{} is not a guest file", relative(root, path).display()))?;
    Ok(head.language)
}

/// A JavaScript, Python, Zig or AssemblyScript guest's [`GUEST_FILE`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestFile {
    /// The WIT world the guest implements.
    world: String,
    /// Its language.
    language: Language,
    /// The module whose exports are the world's, relative to its directory.
    source: PathBuf,
    /// The WASI interfaces its toolchain may add, without versions.
    #[serde(default)]
    wasi: Vec<String>,
    /// JavaScript only: the componentize-js features it uses.
    #[serde(default)]
    features: Vec<String>,
}

/// A guest written in JavaScript, Python, Zig or AssemblyScript, its paths
/// made absolute.
struct Guest {
    name: String,
    dir: PathBuf,
    /// Its guest file, relative to the project root, for messages.
    declared: PathBuf,
    world: String,
    language: Language,
    source: PathBuf,
    wasi: Vec<String>,
    features: Vec<String>,
}

/// A toolchain, installed.
enum Toolchain {
    JavaScript(js::Toolchain),
    Python(py::Toolchain),
    Zig(zig::Toolchain),
    AssemblyScript(asc::Toolchain),
}

impl Toolchain {
    fn find_or_install(root: &Path, language: Language, guests: &[&Guest]) -> Result<Self> {
        let names: Vec<&str> = guests.iter().map(|g| g.name.as_str()).collect();
        Ok(match language {
            Language::JavaScript => Self::JavaScript(js::Toolchain::find_or_install(root, &names)?),
            Language::Python => Self::Python(py::Toolchain::find_or_install(root, &names)?),
            Language::Zig => Self::Zig(zig::Toolchain::find_or_install(root, &names)?),
            Language::AssemblyScript => {
                Self::AssemblyScript(asc::Toolchain::find_or_install(root, &names)?)
            }
            Language::C => unreachable!("C guests are built by clang"),
        })
    }

    /// Its name and version, such as `componentize-js 0.23.0`.
    fn describe(&self) -> String {
        match self {
            Self::JavaScript(t) => t.describe(),
            Self::Python(t) => t.describe(),
            Self::Zig(t) => t.describe(),
            Self::AssemblyScript(t) => t.describe(),
        }
    }

    /// What it was installed from, as its stamp says.
    fn stamp(&self) -> &str {
        match self {
            Self::JavaScript(t) => &t.stamp,
            Self::Python(t) => &t.stamp,
            Self::Zig(t) => &t.stamp,
            Self::AssemblyScript(t) => &t.stamp,
        }
    }

    /// The build recipe: every option that changes the component, for the
    /// hash of its inputs.
    fn recipe(&self, guest: &Guest) -> Vec<String> {
        match self {
            Self::JavaScript(_) => js::recipe(guest),
            Self::Python(_) => py::recipe(guest),
            Self::Zig(_) => zig::recipe(guest),
            Self::AssemblyScript(_) => asc::recipe(guest),
        }
    }

    /// Installs `guest`'s dependencies when it has any (under `work`, when
    /// they changed) and builds its component (or core module) to `output`.
    fn build(
        &self,
        root: &Path,
        guest: &Guest,
        work: &Path,
        wit: &Path,
        output: &Path,
    ) -> Result<()> {
        match self {
            Self::JavaScript(t) => t.build(root, guest, work, wit, output),
            Self::Python(t) => t.build(root, guest, work, wit, output),
            Self::Zig(t) => t.build(guest, work, wit, output),
            Self::AssemblyScript(t) => t.build(root, guest, work, output),
        }
    }
}

/// Builds the JavaScript, Python, Zig and AssemblyScript guests under
/// `guests/` whose names `wanted` accepts, installing their toolchains when
/// missing, and writes each component (or core module) to
/// [`guests::COMPONENTS_DIR`] when its bytes changed.
/// Returns the names of the guests it built, in name order.
pub fn build(root: &Path, wit: &Wit, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<String>> {
    let guests: Vec<Guest> = find_guests(root)?
        .into_iter()
        .filter(|g| wanted(&g.name))
        .collect();
    let width = guests.iter().map(|g| g.name.len()).max().unwrap_or(0);
    let mut built = Vec::new();
    for language in [
        Language::JavaScript,
        Language::Python,
        Language::Zig,
        Language::AssemblyScript,
    ] {
        let members: Vec<&Guest> = guests.iter().filter(|g| g.language == language).collect();
        if members.is_empty() {
            continue;
        }
        for guest in &members {
            wit.world(&guest.world).with_context(|| {
                format!(
                    "{}: guest `{}` names the world `{}`, which no package in wit/ has",
                    guest.declared.display(),
                    guest.name,
                    guest.world
                )
            })?;
        }
        let toolchain = Toolchain::find_or_install(root, language, &members)?;
        eprintln!(
            "xtask: building {} {} guest{} with {}",
            members.len(),
            language.title(),
            if members.len() == 1 { "" } else { "s" },
            toolchain.describe()
        );
        for guest in members {
            build_guest(root, wit, &toolchain, guest, width)?;
            built.push(guest.name.clone());
        }
    }
    built.sort();
    Ok(built)
}

/// Builds one guest and checks its imports (or takes its last component
/// when its inputs are the same) and writes it.
fn build_guest(
    root: &Path,
    wit: &Wit,
    toolchain: &Toolchain,
    guest: &Guest,
    width: usize,
) -> Result<()> {
    let work = root
        .join(WORK_DIR)
        .join(guest.language.name())
        .join(&guest.name);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let world_wit = world_wit(wit, &guest.world)?;
    let inputs = inputs_hash(guest, &world_wit, toolchain)?;
    let output = work.join(format!("{}.wasm", guest.name));
    let inputs_file = work.join(INPUTS_FILE);
    let added_by = guest.language.adds_imports();
    // The inputs file holds the hash, then the imports the toolchain added,
    // one a line; it is written only once the component passed the check,
    // so that same inputs need neither a build nor a check.
    if let (Ok(recorded), Ok(bytes)) = (
        std::fs::read_to_string(&inputs_file),
        std::fs::read(&output),
    ) {
        let mut lines = recorded.lines();
        if lines.next() == Some(inputs.as_str()) {
            let component = guests::Component {
                bytes,
                added: lines.map(str::to_string).collect(),
                added_by,
            };
            return write_component(root, &guest.name, &component, width);
        }
    }

    let _ = std::fs::remove_file(&inputs_file);
    let wit_dir = work.join("wit");
    let _ = std::fs::remove_dir_all(&wit_dir);
    std::fs::create_dir_all(&wit_dir)
        .with_context(|| format!("cannot create {}", wit_dir.display()))?;
    std::fs::write(wit_dir.join("world.wit"), &world_wit)
        .with_context(|| format!("cannot write into {}", wit_dir.display()))?;
    let started = Instant::now();
    let partial = output.with_extension("wasm.tmp");
    let _ = std::fs::remove_file(&partial);
    toolchain.build(root, guest, &work, &wit_dir, &partial)?;
    std::fs::rename(&partial, &output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!(
        "xtask:   {:<width$} built in {:.1} s",
        guest.name,
        started.elapsed().as_secs_f64()
    );
    let bytes =
        std::fs::read(&output).with_context(|| format!("cannot read {}", output.display()))?;
    let listed = |import: &str| {
        let base = import.split('@').next().unwrap_or(import);
        guest.wasi.iter().any(|w| w == base)
    };
    let allowance = Allowance {
        by: added_by,
        allows: &listed,
        note: format!(
            " nor {}'s `wasi` list (its toolchain added it: list it there if the \
             guest's code uses it)",
            guest.declared.display()
        ),
    };
    let component = guests::check_imports(bytes, wit, &guest.name, &guest.world, &allowance)?;
    let mut recorded = inputs;
    for import in &component.added {
        recorded.push('\n');
        recorded.push_str(import);
    }
    write_atomically(&inputs_file, recorded.as_bytes())?;
    write_component(root, &guest.name, &component, width)
}

/// The directories under `guests/` with a [`GUEST_FILE`] naming JavaScript
/// another language than C, in name order.
fn find_guests(root: &Path) -> Result<Vec<Guest>> {
    let guests_dir = root.join("guests");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&guests_dir)
        .with_context(|| format!("cannot read {}", guests_dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    dirs.retain(|dir| dir.join(GUEST_FILE).is_file());
    dirs.sort();
    let mut guests = Vec::new();
    for dir in dirs {
        let path = dir.join(GUEST_FILE);
        if language(root, &path)? == Language::C {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: GuestFile = toml::from_str(&text)
            .with_context(|| format!("{} is not a guest file", relative(root, &path).display()))?;
        guests.push(guest(root, &dir, file)?);
    }
    Ok(guests)
}

/// The guest in `dir` that `file` declares.
fn guest(root: &Path, dir: &Path, file: GuestFile) -> Result<Guest> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let declared = relative(root, dir).join(GUEST_FILE);
    let source = dir.join(&file.source);
    if !source.is_file() {
        bail!(
            "{}: source {} does not exist",
            declared.display(),
            relative(root, &source).display()
        );
    }
    for wasi in &file.wasi {
        let valid = wasi
            .strip_prefix("wasi:")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(package, interface)| {
                !package.is_empty() && !interface.is_empty() && !wasi.contains('@')
            });
        if !valid {
            bail!(
                "{}: `wasi` lists `{wasi}`, which is not a WASI interface without its \
                 version, such as `wasi:cli/stdout`",
                declared.display()
            );
        }
    }
    match file.language {
        Language::JavaScript => js::check_features(&declared, &file.features)?,
        _ if !file.features.is_empty() => bail!(
            "{}: `features` is for JavaScript guests (componentize-js features)",
            declared.display()
        ),
        _ => {}
    }
    Ok(Guest {
        name,
        dir: dir.to_path_buf(),
        declared,
        world: file.world,
        language: file.language,
        source,
        wasi: file.wasi,
        features: file.features,
    })
}

/// The WIT of `spec`'s package as one file: that package, then every
/// package it uses, nested.
fn world_wit(wit: &Wit, spec: &str) -> Result<String> {
    let resolve = &wit.resolve;
    let world = wit.world(spec)?;
    let main = resolve.worlds[world]
        .package
        .context("the world belongs to no package")?;
    let mut used = vec![main];
    let mut next = 0;
    while next < used.len() {
        for dep in resolve.package_direct_deps(used[next]) {
            if !used.contains(&dep) {
                used.push(dep);
            }
        }
        next += 1;
    }
    // Dependencies before the packages that use them.
    let nested: Vec<_> = resolve
        .topological_packages()
        .into_iter()
        .filter(|p| *p != main && used.contains(p))
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(resolve, main, &nested)?;
    Ok(printer.output.to_string())
}

/// The SHA-256 of everything a guest's component is made from, in hexadecimal.
fn inputs_hash(guest: &Guest, world_wit: &str, toolchain: &Toolchain) -> Result<String> {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(toolchain.stamp().as_bytes());
    for part in toolchain.recipe(guest) {
        field(part.as_bytes());
    }
    field(world_wit.as_bytes());
    for (path, bytes) in files_under(&guest.dir)? {
        field(path.as_bytes());
        field(&bytes);
    }
    Ok(hex(&hash.finalize()))
}

/// Every file under `dir` (but Python's byte-code caches), as its path
/// relative to `dir` and its bytes, in path order.
fn files_under(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in
            std::fs::read_dir(&at).with_context(|| format!("cannot read {}", at.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "__pycache__" && n != "node_modules")
                {
                    pending.push(path);
                }
            } else {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                files.push((relative(dir, &path).to_string_lossy().into_owned(), bytes));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `bytes` in lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `parts`, each length-prefixed, in hexadecimal: a stamp.
fn stamp_of(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hex(&hash.finalize())
}

/// Makes sure `dir` holds what `stamp` describes: when its stamp differs
/// (or it is missing), `fill` fills a fresh temporary folder beside it,
/// which is stamped and renamed to `dir` once complete, replacing the old
/// one. Says what it installs (`what`) and how long it took. A failed
/// install leaves nothing behind; another process that installed the same
/// stamp first wins.
fn install(
    root: &Path,
    dir: &Path,
    stamp: &str,
    what: &str,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let stamp_path = dir.join(STAMP_FILE);
    if std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    let parent = dir.parent().context("an install folder has a parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    eprintln!(
        "xtask: installing {what} into {}",
        relative(root, dir).display()
    );
    let started = Instant::now();
    let filled = fill(&partial)
        .and_then(|()| {
            std::fs::write(partial.join(STAMP_FILE), stamp)
                .with_context(|| format!("cannot write into {}", partial.display()))
        })
        .and_then(|()| {
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            if dir.exists() {
                std::fs::rename(dir, &old)
                    .with_context(|| format!("cannot move {} aside", dir.display()))?;
            }
            let renamed = std::fs::rename(&partial, dir);
            let _ = std::fs::remove_dir_all(&old);
            match renamed {
                Ok(()) => Ok(()),
                // Another build installed it meanwhile.
                Err(_) if std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) => Ok(()),
                Err(e) => Err(e).with_context(|| format!("cannot create {}", dir.display())),
            }
        });
    let _ = std::fs::remove_dir_all(&partial);
    filled.with_context(|| format!("installing {what} failed; nothing was left installed"))?;
    eprintln!(
        "xtask: installed {what} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `cmd`, failing with `what` and the command's own output when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", cmd.get_program().to_string_lossy()))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The first line `program --version` prints, if it runs.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| {
        let text = if out.stdout.is_empty() {
            &out.stderr
        } else {
            &out.stdout
        };
        String::from_utf8_lossy(text)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    })
}

/// Copies the files of `from` into `to` (created), folders included, but
/// Python's byte-code caches and npm's `node_modules`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for (path, bytes) in files_under(from)? {
        let dest = to.join(path);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&dest, bytes).with_context(|| format!("cannot write {}", dest.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<GuestFile> {
        Ok(toml::from_str(text)?)
    }

    /// A guest directory under a scratch project, with a source file.
    fn scratch(name: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("nanoproc-xtask-foreign-{name}"));
        let dir = root.join("guests").join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/guest.js"), "").unwrap();
        (root, dir)
    }

    #[test]
    fn a_guest_file_with_an_unknown_key_or_language_is_refused() {
        let err = file("world = \"a:b/c\"\nlanguage = \"javascript\"\nsource = \"x\"\nflags = 1\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown field `flags`"), "{err}");
        let err = file("world = \"a:b/c\"\nlanguage = \"ruby\"\nsource = \"x\"\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("unknown variant `ruby`, expected one of `c`, `javascript`, `python`"),
            "{err}"
        );
    }

    #[test]
    fn wasi_lists_interfaces_without_versions() {
        let (root, dir) = scratch("wasi");
        for bad in [
            "wasi:cli/stdout@0.2.6",
            "cli/stdout",
            "wasi:cli",
            "nanoproc:x/y",
        ] {
            let text = format!(
                "world = \"a:b/c\"\nlanguage = \"javascript\"\nsource = \"src/guest.js\"\nwasi = [\"{bad}\"]\n"
            );
            let err = guest(&root, &dir, file(&text).unwrap())
                .err()
                .unwrap()
                .to_string();
            assert_eq!(
                err,
                format!(
                    "guests/wasi/guest.toml: `wasi` lists `{bad}`, which is not a WASI \
                     interface without its version, such as `wasi:cli/stdout`"
                )
            );
        }
        let text = "world = \"a:b/c\"\nlanguage = \"javascript\"\nsource = \"src/guest.js\"\n\
                    wasi = [\"wasi:cli/stdout\"]\nfeatures = [\"stdio\"]\n";
        let found = guest(&root, &dir, file(text).unwrap()).unwrap();
        assert_eq!(found.wasi, ["wasi:cli/stdout"]);
    }

    #[test]
    fn unknown_features_and_missing_sources_are_named() {
        let (root, dir) = scratch("features");
        let text = "world = \"a:b/c\"\nlanguage = \"javascript\"\nsource = \"src/guest.js\"\n\
                    features = [\"fs\"]\n";
        let err = guest(&root, &dir, file(text).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "guests/features/guest.toml: `features` lists `fs`, which componentize-js does \
             not have; it has `stdio`, `random`, `clocks`, `http`, `fetch-event`"
        );
        let text = "world = \"a:b/c\"\nlanguage = \"python\"\nsource = \"src/guest.js\"\n\
                    features = [\"stdio\"]\n";
        let err = guest(&root, &dir, file(text).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "guests/features/guest.toml: `features` is for JavaScript guests (componentize-js features)"
        );
        let text = "world = \"a:b/c\"\nlanguage = \"python\"\nsource = \"src/app.py\"\n";
        let err = guest(&root, &dir, file(text).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "guests/features/guest.toml: source guests/features/src/app.py does not exist"
        );
    }

    #[test]
    fn a_failed_install_leaves_nothing_and_a_finished_one_is_not_repeated() {
        let root = std::env::temp_dir().join("nanoproc-xtask-foreign-install");
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("target/toolchains/demo");
        let err = install(&root, &dir, "one", "demo 1", |at| {
            std::fs::write(at.join("half"), "")?;
            bail!("the registry said no")
        })
        .err()
        .unwrap();
        assert_eq!(
            format!("{err:#}"),
            "installing demo 1 failed; nothing was left installed: the registry said no"
        );
        let left: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");

        install(&root, &dir, "one", "demo 1", |at| {
            Ok(std::fs::write(at.join("tool"), "1")?)
        })
        .unwrap();
        install(&root, &dir, "one", "demo 1", |_| bail!("installed again")).unwrap();
        // Another stamp replaces the folder whole.
        install(&root, &dir, "two", "demo 2", |at| {
            Ok(std::fs::write(at.join("tool2"), "2")?)
        })
        .unwrap();
        assert!(!dir.join("tool").exists());
        assert_eq!(std::fs::read_to_string(dir.join("tool2")).unwrap(), "2");
        assert_eq!(
            std::fs::read_to_string(dir.join(STAMP_FILE)).unwrap(),
            "two"
        );
    }

    #[test]
    fn stamps_keep_their_parts_apart() {
        assert_ne!(stamp_of(&[b"ab", b"c"]), stamp_of(&[b"a", b"bc"]));
        assert_eq!(stamp_of(&[b"x"]).len(), 64);
    }
}
