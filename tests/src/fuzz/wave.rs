//! The `wave` target: WAVE calls into a composed app of the library guests
//! (markdown, json, hash, compress, slug: pure functions only), valid ones
//! made from each function's type and then often mutated, or arbitrary
//! text. `Instance::call_wave` must answer each with `Ok` or `Err`, never
//! a panic; a result must read back as a value of the function's result
//! type; and after an error the instance must still answer a good call.

use std::sync::{Mutex, OnceLock};

use arbitrary::{Result, Unstructured};
use indexmap::IndexMap;
use nanoproc_host::{App, Instance, Options};
use wasmtime::component::{Type, Val};

/// The app the calls go to: each library guest in a nanoprocess, all
/// exported.
pub const MANIFEST: &str = r#"[app]
name = "libraries"
export = ["markdown", "json", "hash", "compress", "slug"]

[components.markdown]
guest = "markdown"

[components.json]
guest = "json"

[components.hash]
guest = "hash"

[components.compress]
guest = "compress"

[components.slug]
guest = "slug"
"#;

/// A call whose answer is known, made after every error.
const PROBE: (&str, &str) = ("slugify(\"Hello, World\")", "\"hello-world\"");

/// Pieces of WAVE that mutations insert or swap for each other.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ": ",
    "\"",
    "'",
    "\\",
    "\\u{0}",
    "\\u{10ffff}",
    "\\u{d800}",
    "\\u{110000}",
    "\\n",
    "\\'",
    "some(",
    "none",
    "ok(",
    "err(",
    "ok",
    "err",
    "true",
    "false",
    "0",
    "-0",
    "-1",
    "255",
    "256",
    "-129",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1.5e308",
    "1e309",
    "3.4028236e38",
    "-0.0",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1_0",
    "+1",
    "%",
    "é",
    "🦀",
    "\u{0}",
    "\n",
    " ",
    "sha256",
    "sha-256",
    "tables: true",
    "level",
    "indent",
    "heading-attributes",
    "smart-punctuation",
    "#",
    ".",
    "@0.1.0",
    "@",
    "/",
    ":",
    "nanoproc:json/document",
    "to-html",
    "[constructor]hasher",
    "[method]hasher.update",
    "\"\"\"\n",
    "{tables}",
    "{}",
    "[]",
    "()",
];

/// Text the string parameters are often given, so that calls reach past
/// the libraries' first checks.
const TEXTS: &[&str] = &[
    "# Title\n\nSome *text*, `code` and a [link](http://x).\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] to do\n\n~~gone~~ \"quoted\" -- dash\n",
    "Text[^1].\n\n[^1]: A note.\n\n## Heading {#id .class}\n",
    "{\"a\": [1, 2.5e10, null, true, {\"b\": \"\\u00e9\"}], \"c\": -0}",
    "[1, 2",
    "{\"a\": 1e99999999}",
    "/a/0",
    "/a/~1b/~0",
    "",
    "Hello, World! Ünïcödé ☃ 東京",
];

/// The app, its functions and their types, and one live instance.
struct Target {
    app: App,
    functions: Vec<(String, wasmtime::component::types::ComponentFunc)>,
    instance: Mutex<Instance>,
    gzip: Vec<u8>,
}

/// Makes a call and checks its answer, as [`check`] does.
///
/// # Errors
///
/// When `u` runs out of bytes before the call is made.
pub fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let target = target();
    let arbitrary = if super::chance(u, 1, 8)? {
        u.arbitrary::<&str>()?
    } else {
        ""
    };
    let call = if !arbitrary.is_empty() {
        arbitrary.to_string()
    } else {
        let (name, ty) = u.choose(&target.functions)?;
        let mut args = Vec::new();
        for (_, param) in ty.params() {
            let value = value(u, target, &param, 0)?;
            args.push(
                value
                    .to_wave()
                    .unwrap_or_else(|e| panic!("cannot write {value:?} in WAVE: {e}")),
            );
        }
        let mut call = format!("{}({})", spelling(u, name)?, args.join(", "));
        if super::chance(u, 1, 2)? {
            super::mutate::text(u, &mut call, TOKENS)?;
        }
        call
    };
    check(&call);
    Ok(())
}

/// Calls `call` (WAVE, such as `slugify("Hi")`) on the library app.
///
/// # Panics
///
/// When the call panics; when a result does not read back as a value of
/// its type or is not written as WAVE writes it; when, after an error, the
/// instance gives a wrong answer to a good call.
pub fn check(call: &str) {
    let target = target();
    let mut instance = target.instance.lock().unwrap_or_else(|e| e.into_inner());
    match instance.call_wave(call) {
        Ok(result) => {
            // The name is what comes before the arguments, in any spelling
            // the host takes, the component model's included.
            let name = call
                .split_once('(')
                .map(|(name, _)| name.trim())
                .expect("a call that ran has arguments");
            let ty = target
                .app
                .function_type(name)
                .expect("a function that ran exists");
            let results: Vec<Type> = ty.results().collect();
            if let [ty] = results.as_slice() {
                let value = Val::from_wave(ty, &result).unwrap_or_else(|e| {
                    panic!("the result of `{call}` does not read back: {e}; it is: {result}")
                });
                let again = value.to_wave().expect("a value read from WAVE writes");
                assert_eq!(
                    again, result,
                    "the result of `{call}` is not written as WAVE would"
                );
            } else {
                assert!(results.is_empty() || result.starts_with('('));
            }
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "an error without a message");
            let probe = instance
                .call_wave(PROBE.0)
                .unwrap_or_else(|e| panic!("after `{call}` failed, `{}` failed: {e:#}", PROBE.0));
            assert_eq!(
                probe, PROBE.1,
                "after `{call}` failed, `{}` was wrong",
                PROBE.0
            );
        }
    }
}

/// A name the host should find `name` (`interface#function`) by: in full,
/// without the version, as WAVE writes it, or the function alone.
fn spelling(u: &mut Unstructured<'_>, name: &str) -> Result<String> {
    let Some((interface, func)) = name.split_once('#') else {
        return Ok(name.to_string());
    };
    let (path, version) = interface.split_once('@').unwrap_or((interface, ""));
    let short = path.rsplit('/').next().unwrap_or(path);
    // The component model's spellings, which WAVE's own names cannot say.
    Ok(match u.int_in_range(0..=8)? {
        0 | 1 => format!("{path}.{func}@{version}"),
        2 | 3 => format!("{path}.{func}"),
        4 | 5 => format!("{short}.{func}"),
        6 => func.to_string(),
        7 => format!("{path}#{func}"),
        _ => name.to_string(),
    })
}

/// An arbitrary value of type `ty`; values of types WAVE cannot write
/// (resources and such) are strings, which the call then refuses.
fn value(u: &mut Unstructured<'_>, target: &Target, ty: &Type, depth: usize) -> Result<Val> {
    let len = |u: &mut Unstructured<'_>| -> Result<usize> {
        Ok(if depth > 3 { 0 } else { u.int_in_range(0..=8)? })
    };
    Ok(match ty {
        Type::Bool => Val::Bool(u.arbitrary()?),
        Type::S8 => Val::S8(u.arbitrary()?),
        Type::U8 => Val::U8(if u.arbitrary()? {
            u.int_in_range(0..=10)?
        } else {
            u.arbitrary()?
        }),
        Type::S16 => Val::S16(u.arbitrary()?),
        Type::U16 => Val::U16(u.arbitrary()?),
        Type::S32 => Val::S32(u.arbitrary()?),
        Type::U32 => Val::U32(u.arbitrary()?),
        Type::S64 => Val::S64(u.arbitrary()?),
        Type::U64 => Val::U64(if u.arbitrary()? {
            u.int_in_range(0..=1 << 20)?
        } else {
            u.arbitrary()?
        }),
        Type::Float32 => Val::Float32(u.arbitrary()?),
        Type::Float64 => Val::Float64(u.arbitrary()?),
        Type::Char => Val::Char(u.arbitrary()?),
        Type::String => Val::String(if u.ratio(1, 2)? {
            u.choose(TEXTS)?.to_string()
        } else {
            u.arbitrary::<&str>()?.chars().take(512).collect()
        }),
        Type::List(list) => match list.ty() {
            Type::U8 => {
                let bytes: Vec<u8> = if u.ratio(1, 4)? {
                    target.gzip.clone()
                } else {
                    let bytes: &[u8] = u.arbitrary()?;
                    bytes.iter().copied().take(1024).collect()
                };
                Val::List(bytes.into_iter().map(Val::U8).collect())
            }
            element => {
                let mut items = Vec::new();
                for _ in 0..len(u)? {
                    items.push(value(u, target, &element, depth + 1)?);
                }
                Val::List(items)
            }
        },
        Type::Record(record) => {
            let mut fields = Vec::new();
            for field in record.fields() {
                fields.push((
                    field.name.to_string(),
                    value(u, target, &field.ty, depth + 1)?,
                ));
            }
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let mut items = Vec::new();
            for ty in tuple.types() {
                items.push(value(u, target, &ty, depth + 1)?);
            }
            Val::Tuple(items)
        }
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().collect();
            let case = u.choose(&cases)?;
            let payload = match &case.ty {
                Some(ty) => Some(Box::new(value(u, target, ty, depth + 1)?)),
                None => None,
            };
            Val::Variant(case.name.to_string(), payload)
        }
        Type::Enum(e) => {
            let names: Vec<&str> = e.names().collect();
            Val::Enum(u.choose(&names)?.to_string())
        }
        Type::Option(option) => Val::Option(if u.arbitrary()? {
            Some(Box::new(value(u, target, &option.ty(), depth + 1)?))
        } else {
            None
        }),
        Type::Result(result) => {
            let side = if u.arbitrary()? {
                result.ok()
            } else {
                result.err()
            };
            let payload = match side {
                Some(ty) => Some(Box::new(value(u, target, &ty, depth + 1)?)),
                None => None,
            };
            Val::Result(if u.arbitrary()? {
                Ok(payload)
            } else {
                Err(payload)
            })
        }
        Type::Flags(flags) => {
            let mut set = Vec::new();
            for name in flags.names() {
                if u.arbitrary()? {
                    set.push(name.to_string());
                }
            }
            Val::Flags(set)
        }
        _ => Val::String(u.arbitrary::<&str>()?.to_string()),
    })
}

/// The app, composed, loaded and instantiated on first use.
///
/// # Panics
///
/// When a library guest has not been built (naming the command that
/// builds it), or the app does not compose, load or instantiate.
fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let manifest = nanoproc_linker::Manifest::parse("libraries.toml", MANIFEST)
            .expect("the library app's manifest parses");
        let mut bytes = IndexMap::new();
        for name in manifest.components().keys() {
            bytes.insert(name.clone(), crate::component_bytes(name));
        }
        let composition = nanoproc_linker::compose(&manifest, &bytes)
            .unwrap_or_else(|e| panic!("the library app does not compose: {e}"));
        let app = crate::runtime()
            .load(&composition.bytes, Options::default())
            .unwrap_or_else(|e| panic!("the library app does not load: {e:#}"));
        // Resources cannot be written in WAVE: calls to their constructors
        // and methods are only made by mutation.
        let functions = app
            .functions()
            .filter(|name| !name.contains('['))
            .map(|name| {
                let ty = app.function_type(name).expect("an exported function");
                (name.to_string(), ty)
            })
            .collect();
        let instance = app
            .instantiate()
            .unwrap_or_else(|e| panic!("the library app does not instantiate: {e:#}"));
        let gzip = {
            use std::io::Write as _;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder
                .write_all(TEXTS[0].repeat(8).as_bytes())
                .expect("writing to memory");
            encoder.finish().expect("writing to memory")
        };
        Target {
            app,
            functions,
            instance: Mutex::new(instance),
            gzip,
        }
    })
}
