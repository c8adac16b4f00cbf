//! The `wave` target: see `nanoproc_tests::fuzz::wave`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = libfuzzer_sys::arbitrary::Unstructured::new(data);
    let _ = nanoproc_tests::fuzz::wave::run(&mut u);
});
