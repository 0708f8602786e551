//! Fuzz target: see `checks/flink_config.rs` for what it drives and what must hold.
#![no_main]

#[path = "../checks/flink_config.rs"]
mod flink_config;

libfuzzer_sys::fuzz_target!(|data: &[u8]| flink_config::check(data));
