//! Each library component's real work in wasm beside the same crate built
//! natively into this program, on the same input.

use std::io::Write as _;

use anyhow::{Context as _, Result, ensure};
use flate2::Compression;
use flate2::write::GzEncoder;
use nanoproc_host::Instance;
use nanoproc_tests::measure::{Stats, in_turns};
use nanoproc_tests::project_root;
use sha2::Digest as _;

use crate::report::{Figure, Report, Row, Target, size};
use crate::{Bench, per_op};

const SECTION: &str = "library workloads, wasm vs native";
/// Rounds of each compared case.
const ROUNDS: usize = 15;

/// The types of the library interfaces, from their WIT.
mod wit {
    pub mod markdown {
        wasmtime::component::bindgen!({ path: "../wit/markdown", world: "nanoproc:markdown/markdown" });
        pub use exports::nanoproc::markdown::render::Options;
    }
    pub mod json {
        wasmtime::component::bindgen!({ path: "../wit/json", world: "nanoproc:json/json" });
        pub use exports::nanoproc::json::document::SyntaxError;
    }
    pub mod hash {
        wasmtime::component::bindgen!({ path: "../wit/hash", world: "nanoproc:hash/hash" });
        pub use exports::nanoproc::hash::digest::Algorithm;
    }
}

use wit::hash::Algorithm;
use wit::json::SyntaxError;
use wit::markdown::Options as RenderOptions;

/// Every markdown extension on, in the component's terms and natively.
const ALL: RenderOptions = RenderOptions {
    tables: true,
    footnotes: true,
    strikethrough: true,
    tasklists: true,
    smart_punctuation: true,
    heading_attributes: true,
};

fn native_markdown(text: &str) -> String {
    use pulldown_cmark::Options as O;
    let flags = O::ENABLE_TABLES
        | O::ENABLE_FOOTNOTES
        | O::ENABLE_STRIKETHROUGH
        | O::ENABLE_TASKLISTS
        | O::ENABLE_SMART_PUNCTUATION
        | O::ENABLE_HEADING_ATTRIBUTES;
    let mut html = String::with_capacity(text.len() + text.len() / 2);
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(text, flags));
    html
}

fn native_gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::new(6));
    encoder
        .write_all(data)
        .expect("compressing into memory cannot fail");
    encoder
        .finish()
        .expect("compressing into memory cannot fail")
}

/// One workload: its name and input, how many runs make a turn, and a run
/// in wasm and natively, each returning its whole output, which must be the
/// same before anything is timed (parsing JSON returns nothing: both sides
/// must just succeed).
struct Workload<'a> {
    name: String,
    runs: usize,
    wasm: Box<dyn FnMut() -> Result<Vec<u8>> + 'a>,
    native: Box<dyn FnMut() -> Vec<u8> + 'a>,
}

impl Workload<'_> {
    fn measure(mut self, report: &mut Report) -> Result<()> {
        ensure!(
            (self.wasm)()? == (self.native)(),
            "{}: wasm and native differ",
            self.name
        );
        let runs = self.runs;
        let (wasm, native) = (&mut self.wasm, &mut self.native);
        let [in_wasm, natively]: [Stats; 2] = in_turns(
            ROUNDS,
            &mut [
                &mut || {
                    per_op(runs, || {
                        for _ in 0..runs {
                            std::hint::black_box(wasm()?);
                        }
                        Ok(())
                    })
                },
                &mut || {
                    per_op(runs, || {
                        for _ in 0..runs {
                            std::hint::black_box(native());
                        }
                        Ok(())
                    })
                },
            ],
        )?
        .try_into()
        .expect("two cases");
        let ratio = in_wasm.median / natively.median;
        report.add(
            Row::new(
                SECTION,
                format!("{} in wasm", self.name),
                Figure::Time(in_wasm),
            )
            .ratio(ratio, format!("{ratio:.2}× native"))
            .target(Target::at_most(ratio, 1.5, "≤ 1.5× native")),
        );
        report.add(Row::new(
            SECTION,
            format!("{} natively", self.name),
            Figure::Time(natively),
        ));
        Ok(())
    }
}

/// Renders markdown, parses JSON, compresses and hashes 1 MiB, each in its
/// component and natively.
pub fn workloads(bench: &Bench, report: &mut Report) -> Result<()> {
    let architecture = std::fs::read_to_string(project_root().join("ARCHITECTURE.md"))?;
    let json = cargo_metadata()?;
    let mut mebibyte = Vec::with_capacity(1 << 20);
    while mebibyte.len() < 1 << 20 {
        mebibyte.extend_from_slice(architecture.as_bytes());
    }
    mebibyte.truncate(1 << 20);

    let instance = |name: &str| -> Result<Instance> { bench.component(name)?.instantiate() };
    let mut markdown = instance("markdown")?;
    Workload {
        name: format!(
            "render markdown (ARCHITECTURE.md, {})",
            size(architecture.len() as f64)
        ),
        runs: 40,
        wasm: Box::new(|| {
            let (html,): (String,) = markdown.call("to-html", (architecture.as_str(), ALL))?;
            Ok(html.into_bytes())
        }),
        native: Box::new(|| native_markdown(&architecture).into_bytes()),
    }
    .measure(report)?;

    let mut parser = instance("json")?;
    Workload {
        name: format!(
            "parse JSON (`cargo metadata` of this project, {})",
            size(json.len() as f64)
        ),
        runs: 2,
        wasm: Box::new(|| {
            let (parsed,): (Result<(), SyntaxError>,) =
                parser.call("validate", (json.as_str(),))?;
            parsed.map_err(|e| {
                anyhow::anyhow!(
                    "JSON syntax error at {}:{}: {}",
                    e.line,
                    e.column,
                    e.message
                )
            })?;
            Ok(Vec::new())
        }),
        native: Box::new(|| {
            serde_json::from_str::<serde_json::Value>(&json).expect("cargo metadata is JSON");
            Vec::new()
        }),
    }
    .measure(report)?;

    let mut compressor = instance("compress")?;
    Workload {
        name: "gzip 1 MiB of text (level 6)".to_string(),
        runs: 2,
        wasm: Box::new(|| {
            let (gzip,): (Vec<u8>,) = compressor.call("compress", (mebibyte.as_slice(), 6u8))?;
            Ok(gzip)
        }),
        native: Box::new(|| native_gzip(&mebibyte)),
    }
    .measure(report)?;

    let mut hasher = instance("hash")?;
    Workload {
        name: "SHA-256 of 1 MiB".to_string(),
        runs: 8,
        wasm: Box::new(|| {
            let (digest,): (Vec<u8>,) =
                hasher.call("hash", (Algorithm::Sha256, mebibyte.as_slice()))?;
            Ok(digest)
        }),
        native: Box::new(|| sha2::Sha256::digest(&mebibyte).to_vec()),
    }
    .measure(report)?;
    Ok(())
}

/// This project's `cargo metadata`: real JSON of a fair size.
fn cargo_metadata() -> Result<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(project_root())
        .output()
        .context("cannot run `cargo metadata`")?;
    ensure!(out.status.success(), "`cargo metadata` failed");
    Ok(String::from_utf8(out.stdout)?)
}
