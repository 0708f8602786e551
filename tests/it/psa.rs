//! The Pod Security Admission project's own fixtures (`../shared/corpus/psa/`, bare Pods) as an
//! outside oracle for the security family: with `--scope all --platform kubernetes`, at
//! `--pod-security restricted` every `restricted/fail` pod gets at least one error and no
//! `restricted/pass` pod gets any; `--pod-security baseline` likewise for `baseline/`. Every
//! fail pod also trips the rule its file name (the PSA check id) maps to.

use std::path::{Path, PathBuf};

use flink_admission::engine::rule::{Platform, PodSecurity};
use flink_admission::engine::{Engine, Scope, Settings, Severity};
use flink_admission::lint::{self, Inputs};

use crate::common::corpus as shared_corpus;

fn corpus() -> Option<PathBuf> {
    shared_corpus::corpus("psa")
}

/// The rules a PSA check id (the file name's prefix) maps to.
fn rules_for(check: &str) -> &'static [&'static str] {
    match check {
        "allowprivilegeescalation" => &["FLK209", "FLK210"],
        "apparmorprofile" => &["FLK221"],
        "capabilities_baseline" => &["FLK206"],
        "capabilities_restricted" => &["FLK207", "FLK208"],
        "hostnamespaces" => &["FLK202"],
        "hostpathvolumes" => &["FLK204"],
        "hostports" => &["FLK203"],
        "hostprobesandhostlifecycle" => &["FLK223"],
        "privileged" => &["FLK201"],
        "procmount" => &["FLK219"],
        "procmount_restricted" => &["FLK220"],
        "restrictedvolumes" => &["FLK204", "FLK205"],
        "runasnonroot" => &["FLK214", "FLK215"],
        "runasuser" => &["FLK216"],
        "seccompprofile_baseline" => &["FLK211"],
        "seccompprofile_restricted" => &["FLK211", "FLK212"],
        "selinuxoptions" => &["FLK217"],
        "sysctls" => &["FLK218"],
        "windowshostprocess" => &["FLK222"],
        _ => &[],
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn errors(engine: &Engine, path: &Path) -> Vec<String> {
    let mut inputs = Inputs::default();
    inputs.add(
        &path.display().to_string(),
        &std::fs::read_to_string(path).unwrap(),
    );
    let out = lint::lint(engine, inputs);
    assert!(
        out.errors.is_empty(),
        "{}: {:?}",
        path.display(),
        out.errors
    );
    out.findings
        .iter()
        .filter(|l| l.finding.severity == Severity::Error)
        .map(|l| l.finding.rule.clone())
        .collect()
}

#[test]
fn pod_security_admission_fixtures_agree() {
    let Some(root) = corpus() else {
        return;
    };
    let mut problems = Vec::new();
    let mut agreed = 0;
    let mut total = 0;
    for level in [PodSecurity::Baseline, PodSecurity::Restricted] {
        let settings = Settings {
            platform: Platform::Kubernetes,
            scope: Scope::All,
            pod_security: level,
            ..Settings::default()
        };
        let engine = Engine::embedded(settings).unwrap();
        let dir = root.join(match level {
            PodSecurity::Baseline => "baseline",
            PodSecurity::Restricted => "restricted",
        });
        for verdict in ["pass", "fail"] {
            for f in files(&dir.join(verdict)) {
                total += 1;
                let errs = errors(&engine, &f);
                let stem = f.file_stem().unwrap().to_str().unwrap();
                let check = stem.trim_end_matches(|c: char| c.is_ascii_digit());
                let ok = match verdict {
                    "pass" => errs.is_empty(),
                    _ => {
                        let want = rules_for(check);
                        !errs.is_empty()
                            && (want.is_empty() || errs.iter().any(|r| want.contains(&r.as_str())))
                    }
                };
                if ok {
                    agreed += 1;
                } else {
                    problems.push(format!("{level:?} {verdict} {}: {errs:?}", f.display()));
                }
            }
        }
    }
    eprintln!("PSA agreement: {agreed}/{total}");
    assert_eq!(total, 148, "the corpus has 148 PSA fixtures");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `--pod-security` reaches the engine from the command line and from `.flink-lint.yaml`: a
/// restricted-only violation fails the run at `restricted` and is a warning at `baseline`.
#[test]
fn pod_security_flag_and_config_change_the_verdict() {
    let Some(root) = corpus() else {
        return;
    };
    let file = root.join("restricted/fail/allowprivilegeescalation0.yaml");
    let file = file.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "flink-lint",
            "check",
            "--platform",
            "kubernetes",
            "--scope",
            "all",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        args.push(file);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = lint::cli::main_with_args(args, &mut out, &mut err);
        (code, String::from_utf8_lossy(&err).to_string())
    };
    assert_eq!(run(&["--pod-security", "restricted"]).0, 1);
    assert_eq!(run(&["--pod-security", "baseline"]).0, 0);
    assert_eq!(run(&[]).0, 0, "baseline is the default");
    let dir = std::env::temp_dir().join(format!("flink-lint-psa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join(".flink-lint.yaml");
    std::fs::write(&config, "pod-security: restricted\n").unwrap();
    let config = config.to_str().unwrap().to_string();
    assert_eq!(
        run(&["--config", &config]).0,
        1,
        "{}",
        run(&["--config", &config]).1
    );
    // the command line wins over the file
    assert_eq!(
        run(&["--config", &config, "--pod-security", "baseline"]).0,
        0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
