//! Reading an AdmissionReview as API servers send it, leniently: `admission.k8s.io/v1` and
//! `v1beta1` envelopes, bare `AdmissionRequest`s (no envelope, as in many test captures),
//! missing `name`/`namespace` keys, `object: null` on DELETE.
//!
//! The body is parsed once as a [`serde_json::Value`]; `request.object` is moved out of it
//! untouched, never round-tripped through typed structs, so unknown fields survive into the
//! patches computed on them. What no rule reads is skipped while parsing, not built and
//! dropped ([`UNREAD`]): the objects' `metadata.managedFields` (often the larger part of an
//! object a client applied), and `oldObject` (the object as stored, as large as the object
//! itself) unless the review is an UPDATE of a kind that a rule comparing with the old version
//! judges ([`keeps_old`]). A patch only names what it changes, so what was skipped stays as the
//! API server has it.

use crate::flink::pointer::Pointer as _;
use std::fmt;

use serde_json::Value;

use crate::engine::Operation;

/// The envelope versions we answer.
pub const V1: &str = "admission.k8s.io/v1";
pub const V1BETA1: &str = "admission.k8s.io/v1beta1";

/// A decoded review: the envelope version to answer with and the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// `admission.k8s.io/v1` or `admission.k8s.io/v1beta1` (a bare request is answered as v1).
    pub api_version: String,
    pub request: Request,
}

/// `request.kind` / `request.resource`: group, version and kind (or resource).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl GroupVersionKind {
    /// `group/version` (just `version` for the core group).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// The parts of an `AdmissionRequest` the webhook uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub uid: String,
    /// `None` when the operation is missing or unknown.
    pub operation: Option<Operation>,
    /// The operation as sent (for logs).
    pub operation_raw: String,
    /// `request.kind`: what the object is (`autoscaling/v1 Scale` on `/scale`).
    pub kind: GroupVersionKind,
    /// `request.resource`: `kind` holds the resource (plural) name.
    pub resource: GroupVersionKind,
    pub sub_resource: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub dry_run: bool,
    pub user: Option<String>,
    /// `request.object`, without [`UNREAD`] members; `None` when absent or `null` (DELETE).
    pub object: Option<std::sync::Arc<Value>>,
    /// `request.oldObject`, without its `managedFields`: only for an UPDATE of a kind
    /// [`keeps_old`] names, else `None` (not parsed at all when `kind` and `operation` come
    /// before it, as API servers send them).
    pub old_object: Option<std::sync::Arc<Value>>,
}

/// Why a body is not a review we can answer (the server answers 400 with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON at all.
    Json(String),
    /// JSON, but not an object.
    NotAnObject,
    /// An envelope with another `apiVersion`.
    ApiVersion(String),
    /// An envelope with another `kind`.
    Kind(String),
    /// An envelope without `request`, or a `request` that is not an object.
    NoRequest,
    /// A request without a (string, non-empty) `uid`: there is nothing to answer to.
    NoUid,
    /// More JSON values than the limit ([`decode_limited`]): refused before the rest is built.
    TooManyValues(usize),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "body is not JSON: {e}"),
            DecodeError::NotAnObject => write!(f, "body is not a JSON object"),
            DecodeError::ApiVersion(v) => write!(f, "apiVersion '{v}' is not {V1} or {V1BETA1}"),
            DecodeError::Kind(k) => write!(f, "kind '{k}' is not AdmissionReview"),
            DecodeError::NoRequest => write!(f, "AdmissionReview has no request object"),
            DecodeError::NoUid => write!(f, "AdmissionReview request has no uid"),
            DecodeError::TooManyValues(n) => write!(
                f,
                "AdmissionReview holds more than {n} JSON values (objects, arrays, strings, numbers); \
                 the webhook reads at most {n} in one review"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Members of a review no rule reads, as paths of member names from the top of the body (an
/// envelope's request, or a bare request): skipped while parsing ([`decode`]), taken out of an
/// already parsed review ([`decode_value`]). `oldObject` itself is skipped too unless
/// [`keeps_old`] wants it ([`OLD_OBJECT`]).
pub const UNREAD: &[&[&str]] = &[
    &["request", "object", "metadata", "managedFields"],
    &["request", "oldObject", "metadata", "managedFields"],
    &["object", "metadata", "managedFields"],
    &["oldObject", "metadata", "managedFields"],
];

/// The request member holding the object as stored before an UPDATE.
pub const OLD_OBJECT: &str = "oldObject";

/// Whether the webhook keeps `oldObject` for a review of `operation` on `group`/`kind`: an
/// UPDATE of a kind that an admission rule limited to UPDATE judges (those compare the object
/// with what was there before: the FLK6xx rules). Every other review is decoded without it.
pub fn keeps_old(operation: &str, group: &str, kind: &str) -> bool {
    operation == "UPDATE" && old_kinds().iter().any(|(g, k)| *g == group && *k == kind)
}

/// The kinds of [`keeps_old`], worked out once from the embedded rules.
fn old_kinds() -> &'static [(&'static str, &'static str)] {
    static KINDS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        let Ok(registry) = crate::engine::Registry::embedded() else {
            return Vec::new();
        };
        let mut kinds: Vec<(&'static str, &'static str)> = registry
            .rules()
            .iter()
            .filter(|r| !r.operations.is_empty() && r.operations.iter().all(|o| o == "UPDATE"))
            .flat_map(|r| r.admission_kinds())
            .map(|k| (k.group, k.kind))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    })
}

/// [`keeps_old`] of a request's `operation` and `kind` members, as sent: whether a request
/// keeps the `oldObject` that comes after them (as API servers send them). A request naming
/// them only after `oldObject` is read without it (the decision is made before anything of it
/// is built).
fn keeps_old_of(operation: Option<&Value>, kind: Option<&Value>) -> bool {
    let (Some(operation), Some(kind)) = (operation, kind) else {
        return false;
    };
    let part = |p: &str| kind.get(p).and_then(Value::as_str).unwrap_or("");
    keeps_old(
        operation.as_str().unwrap_or(""),
        part("group"),
        part("kind"),
    )
}

/// Decode a request body.
pub fn decode(body: &[u8]) -> Result<Review, DecodeError> {
    decode_limited(body, usize::MAX)
}

/// Decode a request body that holds at most `max_values` JSON values (every object, array,
/// string, number, boolean and null counts one; members skipped as [`UNREAD`] count none): the
/// memory a review's tree takes is bounded by its values, not by the body's bytes (a 3 MiB
/// array of `1`s is 1.5 million values, about 120 MB as a tree). Past the limit the parse
/// stops with [`DecodeError::TooManyValues`] before building the rest.
pub fn decode_limited(body: &[u8], max_values: usize) -> Result<Review, DecodeError> {
    use serde::de::DeserializeSeed as _;
    let left = std::cell::Cell::new(max_values);
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Pruned::top(&left)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            if left.get() == 0 && e.to_string().starts_with(OVER_BUDGET) {
                DecodeError::TooManyValues(max_values)
            } else {
                DecodeError::Json(e.to_string())
            }
        })?;
    // Parsed without UNREAD already: nothing to take out.
    read_review(value)
}

/// The parse error [`Pruned`] stops with when the value budget is spent.
const OVER_BUDGET: &str = "the value budget is spent";

/// A JSON value, parsed without the members at the ends of `paths` (each a path of member
/// names below this value); `depth` names are matched already. Off every path, nothing is
/// skipped. Every value built takes one from `left`; none left is an error.
#[derive(Clone, Copy)]
struct Pruned<'p> {
    paths: &'p [&'p [&'p str]],
    depth: usize,
    left: &'p std::cell::Cell<usize>,
}

impl<'p> Pruned<'p> {
    fn top(left: &'p std::cell::Cell<usize>) -> Self {
        Pruned {
            paths: UNREAD,
            depth: 0,
            left,
        }
    }

    /// One more value, or the error that stops the parse.
    fn take<E: serde::de::Error>(&self) -> Result<(), E> {
        match self.left.get() {
            0 => Err(E::custom(OVER_BUDGET)),
            n => {
                self.left.set(n - 1);
                Ok(())
            }
        }
    }

    /// The same budget, below this value and off every path.
    fn plain(&self) -> Pruned<'p> {
        Pruned {
            paths: &[],
            depth: 0,
            left: self.left,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        self.take()?;
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self.plain())? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let on_path = |p: &&[&str]| p.get(self.depth) == Some(&key.as_str());
            // A request's `oldObject` (a path goes on below it): skipped unless it may be kept.
            if key == OLD_OBJECT
                && self.paths.iter().any(on_path)
                && !keeps_old_of(out.get("operation"), out.get("kind"))
            {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value = if self
                .paths
                .iter()
                .any(|p| on_path(p) && p.len() == self.depth + 1)
            {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            } else if self.paths.iter().any(on_path) {
                // Few paths, rarely matched: the ones going on below this member.
                let below: Vec<&[&str]> = self.paths.iter().copied().filter(on_path).collect();
                map.next_value_seed(Pruned {
                    paths: &below,
                    depth: self.depth + 1,
                    left: self.left,
                })?
            } else {
                map.next_value_seed(self.plain())?
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Decode an already parsed review (or bare request). Takes ownership so the objects are moved,
/// not copied.
pub fn decode_value(mut value: Value) -> Result<Review, DecodeError> {
    let Some(top) = value.as_object_mut() else {
        return Err(DecodeError::NotAnObject);
    };
    for path in UNREAD {
        if let Some((last, parents)) = path.split_last() {
            let mut node = Some(&mut *top);
            for p in parents {
                node = node
                    .and_then(|n| n.get_mut(*p))
                    .and_then(Value::as_object_mut);
            }
            if let Some(n) = node {
                n.shift_remove(*last);
            }
        }
    }
    read_review(value)
}

/// The review in a parsed body without [`UNREAD`] members.
fn read_review(mut value: Value) -> Result<Review, DecodeError> {
    let Some(top) = value.as_object_mut() else {
        return Err(DecodeError::NotAnObject);
    };
    let api_version = match top.get("apiVersion") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(DecodeError::ApiVersion(other.to_string())),
    };
    let envelope_kind = top.get("kind").and_then(Value::as_str).map(str::to_string);
    let has_request = top.contains_key("request");
    // A bare AdmissionRequest: no envelope, request fields at the top level. Its `kind` is
    // the object's GroupVersionKind (an object), never a string.
    let bare = !has_request && api_version.is_none() && top.contains_key("uid");
    if let Some(v) = &api_version
        && v != V1
        && v != V1BETA1
    {
        return Err(DecodeError::ApiVersion(v.clone()));
    }
    if let Some(k) = &envelope_kind
        && k != "AdmissionReview"
    {
        return Err(DecodeError::Kind(k.clone()));
    }
    let mut request = if bare {
        value
    } else {
        match top.remove("request") {
            Some(r @ Value::Object(_)) => r,
            _ => return Err(DecodeError::NoRequest),
        }
    };
    let request = read_request(&mut request)?;
    Ok(Review {
        api_version: api_version.unwrap_or_else(|| V1.to_string()),
        request,
    })
}

fn read_request(req: &mut Value) -> Result<Request, DecodeError> {
    let s = |v: &Value, p: &str| v.at(p).and_then(Value::as_str).map(str::to_string);
    let uid = s(req, "/uid")
        .filter(|u| !u.is_empty())
        .ok_or(DecodeError::NoUid)?;
    let operation_raw = s(req, "/operation").unwrap_or_default();
    let operation = match operation_raw.as_str() {
        "CREATE" => Some(Operation::Create),
        "UPDATE" => Some(Operation::Update),
        "DELETE" => Some(Operation::Delete),
        "CONNECT" => Some(Operation::Connect),
        _ => None,
    };
    let gvk = |v: &Value, at: &str, key: &str| {
        let part = |k: &str| {
            v.get(at)
                .and_then(|g| g.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_default()
        };
        GroupVersionKind {
            group: part("group"),
            version: part("version"),
            kind: part(key),
        }
    };
    let take = |req: &mut Value, key: &str| match req.get_mut(key).map(Value::take) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    };
    let kind = gvk(req, "kind", "kind");
    // As [`decode`] decides while parsing: from the members before `oldObject`.
    let keep = req.as_object().is_some_and(|m| {
        let (mut operation, mut kind) = (None, None);
        for (k, v) in m.iter().take_while(|(k, _)| k.as_str() != OLD_OBJECT) {
            match k.as_str() {
                "operation" => operation = Some(v),
                "kind" => kind = Some(v),
                _ => {}
            }
        }
        keeps_old_of(operation, kind)
    });
    let old_object = if keep {
        take(req, OLD_OBJECT).map(std::sync::Arc::new)
    } else {
        None
    };
    Ok(Request {
        kind,
        old_object,
        resource: gvk(req, "resource", "resource"),
        sub_resource: s(req, "/subResource").filter(|x| !x.is_empty()),
        name: s(req, "/name").filter(|x| !x.is_empty()),
        namespace: s(req, "/namespace").filter(|x| !x.is_empty()),
        dry_run: req.get("dryRun").and_then(Value::as_bool).unwrap_or(false),
        user: s(req, "/userInfo/username"),
        object: take(req, "object").map(std::sync::Arc::new),
        uid,
        operation,
        operation_raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_envelope_and_objects_are_moved_raw() {
        let body = json!({"apiVersion": V1, "kind": "AdmissionReview", "request": {
            "uid": "u1", "operation": "UPDATE",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "ns", "name": "jm", "dryRun": true,
            "object": {"kind": "Deployment", "x-unknown": {"keep": [1, 2]}},
            "oldObject": {"kind": "Deployment"}}});
        let r = decode(body.to_string().as_bytes()).unwrap();
        assert_eq!(r.api_version, V1);
        assert_eq!(r.request.uid, "u1");
        assert_eq!(r.request.operation, Some(Operation::Update));
        assert_eq!(r.request.kind.api_version(), "apps/v1");
        assert_eq!(r.request.resource.kind, "deployments");
        assert!(r.request.dry_run);
        assert_eq!(
            r.request.object.unwrap()["x-unknown"]["keep"],
            json!([1, 2])
        );
    }

    #[test]
    fn what_no_rule_reads_is_not_parsed_and_the_rest_is_as_sent() {
        let object = json!({"kind": "Deployment", "metadata": {"name": "jm",
            "managedFields": [{"manager": "kubectl"}], "labels": {"a": "b"}},
            "spec": {"managedFields": "kept: not metadata's", "oldObject": 1}});
        let mut expected = object.clone();
        expected["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        let envelope = json!({"apiVersion": V1, "kind": "AdmissionReview", "request": {
            "uid": "u", "operation": "UPDATE", "object": object, "oldObject": object}});
        let bare = envelope["request"].clone();
        for body in [envelope, bare] {
            let parsed = decode(body.to_string().as_bytes()).unwrap();
            let object = parsed.request.object.clone().unwrap();
            assert_eq!(*object, expected);
            // the same request, parsed beforehand (replay): the same answer
            assert_eq!(decode_value(body).unwrap(), parsed);
        }
        // the members are still checked as JSON
        let broken = br#"{"request": {"uid": "u", "oldObject": {"a": tru}}}"#;
        assert!(matches!(decode(broken), Err(DecodeError::Json(_))));
        let trailing = br#"{"request": {"uid": "u"}} x"#;
        assert!(matches!(decode(trailing), Err(DecodeError::Json(_))));
        // a request that is not an object is still no request
        let r = br#"{"apiVersion": "admission.k8s.io/v1", "request": [1]}"#;
        assert_eq!(decode(r), Err(DecodeError::NoRequest));
    }

    #[test]
    fn old_object_is_kept_only_for_updates_of_the_kinds_rules_compare() {
        let fd =
            json!({"group": "flink.apache.org", "version": "v1beta1", "kind": "FlinkDeployment"});
        let deployment = json!({"group": "apps", "version": "v1", "kind": "Deployment"});
        let old = json!({"kind": "FlinkDeployment", "metadata": {"name": "a",
            "managedFields": [{"manager": "kubectl"}]}, "spec": {"job": {}}});
        let review = |op: &str, kind: &Value| {
            json!({"apiVersion": V1, "kind": "AdmissionReview", "request": {
                "uid": "u", "kind": kind, "operation": op,
                "object": {"kind": "X"}, "oldObject": old}})
        };
        let both = |body: Value| {
            let streamed = decode(body.to_string().as_bytes()).unwrap();
            assert_eq!(
                decode_value(body).unwrap(),
                streamed,
                "decode and decode_value agree"
            );
            streamed.request.old_object
        };
        let kept = both(review("UPDATE", &fd)).expect("UPDATE of a FlinkDeployment keeps it");
        assert_eq!(kept["spec"], json!({"job": {}}));
        assert!(kept["metadata"].get("managedFields").is_none());
        assert_eq!(kept["metadata"]["name"], "a");
        assert!(both(review("CREATE", &fd)).is_none());
        assert!(both(review("DELETE", &fd)).is_none());
        assert!(both(review("UPDATE", &deployment)).is_none());
        // A request naming its kind only after oldObject is read without it (the decision is
        // made before anything of it is built).
        let late = json!({"request": {"uid": "u", "operation": "UPDATE", "oldObject": old,
            "kind": fd}});
        assert!(both(late).is_none());
        // A bare request keeps it too.
        let bare = review("UPDATE", &fd)["request"].clone();
        assert!(both(bare).is_some());
        assert!(keeps_old("UPDATE", "flink.apache.org", "FlinkSessionJob"));
        assert!(keeps_old(
            "UPDATE",
            "flink.apache.org",
            "FlinkBlueGreenDeployment"
        ));
        assert!(!keeps_old(
            "UPDATE",
            "flink.apache.org",
            "FlinkStateSnapshot"
        ));
    }

    #[test]
    fn the_value_budget_counts_what_is_built_and_stops_past_it() {
        // envelope, request, uid, object, kind, the array and its three items: 9 values;
        // oldObject is skipped, so its 1,000 items count nothing
        let body = json!({"request": {"uid": "u", "object": {"kind": "K", "x": [1, "a", null]},
            "oldObject": {"x": vec![1; 1000]}}})
        .to_string();
        let whole = decode(body.as_bytes()).unwrap();
        assert_eq!(decode_limited(body.as_bytes(), 9).unwrap(), whole);
        assert_eq!(
            decode_limited(body.as_bytes(), 8),
            Err(DecodeError::TooManyValues(8))
        );
        let many = format!(
            "{{\"request\": {{\"uid\": \"u\", \"object\": {{\"x\": [{}1]}}}}}}",
            "1,".repeat(100_000)
        );
        let err = decode_limited(many.as_bytes(), 1_000).unwrap_err();
        assert_eq!(err, DecodeError::TooManyValues(1_000));
        assert!(err.to_string().contains("at most 1000"), "{err}");
        // broken JSON inside the budget is still a JSON error
        assert!(matches!(
            decode_limited(b"{\"request\": [1, tru]}", 100),
            Err(DecodeError::Json(_))
        ));
    }

    #[test]
    fn lenient_shapes() {
        // bare request, no namespace/name, object null
        let bare = json!({"uid": "b", "operation": "DELETE", "object": null,
            "kind": {"group": "", "version": "v1", "kind": "Pod"}});
        let r = decode_value(bare).unwrap();
        assert_eq!(r.api_version, V1);
        assert_eq!(r.request.object, None);
        assert_eq!(r.request.namespace, None);
        // v1beta1 is answered as v1beta1
        let beta =
            json!({"apiVersion": V1BETA1, "kind": "AdmissionReview", "request": {"uid": "x"}});
        assert_eq!(decode_value(beta).unwrap().api_version, V1BETA1);
        // envelope without apiVersion/kind
        let only_request = json!({"request": {"uid": "y", "operation": "SOMETHING"}});
        let r = decode_value(only_request).unwrap();
        assert_eq!(r.request.operation, None);
        assert_eq!(r.request.operation_raw, "SOMETHING");
    }

    #[test]
    fn errors() {
        assert!(matches!(decode(b"{"), Err(DecodeError::Json(_))));
        assert_eq!(decode(b"[1]"), Err(DecodeError::NotAnObject));
        assert_eq!(
            decode_value(
                json!({"apiVersion": "apps/v1", "kind": "AdmissionReview", "request": {"uid": "a"}})
            ),
            Err(DecodeError::ApiVersion("apps/v1".into()))
        );
        assert_eq!(
            decode_value(json!({"apiVersion": V1, "kind": "Pod", "request": {"uid": "a"}})),
            Err(DecodeError::Kind("Pod".into()))
        );
        assert_eq!(
            decode_value(json!({"apiVersion": V1, "kind": "AdmissionReview"})),
            Err(DecodeError::NoRequest)
        );
        assert_eq!(
            decode_value(json!({"apiVersion": V1BETA1, "request": {"operation": "UPDATE"}})),
            Err(DecodeError::NoUid)
        );
        assert_eq!(
            decode_value(json!({"request": {"uid": 7}})),
            Err(DecodeError::NoUid)
        );
    }
}
