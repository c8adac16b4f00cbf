//! The compiled-artifact cache: a component is compiled once per engine
//! configuration, and later runs load the machine code from disk.
//!
//! An entry is named by the SHA-256 of the component's bytes and a hash of
//! the engine's compatibility settings (wasmtime version, target, compiler
//! flags) and the entry format, so a changed component or a changed engine
//! never finds an old entry. Each entry starts with the CRC-32 of the
//! artifact after it (a checksum against damage, computed at memory speed;
//! against a writer it could not help, which is why the directory must be
//! its owner's alone); an entry whose checksum does not match (truncated,
//! bit-flipped) or that wasmtime refuses is compiled again and replaced,
//! never loaded. Entries are written through a temporary file and renamed,
//! so a crash leaves no half-written entry.
//!
//! The cache directory must be writable by its owner only: wasmtime runs
//! the machine code it loads from there.

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use sha2::{Digest as _, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component came out of the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Loaded from an entry: nothing was compiled.
    Hit,
    /// Not in the cache: compiled and stored.
    Compiled,
    /// An entry was there but not trusted (the reason says why): compiled
    /// again and the entry replaced.
    Rebuilt(String),
}

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir`, created when first written.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The per-user cache: `$XDG_CACHE_HOME/nanoproc`, else
    /// `$HOME/.cache/nanoproc`, else `.nanoproc-cache` here.
    pub fn user() -> Self {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")));
        match base {
            Some(base) => Self::new(base.join("nanoproc")),
            None => Self::new(".nanoproc-cache"),
        }
    }

    /// The directory entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `bytes` compiled by `engine` lives.
    pub fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ENTRY_FORMAT.hash(&mut hasher);
        let component = hex(&Sha256::digest(bytes));
        self.dir
            .join(format!("{component}-{:016x}.cwasm", hasher.finish()))
    }

    /// The component `bytes` compiled for `engine`: loaded from the cache
    /// when a trusted entry exists, compiled (and stored) otherwise.
    ///
    /// # Errors
    ///
    /// When the component does not compile. A cache that cannot be written
    /// is not an error: the compiled component is returned all the same.
    pub fn component(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Outcome)> {
        let path = self.entry_path(engine, bytes);
        let outcome = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Outcome::Compiled,
            Err(e) => Outcome::Rebuilt(format!("cannot read the entry: {e}")),
            Ok(entry) => match load(engine, &entry) {
                Ok(component) => return Ok((component, Outcome::Hit)),
                Err(reason) => Outcome::Rebuilt(reason),
            },
        };
        let artifact = engine
            .precompile_component(bytes)
            .map_err(|e| anyhow::anyhow!("cannot compile the component: {e:?}"))?;
        // SAFETY: `artifact` was produced by this engine a moment ago.
        let component = unsafe { Component::deserialize(engine, &artifact) }
            .map_err(|e| anyhow::anyhow!("cannot load the compiled component: {e:?}"))?;
        // Failing to store only costs the next run a compilation.
        let _ = store(&path, &artifact);
        Ok((component, outcome))
    }
}

/// The layout of an entry: raised when it changes, so that entries of
/// another layout are other entries. 2: a CRC-32 (little-endian) and the
/// artifact.
const ENTRY_FORMAT: u32 = 2;

/// Loads an entry whose checksum holds; the reason when it is not trusted.
fn load(engine: &Engine, entry: &[u8]) -> Result<Component, String> {
    let Some((sum, artifact)) = entry.split_at_checked(4) else {
        return Err("the entry is truncated".to_string());
    };
    if checksum(artifact) != sum {
        return Err("the entry's checksum does not match".to_string());
    }
    // SAFETY: the artifact is byte for byte what this cache stored from
    // `Engine::precompile_component` (the checksum says so), and wasmtime
    // checks that it was compiled by a compatible engine.
    unsafe { Component::deserialize(engine, artifact) }
        .map_err(|e| format!("wasmtime refuses the entry: {e}"))
}

/// Writes an entry through a temporary file in the same directory.
fn store(path: &Path, artifact: &[u8]) -> Result<()> {
    let dir = path.parent().context("an entry has a directory")?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut entry = checksum(artifact).to_vec();
    entry.extend_from_slice(artifact);
    std::fs::write(&tmp, &entry)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(())
}

/// The checksum an entry starts with, of the artifact after it.
pub fn checksum(artifact: &[u8]) -> [u8; 4] {
    crc32fast::hash(artifact).to_le_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
