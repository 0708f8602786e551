//! Where users get it: the Containerfile and image tags, the pre-commit hooks, shell completions
//! and man pages, `replay -`, `certs/make-certs.sh`, the CI output formats through the binary,
//! and the progress line staying off when standard error is not a terminal.

use std::process::{Command, Stdio};

use assert_cmd::Command as Cmd;
use base64::Engine as _;
use serde_json::Value;

fn lint() -> Cmd {
    let mut c = Cmd::cargo_bin("flink-lint").expect("flink-lint built");
    c.env("NO_COLOR", "1");
    c
}

fn admission() -> Cmd {
    Cmd::cargo_bin("flink-admission").expect("flink-admission built")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------- image

/// The stages of the Containerfile: (name, lines).
fn stages(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut joined = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() && joined.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            joined.push_str(head);
            joined.push(' ');
            continue;
        }
        joined.push_str(line);
        let instr = std::mem::take(&mut joined);
        if let Some(rest) = instr.strip_prefix("FROM ") {
            let name = rest.split(" AS ").nth(1).unwrap_or("").trim().to_string();
            assert_eq!(rest.split_whitespace().next(), Some("scratch"), "{instr}");
            out.push((name, Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(instr);
        }
    }
    out
}

#[test]
fn containerfile_is_two_scratch_images_non_root_with_labels() {
    let text = read("Containerfile");
    let stages = stages(&text);
    let names: Vec<&str> = stages.iter().map(|(n, _)| n.as_str()).collect();
    // The webhook is last: the default target of a plain `podman build`.
    assert_eq!(names, ["flink-lint", "flink-admission"]);
    for (tool, lines) in &stages {
        let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
        assert!(!has("RUN"), "{tool}: FROM scratch has no shell to RUN");
        assert!(
            lines.contains(&format!("COPY {tool} /usr/local/bin/{tool}")),
            "{tool}: {lines:?}"
        );
        assert!(lines.contains(&"USER 65532:65532".to_string()), "{tool}");
        assert!(
            lines.contains(&format!("ENTRYPOINT [\"/usr/local/bin/{tool}\"]")),
            "{tool}"
        );
        let labels = lines
            .iter()
            .find(|l| l.starts_with("LABEL"))
            .unwrap_or_else(|| panic!("{tool}: no LABEL"));
        for want in [
            "org.opencontainers.image.source=\"https://github.com/flink-admission/flink-admission\"",
            "org.opencontainers.image.version=\"${VERSION}\"",
            "org.opencontainers.image.licenses=\"Apache-2.0\"",
            &format!("org.opencontainers.image.title=\"{tool}\""),
        ] {
            assert!(labels.contains(want), "{tool}: {want} not in {labels}");
        }
    }
    assert!(text.contains(&format!("ARG VERSION={}", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn deploy_and_manifests_use_the_tag_the_script_builds() {
    // scripts/image.sh tags $REGISTRY/flink-admission:$VERSION, VERSION from Cargo.toml.
    let script = read("scripts/image.sh");
    assert!(script.contains("REGISTRY=\"${REGISTRY:-ghcr.io/flink-admission}\""));
    assert!(script.contains("tag=\"$REGISTRY/$tool:$VERSION\""));
    let built = format!(
        "ghcr.io/flink-admission/flink-admission:{}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(flink_admission::deploy::DEFAULT_IMAGE, built);
    assert!(read("deploy/base/deployment.yaml").contains(&format!("image: {built}")));
    let out = admission()
        .args(["manifests", "--tls", "cert-manager"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("image: {built}")));
}

#[test]
fn ci_runs_the_image_and_precommit_checks() {
    let ci = read(".ci/run");
    let image = ci
        .find("scripts/image-check.sh")
        .expect("image check in CI");
    let hooks = ci
        .find("scripts/precommit-check.sh")
        .expect("pre-commit check in CI");
    let passed = ci.rfind("CI passed").expect("CI passed");
    assert!(image < passed && hooks < passed);
    for script in [
        "scripts/image.sh",
        "scripts/image-check.sh",
        "scripts/precommit-check.sh",
    ] {
        let check = Command::new("bash")
            .args(["-n", script])
            .output()
            .expect("bash");
        assert!(check.status.success(), "{script}: {check:?}");
    }
}

// ---------------------------------------------------------------- pre-commit

#[test]
fn precommit_hooks_lint_yaml_and_json_in_one_run() {
    let hooks: Value =
        serde_saphyr::from_str(&read(".pre-commit-hooks.yaml")).expect(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(ids, ["flink-lint", "flink-lint-system"]);
    for h in hooks {
        // A commit that stages only YAML that is not a Kubernetes object passes.
        assert_eq!(h["entry"], "flink-lint --allow-empty");
        assert_eq!(h["require_serial"], true, "one world: one run");
        assert_eq!(h["types_or"], serde_json::json!(["yaml", "json"]));
        assert!(h["name"].is_string() && h["minimum_pre_commit_version"].is_string());
    }
    assert_eq!(hooks[0]["language"], "rust");
    assert_eq!(hooks[1]["language"], "system");
    // No hook runs `fix` (a commit hook should not rewrite files); `fix` without paths is a
    // usage error, never a rewrite of the current directory.
    assert!(!ids.iter().any(|id| id.contains("fix")));
    let tree = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .output()
        .map(|o| o.stdout);
    lint()
        .arg("fix")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "name the files or directories to fix",
        ));
    let after = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .output()
        .map(|o| o.stdout);
    assert_eq!(tree.ok(), after.ok(), "fix without paths changed files");
}

// ---------------------------------------------------------------- completions and man

#[test]
fn completions_and_man_pages_for_both_tools() {
    for (bin, sub) in [("flink-lint", "explain"), ("flink-admission", "replay")] {
        for shell in ["bash", "zsh", "fish"] {
            let out = Cmd::cargo_bin(bin)
                .expect("bin")
                .args(["completions", shell])
                .output()
                .expect("run");
            assert!(out.status.success(), "{bin} completions {shell}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(bin) && text.contains(sub),
                "{bin} {shell}:\n{text}"
            );
        }
        let out = Cmd::cargo_bin(bin)
            .expect("bin")
            .arg("man")
            .output()
            .expect("run");
        assert!(out.status.success(), "{bin} man");
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
        assert!(page.contains(&format!(".TH {bin} 1")), "{bin}: {page}");
        assert!(
            page.contains(".SH SUBCOMMANDS") && page.contains(sub),
            "{bin}"
        );
    }
    lint().args(["completions", "tcsh"]).assert().code(2);
    // The check options are in the linter's page.
    let out = lint().arg("man").output().expect("run");
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("github") && page.contains("gitlab"), "{page}");
}

// ---------------------------------------------------------------- replay

const REVIEW: &str = "tests/fixtures/admission/jobmanager-deployment-update.json";
const NO_CHANGE: &str = "tests/fixtures/admission/flinkdeployment-delete.json";

#[test]
fn serve_without_certificates_names_both_ways_to_serve() {
    let out = admission().arg("serve").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-cert") && err.contains("--dev"), "{err}");
    // A key without its certificate is still refused, and --dev excludes the files.
    for args in [
        &["serve", "--tls-key", "k.pem"][..],
        &[
            "serve",
            "--dev",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ],
    ] {
        let out = admission().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn replay_dash_reads_standard_input() {
    let from_file = admission()
        .args(["replay", REVIEW, "--mutate"])
        .output()
        .expect("run");
    let from_stdin = admission()
        .args(["replay", "-", "--mutate"])
        .write_stdin(read(REVIEW))
        .output()
        .expect("run");
    assert!(from_file.status.success() && from_stdin.status.success());
    assert_eq!(from_file.stdout, from_stdin.stdout);
    // Bad input on stdin: exit 2, named as standard input.
    admission()
        .args(["replay", "-"])
        .write_stdin("{not json")
        .assert()
        .code(2);
}

fn patch_of(review: &str) -> Option<String> {
    let out = admission()
        .args(["replay", review, "--mutate"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["response"]["patch"].as_str().map(str::to_string)
}

#[test]
fn replay_patch_pipeline_with_and_without_a_patch() {
    // With a patch: base64 of a JSON Patch.
    let patch = patch_of(REVIEW).expect("the RollingUpdate JobManager gets a patch");
    let ops: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(patch)
            .expect("base64"),
    )
    .expect("JSON Patch");
    assert!(ops.as_array().is_some_and(|a| !a.is_empty()));
    // Without: no `patch` key at all, so `jq -r '.response.patch // empty'` prints nothing.
    assert_eq!(patch_of(NO_CHANGE), None);
    // The documented pipeline, when jq and base64 are there (they are in CI).
    if Command::new("jq").arg("--version").output().is_ok() {
        for (review, want_output) in [(REVIEW, true), (NO_CHANGE, false)] {
            let bin = env!("CARGO_BIN_EXE_flink-admission");
            let out = Command::new("bash")
                .args([
                    "-e",
                    "-o",
                    "pipefail",
                    "-c",
                    &format!(
                        "'{bin}' replay {review} --mutate | jq -r '.response.patch // empty' | base64 -d | jq ."
                    ),
                ])
                .output()
                .expect("bash");
            assert!(out.status.success(), "{review}: {out:?}");
            assert_eq!(!out.stdout.is_empty(), want_output, "{review}: {out:?}");
        }
    }
}

// ---------------------------------------------------------------- certs

#[test]
fn make_certs_leaves_only_the_files_it_names() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let out = Command::new("certs/make-certs.sh")
        .arg("flink-admission")
        .arg(&out_dir)
        .arg("1")
        .output()
        .expect("make-certs.sh");
    assert!(out.status.success(), "{out:?}");
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("out dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert_eq!(names, ["ca.crt", "tls.crt", "tls.key"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in &names {
        assert!(stdout.contains(name.as_str()), "{stdout}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out_dir.join("tls.key"))
        .expect("tls.key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

// ---------------------------------------------------------------- formats through the binary

#[test]
fn github_and_gitlab_formats_keep_the_exit_codes() {
    let f = "tests/fixtures/FLK101/fail-deployment.yaml";
    let out = lint()
        .args(["--format", "github", f])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("::error file={f},line="))
                && l.contains(",title=FLK101::")),
        "{text}"
    );
    let out = lint()
        .args(["--format", "gitlab", f])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        v.as_array().is_some_and(|a| a
            .iter()
            .any(|i| i["check_name"] == "FLK101" && i["location"]["path"] == f)),
        "{v}"
    );
    lint()
        .args(["--format", "gitlab", "tests/fixtures/_shared/cluster.yaml"])
        .assert()
        .code(0);
}

// ---------------------------------------------------------------- progress line

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    // Several files and objects (the line is drawn per file read and while checking); standard
    // error is a pipe here, so nothing at all may be written to it. (The drawing itself is
    // tested in lint::cli's unit tests.)
    let dir = tempfile::tempdir().expect("tempdir");
    let text = read("tests/fixtures/FLK101/fail-deployment.yaml");
    for i in 0..20 {
        std::fs::write(dir.path().join(format!("jm-{i}.yaml")), &text).expect("write");
    }
    for format in ["human", "json", "github"] {
        let child = Command::new(env!("CARGO_BIN_EXE_flink-lint"))
            .args(["--format", format])
            // A platform given: no note of what `auto` chose (it goes to standard error).
            .args(["--platform", "kubernetes"])
            .arg(dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(!out.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "{format}: stderr must stay empty when it is not a terminal"
        );
    }
}

// ---------------------------------------------------------------- flink-admission's I/O

/// `replay` reads as `flink-lint` does: at most 64 MiB per input (`/dev/zero` stops there), from
/// a file, standard input or `--config`.
#[cfg(unix)]
#[test]
fn replay_reads_at_most_the_input_cap() {
    let cap = |what: &str| {
        format!(
            "flink-admission: {what} is too large: flink-admission reads at most 64 MiB per input\n"
        )
    };
    let endless = vec![b' '; 64 * 1024 * 1024 + 1];
    let cases: [(&[&str], &[u8], &str); 3] = [
        (&["replay", "/dev/zero"], b"", "/dev/zero"),
        (&["replay", "-"], &endless, "standard input"),
        (
            &["replay", REVIEW, "--config", "/dev/zero"],
            b"",
            "/dev/zero",
        ),
    ];
    for (args, stdin, what) in cases {
        let out = admission()
            .args(args)
            .write_stdin(stdin)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), cap(what), "{args:?}");
    }
}

/// Every subcommand that prints: a full disk or a closed pipe on standard output is exit 2 with
/// a message (as `flink-lint`), never a panic (exit 101 and a backtrace).
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_is_exit_2_never_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().display().to_string();
    let runs: [&[&str]; 9] = [
        &["replay", REVIEW],
        &["replay", "--mutate", REVIEW],
        &["manifests"],
        &["manifests", "--tls", "self-signed"],
        &[
            "certs",
            "--service",
            "s",
            "--namespace",
            "n",
            "--out",
            &certs,
        ],
        &["completions", "bash"],
        &["man"],
        &["--help"],
        &["--version"],
    ];
    for args in runs {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let (reader, closed) = std::io::pipe().expect("pipe");
        drop(reader);
        for (stdout, why) in [
            (Stdio::from(full), "No space left on device"),
            (Stdio::from(closed), "Broken pipe"),
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_flink-admission"))
                .args(args)
                .stdout(stdout)
                .stderr(Stdio::piped())
                .output()
                .expect("run");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.starts_with(&format!("flink-admission: cannot write the output: {why}")),
                "{args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
}
