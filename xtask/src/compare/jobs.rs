//! What `cargo xtask compare` runs: the stores, the workloads, which store
//! runs which workload, and what one (store, workload) produced.

use super::Measure;

/// The stores, in the report's column order; the first is the baseline.
pub const STORES: [&str; 12] = [
    "indexmap_store",
    "indexmap_store-buffered",
    "indexmap_store-shared",
    "indexmap_store-prealloc",
    "indexmap_store-0.2.3",
    "sled",
    "redb",
    "fjall",
    "pickledb",
    "floor-append",
    "floor-prealloc",
    "floor-group",
];

/// The workloads, in the report's row order.
pub const WORKLOADS: [&str; 8] = [
    "load-per-call",
    "load-batch",
    "durable",
    "durable-threads",
    "get",
    "reopen",
    "reopen-scan",
    "churn",
];

/// The thread counts of `durable-threads`, one process each.
pub const THREADS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// Whether `store` runs `workload`: the floors only write durably (the
/// group floor from many threads), the `SharedStore` hook only runs
/// `durable-threads`, the `Buffered` hook the loads without sync;
/// `durable-threads` is run on indexmap_store (behind a mutex), its
/// `SharedStore`, the stores with a durable write shared by threads (sled,
/// redb, fjall) and the group floor.
pub fn supports(store: &str, workload: &str) -> bool {
    match (store, workload) {
        ("floor-append" | "floor-prealloc", w) => w == "durable",
        ("indexmap_store-shared" | "floor-group", w) => w == "durable-threads",
        ("indexmap_store-buffered", w) => w == "load-per-call" || w == "churn",
        ("indexmap_store-prealloc", w) => w == "durable" || w == "durable-threads",
        (s, "durable-threads") => ["indexmap_store", "sled", "redb", "fjall"].contains(&s),
        _ => true,
    }
}

/// What one (store, workload) produced: per run, a [`Measure`] per step;
/// or why it failed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Job {
    /// The store.
    pub store: &'static str,
    /// The workload.
    pub workload: &'static str,
    /// The runs that succeeded: one [`Measure`] per step, in order.
    pub runs: Vec<Vec<Measure>>,
    /// The first failure; a job that failed once has no figure.
    pub error: Option<String>,
    /// Why this build cannot run it (a hook not filled): no figure, and the
    /// report leaves out a store none of whose jobs ran.
    pub unavailable: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_and_hooks_run_only_their_workloads() {
        assert!(supports("floor-prealloc", "durable"));
        assert!(!supports("floor-append", "load-per-call"));
        assert!(supports("indexmap_store-shared", "durable-threads"));
        assert!(!supports("indexmap_store-shared", "durable"));
        assert!(supports("floor-group", "durable-threads"));
        assert!(!supports("floor-group", "durable"));
        assert!(!supports("floor-prealloc", "durable-threads"));
        assert!(supports("indexmap_store-buffered", "load-per-call"));
        assert!(!supports("indexmap_store-buffered", "durable-threads"));
        assert!(supports("indexmap_store-prealloc", "durable"));
        assert!(supports("indexmap_store-prealloc", "durable-threads"));
        assert!(!supports("indexmap_store-prealloc", "load-per-call"));
        assert!(supports("indexmap_store-0.2.3", "load-per-call"));
        assert!(!supports("indexmap_store-0.2.3", "durable-threads"));
        assert!(!supports("pickledb", "durable-threads"));
        for store in ["indexmap_store", "sled", "redb", "fjall"] {
            assert!(supports(store, "durable-threads"), "{store}");
        }
    }
}
