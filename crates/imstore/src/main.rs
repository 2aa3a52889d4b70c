//! The `imstore` command, without key and value types: see the crate docs.

fn main() -> std::process::ExitCode {
    imstore::run_untyped()
}
