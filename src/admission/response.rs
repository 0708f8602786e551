//! The AdmissionReview response we send. Our own type, not kube's: kube serialises the patch as
//! a JSON number array (kube-rs issue 1781), the API documents base64. `patch` and `patchType`
//! are one field here, so one never goes out without the other.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use crate::engine::Op;

/// `response` of an AdmissionReview.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub patch: Option<JsonPatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Keys are names without a prefix: the API server prefixes them with the webhook's name
    /// (`validate.flink-admission.io/rules`), and rejects keys that already contain a `/`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
}

/// A metav1 `Status`, as Go's encoder writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub metadata: BTreeMap<String, String>,
    pub status: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

impl Status {
    pub fn failure(code: u16, reason: &str, message: impl Into<String>) -> Status {
        Status {
            metadata: BTreeMap::new(),
            status: "Failure".into(),
            message: message.into(),
            reason: Some(reason.into()),
            code: Some(code),
        }
    }
}

/// `patch` (base64 of the RFC 6902 JSON array) and `patchType: JSONPatch`, together.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPatch {
    pub patch: String,
    pub patch_type: String,
}

impl JsonPatch {
    /// `None` for an empty list: an unchanged object gets no patch at all.
    pub fn from_ops(ops: &[Op]) -> Option<JsonPatch> {
        if ops.is_empty() {
            return None;
        }
        let bytes = serde_json::to_vec(ops).ok()?;
        Some(JsonPatch {
            patch: base64::engine::general_purpose::STANDARD.encode(bytes),
            patch_type: "JSONPatch".into(),
        })
    }

    /// The operations back as JSON (tests, `replay`).
    pub fn decode(&self) -> Option<Value> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.patch)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

impl Response {
    /// Allowed, nothing else.
    pub fn allow(uid: impl Into<String>) -> Response {
        Response {
            uid: uid.into(),
            allowed: true,
            status: None,
            patch: None,
            warnings: Vec::new(),
            audit_annotations: BTreeMap::new(),
        }
    }

    /// Denied with a 403 `Forbidden` status carrying `message`.
    pub fn deny(uid: impl Into<String>, message: impl Into<String>) -> Response {
        Response {
            allowed: false,
            status: Some(Status::failure(403, "Forbidden", message)),
            ..Response::allow(uid)
        }
    }

    /// The whole AdmissionReview to send: same `apiVersion` as the request, `kind`
    /// `AdmissionReview`, this response.
    pub fn into_review(self, api_version: &str) -> Value {
        serde_json::json!({
            "apiVersion": api_version,
            "kind": "AdmissionReview",
            "response": self,
        })
    }

    /// The same AdmissionReview as [`Response::into_review`], written straight to bytes (the
    /// server's path: no intermediate JSON tree).
    pub fn review_bytes(&self, api_version: &str) -> Vec<u8> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Envelope<'a> {
            api_version: &'a str,
            kind: &'static str,
            response: &'a Response,
        }
        let envelope = Envelope {
            api_version,
            kind: "AdmissionReview",
            response: self,
        };
        // Strings, bools, numbers and string maps only: serialising cannot fail.
        serde_json::to_vec(&envelope).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patch_is_base64_with_type_and_absent_when_empty() {
        assert_eq!(JsonPatch::from_ops(&[]), None);
        let ops = vec![Op::Replace {
            path: "/spec/replicas".into(),
            value: json!(1),
        }];
        let mut r = Response::allow("u");
        r.patch = JsonPatch::from_ops(&ops);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["patchType"], "JSONPatch");
        assert!(v["patch"].is_string());
        assert_eq!(
            r.patch.unwrap().decode().unwrap(),
            json!([{"op": "replace", "path": "/spec/replicas", "value": 1}])
        );
        let plain = serde_json::to_value(Response::allow("u")).unwrap();
        assert_eq!(plain, json!({"uid": "u", "allowed": true}));
    }

    #[test]
    fn review_bytes_is_into_review_serialised() {
        let mut r = Response::deny("u-1", "no \"quotes\" or \u{7}");
        r.warnings = vec!["FLK102: w".into()];
        r.audit_annotations.insert("rules".into(), "FLK102".into());
        r.patch = JsonPatch::from_ops(&[Op::Remove {
            path: "/spec/strategy".into(),
        }]);
        for version in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] {
            let bytes = r.review_bytes(version);
            let parsed: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(parsed, r.clone().into_review(version));
            // same key order as the tree (apiVersion, kind, response)
            assert_eq!(
                bytes,
                serde_json::to_vec(&r.clone().into_review(version)).unwrap()
            );
        }
    }

    #[test]
    fn deny_has_go_shaped_status() {
        let v = Response::deny("u", "no").into_review("admission.k8s.io/v1");
        assert_eq!(
            v,
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": {"uid": "u", "allowed": false, "status": {
                    "metadata": {}, "status": "Failure", "message": "no", "reason": "Forbidden", "code": 403}}})
        );
    }
}
