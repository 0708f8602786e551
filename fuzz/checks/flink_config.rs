//! Flink configuration parsing (`src/flink/config.rs`): `flink-conf.yaml` (legacy, line by
//! line), `config.yaml` (standard YAML, nested or flat keys), `-D` arguments, `FLINK_PROPERTIES`,
//! and the typed reads the rules make on the result. No input panics; the legacy parser gives a
//! problem with a line inside the text.

use flink_admission::flink::config::{
    self, FlinkConfig, PortSpec, is_memory_size_key, parse_boolean,
};

fn read_everything(cfg: &FlinkConfig) {
    let _ = (cfg.ha_mode(), cfg.ha_enabled(), cfg.ha_storage_dir());
    let _ = (cfg.checkpoint_dir(), cfg.savepoint_dir());
    for key in cfg.keys().map(str::to_string).collect::<Vec<_>>() {
        if is_memory_size_key(&key) {
            let _ = cfg.memory(&key);
        }
        let _ = cfg.port(&key);
        let _ = cfg.boolean(&key);
    }
    for key in [
        "jobmanager.memory.process.size",
        "taskmanager.memory.process.size",
        "jobmanager.rpc.port",
        "blob.server.port",
        "rest.port",
        "taskmanager.numberOfTaskSlots",
    ] {
        let _ = (cfg.memory(key), cfg.port(key), cfg.boolean(key));
    }
    let mut merged = FlinkConfig::new();
    merged.merge(cfg);
    assert_eq!(merged.len(), cfg.len());
}

/// Panics when the input breaks what must hold (the fuzz target and `tests/it/regressions.rs`).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    let (legacy, issues) = config::parse_legacy(text);
    for issue in &issues {
        if let Some(l) = issue.line {
            assert!((1..=lines).contains(&l), "line {l} of {lines}: {issue}");
        }
        let _ = issue.to_string();
    }
    read_everything(&legacy);
    match config::parse_yaml(text) {
        Ok(cfg) => read_everything(&cfg),
        Err(issue) => {
            let _ = issue.to_string();
        }
    }
    let args: Vec<String> = text.split(['\n', ' ']).map(str::to_string).collect();
    read_everything(&config::parse_dynamic_properties(&args));
    read_everything(&config::parse_flink_properties_env(text));
    match PortSpec::parse(text) {
        PortSpec::Fixed(p) => assert!(p > 0),
        PortSpec::Random => assert_eq!(text.trim().trim_start_matches('0'), ""),
        PortSpec::RangeOrList(_) | PortSpec::Invalid(_) => {}
    }
    let _ = parse_boolean(text).map_err(|e| e.to_string());
}
