//! Fuzz target bodies. They live with the facade's tests
//! (`crates/indexmap_store/tests/fuzz_support/targets.rs`, using the model
//! test's operation vocabulary in `tests/common/mod.rs`) so that a plain
//! `cargo test` on stable replays every kept input through the same code.

#[path = "../../crates/indexmap_store/tests/common/mod.rs"]
pub mod common;
#[path = "../../crates/indexmap_store/tests/fuzz_support/targets.rs"]
pub mod targets;
