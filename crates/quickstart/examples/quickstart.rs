//! The README's main job: create a store, write to it, reopen it, and show
//! what was recovered. Run it twice: the second run starts from the state
//! the first one left.
//!
//! ```sh
//! cargo run --example quickstart            # target/quickstart/users.log in this checkout
//! cargo run --example quickstart -- my.log  # or a path of your choice
//! ```

use std::io;
use std::path::{Path, PathBuf};

use indexmap_store::IndexMapStore;

fn main() -> io::Result<()> {
    let path = match std::env::args_os().nth(1) {
        Some(p) => PathBuf::from(p),
        // Inside this checkout's build directory: private to whoever
        // cloned it, unlike a fixed name under the shared temp directory.
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap_or(Path::new("."))
            .join("target/quickstart/users.log"),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    println!("store file: {}", path.display());

    let mut store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    let report = store.recovery_report();
    if report.created {
        println!("created a new store");
    } else {
        println!(
            "recovered {} entries from {} log records in {:.1?}:",
            store.len(),
            report.records,
            report.duration
        );
        for (name, visits) in &store {
            println!("  {name}: {visits}");
        }
    }

    // One more visit each; new names go last, existing ones keep their place.
    for name in ["alice", "bob", "carol"] {
        store
            .entry(name.to_owned())
            .and_modify(|v| *v += 1)?
            .or_insert(1)?;
    }
    store.flush()?; // survive power loss, not just a crash of this process
    drop(store);

    let store: IndexMapStore<String, u64> = IndexMapStore::open(&path)?;
    println!("after this run, reopened from disk (insertion order):");
    for (name, visits) in &store {
        println!("  {name}: {visits}");
    }
    let stats = store.stats();
    println!(
        "log: {} bytes, {} records, {} live, {} compactions",
        stats.log_bytes, stats.total_records, stats.live_records, stats.compactions
    );
    println!(
        "run again to see the state recovered; delete {} to start over",
        path.display()
    );
    Ok(())
}
