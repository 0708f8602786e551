//! Reading manifest files: multi-document YAML (or JSON) text in, one `serde_json::Value` per
//! document out, each with a [`SpanIndex`] that maps a JSON pointer to a `line:column`.
//!
//! YAML is read in one pass over the granit-parser event stream (the parser serde-saphyr uses),
//! which gives each document's span index and its value at once, and finds the document
//! boundaries, skips empty documents and recovers after a syntax error at the next `---`.
//! Scalars resolve as serde-saphyr resolves them (tests compare the two on every file of the
//! corpus): YAML 1.1 booleans (`yes`, `on`), integers stay integers, legacy octal
//! (`defaultMode: 0644` is 420, as the API server reads it), `null`/`~`/empty are null, quoted
//! and block scalars are strings. The rare documents the one pass does not resolve itself
//! (tags, aliases and `<<` merge keys, duplicate keys, null keys, non-finite floats, deep
//! nesting) are read again by serde-saphyr, each from its own slice of the text, so its
//! semantics and messages hold for them and one bad document hides neither the documents
//! before it nor the ones after it.
//!
//! Empty documents (nothing, or only comments) and null documents (`~`, `null`, `!!null`) are
//! skipped, as serde-saphyr and kubectl skip them; [`Document::index`] still counts them.
//!
//! JSON files whose first character is `{` or `[` are read with serde_json (so tab-indented
//! JSON is fine) and indexed by a small hand-written scanner; duplicate keys are errors there
//! too. A `.json` file that does not start like JSON is read as YAML, as kubectl does.
//!
//! All byte offsets ([`Pos::byte`], [`SpanIndex::value_range`]) are relative to
//! [`SourceFile::text`], which is the text exactly as given, including a leading UTF-8 BOM if
//! there is one. Lines and columns are 1-based; columns count characters (a tab is one, the BOM
//! is none).

use std::collections::HashMap;
use std::ops::Range;

use crate::flink::pointer;
use serde_json::Value;
use serde_saphyr::granit_parser::{self, Event, Marker, Parser, ScalarStyle, Span, StructureStyle};

/// A 1-based line and 1-based column (columns count characters, not bytes), plus the byte offset into the file text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

impl Pos {
    const START: Pos = Pos {
        line: 1,
        column: 1,
        byte: 0,
    };
}

/// Where each line starts (byte offsets, the first is 0). A line ends at `\n`, `\r\n` or a lone
/// `\r` (old Mac files), as YAML reads line breaks: the one notion of a line that positions and
/// the human renderer share.
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The 1-based line and column (in characters, a leading BOM not counted) of byte `byte` of
/// `text` (clamped to the text, and down to a character boundary), with [`line_starts`]'s
/// line breaks.
pub fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let mut byte = byte.min(text.len());
    while byte > 0 && !text.is_char_boundary(byte) {
        byte -= 1;
    }
    let starts = line_starts(text);
    let line = starts.partition_point(|&s| s <= byte).max(1);
    let start = starts.get(line - 1).copied().unwrap_or(0);
    let mut column = text[start..byte].chars().count() + 1;
    if start == 0 && text.starts_with('\u{feff}') && byte > 0 {
        column -= 1;
    }
    (line, column)
}

/// Mappings with more keys than this, and sequences with more items, get a side index.
const LINEAR_KEYS: u32 = 12;

/// A position as stored in the index: 12 bytes instead of 24. Values past `u32::MAX`
/// (a file over 4 GiB) saturate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    line: u32,
    column: u32,
    byte: u32,
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Packed {
    fn of(p: Pos) -> Packed {
        Packed {
            line: to_u32(p.line),
            column: to_u32(p.column),
            byte: to_u32(p.byte),
        }
    }

    fn pos(self) -> Pos {
        Pos {
            line: self.line as usize,
            column: self.column as usize,
            byte: self.byte as usize,
        }
    }
}

/// No node, no key, no range.
const NONE: u32 = u32::MAX;

/// One node: 36 bytes and no allocation of its own. A collection's children are a linked list
/// (`first_child`, then `next`), in document order; a mapping's children have keys, whose text
/// lives in [`SpanIndex::keys`].
#[derive(Debug, Clone)]
struct Node {
    pos: Packed,
    /// Byte range of the value; `(NONE, NONE)` when unknown.
    value: (u32, u32),
    /// The key's text in [`SpanIndex::keys`] (start, length); `(NONE, 0)` for a sequence item
    /// or the root.
    key: (u32, u32),
    first_child: u32,
    next: u32,
}

const NO_RANGE: (u32, u32) = (NONE, NONE);
const _: () = assert!(std::mem::size_of::<Node>() == 36);

/// Where each node of one document sits.
///
/// A tree of nodes (node 0 is the root), so that a lookup only compares pointer segments and a
/// missing pointer stops at its nearest existing parent on the way down. Kept small, since it
/// lives as long as the run: packed positions, children as linked lists, the keys in one
/// string, and hash indexes only for the rare large collections.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    nodes: Vec<Node>,
    /// The text of every key, one after the other.
    keys: String,
    /// Mappings of more than [`LINEAR_KEYS`] keys: key -> node.
    large_maps: HashMap<u32, HashMap<Box<str>, u32>>,
    /// Sequences of more than [`LINEAR_KEYS`] items: the items.
    large_seqs: HashMap<u32, Vec<u32>>,
    /// While building: each collection's last child and number of children (emptied by
    /// [`SpanIndex::shrink`]).
    tails: Vec<(u32, u32)>,
}

impl SpanIndex {
    /// Position of the node at `pointer` (RFC 6901, "" = the document root). For a mapping entry this is the position of its KEY
    /// (so `/spec/replicas` points at `replicas:`), for a sequence item the start of the item, for the root the start of the root node.
    /// If the pointer does not exist, the position of its nearest existing parent (walk up segment by segment).
    pub fn locate(&self, pointer: &str) -> Pos {
        let (node, _) = self.walk(pointer);
        node.and_then(|n| self.nodes.get(n))
            .map_or(Pos::START, |n| n.pos.pos())
    }

    /// Exact lookup: Some only if the node exists.
    pub fn get(&self, pointer: &str) -> Option<Pos> {
        self.exact(pointer).map(|n| n.pos.pos())
    }

    /// Byte range of the node's VALUE (scalar text, or whole block collection) if known; used later for text-edit fixes.
    ///
    /// Quoted scalars include their quotes, block scalars start at their `|`/`>` header and end
    /// with their last non-blank line, block collections run from their first entry to the end
    /// of their last value, flow collections include their brackets. An alias is the `*name`
    /// text; keys merged in with `<<` have no range.
    pub fn value_range(&self, pointer: &str) -> Option<Range<usize>> {
        self.exact(pointer)
            .filter(|n| n.value != NO_RANGE)
            .map(|n| n.value.0 as usize..n.value.1 as usize)
    }

    fn exact(&self, pointer: &str) -> Option<&Node> {
        match self.walk(pointer) {
            (Some(n), true) => self.nodes.get(n),
            _ => None,
        }
    }

    /// The deepest node on the way to `pointer`, and whether it is the node itself.
    fn walk(&self, pointer: &str) -> (Option<usize>, bool) {
        if self.nodes.is_empty() {
            return (None, false);
        }
        let Some(segments) = pointer::raw_tokens(pointer) else {
            return (Some(0), false);
        };
        let mut current = 0u32;
        for segment in segments {
            let Some(node) = self.nodes.get(current as usize) else {
                return (None, false);
            };
            let first = node.first_child;
            let is_seq = self
                .nodes
                .get(first as usize)
                .is_some_and(|c| c.key.0 == NONE);
            let next = if is_seq {
                pointer::list_index(segment).and_then(|i| self.item(current, i))
            } else {
                self.find_key(current, &pointer::unescape(segment))
            };
            match next {
                Some(n) => current = n,
                None => return (Some(current as usize), false),
            }
        }
        (Some(current as usize), true)
    }

    fn children(&self, parent: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self
            .nodes
            .get(parent as usize)
            .map_or(NONE, |n| n.first_child);
        std::iter::successors(Some(first).filter(|&c| c != NONE), move |&c| {
            self.nodes
                .get(c as usize)
                .map(|n| n.next)
                .filter(|&n| n != NONE)
        })
    }

    /// Item `i` of the sequence `parent`.
    fn item(&self, parent: u32, i: usize) -> Option<u32> {
        match self.large_seqs.get(&parent) {
            Some(items) => items.get(i).copied(),
            None => self.children(parent).nth(i),
        }
    }

    fn key_text(&self, node: &Node) -> &str {
        let (start, len) = node.key;
        if start == NONE {
            return "";
        }
        self.keys
            .get(start as usize..start as usize + len as usize)
            .unwrap_or("")
    }

    fn find_key(&self, parent: u32, key: &str) -> Option<u32> {
        if let Some(map) = self.large_maps.get(&parent) {
            return map.get(key).copied();
        }
        self.children(parent).find(|&c| {
            self.nodes
                .get(c as usize)
                .is_some_and(|n| n.key.0 != NONE && self.key_text(n) == key)
        })
    }

    fn new_node(&mut self, pos: Pos, key: (u32, u32)) -> Option<u32> {
        let id = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&id| id != NONE)?;
        self.nodes.push(Node {
            pos: Packed::of(pos),
            value: NO_RANGE,
            key,
            first_child: NONE,
            next: NONE,
        });
        self.tails.push((NONE, 0));
        Some(id)
    }

    /// Link the new node `child` as the last child of `parent`; the number of children now.
    fn link(&mut self, parent: u32, child: u32) -> u32 {
        let Some(&(last, count)) = self.tails.get(parent as usize) else {
            return 0;
        };
        if last == NONE {
            if let Some(p) = self.nodes.get_mut(parent as usize) {
                p.first_child = child;
            }
        } else if let Some(l) = self.nodes.get_mut(last as usize) {
            l.next = child;
        }
        if let Some(t) = self.tails.get_mut(parent as usize) {
            *t = (child, count + 1);
        }
        count + 1
    }

    /// Append an item to the sequence `parent`.
    fn push_item(&mut self, parent: u32, pos: Pos) -> Option<u32> {
        let id = self.new_node(pos, (NONE, 0))?;
        let count = self.link(parent, id);
        if count > LINEAR_KEYS {
            let items = match self.large_seqs.remove(&parent) {
                Some(mut items) => {
                    items.push(id);
                    items
                }
                None => self.children(parent).collect(),
            };
            self.large_seqs.insert(parent, items);
        }
        Some(id)
    }

    /// Add the key `key` to the mapping `parent`; `None` if it is already there.
    fn add_key(&mut self, parent: u32, key: &str, pos: Pos) -> Option<u32> {
        if parent as usize >= self.nodes.len() || self.find_key(parent, key).is_some() {
            return None;
        }
        let start = u32::try_from(self.keys.len()).ok().filter(|&s| s != NONE)?;
        let len = u32::try_from(key.len()).ok()?;
        self.keys.push_str(key);
        let id = self.new_node(pos, (start, len))?;
        let count = self.link(parent, id);
        if count > LINEAR_KEYS {
            match self.large_maps.get_mut(&parent) {
                Some(map) => {
                    map.insert(key.into(), id);
                }
                None => {
                    let map = self
                        .children(parent)
                        .filter_map(|c| {
                            let n = self.nodes.get(c as usize)?;
                            Some((Box::from(self.key_text(n)), c))
                        })
                        .collect();
                    self.large_maps.insert(parent, map);
                }
            }
        }
        Some(id)
    }

    /// The keys of a mapping node.
    fn keys_of(&self, node: u32) -> Vec<String> {
        self.children(node)
            .filter_map(|c| self.nodes.get(c as usize))
            .filter(|n| n.key.0 != NONE)
            .map(|n| self.key_text(n).to_string())
            .collect()
    }

    fn set_value(&mut self, node: Option<u32>, range: Range<usize>) {
        if let Some(n) = node.and_then(|n| self.nodes.get_mut(n as usize)) {
            n.value = match (u32::try_from(range.start), u32::try_from(range.end)) {
                (Ok(a), Ok(b)) if a != NONE && b != NONE => (a, b),
                _ => NO_RANGE,
            };
        }
    }

    /// Give back the memory reserved for growth, once the document is read.
    fn shrink(&mut self) {
        self.nodes.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.tails = Vec::new();
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    pub value: serde_json::Value,
    pub spans: SpanIndex,
    /// 0-based document number in the file (empty documents count).
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The text as given (a leading BOM included): every byte offset refers to it.
    pub text: String,
    pub documents: Vec<Document>,
    pub errors: Vec<ParseError>,
}

/// Parse a whole file. `is_json` is true for *.json files. Never panics on any input.
pub fn parse(text: &str, is_json: bool) -> SourceFile {
    parse_owned(text.to_string(), is_json)
}

/// [`parse`], keeping `text` as the file's text without a copy.
pub fn parse_owned(text: String, is_json: bool) -> SourceFile {
    let (documents, errors) = parse_parts(&text, is_json);
    SourceFile {
        text,
        documents,
        errors,
    }
}

/// The documents and errors of `text` (what [`parse`] returns besides the text).
pub fn parse_parts(text: &str, is_json: bool) -> (Vec<Document>, Vec<ParseError>) {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let looks_like_json = body
        .trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with(['{', '[']);
    // The parsers are not expected to panic; if one does anyway, report it instead of taking
    // the whole run down.
    let parsed = std::panic::catch_unwind(|| {
        if is_json && looks_like_json {
            parse_json(text)
        } else {
            parse_yaml(text)
        }
    });
    parsed.unwrap_or_else(|_| {
        (
            Vec::new(),
            vec![ParseError {
                line: 1,
                column: 1,
                message: "internal error: the parser failed on this file".to_string(),
            }],
        )
    })
}

/// The first line of a message, cut before its first ` at line L, column C` (serde-saphyr) or
/// ` at line L column C` (serde_json): the position is reported separately, and positions
/// inside serde-saphyr's messages are relative to the document, not the file.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    let cut = first
        .match_indices(" at line ")
        .find(|(i, m)| starts_with_line_column(&first[i + m.len()..]))
        .map_or(first, |(i, _)| &first[..i]);
    if cut.is_empty() {
        "invalid YAML".to_string()
    } else {
        cut.to_string()
    }
}

/// `L, column C...` or `L column C...`.
fn starts_with_line_column(s: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(s);
    if n == 0 {
        return false;
    }
    let rest = &s[n..];
    let rest = rest
        .strip_prefix(", column ")
        .or_else(|| rest.strip_prefix(" column "));
    rest.is_some_and(|r| digits(r) > 0)
}

// ---------------------------------------------------------------------------------------------
// YAML

type Parsed = (Vec<Document>, Vec<ParseError>);

/// How many nodes aliases may expand to in one file, all documents together (serde-saphyr's own
/// limit, of the same size, applies per document).
const MAX_REPLAYED_EVENTS: u64 = 1_000_000;

/// Documents with more events or bytes than this are left to serde-saphyr and its budget.
const MAX_BUILT_EVENTS: u64 = 1_000_000;
const MAX_BUILT_BYTES: usize = 32 * 1024 * 1024;

fn saphyr_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // 10 000 documents in one file is legitimate (the default allows 1 024), and so is a 2 MB
    // document. These budgets apply to the whole stream, or to one document when documents are
    // read one by one.
    budget.max_documents = 1_000_000;
    budget.max_events = 50_000_000;
    budget.max_nodes = 10_000_000;
    // The API server takes any number of aliases to one anchor (a shared label block, a
    // shared env list); serde-saphyr's alias-to-anchor ratio heuristic refuses 100 of them.
    // What an alias costs is bounded instead by what it expands to: our own replay count per
    // file (MAX_REPLAYED_EVENTS, refused with the document's position) and serde-saphyr's
    // replay and anchor-copy limits.
    budget.enforce_alias_anchor_ratio = false;
    // `max_depth` stays at its default (64): serde-saphyr recurses per level with large frames
    // (about 20 KiB a level in an unoptimised build, so 100 levels overflow a 2 MiB test thread),
    // and the deepest real manifests (CRD schemas) nest under 40 levels.
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options.emit_comments = false;
    // `defaultMode: 0644` is 420 for the API server (YAML 1.1), not 644.0.
    options.legacy_octal_numbers = true;
    options
}

fn granit_options() -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    options
}

/// Where a document's own text starts (the end of the previous document, or a recovery point).
#[derive(Debug, Clone, Copy)]
struct SliceStart {
    byte: usize,
    line: usize,
    column: usize,
}

impl SliceStart {
    fn at(p: Pos) -> Self {
        SliceStart {
            byte: p.byte,
            line: p.line,
            column: p.column,
        }
    }
}

/// The document being read.
struct DocState {
    index: usize,
    start: SliceStart,
    builder: Builder,
    /// The document has a root node.
    root: bool,
    /// Empty, or only a null (`~`, `null`, `!!null`): skipped, as serde-saphyr and kubectl do.
    null: bool,
}

/// A syntactically valid, non-empty document waiting for its value.
struct Pending {
    index: usize,
    start: SliceStart,
    end: usize,
    spans: SpanIndex,
    /// The value built from the events, `None` when serde-saphyr must read the document.
    value: Option<Value>,
}

/// A root that makes the document count as empty.
fn is_null_root(event: &Event<'_>) -> bool {
    match event {
        Event::Scalar(value, style, _, tag) => match tag {
            Some(tag) => tag.is_yaml_core_schema_tag("null"),
            None => {
                *style == ScalarStyle::Plain
                    && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL")
            }
        },
        _ => false,
    }
}

fn parse_yaml(text: &str) -> Parsed {
    parse_yaml_with(text, true)
}

/// [`parse_yaml`]; with `one_pass` false every document's value comes from serde-saphyr (the
/// reference the one pass is compared with in tests).
fn parse_yaml_with(text: &str, one_pass: bool) -> Parsed {
    let mut errors = Vec::new();
    let mut pending = Vec::new();
    let mut parser = Parser::new_from_str_with_options(text, granit_options());
    let mut next_start = SliceStart::at(Pos::START);
    let mut after_recovery = false;
    let mut doc: Option<DocState> = None;
    let mut doc_count = 0usize;
    let mut last_error_byte: Option<usize> = None;
    let mut replay_budget = MAX_REPLAYED_EVENTS;

    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(item)) => item,
            Some(Err(e)) => {
                let m = e.marker();
                let byte = marker_byte(text, m);
                let info = e.info();
                errors.push(ParseError {
                    line: m.line().max(1),
                    column: m.col() + 1,
                    message: clean_message(if info.is_empty() {
                        "invalid YAML"
                    } else {
                        &info
                    }),
                });
                if doc.take().is_none() {
                    // The error came before the document started (for example in a directive):
                    // it still occupies a place in the stream.
                    doc_count += 1;
                }
                if last_error_byte == Some(byte) {
                    break; // no progress: do not loop forever
                }
                last_error_byte = Some(byte);
                match parser.proceed_next_document() {
                    Ok(true) => {
                        after_recovery = true;
                        continue;
                    }
                    _ => break,
                }
            }
        };
        match event {
            Event::DocumentStart(..) => {
                let start = if after_recovery {
                    SliceStart::at(pos(text, &span.start))
                } else {
                    next_start
                };
                after_recovery = false;
                doc = Some(DocState {
                    index: doc_count,
                    start,
                    builder: Builder::default(),
                    root: false,
                    null: false,
                });
                doc_count += 1;
            }
            Event::DocumentEnd => {
                let end = pos(text, &span.end);
                next_start = SliceStart::at(end);
                let Some(d) = doc.take() else { continue };
                if !d.root || d.null {
                    continue;
                }
                if d.builder.replayed > replay_budget {
                    // An alias bomb: refuse before serde-saphyr spends its own (per document)
                    // budget on it, so that the whole file stays cheap.
                    let at = d.builder.index.get("").unwrap_or(Pos::START);
                    errors.push(ParseError {
                        line: at.line,
                        column: at.column,
                        message: format!(
                            "aliases expand to too many nodes (more than {MAX_REPLAYED_EVENTS} in one file)"
                        ),
                    });
                    replay_budget = 0;
                    continue;
                }
                replay_budget -= d.builder.replayed;
                let huge = d.builder.events > MAX_BUILT_EVENTS
                    || end.byte.saturating_sub(d.start.byte) > MAX_BUILT_BYTES;
                let (spans, value) = d.builder.finish();
                pending.push(Pending {
                    index: d.index,
                    start: d.start,
                    end: end.byte,
                    spans,
                    value: value.filter(|_| one_pass && !huge),
                });
            }
            Event::StreamStart | Event::StreamEnd => {}
            event => {
                let Some(d) = doc.as_mut() else { continue };
                if !d.root {
                    d.root = true;
                    d.null = is_null_root(&event);
                }
                if !d.null {
                    d.builder.event(text, &event, &span);
                }
            }
        }
    }

    let options = saphyr_options();
    let mut documents = Vec::with_capacity(pending.len());
    for p in pending {
        let value = match p.value {
            Some(value) => Ok(value),
            // What the one pass left to serde-saphyr: this document alone, from its own slice
            // of the text, so that an error stays in its document and is placed exactly.
            None => document_value(text, &p, &options),
        };
        match value {
            Ok(value) => documents.push(Document {
                value,
                spans: p.spans,
                index: p.index,
            }),
            Err(e) => errors.push(e),
        }
    }
    errors.sort_by_key(|e| (e.line, e.column));
    (documents, errors)
}

/// serde-saphyr's value for one document, read from its own slice of the text.
fn document_value(
    text: &str,
    p: &Pending,
    options: &serde_saphyr::Options,
) -> Result<Value, ParseError> {
    let slice = text.get(p.start.byte..p.end).unwrap_or("");
    serde_saphyr::from_str_with_options::<Value>(slice, options.clone()).map_err(|e| {
        // serde-saphyr's positions are relative to the slice.
        let (line, column) = match e.location() {
            Some(loc) if loc.line() > 0 => {
                let l = usize::try_from(loc.line()).unwrap_or(1);
                let c = usize::try_from(loc.column()).unwrap_or(1).max(1);
                if l == 1 {
                    (p.start.line, p.start.column + c - 1)
                } else {
                    (p.start.line + l - 1, c)
                }
            }
            _ => {
                let root = p.spans.get("").unwrap_or(Pos::START);
                (root.line, root.column)
            }
        };
        ParseError {
            line,
            column,
            message: saphyr_message(&e),
        }
    })
}

/// serde-saphyr's message, without position and without advice meant for the programmer.
fn saphyr_message(e: &serde_saphyr::Error) -> String {
    let message = clean_message(&e.without_snippet().to_string());
    match message.find(", set DuplicateKeyPolicy") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}

fn marker_byte(text: &str, m: &Marker) -> usize {
    match m.byte_offset() {
        Some(b) => b,
        // Not reached for string input (granit always knows byte offsets there); slow but correct.
        None => text
            .char_indices()
            .nth(m.index())
            .map_or(text.len(), |(b, _)| b),
    }
}

fn pos(text: &str, m: &Marker) -> Pos {
    Pos {
        line: m.line().max(1),
        column: m.col() + 1,
        byte: marker_byte(text, m),
    }
}

/// Where the value of the node currently being read goes.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// `None` when not indexed (inside a complex key, or the value of a duplicate key).
    node: Option<u32>,
    /// The value of a `<<` merge key.
    merge: bool,
}

#[derive(Debug)]
enum FrameKind {
    Map {
        /// `None` while a key is expected, else where the value goes.
        slot: Option<Slot>,
        /// Anchored mappings merged in with `<<`, and where their alias is.
        merges: Vec<(u32, Pos)>,
    },
    Seq {
        merge: bool,
    },
}

#[derive(Debug)]
struct Frame {
    node: Option<u32>,
    start: usize,
    last_end: Option<usize>,
    flow: bool,
    anchor: usize,
    /// This collection is a mapping key.
    is_key: bool,
    /// `Builder::events` before this collection started.
    events_before: u64,
    kind: FrameKind,
}

enum Role {
    Key,
    Value(Slot),
}

/// Builds the span index of one document from its events.
#[derive(Debug, Default)]
struct Builder {
    index: SpanIndex,
    stack: Vec<Frame>,
    /// Node of each anchored collection, by anchor id (for `<<` merges).
    anchors: HashMap<usize, u32>,
    /// End of the previous event (to find block scalar headers).
    prev_end: usize,
    /// Events the document expands to, every alias counting as the events it replays.
    events: u64,
    /// Events replayed by aliases.
    replayed: u64,
    /// Expanded size (in events) of each anchored node, by anchor id.
    anchor_sizes: HashMap<usize, u64>,
    /// The document's value, from the same events.
    values: ValueBuilder,
}

impl Builder {
    /// The finished index, compacted, and the value if the one pass could build it.
    fn finish(self) -> (SpanIndex, Option<Value>) {
        let mut index = self.index;
        index.shrink();
        (index, self.values.finish())
    }

    fn event(&mut self, text: &str, event: &Event<'_>, span: &Span) {
        let start = pos(text, &span.start);
        let end = marker_byte(text, &span.end);
        let events_before = self.events;
        self.values.event(event);
        match event {
            Event::Scalar(_, _, anchor, _) => {
                self.events = self.events.saturating_add(1);
                if *anchor != 0 {
                    self.anchor_sizes.insert(*anchor, 1);
                }
            }
            Event::Alias(id) => {
                let size = self.anchor_sizes.get(id).copied().unwrap_or(1);
                self.events = self.events.saturating_add(size);
                self.replayed = self.replayed.saturating_add(size);
            }
            _ => self.events = self.events.saturating_add(1),
        }
        match event {
            Event::Scalar(value, style, _, _) => match self.role(start) {
                Role::Key => self.key(Some(value), *style, start),
                Role::Value(slot) => {
                    let range = match style {
                        ScalarStyle::Literal | ScalarStyle::Folded => {
                            block_scalar_range(text, self.prev_end, start.byte, end)
                        }
                        _ => start.byte..end,
                    };
                    self.value_done(slot.node, range);
                }
            },
            Event::Alias(id) => match self.role(start) {
                Role::Key => self.key(None, ScalarStyle::Plain, start),
                Role::Value(slot) => {
                    if slot.merge {
                        self.merge_alias(*id, start);
                    }
                    self.value_done(slot.node, start.byte..end);
                }
            },
            Event::SequenceStart(style, anchor, _) | Event::MappingStart(style, anchor, _) => {
                let (slot, is_key) = match self.role(start) {
                    Role::Key => (Slot::default(), true),
                    Role::Value(slot) => (slot, false),
                };
                let kind = if matches!(event, Event::MappingStart(..)) {
                    FrameKind::Map {
                        slot: None,
                        merges: Vec::new(),
                    }
                } else {
                    FrameKind::Seq { merge: slot.merge }
                };
                self.stack.push(Frame {
                    node: slot.node,
                    start: start.byte,
                    last_end: None,
                    flow: *style == StructureStyle::Flow,
                    anchor: *anchor,
                    is_key,
                    events_before,
                    kind,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    self.collection_done(frame, end);
                }
            }
            _ => {}
        }
        self.prev_end = end;
    }

    /// Decide what the node starting at `start` is, and index it if it is a value.
    fn role(&mut self, start: Pos) -> Role {
        let Some(top) = self.stack.last_mut() else {
            let node = if self.index.nodes.is_empty() {
                self.index.new_node(start, (NONE, 0))
            } else {
                None
            };
            return Role::Value(Slot { node, merge: false });
        };
        match &mut top.kind {
            FrameKind::Map { slot, .. } => match slot.take() {
                None => Role::Key,
                Some(slot) => Role::Value(slot),
            },
            FrameKind::Seq { merge } => {
                let merge = *merge;
                let node = top.node.and_then(|p| self.index.push_item(p, start));
                Role::Value(Slot { node, merge })
            }
        }
    }

    /// A scalar key (`None`: an alias used as a key, not indexed).
    fn key(&mut self, key: Option<&str>, style: ScalarStyle, start: Pos) {
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        let FrameKind::Map { slot, .. } = &mut top.kind else {
            return;
        };
        let new_slot = match (top.node, key) {
            // A duplicate key is not indexed again (serde-saphyr rejects the document).
            (Some(parent), Some(key)) => Slot {
                node: self.index.add_key(parent, key, start),
                merge: key == "<<" && style == ScalarStyle::Plain,
            },
            _ => Slot::default(),
        };
        *slot = Some(new_slot);
    }

    /// `<<: *anchor` (or an alias inside `<<: [...]`): the anchored mapping's keys join the
    /// innermost mapping, placed at the alias.
    fn merge_alias(&mut self, id: usize, at: Pos) {
        let Some(&source) = self.anchors.get(&id) else {
            return;
        };
        let target = self
            .stack
            .iter_mut()
            .rev()
            .find(|f| matches!(f.kind, FrameKind::Map { .. }));
        if let Some(Frame {
            kind: FrameKind::Map { merges, .. },
            ..
        }) = target
        {
            merges.push((source, at));
        }
    }

    fn collection_done(&mut self, frame: Frame, end: usize) {
        if frame.anchor != 0 {
            let size = self.events.saturating_sub(frame.events_before);
            self.anchor_sizes.insert(frame.anchor, size);
        }
        if let (FrameKind::Map { merges, .. }, Some(node)) = (&frame.kind, frame.node) {
            // Explicit keys win over merged ones, earlier merges over later ones.
            for &(source, at) in merges {
                for key in self.index.keys_of(source) {
                    self.index.add_key(node, &key, at);
                }
            }
        }
        if let (true, Some(node)) = (frame.anchor != 0, frame.node) {
            self.anchors.insert(frame.anchor, node);
        }
        if frame.is_key {
            if let Some(Frame {
                kind: FrameKind::Map { slot, .. },
                ..
            }) = self.stack.last_mut()
            {
                *slot = Some(Slot::default());
            }
            return;
        }
        let value_end = if frame.flow {
            end
        } else {
            frame.last_end.unwrap_or(end)
        };
        self.value_done(frame.node, frame.start..value_end);
    }

    fn value_done(&mut self, node: Option<u32>, range: Range<usize>) {
        let end = range.end;
        self.index.set_value(node, range);
        if let Some(parent) = self.stack.last_mut() {
            parent.last_end = Some(end);
        }
    }
}

/// A block scalar's range: from its `|`/`>` header (granit's span starts at the content) to the
/// end of its last non-blank line (not the line break, trailing blank lines or the next line's
/// indentation that granit's span includes).
fn block_scalar_range(text: &str, from: usize, content: usize, end: usize) -> Range<usize> {
    let bytes = text.as_bytes();
    let mut start = content;
    let mut i = from;
    while i < content && i < bytes.len() {
        match bytes[i] {
            b'|' | b'>' => {
                start = i;
                break;
            }
            b'#' => {
                while i < content && i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'&' | b'!' => {
                while i < content && i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' | b':' | b'-' | b'?' => i += 1,
            _ => break,
        }
    }
    let mut end = end.max(start);
    while end > start && matches!(bytes.get(end - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        end -= 1;
    }
    start..end
}

// ---------------------------------------------------------------------------------------------
// YAML values, from the same events as the span index

/// Documents nested deeper than this are left to serde-saphyr (which refuses past 64 levels).
const MAX_BUILT_DEPTH: usize = 60;

/// A collection being read.
#[derive(Debug)]
enum Partial {
    /// Entries so far, and the key waiting for its value.
    Map(Vec<(String, Value)>, Option<String>),
    Seq(Vec<Value>),
}

/// Builds a document's `serde_json::Value` from its events, resolving scalars as serde-saphyr
/// does with [`saphyr_options`] (and as the API server reads YAML): plain scalars are null, YAML
/// 1.1 booleans, integers (`0x`, `0o`, `0b`, legacy octal `0644`, `_` between digits), floats,
/// else strings; quoted and block scalars are strings.
///
/// What it does not resolve itself it gives up on (`failed`), and the document is then read by
/// serde-saphyr from its own slice of the text: tags, aliases, `<<` merge keys, null-like or
/// collection keys, duplicate keys, non-finite floats, deep nesting. These are rare in
/// manifests, and serde-saphyr's semantics and messages for them stay exactly as they were.
#[derive(Debug, Default)]
struct ValueBuilder {
    stack: Vec<Partial>,
    root: Option<Value>,
    failed: bool,
}

impl ValueBuilder {
    fn event(&mut self, event: &Event<'_>) {
        if self.failed {
            return;
        }
        let ok = match event {
            Event::Scalar(text, style, _, None) => self.scalar(text, *style),
            Event::MappingStart(_, _, None) if self.expects_value() => {
                self.stack.push(Partial::Map(Vec::new(), None));
                self.stack.len() <= MAX_BUILT_DEPTH
            }
            Event::SequenceStart(_, _, None) if self.expects_value() => {
                self.stack.push(Partial::Seq(Vec::new()));
                self.stack.len() <= MAX_BUILT_DEPTH
            }
            Event::MappingEnd => match self.stack.pop() {
                Some(Partial::Map(entries, None)) => {
                    let n = entries.len();
                    let map: serde_json::Map<String, Value> = entries.into_iter().collect();
                    // Fewer entries than keys: a duplicate key.
                    map.len() == n && self.value(Value::Object(map))
                }
                _ => false,
            },
            Event::SequenceEnd => match self.stack.pop() {
                Some(Partial::Seq(mut items)) => {
                    items.shrink_to_fit();
                    self.value(Value::Array(items))
                }
                _ => false,
            },
            // Tags, aliases, collection keys.
            _ => false,
        };
        if !ok {
            self.fail();
        }
    }

    fn fail(&mut self) {
        self.failed = true;
        self.stack = Vec::new();
        self.root = None;
    }

    /// The next node is a value, not a mapping key.
    fn expects_value(&self) -> bool {
        !matches!(self.stack.last(), Some(Partial::Map(_, None)))
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle) -> bool {
        let plain = style == ScalarStyle::Plain;
        if let Some(Partial::Map(_, key @ None)) = self.stack.last_mut() {
            // serde-saphyr refuses a null key for a JSON object and merges `<<`; it compares
            // plain integer keys by value (`1` and `0x1` are the same key), so only integer
            // keys in their canonical spelling stay here, where keys compare by their text.
            if (plain && (is_nullish(text) || !canonical_if_integer(text))) || text == "<<" {
                return false;
            }
            *key = Some(text.to_string());
            return true;
        }
        let value = if plain {
            match resolve_plain(text) {
                Some(v) => v,
                None => return false,
            }
        } else {
            Value::String(text.to_string())
        };
        self.value(value)
    }

    /// A finished node: into its parent, or the root.
    fn value(&mut self, value: Value) -> bool {
        match self.stack.last_mut() {
            None if self.root.is_none() => {
                self.root = Some(value);
                true
            }
            None => false,
            Some(Partial::Map(entries, key)) => match key.take() {
                Some(k) => {
                    entries.push((k, value));
                    true
                }
                None => false,
            },
            Some(Partial::Seq(items)) => {
                items.push(value);
                true
            }
        }
    }

    /// The value, if the builder read the whole document.
    fn finish(self) -> Option<Value> {
        if self.failed || !self.stack.is_empty() {
            return None;
        }
        self.root
    }
}

fn is_nullish(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// An untagged plain scalar's value; `None` for what is left to serde-saphyr (a non-finite
/// float: `.inf`, `.nan`, `1e999`).
fn resolve_plain(text: &str) -> Option<Value> {
    if is_nullish(text) {
        return Some(Value::Null);
    }
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    if let Some(b) = yaml11_bool(t) {
        return Some(Value::Bool(b));
    }
    if let Some(rest) = t.strip_prefix('-') {
        if let Some(v) = int_magnitude(rest)
            .filter(|&m| m <= 1u128 << 63)
            .and_then(|m| i64::try_from(-(m as i128)).ok())
        {
            return Some(Value::from(v));
        }
    } else if let Some(v) =
        int_magnitude(t.strip_prefix('+').unwrap_or(t)).and_then(|m| u64::try_from(m).ok())
    {
        return Some(Value::from(v));
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(
        unsigned,
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF"
    ) {
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => serde_json::Number::from_f64(v).map(Value::Number),
        // `1e999`: a number too large for a float.
        Ok(_) if unsigned.starts_with(|c: char| c.is_ascii_digit()) => None,
        _ => Some(Value::String(text.to_string())),
    }
}

/// False for a plain scalar that is an integer spelled other than in plain decimal (`01`,
/// `0x1`, `1_0`, `+1`, `-0`).
fn canonical_if_integer(text: &str) -> bool {
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    let (negative, rest) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match int_magnitude(rest) {
        None => true,
        Some(0) => t == "0",
        Some(m) if negative => t.strip_prefix('-') == Some(m.to_string().as_str()),
        Some(m) => t == m.to_string(),
    }
}

/// `y|yes|true|on` and `n|no|false|off`, any case (YAML 1.1, as the API server reads YAML).
fn yaml11_bool(t: &str) -> Option<bool> {
    let is = |words: [&str; 4]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if is(["y", "yes", "true", "on"]) {
        Some(true)
    } else if is(["n", "no", "false", "off"]) {
        Some(false)
    } else {
        None
    }
}

/// The magnitude of an unsigned integer spelling: decimal, `0x`/`0o`/`0b` with any case of
/// prefix, or a legacy octal with a leading `0`; `_` may separate digits.
fn int_magnitude(s: &str) -> Option<u128> {
    let prefixed = |p: &str| {
        s.get(..2)
            .filter(|h| h.eq_ignore_ascii_case(p))
            .map(|_| &s[2..])
    };
    let (radix, digits) = if let Some(d) = prefixed("0x") {
        (16, d)
    } else if let Some(d) = prefixed("0o") {
        (8, d)
    } else if let Some(d) = prefixed("0b") {
        (2, d)
    } else if s == "0" {
        return Some(0);
    } else if let Some(d) = s.strip_prefix('0') {
        (8, d)
    } else {
        return digits_value(s, 10);
    };
    // After a prefix, one `_` may come first.
    digits_value(digits.strip_prefix('_').unwrap_or(digits), radix)
}

/// Digits in `radix` with single `_` between them (not first, not last, not doubled).
fn digits_value(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut any = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let between =
                i > 0 && bytes[i - 1] != b'_' && bytes.get(i + 1).is_some_and(|&n| n != b'_');
            if !between {
                return None;
            }
            continue;
        }
        let d = char::from(b).to_digit(radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        any = true;
    }
    any.then_some(value)
}

// ---------------------------------------------------------------------------------------------
// JSON

fn parse_json(text: &str) -> Parsed {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
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
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn only_doc(text: &str) -> Document {
        let src = parse(text, false);
        assert!(src.errors.is_empty(), "unexpected errors: {:?}", src.errors);
        assert_eq!(src.documents.len(), 1);
        src.documents.into_iter().next().unwrap()
    }

    fn at(doc: &Document, pointer: &str) -> (usize, usize) {
        let p = doc
            .spans
            .get(pointer)
            .unwrap_or_else(|| panic!("no node at {pointer:?}"));
        (p.line, p.column)
    }

    fn range<'a>(text: &'a str, doc: &Document, pointer: &str) -> &'a str {
        let r = doc
            .spans
            .value_range(pointer)
            .unwrap_or_else(|| panic!("no value range at {pointer:?}"));
        &text[r]
    }

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    example.com/path: \"a\"
    \"tilde~key\": b
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: main
          image: nginx
          resources:
            limits:
              cpu: \"1\"
        - name: side
          args: [\"jobmanager\", \"--x\"]
";

    #[test]
    fn one_notion_of_line_breaks_lf_crlf_and_lone_cr() {
        assert_eq!(line_starts("a\nb\r\nc\rd"), vec![0, 2, 5, 7]);
        assert_eq!(line_starts("\r\r"), vec![0, 1, 2]);
        let text = "\u{feff}é\rb\r\nc";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (1, 1)); // after the BOM
        assert_eq!(line_column(text, 5), (1, 2)); // the lone \r
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 8), (2, 3)); // the \n of \r\n is still line 2
        assert_eq!(line_column(text, 9), (3, 1));
        assert_eq!(line_column(text, 99), (3, 2));
        assert_eq!(line_column(text, 4), (1, 1)); // inside é: its start
        // YAML and JSON documents with old-Mac line endings: the same positions as with `\n`.
        for (lf, json) in [
            ("a: 1\nb:\n  c: 2\n", false),
            ("{\n\"a\": 1,\n\"b\": {\n\"c\": 2}}\n", true),
        ] {
            let cr = lf.replace('\n', "\r");
            let (want, got) = (parse(lf, json), parse(&cr, json));
            let (want, got) = (&want.documents[0].spans, &got.documents[0].spans);
            for p in ["/a", "/b", "/b/c"] {
                assert_eq!(
                    (want.locate(p).line, want.locate(p).column),
                    (got.locate(p).line, got.locate(p).column),
                    "{p} in {cr:?}"
                );
            }
        }
        // A JSON syntax error on a CR-only file is placed on its line.
        let bad = parse("{\r\"a\": 1,\r\"b\": [1,,]}", true);
        assert_eq!((bad.errors[0].line, bad.errors[0].column), (3, 9));
    }

    #[test]
    fn pointers_in_a_nested_deployment() {
        let doc = only_doc(DEPLOYMENT);
        assert_eq!(doc.index, 0);
        assert_eq!(doc.value["spec"]["replicas"], json!(3));
        assert!(doc.value["spec"]["replicas"].is_u64());
        // Root, keys, sequence items.
        assert_eq!(at(&doc, ""), (1, 1));
        assert_eq!(at(&doc, "/kind"), (2, 1));
        assert_eq!(at(&doc, "/spec/replicas"), (9, 3));
        assert_eq!(at(&doc, "/spec/template/spec/containers"), (12, 7));
        assert_eq!(at(&doc, "/spec/template/spec/containers/0"), (13, 11));
        assert_eq!(
            at(&doc, "/spec/template/spec/containers/0/resources"),
            (15, 11)
        );
        assert_eq!(
            at(
                &doc,
                "/spec/template/spec/containers/0/resources/limits/cpu"
            ),
            (17, 15)
        );
        assert_eq!(at(&doc, "/spec/template/spec/containers/1"), (18, 11));
        assert_eq!(
            at(&doc, "/spec/template/spec/containers/1/args/1"),
            (19, 32)
        );
        // `/` and `~` in keys are escaped as `~1` and `~0`.
        assert_eq!(at(&doc, "/metadata/annotations/example.com~1path"), (6, 5));
        assert_eq!(at(&doc, "/metadata/annotations/tilde~0key"), (7, 5));
        assert_eq!(
            doc.spans.get("/metadata/annotations/example.com/path"),
            None
        );
        // Missing pointers: nearest existing parent.
        let missing = "/spec/template/spec/containers/0/resources/requests/cpu";
        assert_eq!(doc.spans.get(missing), None);
        assert_eq!(
            doc.spans.locate(missing),
            doc.spans
                .get("/spec/template/spec/containers/0/resources")
                .unwrap()
        );
        assert_eq!(
            doc.spans
                .locate("/spec/template/spec/containers/7/image")
                .line,
            12
        );
        assert_eq!(doc.spans.locate("/nope"), doc.spans.get("").unwrap());
        assert_eq!(
            doc.spans.locate("not a pointer"),
            doc.spans.get("").unwrap()
        );
        // Byte offsets slice the text at the key; value ranges cover the value.
        let p = doc.spans.locate("/spec/replicas");
        assert!(DEPLOYMENT[p.byte..].starts_with("replicas: 3"));
        assert_eq!(range(DEPLOYMENT, &doc, "/spec/replicas"), "3");
        assert_eq!(
            range(DEPLOYMENT, &doc, "/metadata/annotations/example.com~1path"),
            "\"a\""
        );
        assert_eq!(
            range(DEPLOYMENT, &doc, "/spec/template/spec/containers/1/args"),
            "[\"jobmanager\", \"--x\"]"
        );
        assert_eq!(
            range(
                DEPLOYMENT,
                &doc,
                "/spec/template/spec/containers/0/resources"
            ),
            "limits:\n              cpu: \"1\""
        );
        assert_eq!(
            range(DEPLOYMENT, &doc, "/metadata"),
            "name: web\n  annotations:\n    example.com/path: \"a\"\n    \"tilde~key\": b"
        );
    }

    #[test]
    fn multiple_documents_bom_crlf_and_no_final_newline() {
        let text = "\u{feff}a: 1\r\n---\r\n# only a comment\r\n---\r\n---\r\nkind: X\r\nlist:\r\n  - 1\r\n  - two";
        let src = parse(text, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        assert_eq!(src.text, text);
        let indexes: Vec<usize> = src.documents.iter().map(|d| d.index).collect();
        assert_eq!(indexes, [0, 3]);
        let first = &src.documents[0];
        assert_eq!(first.value, json!({"a": 1}));
        // The BOM is not a column, but byte offsets are into the text with the BOM.
        let a = first.spans.get("/a").unwrap();
        assert_eq!((a.line, a.column, a.byte), (1, 1, 3));
        assert_eq!(first.spans.get("").unwrap().byte, 3);
        let last = &src.documents[1];
        assert_eq!(last.value, json!({"kind": "X", "list": [1, "two"]}));
        assert_eq!(at(last, "/kind"), (6, 1));
        assert_eq!(at(last, "/list/0"), (8, 5));
        assert_eq!(at(last, "/list/1"), (9, 5));
        let kind = last.spans.get("/kind").unwrap();
        assert!(src.text[kind.byte..].starts_with("kind: X\r\n"));
        assert_eq!(range(&src.text, last, "/list/1"), "two");
        assert_eq!(range(&src.text, last, "/list"), "- 1\r\n  - two");
    }

    #[test]
    fn document_roots_that_are_not_mappings_are_returned() {
        let text = "- a\n- b\n---\nhello\n---\n~\n...\n---\nnull\n--- !!null\n--- !!str\n---\n42\n";
        let src = parse(text, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        let got: Vec<(usize, &Value)> = src.documents.iter().map(|d| (d.index, &d.value)).collect();
        // Null documents (`~`, `null`, `!!null`) count as empty, as for serde-saphyr and kubectl.
        assert_eq!(
            got,
            [
                (0, &json!(["a", "b"])),
                (1, &json!("hello")),
                (5, &json!("")),
                (6, &json!(42))
            ]
        );
        assert_eq!(at(&src.documents[1], ""), (4, 1));
        assert_eq!(at(&src.documents[0], "/1"), (2, 3));
        assert_eq!(at(&src.documents[3], ""), (13, 1));
        // Nothing at all, or only comments: no documents, no errors.
        for empty in ["", "\n\n", "# just a comment\n", "---\n---\n", "\u{feff}"] {
            let src = parse(empty, false);
            assert!(
                src.documents.is_empty() && src.errors.is_empty(),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn flow_style_block_scalars_and_quoted_keys() {
        let text = "\
args: [\"jobmanager\"]
script: |+
  echo hi

\"quoted key\": 'v'
'single ''q''': x
flow: {a: 1, \"b c\": [true, null, ~, ]}
folded: >-
  one
  two
empty:
n: 0x1F
";
        let doc = only_doc(text);
        assert_eq!(
            doc.value,
            json!({
                "args": ["jobmanager"],
                "script": "echo hi\n\n",
                "quoted key": "v",
                "single 'q'": "x",
                "flow": {"a": 1, "b c": [true, null, null]},
                "folded": "one two",
                "empty": null,
                "n": 31,
            })
        );
        let keys: Vec<&String> = doc.value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "args",
                "script",
                "quoted key",
                "single 'q'",
                "flow",
                "folded",
                "empty",
                "n"
            ]
        );
        assert_eq!(at(&doc, "/args/0"), (1, 8));
        assert_eq!(at(&doc, "/script"), (2, 1));
        assert_eq!(at(&doc, "/quoted key"), (5, 1));
        assert_eq!(at(&doc, "/single 'q'"), (6, 1));
        assert_eq!(at(&doc, "/flow/a"), (7, 8));
        assert_eq!(at(&doc, "/flow/b c"), (7, 14));
        assert_eq!(at(&doc, "/flow/b c/1"), (7, 28));
        assert_eq!(at(&doc, "/empty"), (11, 1));
        assert_eq!(range(text, &doc, "/args"), "[\"jobmanager\"]");
        assert_eq!(range(text, &doc, "/script"), "|+\n  echo hi");
        assert_eq!(range(text, &doc, "/folded"), ">-\n  one\n  two");
        assert_eq!(range(text, &doc, "/quoted key"), "'v'");
        assert_eq!(
            range(text, &doc, "/flow"),
            "{a: 1, \"b c\": [true, null, ~, ]}"
        );
        assert_eq!(range(text, &doc, "/empty"), "");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "\
base: &b {cpu: \"1\", memory: 2Gi}
limits:
  <<: *b
  cpu: \"2\"
copy: *b
";
        let doc = only_doc(text);
        assert_eq!(doc.value["limits"]["cpu"], json!("2"));
        assert_eq!(doc.value["limits"]["memory"], json!("2Gi"));
        assert_eq!(doc.value["copy"], json!({"cpu": "1", "memory": "2Gi"}));
        // A merged key points at the alias that brought it in, an explicit one at its key.
        assert_eq!(at(&doc, "/limits/memory"), (3, 7));
        assert_eq!(at(&doc, "/limits/cpu"), (4, 3));
        // Inside an alias: the alias.
        assert_eq!(
            doc.spans.locate("/copy/cpu"),
            doc.spans.get("/copy").unwrap()
        );
        assert_eq!(range(text, &doc, "/copy"), "*b");
    }

    #[test]
    fn elision_inside_a_mapping_is_an_error_at_its_line() {
        let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: flink-config
data:
  flink-conf.yaml: |+
  ...
    kubernetes.cluster-id: <cluster-id>
  ...
";
        let src = parse(text, false);
        assert!(src.documents.is_empty());
        assert_eq!(src.errors.len(), 1, "{:?}", src.errors);
        let e = &src.errors[0];
        assert_eq!((e.line, e.column), (7, 3));
        assert!(!e.message.is_empty() && !e.message.contains('\n'));
        assert!(!e.message.contains("at line"), "{}", e.message);
    }

    #[test]
    fn duplicate_key_is_an_error_at_the_duplicate() {
        let text = "\
kind: Pod
spec:
  serviceAccountName: a
  containers: []
  serviceAccountName: b
---
kind: Fine
";
        let src = parse(text, false);
        assert_eq!(src.errors.len(), 1, "{:?}", src.errors);
        let e = &src.errors[0];
        assert_eq!((e.line, e.column), (5, 3));
        assert!(e.message.contains("duplicate"), "{}", e.message);
        assert!(e.message.contains("serviceAccountName"), "{}", e.message);
        assert!(!e.message.contains("DuplicateKeyPolicy"), "{}", e.message);
        // The document after it is still read.
        assert_eq!(src.documents.len(), 1);
        assert_eq!(src.documents[0].index, 1);
        assert_eq!(src.documents[0].value, json!({"kind": "Fine"}));
        assert_eq!(at(&src.documents[0], "/kind"), (7, 1));
    }

    #[test]
    fn documents_read_together_or_one_by_one_agree() {
        // Without a syntax error the whole stream goes to serde-saphyr at once; with one, each
        // document goes on its own. Both must give the same documents.
        let good = format!(
            "{DEPLOYMENT}---\n# empty\n---\nkind: B\nx: &a {{p: 0644}}\ny:\n  <<: *a\n---\n- [1]\n"
        );
        let broken = format!("{good}---\nbad: [\n");
        let together = parse(&good, false);
        let alone = parse(&broken, false);
        assert!(together.errors.is_empty(), "{:?}", together.errors);
        assert_eq!(alone.errors.len(), 1, "{:?}", alone.errors);
        assert_eq!(together.documents.len(), 3);
        assert_eq!(alone.documents.len(), 3);
        for (a, b) in together.documents.iter().zip(&alone.documents) {
            assert_eq!(a.index, b.index);
            assert_eq!(a.value, b.value);
            let mut all = Vec::new();
            pointers(&a.value, &mut String::new(), &mut all);
            for p in &all {
                assert_eq!(a.spans.get(p), b.spans.get(p), "{p}");
                assert_eq!(a.spans.value_range(p), b.spans.value_range(p), "{p}");
            }
        }
        assert_eq!(together.documents[1].value["x"]["p"], json!(420));
        assert_eq!(together.documents[1].index, 2);
    }

    #[test]
    fn large_and_small_collections_alike() {
        // Past LINEAR_KEYS, keys and items go through the side indexes; below, the lists.
        for n in [3usize, 12, 13, 40] {
            let items: String = (0..n).map(|i| format!("  - i{i}\n")).collect();
            let keys: String = (0..n).map(|i| format!("  k{i}: {i}\n")).collect();
            let text = format!("list:\n{items}map:\n{keys}after: x\n");
            let doc = only_doc(&text);
            for i in 0..n {
                assert_eq!(at(&doc, &format!("/list/{i}")), (2 + i, 5), "{n} {i}");
                assert_eq!(at(&doc, &format!("/map/k{i}")), (3 + n + i, 3), "{n} {i}");
                assert_eq!(range(&text, &doc, &format!("/map/k{i}")), i.to_string());
            }
            assert_eq!(doc.spans.get(&format!("/list/{n}")), None);
            assert_eq!(doc.spans.get(&format!("/map/k{n}")), None);
            assert_eq!(doc.spans.locate(&format!("/map/k{n}")).line, 2 + n);
            assert_eq!(at(&doc, "/after"), (3 + 2 * n, 1));
            // Duplicates are found in both.
            let dup = format!("map:\n{keys}  k0: again\n");
            assert_eq!(parse(&dup, false).errors.len(), 1, "{n}");
        }
    }

    #[test]
    fn pointer_edge_cases() {
        let keys: String = (0..40).map(|i| format!("  k{i}: {i}\n")).collect();
        let text = format!("big:\n{keys}list: [a, b]\n\"\": empty key\n");
        let doc = only_doc(&text);
        for i in 0..40 {
            assert_eq!(at(&doc, &format!("/big/k{i}")), (i + 2, 3));
        }
        assert_eq!(doc.spans.get("/big/k40"), None);
        assert_eq!(
            doc.spans.locate("/big/k40/x"),
            doc.spans.get("/big").unwrap()
        );
        assert_eq!(at(&doc, "/list/1"), (42, 11));
        // Not array indexes: leading zero, sign, `-`, out of range.
        for p in ["/list/01", "/list/+1", "/list/-", "/list/2", "/list/x"] {
            assert_eq!(doc.spans.get(p), None, "{p}");
            assert_eq!(doc.spans.locate(p), doc.spans.get("/list").unwrap(), "{p}");
        }
        assert_eq!(at(&doc, "/"), (43, 1));
        assert_eq!(SpanIndex::default().locate("/a"), Pos::START);
        assert_eq!(SpanIndex::default().get(""), None);
    }

    #[test]
    fn a_bad_document_hides_neither_its_neighbours() {
        let text = "a: 1\n---\nb: [1, 2\nc: {\n---\nd: 4\n";
        let src = parse(text, false);
        assert_eq!(src.errors.len(), 1, "{:?}", src.errors);
        assert!((3..=5).contains(&src.errors[0].line), "{:?}", src.errors);
        let got: Vec<(usize, &Value)> = src.documents.iter().map(|d| (d.index, &d.value)).collect();
        assert_eq!(got, [(0, &json!({"a": 1})), (2, &json!({"d": 4}))]);
        assert_eq!(at(&src.documents[1], "/d"), (6, 1));
    }

    #[test]
    fn tab_indented_json() {
        let text = "\u{feff}{\n\t\"kind\": \"Secret\",\n\t\"metadata\": {\n\t\t\"name\": \"s\",\n\t\t\"labels\": {\"a/b\": \"é\", \"c~\": \"x\"}\n\t},\n\t\"data\": [1, {\"k\\u00e9y\": null}, \"\\\"]\"],\n\t\"empty\": {}\n}";
        let src = parse(text, true);
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
            let src = parse(&text, true);
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
        let src = parse("{\n  \"a\": 1,\n  \"b\": ,\n}\n", true);
        assert!(src.documents.is_empty());
        assert_eq!(src.errors.len(), 1);
        assert_eq!((src.errors[0].line, src.errors[0].column), (3, 8));
        assert!(!src.errors[0].message.contains("at line"));

        let src = parse("{\"a\": 1,\n \"a\": 2}", true);
        assert!(src.documents.is_empty());
        assert_eq!(src.errors.len(), 1);
        assert_eq!((src.errors[0].line, src.errors[0].column), (2, 2));
        assert!(src.errors[0].message.contains("duplicate"));

        // A `.json` file that holds YAML is read as YAML.
        let src = parse("kind: Pod\n", true);
        assert!(src.errors.is_empty());
        assert_eq!(src.documents[0].value, json!({"kind": "Pod"}));
    }

    #[test]
    fn many_documents() {
        let text: String = (0..10_001).map(|i| format!("---\nn: {i}\n")).collect();
        let src = parse(&text, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors.first());
        assert_eq!(src.documents.len(), 10_001);
        let last = &src.documents[10_000];
        assert_eq!((last.index, &last.value), (10_000, &json!({"n": 10_000})));
        assert_eq!(at(last, "/n"), (20_002, 1));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs = [
            "[",
            "{",
            "]",
            "}",
            "\t",
            "- - -",
            "&a *a",
            "*x",
            "? [a]: b",
            "? {a: 1}\n: c",
            "[a]: b",
            "*a : b",
            "&a a: &b b\n*a : x",
            "\u{feff}",
            "\u{feff}\u{feff}x",
            "key: \"unterminated",
            ":::",
            "%YAML 1.2\n%YAML 1.2\n---\n",
            "%FOO\n",
            "a: b: c",
            "---\n...\n...\n--- |\n x",
            "x: !!binary aGVsbG8=",
            "x: !!int nope",
            "x: .nan",
            "a: &x [*x]",
            "<<: *nope",
            "<<: 1",
            "a: {<<: [1]}",
            "\"\\u",
            "{\"a\":",
            "[1,",
            "{\"a\" 1}",
            "\r\r\r",
            "\0",
            "- \u{85}\u{2028}",
            "'",
            "!<>",
            "a:\n\t- b",
        ];
        for input in inputs {
            for is_json in [false, true] {
                let src = parse(input, is_json);
                for doc in &src.documents {
                    let _ = doc.spans.locate("/a/b/0");
                }
            }
        }
        let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
        assert!(!parse(&deep, false).errors.is_empty());
        assert!(!parse(&deep, true).errors.is_empty());
        let deep_block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(!parse(&deep_block, false).errors.is_empty());
        // Deep but within the limits: parsed (and no stack overflow on a test thread).
        let nested: String = (0..60).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let src = parse(&nested, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        let pointer = "/k".repeat(60);
        assert_eq!(
            src.documents[0].spans.get(&pointer).map(|p| p.line),
            Some(60)
        );
        let flow = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(parse(&flow, false).errors.is_empty());
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        let src = parse(bomb, false);
        assert!(src.documents.is_empty());
        assert!(
            src.errors[0].message.contains("aliases"),
            "{:?}",
            src.errors
        );
    }

    #[test]
    fn many_aliases_to_one_anchor_are_valid() {
        // As the API server reads YAML: 100 aliases to one anchor is an ordinary document.
        let mut text = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: &labels\n    app: flink\n    team: a\ndata:\n",
        );
        for i in 0..100 {
            text.push_str(&format!("  k{i}: value\n"));
        }
        text.push_str("list:\n");
        for _ in 0..100 {
            text.push_str("- *labels\n");
        }
        let src = parse(&text, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        assert_eq!(src.documents.len(), 1);
        let items = src.documents[0].value["list"].as_array().map(Vec::len);
        assert_eq!(items, Some(100));
        assert_eq!(src.documents[0].value["list"][99]["app"], "flink");
        assert_eq!(
            src.documents[0].spans.get("/list/99").map(|p| p.line),
            Some(209)
        );
        // one anchor, 100 aliases, nothing else
        let only: String = std::iter::once("a: &a x\nb:\n".to_string())
            .chain((0..100).map(|_| "- *a\n".to_string()))
            .collect();
        let src = parse(&only, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        assert_eq!(src.documents[0].value["b"][99], "x");
    }

    #[test]
    fn billion_laughs_is_refused_with_its_position() {
        let mut bomb = String::from(
            "apiVersion: v1\nkind: ConfigMap\n---\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let src = parse(&bomb, false);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        // the document before the bomb survives
        assert_eq!(src.documents.len(), 1);
        assert_eq!(src.errors.len(), 1, "{:?}", src.errors);
        let e = &src.errors[0];
        assert!(
            e.message.contains("aliases expand to too many nodes"),
            "{e:?}"
        );
        assert_eq!((e.line, e.column), (4, 1));
    }

    /// Every pointer into a value.
    fn pointers(value: &Value, prefix: &mut String, out: &mut Vec<String>) {
        out.push(prefix.clone());
        let len = prefix.len();
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    prefix.push('/');
                    prefix.push_str(&pointer::escape(k));
                    pointers(v, prefix, out);
                    prefix.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    prefix.push('/');
                    prefix.push_str(&i.to_string());
                    pointers(v, prefix, out);
                    prefix.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// `../shared/corpus` beside the project: real manifests written by others.
    fn corpus() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
    }

    fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, out);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            {
                out.push(path);
            }
        }
    }

    #[test]
    fn whole_corpus() {
        let root = corpus();
        if !root.is_dir() {
            eprintln!("skipping: {} not found", root.display());
            return;
        }
        let root = root.as_path();
        let mut files = Vec::new();
        files_under(root, &mut files);
        files.sort();
        assert!(files.len() > 100, "found only {} files", files.len());
        let expected_errors = [
            "flink-docs/standalone-kubernetes/kubernetes-ha-services-configmap-snippet.yaml",
            "aws-samples-cost-optimized-flink/install/jobmanager-application-ha.yaml",
        ];
        let mut with_errors = Vec::new();
        let mut saw_bom = false;
        let mut saw_space = false;
        for path in &files {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            saw_bom |= text.starts_with('\u{feff}');
            saw_space |= rel.contains(' ');
            let src = parse(&text, rel.ends_with(".json"));
            assert_eq!(src.text, text);
            let lines = text.lines().count().max(1);
            if !src.errors.is_empty() {
                with_errors.push(rel.clone());
            }
            for e in &src.errors {
                assert!(e.line >= 1 && e.line <= lines + 1, "{rel}: {e:?}");
            }
            for doc in &src.documents {
                let mut all = Vec::new();
                pointers(&doc.value, &mut String::new(), &mut all);
                for p in &all {
                    let pos = doc.spans.locate(p);
                    assert!(pos.line >= 1 && pos.line <= lines, "{rel} {p}: {pos:?}");
                    assert!(
                        pos.column >= 1 && text.is_char_boundary(pos.byte),
                        "{rel} {p}"
                    );
                    if let Some(r) = doc.spans.value_range(p) {
                        assert!(text.get(r).is_some(), "{rel} {p}");
                    }
                }
            }
        }
        with_errors.sort();
        let mut expected: Vec<String> = expected_errors.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(with_errors, expected);
        assert!(saw_bom && saw_space);

        // The two broken files: where exactly.
        let snippet = root.join(expected_errors[0]);
        let src = parse(&std::fs::read_to_string(snippet).unwrap(), false);
        assert_eq!((src.errors[0].line, src.errors[0].column), (9, 3));
        let ha = root.join(expected_errors[1]);
        let src = parse(&std::fs::read_to_string(ha).unwrap(), false);
        assert_eq!((src.errors[0].line, src.errors[0].column), (45, 7));
        assert!(src.errors[0].message.contains("serviceAccountName"));
    }

    /// How many of `text`'s documents the one pass built itself, of how many it read.
    fn built_by_one_pass(text: &str) -> (usize, usize) {
        let (mut built, mut total) = (0, 0);
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str_with_options(text, granit_options());
        while let Some(Ok((event, span))) = parser.next_event() {
            match event {
                Event::StreamStart | Event::StreamEnd => {}
                Event::DocumentStart(..) => builder = Builder::default(),
                Event::DocumentEnd => {
                    total += 1;
                    built += usize::from(std::mem::take(&mut builder).finish().1.is_some());
                }
                event => builder.event(text, &event, &span),
            }
        }
        (built, total)
    }

    /// The one pass and serde-saphyr (document by document) read `text` alike: the same
    /// documents, values, positions and errors.
    fn assert_same_as_saphyr(name: &str, text: &str) {
        let (docs, errors) = parse_yaml_with(text, true);
        let (reference, reference_errors) = parse_yaml_with(text, false);
        assert_eq!(errors, reference_errors, "{name}");
        assert_eq!(docs.len(), reference.len(), "{name}");
        for (a, b) in docs.iter().zip(&reference) {
            assert_eq!(a.index, b.index, "{name}");
            assert_eq!(a.value, b.value, "{name} document {}", a.index);
            let mut all = Vec::new();
            pointers(&a.value, &mut String::new(), &mut all);
            for p in &all {
                assert_eq!(a.spans.get(p), b.spans.get(p), "{name} {p}");
                assert_eq!(a.spans.value_range(p), b.spans.value_range(p), "{name} {p}");
            }
        }
    }

    #[test]
    fn one_pass_resolves_scalars_as_serde_saphyr() {
        let scalars = [
            "true",
            "False",
            "TRUE",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "N",
            "~",
            "null",
            "Null",
            "NULL",
            "nul",
            "0",
            "-0",
            "+0",
            "7",
            "-7",
            "+7",
            "0644",
            "-0644",
            "08",
            "0_7",
            "0x1F",
            "0X1f",
            "-0x10",
            "0x_1f",
            "0o17",
            "0O17",
            "0b101",
            "0B_1",
            "0x",
            "0b2",
            "1_000",
            "1__0",
            "_1",
            "1_",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "-1.5",
            "+1.5",
            ".5",
            "1.",
            "1e3",
            "1E-3",
            "6.02e+23",
            "1.0.3",
            "1e",
            "e3",
            "inf",
            "-inf",
            "nan",
            "infinity",
            ".in",
            "-.Infinity",
            "10Gi",
            "500m",
            "1h",
            "2048m",
            "1.17",
            "v1",
            "apps/v1",
            "a b",
            "-a",
            "+",
            ".",
            "0.0",
            "-0.0",
            "00",
            "0_",
            "1:30",
            "2001-12-14",
            "'quoted'",
            "\"0644\"",
            "\"true\"",
            "\"\"",
            "''",
            "|\n  x",
        ];
        let mut text = String::new();
        for (i, s) in scalars.iter().enumerate() {
            text.push_str(&format!("k{i}: {s}\n"));
        }
        let keys: String = scalars
            .iter()
            .filter(|s| !s.starts_with('|') && !is_nullish(s))
            .enumerate()
            .map(|(i, s)| format!("- {s}: {i}\n"))
            .collect();
        for t in [
            &text,
            &keys,
            &format!("- {}\n", scalars[..scalars.len() - 1].join("\n- ")),
        ] {
            let (docs, errors) = parse_yaml(t);
            assert!(errors.is_empty() && docs.len() == 1, "{errors:?}");
            assert_same_as_saphyr("scalars", t);
        }
        let finite = format!("{text}k: [1, {{a: b}}]\n");
        assert_eq!(built_by_one_pass(&finite), (1, 1));
        // Left to serde-saphyr: tags, aliases, merge keys, null keys, duplicates, non-finite
        // floats, deep nesting.
        for text in [
            "a: !!str 1\n",
            "a: &x 1\nb: *x\n",
            "a: &x {p: 1}\nb:\n  <<: *x\n",
            "~: 1\n",
            "a: 1\na: 2\n",
            "1: a\n0x1: b\n",
            "0: a\n-0: b\n",
            "1: a\n'1': b\n",
            "a: .inf\n",
            "a: -.Inf\n",
            "a: .NaN\n",
            "a: 1e999\n",
            "? [a]\n: 1\n",
            &format!("{}1{}\n", "[".repeat(70), "]".repeat(70)),
        ] {
            assert_eq!(built_by_one_pass(text), (0, 1), "{text:?}");
            assert_same_as_saphyr(text, text);
        }
    }

    #[test]
    fn one_pass_agrees_with_serde_saphyr_on_the_whole_corpus() {
        let root = corpus();
        if !root.is_dir() {
            eprintln!("skipping: {} not found", root.display());
            return;
        }
        let mut files = Vec::new();
        files_under(&root, &mut files);
        let (mut yaml, mut built, mut total) = (0, 0, 0);
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let name = path.display().to_string();
            assert_same_as_saphyr(&name, &text);
            yaml += 1;
            let (b, t) = built_by_one_pass(&text);
            built += b;
            total += t;
        }
        assert!(yaml > 100, "{yaml}");
        // The one pass is the rule, serde-saphyr the exception.
        assert!(built * 100 >= total * 95, "{built} of {total}");
        eprintln!("one pass built {built} of {total} documents");
    }

    /// A one-off check beside the corpus: `FLINK_LINT_COMPARE_DIR=DIR cargo test --lib
    /// one_pass_agrees_on_a_directory -- --ignored` (for example a `scripts/gen-corpus.py` tree).
    #[test]
    #[ignore]
    fn one_pass_agrees_on_a_directory() {
        let Some(dir) = std::env::var_os("FLINK_LINT_COMPARE_DIR") else {
            return;
        };
        let mut files = Vec::new();
        files_under(std::path::Path::new(&dir), &mut files);
        assert!(!files.is_empty());
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            assert_same_as_saphyr(&path.display().to_string(), &text);
        }
        eprintln!("{} files agree", files.len());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn one_pass_agrees_with_serde_saphyr_on_numberlike_scalars(
            s in "[-+]?(0[xXoObB]?)?[0-9a-fA-F_.eE+-]{0,10}|[yYnN]|[oO][nNfF]{1,2}|~|[-+]?\\.[a-zA-Z]{3}",
            t in "[-+]?0?[0-9xo_]{0,4}",
        ) {
            for text in [format!("v: {s}\n"), format!("- {s}\n"), format!("{s}: 1\n"), format!("v: [{s}]\n"), format!("{s}: 1\n{t}: 2\n"), format!("{t}: 1\n'{s}': 2\n")] {
                assert_same_as_saphyr(&text, &text);
            }
        }
    }

    // The parsers and the span index without `parse`'s catch_unwind net: a panic here fails
    // the test instead of turning into an "internal error" result.
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn yaml_parser_never_panics_on_mangled_manifests(
            cut in 0usize..DEPLOYMENT.len(),
            junk in "[ -~\\n\\t:{}\\[\\]&*!|>'\"#%@`-]{0,40}",
        ) {
            let mut cut = cut;
            while !DEPLOYMENT.is_char_boundary(cut) {
                cut -= 1;
            }
            let mut text = DEPLOYMENT[..cut].to_string();
            text.push_str(&junk);
            text.push_str(&DEPLOYMENT[cut..]);
            let (docs, _) = parse_yaml(&text);
            for d in &docs {
                let _ = d.spans.locate("/spec/template/spec/containers/0/name");
            }
            let (docs, _) = parse_json(&text);
            for d in &docs {
                let _ = d.spans.locate("/metadata/name");
            }
        }
    }
}
