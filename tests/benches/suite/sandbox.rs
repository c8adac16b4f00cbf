//! A dependency of a native Rust program in a sandbox, called through the
//! typed handle `sandbox!` makes: a call beside wasmtime's own `TypedFunc`
//! and a plain Rust call, the library's work beside the same crate built
//! natively into this program, two threads on one sandbox beside one, and
//! a fresh instance per call beside a reused one.

use anyhow::{Context as _, Result, ensure};
use nanoproc_host::sandbox::Reuse;
use nanoproc_tests::measure::{Stats, in_turns};
use nanoproc_tests::project_root;
use sha2::Digest as _;
use wasmtime::Store;
use wasmtime::component::{Component, Linker, TypedFunc};

use crate::report::{Figure, Report, Row, Target, size};
use crate::{Bench, per_op};

const SECTION: &str = "a sandbox called from native Rust (`sandbox!`)";
/// Rounds of each compared case.
const ROUNDS: usize = 21;
/// Calls of `step` per turn.
const STEPS: u64 = 200_000;
/// Renders of the small document per thread and turn, when threads are
/// compared.
const RENDERS: usize = 4_000;

/// The handle types, from the worlds' WIT.
mod callee {
    nanoproc_host::sandbox!({
        path: "../wit/bench",
        world: "nanoproc:bench/callee-side",
        component: "../target/components/callee.wasm",
    });
}

mod markdown {
    nanoproc_host::sandbox!({
        path: "../wit/markdown",
        world: "nanoproc:markdown/markdown",
        component: "../target/components/markdown.wasm",
    });
}

mod hash {
    nanoproc_host::sandbox!({
        path: "../wit/hash",
        world: "nanoproc:hash/hash",
        component: "../target/components/hash.wasm",
    });
}

use callee::CalleeSide;
use hash::{Algorithm, Hash};
use markdown::{Markdown, Options};

/// The callee's interface, as the component exports it.
const CALLEE: &str = "nanoproc:bench/callee@0.1.0";

/// A small document (200 bytes) that uses most of the extensions.
const SMALL: &str = "# Release notes\n\n\
    This *minor* release fixes **two** bugs:\n\n\
    - links in [tables](https://example.com/t) render again;\n\
    - `code` spans keep their spaces --- \"quoted\" too.\n\n\
    > Upgrade when you ~~can~~ may.\n";

/// Every markdown extension on.
const ALL: Options = Options {
    tables: true,
    footnotes: true,
    strikethrough: true,
    tasklists: true,
    smart_punctuation: true,
    heading_attributes: true,
};

/// `markdown` rendered natively with `options`, as the component renders
/// it (`guests/markdown/src/render.rs`).
fn native_markdown(markdown: &str, options: Options) -> String {
    let flags = nanoproc_tests::native::markdown_extensions::extensions([
        options.tables,
        options.footnotes,
        options.strikethrough,
        options.tasklists,
        options.smart_punctuation,
        options.heading_attributes,
    ]);
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(markdown, flags));
    html
}

/// What `step` does, as a Rust function the compiler may not inline.
#[inline(never)]
fn step(value: u64) -> u64 {
    value + 1
}

/// Nanoseconds per call of `STEPS` calls of `step`, each on the last
/// result, starting from 0.
fn steps(mut step: impl FnMut(u64) -> Result<u64>) -> Result<f64> {
    per_op(STEPS as usize, || {
        let mut value = 0;
        for _ in 0..STEPS {
            value = step(std::hint::black_box(value))?;
        }
        ensure!(value == STEPS, "`step` reached {value}");
        Ok(())
    })
}

/// `step` of the callee component through wasmtime's own typed function,
/// in a plain store with no host state, on an engine configured as the
/// sandbox's is when its calls have no deadline (no epoch checks), so that
/// the two run the same machine code.
struct Plain {
    store: Store<()>,
    step: TypedFunc<(u64,), (u64,)>,
}

impl Plain {
    fn new() -> Result<Self> {
        let engine = &nanoproc_host::engine_without_deadlines()?;
        let component = Component::from_file(engine, CalleeSide::COMPONENT)
            .map_err(|e| anyhow::anyhow!("cannot compile the callee: {e}"))?;
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, &component)?;
        let interface = instance
            .get_export_index(&mut store, None, CALLEE)
            .context("the callee exports its interface")?;
        let step = instance
            .get_export_index(&mut store, Some(&interface), "step")
            .context("the callee exports `step`")?;
        let step = instance.get_typed_func(&mut store, step)?;
        Ok(Self { store, step })
    }

    fn step(&mut self, value: u64) -> Result<u64> {
        Ok(self.step.call(&mut self.store, (value,))?.0)
    }
}

/// Nanoseconds per run of `runs` runs of `run`.
fn runs<T>(runs: usize, mut run: impl FnMut() -> Result<T>) -> Result<f64> {
    per_op(runs, || {
        for _ in 0..runs {
            std::hint::black_box(run()?);
        }
        Ok(())
    })
}

/// Nanoseconds per call, by the wall clock, of `threads` threads at once
/// each making `calls` calls of `call` on its own clone of `handle`.
fn at_once<H: Clone + Send>(
    threads: usize,
    calls: usize,
    handle: &H,
    call: impl Fn(&H) -> Result<()> + Sync,
) -> Result<f64> {
    per_op(threads * calls, || {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (handle, call) = (handle.clone(), &call);
                    scope.spawn(move || (0..calls).try_for_each(|_| call(&handle)))
                })
                .collect();
            workers
                .into_iter()
                .try_for_each(|worker| worker.join().expect("a calling thread"))
        })
    })
}

/// Calls per second at `ns` nanoseconds per call, for people: `1.2 M`.
fn per_second(ns: f64) -> String {
    let rate = 1e9 / ns;
    if rate >= 1e6 {
        format!("{:.2} M calls/s", rate / 1e6)
    } else {
        format!("{:.0} k calls/s", rate / 1e3)
    }
}

/// The typed call, the library's work, threads and fresh instances, each
/// beside what it is compared with.
pub fn sandbox(_: &Bench, report: &mut Report) -> Result<()> {
    calls(report)?;
    workloads(report)?;
    threads(report)?;
    fresh(report)
}

/// `step` through the handle vs wasmtime's `TypedFunc` vs a Rust call.
fn calls(report: &mut Report) -> Result<()> {
    let callee = CalleeSide::new()?;
    let mut plain = Plain::new()?;
    let [typed, wasmtime, rust]: [Stats; 3] = in_turns(
        ROUNDS,
        &mut [
            &mut || steps(|value| Ok(callee.step(value)?)),
            &mut || steps(|value| plain.step(value)),
            &mut || steps(|value| Ok(step(value))),
        ],
    )?
    .try_into()
    .expect("three cases");
    let ratio = typed.median / wasmtime.median;
    report.add(
        Row::new(
            SECTION,
            "`step` (`u64` to `u64`) through the sandbox's typed handle",
            Figure::Time(typed),
        )
        .ratio(ratio, format!("{ratio:.2}× wasmtime's `TypedFunc`"))
        .target(Target::at_most(ratio, 1.2, "≤ 1.2× `TypedFunc`")),
    );
    let versus_rust = wasmtime.median / rust.median;
    report.add(
        Row::new(
            SECTION,
            "the same call through wasmtime's `TypedFunc`, plain store",
            Figure::Time(wasmtime),
        )
        .ratio(versus_rust, format!("{versus_rust:.1}× a Rust call")),
    );
    report.add(Row::new(
        SECTION,
        "a Rust function call, not inlined",
        Figure::Time(rust),
    ));
    Ok(())
}

/// One piece of the library's work through the sandbox and natively: its
/// name, how many runs make a turn, and whether the ratio has a target.
struct Work<'a> {
    name: String,
    runs: usize,
    target: Option<f64>,
    sandboxed: Box<dyn FnMut() -> Result<Vec<u8>> + 'a>,
    native: Box<dyn FnMut() -> Vec<u8> + 'a>,
}

impl Work<'_> {
    fn measure(mut self, report: &mut Report) -> Result<()> {
        ensure!(
            (self.sandboxed)()? == (self.native)(),
            "{}: the sandbox and native code differ",
            self.name
        );
        let count = self.runs;
        let (sandboxed, native) = (&mut self.sandboxed, &mut self.native);
        let mut in_sandbox = || runs(count, &mut *sandboxed);
        let mut natively = || runs(count, || Ok(native()));
        let [in_sandbox, natively]: [Stats; 2] =
            in_turns(ROUNDS, &mut [&mut in_sandbox, &mut natively])?
                .try_into()
                .expect("two cases");
        let ratio = in_sandbox.median / natively.median;
        let mut row = Row::new(
            SECTION,
            format!("{} through the sandbox", self.name),
            Figure::Time(in_sandbox),
        )
        .ratio(ratio, format!("{ratio:.2}× native"));
        if let Some(limit) = self.target {
            row = row.target(Target::at_most(ratio, limit, format!("≤ {limit}× native")));
        }
        report.add(row);
        report.add(Row::new(
            SECTION,
            format!("{} natively", self.name),
            Figure::Time(natively),
        ));
        Ok(())
    }
}

/// The first 20 KiB of ARCHITECTURE.md, ending at a line's end.
fn large_document() -> Result<String> {
    let mut text = std::fs::read_to_string(project_root().join("ARCHITECTURE.md"))?;
    let end = text[..20 << 10].rfind('\n').map_or(0, |i| i + 1);
    text.truncate(end);
    Ok(text)
}

/// Rendering a small and a large document, and hashing 64 bytes and 1 MiB,
/// through the sandbox vs natively.
fn workloads(report: &mut Report) -> Result<()> {
    let markdown = Markdown::new()?;
    let large = large_document()?;
    for (document, runs, target) in [(SMALL, 4_000, Some(2.0)), (large.as_str(), 100, None)] {
        Work {
            name: format!("render a {} document", size(document.len() as f64)),
            runs,
            target,
            sandboxed: Box::new(|| Ok(markdown.to_html(document, ALL)?.into_bytes())),
            native: Box::new(|| native_markdown(document, ALL).into_bytes()),
        }
        .measure(report)?;
    }

    let hash = Hash::new()?;
    let mebibyte: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    for (data, runs) in [(&mebibyte[..64], 10_000), (&mebibyte[..], 8)] {
        Work {
            name: format!("SHA-256 of {}", size(data.len() as f64)),
            runs,
            target: None,
            sandboxed: Box::new(|| Ok(hash.hash(Algorithm::Sha256, data)?)),
            native: Box::new(|| sha2::Sha256::digest(data).to_vec()),
        }
        .measure(report)?;
    }
    Ok(())
}

/// Two threads rendering the small document on one sandbox vs one thread,
/// and the same natively.
fn threads(report: &mut Report) -> Result<()> {
    let markdown = Markdown::new()?;
    let sandboxed = |markdown: &Markdown| {
        std::hint::black_box(markdown.to_html(SMALL, ALL)?);
        Ok(())
    };
    let native = |(): &()| {
        std::hint::black_box(native_markdown(SMALL, ALL));
        Ok(())
    };
    let [one, two, native_one, native_two]: [Stats; 4] = in_turns(
        ROUNDS,
        &mut [
            &mut || at_once(1, RENDERS, &markdown, sandboxed),
            &mut || at_once(2, RENDERS, &markdown, sandboxed),
            &mut || at_once(1, RENDERS, &(), native),
            &mut || at_once(2, RENDERS, &(), native),
        ],
    )?
    .try_into()
    .expect("four cases");
    let small = size(SMALL.len() as f64);
    for (who, one, two, target) in [
        ("the sandbox", one, two, Some(1.8)),
        ("the crate natively", native_one, native_two, None),
    ] {
        let speedup = one.median / two.median;
        let mut row = Row::new(
            SECTION,
            format!("render the {small} document: 2 threads on {who} (wall clock per call)"),
            Figure::Time(two),
        )
        .ratio(
            speedup,
            format!(
                "{speedup:.2}× one thread's calls/s ({})",
                per_second(two.median)
            ),
        );
        if let Some(limit) = target {
            row = row.target(Target::at_least(
                speedup,
                limit,
                format!("≥ {limit}× one thread"),
            ));
        }
        report.add(row);
        report.add(
            Row::new(
                SECTION,
                format!("the same, 1 thread on {who}"),
                Figure::Time(one),
            )
            .ratio(1e9 / one.median, per_second(one.median)),
        );
    }
    Ok(())
}

/// The small document rendered in a fresh instance per call vs in a
/// reused one.
fn fresh(report: &mut Report) -> Result<()> {
    let reused = Markdown::new()?;
    let fresh = Markdown::builder()
        .reuse(Reuse::Never)
        .load(Markdown::COMPONENT)?;
    let [in_fresh, in_reused]: [Stats; 2] = in_turns(
        ROUNDS,
        &mut [
            &mut || runs(500, || Ok(fresh.to_html(SMALL, ALL)?)),
            &mut || runs(500, || Ok(reused.to_html(SMALL, ALL)?)),
        ],
    )?
    .try_into()
    .expect("two cases");
    let small = size(SMALL.len() as f64);
    let ratio = in_fresh.median / in_reused.median;
    report.add(
        Row::new(
            SECTION,
            format!("render the {small} document in a fresh instance per call (`Reuse::Never`)"),
            Figure::Time(in_fresh),
        )
        .ratio(ratio, format!("{ratio:.1}× reusing instances")),
    );
    report.add(Row::new(
        SECTION,
        "the same, reusing instances",
        Figure::Time(in_reused),
    ));
    Ok(())
}
