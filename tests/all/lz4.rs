//! A component from another toolchain: the lz4 component is liblz4 (C),
//! built with clang's wasm32 target and wasi-libc. It reads and writes LZ4
//! blocks exactly as lz4_flex does natively, refuses bad input with typed
//! errors, and composes with Rust components: the packer app seals data
//! through it and the hash component.

use nanoproc_host::Options;
use nanoproc_linker::{Audit, ComponentInterface};
use nanoproc_tests::{component, component_bytes, compose_manifest, engine, runtime, store};
use sha2::Digest as _;
use wasmparser::{KnownCustom, Name, Parser, Payload};
use wasmtime::component::{ComponentType, Lift, Linker, Lower};

wasmtime::component::bindgen!({
    path: "../wit/lz4",
    world: "nanoproc:lz4/lz4",
    additional_derives: [PartialEq, Eq],
});

use exports::nanoproc::lz4::block::Error;

/// The limit the lz4 component documents: 64 MiB, both ways.
const MAX_SIZE: u32 = 64 << 20;

/// The packer app's manifest.
const PACKER_APP: &str = "tests/apps/packer/nanoproc.toml";

fn instance() -> (wasmtime::Store<()>, Lz4) {
    let mut store = store(());
    let lz4 = Lz4::instantiate(&mut store, &component("lz4"), &Linker::new(engine())).unwrap();
    (store, lz4)
}

/// `len` bytes that LZ4 cannot shrink (xorshift).
fn random(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Text of about 30 KiB that compresses as prose does, the same in every run.
fn text() -> Vec<u8> {
    (0..400)
        .map(|i| {
            format!("{i}: a nanoprocess holds one dependency, its own memory and only its grants\n")
        })
        .collect::<String>()
        .into_bytes()
}

/// The inputs each round trip takes: name and bytes.
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let text = text();
    let repetitive = b"nanoproc ".iter().copied().cycle().take(1 << 20).collect();
    vec![
        ("empty", Vec::new()),
        ("one byte", b"a".to_vec()),
        ("text", text),
        ("1 MiB random", random(1 << 20)),
        ("1 MiB repetitive", repetitive),
        ("1 MiB zeros", vec![0; 1 << 20]),
    ]
}

#[test]
fn lz4_imports_nothing_and_exports_only_its_block_interface() {
    let interface = ComponentInterface::read(&component_bytes("lz4")).unwrap();
    assert!(interface.imports.is_empty(), "{:?}", interface.imports);
    let exports: Vec<&str> = interface.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exports, ["nanoproc:lz4/block@0.1.0"]);
}

#[test]
fn lz4_is_liblz4_and_wasi_libc_linked_by_clang_into_a_module_that_imports_nothing() {
    let bytes = component_bytes("lz4");
    let mut modules = 0;
    let mut core_imports = Vec::new();
    let mut functions = Vec::new();
    let mut processors = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload.unwrap();
        if let Payload::ModuleSection { .. } = payload {
            modules += 1;
        }
        // The guest's own module comes first; wit-component's shims, if any, after it.
        if modules != 1 {
            continue;
        }
        match payload {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import.unwrap();
                    core_imports.push(format!("{}::{}", import.module, import.name));
                }
            }
            Payload::CustomSection(section) => match section.as_known() {
                KnownCustom::Name(names) => {
                    for name in names {
                        if let Name::Function(map) = name.unwrap() {
                            for naming in map {
                                functions.push(naming.unwrap().name.to_string());
                            }
                        }
                    }
                }
                KnownCustom::Producers(fields) => {
                    for field in fields {
                        let field = field.unwrap();
                        for value in field.values {
                            processors.push(format!("{} {}", field.name, value.unwrap().name));
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    assert!(
        core_imports.is_empty(),
        "the C module imports {core_imports:?}"
    );
    // liblz4's functions, the C wrapper's, and wasi-libc's allocator.
    for function in [
        "LZ4_compress_default",
        "LZ4_decompress_safe",
        "exports_nanoproc_lz4_block_compress",
        "exports_nanoproc_lz4_block_decompress",
        "malloc",
        "dlmalloc",
    ] {
        assert!(
            functions.iter().any(|f| f == function),
            "no `{function}` in {functions:?}"
        );
    }
    assert!(
        processors
            .iter()
            .any(|p| p.starts_with("processed-by ") && p.contains("clang")),
        "{processors:?}"
    );
}

#[test]
fn round_trips_empty_text_random_and_repetitive_data() {
    let (mut store, lz4) = instance();
    let block = lz4.nanoproc_lz4_block();
    for (what, data) in inputs() {
        let compressed = block.call_compress(&mut store, &data).unwrap().unwrap();
        let size = u32::try_from(data.len()).unwrap();
        assert_eq!(
            block
                .call_decompress(&mut store, &compressed, size)
                .unwrap(),
            Ok(data.clone()),
            "{what}"
        );
        // LZ4's bound on the worst case; repetitive data shrinks a lot.
        assert!(
            compressed.len() <= data.len() + data.len() / 255 + 16,
            "{what}"
        );
        if what.contains("repetitive") || what.contains("zeros") {
            assert!(compressed.len() < data.len() / 100, "{what}");
        }
    }
}

#[test]
fn blocks_the_guest_writes_decompress_natively_with_lz4_flex() {
    let (mut store, lz4) = instance();
    let block = lz4.nanoproc_lz4_block();
    for (what, data) in inputs() {
        let compressed = block.call_compress(&mut store, &data).unwrap().unwrap();
        assert_eq!(
            lz4_flex::block::decompress(&compressed, data.len()).unwrap(),
            data,
            "{what}"
        );
    }
}

#[test]
fn blocks_lz4_flex_writes_decompress_in_the_guest() {
    let (mut store, lz4) = instance();
    let block = lz4.nanoproc_lz4_block();
    for (what, data) in inputs() {
        let compressed = lz4_flex::block::compress(&data);
        let size = u32::try_from(data.len()).unwrap();
        assert_eq!(
            block
                .call_decompress(&mut store, &compressed, size)
                .unwrap(),
            Ok(data),
            "{what}"
        );
    }
}

#[test]
fn corrupt_blocks_are_errors_not_traps() {
    let (mut store, lz4) = instance();
    let block = lz4.nanoproc_lz4_block();
    let text = &text()[..];
    let good = block.call_compress(&mut store, text).unwrap().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("a literal promised, none there", vec![0x10]),
        // One literal, then a match 5 bytes back: before the start of the output.
        (
            "match before the start",
            vec![0x11, b'a', 5, 0, 0x50, 1, 2, 3, 4, 5],
        ),
        ("garbage", random(1000)),
        ("cut short", good[..good.len() / 2].to_vec()),
    ];
    let size = u32::try_from(text.len()).unwrap();
    for (what, data) in cases {
        assert_eq!(
            block.call_decompress(&mut store, &data, size).unwrap(),
            Err(Error::Corrupt),
            "{what}"
        );
        // A block cut at the end of a sequence is a valid, shorter block.
        assert!(
            !lz4_flex::block::decompress(&data, text.len()).is_ok_and(|out| out == text),
            "lz4_flex gives back the text from the {what} block"
        );
    }
    // The instance is still sound after all that.
    assert_eq!(
        block.call_decompress(&mut store, &good, size).unwrap(),
        Ok(text.to_vec())
    );
}

#[test]
fn a_size_too_small_is_corrupt_and_a_size_too_large_gives_the_real_one() {
    let (mut store, lz4) = instance();
    let block = lz4.nanoproc_lz4_block();
    let text = &text()[..];
    let len = u32::try_from(text.len()).unwrap();
    let compressed = block.call_compress(&mut store, text).unwrap().unwrap();
    for (size, expected) in [
        (0, Err(Error::Corrupt)),
        (len - 1, Err(Error::Corrupt)),
        (len + 1, Err(Error::WrongSize(len))),
        (MAX_SIZE, Err(Error::WrongSize(len))),
        (MAX_SIZE + 1, Err(Error::TooLarge(MAX_SIZE))),
        (u32::MAX, Err(Error::TooLarge(MAX_SIZE))),
        (len, Ok(text.to_vec())),
    ] {
        assert_eq!(
            block
                .call_decompress(&mut store, &compressed, size)
                .unwrap(),
            expected,
            "size {size}"
        );
    }
    // The empty block decompresses to nothing only when nothing is expected.
    let empty = block.call_compress(&mut store, &[]).unwrap().unwrap();
    assert_eq!(
        block.call_decompress(&mut store, &empty, 0).unwrap(),
        Ok(Vec::new())
    );
    assert_eq!(
        block.call_decompress(&mut store, &empty, 1).unwrap(),
        Err(Error::WrongSize(0))
    );
}

#[test]
fn data_over_64_mib_is_refused_and_64_mib_round_trips() {
    let (mut store, lz4) = instance();
    let block = lz4.nanoproc_lz4_block();
    let mut data = vec![7; MAX_SIZE as usize + 1];
    assert_eq!(
        block.call_compress(&mut store, &data).unwrap(),
        Err(Error::TooLarge(MAX_SIZE))
    );
    data.pop();
    let compressed = block.call_compress(&mut store, &data).unwrap().unwrap();
    assert_eq!(
        block
            .call_decompress(&mut store, &compressed, MAX_SIZE)
            .unwrap(),
        Ok(data)
    );
}

/// The packer's error, as `nanoproc:packer/seal` defines it.
#[derive(ComponentType, Lift, Lower, Debug, PartialEq, Eq)]
#[component(variant)]
enum SealError {
    #[component(name = "too-large")]
    TooLarge(u32),
    #[component(name = "not-sealed")]
    NotSealed,
    #[component(name = "corrupt")]
    Corrupt,
    #[component(name = "digest-mismatch")]
    DigestMismatch,
}

/// An instance of the packer app, composed from its manifest.
fn packer() -> nanoproc_host::Instance {
    let composition = compose_manifest(PACKER_APP).unwrap();
    runtime()
        .load(&composition.bytes, Options::default())
        .unwrap()
        .instantiate()
        .unwrap()
}

fn call(
    instance: &mut nanoproc_host::Instance,
    name: &str,
    data: &[u8],
) -> Result<Vec<u8>, SealError> {
    instance
        .call::<(&[u8],), (Result<Vec<u8>, SealError>,)>(name, (data,))
        .unwrap()
        .0
}

#[test]
fn the_packer_app_wires_packer_to_lz4_and_hash_and_holds_no_capability() {
    let composition = compose_manifest(PACKER_APP).unwrap();
    assert_eq!(
        Audit::new(&composition.plan).to_string(),
        "app `packer`
component  import                      satisfied by
lz4        (none)                      imports nothing
hash       (none)                      imports nothing
packer     nanoproc:lz4/block@0.1.0    wired to lz4
packer     nanoproc:hash/digest@0.1.0  wired to hash

capability  held by  reachable through exports by
(none)      nobody   nobody

exports nanoproc:packer/seal@0.1.0 from packer
"
    );
    let app = ComponentInterface::read(&composition.bytes).unwrap();
    assert!(app.imports.is_empty(), "{:?}", app.imports);
}

#[test]
fn the_packer_app_seals_through_c_and_rust_and_opens_what_it_sealed() {
    let mut packer = packer();
    for (what, data) in inputs() {
        let sealed = call(&mut packer, "seal", &data).unwrap();
        // The header, then a block lz4_flex reads natively.
        let (header, compressed) = sealed.split_at(40);
        assert_eq!(&header[..4], b"NPK1", "{what}");
        assert_eq!(
            header[4..8],
            u32::try_from(data.len()).unwrap().to_le_bytes(),
            "{what}"
        );
        assert_eq!(header[8..], sha2::Sha256::digest(&data)[..], "{what}");
        assert_eq!(
            lz4_flex::block::decompress(compressed, data.len()).unwrap(),
            data,
            "{what}"
        );
        assert_eq!(call(&mut packer, "open", &sealed), Ok(data), "{what}");
    }
}

#[test]
fn tampered_sealed_blobs_give_the_exact_error() {
    let mut packer = packer();
    let data = b"Sealed by a Rust component, compressed by a C one.".to_vec();
    let sealed = call(&mut packer, "seal", &data).unwrap();
    // A block ends with a run of literals, so its last byte is one.
    let last_literal = sealed.len() - 1;
    let tampered = |at: usize| {
        let mut copy = sealed.clone();
        copy[at] ^= 1;
        copy
    };
    let with_length = |length: u32| {
        let mut copy = sealed.clone();
        copy[4..8].copy_from_slice(&length.to_le_bytes());
        copy
    };
    let cases: Vec<(&str, Vec<u8>, SealError)> = vec![
        ("empty", Vec::new(), SealError::NotSealed),
        (
            "header cut short",
            sealed[..39].to_vec(),
            SealError::NotSealed,
        ),
        ("magic changed", tampered(0), SealError::NotSealed),
        (
            "literal flipped",
            tampered(last_literal),
            SealError::DigestMismatch,
        ),
        ("digest flipped", tampered(8), SealError::DigestMismatch),
        (
            "length one more",
            with_length(data.len() as u32 + 1),
            SealError::Corrupt,
        ),
        (
            "length one less",
            with_length(data.len() as u32 - 1),
            SealError::Corrupt,
        ),
        (
            "length huge",
            with_length(u32::MAX),
            SealError::TooLarge(MAX_SIZE),
        ),
        (
            "block cut short",
            sealed[..sealed.len() - 1].to_vec(),
            SealError::Corrupt,
        ),
        ("block missing", sealed[..40].to_vec(), SealError::Corrupt),
    ];
    for (what, blob, expected) in cases {
        assert_eq!(call(&mut packer, "open", &blob), Err(expected), "{what}");
    }
    // Nothing trapped: the same instance still opens the genuine blob.
    assert_eq!(call(&mut packer, "open", &sealed), Ok(data));
}

#[test]
fn sealing_more_than_lz4_takes_is_too_large() {
    let mut packer = packer();
    let data = vec![0; MAX_SIZE as usize + 1];
    assert_eq!(
        call(&mut packer, "seal", &data),
        Err(SealError::TooLarge(MAX_SIZE))
    );
}
