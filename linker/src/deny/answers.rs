//! What a deny provider answers, other than by the shape of a type: the
//! error cases preferred when one is chosen, the functions that trap or are
//! given a set answer (`ANSWERS`), and every answer in words, as
//! [`denied_answers`](super::denied_answers) reports it.

use wit_parser::{Function as WitFunction, Handle, Type, TypeDefKind};

use super::module::CoreModule;

/// Error cases a denied call returns, in order of preference.
const DENIED_CASES: &[&str] = &[
    "access",
    "access-denied",
    "not-permitted",
    "permission-denied",
    "denied",
    "HTTP-request-denied",
    "closed",
];

/// Answers other than the most denied value of their type, by interface
/// (without its version) and function: a denied stdout or stderr that the
/// provider makes itself accepts writes and discards them (an error there
/// makes Rust's `print!` panic), its pollables are ready at once, and a
/// denied HTTP request can be put together before sending it is refused.
const ANSWERS: &[(&str, &str, Answer)] = &[
    (
        STREAMS,
        "[method]output-stream.check-write",
        Answer::Ok(4096),
    ),
    (STREAMS, "[method]output-stream.write", Answer::Ok(0)),
    (
        STREAMS,
        "[method]output-stream.blocking-write-and-flush",
        Answer::Ok(0),
    ),
    (STREAMS, "[method]output-stream.flush", Answer::Ok(0)),
    (
        STREAMS,
        "[method]output-stream.blocking-flush",
        Answer::Ok(0),
    ),
    (STREAMS, "[method]output-stream.write-zeroes", Answer::Ok(0)),
    (
        STREAMS,
        "[method]output-stream.blocking-write-zeroes-and-flush",
        Answer::Ok(0),
    ),
    ("wasi:io/poll", "[method]pollable.ready", Answer::True),
    // A denied `wasi:http` lets a request be made up, then refuses to send
    // it: `handle` answers `HTTP-request-denied`.
    (HTTP, "[method]fields.set", Answer::Ok(0)),
    (HTTP, "[method]fields.delete", Answer::Ok(0)),
    (HTTP, "[method]fields.append", Answer::Ok(0)),
    (HTTP, "[method]outgoing-request.set-method", Answer::Ok(0)),
    (
        HTTP,
        "[method]outgoing-request.set-path-with-query",
        Answer::Ok(0),
    ),
    (HTTP, "[method]outgoing-request.set-scheme", Answer::Ok(0)),
    (
        HTTP,
        "[method]outgoing-request.set-authority",
        Answer::Ok(0),
    ),
    (
        HTTP,
        "[method]request-options.set-connect-timeout",
        Answer::Ok(0),
    ),
    (
        HTTP,
        "[method]request-options.set-first-byte-timeout",
        Answer::Ok(0),
    ),
    (
        HTTP,
        "[method]request-options.set-between-bytes-timeout",
        Answer::Ok(0),
    ),
    ("wasi:io/poll", "poll", Answer::FirstIndex),
    // WASI 0.3: a denied stdout or stderr closes the stream it is handed
    // (writes to it end at once) and reports success.
    ("wasi:cli/stdout", "write-via-stream", Answer::Ok(0)),
    ("wasi:cli/stderr", "write-via-stream", Answer::Ok(0)),
];
const STREAMS: &str = "wasi:io/streams";
const HTTP: &str = "wasi:http/types";

/// What a function does other than return the most denied value of its type.
pub(super) enum Special {
    /// Traps, for the reason given.
    Trap(&'static str),
    /// Gives this answer.
    Answer(Answer),
}

/// An answer from [`ANSWERS`].
#[derive(Clone, Copy)]
pub(super) enum Answer {
    /// `ok`, with this number as its payload when it has one.
    Ok(u64),
    /// `true`.
    True,
    /// The list `[0]`: of the pollables given, the first is ready.
    FirstIndex,
}

impl CoreModule<'_> {
    /// What the function `func` of the interface `name` does differently
    /// from returning the most denied value of its type.
    pub(super) fn special(&self, name: &str, func: &WitFunction) -> Option<Special> {
        let base = name.split('@').next().unwrap_or_default();
        if base.starts_with("wasi:random/") {
            return Some(Special::Trap(
                "no bytes are safe to hand out as random: a caller may make keys of them",
            ));
        }
        if base == "wasi:cli/exit" {
            return Some(Special::Trap("exiting must not return"));
        }
        ANSWERS
            .iter()
            .find(|(i, f, _)| *i == base && *f == func.name)
            .map(|(_, _, answer)| Special::Answer(*answer))
    }

    /// The answer of the function `func` of the interface `name`, in words.
    pub(super) fn describe_function(&self, name: &str, func: &WitFunction) -> String {
        let answer = self.describe_result(name, func);
        let handed: Vec<String> = self
            .handed_over(func)
            .iter()
            .map(|(_, _, name)| format!("`{name}`"))
            .collect();
        if handed.is_empty() || answer.starts_with("traps") {
            return answer;
        }
        format!(
            "closes {} at once (the writer sees it closed); {answer}",
            handed.join(" and ")
        )
    }

    /// The answer of `func`'s result, in words.
    fn describe_result(&self, name: &str, func: &WitFunction) -> String {
        let future = func
            .result
            .as_ref()
            .and_then(|ty| self.stream_or_future(ty))
            .is_some_and(|id| matches!(self.resolve.types[id].kind, TypeDefKind::Future(_)));
        match (&func.result, self.special(name, func)) {
            (Some(_), Some(Special::Answer(Answer::Ok(0)))) if future => "a future of ok".into(),
            (_, Some(Special::Trap(why))) => format!("traps: {why}"),
            (None, _) => "returns".to_string(),
            (Some(_), Some(Special::Answer(Answer::Ok(0)))) if name.starts_with(STREAMS) => {
                "ok: accepted and discarded".into()
            }
            (Some(_), Some(Special::Answer(Answer::Ok(0)))) => "ok".into(),
            (Some(_), Some(Special::Answer(Answer::Ok(n)))) => format!("ok({n})"),
            (Some(_), Some(Special::Answer(Answer::True))) => "true".into(),
            (Some(_), Some(Special::Answer(Answer::FirstIndex))) => {
                "[0]: the first is ready".into()
            }
            (Some(ty), None) => match self.deny(ty, 0, false) {
                Some(_) => self.describe(ty, false),
                None => {
                    "traps: no value can be made (it would be a handle to a resource of the host's)"
                        .into()
                }
            },
        }
    }

    /// The most denied value of `ty`, in words; `ty` must have one.
    fn describe(&self, ty: &Type, error: bool) -> String {
        let Type::Id(id) = ty else {
            return match ty {
                Type::Bool => "false".into(),
                Type::String => "\"\"".into(),
                Type::Char => "'\\0'".into(),
                _ => "0".into(),
            };
        };
        let def = &self.resolve.types[*id];
        match &def.kind {
            TypeDefKind::Type(inner) => self.describe(inner, error),
            TypeDefKind::Record(record) => {
                let fields: Vec<String> = record
                    .fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, self.describe(&f.ty, false)))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
            TypeDefKind::Tuple(tuple) => {
                let items: Vec<String> = tuple
                    .types
                    .iter()
                    .map(|t| self.describe(t, false))
                    .collect();
                format!("({})", items.join(", "))
            }
            TypeDefKind::FixedLengthList(elem, n) => {
                format!("[{}; {n}]", self.describe(elem, false))
            }
            TypeDefKind::Flags(_) => "no flags".into(),
            TypeDefKind::Option(_) => "none".into(),
            TypeDefKind::List(_) | TypeDefKind::Map(..) => "[]".into(),
            TypeDefKind::Enum(e) => {
                let case = if error {
                    preferred(e.cases.iter().map(|c| c.name.as_str())).unwrap_or(0)
                } else {
                    0
                };
                e.cases[case].name.clone()
            }
            TypeDefKind::Variant(v) => {
                let possible = |i: usize| {
                    v.cases[i]
                        .ty
                        .as_ref()
                        .is_none_or(|ty| self.deny(ty, 0, false).is_some())
                };
                let first = error
                    .then(|| preferred(v.cases.iter().map(|c| c.name.as_str())))
                    .flatten()
                    .filter(|i| possible(*i));
                let Some(i) = first.or_else(|| (0..v.cases.len()).find(|i| possible(*i))) else {
                    return "(none)".into();
                };
                match &v.cases[i].ty {
                    Some(ty) => format!("{}({})", v.cases[i].name, self.describe(ty, false)),
                    None => v.cases[i].name.clone(),
                }
            }
            TypeDefKind::Result(r) => {
                let err_possible = r
                    .err
                    .as_ref()
                    .is_none_or(|ty| self.deny(ty, 0, true).is_some());
                if err_possible {
                    match &r.err {
                        Some(ty) => format!("err({})", self.describe(ty, true)),
                        None => "err".into(),
                    }
                } else {
                    match &r.ok {
                        Some(ty) => format!("ok({})", self.describe(ty, false)),
                        None => "ok".into(),
                    }
                }
            }
            TypeDefKind::Handle(Handle::Own(resource)) => {
                let name = self
                    .resource(*resource)
                    .and_then(|(r, _)| self.resolve.types[r].name.clone())
                    .unwrap_or_default();
                format!("a new `{name}` of its own, whose methods answer in turn")
            }
            TypeDefKind::Stream(_) => "a stream that has ended".into(),
            TypeDefKind::Future(payload) => match payload {
                Some(payload) => format!("a future of {}", self.describe(payload, error)),
                None => "a future that has resolved".into(),
            },
            _ => "(none)".into(),
        }
    }
}

/// The index of the first name of [`DENIED_CASES`] among `names`.
pub(super) fn preferred<'n>(names: impl Iterator<Item = &'n str> + Clone) -> Option<usize> {
    DENIED_CASES
        .iter()
        .find_map(|want| names.clone().position(|n| n == *want))
}
