//! What the tests share: the workspace's seeded generator and a runtime
//! per call.

use std::future::Future;

pub use test_support::rng::Rng;

/// Runs `future` to completion on a new single-threaded runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}
