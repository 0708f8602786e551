//! `flink-lint --platform auto` (the default): OpenShift when the linted objects show it, else
//! Kubernetes. The evidence: a Namespace with an `openshift.io/sa.scc.*` annotation (OpenShift
//! writes them on every namespace), a Route, SecurityContextConstraints, DeploymentConfig or
//! ImageStream of an `*.openshift.io` API group.

use serde_json::Value;

use crate::engine::rule::Platform;
use crate::flink::object::ObjectRef;

/// The kinds only OpenShift serves, with their API groups.
const OPENSHIFT_KINDS: &[(&str, &str)] = &[
    ("Route", "route.openshift.io"),
    ("SecurityContextConstraints", "security.openshift.io"),
    ("DeploymentConfig", "apps.openshift.io"),
    ("ImageStream", "image.openshift.io"),
];

/// The annotation prefix OpenShift writes on namespaces (uid range, groups, MCS labels).
const SCC_ANNOTATION_PREFIX: &str = "openshift.io/sa.scc.";

/// The platform used and why, as the summary says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub platform: Platform,
    /// Why, e.g. "Route/web in app.yaml is OpenShift's".
    pub reason: String,
    /// Whether the evidence chose it (not a flag or the config file).
    pub detected: bool,
}

impl Chosen {
    /// The note that follows the summary: `platform: kubernetes (auto: ...)`.
    pub fn note(&self) -> String {
        let auto = if self.detected { "auto: " } else { "" };
        format!(
            "platform: {} ({auto}{})",
            self.platform.as_str(),
            self.reason
        )
    }
}

/// Why `obj` shows an OpenShift cluster, if it does.
fn evidence(obj: &Value) -> Option<&'static str> {
    let kind = obj.get("kind").and_then(Value::as_str)?;
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|a| a.split_once('/'))
        .map(|(g, _)| g);
    if kind == "Namespace" {
        let annotations = obj.pointer("/metadata/annotations")?.as_object()?;
        return annotations
            .keys()
            .any(|k| k.starts_with(SCC_ANNOTATION_PREFIX))
            .then_some("has openshift.io/sa.scc.* annotations");
    }
    OPENSHIFT_KINDS
        .iter()
        .any(|(k, g)| *k == kind && group == Some(*g))
        .then_some("is an OpenShift kind")
}

/// The platform `objects` (each with its file's name) show: the first piece of evidence, or
/// Kubernetes when there is none.
pub fn detect<'a>(objects: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Chosen {
    for (file, obj) in objects {
        if let Some(why) = evidence(obj) {
            return Chosen {
                platform: Platform::Openshift,
                reason: format!("{} in {file} {why}", ObjectRef::of(obj).display()),
                detected: true,
            };
        }
    }
    Chosen {
        platform: Platform::Kubernetes,
        reason: "no OpenShift objects among the inputs; --platform openshift to change".to_string(),
        detected: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openshift_only_on_evidence() {
        let deploy =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        let route = json!({"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "web"}});
        let plain_ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "annotations": {"x": "y"}}});
        let ocp_ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b", "annotations": {"openshift.io/sa.scc.uid-range": "1000/10"}}});
        // A Route of another group is not OpenShift's.
        let other_route =
            json!({"apiVersion": "example.com/v1", "kind": "Route", "metadata": {"name": "r"}});
        let none = detect([
            ("a.yaml", &deploy),
            ("b.yaml", &plain_ns),
            ("c.yaml", &other_route),
        ]);
        assert_eq!(none.platform, Platform::Kubernetes);
        assert!(
            none.reason.starts_with("no OpenShift object"),
            "{}",
            none.reason
        );
        let r = detect([("a.yaml", &deploy), ("r.yaml", &route)]);
        assert_eq!(r.platform, Platform::Openshift);
        assert_eq!(r.reason, "Route/web in r.yaml is an OpenShift kind");
        let n = detect([("ns.yaml", &ocp_ns)]);
        assert_eq!(n.platform, Platform::Openshift);
        assert_eq!(
            n.reason,
            "Namespace/b in ns.yaml has openshift.io/sa.scc.* annotations"
        );
        for (kind, group) in OPENSHIFT_KINDS {
            let o = json!({"apiVersion": format!("{group}/v1"), "kind": kind, "metadata": {"name": "x"}});
            assert_eq!(detect([("f", &o)]).platform, Platform::Openshift, "{kind}");
        }
    }
}
