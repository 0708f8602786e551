//! Rules are data: every policy file validates against `policies/rule.schema.json`, every
//! native check is used by exactly the policies that name it, and the module layering of
//! DESIGN.md holds (the README's rule table is generated: `tests/it/docs_tables.rs`).

use std::path::Path;

use flink_admission::engine::rule::Check;
use flink_admission::engine::{Engine, Registry, Settings, checks};
use serde_json::Value;

use crate::common::files;

fn rule_schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("policies/rule.schema.json").unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn every_policy_file_validates_against_the_rule_schema() {
    let validator = rule_schema();
    let sources = Registry::embedded_sources();
    let mut n = 0;
    for (file, text) in sources.iter().filter(|(f, _)| f.ends_with(".yaml")) {
        let value: Value = serde_saphyr::from_str(text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
        n += 1;
    }
    assert_eq!(n, Registry::embedded().unwrap().rules().len());
}

#[test]
fn the_schema_rejects_a_malformed_rule() {
    let validator = rule_schema();
    let bad = serde_json::json!({"id": "FLK1", "name": "Bad Name", "family": "jobmanager",
        "severity": "fatal", "status": "stable", "targets": [], "summary": "x", "message": "x",
        "check": {"native": "x"}, "docs": {}});
    let errors = validator.iter_errors(&bad).count();
    assert!(errors >= 5, "{errors}");
}

#[test]
fn native_checks_and_policies_name_each_other() {
    let registry = Registry::embedded().unwrap();
    let used: Vec<&str> = registry
        .rules()
        .iter()
        .filter_map(|r| match &r.check {
            Check::Native { native } => Some(native.as_str()),
            Check::Schema { .. } => None,
        })
        .collect();
    // build.rs registers exactly the checks the policies name.
    let mut registered: Vec<&str> = checks::names().collect();
    let mut named = used.clone();
    registered.sort_unstable();
    named.sort_unstable();
    named.dedup();
    assert_eq!(registered, named);
    assert!(checks::find("jobmanager_replicas").is_some());
    assert!(checks::find("no_such_check").is_none());
    // The engine refuses to start with a broken rule set.
    assert!(Engine::embedded(Settings::default()).is_ok());
    let broken = Registry::from_sources(&[(
        "FLK999-x.yaml".into(),
        std::fs::read_to_string("policies/FLK102-jobmanager-rolling-update.yaml").unwrap(),
    )]);
    assert!(
        broken
            .unwrap_err()
            .contains("must be named FLK102-jobmanager-rolling-update.yaml")
    );
}

/// `flink` <- `engine` <- {`admission`, `audit`} <- `server`, and `lint`, `deploy` beside them;
/// the engine does no I/O, and `deploy` (the install manifests) and `audit` stay pure too.
#[test]
fn module_layering_holds() {
    let allowed: &[(&str, &[&str])] = &[
        ("flink", &["flink"]),
        ("engine", &["flink", "engine"]),
        ("lint", &["flink", "engine", "lint"]),
        ("admission", &["flink", "engine", "admission"]),
        ("audit", &["flink", "engine", "audit"]),
        (
            "server",
            &["flink", "engine", "admission", "audit", "server"],
        ),
        ("deploy", &["flink", "engine", "deploy"]),
    ];
    let forbidden_in_engine = [
        "std::fs", "std::net", "tokio", "axum", "rustls", "kube", "clap", "hyper", "reqwest",
    ];
    for (module, may_use) in allowed {
        let dir = Path::new("src").join(module);
        assert!(
            dir.is_dir(),
            "{} is missing: the layering names a module that is not there",
            dir.display()
        );
        let files = files::files(&dir, "rs");
        assert!(!files.is_empty(), "{}: no Rust files", dir.display());
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for line in text.lines() {
                let l = line.trim();
                for target in [
                    "flink",
                    "engine",
                    "lint",
                    "admission",
                    "audit",
                    "server",
                    "deploy",
                ] {
                    let pat = format!("crate::{target}");
                    if l.contains(&pat) && !may_use.contains(&target) {
                        panic!("{}: {module} must not use {pat}: {l}", f.display());
                    }
                }
                if matches!(*module, "engine" | "flink" | "deploy" | "audit") {
                    for bad in forbidden_in_engine {
                        let imports = l.starts_with("use ") && l.contains(bad);
                        let paths = l.contains(&format!("{bad}::"));
                        assert!(
                            !imports && !paths,
                            "{}: {module} must stay pure, found {bad}: {l}",
                            f.display()
                        );
                    }
                }
            }
        }
    }
}
