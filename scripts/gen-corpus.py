#!/usr/bin/env python3
"""Generate a realistic Flink monorepo for lint benchmarks.

    scripts/gen-corpus.py OUT_DIR --objects 1000 [--seed 7]

Layout: OUT_DIR/team-NNN/app-NN/{dev,prod}/ with, in each environment directory,
  standalone.yaml      a standalone session cluster: ConfigMap (flink-conf.yaml for Flink 1.x
                       images, config.yaml for 1.19+/2.x, plus log4j-console.properties),
                       JobManager Deployment, TaskManager Deployment, Service (4 objects)
  flinkdeployment.yaml a FlinkDeployment for the operator (1 object)
so 5 objects per environment, 10 per app, 100 per team. Object counts are rounded up to a
multiple of 5. A deterministic share of the environments carry the mistakes the rules look
for (HA without a storage dir, missing resources, a wrong config file name, an unparseable
memory size, a misspelt ConfigMap name), so the human renderer has findings to draw.
Only the standard library; output is deterministic for a given seed.
"""

import argparse
import os
import random

FLINK_IMAGES = [
    ("apache/flink:1.17.2-scala_2.12-java11", "legacy"),
    ("apache/flink:1.18.1-scala_2.12-java11", "legacy"),
    ("apache/flink:1.19.1-scala_2.12-java17", "yaml"),
    ("apache/flink:1.20.0-scala_2.12-java17", "yaml"),
    ("apache/flink:2.0.0-scala_2.12-java17", "yaml"),
]

LOG4J = """rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
rootLogger.appenderRef.rolling.ref = RollingFileAppender
logger.akka.name = akka
logger.akka.level = INFO
logger.kafka.name= org.apache.kafka
logger.kafka.level = INFO
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = INFO
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = INFO
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.rolling.name = RollingFileAppender
appender.rolling.type = RollingFile
appender.rolling.append = false
appender.rolling.fileName = ${sys:log.file}
appender.rolling.filePattern = ${sys:log.file}.%i
appender.rolling.layout.type = PatternLayout
appender.rolling.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.rolling.policies.type = Policies
appender.rolling.policies.size.type = SizeBasedTriggeringPolicy
appender.rolling.policies.size.size=100MB
appender.rolling.strategy.type = DefaultRolloverStrategy
appender.rolling.strategy.max = 10
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
"""


def indent(text, n):
    pad = " " * n
    return "".join(pad + line + "\n" if line else "\n" for line in text.splitlines())


def legacy_conf(c):
    lines = [
        f"jobmanager.rpc.address: {c['name']}-jobmanager",
        f"taskmanager.numberOfTaskSlots: {c['slots']}",
        "blob.server.port: 6124",
        "jobmanager.rpc.port: 6123",
        "taskmanager.rpc.port: 6122",
        "queryable-state.proxy.ports: 6125",
        f"jobmanager.memory.process.size: {c['jm_mem']}",
        f"taskmanager.memory.process.size: {c['tm_mem']}",
        f"parallelism.default: {c['slots']}",
        "state.backend.type: rocksdb",
        f"execution.checkpointing.interval: {c['checkpoint_s']}s",
        f"state.checkpoints.dir: s3://flink-{c['team']}/{c['app']}/{c['env']}/checkpoints",
        f"state.savepoints.dir: s3://flink-{c['team']}/{c['app']}/{c['env']}/savepoints",
        "rest.flamegraph.enabled: true",
        "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        "metrics.reporter.prom.port: 9249",
    ]
    if c["ha"]:
        lines.append("high-availability.type: kubernetes")
        if not c["defect"] == "ha-no-storage":
            lines.append(
                f"high-availability.storageDir: s3://flink-{c['team']}/{c['app']}/{c['env']}/ha"
            )
        lines.append(f"kubernetes.cluster-id: {c['name']}")
    return "\n".join(lines) + "\n"


def yaml_conf(c):
    ha = ""
    if c["ha"]:
        storage = (
            ""
            if c["defect"] == "ha-no-storage"
            else f"  storageDir: s3://flink-{c['team']}/{c['app']}/{c['env']}/ha\n"
        )
        ha = f"high-availability:\n  type: kubernetes\n{storage}kubernetes:\n  cluster-id: {c['name']}\n"
    return f"""jobmanager:
  rpc:
    address: {c['name']}-jobmanager
    port: 6123
  memory:
    process:
      size: {c['jm_mem']}
taskmanager:
  numberOfTaskSlots: {c['slots']}
  rpc:
    port: 6122
  memory:
    process:
      size: {c['tm_mem']}
blob:
  server:
    port: 6124
parallelism:
  default: {c['slots']}
state:
  backend:
    type: rocksdb
execution:
  checkpointing:
    interval: {c['checkpoint_s']}s
    dir: s3://flink-{c['team']}/{c['app']}/{c['env']}/checkpoints
    savepoint-dir: s3://flink-{c['team']}/{c['app']}/{c['env']}/savepoints
metrics:
  reporter:
    prom:
      factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
      port: 9249
{ha}"""


def labels(c, component):
    return f"""app.kubernetes.io/name: {c['name']}
app.kubernetes.io/part-of: {c['team']}
app.kubernetes.io/component: {component}
app: {c['name']}
component: {component}
env: {c['env']}"""


def resources(c, mem):
    if c["defect"] == "no-resources":
        return ""
    k8s_mem = mem.replace("m", "Mi").replace("g", "Gi")
    return f"""resources:
  requests:
    cpu: "{c['cpu']}"
    memory: {k8s_mem}
  limits:
    memory: {k8s_mem}
"""


def workload(c, role):
    component = "jobmanager" if role == "jobmanager" else "taskmanager"
    replicas = c["tm_replicas"] if role == "taskmanager" else (2 if c["ha"] else 1)
    mem = c["jm_mem"] if role == "jobmanager" else c["tm_mem"]
    args = '["jobmanager"]' if role == "jobmanager" else '["taskmanager"]'
    cm_name = c["name"] + "-config"
    if c["defect"] == "cm-typo" and role == "taskmanager":
        cm_name = c["name"] + "-confg"
    conf_key = "flink-conf.yaml" if c["format"] == "legacy" else "config.yaml"
    ports = (
        """- containerPort: 6123
  name: rpc
- containerPort: 6124
  name: blob-server
- containerPort: 8081
  name: webui
"""
        if role == "jobmanager"
        else """- containerPort: 6122
  name: rpc
"""
    )
    container = f"""- name: {component}
  image: {c['image']}
  imagePullPolicy: IfNotPresent
  args: {args}
  env:
  - name: POD_IP
    valueFrom:
      fieldRef:
        apiVersion: v1
        fieldPath: status.podIP
  ports:
{indent(ports, 2)}  livenessProbe:
    tcpSocket:
      port: {6123 if role == 'jobmanager' else 6122}
    initialDelaySeconds: 30
    periodSeconds: 60
{indent(resources(c, mem), 2)}  volumeMounts:
  - name: flink-config-volume
    mountPath: /opt/flink/conf
  securityContext:
    runAsUser: 9999
    runAsNonRoot: true
    allowPrivilegeEscalation: false
"""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {c['name']}-{component}
  namespace: {c['ns']}
  labels:
{indent(labels(c, component), 4)}spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {c['name']}
      component: {component}
  template:
    metadata:
      labels:
{indent(labels(c, component), 8)}      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9249"
    spec:
      serviceAccountName: {c['name']}
      containers:
{indent(container, 6)}      volumes:
      - name: flink-config-volume
        configMap:
          name: {cm_name}
          items:
          - key: {conf_key}
            path: {conf_key}
          - key: log4j-console.properties
            path: log4j-console.properties
"""


def standalone(c):
    if c["format"] == "legacy":
        key, conf = "flink-conf.yaml", legacy_conf(c)
        if c["defect"] == "bad-memory":
            conf = conf.replace(
                f"taskmanager.memory.process.size: {c['tm_mem']}",
                "taskmanager.memory.process.size: 2 gigs",
            )
    else:
        key, conf = "config.yaml", yaml_conf(c)
    if c["defect"] == "wrong-file":
        key = "flink-conf.yaml" if key == "config.yaml" else "config.yaml"
    cm = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {c['name']}-config
  namespace: {c['ns']}
  labels:
{indent(labels(c, 'config'), 4)}data:
  {key}: |
{indent(conf, 4)}  log4j-console.properties: |
{indent(LOG4J, 4)}"""
    svc = f"""apiVersion: v1
kind: Service
metadata:
  name: {c['name']}-jobmanager
  namespace: {c['ns']}
  labels:
{indent(labels(c, 'jobmanager'), 4)}spec:
  type: ClusterIP
  ports:
  - name: rpc
    port: 6123
  - name: blob-server
    port: 6124
  - name: webui
    port: 8081
  selector:
    app: {c['name']}
    component: jobmanager
"""
    docs = [cm, workload(c, "jobmanager"), workload(c, "taskmanager"), svc]
    return "---\n".join(docs)


def flinkdeployment(c):
    ha = ""
    if c["ha"]:
        ha = f"""    high-availability.type: kubernetes
    high-availability.storageDir: s3://flink-{c['team']}/{c['app']}/{c['env']}/op-ha
"""
    version = "v1_20" if "1.20" in c["image"] or "2.0" in c["image"] else "v1_19"
    return f"""apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: {c['name']}-job
  namespace: {c['ns']}
  labels:
{indent(labels(c, 'application'), 4)}spec:
  image: {c['image'].replace('2.0.0', '1.20.0')}
  flinkVersion: {version}
  serviceAccount: flink
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "{c['slots']}"
    state.savepoints.dir: s3://flink-{c['team']}/{c['app']}/{c['env']}/op-savepoints
    state.checkpoints.dir: s3://flink-{c['team']}/{c['app']}/{c['env']}/op-checkpoints
{ha}  jobManager:
    replicas: 1
    resource:
      memory: "{c['jm_mem']}"
      cpu: 1
  taskManager:
    resource:
      memory: "{c['tm_mem']}"
      cpu: {c['cpu']}
  job:
    jarURI: local:///opt/flink/usrlib/{c['app']}.jar
    parallelism: {c['slots'] * c['tm_replicas']}
    upgradeMode: {'savepoint' if c['env'] == 'prod' else 'stateless'}
    state: running
"""


DEFECTS = ["ha-no-storage", "no-resources", "wrong-file", "bad-memory", "cm-typo"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    envs_needed = max(1, -(-args.objects // 5))
    written = objects = 0
    i = 0
    while i < envs_needed:
        team_no, rest = divmod(i // 2, 10)
        team = f"team-{team_no:03}"
        app = f"app-{rest:02}"
        env = ["dev", "prod"][i % 2]
        image, fmt = FLINK_IMAGES[rnd.randrange(len(FLINK_IMAGES))]
        c = {
            "team": team,
            "app": app,
            "env": env,
            "ns": f"{team}-{env}",
            "name": f"{team}-{app}",
            "image": image,
            "format": fmt,
            "slots": rnd.choice([1, 2, 4]),
            "tm_replicas": rnd.choice([1, 2, 3, 4]),
            "jm_mem": rnd.choice(["1600m", "2048m", "2g"]),
            "tm_mem": rnd.choice(["1728m", "4096m", "4g", "8g"]),
            "cpu": rnd.choice(["500m", "1", "2"]),
            "checkpoint_s": rnd.choice([10, 30, 60]),
            "ha": env == "prod" or rnd.random() < 0.2,
            "defect": DEFECTS[rnd.randrange(len(DEFECTS))] if rnd.random() < 0.3 else None,
        }
        d = os.path.join(args.out, team, app, env)
        os.makedirs(d, exist_ok=True)
        for name, text in (
            ("standalone.yaml", standalone(c)),
            ("flinkdeployment.yaml", flinkdeployment(c)),
        ):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
            written += len(text.encode())
        objects += 5
        i += 1
    print(f"{objects} objects, {envs_needed * 2} files, {written} bytes in {args.out}")


if __name__ == "__main__":
    main()
