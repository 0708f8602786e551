//! The install bundle (`flink-admission manifests`): the kustomize base in `deploy/base/`
//! (embedded with `include_str!`, the one source of truth) plus, in Rust, the same changes the
//! TLS overlays in `deploy/overlays/` make. `tests/it/deploy.rs` checks that both agree.
//!
//! Pure: no files, no network. For the self-signed mode the caller passes the PEMs.

use crate::flink::pointer::Pointer as _;
use serde_json::{Map, Value, json};

use crate::flink::kinds;

/// The name of everything: Namespace (default), ServiceAccount, Deployment, Service,
/// ClusterRole/Binding and both webhook configurations.
pub const NAME: &str = "flink-admission";
/// The namespace the files in `deploy/` use.
pub const DEFAULT_NAMESPACE: &str = "flink-admission";
/// The Secret holding tls.crt, tls.key (and ca.crt).
pub const TLS_SECRET: &str = "flink-admission-tls";
/// The image the base uses.
pub const DEFAULT_IMAGE: &str = "ghcr.io/flink-admission/flink-admission:0.1.0";

/// The base, in the order objects are applied (webhook configurations last, so the API server
/// never calls a webhook whose Service does not exist yet).
const BASE: &[(&str, &str)] = &[
    (
        "namespace.yaml",
        include_str!("../../deploy/base/namespace.yaml"),
    ),
    (
        "serviceaccount.yaml",
        include_str!("../../deploy/base/serviceaccount.yaml"),
    ),
    (
        "clusterrole.yaml",
        include_str!("../../deploy/base/clusterrole.yaml"),
    ),
    (
        "clusterrolebinding.yaml",
        include_str!("../../deploy/base/clusterrolebinding.yaml"),
    ),
    (
        "service.yaml",
        include_str!("../../deploy/base/service.yaml"),
    ),
    (
        "deployment.yaml",
        include_str!("../../deploy/base/deployment.yaml"),
    ),
    (
        "poddisruptionbudget.yaml",
        include_str!("../../deploy/base/poddisruptionbudget.yaml"),
    ),
    (
        "networkpolicy.yaml",
        include_str!("../../deploy/base/networkpolicy.yaml"),
    ),
    (
        "validatingwebhookconfiguration.yaml",
        include_str!("../../deploy/base/validatingwebhookconfiguration.yaml"),
    ),
    (
        "mutatingwebhookconfiguration.yaml",
        include_str!("../../deploy/base/mutatingwebhookconfiguration.yaml"),
    ),
];

const CERT_MANAGER: &[(&str, &str)] = &[
    (
        "issuer.yaml",
        include_str!("../../deploy/overlays/cert-manager/issuer.yaml"),
    ),
    (
        "certificate.yaml",
        include_str!("../../deploy/overlays/cert-manager/certificate.yaml"),
    ),
];

/// How the API server learns to trust the webhook's serving certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// A CA and certificate made beforehand (`flink-admission certs`): a Secret with all three,
    /// and `caBundle` set from `ca_pem`.
    SelfSigned {
        ca_pem: String,
        cert_pem: String,
        key_pem: String,
    },
    /// cert-manager issues the certificate and injects the CA (`cert-manager.io/inject-ca-from`).
    CertManager,
    /// The OpenShift service CA issues the certificate and injects the CA.
    Openshift,
}

/// `serve --platform`, the one type the server uses too.
pub use crate::engine::rule::{Platform, PlatformChoice};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestOptions {
    pub namespace: String,
    pub tls: Tls,
    pub platform: PlatformChoice,
    pub image: String,
}

impl ManifestOptions {
    /// The defaults of `deploy/`, with the given TLS mode. The OpenShift mode also sets
    /// `--platform openshift`, as the `openshift` overlay does.
    pub fn new(tls: Tls) -> ManifestOptions {
        let platform = if tls == Tls::Openshift {
            PlatformChoice::Fixed(Platform::Openshift)
        } else {
            PlatformChoice::Auto
        };
        ManifestOptions {
            namespace: DEFAULT_NAMESPACE.to_string(),
            tls,
            platform,
            image: DEFAULT_IMAGE.to_string(),
        }
    }
}

/// The DNS names the API server uses to reach the webhook Service: what the serving
/// certificate must carry.
pub fn service_dns_names(namespace: &str) -> Vec<String> {
    vec![
        format!("{NAME}.{namespace}.svc"),
        format!("{NAME}.{namespace}.svc.cluster.local"),
    ]
}

/// The complete install bundle as multi-document YAML.
pub fn manifests(opts: &ManifestOptions) -> Result<String, String> {
    let objects = objects(opts)?;
    let mut out = String::new();
    for obj in &objects {
        let yaml = serde_saphyr::to_string(obj).map_err(|e| format!("YAML: {e}"))?;
        out.push_str("---\n");
        out.push_str(&yaml);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// The install bundle as objects, in apply order.
pub fn objects(opts: &ManifestOptions) -> Result<Vec<Value>, String> {
    validate(opts)?;
    let mut objs = Vec::new();
    for (file, text) in BASE {
        objs.push(parse(file, text)?);
    }
    match &opts.tls {
        Tls::SelfSigned {
            ca_pem,
            cert_pem,
            key_pem,
        } => {
            for (what, pem) in [("CA", ca_pem), ("certificate", cert_pem)] {
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(format!("the {what} is not a PEM certificate"));
                }
            }
            if !key_pem.contains("PRIVATE KEY-----") {
                return Err("the key is not a PEM private key".into());
            }
            let secret = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": TLS_SECRET, "namespace": DEFAULT_NAMESPACE},
                "data": {
                    "ca.crt": b64(ca_pem),
                    "tls.crt": b64(cert_pem),
                    "tls.key": b64(key_pem),
                },
            });
            // kustomize puts generated objects after the resources; order only matters for
            // apply, where the Secret must precede the Deployment.
            let at = position(&objs, "Service").unwrap_or(objs.len());
            objs.insert(at, secret);
            for obj in webhooks_mut(&mut objs) {
                for hook in hooks(obj) {
                    hook["clientConfig"]["caBundle"] = Value::String(b64(ca_pem));
                }
            }
        }
        Tls::CertManager => {
            let at = position(&objs, "ValidatingWebhookConfiguration").unwrap_or(objs.len());
            for (i, (file, text)) in CERT_MANAGER.iter().enumerate() {
                objs.insert(at + i, parse(file, text)?);
            }
            let from = format!("{DEFAULT_NAMESPACE}/{TLS_SECRET}");
            for obj in webhooks_mut(&mut objs) {
                annotate(obj, "cert-manager.io/inject-ca-from", &from);
            }
        }
        Tls::Openshift => {
            if let Some(i) = position(&objs, "Service") {
                annotate(
                    &mut objs[i],
                    "service.beta.openshift.io/serving-cert-secret-name",
                    TLS_SECRET,
                );
            }
            for obj in webhooks_mut(&mut objs) {
                annotate(obj, "service.beta.openshift.io/inject-cabundle", "true");
            }
        }
    }
    set_container(&mut objs, opts)?;
    if opts.namespace != DEFAULT_NAMESPACE {
        for obj in &mut objs {
            rename_namespace(obj, &opts.namespace);
        }
    }
    Ok(objs)
}

fn validate(opts: &ManifestOptions) -> Result<(), String> {
    let ns = &opts.namespace;
    let dns1123 = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if !dns1123 {
        return Err(format!("namespace '{ns}' is not a DNS-1123 label"));
    }
    if ns.starts_with("openshift-") || ns.starts_with("kube-") {
        return Err(format!(
            "namespace '{ns}': the webhook does not see this namespace's objects, but it should \
             not live in a system namespace either; pick another"
        ));
    }
    if opts.image.trim().is_empty() || opts.image.chars().any(char::is_whitespace) {
        return Err(format!("image '{}' is not an image reference", opts.image));
    }
    Ok(())
}

fn parse(file: &str, text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| format!("deploy/{file}: {e}"))
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The ClusterRole's rules: get, list, watch on exactly what the cluster cache watches
/// (`flink::kinds`, `watch`), one rule per API group in table order. `deploy/base/clusterrole.yaml`
/// must say the same (tested).
pub fn cluster_role_rules() -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for k in kinds::watched() {
        match groups.iter_mut().find(|(g, _)| *g == k.group) {
            Some((_, plurals)) => plurals.push(k.plural),
            None => groups.push((k.group, vec![k.plural])),
        }
    }
    Value::Array(
        groups
            .into_iter()
            .map(|(g, plurals)| json!({"apiGroups": [g], "resources": plurals, "verbs": ["get", "list", "watch"]}))
            .collect(),
    )
}

fn kind(obj: &Value) -> &str {
    obj["kind"].as_str().unwrap_or("")
}

fn position(objs: &[Value], k: &str) -> Option<usize> {
    objs.iter().position(|o| kind(o) == k)
}

fn webhooks_mut(objs: &mut [Value]) -> impl Iterator<Item = &mut Value> {
    objs.iter_mut().filter(|o| {
        matches!(
            kind(o),
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
        )
    })
}

fn hooks(obj: &mut Value) -> impl Iterator<Item = &mut Value> {
    obj["webhooks"]
        .as_array_mut()
        .into_iter()
        .flat_map(|a| a.iter_mut())
}

fn annotate(obj: &mut Value, key: &str, value: &str) {
    let meta = obj["metadata"]
        .as_object_mut()
        .expect("every base object has metadata");
    let ann = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(ann) = ann.as_object_mut() {
        ann.insert(key.to_string(), Value::String(value.to_string()));
    }
}

fn set_container(objs: &mut [Value], opts: &ManifestOptions) -> Result<(), String> {
    let dep = objs
        .iter_mut()
        .find(|o| kind(o) == "Deployment")
        .ok_or("deploy/base has no Deployment")?;
    let c = dep
        .at_mut("/spec/template/spec/containers/0")
        .ok_or("deploy/base Deployment has no container")?;
    c["image"] = Value::String(opts.image.clone());
    let args = c["args"]
        .as_array_mut()
        .ok_or("deploy/base Deployment has no args")?;
    let arg = args
        .iter_mut()
        .find(|a| a.as_str().is_some_and(|s| s.starts_with("--platform=")))
        .ok_or("deploy/base Deployment has no --platform= argument")?;
    *arg = Value::String(format!("--platform={}", opts.platform.as_str()));
    Ok(())
}

/// Everything that names the namespace, as a custom kustomize overlay would have to change it.
fn rename_namespace(obj: &mut Value, ns: &str) {
    let old_svc = format!("{NAME}.{DEFAULT_NAMESPACE}.svc");
    let new_svc = format!("{NAME}.{ns}.svc");
    match kind(obj) {
        "Namespace" => obj["metadata"]["name"] = json!(ns),
        "ClusterRole" => {}
        "ClusterRoleBinding" => {
            if let Some(subjects) = obj["subjects"].as_array_mut() {
                for s in subjects {
                    s["namespace"] = json!(ns);
                }
            }
        }
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
            if let Some(ann) = obj["metadata"]["annotations"].as_object_mut()
                && let Some(v) = ann.get_mut("cert-manager.io/inject-ca-from")
            {
                *v = json!(format!("{ns}/{TLS_SECRET}"));
            }
            for hook in hooks(obj) {
                hook["clientConfig"]["service"]["namespace"] = json!(ns);
                let exprs = hook
                    .at_mut("/namespaceSelector/matchExpressions")
                    .and_then(Value::as_array_mut);
                for e in exprs.into_iter().flatten() {
                    if e["key"] == "kubernetes.io/metadata.name"
                        && let Some(values) = e["values"].as_array_mut()
                    {
                        for v in values.iter_mut() {
                            if v == DEFAULT_NAMESPACE {
                                *v = json!(ns);
                            }
                        }
                    }
                }
            }
        }
        _ => {
            obj["metadata"]["namespace"] = json!(ns);
            if kind(obj) == "Certificate" {
                if let Some(cn) = obj["spec"]["commonName"].as_str() {
                    obj["spec"]["commonName"] = json!(cn.replace(&old_svc, &new_svc));
                }
                obj["spec"]["dnsNames"] = json!(service_dns_names(ns));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_renders_and_parses_back() {
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
            let mut opts = ManifestOptions::new(tls);
            opts.namespace = "webhooks".into();
            let text = manifests(&opts).unwrap();
            let back: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
            assert_eq!(back, objects(&opts).unwrap());
            assert!(!text.contains(".flink-admission.svc"));
            assert!(!text.contains("namespace: flink-admission\n"), "{text}");
        }
    }

    #[test]
    fn bad_options_are_refused() {
        let mut opts = ManifestOptions::new(Tls::CertManager);
        opts.namespace = "Bad_NS".into();
        assert!(manifests(&opts).is_err());
        opts.namespace = "openshift-x".into();
        assert!(manifests(&opts).is_err());
        let opts = ManifestOptions::new(Tls::SelfSigned {
            ca_pem: "x".into(),
            cert_pem: "y".into(),
            key_pem: "z".into(),
        });
        assert!(manifests(&opts).is_err());
    }
}
