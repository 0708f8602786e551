//! flink-admission: one rule engine for Apache Flink on Kubernetes and OpenShift, served as an
//! admission webhook (`flink-admission`) and as an offline linter (`flink-lint`).
//!
//! Import direction: `flink` <- `engine` <- {`lint`, {`admission`, `audit`} <- `server`}.
//! `engine` does no I/O; `lint` owns files, positions and output; `admission` speaks the
//! AdmissionReview wire format; `audit` judges what already runs and computes PolicyReports;
//! `server` owns sockets, TLS, metrics, the cluster cache and the audit's API calls.

pub mod admission;
pub mod alloc;
pub mod audit;
pub mod deploy;
pub mod engine;
pub mod flink;
pub mod lint;
pub mod server;
