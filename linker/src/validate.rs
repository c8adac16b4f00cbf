//! Validating a component with the code of its functions checked on several
//! threads.
//!
//! Checking function bodies is most of the cost of validating a component,
//! and each body can be checked on its own once the structure before it has
//! been validated: wasmparser hands each out as a `FuncToValidate` for that.
//! The calling thread validates the structure in order and hands the bodies
//! out in batches as it meets them; meanwhile one more thread per core (see
//! `parallel`) checks them, and so does the calling thread once the
//! structure is done. The outcome is exactly that of `validate_all`, which
//! validates the whole structure before any body and reports the first
//! error: a structural error as soon as it is met, else the error of the
//! first body in order that is not valid.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser,
    ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// How many bodies a thread takes at a time.
const BATCH: usize = 32;

/// Consecutive function bodies, with the position of the first among all
/// bodies, and what checking each needs.
type Batch<'a> = (
    usize,
    Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'a>)>,
);

/// Validates the component or module `bytes` with `features`, with the
/// outcome of `Validator::new_with_features(features).validate_all(bytes)`.
pub(crate) fn validate(bytes: &[u8], features: WasmFeatures) -> Result<(), BinaryReaderError> {
    let (send, receive) = mpsc::channel::<Batch<'_>>();
    let receive = Mutex::new(receive);
    let failed = AtomicBool::new(false);
    // A thread takes no new batch once a body has failed, but finishes the
    // one it has. Batches are taken in order, so every body before a failed
    // one is then checked, and the first failure in order is known.
    let check = || -> Option<(usize, BinaryReaderError)> {
        let mut allocations = FuncValidatorAllocations::default();
        while !failed.load(Ordering::Relaxed) {
            let next = receive.lock().unwrap_or_else(|e| e.into_inner()).recv();
            let Ok((start, batch)) = next else {
                break;
            };
            for (i, (func, body)) in batch.into_iter().enumerate() {
                let mut validator = func.into_validator(allocations);
                if let Err(e) = validator.validate(&body) {
                    failed.store(true, Ordering::Relaxed);
                    return Some((start + i, e));
                }
                allocations = validator.into_allocations();
            }
        }
        None
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..crate::parallel::threads(usize::MAX))
            .map(|_| scope.spawn(check))
            .collect();
        let structure = structure(bytes, features, send);
        let mut failures: Vec<(usize, BinaryReaderError)> = helpers
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .chain([check()])
            .flatten()
            .collect();
        structure?;
        failures.sort_by_key(|(i, _)| *i);
        match failures.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    })
}

/// Validates everything in `bytes` but function bodies, which it sends to
/// `bodies` in batches; returns the first error.
fn structure<'a>(
    bytes: &'a [u8],
    features: WasmFeatures,
    bodies: mpsc::Sender<Batch<'a>>,
) -> Result<(), BinaryReaderError> {
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut batch = Vec::with_capacity(BATCH);
    let mut start = 0;
    // Sending fails only once the receiving end is dropped, which is after
    // this returns.
    for payload in parser.parse_all(bytes) {
        if let ValidPayload::Func(func, body) = validator.payload(&payload?)? {
            batch.push((func, body));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                bodies.send((start, full)).ok();
                start += BATCH;
            }
        }
    }
    if !batch.is_empty() {
        bodies.send((start, batch)).ok();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our outcome and `validate_all`'s, for the component in `wat`.
    fn both(wat: &str) -> (Result<(), String>, Result<(), String>) {
        let bytes = wat::parse_str(wat).unwrap();
        let features = WasmFeatures::default();
        (
            validate(&bytes, features).map_err(|e| e.to_string()),
            Validator::new_with_features(features)
                .validate_all(&bytes)
                .map(drop)
                .map_err(|e| e.to_string()),
        )
    }

    fn valid(n: usize) -> String {
        "(func (param i32) (result i32) local.get 0 i32.const 1 i32.add)".repeat(n)
    }

    #[test]
    fn valid_component_with_many_functions_is_valid() {
        let (ours, theirs) = both(&format!(
            "(component (core module {}) (core module {}) (core module))",
            valid(1000),
            valid(7)
        ));
        assert_eq!(ours, Ok(()));
        assert_eq!(theirs, Ok(()));
    }

    #[test]
    fn error_is_that_of_the_first_invalid_body() {
        for before in [0, 1, 31, 32, 33, 500] {
            let (ours, theirs) = both(&format!(
                "(component
                    (core module {} (func (result i32)) {} (func (result i64) i32.const 0))
                    (core module (func (result f32))))",
                valid(before),
                valid(100)
            ));
            assert!(ours.is_err());
            assert_eq!(ours, theirs, "with {before} valid bodies before");
        }
    }

    #[test]
    fn structural_error_comes_before_any_body_error() {
        let (ours, theirs) = both(&format!(
            r#"(component
                (core module {} (func (result i32)))
                (import "Not Kebab" (func)))"#,
            valid(100)
        ));
        assert!(!ours.as_ref().unwrap_err().contains("type mismatch"));
        assert_eq!(ours, theirs);
    }
}
