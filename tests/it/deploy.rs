//! The install manifests: every kustomize overlay renders, the webhook configurations cover
//! exactly what the server handles and stay out of system namespaces, the certificates match the
//! Service, the pod runs under PSS restricted and OpenShift restricted-v2 alike, and
//! `flink_admission::deploy::manifests` renders the same objects as the overlays.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use flink_admission::deploy::{self, ManifestOptions, Platform, PlatformChoice, Tls};
use flink_admission::server::certs;
use serde_json::Value;

const TLS_OVERLAYS: &[&str] = &["self-signed", "cert-manager", "openshift"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kubectl_present() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is required in CI (CI is set)"
        );
        eprintln!("SKIPPED: kubectl not found (set CI to make this a failure)");
    }
    ok
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            // Never copy certificates someone made in the work tree.
            if entry.file_name() != "certs" {
                copy_dir(&entry.path(), &dest);
            }
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

struct Rendered {
    _dir: tempfile::TempDir,
    /// overlay name -> objects
    overlays: BTreeMap<String, Vec<Value>>,
    ca_pem: String,
    pair: certs::Pair,
}

/// A copy of deploy/ with certificates made as `flink-admission certs` makes them, rendered.
fn render() -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let deploy_dir = dir.path().join("deploy");
    copy_dir(&root().join("deploy/base"), &deploy_dir.join("base"));
    copy_dir(
        &root().join("deploy/overlays"),
        &deploy_dir.join("overlays"),
    );
    let names = certs::service_names(deploy::NAME, deploy::DEFAULT_NAMESPACE);
    let (ca_pem, pair) =
        certs::write_bundle(&deploy_dir.join("overlays/self-signed/certs"), &names, 30).unwrap();
    let mut overlays = BTreeMap::new();
    for entry in std::fs::read_dir(deploy_dir.join("overlays")).unwrap() {
        let entry = entry.unwrap();
        if !entry.path().join("kustomization.yaml").exists() {
            continue;
        }
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(entry.path())
            .output()
            .unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            out.status.success(),
            "kubectl kustomize deploy/overlays/{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let objs: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("overlay {name}: {e}"));
        assert!(!objs.is_empty(), "overlay {name} renders nothing");
        overlays.insert(name, objs);
    }
    for o in TLS_OVERLAYS.iter().chain(&["monitoring"]) {
        assert!(overlays.contains_key(*o), "missing overlay {o}");
    }
    Rendered {
        _dir: dir,
        overlays,
        ca_pem,
        pair,
    }
}

fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap()
}

fn find<'a>(objs: &'a [Value], k: &str) -> &'a Value {
    objs.iter()
        .find(|o| kind(o) == k)
        .unwrap_or_else(|| panic!("no {k}"))
}

fn strs(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// (webhook name, group, resource) -> operations, failurePolicy
fn rules_of(objs: &[Value], k: &str) -> BTreeMap<(String, String), (BTreeSet<String>, String)> {
    let mut out = BTreeMap::new();
    for hook in find(objs, k)["webhooks"].as_array().unwrap() {
        let policy = hook["failurePolicy"].as_str().unwrap().to_string();
        for rule in hook["rules"].as_array().unwrap() {
            assert_eq!(rule["scope"], "Namespaced");
            for g in strs(&rule["apiGroups"]) {
                for r in strs(&rule["resources"]) {
                    let prev = out.insert(
                        (g.clone(), r.clone()),
                        (strs(&rule["operations"]), policy.clone()),
                    );
                    assert!(prev.is_none(), "{k}: {g}/{r} appears twice");
                }
            }
        }
    }
    out
}

/// What the rule declarations need (`admission: true`; for /mutate only rules with a safe fix):
/// (group, resource) -> operations, and the failure policy (Fail only for Flink resources).
fn expected_rules(config_kind: &str) -> BTreeMap<(String, String), (BTreeSet<String>, String)> {
    let mutating = config_kind.starts_with("Mutating");
    let mut m: BTreeMap<(String, String), (BTreeSet<String>, String)> = BTreeMap::new();
    let registry = flink_admission::engine::Registry::embedded().unwrap();
    for rule in registry.rules() {
        if mutating && !rule.safe_fix() {
            continue;
        }
        for reg in rule.registrations() {
            let policy = if reg.group == "flink.apache.org" {
                "Fail"
            } else {
                "Ignore"
            };
            m.entry((reg.group.to_string(), reg.resource.clone()))
                .or_insert_with(|| (BTreeSet::new(), policy.to_string()))
                .0
                .insert(reg.operation.clone());
        }
    }
    m
}

#[test]
fn webhook_rules_cover_exactly_what_the_server_handles() {
    if !kubectl_present() {
        return;
    }
    let r = render();
    for o in TLS_OVERLAYS {
        let objs = &r.overlays[*o];
        for k in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ] {
            assert_eq!(rules_of(objs, k), expected_rules(k), "{o}: {k}");
            let cfg = find(objs, k);
            assert_eq!(cfg["metadata"]["name"], "flink-admission");
            let verb = if k.starts_with("Validating") {
                "validate"
            } else {
                "mutate"
            };
            let names: Vec<&str> = cfg["webhooks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                names,
                [
                    format!("{verb}.flink-admission.io"),
                    format!("workloads.{verb}.flink-admission.io")
                ]
            );
            for hook in cfg["webhooks"].as_array().unwrap() {
                let svc = &hook["clientConfig"]["service"];
                assert_eq!(svc["name"], "flink-admission");
                assert_eq!(svc["namespace"], "flink-admission");
                assert_eq!(svc["path"], format!("/{verb}"));
                assert_eq!(svc["port"], 443);
                assert_eq!(hook["sideEffects"], "None");
                assert_eq!(hook["admissionReviewVersions"], serde_json::json!(["v1"]));
                assert_eq!(hook["timeoutSeconds"], 5);
                assert_eq!(hook["matchPolicy"], "Equivalent");
                if verb == "mutate" {
                    assert_eq!(hook["reinvocationPolicy"], "IfNeeded");
                }
            }
        }
    }
}

#[test]
fn webhooks_stay_out_of_system_namespaces_and_operator_objects() {
    if !kubectl_present() {
        return;
    }
    let r = render();
    for o in TLS_OVERLAYS {
        for k in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ] {
            for hook in find(&r.overlays[*o], k)["webhooks"].as_array().unwrap() {
                let exprs = hook["namespaceSelector"]["matchExpressions"]
                    .as_array()
                    .unwrap();
                let by_name = exprs
                    .iter()
                    .find(|e| e["key"] == "kubernetes.io/metadata.name")
                    .expect("a kubernetes.io/metadata.name expression");
                assert_eq!(by_name["operator"], "NotIn");
                let excluded = strs(&by_name["values"]);
                for ns in ["kube-system", "flink-admission"] {
                    assert!(excluded.contains(ns), "{o} {k}: {ns} not excluded");
                }
                // openshift-*: a prefix, so a CEL matchCondition.
                let conds: Vec<&str> = hook["matchConditions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["expression"].as_str().unwrap())
                    .collect();
                assert!(
                    conds.contains(&"!request.namespace.startsWith('openshift-')"),
                    "{o} {k}: {conds:?}"
                );
                if hook["failurePolicy"] == "Ignore" {
                    let sel = &hook["objectSelector"]["matchExpressions"][0];
                    assert_eq!(sel["key"], "type");
                    assert_eq!(sel["operator"], "NotIn");
                    assert_eq!(
                        strs(&sel["values"]),
                        ["flink-native-kubernetes", "flink-standalone-kubernetes"]
                            .map(String::from)
                            .into()
                    );
                }
            }
        }
    }
}

/// dNSName entries of a DER certificate's subjectAltName (`x509-parser`).
fn dns_sans(der: &[u8]) -> BTreeSet<String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("a DER certificate");
    let san = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .expect("the serving certificate has a subjectAltName");
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(s) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn certificates_carry_the_service_dns_names() {
    if !kubectl_present() {
        return;
    }
    let r = render();
    let svc = find(&r.overlays["self-signed"], "Service");
    let (name, ns) = (
        svc["metadata"]["name"].as_str().unwrap(),
        svc["metadata"]["namespace"].as_str().unwrap(),
    );
    let want: BTreeSet<String> = [
        format!("{name}.{ns}.svc"),
        format!("{name}.{ns}.svc.cluster.local"),
    ]
    .into();
    assert_eq!(
        deploy::service_dns_names(ns)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        want
    );

    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let der = CertificateDer::from_pem_slice(r.pair.cert_pem.as_bytes()).unwrap();
    let sans = dns_sans(&der);
    assert!(sans.is_superset(&want), "SANs {sans:?} lack {want:?}");

    let cert = find(&r.overlays["cert-manager"], "Certificate");
    assert_eq!(strs(&cert["spec"]["dnsNames"]), want);
    assert_eq!(cert["spec"]["secretName"], deploy::TLS_SECRET);
    let from = format!("{ns}/{}", cert["metadata"]["name"].as_str().unwrap());
    for k in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        assert_eq!(
            find(&r.overlays["cert-manager"], k)["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            from.as_str()
        );
    }
}

#[test]
fn pod_is_restricted_without_a_fixed_uid() {
    if !kubectl_present() {
        return;
    }
    let r = render();
    for o in TLS_OVERLAYS {
        let dep = find(&r.overlays[*o], "Deployment");
        assert_eq!(dep["spec"]["replicas"], 2);
        let pod = &dep["spec"]["template"]["spec"];
        assert!(pod["topologySpreadConstraints"].is_array());
        let mut contexts = vec![&pod["securityContext"]];
        for c in pod["containers"].as_array().unwrap() {
            let sc = &c["securityContext"];
            assert_eq!(sc["allowPrivilegeEscalation"], false);
            assert_eq!(sc["readOnlyRootFilesystem"], true);
            assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
            assert!(c["readinessProbe"]["httpGet"]["port"] == "probes");
            assert!(c["livenessProbe"]["httpGet"]["port"] == "probes");
            assert!(c["resources"]["requests"].is_object());
            contexts.push(sc);
        }
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        for sc in contexts {
            for fixed in ["runAsUser", "runAsGroup", "fsGroup", "supplementalGroups"] {
                assert!(sc.get(fixed).is_none(), "{o}: {fixed} is set: {sc}");
            }
        }
        let kinds: BTreeSet<&str> = r.overlays[*o].iter().map(kind).collect();
        for k in [
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ClusterRole",
            "ClusterRoleBinding",
        ] {
            assert!(kinds.contains(k), "{o}: no {k}");
        }
    }
    let sm = find(&r.overlays["monitoring"], "ServiceMonitor");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
}

/// Base64 in kustomize output is wrapped at 70 columns; the API server ignores the newlines.
fn normalise(mut o: Value) -> Value {
    if let Some(data) = o.get_mut("data").and_then(Value::as_object_mut) {
        for v in data.values_mut() {
            *v = Value::String(v.as_str().unwrap().split_whitespace().collect());
        }
    }
    if let Some(hooks) = o.get_mut("webhooks").and_then(Value::as_array_mut) {
        for h in hooks {
            if let Some(b) = h.pointer_mut("/clientConfig/caBundle") {
                *b = Value::String(b.as_str().unwrap().split_whitespace().collect());
            }
        }
    }
    o
}

fn keyed(objs: &[Value]) -> BTreeMap<(String, String, String), Value> {
    objs.iter()
        .map(|o| {
            let m = &o["metadata"];
            let key = (
                kind(o).to_string(),
                m["namespace"].as_str().unwrap_or("").to_string(),
                m["name"].as_str().unwrap().to_string(),
            );
            (key, normalise(o.clone()))
        })
        .collect()
}

#[test]
fn manifests_agree_with_the_kustomize_overlays() {
    if !kubectl_present() {
        return;
    }
    let r = render();
    for o in TLS_OVERLAYS {
        let tls = match *o {
            "self-signed" => Tls::SelfSigned {
                ca_pem: r.ca_pem.clone(),
                cert_pem: r.pair.cert_pem.clone(),
                key_pem: r.pair.key_pem.clone(),
            },
            "cert-manager" => Tls::CertManager,
            _ => Tls::Openshift,
        };
        let opts = ManifestOptions::new(tls);
        let text = deploy::manifests(&opts).unwrap();
        let ours: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        let (ours, theirs) = (keyed(&ours), keyed(&r.overlays[*o]));
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{o}: kinds/names differ"
        );
        for (key, want) in &theirs {
            assert_eq!(&ours[key], want, "{o}: {key:?} differs");
        }
        // The apply order: the Secret and Service exist before the Deployment, the webhook
        // configurations come last.
        let order: Vec<String> = serde_saphyr::from_multiple::<Value>(&text)
            .unwrap()
            .iter()
            .map(|v| kind(v).to_string())
            .collect();
        let pos = |k: &str| order.iter().position(|x| x == k);
        assert!(pos("Namespace") == Some(0), "{order:?}");
        assert!(pos("Service") < pos("Deployment"), "{order:?}");
        assert!(
            pos("Deployment") < pos("ValidatingWebhookConfiguration"),
            "{order:?}"
        );
        if let Some(s) = pos("Secret") {
            assert!(s < pos("Deployment").unwrap());
        }
    }
}

#[test]
fn manifests_follow_namespace_image_and_platform() {
    let mut opts = ManifestOptions::new(Tls::CertManager);
    opts.namespace = "webhooks".into();
    opts.image = "registry.example/fa:1".into();
    opts.platform = PlatformChoice::Fixed(Platform::Kubernetes);
    let objs = deploy::objects(&opts).unwrap();
    for o in &objs {
        if let Some(ns) = o["metadata"]["namespace"].as_str() {
            assert_eq!(ns, "webhooks", "{}", kind(o));
        }
    }
    let c = &find(&objs, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.example/fa:1");
    assert!(strs(&c["args"]).contains("--platform=kubernetes"));
    let cert = find(&objs, "Certificate");
    assert_eq!(
        strs(&cert["spec"]["dnsNames"]),
        deploy::service_dns_names("webhooks").into_iter().collect()
    );
    for k in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let cfg = find(&objs, k);
        assert_eq!(
            cfg["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            "webhooks/flink-admission-tls"
        );
        for hook in cfg["webhooks"].as_array().unwrap() {
            assert_eq!(hook["clientConfig"]["service"]["namespace"], "webhooks");
            let excluded = strs(&hook["namespaceSelector"]["matchExpressions"][0]["values"]);
            assert!(excluded.contains("webhooks") && !excluded.contains("flink-admission"));
        }
    }
    assert_eq!(
        find(&objs, "ClusterRoleBinding")["subjects"][0]["namespace"],
        "webhooks"
    );
}

/// The PolicyReport add-on: the upstream CRDs serve exactly the group, version and kinds the
/// audit writes, and its RBAC lets the webhook's service account write those reports and
/// nothing else.
#[test]
fn policy_reports_overlay_installs_the_crds_the_audit_writes_and_only_their_rbac() {
    use flink_admission::audit;
    if !kubectl_present() {
        return;
    }
    let r = render();
    let objs = &r.overlays["policy-reports"];
    let crds: BTreeMap<String, &Value> = objs
        .iter()
        .filter(|o| kind(o) == "CustomResourceDefinition")
        .map(|o| (o["spec"]["names"]["kind"].as_str().unwrap().to_string(), o))
        .collect();
    for (k, plural, scope) in [
        ("PolicyReport", "policyreports", "Namespaced"),
        ("ClusterPolicyReport", "clusterpolicyreports", "Cluster"),
    ] {
        let crd = crds.get(k).unwrap_or_else(|| panic!("no CRD for {k}"));
        assert_eq!(crd["spec"]["group"], audit::REPORT_GROUP);
        assert_eq!(crd["spec"]["names"]["plural"], plural);
        assert_eq!(crd["spec"]["scope"], scope);
        let version = crd["spec"]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == audit::REPORT_VERSION)
            .unwrap_or_else(|| panic!("{k}: no {}", audit::REPORT_VERSION));
        assert_eq!(version["served"], true);
        let result = &version["schema"]["openAPIV3Schema"]["properties"]["results"]["items"];
        // what the audit's results use: the result and severity values, properties as strings
        let results = strs(&result["properties"]["result"]["enum"]);
        for v in ["pass", "fail", "warn"] {
            assert!(results.contains(v), "{k}: result {v}");
        }
        let severities = strs(&result["properties"]["severity"]["enum"]);
        for v in ["high", "medium", "info"] {
            assert!(severities.contains(v), "{k}: severity {v}");
        }
        assert_eq!(
            result["properties"]["properties"]["additionalProperties"]["type"],
            "string"
        );
    }
    let role = find(objs, "ClusterRole");
    let rules = role["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{role}");
    assert_eq!(
        strs(&rules[0]["apiGroups"]),
        strs(&serde_json::json!([audit::REPORT_GROUP]))
    );
    assert_eq!(
        strs(&rules[0]["resources"]),
        strs(&serde_json::json!([
            "policyreports",
            "clusterpolicyreports"
        ]))
    );
    assert_eq!(
        strs(&rules[0]["verbs"]),
        strs(&serde_json::json!([
            "get", "list", "create", "update", "delete"
        ]))
    );
    let binding = find(objs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    let sa = find(&r.overlays["self-signed"], "ServiceAccount");
    assert_eq!(binding["subjects"][0]["name"], sa["metadata"]["name"]);
    assert_eq!(
        binding["subjects"][0]["namespace"],
        sa["metadata"]["namespace"]
    );
}
