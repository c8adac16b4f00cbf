//! The WebAssembly features the host runs, and naming the one a component
//! uses beyond them.
//!
//! The linker never depends on wasmtime, so the host engine's features are
//! written down here: wasmtime's defaults as the host builds it (no `gc` or
//! `threads` crate feature), which are the WebAssembly 3.0 set of
//! wasmparser without the proposals those crate features carry, and
//! without multiple memories, which the engine validates but its pooling
//! allocator refuses (one memory per module); and the async component
//! model ([`ASYNC`]), which the host runs on an engine of its own. A test
//! compiles a component using each feature in the host's engines and
//! composes it here, and fails when the two disagree.

use wasmparser::{
    CanonicalFunction, CanonicalOption, Chunk, ComponentDefinedType, ComponentType,
    ComponentTypeDeclaration, ComponentValType, InstanceTypeDeclaration, Parser, Payload,
    PrimitiveValType, WasmFeatures,
};

/// The features of the async component model that the host enables:
/// async functions, `stream`, `future`, `error-context`, the further async
/// built-ins and stackful lifts. Component-model threads stay off. The host
/// runs an app using any of them (see [`uses_async`]) on its engine with
/// concurrency support, and every other app on an engine without it, whose
/// calls between components do less.
pub const ASYNC: WasmFeatures = WasmFeatures::CM_ASYNC
    .union(WasmFeatures::CM_MORE_ASYNC_BUILTINS)
    .union(WasmFeatures::CM_ASYNC_STACKFUL)
    .union(WasmFeatures::CM_ERROR_CONTEXT);

/// The features the host's engines enable: components are validated with
/// these and no more, so that what composes also compiles. Public as
/// [`HOST_FEATURES`](crate::HOST_FEATURES), for those that check a composed
/// app as the host will.
pub const HOST: WasmFeatures = WasmFeatures::WASM3
    .union(WasmFeatures::COMPONENT_MODEL)
    .union(ASYNC)
    .difference(WasmFeatures::GC_TYPES)
    .difference(WasmFeatures::EXCEPTIONS)
    .difference(WasmFeatures::THREADS)
    .difference(WasmFeatures::MULTI_MEMORY);

/// Whether the component `bytes` uses the async component model: a feature
/// of [`ASYNC`] (an async function, a `stream`, a `future`, an
/// `error-context`, an async built-in), or an import of WASI 0.3, whose
/// host functions are async. Only the component's own sections are read
/// (its types, canonical functions and imports), not its core modules,
/// which cannot use these features but through those canonical functions.
/// A component needing another feature the host lacks goes to the engine
/// without concurrency support, which refuses it as the linker does. A
/// component whose sections cannot be read counts as using it: the engine
/// that has every feature reports what is wrong. Bytes that are no
/// component do not: whatever loads them says what they are.
pub fn uses_async(bytes: &[u8]) -> bool {
    if !Parser::is_component(bytes) {
        return false;
    }
    component_uses_async(bytes).unwrap_or(true)
}

/// [`uses_async`] of a component, reading its component-level sections
/// only: a core module cannot use the async component model but through
/// the component's canonical functions, so core modules are skipped
/// unread (validating them took most of the time of loading an app from
/// the cache).
fn component_uses_async(mut bytes: &[u8]) -> wasmparser::Result<bool> {
    let mut parser = Parser::new(0);
    let mut outer = Vec::new();
    loop {
        let Chunk::Parsed { consumed, payload } = parser.parse(bytes, true)? else {
            return Ok(true);
        };
        bytes = &bytes[consumed..];
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let Some(rest) = usize::try_from(unchecked_range.end - unchecked_range.start)
                    .ok()
                    .and_then(|len| bytes.get(len..))
                else {
                    return Ok(true);
                };
                bytes = rest;
            }
            Payload::ComponentSection { parser: nested, .. } => {
                outer.push(std::mem::replace(&mut parser, nested))
            }
            Payload::End(_) => match outer.pop() {
                Some(enclosing) => parser = enclosing,
                None => return Ok(false),
            },
            Payload::ComponentImportSection(imports) if outer.is_empty() => {
                for import in imports {
                    let name = import?.name.name;
                    let wasi_0_3 = crate::names::InterfaceName::parse(name).is_some_and(|name| {
                        name.base.starts_with("wasi:")
                            && name.version.is_some_and(|v| v.major == 0 && v.minor == 3)
                    });
                    if wasi_0_3 {
                        return Ok(true);
                    }
                }
            }
            Payload::ComponentTypeSection(types) => {
                for ty in types {
                    if type_is_async(&ty?) {
                        return Ok(true);
                    }
                }
            }
            Payload::ComponentCanonicalSection(functions) => {
                for function in functions {
                    if canonical_is_async(&function?) {
                        return Ok(true);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether the type `ty` is or holds an async function, a `stream`, a
/// `future` or an `error-context`.
fn type_is_async(ty: &ComponentType<'_>) -> bool {
    match ty {
        ComponentType::Defined(defined) => defined_is_async(defined),
        ComponentType::Func(func) => {
            func.async_
                || func.params.iter().any(|(_, ty)| value_is_async(ty))
                || func.result.as_ref().is_some_and(value_is_async)
        }
        ComponentType::Component(declarations) => declarations.iter().any(|d| match d {
            ComponentTypeDeclaration::Type(ty) => type_is_async(ty),
            _ => false,
        }),
        ComponentType::Instance(declarations) => declarations.iter().any(|d| match d {
            InstanceTypeDeclaration::Type(ty) => type_is_async(ty),
            _ => false,
        }),
        ComponentType::Resource { .. } => false,
    }
}

fn defined_is_async(defined: &ComponentDefinedType<'_>) -> bool {
    use ComponentDefinedType as D;
    match defined {
        D::Primitive(primitive) => *primitive == PrimitiveValType::ErrorContext,
        D::Record(fields) => fields.iter().any(|(_, ty)| value_is_async(ty)),
        D::Variant(cases) => cases
            .iter()
            .any(|case| case.ty.as_ref().is_some_and(value_is_async)),
        D::List(ty) | D::FixedLengthList(ty, _) | D::Option(ty) => value_is_async(ty),
        D::Map(key, value) => value_is_async(key) || value_is_async(value),
        D::Tuple(types) => types.iter().any(value_is_async),
        D::Result { ok, err } => {
            ok.as_ref().is_some_and(value_is_async) || err.as_ref().is_some_and(value_is_async)
        }
        D::Flags(_) | D::Enum(_) | D::Own(_) | D::Borrow(_) => false,
        D::Future(_) | D::Stream(_) => true,
    }
}

/// Whether `ty` is an `error-context` written in place (any other type
/// it can be is defined, and checked, where it is defined).
fn value_is_async(ty: &ComponentValType) -> bool {
    matches!(
        ty,
        ComponentValType::Primitive(PrimitiveValType::ErrorContext)
    )
}

/// Whether the canonical function `function` is an async lift or lower, or
/// a built-in of the async component model (those of component-model
/// threads are not).
fn canonical_is_async(function: &CanonicalFunction) -> bool {
    use CanonicalFunction as F;
    match function {
        F::Lift { options, .. } | F::Lower { options, .. } => options
            .iter()
            .any(|o| matches!(o, CanonicalOption::Async | CanonicalOption::Callback(_))),
        F::ResourceNew { .. }
        | F::ResourceDrop { .. }
        | F::ResourceRep { .. }
        | F::ThreadSpawnRef { .. }
        | F::ThreadSpawnIndirect { .. }
        | F::ThreadAvailableParallelism
        | F::ThreadIndex
        | F::ThreadNewIndirect { .. }
        | F::ThreadResumeLater
        | F::ThreadSuspend { .. }
        | F::ThreadSuspendThenResume { .. }
        | F::ThreadYieldThenResume { .. }
        | F::ThreadSuspendThenPromote { .. }
        | F::ThreadYieldThenPromote { .. } => false,
        _ => true,
    }
}

/// A feature outside [`HOST`] that `bytes` cannot be validated without, by
/// its name for people and a hint on building without it; `None` when the
/// bytes are valid with every feature off too, or invalid even with all on,
/// or need one of several features.
pub(crate) fn beyond_host(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let all = WasmFeatures::all();
    if crate::validate::validate(bytes, all).is_err() {
        return None;
    }
    (all - HOST)
        .iter_names()
        .find(|(_, feature)| crate::validate::validate(bytes, all - *feature).is_err())
        .map(|(name, _)| describe(name))
}

/// A feature's name (as wasmparser spells the flag) for people, and how to
/// do without it.
fn describe(flag: &str) -> (&'static str, &'static str) {
    const REBUILD: &str = "rebuild the component without it";
    match flag {
        "THREADS" => (
            "threads (shared memory and atomics)",
            "rebuild the component without shared memory or atomics (for Rust, without `-C target-feature=+atomics`)",
        ),
        "SHARED_EVERYTHING_THREADS" => ("shared-everything threads", REBUILD),
        "EXCEPTIONS" => (
            "exception handling",
            "rebuild the component without exception handling (for Rust, with `panic = \"abort\"`)",
        ),
        "LEGACY_EXCEPTIONS" => (
            "legacy exception handling (`try`)",
            "rebuild the component without exception handling (for Rust, with `panic = \"abort\"`)",
        ),
        "GC_TYPES" => (
            "garbage collection (struct, array, `i31` and `externref` types)",
            REBUILD,
        ),
        "MULTI_MEMORY" => (
            "multiple memories in one module",
            "rebuild the component with one memory in each module: the host's pooled instances hold one",
        ),
        "STACK_SWITCHING" => ("stack switching", REBUILD),
        "CUSTOM_PAGE_SIZES" => ("custom page sizes", REBUILD),
        "MEMORY_CONTROL" => ("memory control", REBUILD),
        "WIDE_ARITHMETIC" => ("wide arithmetic", REBUILD),
        "CUSTOM_DESCRIPTORS" => ("custom descriptors", REBUILD),
        "COMPACT_IMPORTS" => ("compact imports", REBUILD),
        "CM_THREADING" => ("component-model threads", REBUILD),
        "CM_FIXED_LENGTH_LISTS" => ("fixed-length lists", REBUILD),
        "CM_VALUES" => ("component-model values", REBUILD),
        "CM_NESTED_NAMES" => ("nested names", REBUILD),
        "CM_GC" => ("component-model GC options", REBUILD),
        "CM_MAP" => ("component-model maps", REBUILD),
        "CM64" => ("64-bit component-model memories", REBUILD),
        "CM_IMPLEMENTS" => ("component-model `implements` names", REBUILD),
        "CM_CANON_NAMES" => ("component-model canonical names", REBUILD),
        _ => ("a WebAssembly proposal", REBUILD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(wat: &str) -> Option<&'static str> {
        beyond_host(&wat::parse_str(wat).unwrap()).map(|(name, _)| name)
    }

    #[test]
    fn names_the_feature_a_component_needs() {
        assert_eq!(
            needs("(component (core module (memory 1 1 shared)))"),
            Some("threads (shared memory and atomics)")
        );
        assert_eq!(
            needs("(component (core module (func (block (try_table (catch_all 0))))))"),
            Some("exception handling")
        );
        assert_eq!(
            needs("(component (core module (type (struct))))"),
            Some("garbage collection (struct, array, `i31` and `externref` types)")
        );
        assert_eq!(
            needs("(component (core module (memory 1) (memory 1)))"),
            Some("multiple memories in one module")
        );
        assert_eq!(needs("(component (core module (memory i64 1)))"), None);
        assert_eq!(needs("(component (core module (func (result i32))))"), None);
    }

    #[test]
    fn only_a_component_can_use_the_async_component_model() {
        let stream = "(component (type (stream u8)))";
        assert!(uses_async(&wat::parse_str(stream).unwrap()));
        assert!(!uses_async(&wat::parse_str("(component)").unwrap()));
        let memories = "(component (core module (memory 1) (memory 1)))";
        assert!(!uses_async(&wat::parse_str(memories).unwrap()));
        assert!(!uses_async(b"# a page\n"));
        assert!(!uses_async(b""));
        assert!(!uses_async(&wat::parse_str("(module)").unwrap()));
    }

    #[test]
    fn each_feature_of_the_async_component_model_is_seen_wherever_it_is() {
        let core = "(core module $m (func (export \"f\") (param i32) (result i32) local.get 0))";
        let lifted = |options: &str| {
            format!(
                "(component {core} (core instance $i (instantiate $m)) \
                 (func (export \"f\") (param \"x\" u32) (result u32) \
                 (canon lift (core func $i \"f\") {options})))"
            )
        };
        let cases = [
            (
                "an async function type",
                "(component (type (func async)))".to_string(),
            ),
            (
                "a future type",
                "(component (type (future u32)))".to_string(),
            ),
            (
                "a stream in a record",
                "(component (type $s (stream)) (type (record (field \"s\" $s))))".to_string(),
            ),
            (
                "an error-context parameter",
                "(component (type (func (param \"e\" error-context))))".to_string(),
            ),
            (
                "an error-context in a list",
                "(component (type (list error-context)))".to_string(),
            ),
            (
                "a stream in an instance type",
                "(component (type (instance (type (stream u8)))))".to_string(),
            ),
            (
                "a stream in a nested component",
                "(component (component (type (stream u8))))".to_string(),
            ),
            (
                "an async lift",
                lifted("async (callback (core func $i \"f\"))"),
            ),
            (
                "a built-in",
                "(component (core func (canon waitable-set.new)))".to_string(),
            ),
            (
                "a built-in",
                "(component (core func (canon context.get i32 0)))".to_string(),
            ),
            (
                "a WASI 0.3 import",
                "(component (import \"wasi:cli/stdout@0.3.0\" (instance)))".to_string(),
            ),
        ];
        for (what, wat) in cases {
            let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(uses_async(&bytes), "{what}: {wat}");
        }
        let sync = [
            lifted(""),
            "(component (type $r (resource (rep i32))) (core func (canon resource.new $r)))"
                .to_string(),
            "(component (import \"wasi:cli/stdout@0.2.12\" (instance)))".to_string(),
            "(component (component (import \"wasi:cli/stdout@0.3.0\" (instance))))".to_string(),
        ];
        for wat in sync {
            assert!(!uses_async(&wat::parse_str(&wat).unwrap()), "{wat}");
        }
        // Bytes a parser stops at count as async: the engine that has
        // every feature says what is wrong with them.
        let mut cut = wat::parse_str("(component (type (func)))").unwrap();
        cut.truncate(cut.len() - 1);
        assert!(uses_async(&cut));
    }

    #[test]
    fn every_feature_the_host_lacks_has_a_name() {
        for (flag, _) in (WasmFeatures::all() - HOST).iter_names() {
            assert_ne!(describe(flag).0, "a WebAssembly proposal", "{flag}");
        }
    }
}
