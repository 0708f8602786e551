//! A large YAML stream read in parts, on every core: one file of 10,000 manifests is as fast to
//! read as 10,000 files.
//!
//! The text is cut just before `---` lines (a document marker at the start of a line, followed
//! by a space, a tab, a line break or the end), which in YAML always start a new document: no
//! scalar or collection runs across one. Each part is read as its own stream, and the parts'
//! documents are put back in file order with their positions and numbers made relative to the
//! whole file.
//!
//! The result must be exactly what one pass over the whole file gives, so the split is used
//! only where nothing crosses a cut: files with directives (`%YAML`, `%TAG`, which apply to the
//! documents after them) are read whole, and if any part has an error or an alias the whole
//! file is read again in one piece, so that error positions, recovery and the per-file alias
//! budget stay those of the one pass. Each part may hold its share (by bytes) of the file's node
//! budget, so the parts together never hold more than the one pass would.

use rayon::prelude::*;

use super::Parsed;
use super::spans::line_ends;
use super::yaml::{Stream, read_stream};

/// The smallest part worth a task of its own: files under twice this are read in one piece.
pub(super) const MIN_PART: usize = 512 * 1024;

/// The documents and errors of `text`, read in parts; `None` when it must be read in one piece
/// (too small to split, directives, or a part with an error, an alias or more than its share of
/// the node budget). `min_part` is the
/// smallest part worth its own task ([`MIN_PART`]; tests split small texts), `node_budget` the
/// file's ([`MAX_NODES`]).
pub(super) fn parse_in_parts(text: &str, min_part: usize, node_budget: u64) -> Option<Parsed> {
    let cuts = cuts(text, min_part)?;
    let parts: Vec<Stream> = cuts
        .par_windows(2)
        .map(|w| {
            // Each part may hold its share of the file's nodes: all parts together hold no
            // more than the whole file may. A part past its share is read again in one piece.
            let share = node_budget as u128 * (w[1] - w[0]) as u128 / text.len().max(1) as u128;
            let share = u64::try_from(share).unwrap_or(node_budget) + 1;
            read_stream(text.get(w[0]..w[1]).unwrap_or(""), true, share)
        })
        .collect();
    if parts.iter().any(|p| !p.errors.is_empty() || p.replayed > 0) {
        return None;
    }
    let mut documents = Vec::with_capacity(parts.iter().map(|p| p.documents.len()).sum());
    let (mut line, mut seen) = (0, 0);
    for (part, w) in parts.into_iter().zip(cuts.windows(2)) {
        for mut doc in part.documents {
            doc.spans.shift(line, w[0]);
            doc.index += seen;
            documents.push(doc);
        }
        seen += part.seen;
        line += line_ends(text.get(w[0]..w[1]).unwrap_or("")).count();
    }
    Some((documents, Vec::new()))
}

/// Where the parts start and the last ends (`0, c1, ..., len`): at least two parts of about
/// `min_part` bytes or more, one per task for a few tasks per thread; `None` for one part.
fn cuts(text: &str, min_part: usize) -> Option<Vec<usize>> {
    let min_part = min_part.max(1);
    let wanted = (text.len() / min_part).min(rayon::current_num_threads() * 4);
    if wanted < 2 || has_directive(text) {
        return None;
    }
    let mut cuts = vec![0];
    for i in 1..wanted {
        let from = (text.len() / wanted * i).max(cuts.last().copied().unwrap_or(0) + 1);
        match marker_line_after(text, from) {
            Some(cut) => cuts.push(cut),
            None => break,
        }
    }
    if cuts.len() < 2 {
        return None;
    }
    cuts.push(text.len());
    Some(cuts)
}

/// A line of `text` starting with `%`: a directive, or the text of one in a scalar.
fn has_directive(text: &str) -> bool {
    text.starts_with('%') || text.contains("\n%") || text.contains("\r%")
}

/// The start of the first `---` document marker line that starts after byte `from` (which may
/// fall inside a character: the search is over bytes, and a line start is a char boundary).
fn marker_line_after(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from.saturating_sub(1);
    loop {
        let found = at + bytes.get(at..)?.windows(4).position(|w| w == b"\n---")?;
        let start = found + 1;
        let after = bytes.get(start + 3);
        if matches!(after, None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            return Some(start);
        }
        at = start;
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_NODES;
    use super::super::testutil::*;
    use super::super::yaml::{parse_yaml_with, read_stream};
    use super::*;

    /// Read in parts of about `min_part` bytes, `text` gives what one pass gives: the same
    /// documents, numbers, values, positions and ranges. Returns whether it was split.
    fn same_as_one_pass(name: &str, text: &str, min_part: usize) -> bool {
        let Some((docs, errors)) = parse_in_parts(text, min_part, MAX_NODES) else {
            return false;
        };
        let (whole, whole_errors) = parse_yaml_with(text, true);
        assert!(
            whole_errors.is_empty(),
            "{name}: split despite {whole_errors:?}"
        );
        assert!(errors.is_empty(), "{name}");
        assert_same_documents(name, &docs, &whole);
        true
    }

    #[test]
    fn cuts_fall_on_document_marker_lines_only() {
        let text = "a: 1\n---x: 2\n--- \nb: 3\n----\n---\nc: 4\n---\t#\nd: 5\n---";
        let at = cuts(text, 1).unwrap();
        let starts: Vec<&str> = at[1..at.len() - 1]
            .iter()
            .map(|&c| &text[c..(c + 5).min(text.len())])
            .collect();
        assert_eq!(starts, ["--- \n", "---\nc", "---\t#", "---"]);
        assert_eq!(at.last(), Some(&text.len()));
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        assert_eq!(cuts(text, text.len()), None, "one part is not split");
        assert_eq!(cuts("a: 1\n# ---\nb: 2\n", 1), None, "no marker line");
        assert_eq!(cuts("a: 1\n---\n%YAML 1.2\n---\nb: 2\n", 1), None);
        // Where a part would start by bytes may fall inside a character: the marker after it
        // is found all the same.
        for n in 10..20 {
            let text = format!("a: {}\n---\nb: 1\n", "é".repeat(n));
            let at = cuts(&text, 1).unwrap_or_default();
            assert_eq!(at.len(), 3, "{n}: {at:?}");
            assert_eq!(&text[at[1]..], "---\nb: 1\n");
        }
    }

    #[test]
    fn the_corpus_as_one_stream_reads_alike_in_parts() {
        let Some(root) = corpus_or_skip() else { return };
        let mut files = Vec::new();
        files_under(&root, &mut files);
        files.sort();
        let mut stream = String::new();
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            let (_, errors) = parse_yaml_with(&text, true);
            if !errors.is_empty() || has_directive(&text) || text.contains('*') {
                continue;
            }
            // A BOM is only allowed at the start of the stream.
            stream.push_str(text.trim_start_matches('\u{feff}'));
            if !stream.ends_with('\n') {
                stream.push('\n');
            }
            stream.push_str("---\n");
        }
        assert!(stream.len() > 100_000, "corpus too small: {}", stream.len());
        for min_part in [1, 997, 20_000] {
            assert!(
                same_as_one_pass("corpus", &stream, min_part),
                "not split at {min_part}"
            );
        }
    }

    #[test]
    fn positions_count_every_kind_of_line_break_and_the_bom() {
        let docs = [
            "\u{feff}a: 1\nb: [x,\n  y]\n",
            "---\r\nc: |\r\n  text\r\n  more\r\nd: é\r\n",
            "--- # comment\nempty:\n...\n",
            "---\n# only a comment\n",
            "---\t\n~\n",
            "--- \"q\n  r\"\n",
            "---\rlone: cr\rnext: 1\r",
            "---\n- é: ü\n- [1, 2]\n",
        ];
        let text: String = docs.concat();
        assert!(same_as_one_pass("breaks", &text, 1));
        let (parts, _) = parse_in_parts(&text, 1, MAX_NODES).unwrap();
        assert_eq!(
            parts.iter().map(|d| d.index).collect::<Vec<_>>(),
            [0, 1, 2, 5, 6, 7],
            "empty and null documents are counted, not kept"
        );
    }

    #[test]
    fn parts_share_the_node_budget_and_a_part_past_its_share_is_read_whole() {
        // 12 nodes a document (4, and 8 for being one), 48 in all.
        let text = "a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n";
        assert!(read_stream(text, true, 48).errors.is_empty());
        assert_eq!(read_stream(text, true, 47).errors.len(), 1);
        assert!(parse_in_parts(text, 1, 1000).is_some());
        // Each part gets its share by bytes: the short first part's share of 48 is 8, under its
        // 12, so the file is read whole (where it fits).
        assert!(parse_in_parts(text, 1, 48).is_none());
        // Dense at one end: the same.
        let dense = "a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n---\nb: 2\n---\nc: 3\n";
        assert!(read_stream(dense, true, 60).errors.is_empty());
        assert!(parse_in_parts(dense, 1, 60).is_none());
        assert!(parse_in_parts(dense, 1, 200).is_some());
    }

    #[test]
    fn what_could_cross_a_cut_is_read_in_one_piece() {
        for text in [
            // Not YAML: the part before the cut ends inside a flow or quoted scalar.
            "a: [1,\n---\n]\n---\nb: 1\n",
            "a: \"x\n---\ny\"\n---\nb: 1\n",
            // An alias (and the per-file alias budget): one piece.
            "a: &x 1\nb: *x\n---\nc: 2\n",
            // An error in any part: one piece, so recovery and positions are the one pass's.
            "a: 1\n---\nb: : :\n---\nc: 3\n",
        ] {
            assert!(parse_in_parts(text, 1, MAX_NODES).is_none(), "{text:?}");
        }
        // A top-level block scalar ends at the marker line, split or not.
        let text = "--- |\nfoo\n---\nbar\n";
        assert!(same_as_one_pass("block", text, 1));
        let (docs, _) = parse_in_parts(text, 1, MAX_NODES).unwrap();
        assert_eq!(docs[0].value, serde_json::json!("foo\n"));
    }
}
