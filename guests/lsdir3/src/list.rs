//! The listing itself, on WASI 0.3.0's filesystem and standard streams;
//! shared by `lsdir3` and `lsdir3-mixed`, which differ only in the WASI
//! release their arguments come from.

use sha2::{Digest as _, Sha256};
use wit_bindgen::{StreamReader, StreamResult, StreamWriter};

use crate::bindings::wit_stream;
use crate::wasi3::cli::{stderr, stdout};
use crate::wasi3::filesystem::preopens;
use crate::wasi3::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// How many bytes of a file are read at a time.
const CHUNK: usize = 64 * 1024;

/// Lists the first preopened directory, or `path` inside it, on stdout;
/// a failure is told on stderr.
pub async fn run(path: Option<String>) -> Result<(), ()> {
    let (mut out, out_reader) = wit_stream::new::<u8>();
    let written = stdout::write_via_stream(out_reader);
    let listed = list(path, &mut out).await;
    drop(out);
    let flushed = written.await;
    match listed {
        Ok(()) => flushed.map_err(|_| ()),
        Err(message) => {
            let (mut err, err_reader) = wit_stream::new::<u8>();
            let written = stderr::write_via_stream(err_reader);
            err.write_all(format!("lsdir3: {message}\n").into_bytes())
                .await;
            drop(err);
            let _ = written.await;
            Err(())
        }
    }
}

/// Writes the listing's lines to `out`, or says what failed.
async fn list(path: Option<String>, out: &mut StreamWriter<u8>) -> Result<(), String> {
    let mut preopens = preopens::get_directories();
    if preopens.is_empty() {
        return Err("no directory was granted".to_string());
    }
    let (root, root_name) = preopens.swap_remove(0);
    let dir = match &path {
        None => root,
        Some(path) => root
            .open_at(
                PathFlags::empty(),
                path.clone(),
                OpenFlags::DIRECTORY,
                DescriptorFlags::READ,
            )
            .await
            .map_err(|e| format!("cannot open `{path}` in `{root_name}`: {}", describe(&e)))?,
    };
    let shown = path.as_deref().unwrap_or(&root_name);

    let (entries, done) = dir.read_directory();
    let mut entries = entries.collect().await;
    done.await
        .map_err(|e| format!("cannot read `{shown}`: {}", describe(&e)))?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));

    for entry in entries {
        let line = match entry.type_ {
            DescriptorType::RegularFile => {
                let (size, digest) = digest(&dir, &entry.name)
                    .await
                    .map_err(|e| format!("cannot read `{}`: {}", entry.name, describe(&e)))?;
                format!("{}\t{size}\t{digest}\n", entry.name)
            }
            DescriptorType::Directory => format!("{}/\tdir\n", entry.name),
            other => format!("{}\t{}\n", entry.name, type_name(&other)),
        };
        if !out.write_all(line.into_bytes()).await.is_empty() {
            return Err("stdout was closed".to_string());
        }
    }
    Ok(())
}

/// The length of the file `name` in `dir` and the SHA-256 of its contents
/// in lowercase hexadecimal, read through a stream a chunk at a time.
async fn digest(dir: &Descriptor, name: &str) -> Result<(u64, String), ErrorCode> {
    let file = dir
        .open_at(
            PathFlags::empty(),
            name.to_string(),
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .await?;
    let (mut data, done): (StreamReader<u8>, _) = file.read_via_stream(0);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = Vec::with_capacity(CHUNK);
    loop {
        buffer.clear();
        let (status, chunk) = data.read(buffer).await;
        buffer = chunk;
        hasher.update(&buffer);
        size += buffer.len() as u64;
        if !matches!(status, StreamResult::Complete(_)) {
            break;
        }
    }
    drop(data);
    done.await?;
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((size, hex))
}

/// A descriptor type as the listing names it.
fn type_name(ty: &DescriptorType) -> String {
    match ty {
        DescriptorType::BlockDevice => "block-device".into(),
        DescriptorType::CharacterDevice => "character-device".into(),
        DescriptorType::Directory => "dir".into(),
        DescriptorType::Fifo => "fifo".into(),
        DescriptorType::SymbolicLink => "symlink".into(),
        DescriptorType::RegularFile => "file".into(),
        DescriptorType::Socket => "socket".into(),
        DescriptorType::Other(None) => "other".into(),
        DescriptorType::Other(Some(name)) => format!("other ({name})"),
    }
}

/// An error code as WASI's WIT spells it (`no-entry`, `access`, ...).
fn describe(code: &ErrorCode) -> String {
    let debug = format!("{code:?}");
    let case = debug.strip_prefix("ErrorCode::").unwrap_or(&debug);
    let mut name = String::new();
    for (i, c) in case.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                name.push('-');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}
