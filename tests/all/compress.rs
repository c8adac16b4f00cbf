//! The compress component produces and reads gzip exactly as flate2 does natively.

use std::io::{Read as _, Write as _};

use nanoproc_tests::{component, engine, store};
use wasmtime::component::Linker;

wasmtime::component::bindgen!({
    path: "../wit/compress",
    world: "nanoproc:compress/compress",
    additional_derives: [PartialEq, Eq],
});

use exports::nanoproc::compress::gzip::DecompressError;

fn instance() -> (wasmtime::Store<()>, Compress) {
    let mut store = store(());
    let compress =
        Compress::instantiate(&mut store, &component("compress"), &Linker::new(engine())).unwrap();
    (store, compress)
}

fn native_compress(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn native_decompress_error(data: &[u8]) -> String {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap_err()
        .to_string()
}

/// Bytes that look like real data: text, structure and some noise.
fn sample(len: usize) -> Vec<u8> {
    let text = include_bytes!("../../README.md");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 64 < 48 {
                text[i % text.len()]
            } else {
                state as u8
            }
        })
        .collect()
}

#[test]
fn compresses_byte_for_byte_like_flate2() {
    let (mut store, compress) = instance();
    let gzip = compress.nanoproc_compress_gzip();
    for data in [Vec::new(), b"a".to_vec(), sample(100_000), vec![0; 1 << 20]] {
        for level in [0u8, 1, 6, 9] {
            let compressed = gzip.call_compress(&mut store, &data, level).unwrap();
            assert_eq!(
                compressed,
                native_compress(&data, u32::from(level)),
                "{} bytes at level {level}",
                data.len()
            );
            let limit = data.len() as u64;
            assert_eq!(
                gzip.call_decompress(&mut store, &compressed, limit)
                    .unwrap(),
                Ok(data.clone())
            );
        }
    }
}

#[test]
fn levels_above_nine_compress_as_nine() {
    let (mut store, compress) = instance();
    let gzip = compress.nanoproc_compress_gzip();
    let data = sample(10_000);
    let at_255 = gzip.call_compress(&mut store, &data, 255).unwrap();
    assert_eq!(at_255, native_compress(&data, 9));
}

#[test]
fn reads_streams_flate2_wrote_including_several_members() {
    let (mut store, compress) = instance();
    let gzip = compress.nanoproc_compress_gzip();
    let mut two_members = native_compress(b"first, ", 6);
    two_members.extend(native_compress(b"second", 1));
    assert_eq!(
        gzip.call_decompress(&mut store, &two_members, 100).unwrap(),
        Ok(b"first, second".to_vec())
    );
}

#[test]
fn corrupt_streams_are_errors_not_traps() {
    let (mut store, compress) = instance();
    let gzip = compress.nanoproc_compress_gzip();
    let good = native_compress(&sample(10_000), 6);
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    let mut bad_checksum = good.clone();
    let crc = bad_checksum.len() - 8;
    bad_checksum[crc] ^= 1;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not gzip", b"plain text, not gzip".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("bit-flipped", flipped),
        ("bad checksum", bad_checksum),
        ("header only", good[..10].to_vec()),
    ];
    for (what, data) in cases {
        let result = gzip.call_decompress(&mut store, &data, u64::MAX).unwrap();
        match &result {
            // An empty input is no gzip member at all; flate2 reads it as nothing.
            Ok(out) if what == "empty" => assert!(out.is_empty()),
            Err(DecompressError::Corrupt(message)) => {
                assert_eq!(message, &native_decompress_error(&data), "{what}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn output_over_the_limit_is_refused() {
    let (mut store, compress) = instance();
    let gzip = compress.nanoproc_compress_gzip();
    // A small bomb: 16 MiB of zeros in about 16 KiB.
    let bomb = native_compress(&vec![0; 16 << 20], 9);
    assert!(bomb.len() < 20_000);
    assert_eq!(
        gzip.call_decompress(&mut store, &bomb, 1 << 20).unwrap(),
        Err(DecompressError::TooLarge(1 << 20))
    );
    assert_eq!(
        gzip.call_decompress(&mut store, &bomb, 16 << 20)
            .unwrap()
            .map(|out| out.len()),
        Ok(16 << 20)
    );
}
