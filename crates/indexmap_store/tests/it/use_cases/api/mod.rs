//! The API at a glance: each method does what the README's table says, and
//! what it did is what a reopen finds.
//!
//! [`examples`] holds the README's quick start, configuration literal and
//! value types; [`mutations`] its writes (order, removals, `modify`, entries,
//! batches); [`lifecycle`] `flush`, `close`, `compact` and the single writer.

mod examples;
mod lifecycle;
mod mutations;

// Reached from `lifecycle` as `super::store_error`.
use super::store_error;
