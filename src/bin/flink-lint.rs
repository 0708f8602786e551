//! `flink-lint`: see `flink_admission::lint::cli`.

fn main() {
    let code = flink_admission::lint::cli::main_with_args(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
