//! The linter on one hostile file (`src/lint`): the reader (UTF-8 / UTF-16 with a BOM, refusing
//! the rest with a position), YAML or JSON loading with the span index, the engine over the
//! world of that file, and every renderer. No input panics; every finding and input error sits
//! at a line and column inside the text; the JSON, SARIF and GitLab outputs are JSON.

use std::sync::LazyLock;

use flink_admission::engine::rule::Platform;
use flink_admission::engine::{Engine, Settings};
use flink_admission::lint::{self, Inputs, cli, render};
use serde_json::Value;

fn engine(platform: Platform) -> Engine {
    let settings = Settings {
        platform,
        ..Settings::default()
    };
    Engine::embedded(settings).expect("embedded rules")
}

static ENGINES: LazyLock<[Engine; 2]> =
    LazyLock::new(|| [engine(Platform::Openshift), engine(Platform::Kubernetes)]);

/// Panics when the input breaks what must hold (the fuzz target and `tests/it/regressions.rs`).
pub fn check(data: &[u8]) {
    // JSON when it looks like JSON, as a file named *.json is read; the platform by length.
    let looks_json = data
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    let name = if looks_json {
        "dir/a.json"
    } else {
        "dir/a.yaml"
    };
    let engine = &ENGINES[data.len() % 2];
    let bytes = data;
    let mut inputs = Inputs::default();
    let text = match cli::read_capped(bytes, name).and_then(|b| cli::decode(name, b)) {
        Ok(text) => text,
        Err(u) => {
            assert!(u.line >= 1 && u.column >= 1, "{u:?}");
            return;
        }
    };
    inputs.add(name, &text);
    // Lines as any of the renderers count them: \n, \r\n, or a lone \r.
    let lines = 1 + text.matches('\n').count() + text.matches('\r').count();
    let outcome = lint::lint(engine, inputs);
    for f in &outcome.findings {
        assert!(
            (1..=lines).contains(&f.line),
            "{}:{} of {lines}",
            f.line,
            f.column
        );
        assert!(f.column >= 1, "{}:{}", f.line, f.column);
    }
    for e in &outcome.errors {
        assert!((1..=lines).contains(&e.line), "{e:?} of {lines}");
        assert!(e.column >= 1, "{e:?}");
    }
    let _ = render::human(&outcome, false);
    let _ = render::human(&outcome, true);
    let _ = render::junit(&outcome);
    let _ = render::github(&outcome);
    for out in [
        render::json(&outcome),
        render::sarif(&outcome, engine.registry()),
        render::gitlab(&outcome),
    ] {
        serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    }
}
