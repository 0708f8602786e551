//! Positions in a file's text and the span index: where each node of a document sits.

use std::collections::HashMap;
use std::ops::Range;

use crate::flink::pointer;

/// A 1-based line and 1-based column (columns count characters, not bytes), plus the byte offset into the file text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

impl Pos {
    pub(super) const START: Pos = Pos {
        line: 1,
        column: 1,
        byte: 0,
    };
}

/// Where each line starts (byte offsets, the first is 0). A line ends at `\n`, `\r\n` or a lone
/// `\r` (old Mac files), as YAML reads line breaks: the one notion of a line that positions and
/// the human renderer share.
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(line_ends(text)).collect()
}

/// The byte after each line break of `text` (see [`line_starts`]).
pub(super) fn line_ends(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().filter_map(|(i, &b)| {
        let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        ends.then_some(i + 1)
    })
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
pub(super) const NONE: u32 = u32::MAX;

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

    /// Move every position `lines` lines and `bytes` bytes down: the index of a document read
    /// from a part of a file that starts at a line start, made relative to the whole file.
    pub(super) fn shift(&mut self, lines: usize, bytes: usize) {
        let (lines, bytes) = (to_u32(lines), to_u32(bytes));
        for node in &mut self.nodes {
            node.pos.line = node.pos.line.saturating_add(lines);
            node.pos.byte = node.pos.byte.saturating_add(bytes);
            if node.value != NO_RANGE {
                node.value.0 = node.value.0.saturating_add(bytes);
                node.value.1 = node.value.1.saturating_add(bytes);
            }
        }
    }

    /// No node yet (the root comes first).
    pub(super) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub(super) fn new_node(&mut self, pos: Pos, key: (u32, u32)) -> Option<u32> {
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
    pub(super) fn push_item(&mut self, parent: u32, pos: Pos) -> Option<u32> {
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
    pub(super) fn add_key(&mut self, parent: u32, key: &str, pos: Pos) -> Option<u32> {
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
    pub(super) fn keys_of(&self, node: u32) -> Vec<String> {
        self.children(node)
            .filter_map(|c| self.nodes.get(c as usize))
            .filter(|n| n.key.0 != NONE)
            .map(|n| self.key_text(n).to_string())
            .collect()
    }

    pub(super) fn set_value(&mut self, node: Option<u32>, range: Range<usize>) {
        if let Some(n) = node.and_then(|n| self.nodes.get_mut(n as usize)) {
            n.value = match (u32::try_from(range.start), u32::try_from(range.end)) {
                (Ok(a), Ok(b)) if a != NONE && b != NONE => (a, b),
                _ => NO_RANGE,
            };
        }
    }

    /// Give back the memory reserved for growth, once the document is read.
    pub(super) fn shrink(&mut self) {
        self.nodes.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.tails = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

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
            let (want, got) = (parse_raw(lf, json), parse_raw(&cr, json));
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
        let bad = parse_raw("{\r\"a\": 1,\r\"b\": [1,,]}", true);
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
            assert_eq!(parse_raw(&dup, false).errors.len(), 1, "{n}");
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
}
