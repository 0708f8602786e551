//! Inline suppression: `metadata.annotations["flink-lint.io/ignore"]`, a comma-separated list
//! of `RULE=reason` entries. A reason is required; an entry without one, or naming no rule, is
//! itself a finding (FLK001) and silences nothing. How severe a finding an entry may silence is
//! the configuration's `suppression.max-severity` (default `warning`: errors stay).

use serde_json::Value;

use super::rule::Registry;
use crate::flink::object;

pub const ANNOTATION: &str = "flink-lint.io/ignore";

/// One parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub rule: String,
    pub reason: String,
}

/// A malformed entry, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadIgnore {
    pub entry: String,
    pub problem: String,
}

/// Parse the annotation of `obj`.
pub fn parse(obj: &Value, registry: &Registry) -> (Vec<Ignore>, Vec<BadIgnore>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let Some(text) = object::annotation(obj, ANNOTATION) else {
        return (good, bad);
    };
    for entry in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let (rule, reason) = match entry.split_once('=') {
            Some((r, why)) => (r.trim(), why.trim()),
            None => (entry, ""),
        };
        if registry.get(rule).is_none() && !registry.selector_matches_any(rule) {
            bad.push(BadIgnore {
                entry: entry.to_string(),
                problem: format!("'{rule}' is not a rule id"),
            });
        } else if reason.is_empty() {
            bad.push(BadIgnore {
                entry: entry.to_string(),
                problem: format!("no reason is given for ignoring {rule}"),
            });
        } else {
            good.push(Ignore {
                rule: rule.to_string(),
                reason: reason.to_string(),
            });
        }
    }
    (good, bad)
}
