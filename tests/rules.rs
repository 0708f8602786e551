//! The rules, driven by data: every policy file is valid, documented and wired to a check, and
//! every rule's fixtures under `tests/fixtures/<RULE>/` behave:
//! - `fail*.yaml` report the rule (at exactly the `# expect: line:col, ...` positions);
//! - `pass*.yaml` do not report it;
//! - `fixed*.yaml` are what the rule's fix makes of the `fail*.yaml` with the same suffix.
//!
//! Header comments: `# flink-lint: --scope all|--platform kubernetes` (settings),
//! `# world: complete` (the file is the whole namespace, as a synced webhook cache) and
//! `# also: a.yaml, b.yaml` (more files linted with it, relative to its directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flink_admission::engine::rule::Platform;
use flink_admission::engine::{Engine, Registry, Scope, Settings, fix};
use flink_admission::lint::{self, Inputs, Outcome};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn header(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(&format!("# {key}:"))
                .map(|v| v.trim().to_string())
        })
}

/// The settings of a `.flink-lint.yaml` next to the fixture (as `flink-lint` finds it), else
/// the defaults.
fn dir_settings(path: &Path) -> Settings {
    let cfg = path.with_file_name(".flink-lint.yaml");
    match std::fs::read_to_string(&cfg) {
        Ok(text) => Settings::from_yaml(&text).unwrap(),
        Err(_) => Settings::default(),
    }
}

fn run(path: &Path) -> Outcome {
    let text = std::fs::read_to_string(path).unwrap();
    let mut settings = dir_settings(path);
    if let Some(flags) = header(&text, "flink-lint") {
        if flags.contains("--scope all") {
            settings.scope = Scope::All;
        }
        if flags.contains("--platform kubernetes") {
            settings.platform = Platform::Kubernetes;
        }
    }
    let engine = Engine::embedded(settings).unwrap();
    let mut inputs = Inputs::default();
    inputs.add(&path.display().to_string(), &text);
    // `# also: a.yaml, b.yaml`: files linted with the fixture, relative to its directory.
    if let Some(also) = header(&text, "also") {
        for rel in also.split(',').map(str::trim) {
            let p = path.parent().unwrap().join(rel);
            inputs.add(
                &p.display().to_string(),
                &std::fs::read_to_string(&p).unwrap(),
            );
        }
    }
    let complete = header(&text, "world").as_deref() == Some("complete");
    lint::lint_in_world(&engine, inputs, complete)
}

fn expected_positions(text: &str) -> Option<Vec<(usize, usize)>> {
    let spec = header(text, "expect")?;
    let mut v: Vec<(usize, usize)> = spec
        .split(',')
        .map(|p| {
            let (l, c) = p.trim().split_once(':').expect("expect: line:col");
            (l.parse().unwrap(), c.parse().unwrap())
        })
        .collect();
    v.sort();
    Some(v)
}

fn rule_dirs() -> BTreeMap<String, Vec<PathBuf>> {
    let mut map = BTreeMap::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("FLK") {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        map.insert(name, files);
    }
    map
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_str().unwrap().to_string()
}

#[test]
fn every_rule_has_pass_and_fail_fixtures_and_fixable_rules_a_fixed_one() {
    let registry = Registry::embedded().unwrap();
    let dirs = rule_dirs();
    for rule in registry.rules() {
        let files = dirs
            .get(&rule.id)
            .unwrap_or_else(|| panic!("tests/fixtures/{} is missing", rule.id));
        let has = |prefix: &str| files.iter().any(|f| stem(f).starts_with(prefix));
        assert!(has("pass"), "{}: no pass*.yaml fixture", rule.id);
        assert!(has("fail"), "{}: no fail*.yaml fixture", rule.id);
        if rule.fix.is_some() {
            assert!(has("fixed"), "{}: fixable but no fixed*.yaml", rule.id);
        }
    }
    for dir in dirs.keys() {
        assert!(
            registry.get(dir).is_some(),
            "fixtures for unknown rule {dir}"
        );
    }
}

#[test]
fn fail_fixtures_report_their_rule_at_the_expected_positions() {
    let mut problems = Vec::new();
    for (rule, files) in rule_dirs() {
        for f in files.iter().filter(|f| stem(f).starts_with("fail")) {
            let out = run(f);
            if !out.errors.is_empty() {
                problems.push(format!("{}: input errors {:?}", f.display(), out.errors));
            }
            let mut got: Vec<(usize, usize)> = out
                .findings
                .iter()
                .filter(|l| l.finding.rule == rule)
                .map(|l| (l.line, l.column))
                .collect();
            got.sort();
            if got.is_empty() {
                problems.push(format!("{}: {rule} not reported", f.display()));
            }
            let text = std::fs::read_to_string(f).unwrap();
            match expected_positions(&text) {
                Some(expected) if expected != got => problems.push(format!(
                    "{}: {rule} at {got:?}, expected {expected:?}",
                    f.display()
                )),
                Some(_) => {}
                None => problems.push(format!("{}: no `# expect:` header", f.display())),
            }
            for l in &out.findings {
                if l.finding.message.contains('{') || l.finding.message.contains('\n') {
                    problems.push(format!(
                        "{}: unfilled or multi-line message: {}",
                        f.display(),
                        l.finding.message
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn pass_fixtures_do_not_report_their_rule() {
    for (rule, files) in rule_dirs() {
        for f in files.iter().filter(|f| stem(f).starts_with("pass")) {
            let out = run(f);
            assert!(
                out.errors.is_empty(),
                "{}: input errors {:?}",
                f.display(),
                out.errors
            );
            let hits: Vec<_> = out
                .findings
                .iter()
                .filter(|l| l.finding.rule == rule)
                .map(|l| format!("{}:{} {}", l.line, l.column, l.finding.message))
                .collect();
            assert!(
                hits.is_empty(),
                "{}: {rule} reported: {hits:?}",
                f.display()
            );
        }
    }
}

fn objects_of(path: &Path) -> Vec<Value> {
    let mut inputs = Inputs::default();
    inputs.add("x.yaml", &std::fs::read_to_string(path).unwrap());
    inputs.objects.iter().map(|o| (*o.value).clone()).collect()
}

#[test]
fn fixed_fixtures_are_what_the_rules_fix_makes_of_the_failing_ones() {
    for (rule, files) in rule_dirs() {
        for fixed in files.iter().filter(|f| stem(f).starts_with("fixed")) {
            let fail =
                fixed.with_file_name(format!("{}.yaml", stem(fixed).replacen("fixed", "fail", 1)));
            let out = run(&fail);
            let mut objects = objects_of(&fail);
            let refs: Vec<_> = objects
                .iter()
                .map(flink_admission::flink::object::ObjectRef::of)
                .collect();
            let mut fixed_any = false;
            for l in out.findings.iter().filter(|l| l.finding.rule == rule) {
                let fx =
                    l.finding.fix.as_ref().unwrap_or_else(|| {
                        panic!("{}: {rule} finding without a fix", fail.display())
                    });
                let i = refs.iter().position(|r| *r == l.finding.object).unwrap();
                // The operations as lint prints them: the patch, materialised on the object.
                let ops = match &l.patch {
                    Some(Ok(p)) => p.ops().unwrap(),
                    _ => Vec::new(),
                };
                let applied = fix::apply(&mut objects[i], &ops).unwrap();
                fixed_any |= !applied.is_empty();
                // Edits of other objects (the key a mounted ConfigMap lacks): the object of that
                // identity, the last one when several (as the last applied wins).
                for e in &fx.edits {
                    let j = refs.iter().rposition(|r| *r == e.object).unwrap();
                    fixed_any |= !fix::apply(&mut objects[j], &e.ops).unwrap().is_empty();
                }
                // Objects the fix creates (a missing Service) come after the file's own.
                for created in &fx.create {
                    if !objects.contains(created) {
                        objects.push(created.clone());
                        fixed_any = true;
                    }
                }
            }
            assert!(fixed_any, "{}: the fix changed nothing", fail.display());
            assert_eq!(
                objects,
                objects_of(fixed),
                "{} vs {}",
                fail.display(),
                fixed.display()
            );
            let after = run(fixed);
            assert!(
                !after.findings.iter().any(|l| l.finding.rule == rule),
                "{}: {rule} still reported after the fix",
                fixed.display()
            );
        }
    }
}

#[test]
fn a_correct_standalone_cluster_has_no_findings_at_all() {
    for entry in std::fs::read_dir(fixtures().join("_shared")).unwrap() {
        let path = entry.unwrap().path();
        let out = run(&path);
        assert!(out.errors.is_empty());
        let all: Vec<_> = out
            .findings
            .iter()
            .map(|l| {
                format!(
                    "{} {}:{} {}",
                    l.finding.rule, l.line, l.column, l.finding.message
                )
            })
            .collect();
        assert!(all.is_empty(), "{}: {all:#?}", path.display());
    }
}

/// A rule that declares its fix creates objects always creates them (never only patches the
/// subject): the webhook, which cannot create objects, leaves such a fix out whole, and its fix
/// loop does not judge these rules again after the first round (`Engine::fix_with`).
#[test]
fn a_rule_declaring_that_its_fix_creates_objects_always_creates_them() {
    let registry = Registry::embedded().unwrap();
    let creating: Vec<&str> = registry
        .rules()
        .iter()
        .filter(|r| r.fix.as_ref().is_some_and(|f| f.creates_objects))
        .map(|r| r.id.as_str())
        .collect();
    assert!(!creating.is_empty());
    let mut seen = 0;
    for files in rule_dirs().values() {
        for file in files {
            for l in run(file).findings {
                if !creating.contains(&l.finding.rule.as_str()) {
                    continue;
                }
                seen += 1;
                let fix = l.finding.fix.as_ref().unwrap_or_else(|| {
                    panic!("{}: {} without a fix", file.display(), l.finding.rule)
                });
                assert!(
                    !fix.create.is_empty()
                        && l.patch
                            .is_none_or(|p| p.is_ok_and(|p| p.ops().unwrap().is_empty())),
                    "{}: {} fixes without creating an object",
                    file.display(),
                    l.finding.rule
                );
            }
        }
    }
    assert!(seen > 0, "no finding of {creating:?} in the fixtures");
}
