//! The rules, driven by data: every policy file is valid, documented and wired to a check, and
//! every rule's fixtures under `tests/fixtures/<RULE>/` behave:
//! - `fail*.yaml` report the rule (at exactly the `# expect: line:col, ...` positions);
//! - `pass*.yaml` do not report it;
//! - `fixed*.yaml` are what the rule's fix makes of the `fail*.yaml` with the same suffix.
//!
//! Header comments (`expect`, `flink-lint`, `world`, `also`, `message`, `old`) are read and
//! checked by `tests/it/common/header.rs`, which refuses a header it does not know.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flink_admission::engine::{Engine, Registry, fix};
use flink_admission::lint::{self, Inputs, Outcome};
use serde_json::Value;

use crate::common::files;
use crate::common::header;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture at `path` linted as its header says, each file named as `flink-lint` run from the
/// repository would name it (`tests/fixtures/...`: messages that name files do not depend on where
/// the repository is).
fn run(path: &Path) -> Outcome {
    let (text, header) = header::read(path);
    let engine = Engine::embedded(header.settings(Some(path))).unwrap();
    let name = |p: &Path| {
        p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let mut inputs = Inputs::default();
    inputs.add(&name(path), &text);
    for p in header.also_paths(path) {
        inputs.add(&name(&p), &std::fs::read_to_string(&p).unwrap());
    }
    if let Some(p) = header.old_path(path) {
        let mut old = Inputs::default();
        old.add(&name(&p), &std::fs::read_to_string(&p).unwrap());
        assert!(old.errors.is_empty(), "{}: {:?}", p.display(), old.errors);
        inputs.old = Some(lint::OldObjects::of(&old));
    }
    lint::lint_in_world(&engine, inputs, header.complete_world)
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
            let (_, header) = header::read(f);
            match header.expect {
                Some(expected) if expected != got => problems.push(format!(
                    "{}: {rule} at {got:?}, expected {expected:?}",
                    f.display()
                )),
                Some(_) => {}
                None => problems.push(format!("{}: no `# expect:` header", f.display())),
            }
            // Each `# message:` is the full text of its own finding of the rule.
            let messages: Vec<&str> = out
                .findings
                .iter()
                .filter(|l| l.finding.rule == rule)
                .map(|l| l.finding.message.as_str())
                .collect();
            let mut unclaimed = messages.clone();
            for want in &header.messages {
                match unclaimed.iter().position(|m| m == want) {
                    Some(i) => {
                        unclaimed.remove(i);
                    }
                    None => problems.push(format!(
                        "{}: no {rule} finding says {want:?}; its messages: {messages:#?}",
                        f.display(),
                    )),
                }
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

/// Every rule's message text is held by a test: at least one of its failing fixtures says, in a
/// `# message:` header, the full message of a finding (checked by the test above).
#[test]
fn every_rule_has_a_fixture_asserting_its_full_message() {
    let registry = Registry::embedded().unwrap();
    let dirs = rule_dirs();
    let missing: Vec<&str> = registry
        .rules()
        .iter()
        .filter(|r| {
            !dirs.get(&r.id).is_some_and(|files| {
                files
                    .iter()
                    .filter(|f| stem(f).starts_with("fail"))
                    .any(|f| !header::read(f).1.messages.is_empty())
            })
        })
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "no fail*.yaml fixture with a `# message:` header for {missing:?}"
    );
}

/// Every file under `tests/fixtures/` (the rules' fixtures, their `also` files, `_shared`) has
/// a header `header::read` accepts, and only failing fixtures carry `expect` and `message`
/// (elsewhere nothing would read them).
#[test]
fn every_fixture_header_is_well_formed_and_read() {
    let mut all = Vec::new();
    for dir in ["_shared"]
        .into_iter()
        .map(String::from)
        .chain(rule_dirs().into_keys())
    {
        all.extend(files::files(&fixtures().join(dir), "yaml"));
    }
    assert!(all.len() > 150, "only {} fixtures", all.len());
    for f in &all {
        let (_, h) = header::read(f);
        let top_level_fail = f
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d.to_str().is_some_and(|d| d.starts_with("FLK")))
            && stem(f).starts_with("fail");
        if !top_level_fail {
            assert!(
                h.expect.is_none() && h.messages.is_empty(),
                "{}: `expect` and `message` are read only in a rule's fail*.yaml",
                f.display()
            );
        }
    }
}

/// The header parser refuses what would otherwise be silently ignored.
#[test]
fn the_header_parser_refuses_unknown_misspelt_and_misplaced_headers() {
    let ok = header::parse(
        "f.yaml",
        "# A plain comment, then headers.\n# expect: 9:3, 4:1\n# flink-lint: --scope all \
         --platform kubernetes\n# world: complete\n# also: a.yaml, b.yaml\n# old: o.yaml\n# message: one: two\n\
         # message: three\n# see https://example.com: not a header\napiVersion: v1\n",
    )
    .unwrap();
    assert_eq!(ok.expect, Some(vec![(4, 1), (9, 3)]));
    assert_eq!(ok.flags, ["--scope", "all", "--platform", "kubernetes"]);
    assert!(ok.complete_world);
    assert_eq!(ok.also, ["a.yaml", "b.yaml"]);
    assert_eq!(ok.old.as_deref(), Some("o.yaml"));
    assert_eq!(ok.messages, ["one: two", "three"]);
    let s = ok.settings(None);
    assert_eq!(s.scope, flink_admission::engine::Scope::All);
    assert_eq!(
        s.platform,
        flink_admission::engine::rule::Platform::Kubernetes
    );
    for (text, says) in [
        ("# expct: 1:1\n", "f.yaml:1: unknown header `# expct:`"),
        (
            "# x\n# flink-config: nearer\n",
            "f.yaml:2: unknown header `# flink-config:`",
        ),
        ("#expect: 1:1\n", "is not written `# expect: value`"),
        ("#  expect: 1:1\n", "is not written `# expect: value`"),
        ("# expect:1:1\n", "needs a space after the colon"),
        (
            "# expect: 1:1\n# expect: 2:2\n",
            "f.yaml:2: `# expect:` given twice",
        ),
        ("# expect: 1\n", "position \"1\" is not line:column"),
        ("# expect: 0:1\n", "position \"0:1\" is not line:column"),
        ("# expect:\n", "`# expect:` has no value"),
        ("# world: partial\n", "the only world is `complete`"),
        ("# also: a.yaml,\n", "has an empty file name"),
        (
            "# flink-lint: --scope everything\n",
            "`# flink-lint: --scope everything`",
        ),
        (
            "# flink-lint: --platfrom kubernetes\n",
            "flag --platfrom is not one",
        ),
        ("# flink-lint: --format json\n", "flag --format is not one"),
        (
            "# flink-lint: kubernetes\n",
            "\"kubernetes\"] is not a flag",
        ),
        (
            "a: 1\n# expect: 1:1\n",
            "f.yaml:2: `# expect:` below the leading comment block",
        ),
    ] {
        let err = header::parse("f.yaml", text).unwrap_err();
        assert!(err.contains(says), "{text:?}: {err}");
    }
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
