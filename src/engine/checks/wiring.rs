//! How a standalone JobManager or TaskManager container is wired: the container ports its
//! Flink configuration opens and the liveness probe on its RPC port, as the Flink docs'
//! standalone Kubernetes manifests declare them.

use serde_json::{Value, json};

use super::standalone::PodConfig;
use super::{Ctx, Native};
use crate::engine::{Hit, Op};
use crate::flink::config::{self, FlinkConfig, PortSpec};
use crate::flink::image;
use crate::flink::object::Role;

/// The probe the Flink docs' manifests give both roles: a TCP check of the RPC port.
const PROBE_INITIAL_DELAY: u64 = 30;
const PROBE_PERIOD: u64 = 60;

/// One port a role opens: its container port name (as the docs' manifests name it) and number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    name: &'static str,
    key: &'static str,
    port: u16,
}

/// A key's port: `Some(p)` for one fixed port, taken from the configuration or, when the key is
/// unset and the whole configuration was seen, from `default`. `None` for a random port, a
/// range or list (FLK307's business), an invalid value, or an unset key whose value the unseen
/// part of the configuration may set.
fn fixed_port(
    pc: &PodConfig<'_>,
    cfg: &FlinkConfig,
    key: &str,
    default: Option<u16>,
) -> Option<u16> {
    match cfg.port(key) {
        Some(PortSpec::Fixed(p)) => Some(p),
        Some(_) => None,
        None if pc.unseen.is_none() => default,
        None => None,
    }
}

/// The RPC port of a role, and the name the docs' manifests give it.
fn rpc_port(pc: &PodConfig<'_>, role: Role) -> Option<Wanted> {
    let cfg = &pc.config;
    match role {
        Role::JobManager => {
            let zookeeper = cfg
                .ha_mode()
                .is_some_and(|m| m.eq_ignore_ascii_case("zookeeper"));
            let (key, port) = if zookeeper {
                (
                    config::HA_JOBMANAGER_PORT,
                    fixed_port(pc, cfg, config::HA_JOBMANAGER_PORT, None),
                )
            } else {
                (
                    config::JOBMANAGER_RPC_PORT,
                    fixed_port(
                        pc,
                        cfg,
                        config::JOBMANAGER_RPC_PORT,
                        Some(config::JOBMANAGER_RPC_PORT_DEFAULT),
                    ),
                )
            };
            port.map(|port| Wanted {
                name: "rpc",
                key,
                port,
            })
        }
        // Default "0": a TaskManager only has a port to declare once one is configured.
        Role::TaskManager => {
            fixed_port(pc, cfg, config::TASKMANAGER_RPC_PORT, None).map(|port| Wanted {
                name: "rpc",
                key: config::TASKMANAGER_RPC_PORT,
                port,
            })
        }
    }
}

/// Every port a role's container should declare.
fn wanted_ports(pc: &PodConfig<'_>, role: Role) -> Vec<Wanted> {
    let cfg = &pc.config;
    let mut out: Vec<Wanted> = rpc_port(pc, role).into_iter().collect();
    if role == Role::JobManager {
        // Default "0" (random): FLK307 asks for a fixed one.
        if let Some(port) = fixed_port(pc, cfg, config::BLOB_SERVER_PORT, None) {
            out.push(Wanted {
                name: "blob-server",
                key: config::BLOB_SERVER_PORT,
                port,
            });
        }
        let rest = if cfg.contains_key(config::REST_BIND_PORT) {
            fixed_port(pc, cfg, config::REST_BIND_PORT, None).map(|p| (config::REST_BIND_PORT, p))
        } else {
            fixed_port(pc, cfg, config::REST_PORT, Some(config::REST_PORT_DEFAULT))
                .map(|p| (config::REST_PORT, p))
        };
        if let Some((key, port)) = rest {
            out.push(Wanted {
                name: "webui",
                key,
                port,
            });
        }
    }
    out
}

/// FLK108: `check: native: container_wiring`.
pub(super) const CONTAINER_WIRING: Native = Native {
    args: &["container", "role", "missing"],
    run: container_wiring,
};

/// FLK108: a standalone JobManager or TaskManager container that does not declare the ports
/// its configuration opens, or has no liveness probe. The fix adds what is missing, never
/// touching a port or probe that is there.
fn container_wiring(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    let Some(role) = pc.role else {
        return Vec::new();
    };
    let container = pc.container.value;
    let ports: Vec<&Value> = container
        .get("ports")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let declared = |port: u16| {
        ports
            .iter()
            .any(|p| p.get("containerPort").and_then(Value::as_u64) == Some(u64::from(port)))
    };
    let name_taken = |name: &str| {
        ports
            .iter()
            .any(|p| p.get("name").and_then(Value::as_str) == Some(name))
    };
    let pointer = pc.container.pointer();
    let mut missing = Vec::new();
    let mut ops = Vec::new();
    for w in wanted_ports(pc, role) {
        if declared(w.port) {
            continue;
        }
        missing.push(format!("port {} ({})", w.port, w.key));
        let mut value = json!({"containerPort": w.port});
        // Port names are unique in a pod: leave a taken one to the port that has it.
        if !name_taken(w.name) {
            value["name"] = json!(w.name);
        }
        ops.push(Op::Add {
            path: format!("{pointer}/ports/-"),
            value,
        });
    }
    if container.get("livenessProbe").is_none() {
        // Without a known fixed RPC port there is nothing safe to probe.
        if let Some(rpc) = rpc_port(pc, role) {
            missing.push(format!("a livenessProbe (tcpSocket on port {})", rpc.port));
            ops.push(Op::Add {
                path: format!("{pointer}/livenessProbe"),
                value: json!({
                    "tcpSocket": {"port": rpc.port},
                    "initialDelaySeconds": PROBE_INITIAL_DELAY,
                    "periodSeconds": PROBE_PERIOD,
                }),
            });
        }
    }
    if missing.is_empty() {
        return Vec::new();
    }
    vec![
        Hit::at(pointer)
            .arg("container", pc.container.name())
            .arg("role", role.as_str())
            .arg("missing", missing.join(", "))
            .fix(ops),
    ]
}

/// The variable the Flink docs' HA manifests fill from the downward API and pass as the
/// JobManager's host.
const POD_IP: &str = "POD_IP";
const POD_IP_ARG: &str = "$(POD_IP)";
/// The dynamic property Flink 2 takes instead of the host argument (and 1.16+ accepts too), as
/// two arguments: before 1.16, `jobmanager.sh` read any second argument as the host.
const POD_IP_PROPERTY: [&str; 2] = ["-D", "jobmanager.rpc.address=$(POD_IP)"];

/// FLK310: `check: native: ha_pod_ip`.
pub(super) const HA_POD_IP: Native = Native {
    args: &["container", "how"],
    run: ha_pod_ip,
};

/// FLK310: a standalone JobManager with high availability that does not advertise its pod IP
/// (no `$(POD_IP)` in its arguments, no `jobmanager.rpc.address` or `JOB_MANAGER_RPC_ADDRESS`
/// naming it). Only containers the image's entrypoint starts are judged: a custom command may
/// set the address itself. The fix adds the `POD_IP` variable (`fieldRef: status.podIP`) when
/// missing and passes the pod IP the way the image's Flink version takes it: the host argument
/// `$(POD_IP)` on 1.x when the arguments are just `jobmanager` (the host must come right after
/// it), `-D jobmanager.rpc.address=$(POD_IP)` on 2.x (never the host argument, which 2.0
/// removed). No fix when the version is unknown: neither form works on every version.
fn ha_pod_ip(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    if pc.role != Some(Role::JobManager) || pc.advertises_pod_ip {
        return Vec::new();
    }
    if !(pc.ha() == Some(true) || pc.ha_intended()) {
        return Vec::new();
    }
    if !super::standalone::entrypoint_applies(&pc.container) {
        return Vec::new();
    }
    if pc
        .config
        .get(config::JOBMANAGER_RPC_ADDRESS)
        .is_some_and(|a| a.contains(POD_IP))
    {
        return Vec::new();
    }
    let container = pc.container.value;
    let pointer = pc.container.pointer();
    let args: Vec<&str> = container
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let has_env = container
        .get("env")
        .and_then(Value::as_array)
        .is_some_and(|env| {
            env.iter()
                .any(|e| e.get("name").and_then(Value::as_str) == Some(POD_IP))
        });
    let positional = pc.version.map(image::takes_positional_host);
    let how = match positional {
        Some(true) => {
            "add the POD_IP variable (fieldRef status.podIP) and the argument $(POD_IP)".to_string()
        }
        Some(false) => format!(
            "add the POD_IP variable (fieldRef status.podIP) and the arguments {} (Flink {} takes no host argument)",
            POD_IP_PROPERTY.join(" "),
            pc.version.map(|v| v.to_string()).unwrap_or_default()
        ),
        None => format!(
            "add the POD_IP variable (fieldRef status.podIP) and the arguments {} (Flink 1.16 and later) or the argument $(POD_IP) right after jobmanager (Flink 1.x)",
            POD_IP_PROPERTY.join(" ")
        ),
    };
    let new_args: Vec<&str> = match (positional, args.first().copied()) {
        (Some(true), _) if args == ["jobmanager"] => vec![POD_IP_ARG],
        (Some(false), Some("jobmanager" | "standalone-job")) => POD_IP_PROPERTY.to_vec(),
        _ => Vec::new(),
    };
    let mut ops = Vec::new();
    if !new_args.is_empty() {
        if !has_env {
            ops.push(Op::Add {
                path: format!("{pointer}/env/-"),
                value: json!({
                    "name": POD_IP,
                    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
                }),
            });
        }
        for arg in new_args {
            ops.push(Op::Add {
                path: format!("{pointer}/args/-"),
                value: json!(arg),
            });
        }
    }
    vec![
        Hit::at(pointer)
            .arg("container", pc.container.name())
            .arg("how", how)
            .fix(ops),
    ]
}

/// FLK313: `check: native: host_argument_removed`.
pub(super) const HOST_ARGUMENT_REMOVED: Native = Native {
    args: &["container", "argument", "version", "host"],
    run: host_argument_removed,
};

/// FLK313: a Flink 2.x JobManager started by the image's entrypoint with the host argument
/// that Flink 2.0 removed: `jobmanager <host>` or `--host <host>`/`-h <host>`. The fix passes the
/// same host as `-D jobmanager.rpc.address=<host>`, in place.
fn host_argument_removed(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(pc) = ctx.me() else {
        return Vec::new();
    };
    let Some(version) = pc.version.filter(|v| !image::takes_positional_host(*v)) else {
        return Vec::new();
    };
    if pc.role != Some(Role::JobManager) || !super::standalone::entrypoint_applies(&pc.container) {
        return Vec::new();
    }
    let Some(args) = pc.container.value.get("args").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text: Vec<&str> = args.iter().map(|a| a.as_str().unwrap_or("")).collect();
    if !matches!(text.first(), Some(&("jobmanager" | "standalone-job"))) {
        return Vec::new();
    }
    let pointer = format!("{}/args", pc.container.pointer());
    let property = |host: &str| format!("{}={host}", config::JOBMANAGER_RPC_ADDRESS);
    // `jobmanager <host> [<webui-port>]`: the legacy positional form of `jobmanager.sh`.
    if text[0] == "jobmanager"
        && let Some(host) = text.get(1).filter(|h| !h.is_empty() && !h.starts_with('-'))
    {
        return vec![
            Hit::at(format!("{pointer}/1"))
                .arg("container", pc.container.name())
                .arg(
                    "argument",
                    format!("the host argument {host} after jobmanager"),
                )
                .arg("version", version)
                .arg("host", host)
                .fix(vec![
                    Op::Replace {
                        path: format!("{pointer}/1"),
                        value: json!(POD_IP_PROPERTY[0]),
                    },
                    Op::Add {
                        path: format!("{pointer}/2"),
                        value: json!(property(host)),
                    },
                ]),
        ];
    }
    // `--host <host>` (`-h <host>`): the option the 1.x entrypoints' parsers took.
    let Some(i) = text.iter().position(|a| matches!(*a, "--host" | "-h")) else {
        return Vec::new();
    };
    let Some(host) = text
        .get(i + 1)
        .filter(|h| !h.is_empty() && !h.starts_with('-'))
    else {
        return Vec::new();
    };
    vec![
        Hit::at(format!("{pointer}/{i}"))
            .arg("container", pc.container.name())
            .arg("argument", format!("{} {host}", text[i]))
            .arg("version", version)
            .arg("host", host)
            .fix(vec![
                Op::Replace {
                    path: format!("{pointer}/{i}"),
                    value: json!(POD_IP_PROPERTY[0]),
                },
                Op::Replace {
                    path: format!("{pointer}/{}", i + 1),
                    value: json!(property(host)),
                },
            ]),
    ]
}
