//! flink-admission: one rule engine for Apache Flink on Kubernetes and OpenShift, served as an
//! admission webhook (`flink-admission`) and as an offline linter (`flink-lint`).
//!
//! Import direction: `flink` <- `engine` <- `lint` (and later `admission` <- `server`).
//! `engine` does no I/O; `lint` owns files, positions and output.

pub mod engine;
pub mod flink;
pub mod lint;
