//! JUnit XML: one test suite per file, one test case per object; a case fails with one
//! failure line per finding at or above warning. Input errors are errored test cases.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::Severity;
use crate::lint::Outcome;

pub fn junit(outcome: &Outcome) -> String {
    let mut report = Report::new("flink-lint");
    let mut files: Vec<&str> = outcome.files.iter().map(|f| f.name.as_str()).collect();
    for e in &outcome.errors {
        if !files.contains(&e.file.as_str()) {
            files.push(&e.file);
        }
    }
    for file in files {
        let mut suite = TestSuite::new(file);
        for e in outcome.errors.iter().filter(|e| e.file == file) {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message));
            status.set_type("input-error");
            suite.add_test_case(TestCase::new(format!("{file} (input)"), status));
        }
        for (f, obj) in outcome.objects.iter().filter(|(f, _)| f == file) {
            let hits: Vec<_> = outcome
                .findings
                .iter()
                .filter(|l| &l.file == f && &l.finding.object == obj)
                .filter(|l| l.finding.severity >= Severity::Warning)
                .collect();
            let name = obj.display();
            let status = if hits.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{} finding(s)", hits.len()));
                s.set_type(
                    hits.iter()
                        .map(|l| l.finding.rule.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.set_description(
                    hits.iter()
                        .map(|l| {
                            format!(
                                "{}:{}:{}: {}[{}] {} ({})",
                                l.file,
                                l.line,
                                l.column,
                                l.finding.severity.as_str(),
                                l.finding.rule,
                                l.finding.message,
                                l.finding.path
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                s
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(file.to_string());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot render JUnit XML: {e} -->\n"))
}
