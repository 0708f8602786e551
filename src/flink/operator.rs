//! What the Flink Kubernetes Operator's validator (`DefaultValidator`, `AutoscalerValidator`)
//! accepts, as facts: the name pattern, the Flink versions each operator version supports, the
//! keys it owns, its own option keys and defaults, the autoscaler's option ranges, and its
//! duration and excluded-period syntax.
//!
//! Read from apache/flink-kubernetes-operator at the release tags `release-1.10.0` to
//! `release-1.15.0` and at `6e9caeb` (1.16-SNAPSHOT, 2026-07-20): see
//! `../shared/reference/flink-operator-rules.md` §2.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::image::FlinkVersion;

/// An operator version (`major.minor`) whose validator this project follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperatorVersion {
    pub minor: u8,
}

impl OperatorVersion {
    /// The oldest version verified (release-1.10.0).
    pub const OLDEST: OperatorVersion = OperatorVersion { minor: 10 };
    /// The newest version verified: 1.16 (the snapshot `6e9caeb`, 1.16-SNAPSHOT).
    pub const NEWEST: OperatorVersion = OperatorVersion { minor: 16 };
    /// 1.16 (FLINK-33548) reads `jobManager/taskManager.resources` (Kubernetes
    /// ResourceRequirements) and validates it; it also checks the autoscaler metric window and
    /// the autoscaler's memory thresholds.
    pub const RESOURCE_REQUIREMENTS: OperatorVersion = OperatorVersion { minor: 16 };

    /// The newest Flink version (`spec.flinkVersion`) this operator version knows. The oldest
    /// it supports is always `v1_15`.
    pub fn newest_flink(self) -> FlinkVersion {
        match self.minor {
            ..=10 => FlinkVersion::new(1, 20),
            11 | 12 => FlinkVersion::new(2, 0),
            13 | 14 => FlinkVersion::new(2, 2),
            _ => FlinkVersion::new(2, 4),
        }
    }

    /// Whether this operator version accepts `spec.flinkVersion` `v`.
    pub fn supports(self, v: FlinkVersion) -> bool {
        v >= OLDEST_SUPPORTED_FLINK && v <= self.newest_flink()
    }

    /// Whether `resources` (ResourceRequirements) exists in this version's CRD.
    pub fn has_resource_requirements(self) -> bool {
        self >= Self::RESOURCE_REQUIREMENTS
    }
}

impl Default for OperatorVersion {
    fn default() -> Self {
        OperatorVersion::NEWEST
    }
}

impl fmt::Display for OperatorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

impl std::str::FromStr for OperatorVersion {
    type Err = String;

    /// `1.15`, `1.15.0` or `v1.15.0`: the minor version counts.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "'{s}' is not an operator version this project follows ({} to {})",
                OperatorVersion::OLDEST,
                OperatorVersion::NEWEST
            )
        };
        let text = s.trim().trim_start_matches('v');
        let mut parts = text.split('.');
        let (Some("1"), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(bad());
        };
        if !parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        let minor: u8 = minor.parse().map_err(|_| bad())?;
        let v = OperatorVersion { minor };
        if v < OperatorVersion::OLDEST || v > OperatorVersion::NEWEST {
            return Err(bad());
        }
        Ok(v)
    }
}

impl Serialize for OperatorVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for OperatorVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // YAML reads `1.15` as a number: take its text.
        let v = serde_json::Value::deserialize(d)?;
        let text = match &v {
            serde_json::Value::String(s) => s.clone(),
            // YAML reads an unquoted `1.10` as the number 1.1: no operator 1.1 is followed, so
            // a one-digit minor of a number is the tens.
            serde_json::Value::Number(n) => match n.to_string().split_once('.') {
                Some((major, minor)) if minor.len() == 1 => format!("{major}.{minor}0"),
                _ => n.to_string(),
            },
            other => other.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `FlinkVersion.isSupported`: `v1_15` or newer.
pub const OLDEST_SUPPORTED_FLINK: FlinkVersion = FlinkVersion::new(1, 15);

/// `DefaultValidator`'s name pattern: a lowercase letter, then letters, digits or `-`, not
/// ending in `-`, at most 45 characters.
pub const NAME_MAX: usize = 45;

/// Whether `name` fully matches `[a-z]([-a-z\d]{0,43}[a-z\d])?`.
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let Some((&first, rest)) = b.split_first() else {
        return false;
    };
    b.len() <= NAME_MAX
        && first.is_ascii_lowercase()
        && rest
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.last() != Some(&b'-')
}

/// The suffixes a FlinkBlueGreenDeployment's child FlinkDeployments get (`<name>-blue`,
/// `<name>-green`), the longer one last.
pub const BLUE_GREEN_SUFFIXES: &[&str] = &["-blue", "-green"];

/// Keys the operator sets itself and refuses in `flinkConfiguration` (`Forbidden Flink config
/// key`).
pub const OWNED_KEYS: &[&str] = &[
    super::config::KUBERNETES_NAMESPACE,
    super::config::KUBERNETES_CLUSTER_ID,
    super::config::HA_CLUSTER_ID,
];

/// `spec.logConfiguration` keys the operator mounts.
pub const LOG_CONFIG_KEYS: &[&str] = &["log4j-console.properties", "logback-console.xml"];

pub const ROLLBACK_ENABLED: &str = "kubernetes.operator.deployment.rollback.enabled";
pub const HEALTH_CHECK_ENABLED: &str = "kubernetes.operator.cluster.health-check.enabled";
/// Default true.
pub const JM_DEPLOYMENT_RECOVERY: &str = "kubernetes.operator.jm-deployment-recovery.enabled";
/// Present (even empty) means periodic savepoints are asked for.
pub const PERIODIC_SAVEPOINT_INTERVAL: &str = "kubernetes.operator.periodic.savepoint.interval";
pub const MAX_CHECKPOINT_AGE: &str =
    "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age";
/// The operator's reconcile loop period (default 60 s; the Helm chart ships 15 s).
pub const RECONCILE_INTERVAL: &str = "kubernetes.operator.reconcile.interval";
/// What the Helm chart's default configuration sets the reconcile interval to.
pub const HELM_RECONCILE_INTERVAL: Duration = Duration::from_secs(15);
/// Which `jarURI` schemes a FlinkSessionJob may use (operator configuration only; default
/// `https`).
pub const ALLOWED_SCHEMES_KEY: &str = "kubernetes.operator.user.artifacts.allowed-schemes";
pub const DEFAULT_ALLOWED_SCHEMES: &[&str] = &["https"];

/// The autoscaler's switch, then the operator's old key for it.
pub const AUTOSCALER_ENABLED: &[&str] = &[
    "job.autoscaler.enabled",
    "kubernetes.operator.job.autoscaler.enabled",
];

/// The keys an autoscaler option is read from, in order: `job.autoscaler.<name>`, any
/// deprecated key, then the operator's old `kubernetes.operator.job.autoscaler.<name>`.
pub fn autoscaler_keys(name: &str) -> Vec<String> {
    let mut keys = vec![format!("job.autoscaler.{name}")];
    if name == "utilization.target" {
        keys.push("job.autoscaler.target.utilization".into());
    }
    keys.push(format!("kubernetes.operator.job.autoscaler.{name}"));
    if name == "utilization.target" {
        keys.push("kubernetes.operator.job.autoscaler.target.utilization".into());
    }
    keys
}

/// A bound of an autoscaler option's range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Value(f64),
    /// `utilization.target` as configured (default 0.7).
    Target,
}

/// An autoscaler option the validator range-checks.
#[derive(Debug, Clone, Copy)]
pub struct AutoscalerRange {
    /// The name under `job.autoscaler.`.
    pub name: &'static str,
    pub min: Bound,
    pub max: Option<Bound>,
    /// Checked only when this boolean option (under `job.autoscaler.`) is true.
    pub only_when: Option<&'static str>,
    /// The first operator version that checks it.
    pub since: OperatorVersion,
}

const V1_10: OperatorVersion = OperatorVersion::OLDEST;
const V1_16: OperatorVersion = OperatorVersion { minor: 16 };

/// `AutoscalerValidator.validateAutoscalerOptions`, in its order.
pub const AUTOSCALER_RANGES: &[AutoscalerRange] = &[
    range("scale-down.max-factor", 0.0, None, None, V1_10),
    range("scale-up.max-factor", 0.0, None, None, V1_10),
    range(
        "utilization.target",
        0.0,
        Some(Bound::Value(1.0)),
        None,
        V1_10,
    ),
    range("target.utilization.boundary", 0.0, None, None, V1_10),
    AutoscalerRange {
        name: "utilization.max",
        min: Bound::Target,
        max: Some(Bound::Value(1.0)),
        only_when: None,
        since: V1_10,
    },
    range("utilization.min", 0.0, Some(Bound::Target), None, V1_10),
    range(
        "memory.gc-pressure.threshold",
        0.0,
        Some(Bound::Value(1.0)),
        None,
        V1_16,
    ),
    range(
        "memory.heap-usage.threshold",
        0.0,
        Some(Bound::Value(1.0)),
        None,
        V1_16,
    ),
    range(
        "observed-scalability.coefficient-min",
        0.01,
        Some(Bound::Value(1.0)),
        Some("observed-scalability.enabled"),
        V1_10,
    ),
    range(
        "scaling.effectiveness.threshold",
        0.0,
        Some(Bound::Value(1.0)),
        Some("scaling.effectiveness.detection.enabled"),
        V1_16,
    ),
    range(
        "memory.tuning.overhead",
        0.0,
        Some(Bound::Value(1.0)),
        Some("memory.tuning.enabled"),
        V1_16,
    ),
];

/// Before 1.16 the coefficient was checked whatever `observed-scalability.enabled` said.
pub const CONDITIONAL_RANGES_SINCE: OperatorVersion = V1_16;

const fn range(
    name: &'static str,
    min: f64,
    max: Option<Bound>,
    only_when: Option<&'static str>,
    since: OperatorVersion,
) -> AutoscalerRange {
    AutoscalerRange {
        name,
        min: Bound::Value(min),
        max,
        only_when,
        since,
    }
}

/// `utilization.target`'s default.
pub const UTILIZATION_TARGET_DEFAULT: f64 = 0.7;
/// `metrics.window`'s default, 15 minutes.
pub const METRICS_WINDOW_DEFAULT: Duration = Duration::from_secs(15 * 60);

/// A number as Java's `Double.parseDouble` reads an option (surrounding whitespace allowed).
pub fn parse_double(text: &str) -> Option<f64> {
    let t = text.trim();
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    match t {
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            && !t.is_empty() =>
        {
            t.parse().ok()
        }
        _ => None,
    }
}

/// A duration as Flink reads one (`TimeUtils.parseDuration`): a number and an optional unit
/// (`ms` when none; `ns`, `us`, `ms`, `s`, `min`/`m`, `h`, `d` and their long spellings), or
/// ISO-8601 (`PT5S`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if let Some(iso) = t.strip_prefix("PT").or_else(|| t.strip_prefix("pt")) {
        return parse_iso_time(iso);
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = t[..digits].parse().ok()?;
    let unit = t[digits..].trim().to_ascii_lowercase();
    let nanos: u64 = match unit.as_str() {
        "ns" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => 1,
        "us" | "µs" | "micro" | "micros" | "microsecond" | "microseconds" => 1_000,
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1_000_000,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000_000_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000_000_000,
        "h" | "hour" | "hours" => 3_600_000_000_000,
        "d" | "day" | "days" => 86_400_000_000_000,
        _ => return None,
    };
    Some(Duration::from_nanos(n.checked_mul(nanos)?))
}

/// `5S`, `1M30S`, `2H` (the part of an ISO-8601 duration after `PT`).
fn parse_iso_time(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut any = false;
    for c in s.chars() {
        match c.to_ascii_uppercase() {
            d if d.is_ascii_digit() || d == '.' => num.push(d),
            u @ ('H' | 'M' | 'S') => {
                let v: f64 = num.parse().ok()?;
                num.clear();
                any = true;
                total += v * match u {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then(|| Duration::from_secs_f64(total))
}

/// Why one entry of `job.autoscaler.excluded.periods` is refused (`CalendarUtils`), or `None`
/// when the operator accepts it: a daily range `HH:mm[:ss]-HH:mm[:ss]` with start before end,
/// a Quartz cron expression, or one of each joined by `&&`.
pub fn excluded_period_problem(entry: &str) -> Option<&'static str> {
    let parts: Vec<&str> = entry.split("&&").map(str::trim).collect();
    match parts.as_slice() {
        [one] => (!is_daily(one) && !is_cron(one))
            .then_some("is neither a daily range (HH:mm-HH:mm) nor a cron expression"),
        [a, b] => {
            let daily = [is_daily(a), is_daily(b)];
            let cron = [is_cron(a), is_cron(b)];
            if (daily[0] && cron[1]) || (cron[0] && daily[1]) {
                None
            } else if (daily[0] && daily[1]) || (cron[0] && cron[1]) {
                Some("joins two daily ranges or two cron expressions with &&")
            } else {
                Some("is neither a daily range (HH:mm-HH:mm) nor a cron expression")
            }
        }
        _ => Some("has more than two parts joined by &&"),
    }
}

/// `HH:mm[:ss]-HH:mm[:ss]` with the start before the end.
fn is_daily(s: &str) -> bool {
    let Some((a, b)) = s.split_once('-') else {
        return false;
    };
    match (time_of_day(a.trim()), time_of_day(b.trim())) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

fn time_of_day(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut secs = 0;
    for (p, (max, scale)) in parts.iter().zip([(24, 3600), (60, 60), (60, 1)]) {
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u32 = p.parse().ok()?;
        if v >= max {
            return None;
        }
        secs += v * scale;
    }
    Some(secs)
}

/// A Quartz cron expression, as far as its shape goes: six or seven fields of digits, names,
/// `*`, `?`, `,`, `-`, `/`, `L`, `W` and `#`.
fn is_cron(s: &str) -> bool {
    let fields: Vec<&str> = s.split_whitespace().collect();
    (6..=7).contains(&fields.len())
        && fields.iter().all(|f| {
            f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"*?,-/#".contains(&b))
        })
        && !s.contains(':')
}

/// The enumerations of a FlinkDeployment spec (relative to the spec) and the values the CRD and
/// the operator's API classes accept, exactly (case included).
pub const DEPLOYMENT_ENUMS: &[(&str, &[&str])] = &[
    ("/mode", &["native", "standalone"]),
    (
        "/job/upgradeMode",
        &["last-state", "savepoint", "stateless"],
    ),
    ("/job/state", &["running", "suspended"]),
];
/// The same for a FlinkSessionJob's job.
pub const SESSION_JOB_ENUMS: &[(&str, &[&str])] = &[
    (
        "/spec/job/upgradeMode",
        &["last-state", "savepoint", "stateless"],
    ),
    ("/spec/job/state", &["running", "suspended"]),
];
/// The same for a FlinkStateSnapshot.
pub const SNAPSHOT_ENUMS: &[(&str, &[&str])] = &[(
    "/spec/savepoint/formatType",
    &["CANONICAL", "NATIVE", "UNKNOWN"],
)];

/// `spec.job.upgradeMode` values that keep state (and so need a checkpoint directory).
pub fn keeps_state(upgrade_mode: &str) -> bool {
    matches!(upgrade_mode, "savepoint" | "last-state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_operator_pattern() {
        assert!(is_valid_name("a"));
        assert!(is_valid_name("basic-example"));
        assert!(is_valid_name("abc-123"));
        assert!(is_valid_name(&"a".repeat(45)));
        assert!(!is_valid_name(&"a".repeat(46)));
        assert!(!is_valid_name("1abc"));
        assert!(!is_valid_name("abc-"));
        assert!(!is_valid_name("Abc"));
        assert!(!is_valid_name("a.b"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn supported_flink_versions_follow_the_operator_version() {
        let v = |s: &str| super::super::image::from_cr(s).unwrap();
        let op = |s: &str| s.parse::<OperatorVersion>().unwrap();
        assert!(!op("1.16").supports(v("v1_14")));
        assert!(op("1.16").supports(v("v1_15")));
        assert!(op("1.16").supports(v("v2_4")));
        assert!(!op("1.14").supports(v("v2_3")));
        assert!(op("1.14").supports(v("v2_2")));
        assert!(!op("1.10").supports(v("v2_0")));
        assert!(op("1.12").supports(v("v2_0")));
    }

    #[test]
    fn operator_versions_parse_and_refuse() {
        assert_eq!(
            "1.15.0".parse::<OperatorVersion>().unwrap(),
            OperatorVersion { minor: 15 }
        );
        assert_eq!(OperatorVersion::default().to_string(), "1.16");
        assert!("1.9".parse::<OperatorVersion>().is_err());
        assert!("2.0".parse::<OperatorVersion>().is_err());
        assert!("1.x".parse::<OperatorVersion>().is_err());
    }

    #[test]
    fn durations_as_flink_reads_them() {
        assert_eq!(parse_duration("15 min"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("500"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("PT5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("PT1M30S"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn excluded_periods_as_calendar_utils_reads_them() {
        assert_eq!(excluded_period_problem("10:00-12:00"), None);
        assert_eq!(excluded_period_problem("10:00:30-12:00"), None);
        assert_eq!(excluded_period_problem("* * 9-17 ? * MON-FRI"), None);
        assert_eq!(
            excluded_period_problem("10:00-12:00 && * * * ? * SAT"),
            None
        );
        assert!(excluded_period_problem("12:00-10:00").is_some());
        assert!(excluded_period_problem("25:00-26:00").is_some());
        assert!(excluded_period_problem("10:00-11:00 && 12:00-13:00").is_some());
        assert!(excluded_period_problem("a && b && c").is_some());
        assert!(excluded_period_problem("weekends").is_some());
    }

    #[test]
    fn doubles_as_java_reads_them() {
        assert_eq!(parse_double(" 0.5 "), Some(0.5));
        assert_eq!(parse_double("1d"), Some(1.0));
        assert_eq!(parse_double("high"), None);
        assert_eq!(parse_double(""), None);
    }
}
