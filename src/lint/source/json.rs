//! JSON: read with serde_json, indexed by a small scanner (duplicate keys are errors).

use serde_json::Value;

use super::spans::{NONE, Pos, SpanIndex, line_column};
use super::{Document, MAX_NODES, ParseError, Parsed, clean_message};

pub(super) fn parse_json(text: &str) -> Parsed {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
    if let Some(byte) = past_node_budget(text.as_bytes(), MAX_NODES) {
        let (line, column) = line_column(text, byte);
        return (
            Vec::new(),
            vec![ParseError {
                line,
                column,
                message: super::too_many_nodes_message(),
                caught_panic: false,
            }],
        );
    }
    let value = match serde_json::from_str::<Value>(body) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = json_error_position(body, e.line().max(1), e.column());
            let message = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = message
                .strip_suffix(&suffix)
                .unwrap_or(&message)
                .to_string();
            return (
                Vec::new(),
                vec![ParseError {
                    line,
                    column,
                    message: clean_message(&message),
                    caught_panic: false,
                }],
            );
        }
    };
    let mut scanner = JsonScanner {
        bytes: text.as_bytes(),
        i: bom,
        line: 1,
        column: 1,
        index: SpanIndex::default(),
    };
    match scanner.document() {
        Ok(()) => (
            vec![Document {
                value,
                spans: {
                    scanner.index.shrink();
                    scanner.index
                },
                index: 0,
            }],
            Vec::new(),
        ),
        Err(e) => (Vec::new(), vec![e]),
    }
}

/// Where `text` holds its node past `budget` ([`MAX_NODES`]), counted as the YAML reader counts them
/// (every scalar, key included, and every collection's start and end) from its commas, colons
/// and brackets outside strings, before anything is built. `None` if it fits: at most one node
/// per byte (plus the first), so a text shorter than the budget is not scanned.
fn past_node_budget(text: &[u8], budget: u64) -> Option<usize> {
    if (text.len() as u64) < budget {
        return None;
    }
    let mut nodes = 1u64;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        nodes += match b {
            b'"' => {
                in_string = true;
                0
            }
            b'[' | b'{' => 2,
            b',' | b':' => 1,
            _ => 0,
        };
        if nodes > budget {
            return Some(i);
        }
    }
    None
}

/// serde_json counts lines by `\n` and columns in bytes; convert to [`line_column`]'s lines
/// (a lone `\r` ends a line too) and characters.
fn json_error_position(body: &str, line: usize, byte_column: usize) -> (usize, usize) {
    let mut start = 0;
    for _ in 1..line {
        match body[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    // serde_json's column is the 1-based column of the byte it stopped at (0 at a line's start).
    let byte = (start + byte_column.saturating_sub(1)).min(body.len());
    let (l, c) = line_column(body, byte);
    if l == line {
        (line, json_char_column(body, line, byte_column))
    } else {
        (l, c)
    }
}

/// serde_json counts columns in bytes; convert to characters.
fn json_char_column(body: &str, line: usize, byte_column: usize) -> usize {
    let Some(line_text) = body.split('\n').nth(line - 1) else {
        return byte_column.max(1);
    };
    let mut n = byte_column.min(line_text.len());
    while n > 0 && !line_text.is_char_boundary(n) {
        n -= 1;
    }
    line_text[..n].chars().count().max(1)
}

#[derive(Clone, Copy)]
enum JsonFrame {
    Object { node: Option<u32>, start: usize },
    Array { node: Option<u32>, start: usize },
}

struct JsonScanner<'a> {
    bytes: &'a [u8],
    i: usize,
    line: usize,
    column: usize,
    index: SpanIndex,
}

impl JsonScanner<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
            byte: self.i,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn bump(&mut self) {
        if let Some(&c) = self.bytes.get(self.i) {
            self.i += 1;
            // `\n`, `\r\n` and a lone `\r` each end a line (see [`line_starts`]).
            if c == b'\n' || (c == b'\r' && self.peek() != Some(b'\n')) {
                self.line += 1;
                self.column = 1;
            } else if c == b'\r' {
                // the `\r` of `\r\n`: the `\n` ends the line
            } else if c & 0xC0 != 0x80 {
                self.column += 1;
            }
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            column: self.column,
            message: message.into(),
            caught_panic: false,
        }
    }

    /// Skip a string (at its opening quote); decode it if asked.
    fn string(&mut self, decode: bool) -> Result<String, ParseError> {
        self.bump(); // "
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            match c {
                b'"' => {
                    self.bump();
                    break;
                }
                b'\\' => {
                    self.bump();
                    let Some(e) = self.peek() else {
                        return Err(self.error("unterminated string"));
                    };
                    self.bump();
                    if !decode {
                        continue;
                    }
                    match e {
                        b'u' => {
                            let mut code = self.hex4();
                            if (0xD800..0xDC00).contains(&code)
                                && self.peek() == Some(b'\\')
                                && self.bytes.get(self.i + 1) == Some(&b'u')
                            {
                                let save = (self.i, self.line, self.column);
                                self.bump();
                                self.bump();
                                let low = self.hex4();
                                if (0xDC00..0xE000).contains(&low) {
                                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                } else {
                                    (self.i, self.line, self.column) = save;
                                }
                            }
                            let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0C),
                        other => out.push(other),
                    }
                }
                _ => {
                    if decode {
                        out.push(c);
                    }
                    self.bump();
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn hex4(&mut self) -> u32 {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|c| (c as char).to_digit(16));
            match digit {
                Some(d) => {
                    code = code * 16 + d;
                    self.bump();
                }
                None => break,
            }
        }
        code
    }

    /// A number or `true`/`false`/`null`.
    fn literal(&mut self) -> Result<(), ParseError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                break;
            }
            self.bump();
        }
        if self.i == start {
            Err(self.error("expected a JSON value"))
        } else {
            Ok(())
        }
    }

    fn document(&mut self) -> Result<(), ParseError> {
        let mut stack: Vec<JsonFrame> = Vec::new();
        self.skip_ws();
        let root = self.index.new_node(self.pos(), (NONE, 0));
        // The node of the next value, when one is expected.
        let mut target: Option<Option<u32>> = Some(root);
        loop {
            if let Some(node) = target.take() {
                self.skip_ws();
                let start = self.i;
                match self.peek() {
                    Some(b'{') => {
                        self.bump();
                        self.skip_ws();
                        if self.peek() == Some(b'}') {
                            self.bump();
                            self.index.set_value(node, start..self.i);
                        } else {
                            stack.push(JsonFrame::Object { node, start });
                            target = Some(self.member(node)?);
                            continue;
                        }
                    }
                    Some(b'[') => {
                        self.bump();
                        self.skip_ws();
                        if self.peek() == Some(b']') {
                            self.bump();
                            self.index.set_value(node, start..self.i);
                        } else {
                            stack.push(JsonFrame::Array { node, start });
                            target = Some(node.and_then(|n| self.index.push_item(n, self.pos())));
                            continue;
                        }
                    }
                    Some(b'"') => {
                        self.string(false)?;
                        self.index.set_value(node, start..self.i);
                    }
                    _ => {
                        self.literal()?;
                        self.index.set_value(node, start..self.i);
                    }
                }
            }
            // After a value.
            self.skip_ws();
            let Some(&top) = stack.last() else {
                return if self.peek().is_none() {
                    Ok(())
                } else {
                    Err(self.error("trailing characters"))
                };
            };
            match (self.peek(), top) {
                (Some(b','), JsonFrame::Object { node, .. }) => {
                    self.bump();
                    target = Some(self.member(node)?);
                }
                (Some(b','), JsonFrame::Array { node, .. }) => {
                    self.bump();
                    self.skip_ws();
                    target = Some(node.and_then(|n| self.index.push_item(n, self.pos())));
                }
                (Some(b'}'), JsonFrame::Object { node, start })
                | (Some(b']'), JsonFrame::Array { node, start }) => {
                    self.bump();
                    stack.pop();
                    self.index.set_value(node, start..self.i);
                }
                _ => return Err(self.error("expected `,` or a closing bracket")),
            }
        }
    }

    /// Read `"key":` of the object `parent`; return the node of its value.
    fn member(&mut self, parent: Option<u32>) -> Result<Option<u32>, ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a key"));
        }
        let at = self.pos();
        let key = self.string(true)?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:`"));
        }
        self.bump();
        let Some(parent) = parent else {
            return Ok(None);
        };
        match self.index.add_key(parent, &key, at) {
            Some(node) => Ok(Some(node)),
            None => Err(ParseError {
                line: at.line,
                column: at.column,
                message: format!("duplicate mapping key: {key}"),
                caught_panic: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::past_node_budget;
    use serde_json::json;

    #[test]
    fn nodes_are_counted_as_the_yaml_reader_counts_them_outside_strings() {
        // 1 (the first value) + `{` 2 + `:` 1 + `[` 2 + `,` 1 + `,` 1 = 8; the string's
        // brackets, commas, colons and escaped quote are not counted.
        let text = br#"{"a": [1, "x,[{:\",", 2]}"#;
        assert_eq!(past_node_budget(text, 8), None);
        let at = past_node_budget(text, 7).unwrap();
        assert_eq!(
            &text[at..at + 3],
            b", 2",
            "stops at the node past the budget"
        );
        assert_eq!(
            past_node_budget(text, 2),
            Some(0),
            "`{{` is a start and an end"
        );
        assert_eq!(past_node_budget(text, 3), Some(4), "the colon");
        // The node count never exceeds the bytes plus one: a shorter text is not scanned.
        assert_eq!(past_node_budget(b"[1,2]", 6), None);
    }

    #[test]
    fn tab_indented_json() {
        let text = "\u{feff}{\n\t\"kind\": \"Secret\",\n\t\"metadata\": {\n\t\t\"name\": \"s\",\n\t\t\"labels\": {\"a/b\": \"é\", \"c~\": \"x\"}\n\t},\n\t\"data\": [1, {\"k\\u00e9y\": null}, \"\\\"]\"],\n\t\"empty\": {}\n}";
        let src = parse_raw(text, true);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        let doc = &src.documents[0];
        assert_eq!(doc.value["metadata"]["labels"]["a/b"], json!("é"));
        assert_eq!(at(doc, ""), (1, 1));
        assert_eq!(at(doc, "/kind"), (2, 2));
        assert_eq!(at(doc, "/metadata/name"), (4, 3));
        assert_eq!(at(doc, "/metadata/labels/a~1b"), (5, 14));
        assert_eq!(at(doc, "/metadata/labels/c~0"), (5, 26));
        assert_eq!(at(doc, "/data/1"), (7, 14));
        assert_eq!(at(doc, "/data/1/kéy"), (7, 15));
        assert_eq!(at(doc, "/data/2"), (7, 34));
        assert_eq!(range(text, doc, "/data/2"), "\"\\\"]\"");
        assert_eq!(range(text, doc, "/metadata/labels/a~1b"), "\"é\"");
        assert_eq!(range(text, doc, "/empty"), "{}");
        let kind = doc.spans.get("/kind").unwrap();
        assert!(text[kind.byte..].starts_with("\"kind\""));
        assert_eq!(doc.spans.get("").unwrap().byte, 3);

        let file = corpus().join("admission-reviews/kyverno/secret-create-dump-test.json");
        if let Ok(text) = std::fs::read_to_string(file) {
            assert!(text.contains("\n\t\t\t\t\"uid\""));
            let src = parse_raw(&text, true);
            assert!(src.errors.is_empty(), "{:?}", src.errors);
            let doc = &src.documents[0];
            assert_eq!(at(doc, "/uid"), (2, 5));
            assert_eq!(at(doc, "/kind/group"), (4, 6));
            let p = doc.spans.get("/object/metadata/name").unwrap();
            assert!(text[p.byte..].starts_with("\"name\""));
        }
    }

    #[test]
    fn json_errors_and_duplicates() {
        let src = parse_raw("{\n  \"a\": 1,\n  \"b\": ,\n}\n", true);
        assert!(src.documents.is_empty());
        assert_eq!(src.errors.len(), 1);
        assert_eq!((src.errors[0].line, src.errors[0].column), (3, 8));
        assert!(!src.errors[0].message.contains("at line"));

        let src = parse_raw("{\"a\": 1,\n \"a\": 2}", true);
        assert!(src.documents.is_empty());
        assert_eq!(src.errors.len(), 1);
        assert_eq!((src.errors[0].line, src.errors[0].column), (2, 2));
        assert!(src.errors[0].message.contains("duplicate"));

        // A `.json` file that holds YAML is read as YAML.
        let src = parse_raw("kind: Pod\n", true);
        assert!(src.errors.is_empty());
        assert_eq!(src.documents[0].value, json!({"kind": "Pod"}));
    }
}
