//! Memory sizes and Kubernetes resource quantities.
//!
//! Three different grammars meet in a Flink manifest:
//!
//! - Flink's `MemorySize` (`1600m`, `2 g`, `1024`): binary units, case-insensitive, integers only.
//!   `m` means mebibytes.
//! - Kubernetes quantities (`512Mi`, `100m`, `1.5Gi`, `1e3`): decimal or binary suffixes, fractions
//!   allowed. `m` means milli.
//! - The Flink Kubernetes Operator's memory strings: Flink `MemorySize` first, then a normalised
//!   Kubernetes quantity (so `2048m` is 2048 MiB there, but 2.048 bytes to Kubernetes).
//!
//! Everything here is pure and never panics on any input.

use std::fmt;

use thiserror::Error;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;
const PIB: u64 = 1 << 50;
const EIB: u64 = 1 << 60;

/// Nano-units per unit: Kubernetes quantities are exact to 1n (`10^-9`).
const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// A memory size that failed to parse, or a quantity that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuantityError {
    /// Not a Flink memory size (`<integer>[ ]<unit>`).
    #[error(
        "invalid Flink memory size '{text}': {reason}; expected an integer with an optional unit b, k, m, g or t (binary, for example 1600m or 2g)"
    )]
    FlinkMemory { text: String, reason: String },
    /// Not a Kubernetes quantity.
    #[error(
        "invalid Kubernetes quantity '{text}': {reason}; expected a number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, m, k, M, G, T, P, E or an exponent (for example 512Mi, 100m, 1.5Gi, 1e3)"
    )]
    K8sQuantity { text: String, reason: String },
    /// Neither a Flink memory size nor a Kubernetes quantity, as the operator reads memory.
    #[error(
        "invalid memory '{text}': {reason}; expected a Flink memory size (2048m, 2g) or a Kubernetes quantity (2Gi, 2G)"
    )]
    OperatorMemory { text: String, reason: String },
    /// A JSON value that is neither a string nor a number.
    #[error("invalid quantity {text}: expected a string or a number")]
    NotAQuantity { text: String },
}

fn flink_err(text: &str, reason: impl Into<String>) -> QuantityError {
    QuantityError::FlinkMemory {
        text: text.to_string(),
        reason: reason.into(),
    }
}

fn k8s_err(text: &str, reason: impl Into<String>) -> QuantityError {
    QuantityError::K8sQuantity {
        text: text.to_string(),
        reason: reason.into(),
    }
}

// ------------------------------------------------------------------------------------------------
// Flink MemorySize
// ------------------------------------------------------------------------------------------------

/// A number of bytes, as Flink's `MemorySize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MemorySize(pub u64);

impl MemorySize {
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// Flink's `MemorySize.parse`: a non-negative integer, optional whitespace, an optional
    /// case-insensitive unit (`b`/`bytes`, `k`/`kb`/`kibibytes`, `m`/`mb`/`mebibytes`,
    /// `g`/`gb`/`gibibytes`, `t`/`tb`/`tebibytes`; all binary). A bare number is bytes. The result
    /// must fit a Java `long`, like Flink's.
    pub fn parse_flink(s: &str) -> Result<MemorySize, QuantityError> {
        parse_flink(s)
    }
}

impl fmt::Display for MemorySize {
    /// The Flink spelling (`1600m`, `2g`, `100b`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_flink_memory(self.0))
    }
}

/// The unit multipliers Flink knows, all lower case.
const FLINK_UNITS: &[(&[&str], u64)] = &[
    (&["b", "bytes"], 1),
    (&["k", "kb", "kibibytes"], KIB),
    (&["m", "mb", "mebibytes"], MIB),
    (&["g", "gb", "gibibytes"], GIB),
    (&["t", "tb", "tebibytes"], TIB),
];

/// See [`MemorySize::parse_flink`].
pub fn parse_flink(s: &str) -> Result<MemorySize, QuantityError> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(flink_err(s, "empty"));
    }
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, rest) = trimmed.split_at(digits_end);
    if number.is_empty() {
        let reason = if trimmed.starts_with('-') {
            "negative sizes are not allowed"
        } else {
            "does not start with a number"
        };
        return Err(flink_err(s, reason));
    }
    let unit = rest.trim().to_ascii_lowercase();
    let multiplier = if unit.is_empty() {
        1
    } else {
        match FLINK_UNITS
            .iter()
            .find(|(names, _)| names.contains(&unit.as_str()))
        {
            Some((_, m)) => *m,
            None if unit.starts_with('.') || unit.starts_with(',') => {
                return Err(flink_err(s, "fractional sizes are not allowed"));
            }
            None => return Err(flink_err(s, format!("unknown unit '{}'", rest.trim()))),
        }
    };
    let value: u64 = number
        .parse()
        .map_err(|_| flink_err(s, "the number is too large"))?;
    let bytes = value
        .checked_mul(multiplier)
        .filter(|b| *b <= i64::MAX as u64)
        .ok_or_else(|| flink_err(s, "the size is too large (more than 2^63-1 bytes)"))?;
    Ok(MemorySize(bytes))
}

// ------------------------------------------------------------------------------------------------
// Kubernetes quantities
// ------------------------------------------------------------------------------------------------

/// A Kubernetes resource quantity, exact to the nano-unit (`1n`), like the API server's.
///
/// `1` is 10^9 nanos; `100m` (CPU) is 10^8 nanos; `1Ki` is 1024 * 10^9 nanos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity {
    nanos: i128,
}

impl Quantity {
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity { nanos }
    }

    /// A whole number of units (bytes, cores).
    pub fn from_units(units: i64) -> Quantity {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
        }
    }

    /// The value in nano-units (10^-9).
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in milli-units, rounded up (towards positive infinity): `100m` CPU is 100.
    pub fn millis(&self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    /// The value in whole units (bytes for memory), rounded up (towards positive infinity).
    pub fn bytes(&self) -> i128 {
        div_ceil(self.nanos, NANOS_PER_UNIT)
    }

    /// The value in units (bytes for memory), as a float.
    pub fn as_bytes_f64(&self) -> f64 {
        self.nanos as f64 / NANOS_PER_UNIT as f64
    }

    /// The value in units (cores for CPU), as a float.
    pub fn cores(&self) -> f64 {
        self.as_bytes_f64()
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Whether the value is a whole number of units (bytes).
    pub fn is_whole(&self) -> bool {
        self.nanos % NANOS_PER_UNIT == 0
    }
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b > 0 { q + 1 } else { q }
}

/// Parse a Kubernetes resource quantity: `[+-]<digits>[.<digits>]` (or `.<digits>`), then one
/// optional suffix: binary `Ki Mi Gi Ti Pi Ei`, decimal `n u m k M G T P E`, or an exponent
/// `e<int>`/`E<int>`. No whitespace. Values finer than 1n round up (away from zero), as the API
/// server does.
pub fn parse_k8s_quantity(s: &str) -> Result<Quantity, QuantityError> {
    if s.is_empty() {
        return Err(k8s_err(s, "empty"));
    }
    let bytes = s.as_bytes();
    let mut pos = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            pos += 1;
            true
        }
        Some(b'+') => {
            pos += 1;
            false
        }
        _ => false,
    };
    let int_start = pos;
    while pos < bytes.len() && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    let int_part = &s[int_start..pos];
    let mut frac_part = "";
    if pos < bytes.len() && bytes[pos] == b'.' {
        pos += 1;
        let frac_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        frac_part = &s[frac_start..pos];
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(k8s_err(s, "does not start with a number"));
    }
    let suffix = &s[pos..];

    // value = mantissa * 10^dec_exp * 2^bin_exp
    let (mut dec_exp, bin_exp): (i64, u32) = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ => {
            let exp = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))
                .and_then(parse_exponent)
                .ok_or_else(|| k8s_err(s, format!("unknown suffix '{suffix}'")))?;
            (exp, 0)
        }
    };

    // The significant digits as one integer; trailing fractional zeros carry no value.
    let frac_part = frac_part.trim_end_matches('0');
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    dec_exp -= frac_part.len() as i64;
    let too_large = || k8s_err(s, "the value is too large");
    if digits.len() > 36 {
        return Err(k8s_err(s, "too many significant digits"));
    }
    let mut mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| too_large())?
    };
    mantissa = mantissa
        .checked_mul(1i128 << bin_exp)
        .ok_or_else(too_large)?;
    // to nano-units
    let exp = dec_exp + 9;
    let nanos = if mantissa == 0 {
        0
    } else if exp >= 0 {
        let factor = u32::try_from(exp)
            .ok()
            .and_then(|e| 10i128.checked_pow(e))
            .ok_or_else(too_large)?;
        mantissa.checked_mul(factor).ok_or_else(too_large)?
    } else {
        // Finer than a nano-unit: round up.
        match u32::try_from(-exp).ok().and_then(|e| 10i128.checked_pow(e)) {
            Some(divisor) => div_ceil(mantissa, divisor),
            None => 1,
        }
    };
    Ok(Quantity {
        nanos: if negative { -nanos } else { nanos },
    })
}

/// `[+-]<digits>`, bounded so the arithmetic cannot overflow.
fn parse_exponent(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    s.parse().ok()
}

/// A quantity from JSON, as the API server accepts it (int-or-string): a string is parsed as a
/// quantity, a number is taken as is.
pub fn quantity_from_json(v: &serde_json::Value) -> Result<Quantity, QuantityError> {
    match v {
        serde_json::Value::String(s) => parse_k8s_quantity(s),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Quantity::from_units(i))
            } else if let Some(u) = n.as_u64() {
                Ok(Quantity {
                    nanos: i128::from(u) * NANOS_PER_UNIT,
                })
            } else {
                // A float: its shortest decimal spelling is a valid quantity (`0.5`, `1e21`).
                parse_k8s_quantity(&n.to_string())
            }
        }
        other => Err(QuantityError::NotAQuantity {
            text: short_json(other),
        }),
    }
}

fn short_json(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

// ------------------------------------------------------------------------------------------------
// The operator's memory strings
// ------------------------------------------------------------------------------------------------

/// Memory as the Flink Kubernetes Operator reads `resource.memory` and container memory:
/// Flink `MemorySize` first (`2048m` is 2048 MiB, `1g` is 1 GiB); only when that fails, a
/// Kubernetes quantity after the operator's normalisation (whitespace removed, upper-cased, one
/// trailing `B` dropped, a then-trailing `I` made `i`), so `2Gi`, `2GiB`, `512mi` work and `1.5g`
/// is 1.5 * 10^9 bytes (`2GB` is Flink's `gb`, 2 GiB). The result must be a whole, non-negative
/// number of bytes.
pub fn parse_operator_memory(s: &str) -> Result<MemorySize, QuantityError> {
    let flink = match parse_flink(s) {
        Ok(m) => return Ok(m),
        Err(e) => e,
    };
    let operator_err = |reason: String| QuantityError::OperatorMemory {
        text: s.to_string(),
        reason,
    };
    let mut normalised: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if normalised.ends_with('B') {
        normalised.pop();
    }
    if normalised.ends_with('I') {
        normalised.pop();
        normalised.push('i');
    }
    let q = match parse_k8s_quantity(&normalised) {
        Ok(q) => q,
        Err(_) => {
            let reason = match flink {
                QuantityError::FlinkMemory { reason, .. } => reason,
                other => other.to_string(),
            };
            // Not the normalised text: the user never wrote it (upper-cased, `ß` becomes `SS`).
            return Err(operator_err(format!(
                "{reason} (nor is it a Kubernetes quantity)"
            )));
        }
    };
    if q.is_negative() {
        return Err(operator_err("negative sizes are not allowed".to_string()));
    }
    if !q.is_whole() {
        return Err(operator_err(format!(
            "{} is not a whole number of bytes",
            q.as_bytes_f64()
        )));
    }
    u64::try_from(q.bytes())
        .ok()
        .filter(|b| *b <= i64::MAX as u64)
        .map(MemorySize)
        .ok_or_else(|| operator_err("the size is too large (more than 2^63-1 bytes)".to_string()))
}

// ------------------------------------------------------------------------------------------------
// Formatting
// ------------------------------------------------------------------------------------------------

/// The shortest exact Kubernetes spelling with a binary suffix: `1600Mi`, `2Gi`, else plain bytes.
pub fn format_k8s_memory(bytes: u64) -> String {
    const SUFFIXES: &[(u64, &str)] = &[
        (EIB, "Ei"),
        (PIB, "Pi"),
        (TIB, "Ti"),
        (GIB, "Gi"),
        (MIB, "Mi"),
        (KIB, "Ki"),
    ];
    if bytes == 0 {
        return "0".to_string();
    }
    for (unit, suffix) in SUFFIXES {
        if bytes.is_multiple_of(*unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// The shortest exact Flink spelling: `1600m`, `2g`, `1t`, `512k`, else `<n>b`.
pub fn format_flink_memory(bytes: u64) -> String {
    const SUFFIXES: &[(u64, &str)] = &[(TIB, "t"), (GIB, "g"), (MIB, "m"), (KIB, "k")];
    if bytes == 0 {
        return "0b".to_string();
    }
    for (unit, suffix) in SUFFIXES {
        if bytes.is_multiple_of(*unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    format!("{bytes}b")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flink(s: &str) -> u64 {
        match parse_flink(s) {
            Ok(m) => m.0,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    fn k8s(s: &str) -> Quantity {
        match parse_k8s_quantity(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    fn op(s: &str) -> u64 {
        match parse_operator_memory(s) {
            Ok(m) => m.0,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn flink_every_unit() {
        for (unit, mult) in [
            ("b", 1),
            ("bytes", 1),
            ("k", KIB),
            ("kb", KIB),
            ("kibibytes", KIB),
            ("m", MIB),
            ("mb", MIB),
            ("mebibytes", MIB),
            ("g", GIB),
            ("gb", GIB),
            ("gibibytes", GIB),
            ("t", TIB),
            ("tb", TIB),
            ("tebibytes", TIB),
        ] {
            assert_eq!(flink(&format!("3{unit}")), 3 * mult, "{unit}");
            assert_eq!(
                flink(&format!("3 {}", unit.to_uppercase())),
                3 * mult,
                "{unit}"
            );
        }
        assert_eq!(flink("1024"), 1024);
        assert_eq!(flink("  1600m  "), 1600 * MIB);
        assert_eq!(flink("1600   MB"), 1600 * MIB);
        assert_eq!(flink("0"), 0);
        assert_eq!(flink("0g"), 0);
        assert_eq!(flink("2048m"), 2048 * MIB);
        assert_eq!(flink("1728m"), 1728 * MIB);
        assert_eq!(flink("1Gb"), GIB);
        assert_eq!(flink("007m"), 7 * MIB);
        assert_eq!(MemorySize::parse_flink("2g"), Ok(MemorySize(2 * GIB)));
    }

    #[test]
    fn flink_rejects() {
        for bad in [
            "", "   ", "1.5g", "-1g", "g", "1 gi", "1Gi", "2GiB", "1e3", "1x", "1 2", "+1", "1p",
            ".5",
        ] {
            assert!(parse_flink(bad).is_err(), "{bad:?} should fail");
        }
        // Java long range, like Flink
        assert_eq!(flink("8388607t"), 8_388_607 * TIB);
        assert!(parse_flink("8388608t").is_err());
        assert_eq!(flink("9223372036854775807"), i64::MAX as u64);
        assert!(parse_flink("9223372036854775808").is_err());
        assert!(parse_flink("99999999999999999999999999").is_err());
    }

    #[test]
    fn flink_error_messages() {
        let e = parse_flink("1.5g").unwrap_err().to_string();
        assert!(e.contains("'1.5g'") && e.contains("fractional"), "{e}");
        let e = parse_flink("-1g").unwrap_err().to_string();
        assert!(e.contains("negative"), "{e}");
        let e = parse_flink("12 parsecs").unwrap_err().to_string();
        assert!(e.contains("unknown unit 'parsecs'"), "{e}");
        assert!(
            e.contains("expected an integer with an optional unit"),
            "{e}"
        );
        let e = parse_flink("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        assert!(!e.contains('\n'));
        let e = parse_flink("99999999999t").unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn k8s_decimal_suffixes() {
        assert_eq!(k8s("1").bytes(), 1);
        assert_eq!(k8s("1k").bytes(), 1_000);
        assert_eq!(k8s("1M").bytes(), 1_000_000);
        assert_eq!(k8s("1G").bytes(), 1_000_000_000);
        assert_eq!(k8s("1T").bytes(), 1_000_000_000_000);
        assert_eq!(k8s("1P").bytes(), 1_000_000_000_000_000);
        assert_eq!(k8s("1E").bytes(), 1_000_000_000_000_000_000);
        assert_eq!(k8s("1n").nanos(), 1);
        assert_eq!(k8s("1u").nanos(), 1_000);
        assert_eq!(k8s("1m").millis(), 1);
    }

    #[test]
    fn k8s_binary_suffixes() {
        assert_eq!(k8s("1Ki").bytes(), 1024);
        assert_eq!(k8s("512Mi").bytes(), 512 * MIB as i128);
        assert_eq!(k8s("2Gi").bytes(), 2 * GIB as i128);
        assert_eq!(k8s("1Ti").bytes(), TIB as i128);
        assert_eq!(k8s("1Pi").bytes(), PIB as i128);
        assert_eq!(k8s("1Ei").bytes(), EIB as i128);
        assert_eq!(k8s("1.5Gi").bytes(), 1_610_612_736);
        assert_eq!(k8s("0.5Ki").bytes(), 512);
    }

    #[test]
    fn k8s_milli_is_not_mebi() {
        // 2048m to Kubernetes is 2.048 (bytes or cores), not 2048 MiB.
        let q = k8s("2048m");
        assert_eq!(q.millis(), 2048);
        assert_eq!(q.bytes(), 3); // rounded up
        assert!((q.as_bytes_f64() - 2.048).abs() < 1e-12);
        assert!(!q.is_whole());
        // CPU
        assert_eq!(k8s("100m").millis(), 100);
        assert!((k8s("100m").cores() - 0.1).abs() < 1e-12);
        assert!((k8s("0.5").cores() - 0.5).abs() < 1e-12);
        assert_eq!(k8s("2").millis(), 2000);
        assert_eq!(k8s(".5").millis(), 500);
        assert_eq!(k8s("5.").millis(), 5000);
    }

    #[test]
    fn k8s_exponents_and_signs() {
        assert_eq!(k8s("1e3").bytes(), 1000);
        assert_eq!(k8s("1E3").bytes(), 1000);
        assert_eq!(k8s("1e+3").bytes(), 1000);
        assert_eq!(k8s("1e-3").millis(), 1);
        assert_eq!(k8s("1.5e3").bytes(), 1500);
        assert_eq!(k8s("-1").bytes(), -1);
        assert!(k8s("-1").is_negative());
        assert_eq!(k8s("+2Ki").bytes(), 2048);
        assert_eq!(k8s("-100m").millis(), -100);
        assert!(k8s("0").is_zero());
        assert!(k8s("0.000Gi").is_zero());
        // finer than 1n rounds up
        assert_eq!(k8s("0.1n").nanos(), 1);
        assert_eq!(k8s("1e-30").nanos(), 1);
        assert_eq!(k8s("1.0000000001").nanos(), 1_000_000_001);
        // big but representable
        assert_eq!(k8s("1e20").bytes(), 10i128.pow(20));
    }

    #[test]
    fn k8s_rejects() {
        for bad in [
            "",
            " 1",
            "1 ",
            "1Gb",
            "1GB",
            "1K",
            "1ki",
            "1gi",
            "abc",
            "Mi",
            ".",
            "-",
            "1.2.3",
            "1e",
            "1e3.5",
            "1Ki3",
            "1 Mi",
            "--1",
            "1e99999999",
            "0x10",
            "1,5",
        ] {
            assert!(parse_k8s_quantity(bad).is_err(), "{bad:?} should fail");
        }
        // overflow is an error, not a panic
        assert!(parse_k8s_quantity("1e40").is_err());
        assert!(parse_k8s_quantity("99999999999999999999999999999999999999999Ei").is_err());
        assert!(parse_k8s_quantity(&"9".repeat(100)).is_err());
    }

    #[test]
    fn k8s_error_messages() {
        let e = parse_k8s_quantity("2GB").unwrap_err().to_string();
        assert!(
            e.contains("'2GB'") && e.contains("unknown suffix 'GB'"),
            "{e}"
        );
        assert!(e.contains("Ki, Mi, Gi"), "{e}");
        let e = parse_k8s_quantity("lots").unwrap_err().to_string();
        assert!(e.contains("does not start with a number"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn json_quantities() {
        assert_eq!(
            quantity_from_json(&json!("1Gi")).map(|q| q.bytes()),
            Ok(GIB as i128)
        );
        assert_eq!(quantity_from_json(&json!(2)).map(|q| q.millis()), Ok(2000));
        assert_eq!(quantity_from_json(&json!(0.5)).map(|q| q.millis()), Ok(500));
        assert_eq!(quantity_from_json(&json!(-3)).map(|q| q.bytes()), Ok(-3));
        assert_eq!(
            quantity_from_json(&json!(u64::MAX)).map(|q| q.bytes()),
            Ok(i128::from(u64::MAX))
        );
        assert_eq!(
            quantity_from_json(&json!(1e21)).map(|q| q.bytes()),
            Ok(10i128.pow(21))
        );
        let e = quantity_from_json(&json!(true)).unwrap_err().to_string();
        assert_eq!(e, "invalid quantity true: expected a string or a number");
        assert!(quantity_from_json(&json!(null)).is_err());
        assert!(quantity_from_json(&json!({"a": 1})).is_err());
        assert!(quantity_from_json(&json!("2048 m")).is_err());
    }

    #[test]
    fn operator_memory_flink_first() {
        // Flink semantics win: 2048m is 2048 MiB for the operator.
        assert_eq!(op("2048m"), 2048 * MIB);
        assert_eq!(op("1g"), GIB);
        assert_eq!(op("100"), 100);
        assert_eq!(op("1600 mb"), 1600 * MIB);
        assert_eq!(op("0"), 0);
    }

    #[test]
    fn operator_memory_kubernetes_fallback() {
        assert_eq!(op("2Gi"), 2 * GIB);
        assert_eq!(op("512Mi"), 512 * MIB);
        assert_eq!(op("512mi"), 512 * MIB); // upper-cased, then I -> i
        // `gb` is a Flink unit, so 2GB is 2 GiB; only what Flink rejects falls through
        assert_eq!(op("2GB"), 2 * GIB);
        assert_eq!(op("1.5GB"), 1_500_000_000); // trailing B dropped, decimal G
        assert_eq!(op("2GiB"), 2 * GIB);
        assert_eq!(op("2 Gi"), 2 * GIB); // whitespace removed
        assert_eq!(op("1.5Gi"), 1_610_612_736);
        assert_eq!(op("1.5g"), 1_500_000_000); // not MemorySize, so 1.5G decimal
        assert_eq!(op("1e3"), 1000);
        assert_eq!(op("1P"), 1_000_000_000_000_000);
    }

    #[test]
    fn operator_memory_rejects() {
        for bad in [
            "",
            "-1g",
            "-2Gi",
            "0.5",
            "abc",
            "1.5",
            "2 parsecs",
            "1e40",
            "9Ei",
        ] {
            assert!(parse_operator_memory(bad).is_err(), "{bad:?} should fail");
        }
        let e = parse_operator_memory("-1g").unwrap_err().to_string();
        assert!(e.contains("'-1g'") && e.contains("negative"), "{e}");
        let e = parse_operator_memory("0.5").unwrap_err().to_string();
        assert!(e.contains("whole number of bytes"), "{e}");
        let e = parse_operator_memory("lots").unwrap_err().to_string();
        assert!(e.contains("'lots'") && e.contains("2Gi"), "{e}");
    }

    #[test]
    fn formatting() {
        assert_eq!(format_k8s_memory(1600 * MIB), "1600Mi");
        assert_eq!(format_k8s_memory(2 * GIB), "2Gi");
        assert_eq!(format_k8s_memory(1728 * MIB), "1728Mi");
        assert_eq!(format_k8s_memory(1536 * KIB), "1536Ki");
        assert_eq!(format_k8s_memory(3 * TIB), "3Ti");
        assert_eq!(format_k8s_memory(PIB), "1Pi");
        assert_eq!(format_k8s_memory(8 * EIB), "8Ei");
        assert_eq!(format_k8s_memory(1000), "1000");
        assert_eq!(format_k8s_memory(0), "0");
        assert_eq!(format_k8s_memory(u64::MAX), u64::MAX.to_string());

        assert_eq!(format_flink_memory(1600 * MIB), "1600m");
        assert_eq!(format_flink_memory(2 * GIB), "2g");
        assert_eq!(format_flink_memory(TIB), "1t");
        assert_eq!(format_flink_memory(PIB), "1024t");
        assert_eq!(format_flink_memory(512 * KIB), "512k");
        assert_eq!(format_flink_memory(100), "100b");
        assert_eq!(format_flink_memory(0), "0b");
        assert_eq!(MemorySize(1600 * MIB).to_string(), "1600m");
    }

    #[test]
    fn formatting_round_trips() {
        for b in [
            1,
            1000,
            KIB,
            1600 * MIB,
            1728 * MIB,
            3 * GIB,
            5 * TIB,
            i64::MAX as u64,
        ] {
            assert_eq!(flink(&format_flink_memory(b)), b);
            assert_eq!(k8s(&format_k8s_memory(b)).bytes(), i128::from(b));
            assert_eq!(op(&format_k8s_memory(b)), b);
        }
    }

    /// Odd input is an error of each grammar (no panic, no value), and the error quotes the
    /// input as written.
    #[test]
    fn odd_input_is_an_error_naming_the_input() {
        for s in [
            "\u{0}", "é", "1é", "1\u{301}", "１", "1Ｍ", "+", "+.", "-.e", "e3", "1e-", "1e+", "∞",
            "1ℹ", "1ßb",
        ] {
            assert!(
                matches!(parse_flink(s), Err(QuantityError::FlinkMemory { ref text, .. }) if text == s),
                "{s:?}: {:?}",
                parse_flink(s)
            );
            assert!(
                matches!(parse_k8s_quantity(s), Err(QuantityError::K8sQuantity { ref text, .. }) if text == s),
                "{s:?}: {:?}",
                parse_k8s_quantity(s)
            );
            let op = parse_operator_memory(s);
            assert!(
                matches!(op, Err(QuantityError::OperatorMemory { ref text, .. }) if text == s),
                "{s:?}: {op:?}"
            );
            assert!(
                op.unwrap_err().to_string().contains(&format!("'{s}'")),
                "{s:?}"
            );
        }
    }

    #[test]
    fn operator_memory_errors_quote_only_what_was_written() {
        for s in ["2 gigs", "1ßb"] {
            let e = parse_operator_memory(s).unwrap_err().to_string();
            assert!(e.contains(&format!("'{s}'")), "{e}");
            assert!(e.contains("nor is it a Kubernetes quantity"), "{e}");
            let upper = s.to_uppercase().replace(' ', "");
            assert!(
                !e.contains(&upper),
                "{e} quotes {upper}, which was not written"
            );
        }
    }
}
