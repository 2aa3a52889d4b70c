//! Holds the README's main job, the `quickstart` example: run it with
//! `cargo run --example quickstart` from the repository root.
