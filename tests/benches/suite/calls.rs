//! Calls between components beside the same call inside one component,
//! as an async function, forwarded through the host, and as a round trip
//! to a child process; strings, bytes and streams passed between components
//! beside a `memcpy`.

use std::cell::RefCell;
use std::io::{BufReader, Read as _, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context as _, Result, ensure};
use nanoproc_host::Instance;
use nanoproc_tests::measure::in_turns;
use wasmtime::Store;
use wasmtime::component::{Component, Linker, TypedFunc};

use crate::report::{Figure, Report, Row, Target, size};
use crate::{Bench, CHILD, component_path, per_op};

/// The app of the caller wired to the callee.
const CALLS: &str = "tests/apps/calls/nanoproc.toml";
/// The same pair on the async component model: async functions, and
/// bytes passed in a `stream<u8>`.
const ASYNC_CALLS: &str = "guests/async-caller/nanoproc.toml";
/// The callee's interface, as the caller imports it.
const CALLEE: &str = "nanoproc:bench/callee@0.1.0";
/// Rounds of each compared case.
const ROUNDS: usize = 21;
/// Calls per turn between components, inside one and through the host.
const STEPS: u32 = 200_000;
/// Round trips per turn to the child process.
const ROUND_TRIPS: usize = 2_000;

/// Nanoseconds per call of `times` calls made by the caller's `function`.
fn steps(caller: &mut Instance, function: &str, times: u32) -> Result<f64> {
    per_op(times as usize, || {
        let (reached,): (u64,) = caller.call(function, (times,))?;
        ensure!(reached == u64::from(times), "{function} reached {reached}");
        Ok(())
    })
}

/// The caller on its own, its import of the callee provided by the host,
/// which forwards each call to a callee instance in the same store.
struct Forwarded {
    store: Store<()>,
    step_there: TypedFunc<(u32,), (u64,)>,
}

impl Forwarded {
    fn new(bench: &Bench) -> Result<Self> {
        let engine = bench.runtime.engine();
        let load = |name: &str| -> Result<Component> {
            Component::from_file(engine, component_path(name))
                .map_err(|e| anyhow::anyhow!("cannot compile {name}: {e}"))
        };
        let (caller, callee) = (load("caller")?, load("callee")?);
        let mut store = Store::new(engine, ());
        store.set_epoch_deadline(u64::MAX / 2);
        let callee = Linker::new(engine).instantiate(&mut store, &callee)?;
        let interface = callee
            .get_export_index(&mut store, None, CALLEE)
            .context("the callee exports its interface")?;
        let mut linker = Linker::new(engine);
        let mut forwards = linker.instance(CALLEE)?;
        let mut export = |name: &str| {
            callee
                .get_export_index(&mut store, Some(&interface), name)
                .with_context(|| format!("the callee exports `{name}`"))
        };
        let (step, take_string, take_bytes) = (
            export("step")?,
            export("take-string")?,
            export("take-bytes")?,
        );
        let step = callee.get_typed_func::<(u64,), (u64,)>(&mut store, step)?;
        let take_string = callee.get_typed_func::<(String,), (u32,)>(&mut store, take_string)?;
        let take_bytes = callee.get_typed_func::<(Vec<u8>,), (u32,)>(&mut store, take_bytes)?;
        forwards.func_wrap("step", move |store, params: (u64,)| {
            step.call(store, params)
        })?;
        forwards.func_wrap("take-string", move |store, params: (String,)| {
            take_string.call(store, params)
        })?;
        forwards.func_wrap("take-bytes", move |store, params: (Vec<u8>,)| {
            take_bytes.call(store, params)
        })?;
        let caller = linker.instantiate(&mut store, &caller)?;
        let interface = caller
            .get_export_index(&mut store, None, "nanoproc:bench/caller@0.1.0")
            .context("the caller exports its interface")?;
        let step_there = caller
            .get_export_index(&mut store, Some(&interface), "step-there")
            .context("the caller exports `step-there`")?;
        let step_there = caller.get_typed_func(&mut store, step_there)?;
        Ok(Self { store, step_there })
    }

    fn steps(&mut self) -> Result<f64> {
        per_op(STEPS as usize, || {
            let (reached,) = self.step_there.call(&mut self.store, (STEPS,))?;
            ensure!(reached == u64::from(STEPS), "step-there reached {reached}");
            Ok(())
        })
    }
}

/// A child process that answers each number written to its stdin with the
/// next one on its stdout: [`echo`].
struct Echo {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Echo {
    fn new() -> Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(CHILD, "echo")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start the echo child")?;
        let input = child.stdin.take().context("the child's stdin")?;
        let output = BufReader::new(child.stdout.take().context("the child's stdout")?);
        Ok(Self {
            child,
            input,
            output,
        })
    }

    fn round_trips(&mut self) -> Result<f64> {
        per_op(ROUND_TRIPS, || {
            let mut value = 0u64;
            for _ in 0..ROUND_TRIPS {
                self.input.write_all(&value.to_le_bytes())?;
                let mut answer = [0; 8];
                self.output.read_exact(&mut answer)?;
                value = u64::from_le_bytes(answer);
            }
            ensure!(value == ROUND_TRIPS as u64, "the echo reached {value}");
            Ok(())
        })
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The echo child: answers each number on stdin with the next one.
pub fn echo() -> Result<()> {
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let mut value = [0; 8];
    while input.read_exact(&mut value).is_ok() {
        let next = u64::from_le_bytes(value) + 1;
        output.write_all(&next.to_le_bytes())?;
        output.flush()?;
    }
    Ok(())
}

/// A call between components vs inside one, as an async function,
/// through the host, and to a child process over a pipe.
pub fn calls(bench: &Bench, report: &mut Report) -> Result<()> {
    const SECTION: &str = "calls (`u64` to `u64`)";
    let caller = RefCell::new(bench.app(CALLS)?.instantiate()?);
    let async_app = bench.app(ASYNC_CALLS)?;
    let mut forwarded = Forwarded::new(bench)?;
    let mut echo = Echo::new()?;
    let [between, inside, async_between] = in_turns(
        ROUNDS,
        &mut [
            &mut || steps(&mut caller.borrow_mut(), "step-there", STEPS),
            &mut || steps(&mut caller.borrow_mut(), "step-here", STEPS),
            // A fresh instance each turn: wasmtime 48 keeps an entry for
            // each async call that returned at once until the instance is
            // dropped, and refuses calls past a million of them.
            &mut || steps(&mut async_app.instantiate()?, "step-there", STEPS),
        ],
    )?[..] else {
        unreachable!("three cases")
    };
    let [through_host, pipe] = in_turns(
        ROUNDS,
        &mut [&mut || forwarded.steps(), &mut || echo.round_trips()],
    )?[..] else {
        unreachable!("two cases")
    };
    let versus_inside = between.median / inside.median;
    report.add(
        Row::new(
            SECTION,
            "a call between two components",
            Figure::Time(between),
        )
        .ratio(versus_inside, format!("{versus_inside:.2}× inside one"))
        .target(Target::at_most(versus_inside, 2.0, "≤ 2× inside one")),
    );
    report.add(Row::new(
        SECTION,
        "the same call inside one component",
        Figure::Time(inside),
    ));
    let versus_sync = async_between.median / between.median;
    report.add(
        Row::new(
            SECTION,
            "the same call between two components as an `async func`, awaited",
            Figure::Time(async_between),
        )
        .ratio(versus_sync, format!("{versus_sync:.2}× the sync call")),
    );
    let host = through_host.median / between.median;
    report.add(
        Row::new(
            SECTION,
            "the same call forwarded through the host",
            Figure::Time(through_host),
        )
        .ratio(host, format!("{host:.1}× between components")),
    );
    let pipe_ratio = pipe.median / between.median;
    report.add(
        Row::new(
            SECTION,
            "a round trip to a child process over a pipe",
            Figure::Time(pipe),
        )
        .ratio(
            pipe_ratio,
            format!("{pipe_ratio:.0}× a call between components"),
        )
        .target(Target::at_least(
            pipe_ratio,
            100.0,
            "≥ 100× a call between components",
        )),
    );
    Ok(())
}

/// Sizes passed, with how many passes make a turn.
const SIZES: [(usize, u32); 3] = [(1 << 10, 20_000), (64 << 10, 1_000), (1 << 20, 60)];

/// Nanoseconds per `memcpy` of `source` into `target`, `times` times.
fn memcpy(source: &[u8], target: &mut [u8], times: u32) -> Result<f64> {
    per_op(times as usize, || {
        for _ in 0..times {
            std::hint::black_box(&mut *target).copy_from_slice(std::hint::black_box(source));
        }
        Ok(())
    })
}

/// Nanoseconds per pass of the prepared string or bytes, `times` times.
fn passes(caller: &mut Instance, function: &str, length: usize, times: u32) -> Result<f64> {
    per_op(times as usize, || {
        let (received,): (u64,) = caller.call(function, (times,))?;
        ensure!(
            received == length as u64 * u64::from(times),
            "{function} passed {received} bytes"
        );
        Ok(())
    })
}

/// Nanoseconds per stream of the prepared bytes, `times` streams, each
/// made by the caller, written whole and read by the callee `chunk` bytes
/// at a time.
fn streams(caller: &mut Instance, length: usize, times: u32, chunk: usize) -> Result<f64> {
    let chunk = u32::try_from(chunk)?;
    per_op(times as usize, || {
        let (received,): (u64,) = caller.call("send-stream", (times, chunk))?;
        ensure!(
            received == length as u64 * u64::from(times),
            "send-stream passed {received} bytes"
        );
        Ok(())
    })
}

/// The size streamed (`list<u8>` of the same size is the row it is
/// compared with), and the reads it is taken in: the whole at once, and
/// the chunks a reader of a long stream would take.
const STREAMED: usize = 1 << 20;
const STREAM_READS: [usize; 2] = [STREAMED, 64 << 10];

/// A `string` and a `list<u8>` passed between components vs a `memcpy` of
/// the same bytes, at each of [`SIZES`], and at [`STREAMED`] a
/// `stream<u8>` too.
pub fn passing(bench: &Bench, report: &mut Report) -> Result<()> {
    const SECTION: &str = "passing data between components";
    let caller = RefCell::new(bench.app(CALLS)?.instantiate()?);
    let async_caller = RefCell::new(bench.app(ASYNC_CALLS)?.instantiate()?);
    for (length, times) in SIZES {
        caller
            .borrow_mut()
            .call::<(u32,), ()>("prepare", (u32::try_from(length)?,))?;
        let source = vec![b'a'; length];
        let mut target = vec![0; length];
        let mut string = || passes(&mut caller.borrow_mut(), "send-string", length, times);
        let mut bytes = || passes(&mut caller.borrow_mut(), "send-bytes", length, times);
        let mut copy = || memcpy(&source, &mut target, times);
        let mut streamed = Vec::new();
        let stats = if length == STREAMED {
            async_caller
                .borrow_mut()
                .call::<(u32,), ()>("prepare", (u32::try_from(length)?,))?;
            let async_caller = &async_caller;
            let [mut whole, mut chunks] = STREAM_READS
                .map(|chunk| move || streams(&mut async_caller.borrow_mut(), length, times, chunk));
            let stats = in_turns(
                ROUNDS,
                &mut [&mut string, &mut bytes, &mut whole, &mut chunks, &mut copy],
            )?;
            streamed.extend_from_slice(&stats[2..4]);
            [stats[0], stats[1], stats[4]]
        } else {
            let stats = in_turns(ROUNDS, &mut [&mut string, &mut bytes, &mut copy])?;
            [stats[0], stats[1], stats[2]]
        };
        let [string, bytes, copy] = stats;
        let size = size(length as f64);
        for (kind, stats) in [("a `string`", string), ("a `list<u8>`", bytes)] {
            let speed = copy.median / stats.median;
            let mut row = Row::new(SECTION, format!("{kind} of {size}"), Figure::Time(stats))
                .ratio(speed, format!("{:.0}% of memcpy speed", speed * 100.0));
            if length == 1 << 20 && kind == "a `string`" {
                row = row.target(Target::at_least(speed, 0.5, "≥ 50% of memcpy speed"));
            }
            report.add(row);
        }
        for (chunk, stats) in STREAM_READS.into_iter().zip(streamed) {
            let speed = copy.median / stats.median;
            let versus_list = bytes.median / stats.median;
            let reads = if chunk >= length {
                "read in one piece".to_string()
            } else {
                format!("read {} at a time", crate::report::size(chunk as f64))
            };
            let mut row = Row::new(
                SECTION,
                format!("a `stream<u8>` of {size}, made, written whole and {reads}"),
                Figure::Time(stats),
            )
            .ratio(
                speed,
                format!(
                    "{:.0}% of memcpy speed, {versus_list:.0}× a `list<u8>`",
                    speed * 100.0
                ),
            );
            if chunk >= length {
                row = row.target(Target::at_least(speed, 0.5, "≥ 50% of memcpy speed"));
            }
            report.add(row);
        }
        report.add(Row::new(
            SECTION,
            format!("memcpy of {size}"),
            Figure::Time(copy),
        ));
    }
    Ok(())
}
