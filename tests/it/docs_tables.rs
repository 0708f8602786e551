//! Every table of rules in the docs is generated from the policies (`lint::render::markdown`),
//! between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers, so it cannot drift:
//! README.md's list of rules (`flink-lint rules --format markdown`) and docs/webhook.md's table
//! of what the webhook registers for each rule. A table out of date fails; run with
//! `UPDATE_DOCS=1` to rewrite it.

use std::path::PathBuf;

use assert_cmd::Command;
use flink_admission::engine::Registry;
use flink_admission::lint::render::markdown;

fn registry() -> &'static Registry {
    Registry::embedded().expect("the embedded rules load")
}

/// `want` is what `file` holds between the `name` markers, or (with `UPDATE_DOCS=1`) is
/// written there.
fn generated_region(file: &str, name: &str, want: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (begin, end) = (
        format!("<!-- {name}:begin -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        panic!("{file} lacks the {begin:?} .. {end:?} markers");
    };
    assert!(
        a + begin.len() <= b,
        "{file}: {end:?} comes before {begin:?}"
    );
    assert_eq!(
        (text.matches(&begin).count(), text.matches(&end).count()),
        (1, 1),
        "{file}: one {name} region"
    );
    let got = &text[a + begin.len()..b];
    if got == want {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        let rewritten = format!("{}{want}{}", &text[..a + begin.len()], &text[b..]);
        std::fs::write(&path, rewritten).unwrap_or_else(|e| panic!("{file}: {e}"));
        eprintln!("{file}: rewrote the {name} table");
        return;
    }
    let first = got
        .lines()
        .zip(want.lines())
        .position(|(g, w)| g != w)
        .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
    panic!(
        "{file}'s {name} table is not the one the policies generate (first difference at \
         table line {}):\n  has:  {:?}\n  want: {:?}\nrun `UPDATE_DOCS=1 cargo test --test it \
         docs_tables` to rewrite it",
        first + 1,
        got.lines().nth(first).unwrap_or("<end>"),
        want.lines().nth(first).unwrap_or("<end>"),
    );
}

#[test]
fn readme_rule_table_is_generated_from_the_policies() {
    generated_region("README.md", "rules", &markdown::rules_table(registry()));
}

#[test]
fn webhook_docs_table_is_generated_from_the_declarations() {
    generated_region(
        "docs/webhook.md",
        "admission-rules",
        &markdown::admission_table(registry()),
    );
}

/// `flink-lint rules --format markdown` prints the README's table.
#[test]
fn rules_format_markdown_prints_the_readme_table() {
    let out = Command::cargo_bin("flink-lint")
        .unwrap()
        .args(["rules", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        markdown::rules_table(registry())
    );
}

/// Every doc that lists rules in a table does so inside a generated region: a hand-written
/// row (`| FLK...`) outside one fails.
#[test]
fn no_hand_written_rule_table_is_left() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut generated = false;
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("<!-- ") && line.ends_with(":begin -->") {
                generated = true;
            } else if line.starts_with("<!-- ") && line.ends_with(":end -->") {
                generated = false;
            } else if !generated && line.starts_with("| FLK") {
                panic!(
                    "{}:{}: a rule table row outside a generated region: {line}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}
