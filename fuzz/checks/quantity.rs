//! Memory sizes and Kubernetes quantities (`src/flink/quantity.rs`): no input panics, and what
//! the formatters write parses back to the same number of bytes.

use flink_admission::flink::quantity::{
    format_flink_memory, format_k8s_memory, parse_flink, parse_k8s_quantity, parse_operator_memory,
    quantity_from_json,
};

fn round_trips(bytes: u64) {
    // Flink and the operator refuse more than a Java long.
    let bytes = bytes & (i64::MAX as u64);
    let flink = format_flink_memory(bytes);
    assert_eq!(parse_flink(&flink).map(|m| m.bytes()), Ok(bytes), "{flink}");
    assert_eq!(
        parse_operator_memory(&flink).map(|m| m.bytes()),
        Ok(bytes),
        "{flink}"
    );
    let k8s = format_k8s_memory(bytes);
    let q = parse_k8s_quantity(&k8s).unwrap_or_else(|e| panic!("{k8s}: {e}"));
    assert_eq!(q.bytes(), i128::from(bytes), "{k8s}");
    assert!(q.is_whole() && !q.is_negative(), "{k8s}");
    assert_eq!(
        parse_operator_memory(&k8s).map(|m| m.bytes()),
        Ok(bytes),
        "{k8s}"
    );
}

/// Panics when the input breaks what must hold (the fuzz target and `tests/it/regressions.rs`).
pub fn check(data: &[u8]) {
    if data.len() >= 8 {
        let mut n = [0u8; 8];
        n.copy_from_slice(&data[..8]);
        round_trips(u64::from_le_bytes(n));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = parse_flink(text) {
        // What parses is what Flink accepts: at most a Java long, and it prints back exactly.
        assert!(m.bytes() <= i64::MAX as u64);
        assert_eq!(parse_flink(&m.to_string()), Ok(m));
    }
    if let Ok(q) = parse_k8s_quantity(text) {
        let _ = (
            q.bytes(),
            q.millis(),
            q.cores(),
            q.as_bytes_f64(),
            q.is_whole(),
        );
        let _ = (q.is_zero(), q.is_negative());
    }
    if let Ok(m) = parse_operator_memory(text) {
        assert!(m.bytes() <= i64::MAX as u64);
    }
    let _ = quantity_from_json(&serde_json::Value::String(text.to_string()));
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = quantity_from_json(&v);
    }
}
