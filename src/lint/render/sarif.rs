//! SARIF 2.1.0: one run, every rule as a reporting descriptor (with its docs as help), every
//! finding as a result with a physical location; input errors as error results with rule
//! `input`.

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};

use crate::engine::{Registry, Severity};
use crate::lint::Outcome;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

/// A path as a URI reference (RFC 3986): every byte but the unreserved characters and `/`
/// percent-encoded, so `%`, `#`, `?`, `:`, spaces and control characters survive a round trip.
pub fn uri_of(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(file: &str, line: usize, column: usize) -> Location {
    let uri = uri_of(file.trim_start_matches("./"));
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(uri).build())
                .region(
                    Region::builder()
                        .start_line(line as i64)
                        .start_column(column as i64)
                        .build(),
                )
                .build(),
        )
        .build()
}

pub fn sarif(outcome: &Outcome, registry: &Registry) -> String {
    let rules: Vec<ReportingDescriptor> = registry
        .rules()
        .iter()
        .map(|r| {
            ReportingDescriptor::builder()
                .id(r.id.clone())
                .name(r.name.clone())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(r.summary.trim().to_string())
                        .build(),
                )
                .full_description(
                    MultiformatMessageString::builder()
                        .text(r.docs.what_it_does.trim().to_string())
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(r.docs.why_is_this_bad.trim().to_string())
                        .markdown(r.explain())
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(json!(level(r.severity)))
                        .build(),
                )
                .build()
        })
        .collect();
    let index = |id: &str| registry.rules().iter().position(|r| r.id == id);
    let mut results: Vec<SarifResult> = outcome
        .findings
        .iter()
        .map(|l| {
            let f = &l.finding;
            let properties = serde_sarif::sarif::PropertyBag::builder()
                .additional_properties(
                    [
                        ("object".to_string(), json!(f.object)),
                        ("path".to_string(), json!(f.path)),
                    ]
                    .into_iter()
                    .collect::<std::collections::BTreeMap<_, _>>(),
                )
                .build();
            SarifResult::builder()
                .rule_id(f.rule.clone())
                .rule_index(index(&f.rule).map(|i| i as i64).unwrap_or(-1))
                .level(level(f.severity))
                .message(Message::builder().text(f.message.clone()).build())
                .locations(vec![location(&l.file, l.line, l.column)])
                .properties(properties)
                .build()
        })
        .collect();
    results.extend(outcome.errors.iter().map(|e| {
        SarifResult::builder()
            .rule_id("input".to_string())
            .level(ResultLevel::Error)
            .message(Message::builder().text(e.message.clone()).build())
            .locations(vec![location(&e.file, e.line, e.column)])
            .build()
    }));
    let run = Run::builder()
        .tool(
            Tool::builder()
                .driver(
                    ToolComponent::builder()
                        .name("flink-lint".to_string())
                        .version(env!("CARGO_PKG_VERSION").to_string())
                        .rules(rules)
                        .build(),
                )
                .build(),
        )
        .results(results)
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA.to_string())
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::uri_of;

    #[test]
    fn uris_are_percent_encoded_but_for_slashes() {
        assert_eq!(uri_of("deploy/jm-1_a.b~.yaml"), "deploy/jm-1_a.b~.yaml");
        assert_eq!(uri_of("my dir/50%#1?.yaml"), "my%20dir/50%25%231%3F.yaml");
        assert_eq!(uri_of("c:x/\u{1b}[1mé.yaml"), "c%3Ax/%1B%5B1m%C3%A9.yaml");
    }
}
