//! Every integration test in one crate, so that `cargo test` links one binary instead of one
//! per file. Each module was a test crate of its own; `cargo test --test it MODULE::` runs one.

mod common;

mod admission;
mod audit;
mod cache;
mod cli;
mod corpus;
mod declared;
mod deploy;
mod docs_commands;
mod docs_tables;
mod faults;
mod fix_cli;
mod fix_safety;
mod fixes;
mod hardening;
mod hostile;
mod memory;
mod packaging;
mod policies;
mod psa;
mod regressions;
mod request_path;
mod rules;
mod schemas;
mod security;
mod server;
mod updates;
mod world;
