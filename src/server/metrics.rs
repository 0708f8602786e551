//! Prometheus metrics (`prometheus-client`), served as OpenMetrics text on the probe port.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub endpoint: &'static str,
    pub decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub endpoint: &'static str,
    pub rule: String,
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub resource: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PortLabels {
    pub port: &'static str,
}

type HistogramFamily = Family<EndpointLabels, Histogram, fn() -> Histogram>;

/// Every metric the webhook exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: HistogramFamily,
    pub findings: Family<FindingLabels, Counter>,
    pub cert_not_after: Gauge,
    pub cert_reloads: Family<ResultLabels, Counter>,
    pub cache_synced: Family<ResourceLabels, Gauge>,
    pub ready: Gauge,
    /// Reviews that failed inside the webhook (a panic) and were answered per `--fail-mode`.
    pub internal_errors: Family<EndpointLabels, Counter>,
    /// Connections closed at once because the port's connection cap was reached.
    pub connections_refused: Family<PortLabels, Counter>,
    /// Connections open now (TLS handshakes included), by port.
    pub connections_open: Family<PortLabels, Gauge>,
    /// Audit scans (`serve --audit-interval`), by result (success, error).
    pub audit_scans: Family<ResultLabels, Counter>,
    /// How long the last audit scan took, in seconds.
    pub audit_duration: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// Objects the last audit scan judged.
    pub audit_objects: Gauge,
    /// Findings of the last audit scan, by severity.
    pub audit_findings: Family<SeverityLabels, Gauge>,
    /// PolicyReports written by audit scans, by verb (create, replace, delete).
    pub audit_report_writes: Family<VerbLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabels {
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerbLabels {
    pub verb: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~4 s
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("flink_admission");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Admission requests answered, by endpoint and decision (allowed, denied, patched, skipped, invalid, timeout, error, overloaded)",
            requests.clone(),
        );
        let duration: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "request_duration_seconds",
            "Time from receiving an admission request to answering it",
            duration.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "findings",
            "Findings reported (validate) or fixed (mutate), by rule",
            findings.clone(),
        );
        let cert_not_after = Gauge::default();
        registry.register(
            "certificate_expiry_timestamp_seconds",
            "notAfter of the serving certificate, in seconds since the Unix epoch",
            cert_not_after.clone(),
        );
        let cert_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "certificate_reloads",
            "Attempts to reload the serving certificate and key, by result (success, error)",
            cert_reloads.clone(),
        );
        let cache_synced = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "cache_synced",
            "1 when the cluster cache of a resource has synced (0 until then)",
            cache_synced.clone(),
        );
        let ready = Gauge::default();
        registry.register("ready", "1 when /readyz answers ready", ready.clone());
        let internal_errors = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "internal_errors",
            "Reviews that failed inside the webhook (a bug) and were answered per --fail-mode",
            internal_errors.clone(),
        );
        let connections_refused = Family::<PortLabels, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections closed as soon as accepted because the port's connection cap was reached, by port (webhook, probe)",
            connections_refused.clone(),
        );
        let connections_open = Family::<PortLabels, Gauge>::default();
        registry.register(
            "connections_open",
            "Connections open now, TLS handshakes included, by port (webhook, probe)",
            connections_open.clone(),
        );
        let audit_scans = Family::<ResultLabels, Counter>::default();
        registry.register(
            "audit_scans",
            "Audit scans of the cluster cache (serve --audit-interval), by result (success, error)",
            audit_scans.clone(),
        );
        let audit_duration = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "audit_duration_seconds",
            "How long the last audit scan took (judging and writing PolicyReports)",
            audit_duration.clone(),
        );
        let audit_objects = Gauge::default();
        registry.register(
            "audit_objects",
            "Objects the last audit scan judged",
            audit_objects.clone(),
        );
        let audit_findings = Family::<SeverityLabels, Gauge>::default();
        registry.register(
            "audit_findings",
            "Findings of the last audit scan, by severity (error, warning, info)",
            audit_findings.clone(),
        );
        let audit_report_writes = Family::<VerbLabels, Counter>::default();
        registry.register(
            "audit_report_writes",
            "PolicyReports written by audit scans, by verb (create, replace, delete); unchanged reports are not written",
            audit_report_writes.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            audit_scans,
            audit_duration,
            audit_objects,
            audit_findings,
            audit_report_writes,
            requests,
            duration,
            findings,
            cert_not_after,
            cert_reloads,
            cache_synced,
            ready,
            internal_errors,
            connections_refused,
            connections_open,
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = match self.registry.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }

    /// Internal errors counted so far, over both endpoints.
    pub fn internal_error_count(&self) -> u64 {
        ["validate", "mutate"]
            .iter()
            .map(|endpoint| {
                self.internal_errors
                    .get_or_create(&EndpointLabels { endpoint })
                    .get()
            })
            .sum()
    }

    /// Record an audit scan: its duration, its counts, and the reports it wrote (`None`: the
    /// writing failed).
    pub fn observe_audit(
        &self,
        seconds: f64,
        counts: &crate::audit::Counts,
        written: Option<&super::audit::Written>,
    ) {
        let result = if written.is_some() {
            "success"
        } else {
            "error"
        };
        self.audit_scans
            .get_or_create(&ResultLabels { result })
            .inc();
        self.audit_duration.set(seconds);
        self.audit_objects.set(counts.objects as i64);
        for (severity, n) in [
            ("error", counts.errors),
            ("warning", counts.warnings),
            ("info", counts.infos),
        ] {
            self.audit_findings
                .get_or_create(&SeverityLabels { severity })
                .set(n as i64);
        }
        if let Some(w) = written {
            for (verb, n) in [
                ("create", w.created),
                ("replace", w.replaced),
                ("delete", w.deleted),
            ] {
                self.audit_report_writes
                    .get_or_create(&VerbLabels { verb })
                    .inc_by(n as u64);
            }
        }
    }

    pub fn count_request(&self, endpoint: &'static str, decision: &'static str, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, decision })
            .inc();
        self.duration
            .get_or_create(&EndpointLabels { endpoint })
            .observe(seconds);
    }
}

/// The content type of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
