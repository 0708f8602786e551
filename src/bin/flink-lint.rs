//! `flink-lint`: see `flink_admission::lint::cli`.

use std::alloc::{GlobalAlloc, Layout};

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// mimalloc, told before its first allocation to hand freed memory back to the system at once
/// and to commit its arena as it is used. Linting allocates and frees millions of small nodes:
/// against the system allocator this takes about a quarter less CPU; with mimalloc's defaults
/// (freed pages kept for a while, the arena committed up front) the peak RSS would be a third
/// higher, with these settings it is lower (figures in BENCHMARKS.md). The options must be set
/// before the first allocation (the arena is reserved then), hence this wrapper rather than
/// a call in `main`.
struct Allocator;

/// Option numbers of mimalloc 3.3 (`mi_option_t` in its `mimalloc.h`; the Rust bindings do not
/// name these two). The test below pins the version they were read from.
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

// SAFETY: every call is passed on unchanged to mimalloc's allocator, which upholds the
// `GlobalAlloc` contract; `configure` only sets options first.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        configure();
        // SAFETY: the caller's contract, passed on.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        configure();
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Allocator = Allocator;

fn main() {
    let code = flink_admission::lint::cli::main_with_args(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::{mi_option_get, mi_version};

    /// The option numbers above are those of mimalloc 3.3: another version may number them
    /// otherwise (then read them again from its `mimalloc.h`). And they are in force.
    #[test]
    fn the_options_are_set_in_the_mimalloc_they_were_read_from() {
        // SAFETY: reads of mimalloc's version and option table.
        let (version, eager, purge) = unsafe {
            (
                mi_version(),
                mi_option_get(ARENA_EAGER_COMMIT),
                mi_option_get(PURGE_DELAY),
            )
        };
        assert_eq!(
            version / 100,
            303,
            "mimalloc {version}: check the option numbers"
        );
        assert_eq!((eager, purge), (0, 0));
    }
}
