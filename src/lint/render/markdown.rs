//! The rule tables of the docs, generated from the policies so they cannot drift:
//! [`rules_table`] (README.md, `flink-lint rules --format markdown`) and [`admission_table`]
//! (docs/webhook.md: what the webhook configurations register for each rule). `tests/it/docs_tables.rs`
//! holds the docs to them.

use crate::engine::rule::{Platform, PodSecurity, Rule};
use crate::engine::{Applicability, Registry};

/// A table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A table row of `cells`.
fn row(cells: &[&str]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

/// `safe`, `unsafe`, `safe (new object, `fix` only)`, or nothing.
fn fix_column(r: &Rule) -> String {
    let Some(f) = &r.fix else {
        return String::new();
    };
    let safety = match f.applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
    };
    if f.creates_objects {
        format!("{safety} (new object, `fix` only)")
    } else {
        safety.to_string()
    }
}

/// Where the rule runs, and the Pod Security level it checks: `both`, `Kubernetes, PSS
/// restricted`, `OpenShift`.
fn platform_column(r: &Rule) -> String {
    let platform = match r.platform {
        None => "both",
        Some(Platform::Kubernetes) => "Kubernetes",
        Some(Platform::Openshift) => "OpenShift",
    };
    match r.pod_security {
        Some(PodSecurity::Baseline) => format!("{platform}, PSS baseline"),
        Some(PodSecurity::Restricted) => format!("{platform}, PSS restricted"),
        None => platform.to_string(),
    }
}

/// Every rule: id, name, severity, fix, platform and its summary.
pub fn rules_table(registry: &Registry) -> String {
    let mut out = String::from(
        "| id | name | severity | fix | platform | what it catches |\n|---|---|---|---|---|---|\n",
    );
    for r in registry.rules() {
        out.push_str(&row(&[
            &r.id,
            &r.name,
            r.severity.as_str(),
            &fix_column(r),
            &platform_column(r),
            &cell(&r.summary),
        ]));
    }
    out
}

/// Every rule and what the webhook configurations send for it: the operations and resources
/// of its registrations (`CREATE, UPDATE: `a`, `b`; UPDATE: `c``), or that it runs only in
/// `flink-lint`; and whether `/mutate` applies its fix.
pub fn admission_table(registry: &Registry) -> String {
    let mut out = String::from(
        "| rule | name | severity | the webhook sends it | /mutate fixes |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in registry.rules() {
        let sent = if r.admission {
            // the operations of each resource, in registration order
            let mut by_resource: Vec<(String, Vec<String>)> = Vec::new();
            for reg in r.registrations() {
                let res = if reg.group.is_empty() {
                    reg.resource.clone()
                } else {
                    format!("{}/{}", reg.group, reg.resource)
                };
                match by_resource.iter_mut().find(|(x, _)| *x == res) {
                    Some((_, ops)) => ops.push(reg.operation.clone()),
                    None => by_resource.push((res, vec![reg.operation.clone()])),
                }
            }
            // the resources of each set of operations
            let mut groups: Vec<(String, Vec<String>)> = Vec::new();
            for (res, ops) in by_resource {
                let ops = ops.join(", ");
                match groups.iter_mut().find(|(o, _)| *o == ops) {
                    Some((_, list)) => list.push(format!("`{res}`")),
                    None => groups.push((ops, vec![format!("`{res}`")])),
                }
            }
            groups
                .iter()
                .map(|(ops, list)| format!("{ops}: {}", list.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            "not sent: `flink-lint` only".to_string()
        };
        let fixes = if r.admission && r.safe_fix() {
            "yes"
        } else {
            "no"
        };
        out.push_str(&row(&[&r.id, &r.name, r.severity.as_str(), &sent, fixes]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> &'static Registry {
        Registry::embedded().unwrap()
    }

    fn row<'a>(table: &'a str, id: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no row for {id}"))
    }

    #[test]
    fn rules_table_has_one_row_per_rule_with_its_fix_and_platform() {
        let t = rules_table(registry());
        assert_eq!(t.lines().count(), 2 + registry().rules().len());
        assert!(
            row(&t, "FLK101").starts_with(
                "| FLK101 | jobmanager-replicas-without-ha | error | unsafe | both | "
            )
        );
        assert!(row(&t, "FLK107").contains("| warning | safe (new object, `fix` only) | both |"));
        assert!(row(&t, "FLK208").contains("| error | safe | Kubernetes, PSS restricted |"));
        assert!(row(&t, "FLK213").contains("| error |  | OpenShift |"));
        for line in t.lines().filter(|l| !l.starts_with("|---")) {
            assert_eq!(line.split(" | ").count(), 6, "{line}");
        }
    }

    #[test]
    fn a_cell_is_one_line_with_pipes_escaped() {
        assert_eq!(cell("a |\n  b"), "a \\| b");
    }

    #[test]
    fn admission_table_groups_resources_by_operations() {
        let t = admission_table(registry());
        assert_eq!(t.lines().count(), 2 + registry().rules().len());
        assert_eq!(
            row(&t, "FLK105"),
            "| FLK105 | jobmanager-service-missing-ports | error | not sent: `flink-lint` only | no |"
        );
        assert!(row(&t, "FLK101").contains(
            "CREATE, UPDATE: `apps/deployments`, `apps/statefulsets`, `batch/jobs`, `flink.apache.org/flinkdeployments`; UPDATE: `apps/deployments/scale`, `apps/statefulsets/scale` | no |"
        ));
        assert!(row(&t, "FLK102").ends_with("| yes |"));
    }
}
