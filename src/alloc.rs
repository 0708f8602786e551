//! The allocator both binaries use: mimalloc, told before its first allocation to hand freed
//! memory back to the system at once and to commit its arena as it is used.
//!
//! Judging an object allocates and frees many small maps and strings. Against glibc's
//! allocator mimalloc takes about a sixth less CPU per webhook review and a quarter less per
//! linted object; with mimalloc's defaults (freed pages kept for a while, the arena committed
//! up front) the peak RSS of a large lint would be a third higher, with these settings it is
//! lower (figures in BENCHMARKS.md). The options must be set before the first allocation (the
//! arena is reserved then), hence a wrapper rather than a call in `main`.
//!
//! Each binary registers it (`#[global_allocator]`) and tests that [`options_in_force`] holds;
//! the library itself never sets a global allocator (the tests and benches keep the system's).

use std::alloc::{GlobalAlloc, Layout};

use libmimalloc_sys::{
    mi_malloc, mi_option_get, mi_option_set, mi_option_t, mi_realloc, mi_version, mi_zalloc,
};

/// mimalloc with immediate purging and its arena committed as used.
pub struct Allocator;

/// Option numbers of mimalloc 3.3 (`mi_option_t` in its `mimalloc.h`; the Rust bindings do not
/// name these two). [`options_in_force`] checks the version they were read from.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
const PURGE_DELAY: mi_option_t = 15;

static CONFIGURE: std::sync::Once = std::sync::Once::new();

fn configure() {
    CONFIGURE.call_once(|| {
        // SAFETY: plain stores into mimalloc's option table; nothing allocates or runs yet on
        // another thread (this is the process's first allocation).
        unsafe {
            mi_option_set(ARENA_EAGER_COMMIT, 0);
            mi_option_set(PURGE_DELAY, 0);
        }
    });
}

/// Every block mimalloc hands out is aligned to at least a pointer's size (its size classes
/// are multiples of 8 bytes on 64-bit targets, 4 on 32-bit): up to that alignment the plain
/// entry points serve, which skip the aligned ones' checks (most of Rust's allocations are
/// strings, vectors and map entries aligned to 1 to 8 bytes).
const PLAIN_ALIGN: usize = std::mem::size_of::<usize>();

// SAFETY: every call goes to mimalloc's allocator, which upholds the `GlobalAlloc` contract:
// the aligned entry points for alignments above PLAIN_ALIGN, the plain ones (whose blocks are
// aligned to PLAIN_ALIGN) below; `configure` only sets options first.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        configure();
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: mimalloc's malloc; its blocks are aligned to PLAIN_ALIGN.
            unsafe { mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        configure();
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: as in `alloc`.
            unsafe { mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above (mimalloc frees aligned and plain blocks alike).
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: `ptr` came from this allocator; the new block is aligned as in `alloc`.
            unsafe { mi_realloc(ptr.cast(), new_size).cast() }
        } else {
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

/// Whether this process runs the mimalloc the option numbers were read from (3.3.x) with both
/// options in force; else what differs. Called by each binary's tests, where [`Allocator`] is
/// the global allocator.
pub fn options_in_force() -> Result<(), String> {
    // SAFETY: reads of mimalloc's version and option table.
    let (version, eager, purge) = unsafe {
        (
            mi_version(),
            mi_option_get(ARENA_EAGER_COMMIT),
            mi_option_get(PURGE_DELAY),
        )
    };
    if version / 100 != 303 {
        return Err(format!(
            "mimalloc {version}: read the option numbers again from its mimalloc.h"
        ));
    }
    if (eager, purge) != (0, 0) {
        return Err(format!(
            "arena_eager_commit {eager} and purge_delay {purge}, not 0 and 0"
        ));
    }
    Ok(())
}
