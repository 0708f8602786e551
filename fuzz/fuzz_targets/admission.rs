//! Fuzz target: see `checks/admission.rs` for what it drives and what must hold.
#![no_main]

#[path = "../checks/admission.rs"]
mod admission;

libfuzzer_sys::fuzz_target!(|data: &[u8]| admission::check(data));
