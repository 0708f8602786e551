//! Every command in the README and docs/ runs as written.
//!
//! The rule (also in docs/ci.md, "Commands in these docs are tested"): each fenced block whose
//! info string starts with `sh` (or `bash`, `shell`) in README.md, docs/*.md and certs/README.md
//! is run with `bash -e -o pipefail` in a scratch copy of the repository (without target/ and
//! .git), with the freshly built flink-lint and flink-admission first on PATH, and must exit 0.
//! A second word on the fence skips the block, which is then only syntax-checked (`bash -n`):
//! `cluster` (needs a Kubernetes/OpenShift cluster or a container registry) or `manual` (cargo
//! or image builds, servers that run until stopped: CI covers them in `cargo test` and
//! scripts/image-check.sh). Any other mark is an error, so a typo cannot skip a block.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    mark: Option<String>,
    body: String,
}

const SHELLS: &[&str] = &["sh", "bash", "shell"];
const MARKS: &[&str] = &["cluster", "manual"];

/// The fenced shell blocks of one Markdown file (fences may be indented, as in lists).
fn blocks(file: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Option<String>, bool, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(rest) = trimmed.strip_prefix("```") {
            match open.take() {
                Some((start, mark, shell, body, _)) => {
                    if shell {
                        out.push(Block {
                            file: file.to_string(),
                            line: start,
                            mark,
                            body,
                        });
                    }
                }
                None => {
                    let mut words = rest.split_whitespace();
                    let lang = words.next().unwrap_or("");
                    let shell = SHELLS.contains(&lang);
                    let mark = words.next().map(str::to_string);
                    open = Some((i + 1, mark, shell, String::new(), indent));
                }
            }
        } else if let Some((_, _, _, body, ind)) = open.as_mut() {
            let cut = line.len().min(*ind);
            let strip = if line[..cut].trim().is_empty() {
                &line[cut..]
            } else {
                line
            };
            body.push_str(strip);
            body.push('\n');
        }
    }
    assert!(open.is_none(), "{file}: a fenced block is never closed");
    out
}

fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md"), PathBuf::from("certs/README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir("docs")
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn all_blocks() -> Vec<Block> {
    doc_files()
        .iter()
        .flat_map(|p| {
            let text =
                std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            blocks(&p.display().to_string(), &text)
        })
        .collect()
}

/// The repository without target/ and .git, into `to`.
fn copy_repo(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read repo") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let ty = entry.file_type().expect("file type");
        if ty.is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_repo(&src, &dst);
        } else if ty.is_file() {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

fn bin_dir() -> PathBuf {
    let lint = PathBuf::from(env!("CARGO_BIN_EXE_flink-lint"));
    let admission = PathBuf::from(env!("CARGO_BIN_EXE_flink-admission"));
    let dir = lint.parent().expect("bin dir").to_path_buf();
    assert_eq!(admission.parent(), Some(dir.as_path()));
    dir
}

#[test]
fn fences_parse_and_marks_are_known() {
    let text =
        "x\n```sh\necho a\n```\n```yaml\na: b\n```\n  ```sh cluster\n  kubectl get pods\n  ```\n";
    let b = blocks("t.md", text);
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0].line, b[0].mark.as_deref(), b[0].body.as_str()),
        (2, None, "echo a\n")
    );
    assert_eq!(
        (b[1].mark.as_deref(), b[1].body.as_str()),
        (Some("cluster"), "kubectl get pods\n")
    );
    for b in all_blocks() {
        if let Some(m) = &b.mark {
            assert!(
                MARKS.contains(&m.as_str()),
                "{}:{}: unknown mark '{m}' (known: {MARKS:?})",
                b.file,
                b.line
            );
        }
    }
}

#[test]
fn every_documented_command_runs() {
    let repo = std::env::current_dir().expect("cwd");
    let scratch = tempfile::tempdir().expect("tempdir");
    copy_repo(&repo, scratch.path());
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for b in all_blocks() {
        let script = format!("set -e -o pipefail\n{}", b.body);
        if b.mark.is_some() {
            // Skipped: parsed, not run.
            skipped += 1;
            let check = Command::new("bash")
                .args(["-n", "-c", &script])
                .output()
                .expect("bash");
            if !check.status.success() {
                failures.push(format!(
                    "{}:{}: not valid shell: {}",
                    b.file,
                    b.line,
                    String::from_utf8_lossy(&check.stderr)
                ));
            }
            continue;
        }
        ran += 1;
        let start = Instant::now();
        let out = Command::new("bash")
            .args(["-c", &script])
            .current_dir(scratch.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("bash");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{}:{} took too long",
            b.file,
            b.line
        );
        if !out.status.success() {
            failures.push(format!(
                "{}:{}: exit {:?}\n--- block\n{}--- stdout\n{}--- stderr\n{}",
                b.file,
                b.line,
                out.status.code(),
                b.body,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Not vacuous: the docs do have runnable commands, and cluster ones are skipped.
    assert!(ran >= 8, "only {ran} blocks ran");
    assert!(skipped >= 10, "only {skipped} blocks skipped");
}

/// The long flags (`--name`) in `text`.
fn long_flags(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'-'
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_lowercase()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
        if starts {
            let end = (i + 2..b.len())
                .find(|&j| !(b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'-'))
                .unwrap_or(b.len());
            out.insert(text[i..end].trim_end_matches('-').to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Every long flag `bin` and its subcommands take, from their `--help`.
fn flags_of(bin: &str, subcommands: &[&[&str]]) -> std::collections::BTreeSet<String> {
    let path = bin_dir().join(bin);
    let mut all = std::collections::BTreeSet::new();
    for sub in subcommands {
        let out = Command::new(&path)
            .args(*sub)
            .arg("--help")
            .output()
            .expect("run");
        assert!(out.status.success(), "{bin} {sub:?} --help");
        all.extend(long_flags(&String::from_utf8_lossy(&out.stdout)));
    }
    all
}

/// A flag the docs put on a `flink-lint` or `flink-admission` line exists: it is in the help of
/// the tool or one of its subcommands. Lines about other tools' flags (cargo, kubectl, ...) are
/// not the tools' claims and are left out.
#[test]
fn every_flag_the_docs_give_a_tool_exists() {
    let (lint, admission) = {
        let lint = flags_of(
            "flink-lint",
            &[
                &[],
                &["check"],
                &["fix"],
                &["baseline", "write"],
                &["rules"],
                &["explain"],
                &["completions"],
                &["man"],
            ],
        );
        let admission_help = Command::new(bin_dir().join("flink-admission"))
            .arg("--help")
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&admission_help.stdout).into_owned();
        // The subcommands, as `--help` lists them.
        let subs: Vec<String> = text
            .lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|s| s != "help")
            .collect();
        assert!(subs.len() >= 3, "{text}");
        let mut lists: Vec<Vec<&str>> = vec![vec![]];
        lists.extend(subs.iter().map(|s| vec![s.as_str()]));
        let lists: Vec<&[&str]> = lists.iter().map(Vec::as_slice).collect();
        (lint, flags_of("flink-admission", &lists))
    };
    assert!(
        lint.contains("--baseline") && lint.contains("--exclude"),
        "{lint:?}"
    );
    // Lines about other tools' flags.
    let others = [
        "cargo ",
        "kubectl",
        "hyperfine",
        "oc ",
        "helm ",
        "docker ",
        "buildah",
        "curl ",
        "openssl",
        "wrk ",
    ];
    // The scanner finds flags as the docs write them, and only those.
    let found = long_flags("`flink-lint --min-severity error -q x--y --no-ignore,` --");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["--min-severity", "--no-ignore"]
    );
    let mut wrong = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if others.iter().any(|o| line.contains(o)) {
                continue;
            }
            let known = match (
                line.contains("flink-lint"),
                line.contains("flink-admission"),
            ) {
                (true, false) => &lint,
                (false, true) => &admission,
                _ => continue,
            };
            for flag in long_flags(line) {
                if !known.contains(&flag) {
                    wrong.push(format!("{}:{}: {flag}: {line}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "flags the tools do not have:\n{}",
        wrong.join("\n")
    );
}
