//! The AdmissionReview wire format, with no HTTP types: [`decode`] a body, [`review()`] it
//! against the engine, send the [`Response`] back. The server and `flink-admission replay`
//! share this code, so a recorded review replays exactly as the webhook would answer it.
//!
//! - `/validate`: every error finding denies (all listed in `status.message`); warnings go to
//!   `warnings`, one short line each; `auditAnnotations` name the rules that fired.
//! - `/mutate`: applies the safe fixes and answers them as a base64 JSONPatch, only when there
//!   is a change; it never denies for findings.
//! - DELETE, CONNECT, `status` (and other non-`scale`) subresources, objects the Flink operator
//!   generates and non-Flink objects are allowed untouched.

pub mod decode;
pub mod response;
pub mod review;

use serde_json::Value;

pub use decode::{
    DecodeError, GroupVersionKind, Request, Review, V1, V1BETA1, decode, decode_limited,
    decode_value,
};
pub use response::{JsonPatch, Response, Status};
pub use review::{Decision, Endpoint, FailMode, Outcome, Policy, review, unfinished};

use crate::engine::{Context, Engine, Settings};

/// The webhook's settings from a `--config` text (same format as `.flink-lint.yaml`).
/// Unlike the linter, only rules declared `admission: true` run. Exemption annotations are
/// honoured only for warning-level rules unless the config sets `suppression.max-severity`, as
/// in the linter.
pub fn webhook_settings(config: Option<&str>) -> Result<Settings, String> {
    let mut settings = Settings::from_yaml(config.unwrap_or(""))?;
    settings.admission = true;
    Ok(settings)
}

/// The reviews in a recorded file: one JSON document, NDJSON (one review per line), or YAML
/// (one or more documents).
pub fn parse_reviews(text: &str) -> Result<Vec<Value>, String> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(vec![v]);
    }
    let stream: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect();
    match stream {
        Ok(values) if !values.is_empty() => return Ok(values),
        _ => {}
    }
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .map_err(|e| format!("neither JSON, NDJSON nor YAML: {e}"))?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.is_empty() {
        return Err("no review in the input".into());
    }
    Ok(docs)
}

/// Answer one recorded review as the webhook would: the AdmissionReview response, or the
/// JSON error the server would send with status 400.
pub fn replay_one(
    engine: &Engine,
    value: Value,
    endpoint: Endpoint,
    context: &dyn Context,
    policy: &Policy,
) -> Result<Value, Value> {
    match decode_value(value) {
        Ok(r) => {
            let outcome = review(engine, &r, endpoint, context, policy);
            Ok(outcome.response.into_review(&r.api_version))
        }
        Err(e) => Err(error_body(&e)),
    }
}

/// The JSON body of a 400 answer.
pub fn error_body(e: &DecodeError) -> Value {
    serde_json::json!({"error": e.to_string(), "code": 400})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Severity;

    #[test]
    fn webhook_settings_default_suppression_to_warning_unless_configured() {
        let s = webhook_settings(None).unwrap();
        assert_eq!(s.suppression.max_severity, Severity::Warning);
        let s = webhook_settings(Some("suppression:\n  max_severity: error\n")).unwrap();
        assert_eq!(s.suppression.max_severity, Severity::Error);
        assert!(webhook_settings(Some("nonsense-key: 1\n")).is_err());
    }

    #[test]
    fn parse_json_ndjson_yaml() {
        assert_eq!(parse_reviews("{\"a\":1}").unwrap().len(), 1);
        assert_eq!(parse_reviews("{\"a\":1}\n{\"b\":2}").unwrap().len(), 2);
        assert_eq!(parse_reviews("a: 1\n---\nb: 2\n").unwrap().len(), 2);
        assert!(parse_reviews("").is_err());
    }
}
