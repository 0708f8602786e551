//! Baselines: today's findings frozen in a file (`flink-lint baseline write FILE`), so that a
//! check with `--baseline FILE` (or `baseline:` in `.flink-lint.yaml`) reports only new ones.
//!
//! A finding is recorded by a fingerprint that does not depend on where it sits in its file:
//! the rule, the object's identity (apiVersion, kind, namespace, name), the JSON pointer of the
//! finding in the object, and a digest of the value found there (keys sorted, so reordering a
//! mapping does not change it). Moving lines, reordering objects or moving an object to
//! another file keeps its findings baselined; changing the offending value makes them new.
//! Each entry matches one finding (an object defined twice with the same problem needs two).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Located, Outcome};
use crate::flink::object::ObjectRef;

/// The format version written in the file; a file of another version is refused.
pub const VERSION: u32 = 1;

/// One baselined finding. `file` and `message` are for readers and for counting fixed entries
/// (only entries of the files checked can be fixed); matching ignores them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    pub object: Object,
    pub path: String,
    /// FNV-1a (64-bit, hex) of the canonical JSON of the value at `path` (`null` when absent).
    pub value: String,
    pub file: String,
    pub message: String,
}

/// An object's identity as a baseline records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl From<&ObjectRef> for Object {
    fn from(o: &ObjectRef) -> Object {
        Object {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
        }
    }
}

/// What matching compares: everything but the file and the message.
type Key = (String, Object, String, String);

impl Entry {
    fn key(&self) -> Key {
        (
            self.rule.clone(),
            self.object.clone(),
            self.path.clone(),
            self.value.clone(),
        )
    }
}

/// The baseline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// The objects judged, by file and identity, to read the offending values from.
pub type Objects = HashMap<(String, ObjectRef), Arc<Value>>;

/// The objects of `inputs`, kept for fingerprinting after they are judged.
pub fn objects_of(inputs: &super::Inputs) -> Objects {
    let mut out = Objects::new();
    for o in &inputs.objects {
        let Some(file) = inputs.files.get(o.file) else {
            continue;
        };
        out.entry((file.name.clone(), ObjectRef::of(&o.value)))
            .or_insert_with(|| o.value.clone());
    }
    out
}

/// `v` as JSON with every mapping's keys sorted.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// FNV-1a, 64-bit: a digest that stays the same across versions and machines (a baseline is
/// committed; it is not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The digest of the value at `path` in `object` (`null` when there is none).
pub fn value_digest(object: Option<&Value>, path: &str) -> String {
    let mut text = String::new();
    match object.and_then(|o| o.pointer(path)) {
        Some(v) => canonical(v, &mut text),
        None => text.push_str("null"),
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// The fingerprint of a placed finding.
pub fn entry(l: &Located, objects: &Objects) -> Entry {
    let f = &l.finding;
    let object = objects.get(&(l.file.clone(), f.object.clone()));
    Entry {
        rule: f.rule.clone(),
        object: Object::from(&f.object),
        path: f.path.clone(),
        value: value_digest(object.map(|o| &**o), &f.path),
        file: l.file.clone(),
        message: f.message.clone(),
    }
}

/// The baseline of `outcome`'s findings, in their order.
pub fn of(outcome: &Outcome, objects: &Objects) -> Baseline {
    Baseline {
        version: VERSION,
        findings: outcome.findings.iter().map(|l| entry(l, objects)).collect(),
    }
}

impl Baseline {
    /// The file's text: pretty JSON, one entry per finding, ending in a line break.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// Parse a baseline file's text; `name` is the file named in errors.
    pub fn parse(name: &str, text: &str) -> Result<Baseline, String> {
        let b: Baseline = serde_json::from_str(text)
            .map_err(|e| format!("{name} is not a flink-lint baseline: {e}"))?;
        if b.version != VERSION {
            return Err(format!(
                "{name}: baseline version {} is not supported (this flink-lint writes version {VERSION})",
                b.version
            ));
        }
        Ok(b)
    }
}

/// What applying a baseline did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Findings left out because the baseline holds them.
    pub suppressed: usize,
    /// Baseline entries, of the files checked, that no finding matched: fixed since.
    pub fixed: usize,
}

/// Remove from `outcome` the findings `baseline` holds (each entry matches one finding).
/// `active` tells the rules this run checks: an entry of another rule is not counted fixed.
pub fn apply(
    outcome: &mut Outcome,
    baseline: &Baseline,
    objects: &Objects,
    active: impl Fn(&str) -> bool,
) -> Applied {
    let mut left: HashMap<Key, usize> = HashMap::new();
    for e in &baseline.findings {
        *left.entry(e.key()).or_default() += 1;
    }
    let mut suppressed = 0;
    outcome.findings.retain(|l| {
        let e = entry(l, objects);
        match left.get_mut(&e.key()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                suppressed += 1;
                false
            }
            _ => true,
        }
    });
    let checked: std::collections::HashSet<&str> =
        outcome.files.iter().map(|f| f.name.as_str()).collect();
    // Unmatched entries, counted when the files they were recorded in were checked now by
    // their rule (a check of part of the repository, or of some rules, does not call the rest
    // fixed).
    let mut fixed = 0;
    let mut unmatched = left;
    for e in &baseline.findings {
        if let Some(n) = unmatched.get_mut(&e.key())
            && *n > 0
        {
            *n -= 1;
            if checked.contains(e.file.as_str()) && active(&e.rule) {
                fixed += 1;
            }
        }
    }
    Applied { suppressed, fixed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_key_order_and_sees_values() {
        let a: Value = serde_json::json!({"s": {"b": 1, "a": [1, {"y": 2, "x": 3}]}});
        let b: Value = serde_json::json!({"s": {"a": [1, {"x": 3, "y": 2}], "b": 1}});
        let c: Value = serde_json::json!({"s": {"a": [1, {"x": 3, "y": 2}], "b": 2}});
        assert_eq!(value_digest(Some(&a), "/s"), value_digest(Some(&b), "/s"));
        assert_ne!(value_digest(Some(&a), "/s"), value_digest(Some(&c), "/s"));
        assert_eq!(value_digest(Some(&a), "/missing"), value_digest(None, ""));
        // Fixed across versions: the digest of `null` as FNV-1a 64 gives it.
        assert_eq!(value_digest(None, ""), format!("{:016x}", fnv1a(b"null")));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_bad_or_foreign_file_is_refused_with_its_name() {
        let e = Baseline::parse("b.json", "{\"version\": 1}").unwrap_err();
        assert!(e.starts_with("b.json is not a flink-lint baseline"), "{e}");
        let e = Baseline::parse("b.json", "{\"version\": 7, \"findings\": []}").unwrap_err();
        assert!(e.contains("version 7 is not supported"), "{e}");
        let b = Baseline::parse("b.json", "{\"version\": 1, \"findings\": []}").unwrap();
        assert_eq!(Baseline::parse("x", &b.to_text()), Ok(b));
    }
}
