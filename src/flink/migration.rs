//! Flink 2.0's configuration break: the keys it removed (with the key that replaced each, where
//! there is one), from the "List of removed configuration options" of the Flink 2.0 release
//! notes; and how Flink's migration tool turns a legacy `flink-conf.yaml` into `config.yaml`.

use indexmap::IndexMap;

use super::config::{self, FlinkConfig};
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

/// One node of the nested `config.yaml` being written: the comment lines written above it, and a
/// value (with the comment written after it on its line) or the keys below it.
#[derive(Debug, Default)]
struct Node {
    comments: Vec<String>,
    value: Option<(String, Option<String>)>,
    children: IndexMap<String, Node>,
}

/// Whether a key segment can be a plain YAML mapping key as it is.
fn plain_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `text` as a YAML scalar that Flink's `config.yaml` loader reads back as the same text:
/// plain when that holds, else single-quoted.
fn scalar(text: &str) -> Option<String> {
    let reads_back = |yaml: &str| {
        config::parse_yaml(&format!("k: {yaml}\n"))
            .ok()
            .is_some_and(|c| c.get("k") == Some(text))
    };
    if reads_back(text) {
        return Some(text.to_string());
    }
    let quoted = format!("'{}'", text.replace('\'', "''"));
    reads_back(&quoted).then_some(quoted)
}

/// Insert `key` (split on dots) below `root`, nested where no other key is in the way, else
/// flat at the top; a key set twice keeps its first place and takes the last value, as the
/// legacy parser does.
fn insert(
    root: &mut Node,
    key: &str,
    value: String,
    trailing: Option<String>,
    comments: Vec<String>,
) {
    let segments: Vec<&str> = key.split('.').collect();
    let nestable = segments.iter().all(|s| plain_segment(s)) && {
        // Every prefix must be a map (or free), and the last segment a leaf (or free).
        let mut node: &Node = root;
        let mut ok = true;
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            match node.children.get(*seg) {
                None => break,
                Some(child) if last => ok = child.children.is_empty(),
                Some(child) if child.value.is_some() => {
                    ok = false;
                    break;
                }
                Some(child) => node = child,
            }
        }
        ok
    };
    let path: Vec<&str> = if nestable { segments } else { vec![key] };
    // The comments above the line go above the first map or key the line adds (the top of
    // what it writes), else above its value.
    let mut comments = Some(comments);
    let mut node = root;
    for seg in path {
        let new = !node.children.contains_key(seg);
        node = node.children.entry(seg.to_string()).or_default();
        if new && let Some(c) = comments.take() {
            node.comments.extend(c);
        }
    }
    if let Some(c) = comments {
        node.comments.extend(c);
    }
    node.value = Some((value, trailing));
}

/// Write the keys below `node`, indented by `indent`.
fn emit(node: &Node, indent: usize, out: &mut String) -> Option<()> {
    let pad = " ".repeat(indent);
    for (name, child) in &node.children {
        for c in &child.comments {
            if c.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("{pad}{c}\n"));
            }
        }
        let key = if plain_segment(&name.replace('.', "")) {
            name.clone()
        } else {
            scalar(name)?
        };
        match &child.value {
            Some((value, trailing)) => {
                out.push_str(&format!("{pad}{key}: {}", scalar(value)?));
                if let Some(t) = trailing {
                    out.push_str(&format!(" {t}"));
                }
                out.push('\n');
            }
            None => {
                out.push_str(&format!("{pad}{key}:\n"));
                emit(child, indent + 2, out)?;
            }
        }
    }
    Some(())
}

/// A legacy `flink-conf.yaml` rewritten as the nested standard-YAML `config.yaml` that Flink
/// (1.19+, the only file 2.x reads) reads as the same configuration: keys nested on their dots
/// (flat where another key is in the way), values as scalars that read back as the same text,
/// and the comments kept with the key they stand above or beside (those after the last key at
/// the end). `None` when the file has lines the legacy parser skips (their meaning is the
/// author's), or when the result would not read back as the same configuration.
pub fn legacy_to_yaml(text: &str) -> Option<String> {
    let (legacy, issues) = config::parse_legacy(text);
    if !issues.is_empty() {
        return None;
    }
    let mut root = Node::default();
    let mut pending: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        let (conf, comment) = match line.find('#') {
            Some(i) => (line[..i].trim(), Some(line[i..].trim_end().to_string())),
            None => (line, None),
        };
        if conf.is_empty() {
            // A comment line, or a blank line between groups of keys.
            pending.push(comment.unwrap_or_default());
            continue;
        }
        let (key, value) = conf.split_once(": ")?;
        insert(
            &mut root,
            key.trim(),
            value.trim().to_string(),
            comment,
            std::mem::take(&mut pending),
        );
    }
    let mut out = String::new();
    emit(&root, 0, &mut out)?;
    // Comments after the last key, without the blank lines that end the file.
    while pending.last().is_some_and(String::is_empty) {
        pending.pop();
    }
    for c in pending {
        out.push_str(&c);
        out.push('\n');
    }
    let back = config::parse_yaml(&out).ok()?;
    let same = back.len() == legacy.len() && legacy.iter().all(|(k, v)| back.get(k) == Some(v));
    same.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flink-conf.yaml as the Flink docs' standalone manifests write one, with comments.
    const DOCS: &str = "\
# The JobManager
jobmanager.rpc.address: flink-jobmanager
taskmanager.numberOfTaskSlots: 2
blob.server.port: 6124
jobmanager.rpc.port: 6123   # fixed, for the Service
taskmanager.rpc.port: 6122
jobmanager.memory.process.size: 1600m

# HA, old key first
high-availability: kubernetes
high-availability.storageDir: s3://flink/ha
parallelism.default: 2
env.java.opts: -XX:+UseG1GC -Dx=y
# the end
";

    #[test]
    fn legacy_files_migrate_to_nested_yaml_with_their_comments() {
        let out = legacy_to_yaml(DOCS).unwrap();
        assert_eq!(
            out,
            "\
# The JobManager
jobmanager:
  rpc:
    address: flink-jobmanager
    port: 6123 # fixed, for the Service
  memory:
    process:
      size: 1600m
taskmanager:
  numberOfTaskSlots: 2
  rpc:
    port: 6122
blob:
  server:
    port: 6124

# HA, old key first
high-availability: kubernetes
high-availability.storageDir: s3://flink/ha
parallelism:
  default: 2
env:
  java:
    opts: -XX:+UseG1GC -Dx=y
# the end
"
        );
        let (legacy, _) = config::parse_legacy(DOCS);
        let yaml = config::parse_yaml(&out).unwrap();
        assert_eq!(yaml.len(), legacy.len());
        assert!(legacy.iter().all(|(k, v)| yaml.get(k) == Some(v)));
    }

    #[test]
    fn values_yaml_would_read_otherwise_are_quoted() {
        let out = legacy_to_yaml("a.b: yes\nc: [x]\nd: 'q'\ne: 1.0\nf: *x\n").unwrap();
        // Flink reads only true and false as booleans, and keeps 1.0 as written.
        assert_eq!(out, "a:\n  b: yes\nc: '[x]'\nd: '''q'''\ne: 1.0\nf: '*x'\n");
        // A key set twice keeps its place and takes the last value, as the legacy parser does.
        assert_eq!(
            legacy_to_yaml("a.b: 1\nc: 2\na.b: 3\n").as_deref(),
            Some("a:\n  b: 3\nc: 2\n")
        );
    }

    #[test]
    fn lines_the_legacy_parser_skips_leave_no_migration() {
        assert_eq!(legacy_to_yaml("jobmanager.rpc.address=flink\n"), None);
        assert_eq!(legacy_to_yaml("a.b: 1\nbroken\n"), None);
        // A map and then a leaf of one name cannot both be written at the top.
        assert_eq!(legacy_to_yaml("a.b: 1\na: 2\n"), None);
        assert_eq!(legacy_to_yaml("").as_deref(), Some(""));
    }

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
