//! Flink's process memory model, as Flink derives it at start-up for the JobManager and the
//! TaskManager (`ProcessMemoryUtils`, `JobManagerFlinkMemoryUtils`,
//! `TaskExecutorFlinkMemoryUtils`), from whichever of its three option sets is configured:
//!
//! 1. the fine-grained sizes (`jobmanager.memory.heap.size`; `taskmanager.memory.task.heap.size`
//!    and `taskmanager.memory.managed.size`), else
//! 2. the total Flink memory (`*.memory.flink.size`), else
//! 3. the total process memory (`*.memory.process.size`);
//!
//! none of them configured, Flink refuses to start. From the process size, the JVM overhead is a
//! fraction of it capped to a range and the metaspace a fixed size; the rest is the total Flink
//! memory, which splits into framework heap and off-heap, task heap and off-heap, network (a
//! capped fraction) and managed memory (a fraction) for the TaskManager, and JVM heap and
//! off-heap for the JobManager. From a total Flink memory or heap sizes the other way round, the
//! JVM overhead is the inverse fraction of Flink memory plus metaspace. Fractions are Java
//! `float`s multiplied exactly and truncated to whole bytes, as Flink's `MemorySize.multiply`.
//!
//! Pure: no I/O, never panics on any configuration.

use std::fmt::Write as _;

use super::config::FlinkConfig;
use super::image::FlinkVersion;
use super::object::Role;
use super::quantity;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// Flink's `MemorySize.MAX_VALUE` (`Long.MAX_VALUE` bytes): "infinite".
pub const INFINITE: u64 = i64::MAX as u64;

/// The process sizes the Flink image's own configuration file sets (`flink-conf.yaml`, and
/// `config.yaml` since 1.19): what a container that mounts nothing at `/opt/flink/conf` runs with.
pub const IMAGE_JM_PROCESS_SIZE: u64 = 1600 * MIB;
pub const IMAGE_TM_PROCESS_SIZE: u64 = 1728 * MIB;
/// `JobManagerOptions.MIN_JVM_HEAP_SIZE`: below it Flink warns; the fix never proposes less.
pub const JM_MIN_JVM_HEAP: u64 = 128 * MIB;

pub const JM_PROCESS: &str = "jobmanager.memory.process.size";
pub const JM_FLINK: &str = "jobmanager.memory.flink.size";
pub const JM_HEAP: &str = "jobmanager.memory.heap.size";
pub const JM_OFF_HEAP: &str = "jobmanager.memory.off-heap.size";
pub const TM_PROCESS: &str = "taskmanager.memory.process.size";
pub const TM_FLINK: &str = "taskmanager.memory.flink.size";
pub const TM_FRAMEWORK_HEAP: &str = "taskmanager.memory.framework.heap.size";
pub const TM_FRAMEWORK_OFF_HEAP: &str = "taskmanager.memory.framework.off-heap.size";
pub const TM_TASK_HEAP: &str = "taskmanager.memory.task.heap.size";
pub const TM_TASK_OFF_HEAP: &str = "taskmanager.memory.task.off-heap.size";
pub const TM_MANAGED: &str = "taskmanager.memory.managed.size";
pub const TM_MANAGED_FRACTION: &str = "taskmanager.memory.managed.fraction";
pub const TM_NETWORK_MIN: &str = "taskmanager.memory.network.min";
pub const TM_NETWORK_MAX: &str = "taskmanager.memory.network.max";
pub const TM_NETWORK_FRACTION: &str = "taskmanager.memory.network.fraction";
/// Flink 1.x only (removed in 2.0): the network memory as a number of buffers.
pub const TM_NETWORK_BUFFERS_LEGACY: &str = "taskmanager.network.numberOfBuffers";
pub const TM_SEGMENT_SIZE: &str = "taskmanager.memory.segment-size";

/// Where the sizes are worked out: the deprecated heap keys mean different things there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Flink's standalone scripts (`jobmanager.heap.size` is the JVM heap,
    /// `taskmanager.heap.size` the total Flink memory).
    Standalone,
    /// An active resource manager (the operator's native mode): the deprecated heap keys are
    /// the process size.
    Active,
}

/// Which option set decided the sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The JobManager's JVM heap, or the TaskManager's task heap and managed memory.
    FineGrained,
    TotalFlink,
    TotalProcess,
}

/// One component and how its size came about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: &'static str,
    pub bytes: u64,
    /// `set by <key>`, `default`, `fraction 0.4 of ...`, `the rest`.
    pub how: How,
}

/// How a size came about: kept as data and spelled out only when shown (`explain`, messages),
/// since the memory rules derive every Flink process of every review.
#[derive(Debug, Clone, PartialEq)]
pub enum How {
    /// `set by <key>`.
    Set(&'static str),
    /// The option's default.
    Default,
    /// Said as it is: `the rest of ...`, `sum of the components`.
    Text(&'static str),
    /// `fraction <f> of <what>`.
    Fraction { fraction: f64, of: &'static str },
    /// `fraction <f> of <what>, within [min, max]`.
    Capped {
        fraction: f64,
        min: u64,
        max: u64,
        of: &'static str,
    },
    /// `process <p> - JVM metaspace <m> - JVM overhead <o>`.
    ProcessRest {
        process: u64,
        metaspace: u64,
        overhead: u64,
    },
}

/// The fractions compared are parsed values, never NaN.
impl Eq for How {}

impl std::fmt::Display for How {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            How::Set(key) => write!(f, "set by {key}"),
            How::Default => f.write_str("default"),
            How::Text(t) => f.write_str(t),
            How::Fraction { fraction, of } => {
                write!(f, "fraction {} of {of}", java_double(*fraction))
            }
            How::Capped {
                fraction,
                min,
                max,
                of,
            } => write!(
                f,
                "fraction {} of {of}, within [{}, {}]",
                java_double(*fraction),
                human(*min),
                human(*max)
            ),
            How::ProcessRest {
                process,
                metaspace,
                overhead,
            } => write!(
                f,
                "process {} - JVM metaspace {} - JVM overhead {}",
                human(*process),
                human(*metaspace),
                human(*overhead)
            ),
        }
    }
}

/// The sizes Flink derives for one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub role: Role,
    pub basis: Basis,
    /// Whether `*.memory.process.size` is configured (else the process size is derived).
    pub process_configured: bool,
    pub process: u64,
    pub flink: u64,
    pub metaspace: Part,
    pub overhead: Part,
    /// The components of the total Flink memory.
    pub parts: Vec<Part>,
    /// `(option, deprecated key)`: the deprecated heap key that stood for the option.
    pub legacy: Option<(&'static str, &'static str)>,
}

impl Memory {
    /// The derivation as a table: one line per component, then the totals.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, u64, String)> = self
            .parts
            .iter()
            .map(|p| (format!("  {}", p.name), p.bytes, p.how.to_string()))
            .collect();
        rows.push((
            "total Flink memory".into(),
            self.flink,
            match self.basis {
                Basis::TotalFlink => format!("set by {}", flink_key(self.role)),
                Basis::TotalProcess => "process - JVM metaspace - JVM overhead".into(),
                Basis::FineGrained => "sum of the components".into(),
            },
        ));
        for p in [&self.metaspace, &self.overhead] {
            rows.push((p.name.to_string(), p.bytes, p.how.to_string()));
        }
        rows.push((
            "total process memory".into(),
            self.process,
            if self.process_configured {
                format!("set by {}", process_key(self.role))
            } else {
                "total Flink memory + JVM metaspace + JVM overhead".into()
            },
        ));
        if let Some((option, legacy)) = self.legacy {
            let set_by = format!("set by {option}");
            for row in &mut rows {
                if row.2 == set_by {
                    row.2 = format!("set by {legacy} (deprecated), read as {option}");
                }
            }
        }
        let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, bytes, how) in rows {
            let _ = writeln!(out, "{name:<width$}  {:>10}  {how}", human(bytes));
        }
        out
    }

    /// The JVM heap (`-Xmx`): framework and task heap for a TaskManager, the JVM heap for a
    /// JobManager.
    pub fn jvm_heap(&self) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.name.contains("heap") && !p.name.contains("off-heap"))
            .map(|p| p.bytes)
            .sum()
    }
}

/// Why no sizes came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryError {
    /// A size or fraction Flink cannot read (reported by the configuration rules).
    Unreadable { key: String, reason: String },
    /// None of the option sets is configured: Flink refuses to start.
    NotConfigured,
    /// The sizes do not fit: Flink refuses to start. One line: what does not fit, by how much.
    DoesNotFit(String),
}

impl std::fmt::Display for MemoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryError::Unreadable { key, reason } => write!(f, "{key}: {reason}"),
            MemoryError::NotConfigured => f.write_str("no memory size is configured"),
            MemoryError::DoesNotFit(why) => f.write_str(why),
        }
    }
}

pub fn process_key(role: Role) -> &'static str {
    match role {
        Role::JobManager => JM_PROCESS,
        Role::TaskManager => TM_PROCESS,
    }
}

pub fn flink_key(role: Role) -> &'static str {
    match role {
        Role::JobManager => JM_FLINK,
        Role::TaskManager => TM_FLINK,
    }
}

/// The options that, with the process and total Flink sizes, can size `role`: what "no memory
/// option at all" means.
pub fn fine_grained_keys(role: Role) -> &'static [&'static str] {
    match role {
        Role::JobManager => &[JM_HEAP],
        Role::TaskManager => &[TM_TASK_HEAP, TM_MANAGED],
    }
}

/// The process size Flink's image configures for `role`.
pub fn image_process_size(role: Role) -> u64 {
    match role {
        Role::JobManager => IMAGE_JM_PROCESS_SIZE,
        Role::TaskManager => IMAGE_TM_PROCESS_SIZE,
    }
}

/// A size for messages: exact in the largest unit that divides it (`1600m`, `2g`, `512k`,
/// `100b`), else in mebibytes to one decimal (`140.8m`); Flink's "infinite" maximum as such.
pub fn human(bytes: u64) -> String {
    if bytes == INFINITE {
        return "infinite".into();
    }
    if bytes == 0 || bytes.is_multiple_of(KIB) {
        return quantity::format_flink_memory(bytes);
    }
    if bytes >= MIB {
        return format!("{:.1}m", bytes as f64 / MIB as f64);
    }
    format!("{bytes}b")
}

// ------------------------------------------------------------------------------------------------
// Reading options
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Reader<'a> {
    cfg: &'a FlinkConfig,
    /// Flink 1.x (or unknown): the deprecated keys are still read.
    v1: bool,
    /// The network maximum's default: 1g before Flink 1.17 (FLIP-266), infinite since.
    network_max_default: u64,
}

/// `(key, its deprecated keys read in Flink 1.x)`.
type Key = (&'static str, &'static [&'static str]);

impl<'a> Reader<'a> {
    fn new(cfg: &'a FlinkConfig, version: Option<FlinkVersion>) -> Reader<'a> {
        let v1 = version.is_none_or(|v| v.major < 2);
        let network_max_default = match version {
            Some(v) if v < FlinkVersion::new(1, 17) => GIB,
            _ => INFINITE,
        };
        Reader {
            cfg,
            v1,
            network_max_default,
        }
    }

    fn raw(&self, (key, old): Key) -> Option<(&'static str, &'a str)> {
        if let Some(v) = self.cfg.get(key) {
            return Some((key, v));
        }
        if self.v1 {
            return old.iter().find_map(|k| self.cfg.get(k).map(|v| (*k, v)));
        }
        None
    }

    fn has(&self, key: Key) -> bool {
        self.raw(key).is_some()
    }

    fn size(&self, key: Key) -> Result<Option<(u64, &'static str)>, MemoryError> {
        match self.raw(key) {
            None => Ok(None),
            Some((k, text)) => match quantity::parse_flink(text) {
                Ok(m) => Ok(Some((m.0, k))),
                Err(e) => Err(MemoryError::Unreadable {
                    key: k.to_string(),
                    reason: e.to_string(),
                }),
            },
        }
    }

    /// The size at `key`, or `default`; with how it came about.
    fn size_or(&self, key: Key, default: u64) -> Result<(u64, How), MemoryError> {
        Ok(match self.size(key)? {
            Some((b, k)) => (b, How::Set(k)),
            None => (default, How::Default),
        })
    }

    fn required(&self, key: Key) -> Result<(u64, How), MemoryError> {
        match self.size(key)? {
            Some((b, k)) => Ok((b, How::Set(k))),
            None => Err(MemoryError::NotConfigured),
        }
    }

    /// A fraction option: a Java `float` (read as `Float.parseFloat` reads it), widened to
    /// `double`, in `[0, 1)`.
    fn fraction(&self, key: Key, default: f32) -> Result<(f64, bool), MemoryError> {
        let Some((k, text)) = self.raw(key) else {
            return Ok((f64::from(default), false));
        };
        let t = text.trim();
        let t = t
            .strip_suffix(['f', 'F', 'd', 'D'])
            .filter(|s| s.parse::<f32>().is_ok())
            .unwrap_or(t);
        let f: f32 = t.parse().map_err(|_| MemoryError::Unreadable {
            key: k.to_string(),
            reason: format!("'{text}' is not a number"),
        })?;
        let f = f64::from(f);
        if !(0.0..1.0).contains(&f) {
            return Err(MemoryError::DoesNotFit(format!(
                "{k} {} is not in [0, 1)",
                text.trim()
            )));
        }
        Ok((f, true))
    }

    /// A capped fraction: min, max, fraction (`RangeFraction`), with min <= max.
    fn range(
        &self,
        min: (Key, u64),
        max: (Key, u64),
        fraction: (Key, f32),
    ) -> Result<Range, MemoryError> {
        let (lo, _) = self.size_or(min.0, min.1)?;
        let (hi, _) = self.size_or(max.0, max.1)?;
        let (f, _) = self.fraction(fraction.0, fraction.1)?;
        if lo > hi {
            return Err(MemoryError::DoesNotFit(format!(
                "{} {} is above {} {}",
                min.0.0,
                human(lo),
                max.0.0,
                human(hi)
            )));
        }
        Ok(Range {
            min: lo,
            max: hi,
            fraction: f,
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Range {
    min: u64,
    max: u64,
    fraction: f64,
}

impl Range {
    /// `base * fraction`, capped to `[min, max]` (`deriveWithFraction`).
    fn of(&self, base: u64) -> Result<u64, MemoryError> {
        Ok(self.cap(multiply(base, self.fraction)?))
    }

    /// `base * fraction / (1 - fraction)`, capped (`deriveWithInverseFraction`): the part that
    /// makes up `fraction` of `base` plus itself.
    fn inverse_of(&self, base: u64) -> Result<u64, MemoryError> {
        let f = self.fraction / (1.0 - self.fraction);
        Ok(self.cap(multiply(base, f)?))
    }

    /// `is below its range [min, max] by ...` (or above), when `v` is outside it.
    fn outside(&self, v: u64) -> Option<String> {
        let (side, by) = if v < self.min {
            ("below", self.min - v)
        } else if v > self.max {
            ("above", v - self.max)
        } else {
            return None;
        };
        Some(format!(
            "is {side} its range [{}, {}] by {}",
            human(self.min),
            human(self.max),
            human(by)
        ))
    }

    fn cap(&self, v: u64) -> u64 {
        v.clamp(self.min, self.max)
    }

    fn how(&self, of: &'static str) -> How {
        How::Capped {
            fraction: self.fraction,
            min: self.min,
            max: self.max,
            of,
        }
    }
}

/// Java's `Float.toString` of a fraction (what the user wrote, as Flink read it).
fn java_double(f: f64) -> String {
    let single = f as f32;
    format!("{single}")
}

/// `MemorySize.multiply(double)`: the exact product of the bytes and the double's decimal
/// spelling (`BigDecimal.valueOf`), truncated; more than `Long.MAX_VALUE` fails.
fn multiply(bytes: u64, factor: f64) -> Result<u64, MemoryError> {
    let overflow = || MemoryError::DoesNotFit("a derived size overflows a Java long".into());
    if !factor.is_finite() || factor < 0.0 {
        return Err(overflow());
    }
    // The shortest decimal that reads back as `factor` (Java's `Double.toString` digits).
    let (mantissa, scale) = decimal_digits(&factor.to_string()).ok_or_else(overflow)?;
    let product = u128::from(bytes)
        .checked_mul(mantissa)
        .ok_or_else(overflow)?;
    let value = match 10u128.checked_pow(scale) {
        Some(d) => product / d,
        None => 0,
    };
    u64::try_from(value)
        .ok()
        .filter(|v| *v <= INFINITE)
        .ok_or_else(overflow)
}

/// A plain decimal (`12.5`) as its digits without the point and the count after it
/// (`125`, 1); `None` when the digits do not fit a `u128`.
fn decimal_digits(text: &str) -> Option<(u128, u32)> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let mut mantissa: u128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        let d = char::from(b).to_digit(10)?;
        mantissa = mantissa.checked_mul(10)?.checked_add(u128::from(d))?;
    }
    Some((mantissa, u32::try_from(frac.len()).ok()?))
}

fn add(parts: &[u64]) -> Result<u64, MemoryError> {
    parts
        .iter()
        .try_fold(0u64, |a, b| a.checked_add(*b))
        .filter(|s| *s <= INFINITE)
        .ok_or_else(|| MemoryError::DoesNotFit("the configured sizes overflow a Java long".into()))
}

// ------------------------------------------------------------------------------------------------
// Deriving
// ------------------------------------------------------------------------------------------------

/// The sizes Flink derives for `role` from `cfg` (the effective configuration: file, then
/// `FLINK_PROPERTIES`, then `-D`), for Flink `version` (`None`: the newest defaults).
pub fn derive(
    cfg: &FlinkConfig,
    role: Role,
    version: Option<FlinkVersion>,
    deployment: Deployment,
) -> Result<Memory, MemoryError> {
    let r = Reader::new(cfg, version);
    match role {
        Role::JobManager => jobmanager(&r, deployment),
        Role::TaskManager => taskmanager(&r, deployment),
    }
}

/// The JVM side: metaspace, and the overhead range, for `role`.
fn jvm(r: &Reader<'_>, role: Role) -> Result<((u64, How), Range), MemoryError> {
    let k = |s: &str| -> &'static str {
        match (role, s) {
            (Role::JobManager, "meta") => "jobmanager.memory.jvm-metaspace.size",
            (Role::JobManager, "min") => "jobmanager.memory.jvm-overhead.min",
            (Role::JobManager, "max") => "jobmanager.memory.jvm-overhead.max",
            (Role::JobManager, _) => "jobmanager.memory.jvm-overhead.fraction",
            (Role::TaskManager, "meta") => "taskmanager.memory.jvm-metaspace.size",
            (Role::TaskManager, "min") => "taskmanager.memory.jvm-overhead.min",
            (Role::TaskManager, "max") => "taskmanager.memory.jvm-overhead.max",
            (Role::TaskManager, _) => "taskmanager.memory.jvm-overhead.fraction",
        }
    };
    let metaspace = r.size_or((k("meta"), &[]), 256 * MIB)?;
    let overhead = r.range(
        ((k("min"), &[]), 192 * MIB),
        ((k("max"), &[]), GIB),
        ((k("fraction"), &[]), 0.1),
    )?;
    Ok((metaspace, overhead))
}

/// How the total Flink memory and the JVM parts were reached.
struct Totals {
    process: u64,
    process_configured: bool,
    flink: u64,
    metaspace: Part,
    overhead: Part,
    /// For messages: where the total Flink memory comes from.
    flink_from: How,
}

/// From a configured process size: the JVM overhead is its capped fraction, the total Flink
/// memory the rest after metaspace and overhead.
fn from_process(r: &Reader<'_>, role: Role, process: u64) -> Result<Totals, MemoryError> {
    let ((meta, meta_how), range) = jvm(r, role)?;
    let overhead = range.of(process)?;
    let jvm_total = add(&[meta, overhead])?;
    if jvm_total > process {
        return Err(MemoryError::DoesNotFit(format!(
            "JVM metaspace {} + JVM overhead {} = {} exceed the process size {} by {}",
            human(meta),
            human(overhead),
            human(jvm_total),
            human(process),
            human(jvm_total - process)
        )));
    }
    let flink = process - jvm_total;
    Ok(Totals {
        process,
        process_configured: true,
        flink,
        metaspace: Part {
            name: "JVM metaspace",
            bytes: meta,
            how: meta_how,
        },
        overhead: Part {
            name: "JVM overhead",
            bytes: overhead,
            how: range.how("the process"),
        },
        flink_from: How::ProcessRest {
            process,
            metaspace: meta,
            overhead,
        },
    })
}

/// From a known total Flink memory: the JVM overhead is the rest of a configured process size
/// (within its range), else the inverse fraction of Flink memory plus metaspace.
fn around_flink(
    r: &Reader<'_>,
    role: Role,
    flink: u64,
    flink_from: How,
) -> Result<Totals, MemoryError> {
    let ((meta, meta_how), range) = jvm(r, role)?;
    let with_meta = add(&[flink, meta])?;
    let metaspace = Part {
        name: "JVM metaspace",
        bytes: meta,
        how: meta_how,
    };
    if let Some((process, key)) = r.size((process_key(role), &[]))? {
        if process < with_meta {
            return Err(MemoryError::DoesNotFit(format!(
                "total Flink memory {} ({flink_from}) + JVM metaspace {} = {} exceed {key} {} by {}",
                human(flink),
                human(meta),
                human(with_meta),
                human(process),
                human(with_meta - process)
            )));
        }
        let overhead = process - with_meta;
        if let Some(outside) = range.outside(overhead) {
            return Err(MemoryError::DoesNotFit(format!(
                "JVM overhead {} ({key} {} - total Flink memory {} - JVM metaspace {}) {outside}",
                human(overhead),
                human(process),
                human(flink),
                human(meta),
            )));
        }
        return Ok(Totals {
            process,
            process_configured: true,
            flink,
            metaspace,
            overhead: Part {
                name: "JVM overhead",
                bytes: overhead,
                how: How::Text("the rest of the process"),
            },
            flink_from,
        });
    }
    let overhead = range.inverse_of(with_meta)?;
    let process = add(&[with_meta, overhead])?;
    Ok(Totals {
        process,
        process_configured: false,
        flink,
        metaspace,
        overhead: Part {
            name: "JVM overhead",
            bytes: overhead,
            how: range.how("the process"),
        },
        flink_from,
    })
}

/// The total Flink memory when it is configured (the JVM parts come after the split), or the
/// process split first when only the process size is.
fn total_flink_first(
    r: &Reader<'_>,
    role: Role,
    flink_key: Key,
    process: Key,
) -> Result<(Basis, u64, How, Option<Totals>), MemoryError> {
    Ok(match r.size(flink_key)? {
        Some((flink, k)) => (Basis::TotalFlink, flink, How::Set(k), None),
        None => {
            let (process, _) = r.required(process)?;
            let t = from_process(r, role, process)?;
            (Basis::TotalProcess, t.flink, t.flink_from.clone(), Some(t))
        }
    })
}

fn memory(role: Role, basis: Basis, t: Totals, parts: Vec<Part>) -> Memory {
    Memory {
        role,
        basis,
        process_configured: t.process_configured,
        process: t.process,
        flink: t.flink,
        metaspace: t.metaspace,
        overhead: t.overhead,
        parts,
        legacy: None,
    }
}

fn part(name: &'static str, (bytes, how): (u64, How)) -> Part {
    Part { name, bytes, how }
}

const JM_HEAP_LEGACY: &[&str] = &["jobmanager.heap.size", "jobmanager.heap.mb"];
const TM_HEAP_LEGACY: &[&str] = &["taskmanager.heap.size", "taskmanager.heap.mb"];

/// A deprecated heap key's size (`*.heap.mb` counts mebibytes), Flink 1.x only.
fn legacy_heap(
    r: &Reader<'_>,
    keys: &[&'static str],
) -> Result<Option<(u64, &'static str)>, MemoryError> {
    if !r.v1 {
        return Ok(None);
    }
    for k in keys {
        let Some(text) = r.cfg.get(k) else { continue };
        let parsed = if k.ends_with(".mb") {
            text.trim()
                .parse::<u64>()
                .ok()
                .and_then(|m| m.checked_mul(MIB))
                .ok_or_else(|| format!("'{text}' is not a whole number of mebibytes"))
        } else {
            quantity::parse_flink(text)
                .map(|m| m.0)
                .map_err(|e| e.to_string())
        };
        return parsed
            .map(|b| Some((b, *k)))
            .map_err(|reason| MemoryError::Unreadable {
                key: k.to_string(),
                reason,
            });
    }
    Ok(None)
}

/// The sizes from a deprecated heap key mapped to the option it stands for, when none of the
/// current options is set (`MemoryBackwardsCompatibilityUtils`); `NotConfigured` without one.
fn with_legacy_heap(
    r: &Reader<'_>,
    role: Role,
    deployment: Deployment,
    derive: fn(&Reader<'_>, Deployment) -> Result<Memory, MemoryError>,
) -> Result<Memory, MemoryError> {
    let (keys, standalone_key) = match role {
        Role::JobManager => (JM_HEAP_LEGACY, JM_HEAP),
        Role::TaskManager => (TM_HEAP_LEGACY, TM_FLINK),
    };
    let Some((size, legacy)) = legacy_heap(r, keys)? else {
        return Err(MemoryError::NotConfigured);
    };
    let key = match deployment {
        Deployment::Standalone => standalone_key,
        Deployment::Active => process_key(role),
    };
    let mut cfg = r.cfg.clone();
    cfg.insert(key, format!("{size}b"));
    let mapped = Reader { cfg: &cfg, ..*r };
    let mut m = derive(&mapped, deployment)?;
    m.legacy = Some((key, legacy));
    Ok(m)
}

fn jobmanager(r: &Reader<'_>, deployment: Deployment) -> Result<Memory, MemoryError> {
    let role = Role::JobManager;
    let heap_key: Key = (JM_HEAP, &[]);
    let flink_key: Key = (JM_FLINK, &[]);
    let process: Key = (JM_PROCESS, &[]);
    if !r.has(heap_key) && !r.has(flink_key) && !r.has(process) {
        return with_legacy_heap(r, role, deployment, jobmanager);
    }
    let off_heap_key: Key = (JM_OFF_HEAP, &[]);
    let (off, off_how) = r.size_or(off_heap_key, 128 * MIB)?;
    if r.has(heap_key) {
        let (heap, heap_how) = r.required(heap_key)?;
        let (flink, flink_from, off, off_how) = match r.size(flink_key)? {
            Some((total, _)) => {
                if r.has(off_heap_key) {
                    let sum = add(&[heap, off])?;
                    if sum != total {
                        return Err(MemoryError::DoesNotFit(format!(
                            "JVM heap {} + off-heap memory {} = {} do not add up to {JM_FLINK} {}",
                            human(heap),
                            human(off),
                            human(sum),
                            human(total)
                        )));
                    }
                    (total, How::Set(JM_FLINK), off, off_how)
                } else {
                    if heap > total {
                        return Err(MemoryError::DoesNotFit(format!(
                            "{JM_HEAP} {} exceeds {JM_FLINK} {} by {}",
                            human(heap),
                            human(total),
                            human(heap - total)
                        )));
                    }
                    (
                        total,
                        How::Set(JM_FLINK),
                        total - heap,
                        How::Text("total Flink memory - JVM heap"),
                    )
                }
            }
            None => (
                add(&[heap, off])?,
                How::Text("JVM heap + off-heap memory"),
                off,
                off_how,
            ),
        };
        let t = around_flink(r, role, flink, flink_from)?;
        let parts = vec![
            part("JVM heap", (heap, heap_how)),
            part("off-heap memory", (off, off_how)),
        ];
        return Ok(memory(role, Basis::FineGrained, t, parts));
    }
    // Flink splits the total Flink memory before it adds the JVM parts around it.
    let (basis, total, flink_from, pre) = total_flink_first(r, role, flink_key, process)?;
    if total <= off {
        return Err(MemoryError::DoesNotFit(format!(
            "total Flink memory {} ({flink_from}) is not above the off-heap memory {}, so no JVM heap is left ({} short)",
            human(total),
            human(off),
            human(off - total)
        )));
    }
    let heap = total - off;
    let t = match pre {
        Some(t) => t,
        None => around_flink(r, role, total, flink_from)?,
    };
    let parts = vec![
        part(
            "JVM heap",
            (heap, How::Text("total Flink memory - off-heap memory")),
        ),
        part("off-heap memory", (off, off_how)),
    ];
    Ok(memory(role, basis, t, parts))
}

fn taskmanager(r: &Reader<'_>, deployment: Deployment) -> Result<Memory, MemoryError> {
    let role = Role::TaskManager;
    let task_heap_key: Key = (TM_TASK_HEAP, &[]);
    let managed_key: Key = (TM_MANAGED, &[]);
    let flink_key: Key = (TM_FLINK, &[]);
    let process: Key = (TM_PROCESS, &[]);
    let fine = r.has(task_heap_key) && r.has(managed_key);
    if !fine && !r.has(flink_key) && !r.has(process) {
        return with_legacy_heap(r, role, deployment, taskmanager);
    }
    let fw_heap = r.size_or((TM_FRAMEWORK_HEAP, &[]), 128 * MIB)?;
    let fw_off = r.size_or((TM_FRAMEWORK_OFF_HEAP, &[]), 128 * MIB)?;
    let task_off = r.size_or((TM_TASK_OFF_HEAP, &[]), 0)?;
    let network_keys: [Key; 3] = [
        (TM_NETWORK_MIN, &["taskmanager.network.memory.min"]),
        (TM_NETWORK_MAX, &["taskmanager.network.memory.max"]),
        (
            TM_NETWORK_FRACTION,
            &["taskmanager.network.memory.fraction"],
        ),
    ];
    let network_range = || {
        r.range(
            (network_keys[0], 64 * MIB),
            (network_keys[1], r.network_max_default),
            (network_keys[2], 0.1),
        )
    };
    // `taskmanager.network.numberOfBuffers` (Flink 1.x), when no network option is set.
    let legacy_network = || -> Result<Option<u64>, MemoryError> {
        if !r.v1 || network_keys.iter().any(|k| r.has(*k)) {
            return Ok(None);
        }
        let Some(text) = r.cfg.get(TM_NETWORK_BUFFERS_LEGACY) else {
            return Ok(None);
        };
        let buffers: u64 = text.trim().parse().map_err(|_| MemoryError::Unreadable {
            key: TM_NETWORK_BUFFERS_LEGACY.into(),
            reason: format!("'{text}' is not a whole number"),
        })?;
        let (segment, _) = r.size_or((TM_SEGMENT_SIZE, &[]), 32 * KIB)?;
        buffers
            .checked_mul(segment)
            .map(Some)
            .ok_or_else(|| MemoryError::DoesNotFit("the network memory overflows".into()))
    };
    let check_network = |network: u64, total: u64| -> Result<(), MemoryError> {
        if let Some(legacy) = legacy_network()? {
            if legacy != network {
                return Err(MemoryError::DoesNotFit(format!(
                    "network memory {} (the rest of total Flink memory {}) is not the {} {TM_NETWORK_BUFFERS_LEGACY} give",
                    human(network),
                    human(total),
                    human(legacy)
                )));
            }
            return Ok(());
        }
        if let Some(outside) = network_range()?.outside(network) {
            return Err(MemoryError::DoesNotFit(format!(
                "network memory {} (the rest of total Flink memory {}) {outside}",
                human(network),
                human(total),
            )));
        }
        Ok(())
    };
    let managed_of = |total: u64| -> Result<(u64, How), MemoryError> {
        match r.size(managed_key)? {
            Some((b, k)) => Ok((b, How::Set(k))),
            None => {
                let (f, _) = r.fraction((TM_MANAGED_FRACTION, &[]), 0.4)?;
                Ok((
                    multiply(total, f)?,
                    How::Fraction {
                        fraction: f,
                        of: "total Flink memory",
                    },
                ))
            }
        }
    };
    let network_of = |total: u64| -> Result<(u64, How), MemoryError> {
        match legacy_network()? {
            Some(b) => Ok((b, How::Set(TM_NETWORK_BUFFERS_LEGACY))),
            None => {
                let range = network_range()?;
                Ok((range.of(total)?, range.how("total Flink memory")))
            }
        }
    };
    let parts = |task_heap: (u64, How), managed, network, fw_heap, fw_off, task_off| {
        vec![
            part("framework heap", fw_heap),
            part("task heap", task_heap),
            part("managed memory", managed),
            part("framework off-heap", fw_off),
            part("task off-heap", task_off),
            part("network memory", network),
        ]
    };
    let sum_names = |names: &[(&str, u64)]| -> String {
        names
            .iter()
            .map(|(n, b)| format!("{n} {}", human(*b)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    if fine {
        let task_heap = r.required(task_heap_key)?;
        let managed = r.required(managed_key)?;
        let excl = add(&[fw_heap.0, fw_off.0, task_heap.0, task_off.0, managed.0])?;
        let (flink, network, flink_from) = match r.size(flink_key)? {
            Some((total, k)) => {
                if excl > total {
                    return Err(MemoryError::DoesNotFit(format!(
                        "{} = {} exceed {k} {} by {}",
                        sum_names(&[
                            ("framework heap", fw_heap.0),
                            ("framework off-heap", fw_off.0),
                            ("task heap", task_heap.0),
                            ("task off-heap", task_off.0),
                            ("managed", managed.0)
                        ]),
                        human(excl),
                        human(total),
                        human(excl - total)
                    )));
                }
                let network = total - excl;
                check_network(network, total)?;
                (
                    total,
                    (network, How::Text("the rest of total Flink memory")),
                    How::Set(k),
                )
            }
            None => {
                let network = match legacy_network()? {
                    Some(b) => (b, How::Set(TM_NETWORK_BUFFERS_LEGACY)),
                    None => {
                        let range = network_range()?;
                        (range.inverse_of(excl)?, range.how("total Flink memory"))
                    }
                };
                (
                    add(&[excl, network.0])?,
                    network,
                    How::Text("sum of the components"),
                )
            }
        };
        let t = around_flink(r, role, flink, flink_from)?;
        return Ok(memory(
            role,
            Basis::FineGrained,
            t,
            parts(task_heap, managed, network, fw_heap, fw_off, task_off),
        ));
    }
    let (basis, total, flink_from, pre) = total_flink_first(r, role, flink_key, process)?;
    let managed = managed_of(total)?;
    let within = |what: String, sum: u64| {
        MemoryError::DoesNotFit(format!(
            "{what} = {} exceed total Flink memory {} ({flink_from}) by {}",
            human(sum),
            human(total),
            human(sum - total)
        ))
    };
    let jvm_around = |pre: Option<Totals>| match pre {
        Some(t) => Ok(t),
        None => around_flink(r, role, total, flink_from.clone()),
    };
    if let Some((task_heap, k)) = r.size(task_heap_key)? {
        let excl = add(&[fw_heap.0, fw_off.0, task_heap, task_off.0, managed.0])?;
        if excl > total {
            return Err(within(
                sum_names(&[
                    ("framework heap", fw_heap.0),
                    ("framework off-heap", fw_off.0),
                    ("task heap", task_heap),
                    ("task off-heap", task_off.0),
                    ("managed", managed.0),
                ]),
                excl,
            ));
        }
        let network = total - excl;
        check_network(network, total)?;
        let parts = parts(
            (task_heap, How::Set(k)),
            managed,
            (network, How::Text("the rest of total Flink memory")),
            fw_heap,
            fw_off,
            task_off,
        );
        return Ok(memory(role, basis, jvm_around(pre)?, parts));
    }
    let network = network_of(total)?;
    let excl = add(&[fw_heap.0, fw_off.0, task_off.0, managed.0, network.0])?;
    if excl > total {
        return Err(within(
            sum_names(&[
                ("framework heap", fw_heap.0),
                ("framework off-heap", fw_off.0),
                ("task off-heap", task_off.0),
                ("managed", managed.0),
                ("network", network.0),
            ]),
            excl,
        ));
    }
    let task_heap = (total - excl, How::Text("the rest of total Flink memory"));
    let parts = parts(task_heap, managed, network, fw_heap, fw_off, task_off);
    Ok(memory(role, basis, jvm_around(pre)?, parts))
}

/// The smallest process size, in whole mebibytes, with which Flink starts `role` (the other
/// options as in `cfg`, `*.memory.process.size` set to it and the total Flink and fine-grained
/// sizes left out), and, for a JobManager, a JVM heap of at least Flink's recommended minimum.
/// `None` when no size up to 1 TiB works.
pub fn min_process_size(
    cfg: &FlinkConfig,
    role: Role,
    version: Option<FlinkVersion>,
) -> Option<u64> {
    let mut base = cfg.clone();
    base.remove(flink_key(role));
    for k in fine_grained_keys(role) {
        base.remove(k);
    }
    let fits = |mib: u64| {
        let mut c = base.clone();
        c.insert(process_key(role), format!("{mib}m"));
        derive(&c, role, version, Deployment::Standalone)
            .is_ok_and(|m| role == Role::TaskManager || m.jvm_heap() >= JM_MIN_JVM_HEAP)
    };
    let (mut lo, mut hi) = (1u64, 1u64 << 20);
    if !fits(hi) {
        return None;
    }
    // Every size is monotone in the process size: the smallest that fits is found by bisection.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo * MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standalone(
        c: &FlinkConfig,
        role: Role,
        version: Option<FlinkVersion>,
    ) -> Result<Memory, MemoryError> {
        derive(c, role, version, Deployment::Standalone)
    }

    fn cfg(pairs: &[(&str, &str)]) -> FlinkConfig {
        pairs.iter().copied().collect()
    }

    fn ok(pairs: &[(&str, &str)], role: Role) -> Memory {
        match standalone(&cfg(pairs), role, None) {
            Ok(m) => m,
            Err(e) => panic!("{pairs:?}: {e}"),
        }
    }

    fn refused(pairs: &[(&str, &str)], role: Role) -> String {
        match standalone(&cfg(pairs), role, None) {
            Err(MemoryError::DoesNotFit(why)) => why,
            other => panic!("{pairs:?}: {other:?}"),
        }
    }

    fn part_of(m: &Memory, name: &str) -> u64 {
        match m.parts.iter().find(|p| p.name == name) {
            Some(p) => p.bytes,
            None => panic!("no {name} in {m:?}"),
        }
    }

    /// The bytes of `mib` MiB times Flink's float fraction, truncated.
    fn frac(bytes: u64, f: f32) -> u64 {
        (bytes as f64 * f64::from(f)) as u64
    }

    #[test]
    fn multiply_is_exact_on_the_decimal_spelling_of_the_widened_float() {
        // 0.1f widened to double is 0.10000000149011612: Flink's overhead of 1000m is 100m and
        // one byte (mem_setup.md's "1000Mb x 0.1 = 100Mb").
        assert_eq!(
            multiply(1000 * MIB, f64::from(0.1f32)).ok(),
            Some(104_857_601)
        );
        assert_eq!(multiply(1000 * MIB, 0.1).ok(), Some(104_857_600));
        assert_eq!(multiply(7, 0.5).ok(), Some(3));
        assert_eq!(multiply(INFINITE, 0.0).ok(), Some(0));
        assert!(multiply(INFINITE, 1.5).is_err());
        assert!(multiply(1, f64::NAN).is_err());
        assert_eq!(multiply(1 << 40, 1e-20).ok(), Some(0));
    }

    /// mem_setup.md, "Capped Fractionated Components": process 1000m with the JVM overhead range
    /// [64m, 128m] and fraction 0.1 gives the fraction (100m); with [128m, 256m] the minimum.
    #[test]
    fn docs_capped_fraction_examples() {
        let m = ok(
            &[
                (TM_PROCESS, "1000m"),
                ("taskmanager.memory.jvm-overhead.min", "64m"),
                ("taskmanager.memory.jvm-overhead.max", "128m"),
                ("taskmanager.memory.jvm-overhead.fraction", "0.1"),
            ],
            Role::TaskManager,
        );
        assert_eq!(m.overhead.bytes, frac(1000 * MIB, 0.1));
        assert_eq!(m.overhead.bytes / MIB, 100);
        let m = ok(
            &[
                (TM_PROCESS, "1000m"),
                ("taskmanager.memory.jvm-overhead.min", "128m"),
                ("taskmanager.memory.jvm-overhead.max", "256m"),
                ("taskmanager.memory.jvm-overhead.fraction", "0.1"),
            ],
            Role::TaskManager,
        );
        assert_eq!(m.overhead.bytes, 128 * MIB);
        // JobManager: the same options under jobmanager.memory.
        let m = ok(
            &[
                (JM_PROCESS, "1000m"),
                ("jobmanager.memory.jvm-overhead.min", "64m"),
                ("jobmanager.memory.jvm-overhead.max", "128m"),
            ],
            Role::JobManager,
        );
        assert_eq!(m.overhead.bytes, frac(1000 * MIB, 0.1));
    }

    /// The image's default TaskManager: process 1728m.
    #[test]
    fn taskmanager_default_process_size() {
        let m = ok(&[(TM_PROCESS, "1728m")], Role::TaskManager);
        assert_eq!(m.overhead.bytes, 192 * MIB); // 172.8m < 192m
        assert_eq!(m.metaspace.bytes, 256 * MIB);
        assert_eq!(m.flink, 1280 * MIB);
        assert_eq!(part_of(&m, "managed memory"), frac(1280 * MIB, 0.4));
        assert_eq!(part_of(&m, "network memory"), frac(1280 * MIB, 0.1));
        assert_eq!(part_of(&m, "framework heap"), 128 * MIB);
        assert_eq!(part_of(&m, "framework off-heap"), 128 * MIB);
        assert_eq!(part_of(&m, "task off-heap"), 0);
        let sum: u64 = m.parts.iter().map(|p| p.bytes).sum();
        assert_eq!(sum, m.flink);
        // task heap: the rest, about 384m
        assert_eq!(part_of(&m, "task heap") / MIB, 383);
        assert_eq!(m.process, 1728 * MIB);
        assert_eq!(m.basis, Basis::TotalProcess);
    }

    /// The image's default JobManager: process 1600m gives 1088m of Flink memory, 960m of heap.
    #[test]
    fn jobmanager_default_process_size() {
        let m = ok(&[(JM_PROCESS, "1600m")], Role::JobManager);
        assert_eq!(m.overhead.bytes, 192 * MIB);
        assert_eq!(m.flink, 1152 * MIB);
        assert_eq!(part_of(&m, "JVM heap"), 1024 * MIB);
        assert_eq!(part_of(&m, "off-heap memory"), 128 * MIB);
        assert_eq!(m.jvm_heap(), 1024 * MIB);
    }

    /// The issue: a JobManager process of 512m leaves 64m of Flink memory, below the 128m
    /// off-heap default.
    #[test]
    fn jobmanager_512m_is_refused() {
        let why = refused(&[(JM_PROCESS, "512m")], Role::JobManager);
        assert_eq!(
            why,
            "total Flink memory 64m (process 512m - JVM metaspace 256m - JVM overhead 192m) is not above the off-heap memory 128m, so no JVM heap is left (64m short)"
        );
        // The smallest process that starts with at least the recommended 128m of heap.
        assert_eq!(
            min_process_size(&cfg(&[(JM_PROCESS, "512m")]), Role::JobManager, None),
            Some(704 * MIB)
        );
    }

    /// The issue: a TaskManager at 800m has 352m of Flink memory against 256m of framework,
    /// about 141m of managed and the 64m network minimum.
    #[test]
    fn taskmanager_800m_is_refused() {
        let why = refused(&[(TM_PROCESS, "800m")], Role::TaskManager);
        assert_eq!(
            why,
            "framework heap 128m + framework off-heap 128m + task off-heap 0b + managed 140.8m + network 64m = 460.8m exceed total Flink memory 352m (process 800m - JVM metaspace 256m - JVM overhead 192m) by 108.8m"
        );
        let min = min_process_size(&cfg(&[(TM_PROCESS, "800m")]), Role::TaskManager, None);
        let Some(min) = min else {
            panic!("no size fits")
        };
        // 256m + 64m + 0.4 F <= F: F >= 533.3m, plus 256m metaspace and 192m overhead.
        assert_eq!(min, 982 * MIB);
        assert!(standalone(&cfg(&[(TM_PROCESS, "981m")]), Role::TaskManager, None).is_err());
        assert!(standalone(&cfg(&[(TM_PROCESS, "982m")]), Role::TaskManager, None).is_ok());
    }

    /// The issue: `jobmanager.memory.flink.size: 1600m` makes a process of 1600m + 256m
    /// metaspace + about 206m overhead.
    #[test]
    fn jobmanager_flink_size_adds_metaspace_and_overhead() {
        let m = ok(&[(JM_FLINK, "1600m")], Role::JobManager);
        assert_eq!(m.basis, Basis::TotalFlink);
        assert!(!m.process_configured);
        let f = f64::from(0.1f32);
        let expected = multiply(1856 * MIB, f / (1.0 - f)).unwrap_or(0);
        assert_eq!(m.overhead.bytes, expected);
        assert_eq!(m.overhead.bytes / MIB, 206);
        assert_eq!(m.process, 1856 * MIB + expected);
        assert_eq!(part_of(&m, "JVM heap"), 1472 * MIB);
        assert_eq!(human(m.overhead.bytes), "206.2m");
    }

    /// The flink-docs ConfigMaps' sizes fit (1600m and 1728m; 1024m in jbcodeforce's demos).
    #[test]
    fn documented_sizes_fit() {
        for (role, size) in [
            (Role::JobManager, "1600m"),
            (Role::TaskManager, "1728m"),
            (Role::JobManager, "1024m"),
            (Role::TaskManager, "1024m"),
            (Role::TaskManager, "4g"),
            (Role::JobManager, "2g"),
        ] {
            let m = ok(&[(process_key(role), size)], role);
            assert_eq!(Ok(m.process), quantity::parse_flink(size).map(|s| s.0));
        }
    }

    #[test]
    fn nothing_configured_is_refused() {
        for role in [Role::JobManager, Role::TaskManager] {
            assert_eq!(
                standalone(&cfg(&[("parallelism.default", "2")]), role, None),
                Err(MemoryError::NotConfigured)
            );
        }
        // task heap alone is not the fine-grained set
        assert_eq!(
            standalone(&cfg(&[(TM_TASK_HEAP, "1g")]), Role::TaskManager, None),
            Err(MemoryError::NotConfigured)
        );
    }

    #[test]
    fn fine_grained_taskmanager() {
        let m = ok(
            &[(TM_TASK_HEAP, "1g"), (TM_MANAGED, "1g")],
            Role::TaskManager,
        );
        assert_eq!(m.basis, Basis::FineGrained);
        // network: inverse fraction of the rest, 2304m * 0.1/0.9 = 256m
        let excl = 2304 * MIB;
        let f = f64::from(0.1f32);
        let network = multiply(excl, f / (1.0 - f)).unwrap_or(0);
        assert_eq!(part_of(&m, "network memory"), network);
        assert_eq!(m.flink, excl + network);
        assert_eq!(m.jvm_heap(), 1152 * MIB);
        // with a total Flink size, network is the rest and must be in range
        let why = refused(
            &[
                (TM_TASK_HEAP, "1g"),
                (TM_MANAGED, "1g"),
                (TM_FLINK, "2330m"),
            ],
            Role::TaskManager,
        );
        assert_eq!(
            why,
            "network memory 26m (the rest of total Flink memory 2330m) is below its range [64m, infinite] by 38m"
        );
        let why = refused(
            &[(TM_TASK_HEAP, "1g"), (TM_MANAGED, "1g"), (TM_FLINK, "2g")],
            Role::TaskManager,
        );
        assert!(
            why.ends_with("= 2304m exceed taskmanager.memory.flink.size 2g by 256m"),
            "{why}"
        );
    }

    /// mem_setup.md's third example: process 1000m and task heap 100m. The overhead is the
    /// fraction of the process; the network is then the rest of Flink memory, which must be in
    /// its range (here it is not, so Flink refuses).
    #[test]
    fn docs_task_heap_with_process_size() {
        let why = refused(
            &[
                (TM_PROCESS, "1000m"),
                (TM_TASK_HEAP, "100m"),
                ("taskmanager.memory.jvm-overhead.min", "64m"),
                ("taskmanager.memory.jvm-overhead.max", "256m"),
            ],
            Role::TaskManager,
        );
        assert!(why.starts_with("network memory "), "{why}");
        assert!(why.contains("below its range [64m, infinite]"), "{why}");
    }

    #[test]
    fn total_flink_and_process_size_together() {
        // overhead = 2g - 1g - 256m = 768m: within [192m, 1g]
        let m = ok(&[(TM_PROCESS, "2g"), (TM_FLINK, "1g")], Role::TaskManager);
        assert_eq!(m.overhead.bytes, 768 * MIB);
        assert!(m.process_configured);
        let why = refused(
            &[(TM_PROCESS, "1400m"), (TM_FLINK, "1g")],
            Role::TaskManager,
        );
        assert_eq!(
            why,
            "JVM overhead 120m (taskmanager.memory.process.size 1400m - total Flink memory 1g - JVM metaspace 256m) is below its range [192m, 1g] by 72m"
        );
        let why = refused(&[(JM_PROCESS, "1g"), (JM_FLINK, "1g")], Role::JobManager);
        assert_eq!(
            why,
            "total Flink memory 1g (set by jobmanager.memory.flink.size) + JVM metaspace 256m = 1280m exceed jobmanager.memory.process.size 1g by 256m"
        );
    }

    #[test]
    fn jobmanager_heap_and_flink_size() {
        let m = ok(&[(JM_HEAP, "1g"), (JM_FLINK, "1200m")], Role::JobManager);
        assert_eq!(part_of(&m, "off-heap memory"), 176 * MIB);
        let why = refused(
            &[(JM_HEAP, "1g"), (JM_FLINK, "1200m"), (JM_OFF_HEAP, "128m")],
            Role::JobManager,
        );
        assert_eq!(
            why,
            "JVM heap 1g + off-heap memory 128m = 1152m do not add up to jobmanager.memory.flink.size 1200m"
        );
        let why = refused(&[(JM_HEAP, "2g"), (JM_FLINK, "1g")], Role::JobManager);
        assert_eq!(
            why,
            "jobmanager.memory.heap.size 2g exceeds jobmanager.memory.flink.size 1g by 1g"
        );
        let m = ok(&[(JM_HEAP, "1g")], Role::JobManager);
        assert_eq!(m.flink, 1152 * MIB);
    }

    #[test]
    fn metaspace_and_overhead_above_the_process() {
        let why = refused(&[(JM_PROCESS, "400m")], Role::JobManager);
        assert_eq!(
            why,
            "JVM metaspace 256m + JVM overhead 192m = 448m exceed the process size 400m by 48m"
        );
    }

    #[test]
    fn ranges_and_fractions_flink_refuses() {
        let why = refused(
            &[
                (TM_PROCESS, "2g"),
                (TM_NETWORK_MIN, "2g"),
                (TM_NETWORK_MAX, "1g"),
            ],
            Role::TaskManager,
        );
        assert_eq!(
            why,
            "taskmanager.memory.network.min 2g is above taskmanager.memory.network.max 1g"
        );
        let why = refused(
            &[(TM_PROCESS, "2g"), (TM_MANAGED_FRACTION, "1.5")],
            Role::TaskManager,
        );
        assert_eq!(
            why,
            "taskmanager.memory.managed.fraction 1.5 is not in [0, 1)"
        );
        assert!(matches!(
            standalone(
                &cfg(&[(TM_PROCESS, "2g"), (TM_MANAGED_FRACTION, "lots")]),
                Role::TaskManager,
                None
            ),
            Err(MemoryError::Unreadable { .. })
        ));
        assert!(matches!(
            standalone(&cfg(&[(TM_PROCESS, "2 parsecs")]), Role::TaskManager, None),
            Err(MemoryError::Unreadable { .. })
        ));
        // `0.4f` is a Java float literal Float.parseFloat reads
        let m = ok(
            &[(TM_PROCESS, "2g"), (TM_MANAGED_FRACTION, "0.5f")],
            Role::TaskManager,
        );
        assert_eq!(part_of(&m, "managed memory"), m.flink / 2);
    }

    #[test]
    fn network_maximum_per_version() {
        // 20g of Flink memory: 10% is 2g, capped to 1g before Flink 1.17.
        let c = cfg(&[(TM_FLINK, "20g")]);
        let old = standalone(&c, Role::TaskManager, Some(FlinkVersion::new(1, 16)));
        let new = standalone(&c, Role::TaskManager, Some(FlinkVersion::new(1, 17)));
        let (Ok(old), Ok(new)) = (old, new) else {
            panic!()
        };
        assert_eq!(part_of(&old, "network memory"), GIB);
        assert_eq!(part_of(&new, "network memory"), frac(20 * GIB, 0.1));
    }

    #[test]
    fn deprecated_keys_only_in_flink_1() {
        let c = cfg(&[
            (TM_PROCESS, "2g"),
            ("taskmanager.network.memory.min", "300m"),
        ]);
        let v1 = standalone(&c, Role::TaskManager, Some(FlinkVersion::new(1, 20)));
        let v2 = standalone(&c, Role::TaskManager, Some(FlinkVersion::new(2, 0)));
        let (Ok(v1), Ok(v2)) = (v1, v2) else { panic!() };
        assert_eq!(part_of(&v1, "network memory"), 300 * MIB);
        assert_eq!(part_of(&v2, "network memory"), frac(v2.flink, 0.1));
        // legacy heap: the total Flink memory of a standalone TaskManager, the JVM heap of a
        // standalone JobManager, the process of an active one
        let tm = ok(&[("taskmanager.heap.size", "1g")], Role::TaskManager);
        assert_eq!((tm.basis, tm.flink), (Basis::TotalFlink, GIB));
        assert!(
            tm.table().contains(
                "set by taskmanager.heap.size (deprecated), read as taskmanager.memory.flink.size"
            ),
            "{}",
            tm.table()
        );
        let jm = ok(&[("jobmanager.heap.mb", "1024")], Role::JobManager);
        assert_eq!((jm.basis, jm.jvm_heap()), (Basis::FineGrained, GIB));
        let active = derive(
            &cfg(&[("jobmanager.heap.size", "1g")]),
            Role::JobManager,
            None,
            Deployment::Active,
        );
        assert!(matches!(active, Ok(m) if m.process == GIB));
        assert_eq!(
            standalone(
                &cfg(&[("jobmanager.heap.size", "1g")]),
                Role::JobManager,
                Some(FlinkVersion::V2_0)
            ),
            Err(MemoryError::NotConfigured)
        );
        // legacy number of buffers: 2048 x 32k = 64m
        let m = ok(
            &[(TM_PROCESS, "2g"), (TM_NETWORK_BUFFERS_LEGACY, "2048")],
            Role::TaskManager,
        );
        assert_eq!(part_of(&m, "network memory"), 64 * MIB);
    }

    #[test]
    fn table_lists_every_component_and_the_totals() {
        let m = ok(&[(TM_PROCESS, "1728m")], Role::TaskManager);
        let t = m.table();
        for want in [
            "framework heap",
            "task heap",
            "managed memory",
            "network memory",
            "total Flink memory",
            "1280m",
            "JVM metaspace",
            "JVM overhead",
            "192m",
            "total process memory",
            "1728m",
            "set by taskmanager.memory.process.size",
            "fraction 0.4 of total Flink memory",
        ] {
            assert!(t.contains(want), "{want}:\n{t}");
        }
        assert_eq!(t.lines().count(), 10, "{t}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(1600 * MIB), "1600m");
        assert_eq!(human(2 * GIB), "2g");
        assert_eq!(human(0), "0b");
        assert_eq!(human(100), "100b");
        assert_eq!(human(104_857_601), "100.0m");
        assert_eq!(human(INFINITE), "infinite");
    }

    /// Odd configurations never panic: every derivation is sizes or an error.
    #[test]
    fn odd_values_never_panic() {
        let values = [
            "0",
            "1b",
            "9223372036854775807",
            "8388607t",
            "-1",
            "0.99",
            "1e3",
            "",
            "NaN",
            "inf",
        ];
        let keys = [
            TM_PROCESS,
            TM_FLINK,
            TM_TASK_HEAP,
            TM_MANAGED,
            TM_MANAGED_FRACTION,
            TM_NETWORK_FRACTION,
            TM_NETWORK_MAX,
            "taskmanager.memory.jvm-overhead.fraction",
            JM_PROCESS,
            JM_HEAP,
            JM_OFF_HEAP,
            JM_FLINK,
        ];
        for k in keys {
            for v in values {
                for other in [TM_PROCESS, TM_MANAGED, JM_PROCESS, JM_FLINK] {
                    let c = cfg(&[(k, v), (other, "1g")]);
                    for role in [Role::JobManager, Role::TaskManager] {
                        if let Ok(m) = standalone(&c, role, None) {
                            let sum: u64 = m.parts.iter().map(|p| p.bytes).sum();
                            assert_eq!(sum, m.flink, "{k}={v} {role:?}");
                            assert_eq!(m.flink + m.metaspace.bytes + m.overhead.bytes, m.process);
                        }
                    }
                }
            }
        }
    }
}
