//! Fuzz target: see `checks/fix.rs` for what it drives and what must hold.
#![no_main]

#[path = "../checks/fix.rs"]
mod fix;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fix::check(data));
