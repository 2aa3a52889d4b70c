//! For the indexmap_store workspace's own tests and fuzz targets, not for
//! users of the store: the facade's operation vocabulary written once.
//!
//! [`Op`] names every mutating method of `IndexMapStore` (plus compaction,
//! flush and reopen). [`apply_model`] runs an op on a plain `IndexMap`,
//! [`apply_store`] (or [`StoreUnderTest::apply`]) on a real store, and both
//! return an [`Outcome`] holding what the method returned, so a test can
//! demand that they agree; [`check_step`] checks what else a step must
//! leave true. The key and value types, and the closures of the
//! value-dependent ops, come from a [`Flavor`]: [`small`] is the model
//! test's, and the crash and kill tests bring their own.
//!
//! [`fuzz`] holds the fuzz target bodies, which `fuzz/` runs under
//! libFuzzer and the facade's tests replay on stable.
//!
//! The facade's tests keep their own hand parser of the log format: it is
//! a second oracle on purpose, written apart from both the library and
//! this kit.

mod flavor;
pub mod fuzz;
mod model;
mod op;
mod oracle;
pub mod small;
mod store;

pub use flavor::{Flavor, Small};
pub use model::apply_model;
pub use op::{BatchItem, OP_VARIANTS, Op, Outcome};
pub use oracle::{check_step, entries, latest_matching_state, model_entries, spec_says_compact};
pub use store::{StoreUnderTest, apply_store, store_error};
