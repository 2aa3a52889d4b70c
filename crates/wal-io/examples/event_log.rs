//! wal-io on its own, as an append-only event log: write some events,
//! reopen the log (as a restarted process would), replay and print them.
//!
//! ```sh
//! cargo run -p wal-io --example event_log
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use wal_io::{FsStorage, Wal, WalOptions};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join("wal-io-event-log");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("events.log");
    let opts = WalOptions {
        app_tag: b"example/events".to_vec(),
        ..WalOptions::default()
    };
    println!("log file: {}", path.display());

    let (mut wal, report) = Wal::open(Arc::new(FsStorage::new()), &path, opts.clone(), |_| Ok(()))?;
    println!("opened: {} earlier events", report.records);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    wal.append(format!("{now} service started").as_bytes())?;
    let batch = [format!("{now} job 1 queued"), format!("{now} job 2 queued")];
    wal.append_many(batch.iter().map(|s| s.as_bytes()))?;
    wal.sync()?;
    drop(wal);

    println!("replaying after reopen:");
    let (wal, _) = Wal::open(Arc::new(FsStorage::new()), &path, opts, |record| {
        println!(
            "  #{:<4} {}",
            record.seq,
            String::from_utf8_lossy(record.payload)
        );
        Ok(())
    })?;
    let stats = wal.stats();
    println!("{} events, {} bytes", stats.records, stats.bytes);
    Ok(())
}
