//! Reading manifest files: multi-document YAML (or JSON) text in, one `serde_json::Value` per
//! document out, each with a [`SpanIndex`] that maps a JSON pointer to a `line:column`.
//!
//! YAML is read in one pass over the granit-parser event stream (the parser serde-saphyr uses),
//! which gives each document's span index and its value at once, and finds the document
//! boundaries, skips empty documents and recovers after a syntax error at the next `---`.
//! Scalars resolve as serde-saphyr resolves them (tests compare the two on every file of the
//! corpus): YAML 1.1 booleans (`yes`, `on`), integers stay integers, legacy octal
//! (`defaultMode: 0644` is 420, as the API server reads it), `null`/`~`/empty are null, quoted
//! and block scalars are strings. The rare documents the one pass does not resolve itself
//! (tags, aliases and `<<` merge keys, duplicate keys, null keys, non-finite floats, deep
//! nesting) are read again by serde-saphyr, each from its own slice of the text, so its
//! semantics and messages hold for them and one bad document hides neither the documents
//! before it nor the ones after it.
//!
//! A YAML file of a megabyte or more is cut at its `---` lines and read in parts on every core
//! (`split.rs`), with exactly the one pass's result (else it is read in one piece).
//!
//! Empty documents (nothing, or only comments) and null documents (`~`, `null`, `!!null`) are
//! skipped, as serde-saphyr and kubectl skip them; [`Document::index`] still counts them.
//!
//! JSON files whose first character is `{` or `[` are read with serde_json (so tab-indented
//! JSON is fine) and indexed by a small hand-written scanner; duplicate keys are errors there
//! too. A `.json` file that does not start like JSON is read as YAML, as kubectl does.
//!
//! All byte offsets ([`Pos::byte`], [`SpanIndex::value_range`]) are relative to
//! [`SourceFile::text`], which is the text exactly as given, including a leading UTF-8 BOM if
//! there is one. Lines and columns are 1-based; columns count characters (a tab is one, the BOM
//! is none).

mod json;
mod spans;
mod split;
mod yaml;

use json::parse_json;
use yaml::parse_yaml;

pub use spans::{Pos, SpanIndex, line_column, line_starts};

#[derive(Debug, Clone)]
pub struct Document {
    pub value: serde_json::Value,
    pub spans: SpanIndex,
    /// 0-based document number in the file (empty documents count).
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The parser panicked on this file and [`parse_parts`] caught it: not a fault of the
    /// file but a bug to fix (tests assert that none was caught, see [`panics_caught`]).
    pub caught_panic: bool,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The text as given (a leading BOM included): every byte offset refers to it.
    pub text: String,
    pub documents: Vec<Document>,
    pub errors: Vec<ParseError>,
}

/// How many nodes (scalars, collections and their ends, keys included; not what aliases
/// expand to) one file may hold (a YAML document counting eight more, see `yaml.rs`). The reading
/// stops at the node past it with an error. The memory a file takes grows with its nodes and
/// documents, not its bytes: a 16 MiB flow list of `1`s is 8 million nodes, and took 1.6 GB to
/// read. Real manifests hold about 75,000 nodes per MiB (the 10,000 objects of
/// `scripts/gen-corpus.py`, 15 MiB, are 1.13 million; the operator's CRDs 50,000 per MiB), so
/// a file of manifests up to about 50 MiB fits, and the hostile layouts in BENCHMARKS.md stay
/// under 600 MiB.
pub const MAX_NODES: u64 = 4_000_000;

/// The error message of a file past [`MAX_NODES`].
fn too_many_nodes_message() -> String {
    format!("the file holds more than {MAX_NODES} nodes (flink-lint's budget per file): split it")
}

/// Whether a file of this name is read as JSON: `.json` in any case (discovery matches
/// extensions in any case too).
pub fn is_json_name(name: &str) -> bool {
    name.len() >= 5
        && name.is_char_boundary(name.len() - 5)
        && name[name.len() - 5..].eq_ignore_ascii_case(".json")
}

/// Parse a whole file. `is_json` is true for *.json files. Never panics on any input.
pub fn parse(text: &str, is_json: bool) -> SourceFile {
    parse_owned(text.to_string(), is_json)
}

/// [`parse`], keeping `text` as the file's text without a copy.
pub fn parse_owned(text: String, is_json: bool) -> SourceFile {
    let (documents, errors) = parse_parts(&text, is_json);
    SourceFile {
        text,
        documents,
        errors,
    }
}

/// The documents and errors of `text` (what [`parse`] returns besides the text).
///
/// The parsers are not expected to panic; if one does anyway (a bug, ours or a third-party
/// parser's), the file gets an error at 1:1 instead of taking the whole run down. The error
/// says so ([`ParseError::caught_panic`]) and [`panics_caught`] counts it, so that tests do
/// not mistake a caught panic for a parse error.
pub fn parse_parts(text: &str, is_json: bool) -> (Vec<Document>, Vec<ParseError>) {
    guarded(|| parse_unguarded(text, is_json))
}

/// [`parse_parts`] without the net: a parser panic unwinds to the caller (for tests and
/// fuzzing, where a panic must fail).
pub fn parse_unguarded(text: &str, is_json: bool) -> (Vec<Document>, Vec<ParseError>) {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let looks_like_json = body
        .trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with(['{', '[']);
    if is_json && looks_like_json {
        parse_json(text)
    } else {
        parse_yaml(text)
    }
}

/// How many parser panics [`parse_parts`] has caught in this process.
pub fn panics_caught() -> usize {
    PANICS_CAUGHT.load(std::sync::atomic::Ordering::Relaxed)
}

static PANICS_CAUGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `parse`, a panic in it caught, counted and turned into an error at 1:1.
fn guarded(parse: impl FnOnce() -> Parsed + std::panic::UnwindSafe) -> Parsed {
    std::panic::catch_unwind(parse).unwrap_or_else(|_| {
        PANICS_CAUGHT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (
            Vec::new(),
            vec![ParseError {
                line: 1,
                column: 1,
                message: "internal error: the parser failed on this file".to_string(),
                caught_panic: true,
            }],
        )
    })
}

/// The first line of a message, cut before its first ` at line L, column C` (serde-saphyr) or
/// ` at line L column C` (serde_json): the position is reported separately, and positions
/// inside serde-saphyr's messages are relative to the document, not the file.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    let cut = first
        .match_indices(" at line ")
        .find(|(i, m)| starts_with_line_column(&first[i + m.len()..]))
        .map_or(first, |(i, _)| &first[..i]);
    if cut.is_empty() {
        "invalid YAML".to_string()
    } else {
        cut.to_string()
    }
}

/// `L, column C...` or `L column C...`.
fn starts_with_line_column(s: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(s);
    if n == 0 {
        return false;
    }
    let rest = &s[n..];
    let rest = rest
        .strip_prefix(", column ")
        .or_else(|| rest.strip_prefix(" column "));
    rest.is_some_and(|r| digits(r) > 0)
}

type Parsed = (Vec<Document>, Vec<ParseError>);

#[cfg(test)]
mod testutil {
    use super::*;
    use crate::flink::pointer;
    use serde_json::Value;

    /// [`parse`] without [`parse_parts`]'s net: a parser panic fails the test.
    pub(super) fn parse_raw(text: &str, is_json: bool) -> SourceFile {
        let (documents, errors) = parse_unguarded(text, is_json);
        SourceFile {
            text: text.to_string(),
            documents,
            errors,
        }
    }

    pub(super) fn only_doc(text: &str) -> Document {
        let src = parse_raw(text, false);
        assert!(src.errors.is_empty(), "unexpected errors: {:?}", src.errors);
        assert_eq!(src.documents.len(), 1);
        src.documents.into_iter().next().unwrap()
    }

    pub(super) fn at(doc: &Document, pointer: &str) -> (usize, usize) {
        let p = doc
            .spans
            .get(pointer)
            .unwrap_or_else(|| panic!("no node at {pointer:?}"));
        (p.line, p.column)
    }

    pub(super) fn range<'a>(text: &'a str, doc: &Document, pointer: &str) -> &'a str {
        let r = doc
            .spans
            .value_range(pointer)
            .unwrap_or_else(|| panic!("no value range at {pointer:?}"));
        &text[r]
    }

    pub(super) const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    example.com/path: \"a\"
    \"tilde~key\": b
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: main
          image: nginx
          resources:
            limits:
              cpu: \"1\"
        - name: side
          args: [\"jobmanager\", \"--x\"]
";

    /// Every pointer into a value.
    pub(super) fn pointers(value: &Value, prefix: &mut String, out: &mut Vec<String>) {
        out.push(prefix.clone());
        let len = prefix.len();
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    prefix.push('/');
                    prefix.push_str(&pointer::escape(k));
                    pointers(v, prefix, out);
                    prefix.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    prefix.push('/');
                    prefix.push_str(&i.to_string());
                    pointers(v, prefix, out);
                    prefix.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// `a` and `b` are the same documents: numbers, values, and every node's position and
    /// value range.
    pub(super) fn assert_same_documents(name: &str, a: &[Document], b: &[Document]) {
        assert_eq!(a.len(), b.len(), "{name}");
        for (a, b) in a.iter().zip(b) {
            assert_eq!(a.index, b.index, "{name}");
            assert_eq!(a.value, b.value, "{name} document {}", a.index);
            let mut all = Vec::new();
            pointers(&a.value, &mut String::new(), &mut all);
            for p in &all {
                let at = |d: &Document| (d.spans.get(p), d.spans.value_range(p));
                assert_eq!(at(a), at(b), "{name} document {} {p}", a.index);
            }
        }
    }

    /// `../shared/corpus` beside the project: real manifests written by others.
    pub(super) fn corpus() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
    }

    /// [`corpus`] if it is there; else says that the test is skipped.
    pub(super) fn corpus_or_skip() -> Option<std::path::PathBuf> {
        let root = corpus();
        if !root.is_dir() {
            eprintln!("skipping: {} not found", root.display());
            return None;
        }
        Some(root)
    }

    pub(super) fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, out);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            {
                out.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn json_files_are_named_json_in_any_case() {
        for yes in ["a.json", "dir/B.JSON", "x.Json", ".json"] {
            assert!(is_json_name(yes), "{yes}");
        }
        for no in ["a.yaml", "json", "a.jsonl", "é.jso", "ajson", ""] {
            assert!(!is_json_name(no), "{no}");
        }
    }

    #[test]
    fn a_caught_panic_is_an_error_that_says_so() {
        let before = panics_caught();
        let (documents, errors) = guarded(|| panic!("a parser bug"));
        assert!(documents.is_empty());
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert!(e.caught_panic, "{e:?}");
        assert_eq!((e.line, e.column), (1, 1));
        assert_eq!(e.message, "internal error: the parser failed on this file");
        assert!(panics_caught() > before);
        // An ordinary parse error is not one.
        let (_, errors) = parse_parts("a: [\n", false);
        assert!(!errors.is_empty() && !errors[0].caught_panic, "{errors:?}");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs = [
            "[",
            "{",
            "]",
            "}",
            "\t",
            "- - -",
            "&a *a",
            "*x",
            "? [a]: b",
            "? {a: 1}\n: c",
            "[a]: b",
            "*a : b",
            "&a a: &b b\n*a : x",
            "\u{feff}",
            "\u{feff}\u{feff}x",
            "key: \"unterminated",
            ":::",
            "%YAML 1.2\n%YAML 1.2\n---\n",
            "%FOO\n",
            "a: b: c",
            "---\n...\n...\n--- |\n x",
            "x: !!binary aGVsbG8=",
            "x: !!int nope",
            "x: .nan",
            "a: &x [*x]",
            "<<: *nope",
            "<<: 1",
            "a: {<<: [1]}",
            "\"\\u",
            "{\"a\":",
            "[1,",
            "{\"a\" 1}",
            "\r\r\r",
            "\0",
            "- \u{85}\u{2028}",
            "'",
            "!<>",
            "a:\n\t- b",
        ];
        for input in inputs {
            for is_json in [false, true] {
                let src = parse_raw(input, is_json);
                for doc in &src.documents {
                    let _ = doc.spans.locate("/a/b/0");
                }
            }
        }
        let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
        assert!(!parse_raw(&deep, false).errors.is_empty());
        assert!(!parse_raw(&deep, true).errors.is_empty());
        let deep_block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(!parse_raw(&deep_block, false).errors.is_empty());
        // Deep but within the limits: parsed (and no stack overflow on a test thread).
        let nested: String = (0..60).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let src = parse_raw(&nested, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        let pointer = "/k".repeat(60);
        assert_eq!(
            src.documents[0].spans.get(&pointer).map(|p| p.line),
            Some(60)
        );
        let flow = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(parse_raw(&flow, false).errors.is_empty());
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        let src = parse_raw(bomb, false);
        assert!(src.documents.is_empty());
        assert!(
            src.errors[0].message.contains("aliases"),
            "{:?}",
            src.errors
        );
    }

    #[test]
    fn whole_corpus() {
        let Some(root) = corpus_or_skip() else {
            return;
        };
        let root = root.as_path();
        let mut files = Vec::new();
        files_under(root, &mut files);
        files.sort();
        assert!(files.len() > 100, "found only {} files", files.len());
        let expected_errors = [
            "flink-docs/standalone-kubernetes/kubernetes-ha-services-configmap-snippet.yaml",
            "aws-samples-cost-optimized-flink/install/jobmanager-application-ha.yaml",
        ];
        let mut with_errors = Vec::new();
        let mut saw_bom = false;
        let mut saw_space = false;
        for path in &files {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            saw_bom |= text.starts_with('\u{feff}');
            saw_space |= rel.contains(' ');
            let src = parse_raw(&text, rel.ends_with(".json"));
            assert_eq!(src.text, text);
            let lines = text.lines().count().max(1);
            if !src.errors.is_empty() {
                with_errors.push(rel.clone());
            }
            for e in &src.errors {
                assert!(e.line >= 1 && e.line <= lines + 1, "{rel}: {e:?}");
            }
            for doc in &src.documents {
                let mut all = Vec::new();
                pointers(&doc.value, &mut String::new(), &mut all);
                for p in &all {
                    let pos = doc.spans.locate(p);
                    assert!(pos.line >= 1 && pos.line <= lines, "{rel} {p}: {pos:?}");
                    assert!(
                        pos.column >= 1 && text.is_char_boundary(pos.byte),
                        "{rel} {p}"
                    );
                    if let Some(r) = doc.spans.value_range(p) {
                        assert!(text.get(r).is_some(), "{rel} {p}");
                    }
                }
            }
        }
        with_errors.sort();
        let mut expected: Vec<String> = expected_errors.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(with_errors, expected);
        assert!(saw_bom && saw_space);

        // The two broken files: where exactly.
        let snippet = root.join(expected_errors[0]);
        let src = parse_raw(&std::fs::read_to_string(snippet).unwrap(), false);
        assert_eq!((src.errors[0].line, src.errors[0].column), (9, 3));
        let ha = root.join(expected_errors[1]);
        let src = parse_raw(&std::fs::read_to_string(ha).unwrap(), false);
        assert_eq!((src.errors[0].line, src.errors[0].column), (45, 7));
        assert!(src.errors[0].message.contains("serviceAccountName"));
    }

    // The parsers and the span index without `parse`'s catch_unwind net: a panic here fails
    // the test instead of turning into an "internal error" result.
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn yaml_parser_never_panics_on_mangled_manifests(
            cut in 0usize..DEPLOYMENT.len(),
            junk in "[ -~\\n\\t:{}\\[\\]&*!|>'\"#%@`-]{0,40}",
        ) {
            let mut cut = cut;
            while !DEPLOYMENT.is_char_boundary(cut) {
                cut -= 1;
            }
            let mut text = DEPLOYMENT[..cut].to_string();
            text.push_str(&junk);
            text.push_str(&DEPLOYMENT[cut..]);
            let (docs, _) = parse_yaml(&text);
            for d in &docs {
                let _ = d.spans.locate("/spec/template/spec/containers/0/name");
            }
            let (docs, _) = parse_json(&text);
            for d in &docs {
                let _ = d.spans.locate("/metadata/name");
            }
        }
    }
}
