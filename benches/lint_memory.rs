//! Where `flink-lint`'s memory goes: a counting allocator around the system one, and the live
//! and peak heap bytes at each stage of a whole lint of a generated Flink monorepo
//! (`scripts/gen-corpus.py`), through the library as `flink-lint check` runs it.
//!
//! `cargo bench --bench lint_memory` (1,000 and 10,000 objects; `OBJECTS=N` for one size).
//! Heap bytes are what the program asked for; RSS (`/usr/bin/time -v`) adds the allocator's
//! own overhead and fragmentation, the binary and the stacks.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use flink_admission::engine::{Engine, Settings};
use flink_admission::lint::{self, Inputs, render};

#[path = "support/generated.rs"]
mod generated;
use generated::corpus;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as it is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grow(new_size);
        }
        p
    }
}

fn grow(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mib(n: usize) -> f64 {
    n as f64 / (1024.0 * 1024.0)
}

/// Live heap now, and the peak since the last call (then reset to now).
fn stage(name: &str, input: usize) {
    let live = LIVE.load(Ordering::Relaxed);
    let peak = PEAK.swap(live, Ordering::Relaxed);
    println!(
        "  {name:<34} live {:>8.1} MiB ({:>4.1}x input)   peak {:>8.1} MiB ({:>4.1}x input)",
        mib(live),
        live as f64 / input as f64,
        mib(peak),
        peak as f64 / input as f64
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let sizes: Vec<usize> = match std::env::var("OBJECTS") {
        Ok(n) => vec![n.parse().expect("OBJECTS is a number")],
        Err(_) => vec![1_000, 10_000],
    };
    let engine = Engine::embedded(Settings::default()).expect("built-in rules");
    for objects in sizes {
        let files = corpus(objects);
        let input: usize = files.iter().map(|(_, t)| t.len()).sum();
        let count = files.len();
        drop(files);
        println!(
            "{objects} objects, {} files, {:.1} MiB of YAML",
            count,
            mib(input)
        );
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
        stage("before reading", input);

        // What each part of the parsed inputs holds: parse twice, drop one part at a time.
        let mut inputs = Inputs::default();
        inputs.add_all(corpus(objects), |_| true);
        stage("parsed (texts + values + spans)", input);
        let before = LIVE.load(Ordering::Relaxed);
        let no_spans: std::sync::Arc<flink_admission::lint::source::SpanIndex> = Default::default();
        for o in &mut inputs.objects {
            // Each document's index goes with its last object (a List shares one).
            o.spans = no_spans.clone();
        }
        drop(no_spans);
        let spans_bytes = before.saturating_sub(LIVE.load(Ordering::Relaxed));
        let values: Vec<_> = std::mem::take(&mut inputs.objects);
        let before = LIVE.load(Ordering::Relaxed);
        drop(values);
        let values_bytes = before - LIVE.load(Ordering::Relaxed);
        println!(
            "  of which values {:.1} MiB ({:.1}x input), span indexes {:.1} MiB ({:.1}x input)",
            mib(values_bytes),
            values_bytes as f64 / input as f64,
            mib(spans_bytes),
            spans_bytes as f64 / input as f64
        );
        drop(inputs);
        stage("dropped", input);

        // What the findings hold, by part.
        let mut inputs = Inputs::default();
        inputs.add_all(corpus(objects), |_| true);
        let world = inputs.world(false);
        stage("parsed + world", input);
        drop(world);
        let mut outcome = lint::lint(&engine, inputs);
        let live = |f: &mut dyn FnMut()| {
            let before = LIVE.load(Ordering::Relaxed);
            f();
            mib(before.saturating_sub(LIVE.load(Ordering::Relaxed)))
        };
        let n = outcome.findings.len();
        let patches = live(&mut || outcome.findings.iter_mut().for_each(|l| l.patch = None));
        let fixes = live(&mut || {
            outcome
                .findings
                .iter_mut()
                .for_each(|l| l.finding.fix = None)
        });
        let files = live(&mut || outcome.files.clear());
        let objects_list = live(&mut || outcome.objects.clear());
        let rest = live(&mut || outcome.findings.clear());
        println!(
            "  {n} findings: patches {patches:.1} MiB, fixes (all but their operations, which are in the patch) {fixes:.1} MiB, the rest {rest:.1} MiB; files (texts) {files:.1} MiB, object list {objects_list:.1} MiB"
        );
        drop(outcome);
        stage("dropped", input);

        // The run as `flink-lint check --format json|human` does it.
        for format in ["json", "human"] {
            // The human format reads the files it quotes again once they are judged: here from
            // a copy of the corpus on disk.
            let files = corpus(objects);
            let dir = std::env::temp_dir().join(format!("lint-memory-{}", std::process::id()));
            if format == "human" {
                for (name, text) in &files {
                    let path = dir.join(name);
                    std::fs::create_dir_all(path.parent().expect("a file in a directory"))
                        .expect("a temporary directory");
                    std::fs::write(&path, text).expect("a temporary file");
                }
            }
            let mut inputs = Inputs::default();
            inputs.add_all(files, |_| false);
            stage(&format!("{format}: read and parsed"), input);
            let mut outcome = lint::lint(&engine, inputs);
            stage(&format!("{format}: judged"), input);
            if format == "human" {
                outcome.reload_texts(|name| std::fs::read_to_string(dir.join(name)).ok());
                let _ = std::fs::remove_dir_all(&dir);
                stage("human: quoted texts read again", input);
            }
            let text = if format == "json" {
                render::json(&outcome)
            } else {
                render::human(&outcome, false)
            };
            stage(
                &format!("{format}: rendered ({} KiB)", text.len() / 1024),
                input,
            );
            drop((outcome, text));
            stage(&format!("{format}: dropped"), input);
        }
    }
}
