//! flink-admission: one rule engine for Apache Flink on Kubernetes and OpenShift, served as an
//! admission webhook (`flink-admission`) and as an offline linter (`flink-lint`).
//!
//! Import direction: `flink` <- `engine` <- {`lint`, `admission` <- `server`}.
//! `engine` does no I/O; `lint` owns files, positions and output; `admission` speaks the
//! AdmissionReview wire format; `server` owns sockets, TLS, metrics and the cluster cache.

pub mod admission;
pub mod alloc;
pub mod deploy;
pub mod engine;
pub mod flink;
pub mod lint;
pub mod server;
