//! The compress component: flate2 (on miniz_oxide) behind `nanoproc:compress/gzip`.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::io::{Read as _, Write as _};

use bindings::exports::nanoproc::compress::gzip::{DecompressError, Guest};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

struct Compress;

impl Guest for Compress {
    fn compress(data: Vec<u8>, level: u8) -> Vec<u8> {
        let level = Compression::new(u32::from(level.min(9)));
        let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), level);
        encoder
            .write_all(&data)
            .expect("compressing into memory cannot fail");
        encoder
            .finish()
            .expect("compressing into memory cannot fail")
    }

    fn decompress(data: Vec<u8>, limit: u64) -> Result<Vec<u8>, DecompressError> {
        let mut out = Vec::new();
        MultiGzDecoder::new(data.as_slice())
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
        if out.len() as u64 > limit {
            return Err(DecompressError::TooLarge(limit));
        }
        Ok(out)
    }
}

bindings::export!(Compress with_types_in bindings);
