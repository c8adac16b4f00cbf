//! The hash component digests exactly as the sha2 crate does natively.

use nanoproc_tests::{component, engine, store};
use sha2::Digest as _;
use wasmtime::component::Linker;

wasmtime::component::bindgen!({
    path: "../wit/hash",
    world: "nanoproc:hash/hash",
});

use exports::nanoproc::hash::digest::Algorithm;

fn instance() -> (wasmtime::Store<()>, Hash) {
    let mut store = store(());
    let hash = Hash::instantiate(&mut store, &component("hash"), &Linker::new(engine())).unwrap();
    (store, hash)
}

fn native(algorithm: Algorithm, data: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Algorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::Sha224,
    Algorithm::Sha256,
    Algorithm::Sha384,
    Algorithm::Sha512,
];

#[test]
fn digests_match_sha2_natively() {
    let (mut store, hash) = instance();
    let digest = hash.nanoproc_hash_digest();
    let megabyte: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31 % 251) as u8).collect();
    for data in [
        &b""[..],
        b"abc",
        include_bytes!("../../README.md"),
        &megabyte,
    ] {
        for algorithm in ALGORITHMS {
            assert_eq!(
                digest.call_hash(&mut store, algorithm, data).unwrap(),
                native(algorithm, data),
                "{algorithm:?} of {} bytes",
                data.len()
            );
        }
    }
}

#[test]
fn hex_matches_the_published_test_vector() {
    let (mut store, hash) = instance();
    let hex = hash
        .nanoproc_hash_digest()
        .call_hash_hex(&mut store, Algorithm::Sha256, b"abc")
        .unwrap();
    assert_eq!(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn incremental_hasher_matches_one_shot_and_starts_again_after_finish() {
    let (mut store, hash) = instance();
    let hasher = hash.nanoproc_hash_digest().hasher();
    let data = include_bytes!("../../README.md");
    for algorithm in ALGORITHMS {
        let handle = hasher.call_constructor(&mut store, algorithm).unwrap();
        for piece in data.chunks(777) {
            hasher.call_update(&mut store, handle, piece).unwrap();
        }
        assert_eq!(
            hasher.call_finish(&mut store, handle).unwrap(),
            native(algorithm, data)
        );
        assert_eq!(
            hasher.call_finish(&mut store, handle).unwrap(),
            native(algorithm, b""),
            "finish starts again empty"
        );
        handle.resource_drop(&mut store).unwrap();
    }
}
