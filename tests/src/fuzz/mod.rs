//! Fuzz targets that double as tests.
//!
//! Each target is a module with a `run` function that takes its input from
//! an [`Unstructured`] and panics when it finds a bug. `cargo xtask fuzz
//! TARGET` hands it libFuzzer's inputs (through `tests/fuzz/`, a crate of
//! its own so that normal builds never compile libFuzzer); the seeded tests
//! in `tests/all/fuzz.rs` hand it a few hundred inputs made by [`drive`]
//! from a fixed seed, so every test run fuzzes a little, the same way each
//! time.
//!
//! - [`manifest`]: app manifest text, arbitrary or mutated from the
//!   project's own manifests, never panics the parser, and every error has
//!   a line and column.
//! - [`compose`]: the real guest components and manifests, mutated, never
//!   panic the linker; every composed app validates with the features the
//!   host enables, and composing again gives the same bytes.
//! - [`wave`]: WAVE calls, valid and mutated, into a composed app of the
//!   library guests never panic the host.
//!
//! Each target also has a `check` function that takes the input itself
//! (manifest text, a call), which the seeded tests use to replay the inputs
//! that once found a bug.

pub mod compose;
pub mod manifest;
mod mutate;
pub mod wave;

use std::path::Path;
use std::sync::OnceLock;

use arbitrary::Unstructured;

/// A fuzz target's entry point.
pub type Target = fn(&mut Unstructured<'_>) -> arbitrary::Result<()>;

/// The targets, by the names `cargo xtask fuzz` knows them by.
pub const TARGETS: &[(&str, Target)] = &[
    ("manifest", manifest::run),
    ("compose", compose::run),
    ("wave", wave::run),
];

/// Runs `target` on `cases` inputs of pseudo-random bytes made from `seed`,
/// each between 0 and `max_len` bytes long (small ones more often), and
/// returns how many of them the target used to the end (an input that runs
/// out of bytes early ends the case with `Err`, which is no failure).
///
/// # Panics
///
/// When the target does, which is a bug it found; the message names the
/// seed and the case, to replay it.
pub fn drive(target: Target, seed: u64, cases: usize, max_len: usize) -> usize {
    let mut rng = SplitMix64(seed);
    let mut data = Vec::new();
    let mut complete = 0;
    for case in 0..cases {
        // Lengths spread over every order of magnitude up to `max_len`.
        let bound = max_len >> (rng.next() % 8);
        let len = (rng.next() as usize) % (bound + 1);
        data.resize(len, 0);
        for chunk in data.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes()[..chunk.len()]);
        }
        let outcome = std::panic::catch_unwind(|| target(&mut Unstructured::new(&data)));
        match outcome {
            Ok(Ok(())) => complete += 1,
            Ok(Err(_)) => {}
            Err(panic) => {
                eprintln!(
                    "case {case} of seed {seed:#x} failed; its {len} bytes: {}",
                    hex(&data)
                );
                std::panic::resume_unwind(panic);
            }
        }
    }
    complete
}

/// Whether to do something `numerator` times in `denominator`: never once
/// `u` has run out of bytes (where `Unstructured::ratio` would always say
/// yes), so that a short input means the unmutated case.
///
/// # Errors
///
/// Never, in arbitrary 1.x; the signature follows `Unstructured::ratio`.
pub(crate) fn chance(
    u: &mut Unstructured<'_>,
    numerator: u8,
    denominator: u8,
) -> arbitrary::Result<bool> {
    Ok(!u.is_empty() && u.ratio(numerator, denominator)?)
}

/// `bytes` in hexadecimal, as [`unhex`] reads it back.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes written in hexadecimal by [`hex`] (whitespace ignored), to
/// replay an input that `drive` or libFuzzer reported.
///
/// # Panics
///
/// When `text` is not hexadecimal.
pub fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            u8::from_str_radix(std::str::from_utf8(pair).expect("ASCII"), 16)
                .expect("hexadecimal digits")
        })
        .collect()
}

/// The PRNG `drive` fills inputs from: SplitMix64, small and good enough.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The project's own app manifests, by path from the project root, with
/// their text: the example apps, the fixture apps and the composition cases.
///
/// # Panics
///
/// When one of the folders they are in cannot be read.
pub fn real_manifests() -> &'static [(String, String)] {
    static MANIFESTS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    MANIFESTS.get_or_init(|| {
        let root = crate::project_root();
        let mut found = Vec::new();
        let mut add = |path: &Path| {
            if let Ok(text) = std::fs::read_to_string(root.join(path)) {
                found.push((path.to_string_lossy().into_owned(), text));
            }
        };
        let names = |folder: &str| {
            let mut names: Vec<String> = std::fs::read_dir(root.join(folder))
                .unwrap_or_else(|e| panic!("cannot list {folder}: {e}"))
                .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
                .collect();
            names.sort();
            names
        };
        add(Path::new("guests/pages/nanoproc.toml"));
        for file in names("guests/site") {
            if file.ends_with(".toml") && file != "Cargo.toml" {
                add(&Path::new("guests/site").join(file));
            }
        }
        for folder in ["tests/apps", "tests/compose"] {
            for case in names(folder) {
                add(&Path::new(folder).join(case).join("nanoproc.toml"));
            }
        }
        assert!(!found.is_empty(), "the project has no app manifests");
        found
    })
}

/// The wasm features the host's engine enables (`nanoproc_host::engine`),
/// as the linker validates with them.
pub fn host_features() -> wasmparser::WasmFeatures {
    nanoproc_linker::HOST_FEATURES
}
