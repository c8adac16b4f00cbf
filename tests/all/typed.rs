//! Typed calls into sandboxed components from native Rust, through the
//! handles `nanoproc_host::sandbox!` makes: every WIT type the guests use,
//! each answer compared with the same crate called natively (or, for the
//! JavaScript and Python guests, with the exact answer of their library);
//! eight threads on one handle; faults, deadlines and memory caps followed
//! by a correct call; fresh instances per call; resources that keep their
//! instance; load errors; and the compromised markdown release contained,
//! its refusals reported under the handle's name.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nanoproc_host::sandbox::Sandboxed;
use nanoproc_host::{Cause, Fault, Refusal, Refusals, Reuse};
use nanoproc_linker::Capability;
use nanoproc_tests::{components_dir, compose_manifest};
use sha2::Digest as _;

mod markdown {
    nanoproc_host::sandbox!({
        path: "../wit/markdown",
        world: "nanoproc:markdown/markdown",
        component: "../target/components/markdown.wasm",
    });
}

pub(crate) mod hash {
    nanoproc_host::sandbox!({
        path: "../wit/hash",
        world: "nanoproc:hash/hash",
        component: "../target/components/hash.wasm",
    });
}

mod json {
    nanoproc_host::sandbox!({
        path: "../wit/json",
        world: "nanoproc:json/json",
        component: "../target/components/json.wasm",
    });
}

mod compress {
    nanoproc_host::sandbox!({
        path: "../wit/compress",
        world: "nanoproc:compress/compress",
        component: "../target/components/compress.wasm",
    });
}

mod slug {
    nanoproc_host::sandbox!({
        path: "../wit/slug",
        world: "nanoproc:slug/slug",
        component: "../target/components/slug.wasm",
    });
}

mod lz4 {
    nanoproc_host::sandbox!({
        path: "../wit/lz4",
        world: "nanoproc:lz4/lz4",
        component: "../target/components/lz4.wasm",
    });
}

mod semver {
    nanoproc_host::sandbox!({
        path: "../wit/semver",
        world: "nanoproc:semver/semver",
        component: "../target/components/semver.wasm",
    });
}

mod sql {
    nanoproc_host::sandbox!({
        path: "../wit/sql",
        world: "nanoproc:sql/sql",
        component: "../target/components/sql.wasm",
    });
}

mod callee {
    nanoproc_host::sandbox!({
        path: "../wit/bench",
        world: "nanoproc:bench/callee-side",
        component: "../target/components/callee.wasm",
    });
}

mod resolver {
    nanoproc_host::sandbox!({
        path: ["../wit/semver", "../wit/resolver"],
        world: "nanoproc:resolver/resolver",
    });
}

mod hostile {
    nanoproc_host::sandbox!({
        path: "../wit/hostile",
        world: "nanoproc:hostile/hostile",
        component: "../target/components/hostile.wasm",
    });
}

/// The built component `name`.
pub(crate) fn built(name: &str) -> PathBuf {
    components_dir().join(format!("{name}.wasm"))
}

/// Bytes that look like real data: text with some noise, different for
/// each `seed`.
pub(crate) fn sample(len: usize, seed: u64) -> Vec<u8> {
    let text = include_bytes!("../../README.md");
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 64 < 48 {
                text[(i + seed as usize) % text.len()]
            } else {
                state as u8
            }
        })
        .collect()
}

/// `items` as owned strings.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------
// Markdown: records (`options`) and `list<heading>` with a `u8`.

/// No extension.
const NONE: markdown::Options = markdown::Options {
    tables: false,
    footnotes: false,
    strikethrough: false,
    tasklists: false,
    smart_punctuation: false,
    heading_attributes: false,
};

/// Every extension.
const ALL: markdown::Options = markdown::Options {
    tables: true,
    footnotes: true,
    strikethrough: true,
    tasklists: true,
    smart_punctuation: true,
    heading_attributes: true,
};

/// Every combination of options worth telling apart: none, all, and each
/// one alone.
fn option_sets() -> Vec<markdown::Options> {
    let mut sets = vec![NONE, ALL];
    for i in 0..6 {
        let mut one = NONE;
        *[
            &mut one.tables,
            &mut one.footnotes,
            &mut one.strikethrough,
            &mut one.tasklists,
            &mut one.smart_punctuation,
            &mut one.heading_attributes,
        ][i] = true;
        sets.push(one);
    }
    sets
}

/// The pulldown-cmark options `options` stand for, as the component maps
/// them.
fn native_options(options: &markdown::Options) -> pulldown_cmark::Options {
    nanoproc_tests::native::markdown_extensions::extensions([
        options.tables,
        options.footnotes,
        options.strikethrough,
        options.tasklists,
        options.smart_punctuation,
        options.heading_attributes,
    ])
}

/// `text` rendered by pulldown-cmark natively.
fn native_html(text: &str, options: &markdown::Options) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(text, native_options(options)),
    );
    html
}

/// The headings pulldown-cmark finds in `text`, with their text (code
/// spans included, markup left out).
fn native_outline(text: &str, options: &markdown::Options) -> Vec<markdown::Heading> {
    use pulldown_cmark::{Event, Tag, TagEnd};
    let mut headings = Vec::new();
    let mut current: Option<markdown::Heading> = None;
    for event in pulldown_cmark::Parser::new_ext(text, native_options(options)) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some(markdown::Heading {
                    level: level as u8,
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(heading) = &mut current {
                    heading.text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    headings
}

/// Documents with something for each extension, headings of every level
/// and the project's README.
const DOCUMENTS: &[&str] = &[
    "",
    "# Hello, *world*!\n\nA paragraph with `code`, a [link](https://example.com) and <b>inline HTML</b>.\n",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] to do\n\n~~gone~~ \"quoted\" -- dashes...\n",
    "Text with a footnote[^1].\n\n[^1]: The note.\n\n## Title {#custom-id .class}\n",
    "Setext\n======\n\n### Three `code` *em*\n\n#### Four\n\n##### Five\n\n###### Six\n\n####### not seven\n",
    "<script>alert('x')</script>\n\n    indented code\n\n```rust\nfn main() {}\n```\n",
    "Ünïcödé ✓ — 日本語のテキスト\n\n> # quoted heading\n>> nested quote\n",
    include_str!("../../README.md"),
];

#[test]
fn markdown_renders_and_outlines_as_pulldown_cmark_does_natively() {
    let markdown = markdown::Markdown::new().unwrap();
    for text in DOCUMENTS {
        for options in option_sets() {
            assert_eq!(
                markdown.to_html(text, options).unwrap(),
                native_html(text, &options),
                "{options:?} of {text:?}"
            );
            assert_eq!(
                markdown.outline(text, options).unwrap(),
                native_outline(text, &options),
                "{options:?} of {text:?}"
            );
        }
    }
    assert_eq!(
        markdown.to_html("# Hi {#top}", ALL).unwrap(),
        "<h1 id=\"top\">Hi</h1>\n"
    );
    let heading = |level, text: &str| markdown::Heading {
        level,
        text: text.to_string(),
    };
    assert_eq!(
        markdown.outline(DOCUMENTS[4], NONE).unwrap(),
        [
            heading(1, "Setext"),
            heading(3, "Three code em"),
            heading(4, "Four"),
            heading(5, "Five"),
            heading(6, "Six"),
        ]
    );
}

// ---------------------------------------------------------------------
// Hash: an enum, `list<u8>` both ways, a string, and a resource.

/// Every algorithm the hash component offers.
const ALGORITHMS: [hash::Algorithm; 4] = [
    hash::Algorithm::Sha224,
    hash::Algorithm::Sha256,
    hash::Algorithm::Sha384,
    hash::Algorithm::Sha512,
];

/// The digest of `data` by the sha2 crate natively.
fn native_digest(algorithm: hash::Algorithm, data: &[u8]) -> Vec<u8> {
    match algorithm {
        hash::Algorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
        hash::Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        hash::Algorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
        hash::Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// `bytes` as lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn hash_digests_as_sha2_does_natively() {
    let hash = hash::Hash::new().unwrap();
    for data in [
        Vec::new(),
        b"abc".to_vec(),
        include_bytes!("../../README.md").to_vec(),
        sample(1 << 20, 1),
    ] {
        for algorithm in ALGORITHMS {
            let expected = native_digest(algorithm, &data);
            assert_eq!(hash.hash(algorithm, &data).unwrap(), expected);
            assert_eq!(hash.hash_hex(algorithm, &data).unwrap(), hex(&expected));
        }
    }
    assert_eq!(
        hash.hash_hex(hash::Algorithm::Sha256, b"abc").unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn a_hasher_keeps_its_instance_and_two_hashers_keep_apart() {
    let hash = hash::Hash::new().unwrap();
    let sandbox = hash.sandbox();
    assert_eq!(sandbox.idle_instances(), 0);
    let pieces: Vec<Vec<u8>> = (0..10).map(|i| sample(1000 * i + 1, i as u64)).collect();
    let whole = pieces.concat();

    let mut sha256 = hash::Hasher::new(&hash, hash::Algorithm::Sha256).unwrap();
    let mut sha512 = hash::Hasher::new(&hash, hash::Algorithm::Sha512).unwrap();
    // Each hasher holds an instance of its own, and plain calls still find
    // one: a third, which goes back to the pool.
    assert_eq!(
        hash.hash(hash::Algorithm::Sha224, &whole).unwrap(),
        native_digest(hash::Algorithm::Sha224, &whole)
    );
    assert_eq!(sandbox.idle_instances(), 1);
    for (i, piece) in pieces.iter().enumerate() {
        sha256.update(piece).unwrap();
        // The other hasher takes the pieces backwards, interleaved.
        sha512.update(&pieces[pieces.len() - 1 - i]).unwrap();
    }
    let backwards: Vec<u8> = pieces.iter().rev().flatten().copied().collect();
    assert_eq!(
        sha256.finish().unwrap(),
        native_digest(hash::Algorithm::Sha256, &whole)
    );
    assert_eq!(
        sha512.finish().unwrap(),
        native_digest(hash::Algorithm::Sha512, &backwards)
    );
    // A finished hasher starts again empty.
    sha256.update(b"abc").unwrap();
    assert_eq!(
        hex(&sha256.finish().unwrap()),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256.finish().unwrap(),
        native_digest(hash::Algorithm::Sha256, b"")
    );
    // Dropped, each hasher gives its instance back.
    drop(sha256);
    assert_eq!(sandbox.idle_instances(), 2);
    drop(sha512);
    assert_eq!(sandbox.idle_instances(), 3);
}

#[test]
fn eight_threads_share_one_handle_for_a_thousand_calls_each() {
    let hash = hash::Hash::new().unwrap();
    let threads: Vec<_> = (0..8u64)
        .map(|thread| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                for call in 0..1000u64 {
                    let data = sample(
                        (thread * 1000 + call) as usize % 3000,
                        (thread << 32) | call,
                    );
                    let algorithm = ALGORITHMS[((thread + call) % 4) as usize];
                    let expected = native_digest(algorithm, &data);
                    if call % 2 == 0 {
                        assert_eq!(
                            hash.hash(algorithm, &data).unwrap(),
                            expected,
                            "thread {thread}, call {call}"
                        );
                    } else {
                        assert_eq!(
                            hash.hash_hex(algorithm, &data).unwrap(),
                            hex(&expected),
                            "thread {thread}, call {call}"
                        );
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    // No more instances were made than calls ran at once.
    let idle = hash.sandbox().idle_instances();
    assert!((1..=8).contains(&idle), "{idle} idle instances");
}

// ---------------------------------------------------------------------
// JSON: `result<_, record>`, `result<string, record>` and
// `result<option<string>, variant>`.

/// Why serde_json natively refuses `text`, as the component's record.
fn native_syntax_error(text: &str) -> json::SyntaxError {
    let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
    json::SyntaxError {
        message: e.to_string(),
        line: e.line() as u32,
        column: e.column() as u32,
    }
}

#[test]
fn json_validates_formats_and_queries_as_serde_json_does_natively() {
    let json = json::Json::new().unwrap();
    for text in [
        "null",
        "  {\"title\": \"Hello\", \"tags\": [\"a\", \"b\"], \"draft\": false}  ",
        "{\"z\": 1, \"a\": 2, \"m\": {\"y\": [1.5, -2e10, 12345678901234567890123]}}",
        "[\"ünïcödé\", \"\\u00e9\\n\\t\", \"日本\", \"\\ud83d\\ude00\"]",
        "[]",
    ] {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(json.validate(text).unwrap(), Ok(()));
        assert_eq!(json.minify(text).unwrap(), Ok(value.to_string()));
        assert_eq!(
            json.pretty(text, 2).unwrap(),
            Ok(serde_json::to_string_pretty(&value).unwrap())
        );
        for pointer in ["", "/title", "/tags/1", "/m/y/2", "/0", "/3", "/none"] {
            let found = value.pointer(pointer);
            assert_eq!(
                json.query(text, pointer).unwrap(),
                Ok(found.map(|v| v.to_string())),
                "{pointer} in {text}"
            );
            assert_eq!(
                json.query_text(text, pointer).unwrap(),
                Ok(found.map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })),
                "{pointer} in {text}"
            );
        }
    }
    for text in [
        "",
        "{",
        "[1, 2,]",
        "{\"a\" 1}",
        "tru",
        "{} {}",
        "[1]\n\n  x",
    ] {
        let expected = native_syntax_error(text);
        assert_eq!(json.validate(text).unwrap(), Err(expected.clone()));
        assert_eq!(json.minify(text).unwrap(), Err(expected.clone()));
        assert_eq!(json.pretty(text, 2).unwrap(), Err(expected.clone()));
        assert_eq!(
            json.query(text, "/a").unwrap(),
            Err(json::QueryError::Syntax(expected.clone()))
        );
        assert_eq!(
            json.query_text(text, "").unwrap(),
            Err(json::QueryError::Syntax(expected))
        );
    }
    assert_eq!(
        json.validate("[1, 2,]").unwrap(),
        Err(json::SyntaxError {
            message: "trailing comma at line 1 column 7".into(),
            line: 1,
            column: 7,
        })
    );
    assert_eq!(
        json.pretty("{\"a\":[1]}", 4).unwrap(),
        Ok("{\n    \"a\": [\n        1\n    ]\n}".to_string())
    );
    assert_eq!(json.pretty("[1]", 0).unwrap(), Ok("[\n1\n]".to_string()));
    assert_eq!(
        json.query("{}", "authors").unwrap(),
        Err(json::QueryError::InvalidPointer("authors".into()))
    );
    assert_eq!(
        json.query_text(r#"{"t": "Caf\u00e9"}"#, "/t").unwrap(),
        Ok(Some("Café".into()))
    );
}

// ---------------------------------------------------------------------
// Compress: `u8`, `u64`, and `result<list<u8>, variant>` whose cases
// carry a string and a `u64`.

/// `data` gzip-compressed by flate2 natively, the level capped at 9 as the
/// component caps it.
fn native_gzip(data: &[u8], level: u8) -> Vec<u8> {
    let level = flate2::Compression::new(u32::from(level.min(9)));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// flate2's native error for the gzip stream `data`.
fn native_gunzip_error(data: &[u8]) -> String {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap_err()
        .to_string()
}

#[test]
fn compress_writes_and_reads_gzip_as_flate2_does_natively() {
    let compress = compress::Compress::new().unwrap();
    for data in [
        Vec::new(),
        b"a".to_vec(),
        sample(100_000, 2),
        vec![0; 1 << 20],
    ] {
        for level in [0u8, 1, 6, 9, 255] {
            let gzip = compress.compress(&data, level).unwrap();
            assert_eq!(gzip, native_gzip(&data, level), "level {level}");
            assert_eq!(
                compress.decompress(&gzip, data.len() as u64).unwrap(),
                Ok(data.clone())
            );
        }
    }
    let mut two_members = native_gzip(b"first, ", 6);
    two_members.extend(native_gzip(b"second", 1));
    assert_eq!(
        compress.decompress(&two_members, 100).unwrap(),
        Ok(b"first, second".to_vec())
    );
    let good = native_gzip(&sample(10_000, 3), 6);
    let mut bad_checksum = good.clone();
    let crc = bad_checksum.len() - 8;
    bad_checksum[crc] ^= 1;
    for corrupt in [
        b"plain text, not gzip".to_vec(),
        good[..good.len() / 2].to_vec(),
        bad_checksum,
    ] {
        assert_eq!(
            compress.decompress(&corrupt, u64::MAX).unwrap(),
            Err(compress::DecompressError::Corrupt(native_gunzip_error(
                &corrupt
            )))
        );
    }
    assert_eq!(
        compress
            .decompress(b"plain text, not gzip", u64::MAX)
            .unwrap(),
        Err(compress::DecompressError::Corrupt(
            "invalid gzip header".into()
        ))
    );
    let bomb = native_gzip(&vec![0; 16 << 20], 9);
    assert_eq!(
        compress.decompress(&bomb, 1 << 20).unwrap(),
        Err(compress::DecompressError::TooLarge(1 << 20))
    );
    assert_eq!(
        compress.decompress(&bomb, 16 << 20).unwrap(),
        Ok(vec![0; 16 << 20])
    );
}

// ---------------------------------------------------------------------
// Slug: a string both ways, from a `wasm32-wasip1` component whose WASI
// imports the host answers.

#[test]
fn slug_slugifies_as_the_slug_crate_does_natively() {
    let refused = Refused::default();
    let slug = slug::Slug::builder()
        .refusals(refused.refusals())
        .load(built("slug"))
        .unwrap();
    let long = "Ünïcödé Title, part 2! ".repeat(5_000);
    for text in [
        "",
        "Hello, World!",
        "  --Déjà vu--  ",
        "You & Me",
        "北京大学",
        "Привет мир",
        "🦀 Rust 🦀",
        "a\0b\nc\td",
        "ǅemal Æsir ß",
        &long,
    ] {
        assert_eq!(
            slug.slugify(text).unwrap(),
            ::slug::slugify(text),
            "{text:?}"
        );
    }
    assert_eq!(slug.slugify("北京").unwrap(), "bei-jing");
    // The WASI the adapter imports is there, and never used.
    assert_eq!(refused.lines(), Vec::<String>::new());
}

// ---------------------------------------------------------------------
// LZ4 (C): `u32`, and a variant with a case without payload and cases
// with `u32` payloads.

/// The limit the lz4 component documents: 64 MiB, both ways.
const LZ4_MAX: u32 = 64 << 20;

#[test]
fn lz4_reads_and_writes_blocks_as_lz4_flex_does_natively() {
    let lz4 = lz4::Lz4::new().unwrap();
    let text: Vec<u8> = (0..400)
        .flat_map(|i| format!("{i}: a nanoprocess holds one dependency\n").into_bytes())
        .collect();
    for data in [Vec::new(), b"a".to_vec(), text.clone(), sample(200_000, 4)] {
        let size = u32::try_from(data.len()).unwrap();
        let block = lz4.compress(&data).unwrap().unwrap();
        assert_eq!(
            lz4_flex::block::decompress(&block, data.len()).unwrap(),
            data
        );
        let native = lz4_flex::block::compress(&data);
        assert_eq!(lz4.decompress(&native, size).unwrap(), Ok(data.clone()));
    }
    let len = u32::try_from(text.len()).unwrap();
    let block = lz4_flex::block::compress(&text);
    for (size, expected) in [
        (len, Ok(text.clone())),
        (len - 1, Err(lz4::Error::Corrupt)),
        (len + 1, Err(lz4::Error::WrongSize(len))),
        (LZ4_MAX + 1, Err(lz4::Error::TooLarge(LZ4_MAX))),
    ] {
        assert_eq!(lz4.decompress(&block, size).unwrap(), expected, "{size}");
    }
    assert_eq!(
        lz4.decompress(&[0x10], 10).unwrap(),
        Err(lz4::Error::Corrupt)
    );
    assert_eq!(
        lz4.compress(&vec![7; LZ4_MAX as usize + 1]).unwrap(),
        Err(lz4::Error::TooLarge(LZ4_MAX))
    );
}

// ---------------------------------------------------------------------
// Semver (JavaScript): `s8`, `bool`, `option<string>`, `list<string>`,
// and a variant of strings.

#[test]
fn semver_answers_as_npms_semver_does() {
    use semver::Error;
    let semver = semver::Semver::new().unwrap();
    for (text, expected) in [
        (" =v1.2.3 ", Some("1.2.3")),
        ("v1.2.3-beta.1+build.5", Some("1.2.3-beta.1")),
        ("1.2", None),
        ("01.2.3", None),
        ("", None),
    ] {
        assert_eq!(
            semver.clean(text).unwrap(),
            expected.map(str::to_string),
            "{text:?}"
        );
    }
    for (a, b, expected) in [
        ("1.2.3", "1.2.3-beta", Ok(1)),
        ("1.0.0-alpha", "1.0.0-alpha.1", Ok(-1)),
        ("1.0.0+a", "1.0.0+b", Ok(0)),
        ("2.0.0", "10.0.0", Ok(-1)),
        ("x", "1.0.0", Err(Error::InvalidVersion("x".into()))),
    ] {
        assert_eq!(semver.compare(a, b).unwrap(), expected, "{a} vs {b}");
    }
    for (version, range, expected) in [
        ("1.2.3", "^1.2.0", Ok(true)),
        ("2.0.0", "^1.2.0", Ok(false)),
        ("1.3.0-beta.1", "^1.2.0", Ok(false)),
        ("3.0.0", "1.x || 3.0.0", Ok(true)),
        (
            "1.2.3",
            "not a range",
            Err(Error::InvalidRange("not a range".into())),
        ),
    ] {
        assert_eq!(
            semver.satisfies(version, range).unwrap(),
            expected,
            "{version} in {range}"
        );
    }
    let published = strings(&["1.0.0", "1.5.0", "2.0.0", "1.9.9-rc.1", "1.4.2"]);
    for (range, expected) in [
        ("^1.0.0", Ok(Some("1.5.0".to_string()))),
        ("~1.4", Ok(Some("1.4.2".to_string()))),
        ("^3", Ok(None)),
        ("=<", Err(Error::InvalidRange("=<".into()))),
    ] {
        assert_eq!(
            semver.max_satisfying(&published, range).unwrap(),
            expected,
            "{range}"
        );
    }
    assert_eq!(semver.max_satisfying(&[], "^1").unwrap(), Ok(None));
    assert_eq!(
        semver
            .sort(&strings(&[
                "2.0.0",
                "1.0.0-alpha",
                "10.0.0",
                "1.0.0-alpha.1",
                "1.0.0"
            ]))
            .unwrap(),
        Ok(strings(&[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0",
            "2.0.0",
            "10.0.0"
        ]))
    );
    assert_eq!(
        semver.sort(&strings(&["1.0.0", "v2"])).unwrap(),
        Err(Error::InvalidVersion("v2".into()))
    );
}

// ---------------------------------------------------------------------
// SQL (Python): a record with `option<enum>` fields, `list<record>` of an
// enum and strings, `list<string>`.

/// A token of the sql component's `tokens`.
fn token(kind: sql::TokenKind, ttype: &str, text: &str) -> sql::Token {
    sql::Token {
        kind,
        ttype: ttype.to_string(),
        text: text.to_string(),
    }
}

#[test]
fn sql_splits_tokenizes_and_formats_as_sqlparse_does() {
    use sql::{LetterCase, TokenKind};
    let refused = Refused::default();
    // CPython reads its environment once, on the first call of an
    // instance: the host's variables are left out and reported under the
    // handle's name.
    let ((sql, split), expected) = with_steady_environment("sql", || {
        refused.take();
        let sql = sql::Sql::builder()
            .refusals(refused.refusals())
            .load(built("sql"))
            .unwrap();
        let split = sql.split("select 1; select 2;").unwrap();
        (sql, split)
    });
    assert_eq!(split, strings(&["select 1;", "select 2;"]));
    assert_eq!(refused.lines(), [expected]);
    assert_eq!(
        sql.split("select 'a;b' from t;\n\n  insert into t values (1)")
            .unwrap(),
        strings(&["select 'a;b' from t;", "insert into t values (1)"])
    );
    assert_eq!(sql.split("").unwrap(), Vec::<String>::new());
    assert_eq!(
        sql.tokens("select a from \"T\" -- c").unwrap(),
        [
            token(TokenKind::Keyword, "Keyword.DML", "select"),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Name, "Name", "a"),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Keyword, "Keyword", "from"),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Name, "Literal.String.Symbol", "\"T\""),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Comment, "Comment.Single", "-- c"),
        ]
    );
    let options = |keyword_case, identifier_case, strip_comments, reindent| sql::Options {
        keyword_case,
        identifier_case,
        strip_comments,
        reindent,
    };
    for (text, options, expected) in [
        (
            "select a,b from t where x=1 and y=2",
            options(Some(LetterCase::Uppercase), None, false, true),
            "SELECT a,\n       b\nFROM t\nWHERE x=1\n  AND y=2",
        ),
        (
            "select a -- c\nfrom T where \"Id\" = 1",
            options(None, Some(LetterCase::Uppercase), true, false),
            "select A\nfrom T where \"Id\" = 1",
        ),
        (
            "SELECT Name FROM Users",
            options(
                Some(LetterCase::Capitalized),
                Some(LetterCase::Lowercase),
                false,
                false,
            ),
            "Select name From users",
        ),
        (
            "select  a -- c\n from t",
            options(None, None, false, false),
            "select  a -- c\n from t",
        ),
    ] {
        assert_eq!(sql.format(text, options).unwrap(), expected, "{text:?}");
    }
    // Later calls on the same instance reach for nothing more.
    assert_eq!(refused.lines(), Vec::<String>::new());
}

// ---------------------------------------------------------------------
// The bench callee: `u64` both ways, `u32` from a string and from bytes.

#[test]
fn the_callee_steps_and_counts_as_its_code_says() {
    let callee = callee::CalleeSide::new().unwrap();
    for value in [0, 1, 41, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
        assert_eq!(callee.step(value).unwrap(), value.wrapping_add(1));
    }
    for text in ["", "a", "ünïcödé ✓", &"x".repeat(100_000)] {
        assert_eq!(callee.take_string(text).unwrap(), text.len() as u32);
    }
    for len in [0, 1, 4096, 1 << 20] {
        assert_eq!(callee.take_bytes(&sample(len, 5)).unwrap(), len as u32);
    }
}

// ---------------------------------------------------------------------
// The logger: an enum, and no result. Its package's other world imports
// `wasi:cli/stderr`, so the macro reads WASI's WIT too.

mod logger {
    nanoproc_host::sandbox!({
        path: "../wit/logger",
        world: "nanoproc:logger/console-logger",
        component: "../target/components/logger.wasm",
    });
}

/// The Rust logger (which also imports stderr, answered by the host) and
/// the JavaScript one, through the same handle, log at every level.
#[test]
fn the_logger_takes_every_level_through_the_console_logger_world() {
    use logger::Level;
    for component in ["logger", "jslogger"] {
        let refused = Refused::default();
        let logger = logger::ConsoleLogger::builder()
            .refusals(refused.refusals())
            .load(built(component))
            .unwrap();
        for level in [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ] {
            logger.log(level, "typed", "one line\nnot two").unwrap();
        }
        // Loaded as built, it is granted no stderr: what it writes is
        // discarded, and each stream's first write reported under the
        // handle's name.
        let refusals = refused.lines();
        assert!(!refusals.is_empty(), "{component}");
        for line in &refusals {
            let bytes = line
                .strip_prefix("refused `console-logger` writing ")
                .and_then(|rest| {
                    rest.strip_suffix(" bytes to stderr: not granted (discarded, no error)")
                });
            assert!(
                bytes.is_some_and(|n| n.parse::<usize>().is_ok()),
                "{component}: {line}"
            );
        }
    }
}

// ---------------------------------------------------------------------
// The resolver app: a handle over a composed app (Rust calling
// JavaScript), with records and a variant whose case holds a record.

/// The resolver's app manifest.
const RESOLVER_APP: &str = "tests/apps/resolver/nanoproc.toml";

/// A requirement of the resolver.
fn requirement(name: &str, range: &str) -> resolver::Requirement {
    resolver::Requirement {
        name: name.to_string(),
        range: range.to_string(),
    }
}

/// A version the resolver picked.
fn pick(name: &str, version: &str) -> resolver::Pick {
    resolver::Pick {
        name: name.to_string(),
        version: version.to_string(),
    }
}

#[test]
fn the_resolver_app_made_from_its_manifest_picks_versions_through_typed_calls() {
    use resolver::Error;
    let composition = compose_manifest(RESOLVER_APP).unwrap();
    let resolver = resolver::Resolver::from_bytes(&composition.bytes).unwrap();
    let index = [
        resolver::Release {
            name: "left-pad".into(),
            versions: strings(&["1.0.0", "1.1.3", "1.3.0", "2.0.0-rc.1", "2.0.0"]),
        },
        resolver::Release {
            name: "lodash".into(),
            versions: strings(&["4.17.20", "4.17.21", "4.18.0", "3.10.1"]),
        },
    ];
    assert_eq!(
        resolver
            .resolve(
                &[
                    requirement("lodash", "~4.17.0"),
                    requirement("left-pad", "^1.1.0"),
                    requirement("left-pad", ">=2.0.0-rc.1"),
                ],
                &index
            )
            .unwrap(),
        Ok(vec![
            pick("lodash", "4.17.21"),
            pick("left-pad", "1.3.0"),
            pick("left-pad", "2.0.0"),
        ])
    );
    assert_eq!(resolver.resolve(&[], &index).unwrap(), Ok(Vec::new()));
    for (requirements, expected) in [
        (
            vec![requirement("lodash", "^4"), requirement("react", "^18")],
            Error::UnknownPackage("react".into()),
        ),
        (
            vec![requirement("lodash", "^5")],
            Error::NoMatch(requirement("lodash", "^5")),
        ),
        (
            vec![requirement("lodash", "^^4")],
            Error::InvalidRange("^^4".into()),
        ),
    ] {
        assert_eq!(
            resolver.resolve(&requirements, &index).unwrap(),
            Err(expected)
        );
    }
    let bad_index = [resolver::Release {
        name: "lodash".into(),
        versions: strings(&["4.17.21", "latest"]),
    }];
    assert_eq!(
        resolver
            .resolve(&[requirement("lodash", "*")], &bad_index)
            .unwrap(),
        Err(Error::InvalidVersion("latest".into()))
    );
}

// ---------------------------------------------------------------------
// Faults and limits, on the hostile component.

/// The interface of the hostile component's attacks.
const ATTACKS: &str = "nanoproc:hostile/attacks@0.1.0";

/// The hostile component as built, with a deadline of 100 ms and a memory
/// limit of 32 MiB.
fn limited_hostile() -> hostile::Hostile {
    hostile::Hostile::builder()
        .deadline(Duration::from_millis(100))
        .memory_limit(32 << 20)
        .load(built("hostile"))
        .unwrap()
}

#[test]
fn a_call_that_traps_is_a_fault_and_the_next_call_gets_a_fresh_instance() {
    let hostile = hostile::Hostile::new().unwrap();
    assert_eq!(hostile.remember("before").unwrap(), None);
    assert_eq!(hostile.remember("kept").unwrap(), Some("before".into()));
    let fault: Fault = hostile.fail("boom").unwrap_err();
    assert_eq!(
        fault.cause,
        Cause::Trap(wasmtime::Trap::UnreachableCodeReached)
    );
    assert_eq!(fault.call, format!("{ATTACKS}#fail"));
    assert_eq!(fault.function, Some(format!("{ATTACKS}#fail")));
    assert_eq!(fault.innermost.as_deref(), Some("__rustc::rust_panic"));
    assert_eq!(
        fault.to_string(),
        format!(
            "component `hostile` trapped in `{ATTACKS}#fail` (innermost frame `__rustc::rust_panic`) \
             during the call to `{ATTACKS}#fail`: wasm trap: wasm `unreachable` instruction executed"
        )
    );
    // The instance that trapped is gone, and with it what it kept.
    assert_eq!(hostile.sandbox().idle_instances(), 0);
    assert_eq!(hostile.echo("still here").unwrap(), "still here");
    assert_eq!(hostile.remember("after").unwrap(), None);
}

#[test]
fn a_deadline_stops_an_endless_loop_and_the_next_call_has_all_its_time() {
    let hostile = limited_hostile();
    assert_eq!(hostile.sandbox().limits().timeout_ms, Some(100));
    assert_eq!(hostile.remember("before").unwrap(), None);
    let started = Instant::now();
    let fault = hostile.spin().unwrap_err();
    let took = started.elapsed();
    assert_eq!(fault.cause, Cause::Deadline(Duration::from_millis(100)));
    assert_eq!(fault.call, format!("{ATTACKS}#spin"));
    assert_eq!(fault.function, Some(format!("{ATTACKS}#spin")));
    assert_eq!(
        fault.to_string(),
        format!(
            "component `hostile` ran past the deadline of 100ms in `{ATTACKS}#spin` \
             during the call to `{ATTACKS}#spin`"
        )
    );
    assert!(took >= Duration::from_millis(100), "stopped after {took:?}");
    // A fresh instance, with the whole deadline again.
    assert_eq!(hostile.remember("after").unwrap(), None);
    assert_eq!(hostile.step(41).unwrap(), 42);
    assert_eq!(hostile.echo("after").unwrap(), "after");
}

#[test]
fn a_memory_limit_stops_a_memory_bomb_and_the_next_call_fits() {
    let hostile = limited_hostile();
    assert_eq!(hostile.sandbox().limits().memory, Some(32 << 20));
    let fault = hostile.hoard(1024).unwrap_err();
    let Cause::Memory(exceeded) = &fault.cause else {
        panic!("not a memory fault: {fault}");
    };
    assert_eq!(exceeded.limit, 32 << 20);
    assert!(exceeded.used <= 32 << 20, "{exceeded}");
    assert!(
        exceeded
            .to_string()
            .starts_with("the app's memory limit of 32 MiB would be exceeded: "),
        "{exceeded}"
    );
    assert_eq!(fault.call, format!("{ATTACKS}#hoard"));
    assert_eq!(fault.function, Some(format!("{ATTACKS}#hoard")));
    assert_eq!(
        fault.to_string(),
        format!(
            "component `hostile` hit the memory limit in `{ATTACKS}#hoard` (innermost frame `{}`) \
             during the call to `{ATTACKS}#hoard`: {exceeded}",
            fault.innermost.as_deref().unwrap_or_default()
        )
    );
    assert_eq!(hostile.hoard(4).unwrap(), 4 << 20);
    // A huge result is stopped by the same limit.
    let fault = hostile.flood(64 << 20).unwrap_err();
    assert!(matches!(fault.cause, Cause::Memory(_)), "{fault}");
    assert_eq!(hostile.flood(3).unwrap(), [0x5a; 3]);
}

#[test]
fn a_handle_over_a_composed_app_takes_its_limits_and_names_faults_as_its_manifest_does() {
    let composition = compose_manifest("tests/apps/hostile/nanoproc.toml").unwrap();
    let hostile = hostile::Hostile::from_bytes(&composition.bytes).unwrap();
    // The manifest holds the app to 32 MiB.
    assert_eq!(hostile.sandbox().limits().memory, Some(32 << 20));
    let fault = hostile.fail("boom").unwrap_err();
    assert_eq!(
        fault.to_string(),
        format!(
            "component `hostile` trapped in `{ATTACKS}#fail` (innermost frame `__rustc::rust_panic`) \
             during the call to `{ATTACKS}#fail`: wasm trap: wasm `unreachable` instruction executed"
        )
    );
    let fault = hostile.hoard(1024).unwrap_err();
    let Cause::Memory(exceeded) = &fault.cause else {
        panic!("not a memory fault: {fault}");
    };
    assert_eq!(exceeded.limit, 32 << 20);
    assert_eq!(fault.component.as_deref(), Some("hostile"));
    assert_eq!(hostile.echo("after").unwrap(), "after");
    assert_eq!(hostile.remember("after").unwrap(), None);
}

/// A component loaded as built carries no manifest to name it: refusals
/// take the handle's world name (`hostile`), and so should faults.
#[test]
fn faults_of_a_component_loaded_as_built_name_the_handles_world() {
    let hostile = limited_hostile();
    let trap = hostile.fail("boom").unwrap_err();
    let deadline = hostile.spin().unwrap_err();
    let memory = hostile.hoard(1024).unwrap_err();
    for fault in [&trap, &deadline, &memory] {
        assert_eq!(fault.component.as_deref(), Some("hostile"), "{fault}");
    }
    assert_eq!(
        trap.to_string(),
        format!(
            "component `hostile` trapped in `{ATTACKS}#fail` (innermost frame `__rustc::rust_panic`) \
             during the call to `{ATTACKS}#fail`: wasm trap: wasm `unreachable` instruction executed"
        )
    );
    assert_eq!(
        deadline.to_string(),
        format!(
            "component `hostile` ran past the deadline of 100ms in `{ATTACKS}#spin` \
             during the call to `{ATTACKS}#spin`"
        )
    );
    assert!(
        memory.to_string().starts_with(&format!(
            "component `hostile` hit the memory limit in `{ATTACKS}#hoard`"
        )),
        "{memory}"
    );
}

#[test]
fn instances_are_reused_by_default_and_never_when_asked() {
    let reused = hostile::Hostile::new().unwrap();
    assert_eq!(reused.remember("first").unwrap(), None);
    assert_eq!(reused.remember("second").unwrap(), Some("first".into()));
    assert_eq!(reused.remember("third").unwrap(), Some("second".into()));
    assert_eq!(reused.sandbox().idle_instances(), 1);

    let fresh = hostile::Hostile::builder()
        .reuse(Reuse::Never)
        .load(built("hostile"))
        .unwrap();
    assert_eq!(fresh.remember("first").unwrap(), None);
    assert_eq!(fresh.remember("second").unwrap(), None);
    assert_eq!(fresh.remember("third").unwrap(), None);
    assert_eq!(fresh.sandbox().idle_instances(), 0);
}

// ---------------------------------------------------------------------
// Load errors.

#[test]
fn a_missing_file_and_a_component_of_another_world_are_refused_with_exact_errors() {
    let missing = components_dir().join("no-such-component.wasm");
    let error = markdown::Markdown::load(&missing).err().unwrap();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot read the component {}: No such file or directory (os error 2)",
            missing.display()
        )
    );

    let slug = built("slug");
    let error = markdown::Markdown::load(&slug).err().unwrap();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot load the component {}: the component does not implement the world \
             `markdown`: no exported instance named `nanoproc:markdown/render@0.1.0`",
            slug.display()
        )
    );

    let readme = nanoproc_tests::project_root().join("README.md");
    let error = markdown::Markdown::load(&readme).err().unwrap();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot load the component {}: this is not a wasm component \
             (it does not start with the component header)",
            readme.display()
        )
    );
}

// ---------------------------------------------------------------------
// The compromised markdown release, loaded as built through the genuine
// markdown world.

/// What `f` returns, and the line the host reports when the component
/// `who`, granted no environment, reads its environment while `f` runs.
/// Other tests may change the environment meanwhile, so `f` runs again
/// until the environment is the same before and after it.
fn with_steady_environment<T>(who: &str, mut f: impl FnMut() -> T) -> (T, String) {
    loop {
        let mut before: Vec<String> = std::env::vars_os()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        let values: Vec<_> = std::env::vars_os().collect();
        let result = f();
        if std::env::vars_os().eq(values) {
            before.sort();
            assert!(before.len() > 1, "the test runs with a few variables set");
            let line = format!(
                "refused `{who}` {} of the host's environment variables, such as `{}`: \
                 not in its environment grant (left out, no error)",
                before.len(),
                before[0]
            );
            return (result, line);
        }
    }
}

/// The refusals a sandbox reported, collected.
#[derive(Clone, Default)]
struct Refused(Arc<Mutex<Vec<Refusal>>>);

impl Refused {
    /// Where a sandbox reports its refusals to be collected here.
    fn refusals(&self) -> Refusals {
        let collected = self.0.clone();
        Refusals::Report(Arc::new(move |refusal: &Refusal| {
            collected.lock().unwrap().push(refusal.clone());
        }))
    }

    /// The refusals collected so far, taken out.
    fn take(&self) -> Vec<Refusal> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The refusals collected so far as lines, taken out.
    fn lines(&self) -> Vec<String> {
        self.take().iter().map(ToString::to_string).collect()
    }
}

#[test]
fn the_compromised_release_renders_as_the_genuine_one_and_its_reaches_are_reported() {
    assert_eq!(markdown::Markdown::NAME, "markdown");
    let refused = Refused::default();
    // The payload runs on an instance's first call.
    let ((markdown, html), expected) = with_steady_environment("markdown", || {
        refused.take();
        let markdown = markdown::Markdown::builder()
            .refusals(refused.refusals())
            .load(built("markdown-compromised"))
            .unwrap();
        let html = markdown.to_html(DOCUMENTS[1], ALL).unwrap();
        (markdown, html)
    });
    assert_eq!(html, native_html(DOCUMENTS[1], &ALL));
    let refusals = refused.take();
    assert_eq!(
        refusals.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            expected,
            "refused `markdown` a TCP connection to 203.0.113.7:443: \
             not in its network grant (access-denied)"
                .to_string(),
        ]
    );
    for (refusal, capability) in refusals.iter().zip([Capability::Env, Capability::Network]) {
        assert_eq!(refusal.components, ["markdown"]);
        assert_eq!(refusal.capability, capability);
    }
    // The payload ran once in this instance: the next render reaches for
    // nothing, and is still the genuine one.
    for text in DOCUMENTS {
        assert_eq!(
            markdown.to_html(text, NONE).unwrap(),
            native_html(text, &NONE)
        );
    }
    assert_eq!(refused.lines(), Vec::<String>::new());
}
