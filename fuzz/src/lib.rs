//! Fuzz target bodies. They live in `store-test-kit` (`fuzz` module, using
//! the kit's operation vocabulary) so that a plain `cargo test` on stable
//! replays every kept input through the same code.

pub use store_test_kit::fuzz as targets;
