//! `flink-lint`: see `flink_admission::lint::cli`.

/// mimalloc with immediate purging (see `flink_admission::alloc`).
#[global_allocator]
static GLOBAL: flink_admission::alloc::Allocator = flink_admission::alloc::Allocator;

fn main() {
    // Standard error is locked per write, not for the whole run: a message written on another
    // thread (the panic hook's, on a rayon worker) would otherwise wait for the main thread,
    // which waits for that worker, and the run would hang instead of failing.
    let code = flink_admission::lint::cli::main_with_args(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    #[test]
    fn mimalloc_runs_with_its_options_in_force() {
        assert_eq!(flink_admission::alloc::options_in_force(), Ok(()));
    }
}
