//! Fuzz target: see `checks/lint.rs` for what it drives and what must hold.
#![no_main]

#[path = "../checks/lint.rs"]
mod lint;

libfuzzer_sys::fuzz_target!(|data: &[u8]| lint::check(data));
