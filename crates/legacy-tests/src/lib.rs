//! Nothing but tests: see `tests/import.rs`. The crate exists because those
//! tests depend on two crates named `indexmap_store`: ours, and 0.2.3 from
//! crates.io, whose logs they import.
