//! YAML: one pass over the granit-parser event stream builds each document's span index and
//! its value (scalars resolved as serde-saphyr resolves them); serde-saphyr reads the rare
//! documents the one pass leaves to it, each from its own slice of the text.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::Value;
use serde_saphyr::granit_parser::{self, Event, Marker, Parser, ScalarStyle, Span, StructureStyle};

use super::spans::{NONE, Pos, SpanIndex};
use super::{Document, MAX_NODES, ParseError, Parsed, clean_message, split};

/// How many nodes aliases may expand to in one file, all documents together (serde-saphyr's own
/// limit, of the same size, applies per document).
const MAX_REPLAYED_EVENTS: u64 = 1_000_000;

/// What a kept YAML document counts towards [`MAX_NODES`] besides its nodes: its value, span index
/// and place in the results cost about as much as eight nodes (a file of a few million tiny
/// documents took 3.8 GB).
const DOCUMENT_NODES: u64 = 8;

fn saphyr_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // 10 000 documents in one file is legitimate (the default allows 1 024), and so is a 2 MB
    // document. These budgets apply to the whole stream, or to one document when documents are
    // read one by one.
    budget.max_documents = 1_000_000;
    budget.max_events = 50_000_000;
    budget.max_nodes = MAX_NODES as usize;
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

pub(super) fn parse_yaml(text: &str) -> Parsed {
    split::parse_in_parts(text, split::MIN_PART, MAX_NODES)
        .unwrap_or_else(|| parse_yaml_with(text, true))
}

/// The error that stops the reading of a file at its node past [`MAX_NODES`].
pub(super) fn too_many_nodes(at: Pos) -> ParseError {
    ParseError {
        line: at.line,
        column: at.column,
        message: super::too_many_nodes_message(),
        caught_panic: false,
    }
}

/// [`parse_yaml`] in one piece; with `one_pass` false every document's value comes from
/// serde-saphyr (the reference the one pass is compared with in tests).
pub(super) fn parse_yaml_with(text: &str, one_pass: bool) -> Parsed {
    let stream = read_stream(text, one_pass, MAX_NODES);
    (stream.documents, stream.errors)
}

/// What reading one stream found.
pub(super) struct Stream {
    pub(super) documents: Vec<Document>,
    pub(super) errors: Vec<ParseError>,
    /// Documents seen, empty ones and broken ones included (the next [`Document::index`]).
    pub(super) seen: usize,
    /// Nodes that aliases expanded to.
    pub(super) replayed: u64,
}

/// Read `text`, stopping at its node past `node_budget` (see [`MAX_NODES`]).
pub(super) fn read_stream(text: &str, one_pass: bool, node_budget: u64) -> Stream {
    let mut errors = Vec::new();
    let mut pending = Vec::new();
    let mut parser = Parser::new_from_str_with_options(text, granit_options());
    let mut next_start = SliceStart::at(Pos::START);
    let mut after_recovery = false;
    let mut doc: Option<DocState> = None;
    let mut doc_count = 0usize;
    let mut last_error_byte: Option<usize> = None;
    let mut replay_budget = MAX_REPLAYED_EVENTS;
    // Nodes of the documents read before this one.
    let mut nodes_before = 0u64;

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
                    caught_panic: false,
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
                nodes_before += d.builder.nodes() + DOCUMENT_NODES;
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
                        caught_panic: false,
                    });
                    replay_budget = 0;
                    continue;
                }
                replay_budget -= d.builder.replayed;
                let (spans, value) = d.builder.finish();
                pending.push(Pending {
                    index: d.index,
                    start: d.start,
                    end: end.byte,
                    spans,
                    value: value.filter(|_| one_pass),
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
                    if nodes_before + d.builder.nodes() + DOCUMENT_NODES > node_budget {
                        // Nothing after this node is read: the memory stays bounded.
                        errors.push(too_many_nodes(pos(text, &span.start)));
                        break;
                    }
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
    Stream {
        documents,
        errors,
        seen: doc_count,
        replayed: MAX_REPLAYED_EVENTS - replay_budget,
    }
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
            caught_panic: false,
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
    /// The nodes read so far (what aliases expand to not counted).
    fn nodes(&self) -> u64 {
        self.events.saturating_sub(self.replayed)
    }

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
            let node = if self.index.is_empty() {
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

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn multiple_documents_bom_crlf_and_no_final_newline() {
        let text = "\u{feff}a: 1\r\n---\r\n# only a comment\r\n---\r\n---\r\nkind: X\r\nlist:\r\n  - 1\r\n  - two";
        let src = parse_raw(text, false);
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
        let src = parse_raw(text, false);
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
            let src = parse_raw(empty, false);
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
        let src = parse_raw(text, false);
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
        let src = parse_raw(text, false);
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
        let together = parse_raw(&good, false);
        let alone = parse_raw(&broken, false);
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
    fn a_bad_document_hides_neither_its_neighbours() {
        let text = "a: 1\n---\nb: [1, 2\nc: {\n---\nd: 4\n";
        let src = parse_raw(text, false);
        assert_eq!(src.errors.len(), 1, "{:?}", src.errors);
        assert!((3..=5).contains(&src.errors[0].line), "{:?}", src.errors);
        let got: Vec<(usize, &Value)> = src.documents.iter().map(|d| (d.index, &d.value)).collect();
        assert_eq!(got, [(0, &json!({"a": 1})), (2, &json!({"d": 4}))]);
        assert_eq!(at(&src.documents[1], "/d"), (6, 1));
    }

    #[test]
    fn many_documents() {
        let text: String = (0..10_001).map(|i| format!("---\nn: {i}\n")).collect();
        let src = parse_raw(&text, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors.first());
        assert_eq!(src.documents.len(), 10_001);
        let last = &src.documents[10_000];
        assert_eq!((last.index, &last.value), (10_000, &json!({"n": 10_000})));
        assert_eq!(at(last, "/n"), (20_002, 1));
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
        let src = parse_raw(&text, false);
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
        let src = parse_raw(&only, false);
        assert!(src.errors.is_empty(), "{:?}", src.errors);
        assert_eq!(src.documents[0].value["b"][99], "x");
    }

    #[test]
    fn a_file_past_its_node_budget_stops_at_that_node() {
        let text = "a: 1\n---\nb: [1, 2, 3]\n---\nc: 3\n";
        // The first document is 4 nodes (mapping start, `a`, `1`, mapping end) and 8 for being
        // a document; the second gets to its fifth node, `2`, with a budget of 24.
        let s = read_stream(text, true, 24);
        assert_eq!(s.documents.len(), 1, "the documents before stay");
        assert_eq!(s.documents[0].value, serde_json::json!({"a": 1}));
        assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
        let e = &s.errors[0];
        assert_eq!((e.line, e.column), (3, 8), "{e:?}");
        assert!(e.message.contains("more than 4000000 nodes"), "{e:?}");
        assert!(e.message.contains("split it"), "{e:?}");
        let s = read_stream(text, true, 25);
        assert_eq!(
            (s.errors[0].line, s.errors[0].column),
            (3, 11),
            "one node further"
        );
        // All three: 12 + 16 + 12.
        let s = read_stream(text, true, 40);
        assert!(
            s.errors.is_empty() && s.documents.len() == 3,
            "{:?}",
            s.errors
        );
        assert_eq!(read_stream(text, true, 39).errors.len(), 1);
    }

    #[test]
    fn empty_documents_and_aliases_cost_no_nodes() {
        // Empty and null documents are not kept; what an alias expands to has its own budget.
        let text = "---\n---\n# note\n---\n~\n---\na: &x [1, 2, 3]\nb: *x\n";
        // 8 for the document, 9 nodes: mapping start, `a`, the sequence's start, three items
        // and end, `b`, the mapping's end; the alias none.
        let s = read_stream(text, true, 8 + 9);
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        assert_eq!(s.documents.len(), 1);
        assert_eq!(read_stream(text, true, 8 + 8).errors.len(), 1);
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
        let src = parse_raw(&bomb, false);
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
        assert_same_documents(name, &docs, &reference);
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
        let Some(root) = corpus_or_skip() else {
            return;
        };
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
}
