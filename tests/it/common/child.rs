//! A child process's standard output read line by line, for the tests that start the binaries.

use std::io::BufRead;
use std::process::Child;
use std::time::Duration;

/// Lines of the child's standard output until one starts with each of `want`.
pub fn read_lines_until(child: &mut Child, want: &[&str]) -> Vec<String> {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines: Vec<String> = Vec::new();
    while !want.iter().all(|w| lines.iter().any(|l| l.starts_with(w))) {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("the server printed only {lines:?}"),
        }
    }
    lines
}

/// The rest of the first line that starts with `prefix`, trimmed.
pub fn field<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix}... in {lines:?}"))
        .trim()
}
