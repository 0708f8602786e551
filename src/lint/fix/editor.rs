//! The text editor of `flink-lint fix`: the engine's fixes written into a file by editing the
//! YAML text at the nodes the fixes touch. Everything a fix does not change keeps its bytes:
//! comments, key order, quoting, indentation, blank lines, other documents of the file.
//!
//! Each operation (already materialised by the engine against the object, so its parent
//! exists) becomes one text edit, placed with the [`SpanIndex`](crate::lint::source::SpanIndex)
//! of the current text: a new key goes after the last entry of its block mapping at the
//! mapping's indentation, a new list item after the last item at the items' dash column, a
//! replaced value takes the place of the old value's text, a removed entry takes its lines with
//! it. After every edit the edited text is parsed again and the document must read back as
//! exactly the value the operation gives (`json-patch`); if it does not, the nearest enclosing
//! collection is rewritten as a whole (losing only the comments inside it), and if that does
//! not read back either, the file is left as it was and the failure is reported: a file is
//! never written with a value the fix did not mean. The parse that checks an edit is the one
//! the next edit is placed with, and it reads only the edited document's slice of the text:
//! the file is parsed once before and once after, so a file of thousands of documents is
//! fixed in time linear in its size.
//!
//! JSON files have no comments to keep: they are rewritten as pretty JSON (2-space indent, the
//! object's key order) with the fixes applied.

use serde_json::{Map, Value};

use crate::engine::Op;
use crate::flink::pointer::{join, tokens};
use crate::lint::source::{self, SourceFile};

/// The operations for one object of a file: the document it is in (its position among the
/// file's non-empty documents), the pointer prefix of the object in the document (`/items/3`
/// for a List item), and the materialised operations, in order.
#[derive(Debug, Clone)]
pub struct ObjectEdit {
    pub document: usize,
    pub prefix: String,
    pub ops: Vec<Op>,
}

/// Why a file could not be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("document {document}: cannot write {op} {path} into the text: {reason}")]
pub struct EditError {
    /// 1-based document number in the file.
    pub document: usize,
    pub op: &'static str,
    pub path: String,
    pub reason: String,
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Add { .. } => "add",
        Op::Replace { .. } => "replace",
        Op::Remove { .. } => "remove",
    }
}

/// Whether `name`/`text` is read as JSON (as [`source::parse`] reads it).
pub fn is_json_text(name: &str, text: &str) -> bool {
    source::is_json_name(name)
        && text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with(['{', '['])
}

/// Apply `edits` to the text of one file; `appended` objects become new documents at its end.
/// Returns the new text (the same text when nothing changes).
pub fn edit_file(
    name: &str,
    text: &str,
    edits: &[ObjectEdit],
    appended: &[Value],
) -> Result<String, EditError> {
    if is_json_text(name, text) {
        return edit_json(text, edits, appended);
    }
    let mut text = text.to_string();
    if edits.iter().any(|e| !e.ops.is_empty()) {
        let style = Style::of(&text);
        let src = source::parse_owned(text, false);
        text = match by_document(&src, edits, style)? {
            Some(edited) => edited,
            None => whole_file(src, edits, style)?.text,
        };
    }
    for obj in appended {
        text = append_document(&text, obj);
    }
    Ok(text)
}

/// How the file writes what fixes add: its line break and how far block sequences under a key
/// are indented. Read once from the file as given, so every edit writes alike.
#[derive(Debug, Clone, Copy)]
struct Style {
    nl: &'static str,
    seq_extra: usize,
}

impl Style {
    fn of(text: &str) -> Style {
        Style {
            nl: newline(text),
            seq_extra: seq_indent(text),
        }
    }
}

/// The edits written one document at a time, each into its document's own slice of the text
/// (from its root's line to the next document's root line), so that the parse after an edit
/// reads one document, not the file: fixing a file of thousands of documents stays linear.
/// Documents are edited from the last to the first, so the slices before the one being
/// edited keep their offsets. The result is parsed once more as a whole and must read back
/// as every document's fixed value. `Ok(None)` when a slice does not read alone as its
/// document (tags, anchors, directives): then [`whole_file`] edits the file as one.
fn by_document(
    src: &SourceFile,
    edits: &[ObjectEdit],
    style: Style,
) -> Result<Option<String>, EditError> {
    if !src.errors.is_empty() {
        // The first operation reports it (as `whole_file` does).
        return whole_file(src.clone(), edits, style).map(|s| Some(s.text));
    }
    let starts: Option<Vec<usize>> = src
        .documents
        .iter()
        .map(|d| d.spans.get("").map(|p| line_start(&src.text, p.byte)))
        .collect();
    let Some(starts) = starts else {
        return Ok(None);
    };
    if starts.windows(2).any(|w| w[0] >= w[1]) {
        return Ok(None);
    }
    let mut targets: Vec<usize> = edits.iter().map(|e| e.document).collect();
    targets.sort_unstable();
    targets.dedup();
    let mut text = src.text.clone();
    let mut expected: Vec<&Value> = src.documents.iter().map(|d| &d.value).collect();
    let mut fixed: Vec<(usize, Value)> = Vec::new();
    for &document in targets.iter().rev() {
        let (Some(&start), Some(original)) = (starts.get(document), src.documents.get(document))
        else {
            // No such document: the first operation on it says so.
            return whole_file(src.clone(), edits, style).map(|s| Some(s.text));
        };
        let end = starts.get(document + 1).copied().unwrap_or(text.len());
        let mut slice = source::parse_owned(text[start..end].to_string(), false);
        let alone = slice.errors.is_empty()
            && slice.documents.len() == 1
            && slice.documents[0].value == original.value;
        if !alone {
            return Ok(None);
        }
        for edit in edits.iter().filter(|e| e.document == document) {
            for op in &edit.ops {
                slice = edit_op(slice, 0, &edit.prefix, op, style).map_err(|e| EditError {
                    document: document + 1,
                    ..e
                })?;
            }
        }
        text.replace_range(start..end, &slice.text);
        if let Some(d) = slice.documents.into_iter().next() {
            fixed.push((document, d.value));
        }
    }
    for (document, value) in &fixed {
        expected[*document] = value;
    }
    let whole = source::parse(&text, false);
    let reads_back = whole.errors.is_empty()
        && whole.documents.len() == expected.len()
        && whole
            .documents
            .iter()
            .zip(&expected)
            .all(|(d, e)| d.value == **e);
    Ok(reads_back.then_some(text))
}

/// The edits written into the file as a whole: each edit's read-back parse is the parse the
/// next edit is placed with.
fn whole_file(
    mut src: SourceFile,
    edits: &[ObjectEdit],
    style: Style,
) -> Result<SourceFile, EditError> {
    for edit in edits {
        for op in &edit.ops {
            src = edit_op(src, edit.document, &edit.prefix, op, style)?;
        }
    }
    Ok(src)
}

fn edit_json(text: &str, edits: &[ObjectEdit], appended: &[Value]) -> Result<String, EditError> {
    let src = source::parse(text, true);
    let Some(doc) = src.documents.first() else {
        return Ok(text.to_string());
    };
    let mut value = doc.value.clone();
    for edit in edits {
        for op in &edit.ops {
            let op = prefixed(op, &edit.prefix);
            apply_json(&mut value, &op).map_err(|reason| EditError {
                document: 1,
                op: op_name(&op),
                path: op.path().to_string(),
                reason,
            })?;
        }
    }
    if !appended.is_empty() {
        return Err(EditError {
            document: 1,
            op: "add",
            path: String::new(),
            reason: "a JSON file holds one document: write the new objects to a YAML file"
                .to_string(),
        });
    }
    if edits.iter().all(|e| e.ops.is_empty()) {
        return Ok(text.to_string());
    }
    let mut out = serde_json::to_string_pretty(&value).map_err(|e| EditError {
        document: 1,
        op: "replace",
        path: String::new(),
        reason: e.to_string(),
    })?;
    out.push('\n');
    Ok(out)
}

fn prefixed(op: &Op, prefix: &str) -> Op {
    match op {
        Op::Add { path, value } => Op::Add {
            path: format!("{prefix}{path}"),
            value: value.clone(),
        },
        Op::Replace { path, value } => Op::Replace {
            path: format!("{prefix}{path}"),
            value: value.clone(),
        },
        Op::Remove { path } => Op::Remove {
            path: format!("{prefix}{path}"),
        },
    }
}

fn apply_json(value: &mut Value, op: &Op) -> Result<(), String> {
    let patch: json_patch::Patch = serde_json::to_value(std::slice::from_ref(op))
        .and_then(serde_json::from_value)
        .map_err(|e| e.to_string())?;
    json_patch::patch(value, &patch).map_err(|e| e.to_string())
}

/// The non-empty document at position `document` of a parse.
fn doc_of(src: &SourceFile, document: usize) -> Option<&source::Document> {
    src.documents.get(document)
}

/// Apply one operation to the parsed file `src`; the result is the edited file as parsed,
/// its document reading back as the operation's value (that parse is the one the next
/// operation is placed with: the file is not parsed again before it).
fn edit_op(
    src: SourceFile,
    document: usize,
    prefix: &str,
    op: &Op,
    style: Style,
) -> Result<SourceFile, EditError> {
    let op = prefixed(op, prefix);
    let fail = |reason: String| EditError {
        document: document + 1,
        op: op_name(&op),
        path: op.path().to_string(),
        reason,
    };
    if !src.errors.is_empty() {
        return Err(fail("the file does not parse".to_string()));
    }
    let doc = doc_of(&src, document).ok_or_else(|| fail("no such document".to_string()))?;
    let mut expected = doc.value.clone();
    apply_json(&mut expected, &op).map_err(&fail)?;
    if expected == doc.value {
        return Ok(src);
    }
    // The edited text, parsed, if it reads back as the fixed value (and nothing else moved).
    let read_back = |new: String| {
        let s = source::parse_owned(new, false);
        let same = s.errors.is_empty()
            && s.documents.len() == src.documents.len()
            && doc_of(&s, document).is_some_and(|d| d.value == expected);
        same.then_some(s)
    };
    let ed = Editor {
        text: &src.text,
        doc,
        style,
    };
    let mut last = match ed.surgical(&op).map(read_back) {
        Ok(Some(edited)) => return Ok(edited),
        Ok(None) => "the edited text does not read back as the fixed value".to_string(),
        Err(e) => e,
    };
    // Rewrite the nearest enclosing collection (not the object itself) that reads back.
    let toks = tokens(op.path()).unwrap_or_default();
    let root = tokens(prefix).map_or(0, |t| t.len());
    for depth in (root + 1..toks.len()).rev() {
        let at = join(&toks[..depth]);
        let Some(value) = expected.pointer(&at) else {
            continue;
        };
        match ed.replace(&at, value).map(read_back) {
            Ok(Some(edited)) => return Ok(edited),
            Ok(None) => last = format!("rewriting {at} does not read back as the fixed value"),
            Err(e) => last = e,
        }
    }
    Err(fail(last))
}

/// Text edits within one document.
struct Editor<'a> {
    text: &'a str,
    doc: &'a source::Document,
    style: Style,
}

fn parent_of(path: &str) -> (String, String) {
    let toks = tokens(path).unwrap_or_default();
    match toks.split_last() {
        Some((last, parents)) => (join(parents), last.clone()),
        None => (String::new(), String::new()),
    }
}

fn line_start(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1)
}

/// The byte offset of the line break ending the line of `byte` (or the text's end).
fn line_end(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    text[byte..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| byte + i)
}

/// The offset just past the line break at `at` (`\r\n` counts as one).
fn past_break(text: &str, at: usize) -> usize {
    let rest = &text.as_bytes()[at.min(text.len())..];
    match rest {
        [b'\r', b'\n', ..] => at + 2,
        [b'\n', ..] | [b'\r', ..] => at + 1,
        _ => at,
    }
}

fn column(text: &str, byte: usize) -> usize {
    text[line_start(text, byte)..byte].chars().count()
}

/// The line break the file uses.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

fn splice(text: &str, range: std::ops::Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..range.start]);
    out.push_str(with);
    out.push_str(&text[range.end..]);
    out
}

impl Editor<'_> {
    fn value(&self, ptr: &str) -> Option<&Value> {
        self.doc.value.pointer(ptr)
    }

    fn range(&self, ptr: &str) -> Result<std::ops::Range<usize>, String> {
        self.doc
            .spans
            .value_range(ptr)
            .filter(|r| r.start <= r.end && r.end <= self.text.len())
            .ok_or_else(|| format!("no text position for {ptr}"))
    }

    /// Whether the collection at `ptr` is written in flow style. A block list of flow
    /// mappings also starts with `{` (its range starts at its first item): a flow collection's
    /// first entry starts after its bracket.
    fn is_flow(&self, ptr: &str) -> bool {
        let Ok(r) = self.range(ptr) else {
            return false;
        };
        let first = match self.value(ptr) {
            Some(Value::Array(a)) if self.text[r.clone()].starts_with('[') => {
                if a.is_empty() {
                    return true;
                }
                format!("{ptr}/0")
            }
            Some(Value::Object(m)) if self.text[r.clone()].starts_with('{') => {
                match m.keys().next() {
                    None => return true,
                    Some(k) => format!("{ptr}/{}", crate::flink::pointer::escape(k)),
                }
            }
            _ => return false,
        };
        self.doc.spans.get(&first).is_some_and(|p| p.byte > r.start)
    }

    fn nl(&self) -> &'static str {
        self.style.nl
    }

    /// The column of the dash of the list item at `ptr`, and the dash's offset.
    fn dash(&self, ptr: &str) -> Result<(usize, usize), String> {
        let pos = self.doc.spans.get(ptr).map(|p| p.byte);
        // A block scalar's position is its content; its range starts at the `|` header.
        let start = match (pos, self.doc.spans.value_range(ptr)) {
            (Some(p), Some(r)) => p.min(r.start),
            (Some(p), None) => p,
            (None, _) => return Err(format!("no text position for {ptr}")),
        };
        let before = self.text[..start].trim_end_matches([' ', '\t']);
        if !before.ends_with('-') {
            return Err(format!("the item at {ptr} has no dash before it"));
        }
        let dash = before.len() - 1;
        Ok((column(self.text, dash), dash))
    }

    fn surgical(&self, op: &Op) -> Result<String, String> {
        let (parent, last) = parent_of(op.path());
        let Some(parent_value) = self.value(&parent) else {
            return Err(format!("{parent} does not exist"));
        };
        let flow_parent = self.is_flow(&parent);
        match op {
            Op::Replace { path, value } => self.replace(path, value),
            Op::Add { path, value } => match parent_value {
                Value::Object(m) if m.contains_key(&last) => self.replace(path, value),
                Value::Object(m) if flow_parent && !m.is_empty() => {
                    self.flow_append(&parent, &format!("{}: {}", string(&last), flow(value)))
                }
                Value::Object(m) if m.is_empty() => {
                    let mut m = m.clone();
                    m.insert(last, value.clone());
                    self.replace(&parent, &Value::Object(m))
                }
                Value::Object(_) => self.add_key(&parent, &last, value),
                Value::Array(a) => {
                    let at = if last == "-" {
                        a.len()
                    } else {
                        last.parse::<usize>().map_err(|e| e.to_string())?
                    };
                    if flow_parent && !a.is_empty() && at >= a.len() {
                        self.flow_append(&parent, &flow(value))
                    } else if a.is_empty() || flow_parent {
                        let mut a = a.clone();
                        a.insert(at.min(a.len()), value.clone());
                        self.replace(&parent, &Value::Array(a))
                    } else if at >= a.len() {
                        self.append(&parent, a.len(), value)
                    } else {
                        self.insert_before(&parent, at, value)
                    }
                }
                _ => Err(format!("{parent} is not a collection")),
            },
            Op::Remove { path } => match parent_value {
                Value::Object(m) if m.len() == 1 || flow_parent => {
                    let mut m = m.clone();
                    m.remove(&last);
                    self.replace(&parent, &Value::Object(m))
                }
                Value::Array(a) if a.len() == 1 || flow_parent => {
                    let mut a = a.clone();
                    if let Ok(i) = last.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                    self.replace(&parent, &Value::Array(a))
                }
                Value::Object(m) => self.remove_key(&parent, m, &last, path),
                Value::Array(_) => self.remove_item(path),
                _ => Err(format!("{parent} is not a collection")),
            },
        }
    }

    /// Add an entry (`key: value` or an item) at the end of the non-empty flow collection at
    /// `parent`, before its closing bracket: the entries there keep their text.
    fn flow_append(&self, parent: &str, entry: &str) -> Result<String, String> {
        let r = self.range(parent)?;
        let inner = self.text[r.start..r.end]
            .strip_suffix(['}', ']'])
            .ok_or_else(|| format!("{parent} does not end with a bracket"))?;
        let body = inner.trim_end();
        let at = r.start + body.len();
        let sep = if body.ends_with(',') { " " } else { ", " };
        Ok(splice(self.text, at..at, &format!("{sep}{entry}")))
    }

    /// Add `key: value` after the last entry of the block mapping at `parent`.
    fn add_key(&self, parent: &str, key: &str, value: &Value) -> Result<String, String> {
        let Some(Value::Object(m)) = self.value(parent) else {
            return Err(format!("{parent} is not a mapping"));
        };
        let first = m.keys().next().ok_or("empty mapping")?;
        let first_ptr = format!("{parent}/{}", crate::flink::pointer::escape(first));
        let indent = self
            .doc
            .spans
            .get(&first_ptr)
            .map(|p| column(self.text, p.byte))
            .ok_or_else(|| format!("no text position for {first_ptr}"))?;
        let end = self.range(parent)?.end;
        Ok(self.lines_after(end, &entry_lines(key, value, indent, self.style.seq_extra)))
    }

    /// `lines` as new lines after the line that holds byte `end`.
    fn lines_after(&self, end: usize, lines: &[String]) -> String {
        let at = line_end(self.text, end);
        let nl = self.nl();
        splice(self.text, at..at, &format!("{nl}{}", lines.join(nl)))
    }

    /// Append `value` after the last item of the block sequence at `parent`.
    fn append(&self, parent: &str, len: usize, value: &Value) -> Result<String, String> {
        let (dash_col, _) = self.dash(&format!("{parent}/0"))?;
        let end = self
            .range(&format!("{parent}/{}", len - 1))
            .or_else(|_| self.range(parent))?
            .end
            .max(self.range(parent).map_or(0, |r| r.end));
        Ok(self.lines_after(end, &item_lines(value, dash_col, self.style.seq_extra)))
    }

    /// Insert `value` as item `at` of the block sequence at `parent`, before the item there.
    fn insert_before(&self, parent: &str, at: usize, value: &Value) -> Result<String, String> {
        let (dash_col, dash) = self.dash(&format!("{parent}/{at}"))?;
        let ls = line_start(self.text, dash);
        if !self.text[ls..dash].trim().is_empty() {
            return Err(format!("item {at} of {parent} does not start its line"));
        }
        let nl = self.nl();
        let lines = item_lines(value, dash_col, self.style.seq_extra);
        Ok(splice(
            self.text,
            ls..ls,
            &format!("{}{nl}", lines.join(nl)),
        ))
    }

    fn remove_key(
        &self,
        parent: &str,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<String, String> {
        let key_at = self
            .doc
            .spans
            .get(path)
            .map(|p| p.byte)
            .ok_or_else(|| format!("no text position for {path}"))?;
        let end = self.range(path)?.end;
        let ls = line_start(self.text, key_at);
        if self.text[ls..key_at].trim().is_empty() {
            let le = past_break(self.text, line_end(self.text, end));
            return Ok(splice(self.text, ls..le, ""));
        }
        // The first key of a list item (`- key: ...`): the next key moves up behind the dash.
        let mut keys = m.keys();
        let _ = keys.by_ref().find(|k| k.as_str() == key);
        let next = keys.next().ok_or("no key after it")?;
        let next_ptr = format!("{parent}/{}", crate::flink::pointer::escape(next));
        let next_at = self
            .doc
            .spans
            .get(&next_ptr)
            .map(|p| p.byte)
            .filter(|&b| b > end)
            .ok_or_else(|| format!("no text position for {next_ptr}"))?;
        Ok(splice(self.text, key_at..next_at, ""))
    }

    fn remove_item(&self, path: &str) -> Result<String, String> {
        let (_, dash) = self.dash(path)?;
        let end = self.range(path)?.end;
        let ls = line_start(self.text, dash);
        if !self.text[ls..dash].trim().is_empty() {
            return Err(format!("the item at {path} does not start its line"));
        }
        let le = past_break(self.text, line_end(self.text, end));
        Ok(splice(self.text, ls..le, ""))
    }

    /// Replace the value at `ptr` (which exists) with `value`.
    fn replace(&self, ptr: &str, value: &Value) -> Result<String, String> {
        let r = self.range(ptr)?;
        let (parent, _) = parent_of(ptr);
        let in_flow = ptr != parent && self.is_flow(&parent);
        let old = &self.text[r.clone()];
        let non_empty_flow = self.is_flow(ptr) && !matches!(old, "{}" | "[]");
        if in_flow || non_empty_flow {
            return Ok(splice(self.text, r, &flow(value)));
        }
        // A block list's range starts at its first item's value, after the dash: the list
        // itself starts at that dash.
        let r = match self.value(ptr) {
            Some(Value::Array(a)) if !a.is_empty() => match self.dash(&format!("{ptr}/0")) {
                Ok((_, dash)) if dash < r.start => dash..r.end,
                _ => r,
            },
            _ => r,
        };
        let ls = line_start(self.text, r.start);
        let own_line = self.text[ls..r.start].trim().is_empty();
        let parent_is_list = matches!(self.value(&parent), Some(Value::Array(_)));
        let nl = self.nl();
        // Where the value's text may start: right after `key:` or `- ` (skipping the space and
        // line breaks between), so a block value can take its own lines.
        let anchor = {
            let before = self.text[..r.start].trim_end_matches([' ', '\t', '\n', '\r']);
            if !(before.ends_with(':') || before.ends_with('-')) {
                return Err(format!(
                    "the value at {ptr} does not follow a key or a dash"
                ));
            }
            before.len()
        };
        if let Some(inline) = inline(value) {
            return Ok(splice(self.text, anchor..r.end, &format!(" {inline}")));
        }
        // The indentation of the value's own lines.
        let indent = if parent_is_list {
            let (dash_col, _) = self.dash(ptr)?;
            dash_col + 2
        } else {
            let key_col = self
                .doc
                .spans
                .get(ptr)
                .map(|p| column(self.text, p.byte))
                .ok_or_else(|| format!("no text position for {ptr}"))?;
            match value {
                Value::Array(_) => key_col + self.style.seq_extra,
                _ => key_col + 2,
            }
        };
        if let Value::String(s) = value {
            let (header, lines) = literal(s, indent).ok_or("not a literal block")?;
            return Ok(splice(
                self.text,
                anchor..r.end,
                &format!(" {header}{nl}{}", lines.join(nl)),
            ));
        }
        let lines = block_lines(value, indent, self.style.seq_extra);
        if parent_is_list {
            // `- ` then the first line, the rest at the item's indentation.
            if own_line {
                return Err(format!("the item at {ptr} does not follow its dash"));
            }
            let text = lines.join(nl);
            let text = text.get(indent..).unwrap_or(&text).to_string();
            return Ok(splice(self.text, anchor..r.end, &format!(" {text}")));
        }
        Ok(splice(
            self.text,
            anchor..r.end,
            &format!("{nl}{}", lines.join(nl)),
        ))
    }
}

/// How far block sequences under a key are indented beyond it in this text: the first one
/// found decides (`containers:` then `- name` at the same column is 0), else 2.
fn seq_indent(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_end();
        if !t.ends_with(':') || t.trim_start().starts_with('#') || t.trim_start().starts_with('-') {
            continue;
        }
        let next = lines[i + 1..]
            .iter()
            .find(|n| !n.trim().is_empty() && !n.trim_start().starts_with('#'));
        if let Some(n) = next
            && n.trim_start().starts_with("- ")
        {
            return if indent(n) == indent(l) { 0 } else { 2 };
        }
    }
    2
}

/// A value that fits on its line: a scalar (not a multi-line string) or an empty collection.
fn inline(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\n') && literal(s, 2).is_some() => None,
        Value::Array(a) if !a.is_empty() => None,
        Value::Object(m) if !m.is_empty() => None,
        v => Some(flow(v)),
    }
}

/// A scalar in plain style when YAML reads it back as the same string, else JSON-quoted (a
/// JSON string is a valid YAML double-quoted scalar); collections in flow style.
pub fn flow(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", string(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn string(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

/// Whether `s` can be written plain (unquoted) and read back as the same string, in block and
/// in flow context. Conservative: anything that might read as another type is quoted.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if !(first.is_alphanumeric() || matches!(first, '/' | '.' | '_' | '$' | '(')) {
        return false;
    }
    if !s.chars().all(|c| {
        c.is_alphanumeric()
            || matches!(
                c,
                ' ' | '_' | '-' | '.' | '/' | ':' | '=' | '(' | ')' | '$' | '+' | '~'
            )
    }) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", ".nan",
    ];
    if SPECIAL.contains(&lower.as_str()) {
        return false;
    }
    if first.is_ascii_digit() || first == '.' {
        // Numbers in any YAML notation (1.5, 1e3, 0x1F, 0o17, 1_000, 1:30).
        let numeric = s.chars().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(c, '.' | '_' | ':' | 'x' | 'o' | 'X' | 'O' | '+' | '-')
        });
        if numeric || s.parse::<f64>().is_ok() {
            return false;
        }
    }
    true
}

/// A multi-line string as a literal block scalar: the header (`|`, `|-` or `|+`) and the
/// content lines at `indent`; `None` when a literal block cannot hold it exactly.
fn literal(s: &str, indent: usize) -> Option<(String, Vec<String>)> {
    if !s.contains('\n') || s.contains('\r') || s.starts_with([' ', '\t', '\n']) {
        return None;
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    if body.lines().any(|l| !l.is_empty() && l.trim().is_empty()) {
        return None;
    }
    let header = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let pad = " ".repeat(indent);
    let mut lines: Vec<String> = body
        .split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect();
    for _ in 1..trailing {
        lines.push(String::new());
    }
    Some((header.to_string(), lines))
}

/// The lines of `key: value` at `indent`.
fn entry_lines(key: &str, value: &Value, indent: usize, seq_extra: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    let k = string(key);
    if let Some(text) = inline(value) {
        return vec![format!("{pad}{k}: {text}")];
    }
    match value {
        Value::String(s) => match literal(s, indent + 2) {
            Some((header, mut lines)) => {
                lines.insert(0, format!("{pad}{k}: {header}"));
                lines
            }
            None => vec![format!("{pad}{k}: {}", string(s))],
        },
        Value::Array(_) => {
            let mut lines = vec![format!("{pad}{k}:")];
            lines.extend(block_lines(value, indent + seq_extra, seq_extra));
            lines
        }
        _ => {
            let mut lines = vec![format!("{pad}{k}:")];
            lines.extend(block_lines(value, indent + 2, seq_extra));
            lines
        }
    }
}

/// The lines of a list item at dash column `indent`.
fn item_lines(value: &Value, indent: usize, seq_extra: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    if let Some(text) = inline(value) {
        return vec![format!("{pad}- {text}")];
    }
    if let Value::String(s) = value {
        return match literal(s, indent + 2) {
            Some((header, mut lines)) => {
                lines.insert(0, format!("{pad}- {header}"));
                lines
            }
            None => vec![format!("{pad}- {}", string(s))],
        };
    }
    let mut lines = block_lines(value, indent + 2, seq_extra);
    if let Some(first) = lines.first_mut() {
        *first = format!("{pad}- {}", &first[indent + 2..]);
    }
    lines
}

/// The lines of a non-empty collection in block style at `indent`.
fn block_lines(value: &Value, indent: usize, seq_extra: usize) -> Vec<String> {
    match value {
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| entry_lines(k, v, indent, seq_extra))
            .collect(),
        Value::Array(a) => a
            .iter()
            .flat_map(|v| item_lines(v, indent, seq_extra))
            .collect(),
        v => vec![format!("{}{}", " ".repeat(indent), flow(v))],
    }
}

/// `text` with `object` as a new document at its end, in block style.
pub fn append_document(text: &str, object: &Value) -> String {
    let nl = newline(text);
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with(['\n', '\r']) {
        out.push_str(nl);
    }
    out.push_str("---");
    out.push_str(nl);
    out.push_str(&block_lines(object, 0, seq_indent(text)).join(nl));
    out.push_str(nl);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(text: &str, ops: Vec<Op>) -> String {
        edit_file(
            "x.yaml",
            text,
            &[ObjectEdit {
                document: 0,
                prefix: String::new(),
                ops,
            }],
            &[],
        )
        .expect("edits")
    }

    const DEPLOY: &str = "# top\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"jm\"   # quoted\nspec:\n\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: jobmanager\n          image: 'flink:1.20'\n          args: [\"jobmanager\"]\n          # the ports\n          ports:\n            - containerPort: 6123\n              name: rpc\n      volumes: []\n";

    /// The file `text` with `edits`, written as one file (each edit's read-back parse reads
    /// the whole file): what the per-document slices must agree with.
    fn whole(text: &str, edits: &[ObjectEdit]) -> String {
        let src = source::parse(text, false);
        whole_file(src, edits, Style::of(text)).expect("edits").text
    }

    fn replicas(document: usize, prefix: &str, n: i64) -> ObjectEdit {
        ObjectEdit {
            document,
            prefix: prefix.to_string(),
            ops: vec![
                Op::Replace {
                    path: "/spec/replicas".into(),
                    value: json!(n),
                },
                Op::Add {
                    path: "/metadata/labels".into(),
                    value: json!({"app": format!("a{n}")}),
                },
            ],
        }
    }

    #[test]
    fn edits_each_document_in_its_own_slice_as_the_whole_file_would() {
        let text = "# head\r\napiVersion: v1\r\nkind: A\r\nmetadata:\r\n  name: a\r\nspec:\r\n  replicas: 1\r\n---\r\n# empty\r\n---\r\n--- # c\r\napiVersion: v1\r\nkind: List\r\nitems:\r\n- kind: B\r\n  metadata:\r\n    name: b\r\n  spec:\r\n    replicas: 1\r\n---\r\nkind: C\r\nmetadata: {name: c}\r\nspec: {replicas: 1}\r\n...\r\n";
        let edits = [
            replicas(2, "", 4),
            replicas(0, "", 2),
            replicas(1, "/items/0", 3),
        ];
        let src = source::parse(text, false);
        let sliced = by_document(&src, &edits, Style::of(text))
            .expect("edits")
            .expect("every document reads alone");
        assert_eq!(sliced, whole(text, &edits));
        let back = source::parse(&sliced, false);
        let values: Vec<&Value> = back.documents.iter().map(|d| &d.value).collect();
        assert_eq!(values[0]["spec"]["replicas"], json!(2));
        assert_eq!(
            values[1]["items"][0]["metadata"]["labels"]["app"],
            json!("a3")
        );
        assert_eq!(values[2]["metadata"]["labels"], json!({"app": "a4"}));
        assert!(sliced.starts_with("# head\r\n"), "{sliced}");
        assert!(
            sliced.contains("---\r\n# empty\r\n---\r\n--- # c\r\n"),
            "{sliced}"
        );
        assert!(
            !sliced.replace("\r\n", "").contains('\n'),
            "one line break style: {sliced}"
        );
    }

    #[test]
    fn a_document_that_does_not_read_alone_is_edited_in_the_whole_file() {
        // The directive and the tag belong to the stream before the root's line: the root's
        // slice alone reads differently, so the file is edited as a whole.
        let text = "%YAML 1.1\n%TAG !k! tag:example.com,2000:\n---\nkind: A\nmetadata:\n  name: a\nspec:\n  replicas: !k!n 1\n";
        let edits = [replicas(0, "", 5)];
        let src = source::parse(text, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        assert_eq!(
            by_document(&src, &edits, Style::of(text)).expect("no error"),
            None
        );
        let out = edit_file("x.yaml", text, &edits, &[]).expect("edits");
        assert_eq!(out, whole(text, &edits));
        assert!(out.contains("replicas: 5"), "{out}");
    }

    #[test]
    fn an_edit_error_names_the_document_of_the_file_not_of_its_slice() {
        let text = "kind: A\n---\nkind: B\nspec: 3\n";
        let edits = [ObjectEdit {
            document: 1,
            prefix: String::new(),
            ops: vec![Op::Add {
                path: "/spec/replicas".into(),
                value: json!(1),
            }],
        }];
        let err = edit_file("x.yaml", text, &edits, &[]).expect_err("spec is not a mapping");
        assert_eq!(err.document, 2, "{err}");
    }

    #[test]
    fn adds_a_nested_map_at_the_mapping_indentation() {
        let out = edit(
            DEPLOY,
            vec![Op::Add {
                path: "/spec/template/spec/containers/0/securityContext".into(),
                value: json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}),
            }],
        );
        assert!(out.contains("              name: rpc\n          securityContext:\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop:\n                - ALL\n      volumes: []\n"), "{out}");
        assert!(out.starts_with("# top\n"), "{out}");
        assert!(out.contains("  name: \"jm\"   # quoted\n"), "{out}");
        assert!(out.contains("spec:\n\n  replicas: 1\n"), "{out}");
    }

    #[test]
    fn appends_items_to_block_and_flow_lists_and_fills_empty_ones() {
        let out = edit(
            DEPLOY,
            vec![
                Op::Add {
                    path: "/spec/template/spec/containers/0/ports/-".into(),
                    value: json!({"containerPort": 6124, "name": "blob"}),
                },
                Op::Add {
                    path: "/spec/template/spec/containers/0/args/-".into(),
                    value: json!("-Dx=1"),
                },
                Op::Add {
                    path: "/spec/template/spec/volumes/-".into(),
                    value: json!({"name": "log", "emptyDir": {}}),
                },
            ],
        );
        assert!(out.contains("              name: rpc\n            - containerPort: 6124\n              name: blob\n"), "{out}");
        assert!(out.contains("args: [\"jobmanager\", \"-Dx=1\"]"), "{out}");
        assert!(
            out.contains("      volumes:\n        - name: log\n          emptyDir: {}\n"),
            "{out}"
        );
    }

    #[test]
    fn replaces_and_removes_keeping_the_rest() {
        let out = edit(
            DEPLOY,
            vec![
                Op::Replace {
                    path: "/spec/replicas".into(),
                    value: json!(2),
                },
                Op::Remove {
                    path: "/spec/template/spec/containers/0/image".into(),
                },
                Op::Remove {
                    path: "/spec/template/spec/containers/0/name".into(),
                },
            ],
        );
        assert!(out.contains("spec:\n\n  replicas: 2\n"), "{out}");
        assert!(!out.contains("image"), "{out}");
        assert!(
            out.contains("        - args: [\"jobmanager\"]\n          # the ports\n"),
            "{out}"
        );
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n";
        let out = edit(
            text,
            vec![Op::Add {
                path: "/data/log4j-console.properties".into(),
                value: json!("rootLogger.level = INFO\n\nx = y\n"),
            }],
        );
        assert_eq!(
            out,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n  log4j-console.properties: |\n    rootLogger.level = INFO\n\n    x = y\n"
        );
    }

    #[test]
    fn only_the_named_document_changes() {
        let text =
            "a: 1\n---\n# second\nkind: X\napiVersion: v1\nmetadata: {name: nm}\n---\nb: 2\n";
        let out = edit_file(
            "x.yaml",
            text,
            &[ObjectEdit {
                document: 1,
                prefix: String::new(),
                ops: vec![Op::Add {
                    path: "/metadata/labels".into(),
                    value: json!({"app": "flink"}),
                }],
            }],
            &[],
        )
        .expect("edits");
        assert_eq!(
            out,
            "a: 1\n---\n# second\nkind: X\napiVersion: v1\nmetadata: {name: nm, labels: {app: flink}}\n---\nb: 2\n"
        );
    }

    #[test]
    fn strings_that_read_as_other_types_are_quoted() {
        for s in [
            "true", "no", "1.20", "0x1F", "1:30", "", " x", "a: b", "- x", "null", "1e3", "[x]",
        ] {
            assert!(!plain_ok(s), "{s:?}");
        }
        for s in [
            "flink",
            "1Gi",
            "jobmanager",
            "$(POD_IP)",
            "RuntimeDefault",
            "flink:1.20",
            "/opt/flink/conf",
        ] {
            assert!(plain_ok(s), "{s:?}");
        }
    }

    #[test]
    fn json_files_are_rewritten_pretty() {
        let text = "{\"apiVersion\": \"v1\", \"kind\": \"X\", \"spec\": {}}";
        let out = edit_file(
            "x.json",
            text,
            &[ObjectEdit {
                document: 0,
                prefix: String::new(),
                ops: vec![Op::Add {
                    path: "/spec/a".into(),
                    value: json!(1),
                }],
            }],
            &[],
        )
        .expect("edits");
        assert_eq!(
            out,
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"X\",\n  \"spec\": {\n    \"a\": 1\n  }\n}\n"
        );
    }
}

#[cfg(test)]
mod block_lists_of_flow_maps {
    use super::*;

    #[test]
    fn an_item_goes_after_the_last_flow_mapping_item() {
        let text = "apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec:\n  volumes:\n  - {name: flink-logs, emptyDir: {}}\n";
        let out = edit_file(
            "x.yaml",
            text,
            &[ObjectEdit {
                document: 0,
                prefix: String::new(),
                ops: vec![Op::Add {
                    path: "/spec/volumes/-".into(),
                    value: serde_json::json!({"name": "x", "emptyDir": {}}),
                }],
            }],
            &[],
        )
        .expect("edits");
        assert_eq!(
            out,
            "apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec:\n  volumes:\n  - {name: flink-logs, emptyDir: {}}\n  - name: x\n    emptyDir: {}\n"
        );
    }
}
