//! `flink-lint explain` on the memory rules: the memory Flink derives for each process in the
//! files, as a table, next to the rule's documentation.

use flink_admission::lint::cli::main_with_args;

fn run(args: &[&str]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = main_with_args(
        std::iter::once("flink-lint").chain(args.iter().copied()),
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn fixture(rel: &str) -> String {
    format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn explain_prints_the_derivation_of_each_process() {
    let file = fixture("FLK405/fail.yaml");
    let (code, out, err) = run(&["explain", "FLK405", &file]);
    assert_eq!(code, 0, "{err}");
    // The rule's documentation first, then the table.
    assert!(
        out.contains("## What it does") || out.contains("What it does"),
        "{out}"
    );
    let table = out
        .split("Memory, as Flink derives it at start-up:")
        .nth(1)
        .unwrap_or_else(|| panic!("no derivation:\n{out}"));
    assert!(
        table.contains("Deployment/flink-jobmanager: JobManager (Flink 1.20)"),
        "{table}"
    );
    for (row, value) in [
        ("JVM heap", "1472m"),
        ("off-heap memory", "128m"),
        ("total Flink memory", "1600m"),
        ("JVM metaspace", "256m"),
        ("JVM overhead", "206.2m"),
        ("total process memory", "2062.2m"),
    ] {
        let line = table
            .lines()
            .find(|l| l.trim_start().starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row:\n{table}"));
        assert!(line.contains(value), "{row}: {line}");
    }
    assert!(
        table.contains("container memory limit 1600Mi: the process is above it"),
        "{table}"
    );
}

#[test]
fn explain_says_why_flink_refuses_and_covers_flinkdeployments() {
    let (code, out, _) = run(&[
        "explain",
        "FLK404",
        &fixture("FLK404/fail-flinkdeployment.yaml"),
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("FlinkDeployment/small: JobManager (spec.jobManager) (Flink 1.20)"),
        "{out}"
    );
    assert!(
        out.contains("Flink refuses to start it: total Flink memory 64m"),
        "{out}"
    );
    // The TaskManager at 2048m fits: its table.
    assert!(
        out.contains("FlinkDeployment/small: TaskManager (spec.taskManager) (Flink 1.20)"),
        "{out}"
    );
    assert!(out.contains("network memory"), "{out}");
}

#[test]
fn explain_with_files_is_for_the_memory_rules_only() {
    let (code, _, err) = run(&["explain", "FLK101", &fixture("FLK405/fail.yaml")]);
    assert_eq!(code, 2);
    assert!(err.contains("FLK101 works out nothing from files"), "{err}");
    let (code, _, err) = run(&["explain", "FLK404", "/nonexistent/flink.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/flink.yaml"), "{err}");
    // Without files, the documentation only.
    let (code, out, _) = run(&["explain", "FLK404"]);
    assert_eq!(code, 0);
    assert!(!out.contains("Memory, as Flink derives it"), "{out}");
}

#[test]
fn explain_on_files_without_a_judged_process_says_so() {
    let (code, out, _) = run(&["explain", "FLK404", &fixture("FLK408/pass.yaml")]);
    assert_eq!(code, 0);
    // A FlinkDeployment is judged: its two processes.
    assert!(out.contains("FlinkDeployment/app: JobManager"), "{out}");
    let (code, out, _) = run(&["explain", "FLK404", &fixture("FLK404/pass.yaml")]);
    assert_eq!(code, 0);
    // The ConfigMap outside the files: not judged, so no table for that TaskManager.
    assert!(!out.contains("elsewhere-taskmanager"), "{out}");
    assert!(
        out.contains("Deployment/flink-taskmanager: TaskManager"),
        "{out}"
    );
}
