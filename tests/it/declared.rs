//! Online = offline, declared: each rule says whether the webhook runs it (`admission:`), the
//! kinds table says which resources that means, and the install manifests, the ClusterRole,
//! the NetworkPolicy and docs/webhook.md say exactly that (its table of rules is generated:
//! `tests/it/docs_tables.rs`). Everything here reads the rendered
//! objects (the kustomize base files and `flink-admission manifests`) and real responses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use flink_admission::admission::{self, Endpoint, Policy};
use flink_admission::deploy::{self, ManifestOptions, Tls};
use flink_admission::engine::rule::Registration;
use flink_admission::engine::{NoContext, ObjectSet, Registry, Settings};
use flink_admission::flink::kinds;
use flink_admission::flink::object::ObjectRef;
use flink_admission::server::cluster;
use serde_json::{Value, json};

use crate::common::synced_cache as synced;
use crate::common::{engine, fixture};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn registry() -> &'static Registry {
    Registry::embedded().expect("the embedded rules load")
}

/// The objects as shipped: the kustomize base files, and what `flink-admission manifests`
/// renders in every TLS mode.
fn renderings() -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    let mut base = Vec::new();
    for entry in std::fs::read_dir(root().join("deploy/base")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            let text = std::fs::read_to_string(&p).unwrap();
            base.push(
                serde_saphyr::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}")),
            );
        }
    }
    out.push(("deploy/base".to_string(), base));
    let pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    let key = "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n";
    for tls in [
        Tls::SelfSigned {
            ca_pem: pem.into(),
            cert_pem: pem.into(),
            key_pem: key.into(),
        },
        Tls::CertManager,
        Tls::Openshift,
    ] {
        let name = format!("flink-admission manifests --tls {tls:?}");
        let objs = deploy::objects(&ManifestOptions::new(tls)).unwrap();
        out.push((name, objs));
    }
    out
}

fn one<'a>(objs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objs.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind}");
    found[0]
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// What a webhook configuration registers: (group, resource, operation).
fn registered(cfg: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for hook in cfg["webhooks"].as_array().expect("webhooks") {
        for rule in hook["rules"].as_array().expect("rules") {
            for g in strs(&rule["apiGroups"]) {
                for r in strs(&rule["resources"]) {
                    let base = r.split('/').next().unwrap_or("").to_string();
                    let kind = kinds::all()
                        .find(|k| k.group == g && k.plural == base)
                        .unwrap_or_else(|| {
                            panic!("{g}/{r} is registered but not in src/flink/kinds.rs")
                        });
                    let versions = strs(&rule["apiVersions"]);
                    assert!(
                        versions == ["*"] || versions == [kind.version],
                        "{g}/{r}: apiVersions {versions:?}, but the kinds table says {}",
                        kind.version
                    );
                    for op in strs(&rule["operations"]) {
                        out.insert((g.clone(), r.clone(), op));
                    }
                }
            }
        }
    }
    out
}

fn needed(
    filter: impl Fn(&flink_admission::engine::Rule) -> bool,
) -> BTreeMap<(String, String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for rule in registry().rules().iter().filter(|r| filter(r)) {
        for Registration {
            group,
            resource,
            operation,
        } in rule.registrations()
        {
            out.entry((group.to_string(), resource, operation))
                .or_default()
                .push(rule.id.clone());
        }
    }
    out
}

#[test]
fn webhook_configurations_register_exactly_what_the_admission_rules_need() {
    let validate = needed(|r| r.admission);
    let mutate = needed(|r| r.admission && r.safe_fix());
    assert!(
        validate.contains_key(&("apps".into(), "deployments/scale".into(), "UPDATE".into())),
        "FLK101 needs the scale subresource"
    );
    for (source, objs) in renderings() {
        for (kind, want) in [
            ("ValidatingWebhookConfiguration", &validate),
            ("MutatingWebhookConfiguration", &mutate),
        ] {
            let got = registered(one(&objs, kind));
            let want_keys: BTreeSet<_> = want.keys().cloned().collect();
            if let Some(missing) = want_keys.difference(&got).next() {
                panic!(
                    "{source}: {kind} does not register {missing:?}, which {:?} need (declared admission: true); add it to deploy/base",
                    want[missing]
                );
            }
            if let Some(extra) = got.difference(&want_keys).next() {
                panic!(
                    "{source}: {kind} registers {extra:?}, which no admission rule needs; remove it from deploy/base or declare the rule that needs it"
                );
            }
        }
    }
}

#[test]
fn failure_policy_is_fail_only_for_flink_resources() {
    for (source, objs) in renderings() {
        for kind in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ] {
            for hook in one(&objs, kind)["webhooks"].as_array().unwrap() {
                let groups: BTreeSet<String> = hook["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|r| strs(&r["apiGroups"]))
                    .collect();
                let want = if groups.iter().all(|g| g == "flink.apache.org") {
                    "Fail"
                } else {
                    "Ignore"
                };
                assert_eq!(
                    hook["failurePolicy"], want,
                    "{source}: {kind} {} ({groups:?})",
                    hook["name"]
                );
            }
        }
    }
}

#[test]
fn config_maps_and_services_are_not_registered_and_their_rules_are_lint_only() {
    for k in ["ConfigMap", "Service"] {
        let kind = kinds::find("", k).unwrap();
        assert!(
            !kind.admitted,
            "{k} must not be admitted (docs/webhook.md says why)"
        );
        for r in registry().rules() {
            if r.targets.iter().all(|t| t.kinds().contains(&kind)) {
                assert!(
                    !r.admission,
                    "{} only judges {k}s: declare it admission: false",
                    r.id
                );
            }
        }
    }
    // the webhook's engine skips them; flink-lint's runs them
    let webhook = admission::webhook_settings(None).unwrap();
    let lint = Settings::default();
    for r in registry().rules() {
        assert_eq!(
            webhook.effective_severity(r).is_some(),
            r.admission,
            "{}",
            r.id
        );
        assert!(lint.effective_severity(r).is_some(), "{}", r.id);
    }
}

#[test]
fn the_webhook_does_not_judge_a_service_that_flink_lint_judges() {
    // A JobManager Service without the ports its JobManager uses: FLK105 in flink-lint.
    let objects: Vec<Value> =
        serde_saphyr::from_multiple(&read("tests/fixtures/FLK105/fail.yaml")).unwrap();
    let svc = objects
        .iter()
        .find(|o| o["kind"] == "Service")
        .expect("tests/fixtures/FLK105/fail.yaml has a Service")
        .clone();
    let world = ObjectSet::complete(objects.iter().cloned().map(Arc::new).collect());
    let lint = flink_admission::engine::Engine::embedded(Settings::default()).unwrap();
    let subject = flink_admission::engine::Subject::offline(&svc, &world);
    let lint_rules: BTreeSet<String> = lint
        .check(&subject)
        .findings
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert!(lint_rules.contains("FLK105"), "flink-lint: {lint_rules:?}");

    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "svc-1", "kind": {"group": "", "version": "v1", "kind": "Service"},
        "resource": {"group": "", "version": "v1", "resource": "services"},
        "namespace": "streaming", "name": "flink-jobmanager", "operation": "CREATE",
        "object": svc}});
    let out = admission::replay_one(
        &engine(),
        review,
        Endpoint::Validate,
        &world,
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(out["response"]["allowed"], true, "{out}");
    assert!(
        out["response"]
            .get("auditAnnotations")
            .is_none_or(|a| a.get("rules").is_none()),
        "{out}"
    );
}

#[test]
fn cluster_role_grants_exactly_what_the_cache_watches() {
    let mut watched: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for k in cluster::watched() {
        watched
            .entry(k.group.to_string())
            .or_default()
            .insert(k.plural.to_string());
    }
    assert!(
        !watched[""].contains("pods"),
        "Pods are high volume: answered unknown, not watched"
    );
    assert!(watched["apps"].contains("replicasets") && watched["apps"].contains("daemonsets"));
    let from_table: Value = deploy::cluster_role_rules();
    for (source, objs) in renderings() {
        let role = one(&objs, "ClusterRole");
        let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for rule in role["rules"].as_array().unwrap() {
            let verbs: BTreeSet<String> = strs(&rule["verbs"]).into_iter().collect();
            assert_eq!(
                verbs,
                ["get", "list", "watch"].map(String::from).into(),
                "{source}: the ClusterRole grants only get, list, watch"
            );
            assert!(rule.get("resourceNames").is_none() && rule.get("nonResourceURLs").is_none());
            for g in strs(&rule["apiGroups"]) {
                granted
                    .entry(g)
                    .or_default()
                    .extend(strs(&rule["resources"]));
            }
        }
        assert_eq!(
            granted, watched,
            "{source}: the ClusterRole must grant exactly what the cluster cache watches (src/flink/kinds.rs `watch`)"
        );
        let mut table: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for rule in from_table.as_array().unwrap() {
            for g in strs(&rule["apiGroups"]) {
                table.entry(g).or_default().extend(strs(&rule["resources"]));
            }
        }
        assert_eq!(granted, table, "{source} vs deploy::cluster_role_rules()");
    }
}

#[test]
fn cluster_cache_answers_unknown_for_kinds_it_does_not_watch() {
    use flink_admission::engine::Context;
    use kube::runtime::watcher::Event;
    let cache = synced::synced_cache(std::iter::empty());
    assert!(cache.synced());
    for k in kinds::WORKLOADS {
        let watched = k.watch != kinds::Watch::No;
        assert_eq!(
            cache.is_complete(k.group, k.kind),
            watched,
            "{}: complete exactly when watched",
            k.display()
        );
    }
    // a Deployment's own ReplicaSet is not stored: the Deployment stands for it
    let rs = |owner: Value| {
        json!({"metadata": {"name": "jm-5d4f", "namespace": "streaming", "ownerReferences": owner},
               "spec": {"template": {"spec": {"containers": [{"name": "jm", "image": "flink:1.20", "args": ["jobmanager"]}]}}}})
    };
    let store = cache.store("apps", "ReplicaSet").unwrap();
    store.apply(Event::Apply(rs(
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "jm", "controller": true}]),
    )));
    assert!(
        store.is_empty(),
        "a ReplicaSet owned by a Deployment is not a second JobManager"
    );
    store.apply(Event::Apply(rs(json!([]))));
    assert_eq!(store.len(), 1, "a bare ReplicaSet is kept");
}

#[test]
fn network_policy_admits_the_probe_port_only_from_monitoring() {
    let docs = read("docs/webhook.md");
    for (source, objs) in renderings() {
        let dep = one(&objs, "Deployment");
        let ports: BTreeMap<String, i64> =
            dep["spec"]["template"]["spec"]["containers"][0]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["containerPort"].as_i64().unwrap(),
                    )
                })
                .collect();
        let np = one(&objs, "NetworkPolicy");
        assert_eq!(strs(&np["spec"]["policyTypes"]), ["Ingress"]);
        let mut seen = BTreeSet::new();
        for rule in np["spec"]["ingress"].as_array().unwrap() {
            let rule_ports: Vec<i64> = rule["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_i64().unwrap())
                .collect();
            assert_eq!(rule_ports.len(), 1, "{source}: one port per ingress rule");
            let port = rule_ports[0];
            seen.insert(port);
            if port == ports["webhook"] {
                assert!(
                    rule.get("from").is_none(),
                    "{source}: the API server must reach the webhook port"
                );
            } else if port == ports["probes"] {
                let from = rule["from"].as_array().unwrap_or_else(|| {
                    panic!("{source}: the probe port must not be open to everyone")
                });
                assert!(!from.is_empty());
                for peer in from {
                    assert!(
                        peer.get("ipBlock").is_none() && peer.get("podSelector").is_none(),
                        "{source}: {peer}"
                    );
                    let labels = peer["namespaceSelector"]["matchLabels"]
                        .as_object()
                        .unwrap();
                    for (k, v) in labels {
                        let said = format!("`{k}: {}`", v.as_str().unwrap());
                        assert!(
                            docs.contains(&said),
                            "docs/webhook.md does not mention the NetworkPolicy's {said}"
                        );
                    }
                }
            } else {
                panic!(
                    "{source}: the NetworkPolicy opens port {port}, which the container does not use"
                );
            }
        }
        assert_eq!(seen, [ports["webhook"], ports["probes"]].into(), "{source}");
    }
}

#[test]
fn deny_message_is_what_the_docs_say() {
    let review = fixture("jobmanager-deployment-update.json");
    let out = admission::replay_one(
        &engine(),
        review.clone(),
        Endpoint::Validate,
        &NoContext,
        &Policy::default(),
    )
    .unwrap();
    let r = &out["response"];
    assert_eq!(r["allowed"], false, "{out}");
    assert_eq!(r["status"]["code"], 403);
    assert_eq!(r["status"]["reason"], "Forbidden");
    let message = r["status"]["message"].as_str().unwrap();
    let who = ObjectRef::of(&review["request"]["object"]).display();
    let prefix = format!("flink-admission denied {who}: ");
    let list = message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{message:?} does not start with {prefix:?}"));
    let denied: Vec<&str> = r["auditAnnotations"]["denied-rules"]
        .as_str()
        .unwrap()
        .split(',')
        .collect();
    let parts: Vec<&str> = list.split("; ").collect();
    assert_eq!(parts.len(), denied.len(), "{message}");
    for (part, rule) in parts.iter().zip(&denied) {
        assert!(
            part.starts_with(&format!("{rule}: ")),
            "{part:?} in {message:?}"
        );
    }
    let docs = read("docs/webhook.md");
    assert!(
        docs.contains("`flink-admission denied Deployment/streaming/flink-jobmanager: FLK101: <message>; FLK104:"),
        "docs/webhook.md must show the deny message format the webhook sends"
    );
    assert_eq!(who, "Deployment/streaming/flink-jobmanager");
}

#[test]
fn docs_list_what_the_cache_watches() {
    let docs = read("docs/webhook.md");
    let section = docs
        .split("## Cluster context and RBAC")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/webhook.md has a Cluster context and RBAC section");
    for k in kinds::all() {
        let named = section.contains(&format!("`{}`", k.plural));
        if k.watch != kinds::Watch::No {
            assert!(
                named,
                "docs/webhook.md's Cluster context section does not name watched `{}`",
                k.plural
            );
        }
    }
    assert!(
        section.contains("**Pods are\nnot watched**")
            || section.contains("**Pods are not watched**")
    );
    assert!(
        !section.contains("exactly these (and nothing else"),
        "old wording"
    );
}

#[test]
fn rules_json_lists_kinds_and_admission() {
    let text = flink_admission::lint::render::rules(registry(), true);
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(list.len(), registry().rules().len());
    for (v, r) in list.iter().zip(registry().rules()) {
        assert_eq!(v["id"], r.id.as_str());
        assert_eq!(v["admission"], r.admission, "{}", r.id);
        let kinds = strs(&v["kinds"]);
        assert!(!kinds.is_empty(), "{}: no kinds", r.id);
        let admitted = strs(&v["admission_kinds"]);
        assert!(admitted.iter().all(|k| kinds.contains(k)), "{}", r.id);
        assert_eq!(admitted.is_empty(), !r.admission, "{}: {admitted:?}", r.id);
    }
    let flk102 = list.iter().find(|v| v["id"] == "FLK102").unwrap();
    assert!(strs(&flk102["admission_kinds"]).contains(&"apps/Deployment".to_string()));
    let flk105 = list.iter().find(|v| v["id"] == "FLK105").unwrap();
    assert_eq!(strs(&flk105["kinds"]), ["Service"]);
}
