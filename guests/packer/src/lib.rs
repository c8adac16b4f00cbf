//! The packer: seals data with the lz4 component (liblz4, written in C) and
//! the hash component (sha2, written in Rust), reaching both only through
//! their interfaces.
//!
//! A sealed blob is [`MAGIC`], the data's length (u32, little endian), its
//! SHA-256, then the LZ4 block of the data.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::packer::seal::{Error, Guest};
use bindings::nanoproc::hash::digest::{self, Algorithm};
use bindings::nanoproc::lz4::block;

/// The first bytes of every sealed blob.
const MAGIC: &[u8; 4] = b"NPK1";
/// The length of the header: magic, length, SHA-256.
const HEADER: usize = 4 + 4 + 32;

struct Packer;

impl Guest for Packer {
    fn seal(data: Vec<u8>) -> Result<Vec<u8>, Error> {
        let compressed = block::compress(&data).map_err(from_lz4)?;
        // lz4 refuses more than its limit, which fits in a u32.
        let length = u32::try_from(data.len()).expect("lz4 accepted at most 64 MiB");
        let sha256 = digest::hash(Algorithm::Sha256, &data);
        let mut sealed = Vec::with_capacity(HEADER + compressed.len());
        sealed.extend_from_slice(MAGIC);
        sealed.extend_from_slice(&length.to_le_bytes());
        sealed.extend_from_slice(&sha256);
        sealed.extend_from_slice(&compressed);
        Ok(sealed)
    }

    fn open(sealed: Vec<u8>) -> Result<Vec<u8>, Error> {
        if sealed.len() < HEADER || !sealed.starts_with(MAGIC) {
            return Err(Error::NotSealed);
        }
        let (header, compressed) = sealed.split_at(HEADER);
        let length = u32::from_le_bytes(header[4..8].try_into().expect("four bytes"));
        let data = block::decompress(compressed, length).map_err(from_lz4)?;
        if digest::hash(Algorithm::Sha256, &data) != header[8..] {
            return Err(Error::DigestMismatch);
        }
        Ok(data)
    }
}

/// The packer's error for an error of the lz4 component: a block that
/// decompresses to another length than recorded is as damaged as one that
/// does not decompress at all.
fn from_lz4(error: block::Error) -> Error {
    match error {
        block::Error::TooLarge(limit) => Error::TooLarge(limit),
        block::Error::Corrupt | block::Error::WrongSize(_) => Error::Corrupt,
    }
}

bindings::export!(Packer with_types_in bindings);
