//! GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues with
//! `description`, `check_name`, `fingerprint`, `severity` and `location.path` /
//! `location.lines.begin`.
//!
//! Severity: error → `major`, warning → `minor`, info → `info`; an input that could not be read
//! or parsed → `critical` (nothing in it was checked).
//!
//! The fingerprint is what GitLab compares between the merge request and its target branch to
//! tell new issues from fixed ones, so it must not change when unrelated lines move: it is a
//! 128-bit FNV-1a hash (hex) of the rule, the file, the object (apiVersion, kind, namespace,
//! name) and the JSON pointer, not of the line. Two findings with the same key (rare) get an
//! occurrence number in the hash. Input errors hash the file and the message.

use serde_json::{Value, json};

use crate::engine::Severity;
use crate::lint::Outcome;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

/// FNV-1a, 128 bits: small, dependency-free and the same on every platform and Rust version
/// (unlike `std`'s `DefaultHasher`).
pub fn fnv1a_128(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator that cannot occur in the parts' UTF-8, so ("ab","c") != ("a","bc").
            h ^= 0xff;
            h = h.wrapping_mul(PRIME);
        }
        for b in part.bytes() {
            h ^= u128::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:032x}")
}

fn path_of(file: &str) -> &str {
    file.trim_start_matches("./")
}

pub fn gitlab(outcome: &Outcome) -> String {
    let mut issues: Vec<Value> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in &outcome.errors {
        issues.push(json!({
            "description": format!("cannot check {}: {}", e.file, e.message),
            "check_name": "input",
            "fingerprint": fnv1a_128(&["input", path_of(&e.file), &e.message]),
            "severity": "critical",
            "location": {"path": path_of(&e.file), "lines": {"begin": e.line}},
        }));
    }
    for l in &outcome.findings {
        let f = &l.finding;
        let o = &f.object;
        let mut parts = vec![
            f.rule.as_str(),
            path_of(&l.file),
            o.api_version.as_str(),
            o.kind.as_str(),
            o.namespace.as_deref().unwrap_or(""),
            o.name.as_str(),
            f.path.as_str(),
        ];
        let n = seen.entry(parts.join("\u{0}")).or_insert(0);
        *n += 1;
        let occurrence = n.to_string();
        if *n > 1 {
            parts.push(&occurrence);
        }
        issues.push(json!({
            "description": format!("{} ({}: {})", f.message, f.rule, f.name),
            "check_name": f.rule,
            "fingerprint": fnv1a_128(&parts),
            "severity": severity(f.severity),
            "location": {"path": path_of(&l.file), "lines": {"begin": l.line}},
        }));
    }
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(files: &[(&str, &str)]) -> Outcome {
        crate::lint::lint_texts(files)
    }

    const JM: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: flink-jobmanager\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: flink, component: jobmanager}}\n  template:\n    metadata: {labels: {app: flink, component: jobmanager}}\n    spec:\n      containers:\n        - name: jobmanager\n          image: flink:1.20\n          args: [jobmanager]\n";

    fn issues(out: &str) -> Vec<Value> {
        serde_json::from_str::<Value>(out)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_else(|| panic!("not a JSON array: {out}"))
    }

    #[test]
    fn fnv_is_the_reference_hash() {
        // FNV-1a 128 of the empty input is the offset basis; of "a", the published value.
        assert_eq!(fnv1a_128(&[]), "6c62272e07bb014262b821756295c58d");
        assert_eq!(fnv1a_128(&["a"]), "d228cb696f1a8caf78912b704e4a8964");
        assert_ne!(fnv1a_128(&["ab", "c"]), fnv1a_128(&["a", "bc"]));
    }

    #[test]
    fn code_quality_fields() {
        let out = gitlab(&outcome(&[("./deploy/jm.yaml", JM)]));
        let all = issues(&out);
        let flk101 = all
            .iter()
            .find(|i| i["check_name"] == "FLK101")
            .unwrap_or_else(|| panic!("no FLK101 in {out}"));
        assert_eq!(flk101["severity"], "major");
        assert_eq!(flk101["location"]["path"], "deploy/jm.yaml");
        assert_eq!(flk101["location"]["lines"]["begin"], 6);
        let d = flk101["description"].as_str().unwrap_or_default();
        assert!(
            d.ends_with("(FLK101: jobmanager-replicas-without-ha)"),
            "{d}"
        );
        let fp = flk101["fingerprint"].as_str().unwrap_or_default();
        assert_eq!(fp.len(), 32);
        assert!(fp.chars().all(|c| c.is_ascii_hexdigit()));
        // Warnings are minor.
        assert!(
            all.iter().any(|i| i["severity"] == "minor"),
            "no warning in {out}"
        );
        // Fingerprints are unique within a report.
        let mut fps: Vec<&str> = all
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap_or_default())
            .collect();
        fps.sort_unstable();
        fps.dedup();
        assert_eq!(fps.len(), all.len());
    }

    #[test]
    fn fingerprints_survive_moved_lines_and_runs() {
        let a = issues(&gitlab(&outcome(&[("jm.yaml", JM)])));
        let moved = format!("# a comment that moves every line down\n\n{JM}");
        let b = issues(&gitlab(&outcome(&[("jm.yaml", &moved)])));
        let fps = |v: &[Value]| -> Vec<(String, String)> {
            v.iter()
                .map(|i| (i["check_name"].to_string(), i["fingerprint"].to_string()))
                .collect()
        };
        assert_eq!(fps(&a), fps(&b));
        assert_ne!(a[0]["location"], b[0]["location"]);
        // Another file: other fingerprints.
        let c = issues(&gitlab(&outcome(&[("other.yaml", JM)])));
        assert_ne!(fps(&a), fps(&c));
    }

    #[test]
    fn input_errors_are_critical_and_clean_is_empty() {
        let all = issues(&gitlab(&outcome(&[("bad.yaml", "kind: [unclosed\n")])));
        assert_eq!(all.len(), 1);
        assert_eq!(all[0]["check_name"], "input");
        assert_eq!(all[0]["severity"], "critical");
        assert_eq!(all[0]["location"]["path"], "bad.yaml");
        assert_eq!(gitlab(&outcome(&[("a.yaml", "foo: bar\n")])), "[]\n");
    }
}
