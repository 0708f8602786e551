//! The Flink domain, a leaf: object kinds and views, the Flink configuration (flat or nested,
//! `flink-conf.yaml` or `config.yaml`), memory sizes and Kubernetes quantities, versions.

pub mod config;
pub mod ha;
pub mod image;
pub mod kinds;
pub mod logging;
pub mod memory;
pub mod migration;
pub mod object;
pub mod operator;
pub mod pointer;
pub mod quantity;
