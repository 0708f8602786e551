//! Fuzz target: see `checks/quantity.rs` for what it drives and what must hold.
#![no_main]

#[path = "../checks/quantity.rs"]
mod quantity;

libfuzzer_sys::fuzz_target!(|data: &[u8]| quantity::check(data));
