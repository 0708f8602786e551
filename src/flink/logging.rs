//! Flink's console logging file, `log4j-console.properties`: every Flink image since 1.11 starts
//! its processes with Log4j 2 (`-Dlog4j.configurationFile=.../log4j-console.properties`), whose
//! properties format names things `rootLogger.*`, `appender.*`, `logger.*`. The Log4j 1 keys
//! (`log4j.rootLogger`, `log4j.appender.*`) mean nothing to it.

/// The keys of a Java properties text, with their line, in order (`#`/`!` comments and blank
/// lines skipped; the key ends at the first unescaped `=`, `:` or white space; continuation
/// lines are not keys).
fn keys(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut continued = false;
    for raw in text.lines() {
        let line = raw.trim_start();
        let was_continued = continued;
        continued = line.ends_with('\\') && !line.ends_with("\\\\");
        if was_continued || line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let end = line
            .find(|c: char| c == '=' || c == ':' || c.is_whitespace())
            .unwrap_or(line.len());
        out.push((&line[..end], line.trim_end()));
    }
    out
}

/// Whether a key is Log4j 1 syntax: `log4j.rootLogger`, `log4j.rootCategory`,
/// `log4j.appender.*`, `log4j.logger.*`, `log4j.category.*`, `log4j.additivity.*`.
fn is_log4j1_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("log4j.") else {
        return false;
    };
    rest == "rootLogger"
        || rest == "rootCategory"
        || ["appender.", "logger.", "category.", "additivity."]
            .iter()
            .any(|p| rest.starts_with(p))
}

/// Whether a key configures Log4j 2 (the properties format's root logger, appenders, loggers).
fn is_log4j2_key(key: &str) -> bool {
    key == "rootLogger"
        || [
            "rootLogger.",
            "appender.",
            "logger.",
            "appenders",
            "loggers",
        ]
        .iter()
        .any(|p| key.starts_with(p))
}

/// The first Log4j 1 line of a `log4j-console.properties` that has no Log4j 2 key at all (so
/// Log4j 2 reads nothing from it), shortened; `None` when it configures Log4j 2, or has no
/// Log4j 1 line.
pub fn log4j1_line(text: &str) -> Option<String> {
    let keys = keys(text);
    if keys.iter().any(|(k, _)| is_log4j2_key(k)) {
        return None;
    }
    let (_, line) = keys.iter().find(|(k, _)| is_log4j1_key(k))?;
    Some(if line.chars().count() > 80 {
        format!("{}...", line.chars().take(77).collect::<String>())
    } else {
        line.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log4j1_only_files_are_found() {
        let v1 = "# console\nlog4j.rootLogger=INFO, console\nlog4j.appender.console=org.apache.log4j.ConsoleAppender\n";
        assert_eq!(
            log4j1_line(v1).as_deref(),
            Some("log4j.rootLogger=INFO, console")
        );
        assert_eq!(
            log4j1_line("log4j.logger.org.apache.kafka : WARN").as_deref(),
            Some("log4j.logger.org.apache.kafka : WARN")
        );
    }

    #[test]
    fn log4j2_files_and_mixed_files_pass() {
        let v2 = "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.type = CONSOLE\n";
        assert_eq!(log4j1_line(v2), None);
        // A Log4j 2 file with a leftover Log4j 1 line still configures Log4j 2.
        assert_eq!(log4j1_line(&format!("{v2}log4j.rootLogger=INFO\n")), None);
        assert_eq!(log4j1_line(""), None);
        assert_eq!(log4j1_line("# log4j.rootLogger=INFO\n"), None);
        // A continuation line is not a key.
        assert_eq!(
            log4j1_line("monitorInterval = \\\n  log4j.rootLogger=INFO\n"),
            None
        );
        assert_eq!(log4j1_line("log4j.configuration=x"), None);
    }
}
