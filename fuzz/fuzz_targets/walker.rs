//! Fuzz target: see `checks/walker.rs` for what it drives and what must hold.
#![no_main]

#[path = "../checks/walker.rs"]
mod walker;

libfuzzer_sys::fuzz_target!(|data: &[u8]| walker::check(data));
