#!/usr/bin/env bash
# How `flink-admission audit --from` scales on a cluster export: build release, generate what
# `kubectl get deploy,cm,svc,ns,flinkdeployments -A -o yaml` prints for a cluster of N objects
# (one List; every object as the API server holds it: managedFields, the last-applied annotation,
# status), and audit it under `/usr/bin/time -v` in each format.
#
# Adversarial for the cluster view: every namespace reuses the same names (flink-config,
# flink-jobmanager, flink-taskmanager, orders, ...), so a reference resolved outside its own
# namespace, or an index keyed by name alone, shows up as wrong findings or quadratic time.
#
#   scripts/audit-scale.sh                    # 1000 and 10000 objects
#   SIZES=10000 FORMATS="json yaml" scripts/audit-scale.sh
#   NO_BUILD=1 scripts/audit-scale.sh         # use the existing release binary
#
# audit exits 1 when it finds an error; that is expected here.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000 10000"}
FORMATS=${FORMATS:-"json yaml human"}
WORK=${WORK:-$(mktemp -d)}
BIN=${BIN:-"$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/flink-admission"}

if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found: apt-get install -y time" >&2
  exit 1
fi
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --quiet --bin flink-admission
fi

gen() { # gen N FILE: a List of N objects, 20 per namespace
  python3 - "$1" "$2" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
def server(o, i):
    m = o["metadata"]
    m.update(uid=f"00000000-0000-4000-8000-{i:012d}", resourceVersion=str(1000 + i),
             creationTimestamp="2026-11-30T01:02:03Z", generation=1)
    m.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(o)
    m["managedFields"] = [{"manager": "kubectl-client-side-apply", "operation": "Update",
        "apiVersion": o["apiVersion"], "time": "2026-11-30T01:02:03Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {}}, "f:spec": {}}}]
    if o["kind"] in ("Deployment", "FlinkDeployment"):
        o["status"] = {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1,
                       "conditions": [{"type": "Available", "status": "True"}]}
    return o
conf = "jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\nblob.server.port: 6124\njobmanager.rpc.port: 6123\ntaskmanager.rpc.port: 6122\njobmanager.memory.process.size: 1600m\ntaskmanager.memory.process.size: 1728m\n"
log4j = "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.name = ConsoleAppender\nappender.console.type = CONSOLE\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = %d %-5p %c - %m%n\n"
def container(role, bad):
    c = {"name": role, "image": "apache/flink:1.20", "args": [role],
         "ports": [{"containerPort": 6123, "name": "rpc"}, {"containerPort": 8081, "name": "webui"}],
         "livenessProbe": {"tcpSocket": {"port": 6123}, "initialDelaySeconds": 30},
         "resources": {"requests": {"cpu": "1", "memory": "1600Mi"}, "limits": {"memory": "1600Mi"}},
         "volumeMounts": [{"name": "flink-config-volume", "mountPath": "/opt/flink/conf"}],
         "securityContext": {"runAsUser": 9999, "allowPrivilegeEscalation": False,
                             "capabilities": {"drop": ["ALL"]}}}
    if bad:
        c["securityContext"]["privileged"] = True
    return c
def workload(ns, name, role, bad):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "flink", "component": role}},
        "spec": {"replicas": 1, "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app": "flink", "component": role}},
            "template": {"metadata": {"labels": {"app": "flink", "component": role}},
                "spec": {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container(role, bad)],
                    "volumes": [{"name": "flink-config-volume", "configMap": {"name": "flink-config",
                        "items": [{"key": "config.yaml", "path": "config.yaml"},
                                  {"key": "log4j-console.properties", "path": "log4j-console.properties"}]}}]}}}}
items = []
ns_count = max(1, n // 20)
for k in range(ns_count):
    ns = f"team-{k:04d}"
    bad = k % 10 == 0   # one namespace in ten runs a privileged JobManager
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flink-config", "namespace": ns},
         "data": {"config.yaml": conf, "log4j-console.properties": log4j}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "flink-jobmanager", "namespace": ns},
         "spec": {"type": "ClusterIP", "selector": {"app": "flink", "component": "jobmanager"},
                  "ports": [{"name": "rpc", "port": 6123}, {"name": "blob-server", "port": 6124},
                            {"name": "webui", "port": 8081}]}},
        workload(ns, "flink-jobmanager", "jobmanager", bad),
        workload(ns, "flink-taskmanager", "taskmanager", False),
        {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
         "metadata": {"name": "orders", "namespace": ns},
         "spec": {"image": "flink:1.20", "flinkVersion": "v1_20", "serviceAccount": "flink",
                  "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
                  "jobManager": {"replicas": 1, "resource": {"memory": "2048m", "cpu": 1}},
                  "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
                  "job": {"jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar",
                          "parallelism": 2, "upgradeMode": "stateless"}}},
    ]
    # the rest of a namespace: application ConfigMaps and Services with the same names everywhere
    for j in range(20 - len(objs)):
        if j % 2:
            objs.append({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": f"app-settings-{j}", "namespace": ns}, "data": {"k": "v" * 200}})
        else:
            objs.append({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": f"app-{j}", "namespace": ns},
                         "spec": {"selector": {"app": f"app-{j}"}, "ports": [{"port": 8080}]}})
    items.extend(objs)
items = [server(o, i) for i, o in enumerate(items[:n])]
with open(out, "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}, f, indent=4)
PY
}

printf '%-7s %-6s %9s %8s %10s %9s %10s %9s\n' objects format wall_s cpu_s objects/s rss_MiB input_MiB findings
for n in $SIZES; do
  file="$WORK/cluster-$n.json"
  [ -f "$file" ] || gen "$n" "$file"
  input=$(stat -c %s "$file")
  for fmt in $FORMATS; do
    out="$WORK/out-$n.$fmt"
    /usr/bin/time -v -o "$WORK/time" "$BIN" audit --from "$file" --format "$fmt" >"$out" 2>/dev/null || true
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$WORK/time")
    cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$WORK/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2 / 1024}' "$WORK/time")
    case $fmt in
      json) findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$out") ;;
      yaml) findings=$(grep -c '^  policy: FLK' "$out" || true) ;;
      *) findings=$(grep -cE '^(error|warning|info)\[FLK' "$out" || true) ;;
    esac
    printf '%-7s %-6s %9.2f %8.2f %10.0f %9.1f %10.1f %9s\n' "$n" "$fmt" "$wall" "$cpu" \
      "$(echo "$n / $wall" | bc -l)" "$rss" "$(echo "$input / 1048576" | bc -l)" "$findings"
  done
done
