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

use wasmparser::{Parser, Payload, Validator, WasmFeatures};

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
/// host functions are async. Only the structure is read, not the code of
/// functions, which cannot use these features but through the component's
/// own canonical functions. Any other feature is allowed here, so that a
/// component needing one the host lacks goes to the engine without
/// concurrency support, which refuses it as the linker does. A component
/// that is invalid for any other reason counts as using it: the engine that
/// has it reports what is wrong. Bytes that are no component do not:
/// whatever loads them says what they are.
pub fn uses_async(bytes: &[u8]) -> bool {
    if !Parser::is_component(bytes) {
        return false;
    }
    let mut validator = Validator::new_with_features(WasmFeatures::all().difference(ASYNC));
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else {
            return true;
        };
        match &payload {
            Payload::ComponentImportSection(imports) if depth == 0 => {
                let wasi_0_3 = imports.clone().into_iter().any(|import| {
                    import.is_ok_and(|import| {
                        crate::names::InterfaceName::parse(import.name.name).is_some_and(|name| {
                            name.base.starts_with("wasi:")
                                && name.version.is_some_and(|v| v.major == 0 && v.minor == 3)
                        })
                    })
                });
                if wasi_0_3 {
                    return true;
                }
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        if validator.payload(&payload).is_err() {
            return true;
        }
    }
    false
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
    fn every_feature_the_host_lacks_has_a_name() {
        for (flag, _) in (WasmFeatures::all() - HOST).iter_names() {
            assert_ne!(describe(flag).0, "a WebAssembly proposal", "{flag}");
        }
    }
}
