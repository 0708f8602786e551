//! Flink 2.0's configuration break: the keys it removed (with the key that replaced each, where
//! there is one), from the "List of removed configuration options" of the Flink 2.0 release
//! notes; and how Flink's migration tool turns a legacy `flink-conf.yaml` into `config.yaml`.

use super::config::FlinkConfig;
use super::image::FlinkVersion;

/// A key Flink 2.0 removed, and what to write instead (`None`: no replacement, drop it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub key: &'static str,
    pub instead: Option<&'static str>,
}

const fn r(key: &'static str, instead: Option<&'static str>) -> Removed {
    Removed { key, instead }
}

/// The keys of the Flink 2.0 release notes' list that a cluster's configuration file or a
/// FlinkDeployment's `flinkConfiguration` is likely to hold (runtime, network, web, security,
/// state; not the SQL planner's `table.*` options), with the key each was deprecated in favour
/// of during 1.x, where there is one.
pub const REMOVED_IN_2_0: &[Removed] = &[
    r(
        "cluster.evenly-spread-out-slots",
        Some("taskmanager.load-balance.mode: SLOTS"),
    ),
    r("high-availability.job.delay", None),
    r("high-availability.zookeeper.path.jobgraphs", None),
    r("high-availability.zookeeper.path.running-registry", None),
    r(
        "jobmanager.adaptive-batch-scheduler.avg-data-volume-per-task",
        Some("execution.batch.adaptive.auto-parallelism.avg-data-volume-per-task"),
    ),
    r(
        "jobmanager.adaptive-batch-scheduler.default-source-parallelism",
        Some("execution.batch.adaptive.auto-parallelism.default-source-parallelism"),
    ),
    r(
        "jobmanager.adaptive-batch-scheduler.max-parallelism",
        Some("execution.batch.adaptive.auto-parallelism.max-parallelism"),
    ),
    r(
        "jobmanager.adaptive-batch-scheduler.min-parallelism",
        Some("execution.batch.adaptive.auto-parallelism.min-parallelism"),
    ),
    r(
        "jobmanager.adaptive-batch-scheduler.speculative.enabled",
        Some("execution.batch.speculative.enabled"),
    ),
    r(
        "jobmanager.adaptive-batch-scheduler.speculative.max-concurrent-executions",
        Some("execution.batch.speculative.max-concurrent-executions"),
    ),
    r(
        "jobmanager.adaptive-batch-scheduler.speculative.block-slow-node-duration",
        Some("execution.batch.speculative.block-slow-node-duration"),
    ),
    r("jobmanager.heap.mb", Some("jobmanager.memory.heap.size")),
    r("jobmanager.heap.size", Some("jobmanager.memory.heap.size")),
    r("jobmanager.web.address", Some("rest.address")),
    r("jobmanager.web.port", Some("rest.port")),
    r(
        "jobmanager.web.ssl.enabled",
        Some("security.ssl.rest.enabled"),
    ),
    r(
        "pipeline.default-kryo-serializers",
        Some("pipeline.serialization-config"),
    ),
    r(
        "pipeline.registered-kryo-types",
        Some("pipeline.serialization-config"),
    ),
    r(
        "pipeline.registered-pojo-types",
        Some("pipeline.serialization-config"),
    ),
    r("recovery.job.delay", None),
    r(
        "security.kerberos.fetch.delegation-token",
        Some("security.delegation.tokens.enabled"),
    ),
    r(
        "security.kerberos.tokens.renewal.retry.backoff",
        Some("security.delegation.tokens.renewal.retry.backoff"),
    ),
    r(
        "security.kerberos.tokens.renewal.time-ratio",
        Some("security.delegation.tokens.renewal.time-ratio"),
    ),
    r(
        "security.ssl.enabled",
        Some("security.ssl.internal.enabled"),
    ),
    r(
        "slotmanager.taskmanager-timeout",
        Some("resourcemanager.taskmanager-timeout"),
    ),
    r("state.backend.async", None),
    r(
        "state.backend.latency-track.history-size",
        Some("state.latency-track.history-size"),
    ),
    r(
        "state.backend.latency-track.keyed-state-enabled",
        Some("state.latency-track.keyed-state-enabled"),
    ),
    r(
        "state.backend.latency-track.sample-interval",
        Some("state.latency-track.sample-interval"),
    ),
    r(
        "state.backend.latency-track.state-name-as-variable",
        Some("state.latency-track.state-name-as-variable"),
    ),
    r(
        "state.backend.local-recovery",
        Some("execution.state-recovery.from-local"),
    ),
    r(
        "state.backend.rocksdb.checkpointdir",
        Some("state.backend.rocksdb.localdir"),
    ),
    r("taskmanager.exit-on-fatal-akka-error", None),
    r("taskmanager.heap.mb", Some("taskmanager.memory.flink.size")),
    r(
        "taskmanager.heap.size",
        Some("taskmanager.memory.flink.size"),
    ),
    r(
        "taskmanager.initial-registration-pause",
        Some("cluster.registration.initial-timeout"),
    ),
    r(
        "taskmanager.max-registration-pause",
        Some("cluster.registration.max-timeout"),
    ),
    r(
        "taskmanager.refused-registration-pause",
        Some("cluster.registration.refused-registration-delay"),
    ),
    r(
        "taskmanager.registration.initial-backoff",
        Some("cluster.registration.initial-timeout"),
    ),
    r(
        "taskmanager.registration.max-backoff",
        Some("cluster.registration.max-timeout"),
    ),
    r(
        "taskmanager.registration.refused-backoff",
        Some("cluster.registration.refused-registration-delay"),
    ),
    r("taskmanager.net.client.numThreads", None),
    r("taskmanager.net.num-arenas", None),
    r("taskmanager.net.sendReceiveBufferSize", None),
    r("taskmanager.net.server.backlog", None),
    r("taskmanager.net.server.numThreads", None),
    r("taskmanager.net.transport", None),
    r(
        "taskmanager.network.batch-shuffle.compression.enabled",
        Some("taskmanager.network.compression.codec: NONE (to switch compression off)"),
    ),
    r(
        "taskmanager.network.blocking-shuffle.compression.enabled",
        Some("taskmanager.network.compression.codec: NONE (to switch compression off)"),
    ),
    r("taskmanager.network.blocking-shuffle.type", None),
    r("taskmanager.network.max-num-tcp-connections", None),
    r("taskmanager.network.memory.buffers-per-channel", None),
    r(
        "taskmanager.network.memory.exclusive-buffers-request-timeout-ms",
        Some("taskmanager.network.memory.exclusive-buffers-request-timeout"),
    ),
    r("taskmanager.network.memory.floating-buffers-per-gate", None),
    r(
        "taskmanager.network.memory.fraction",
        Some("taskmanager.memory.network.fraction"),
    ),
    r(
        "taskmanager.network.memory.max",
        Some("taskmanager.memory.network.max"),
    ),
    r("taskmanager.network.memory.max-buffers-per-channel", None),
    r(
        "taskmanager.network.memory.max-overdraft-buffers-per-gate",
        None,
    ),
    r(
        "taskmanager.network.memory.min",
        Some("taskmanager.memory.network.min"),
    ),
    r("taskmanager.network.netty.client.numThreads", None),
    r("taskmanager.network.netty.num-arenas", None),
    r("taskmanager.network.netty.sendReceiveBufferSize", None),
    r("taskmanager.network.netty.server.backlog", None),
    r("taskmanager.network.netty.server.numThreads", None),
    r("taskmanager.network.netty.transport", None),
    r(
        "taskmanager.network.numberOfBuffers",
        Some("taskmanager.memory.network.min and taskmanager.memory.network.max"),
    ),
    r("taskmanager.network.sort-shuffle.min-parallelism", None),
    r("web.address", Some("rest.address")),
    r("web.backpressure.cleanup-interval", None),
    r("web.backpressure.delay-between-samples", None),
    r("web.backpressure.num-samples", None),
    r("web.backpressure.refresh-interval", None),
    r("web.port", Some("rest.port")),
    r("web.ssl.enabled", Some("security.ssl.rest.enabled")),
];

/// The removed keys a configuration sets, in its order, for a Flink version that no longer reads
/// them (2.0 and later); nothing for 1.x.
pub fn removed_keys(cfg: &FlinkConfig, version: FlinkVersion) -> Vec<(&str, Removed)> {
    if version < FlinkVersion::V2_0 {
        return Vec::new();
    }
    cfg.keys()
        .filter_map(|k| REMOVED_IN_2_0.iter().find(|r| r.key == k).map(|r| (k, *r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_keys_only_from_flink_2() {
        let cfg: FlinkConfig = [
            ("taskmanager.numberOfTaskSlots", "2"),
            ("web.port", "8081"),
            ("state.backend.async", "true"),
            ("taskmanager.network.memory.fraction", "0.1"),
        ]
        .into_iter()
        .collect();
        let found = removed_keys(&cfg, FlinkVersion::new(2, 0));
        assert_eq!(
            found
                .iter()
                .map(|(k, r)| (*k, r.instead))
                .collect::<Vec<_>>(),
            vec![
                ("web.port", Some("rest.port")),
                ("state.backend.async", None),
                (
                    "taskmanager.network.memory.fraction",
                    Some("taskmanager.memory.network.fraction")
                ),
            ]
        );
        assert!(removed_keys(&cfg, FlinkVersion::new(1, 20)).is_empty());
        assert_eq!(removed_keys(&cfg, FlinkVersion::new(2, 2)).len(), 3);
    }

    #[test]
    fn the_table_has_no_duplicates_and_no_replacement_that_was_removed() {
        for (i, a) in REMOVED_IN_2_0.iter().enumerate() {
            assert!(
                REMOVED_IN_2_0[i + 1..].iter().all(|b| b.key != a.key),
                "{} twice",
                a.key
            );
            if let Some(new) = a.instead {
                let new_key = new.split([':', ' ']).next().unwrap_or(new);
                assert!(
                    REMOVED_IN_2_0.iter().all(|b| b.key != new_key),
                    "{} -> {new_key}, removed too",
                    a.key
                );
            }
        }
    }
}
