//! Writes seed corpora made from real logs into `fuzz/corpus/<target>/`:
//! logs written by wal-io and by the store (whole, cut, and with a damaged
//! byte), framed the way each target reads its input. Run by
//! `cargo xtask fuzz` before fuzzing; the corpus itself is not committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap_store::{IndexMapStore, StoreConfig};
use wal_io::sim::SimStorage;
use wal_io::{Wal, WalOptions};

fn main() -> std::io::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), PathBuf::from);
    let mut written = 0;
    let mut put = |target: &str, name: String, bytes: &[u8]| -> std::io::Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        written += 1;
        Ok(())
    };

    // A wal-io log of mixed record sizes, with syncs in between.
    let sim = SimStorage::new(1);
    let (mut wal, _) = Wal::open(Arc::new(sim.clone()), "seed.log", WalOptions::default(), |_| Ok(()))
        .map_err(std::io::Error::from)?;
    for i in 0..12u32 {
        let payload = vec![i as u8; (i as usize * 37) % 300];
        wal.append(&payload).map_err(std::io::Error::from)?;
        if i % 4 == 3 {
            wal.sync().map_err(std::io::Error::from)?;
        }
    }
    drop(wal);
    let log = sim.read_file("seed.log").unwrap_or_default();
    for cut in [log.len(), log.len() - 5, log.len() / 2, 60, 44, 20] {
        let mut input = vec![0u8]; // flags: the log brings its own header
        input.extend_from_slice(&log[..cut]);
        put("recover", format!("wal-cut-{cut}"), &input)?;
        let mut salvage = input.clone();
        salvage[0] = 2;
        if let Some(b) = salvage.get_mut(cut / 2 + 1) {
            *b ^= 0x10;
        }
        put("recover", format!("wal-flip-{cut}"), &salvage)?;
    }
    // Frames for the decoder: each record of the log, with its sequence number.
    let mut offset = wal_format::HEADER_LEN;
    let mut seq = 0u64;
    while let Ok(wal_format::Decoded::Complete(r)) =
        wal_format::decode_record(&log[offset..], seq, wal_format::DEFAULT_MAX_RECORD_LEN)
    {
        let mut input = seq.to_le_bytes().to_vec();
        input.push(0);
        input.extend_from_slice(&log[offset..offset + r.frame_len]);
        put("frame_decode", format!("frame-{seq}"), &input)?;
        offset += r.frame_len;
        seq += 1;
    }

    // A store's log, with compaction: for `recover` under the store's tag it
    // is a foreign log, which exercises the refusal path too.
    let sim = SimStorage::new(2);
    let cfg = StoreConfig { min_compact_bytes: 128, ..StoreConfig::default() };
    let mut store: IndexMapStore<String, u32> =
        IndexMapStore::open_with_storage(Arc::new(sim.clone()), "store.log", cfg)?;
    for i in 0..40u32 {
        store.insert(format!("k{}", i % 7), i)?;
        if i % 9 == 0 {
            store.shift_remove("k3")?;
        }
    }
    drop(store);
    let mut input = vec![0u8];
    input.extend(sim.read_file("store.log").unwrap_or_default());
    put("recover", "store-log".to_owned(), &input)?;

    // Operation sequences for `store_ops`: no crash, and crashes early and late.
    for (i, crash) in [u16::MAX, 3, 17, 60].into_iter().enumerate() {
        let mut input = crash.to_le_bytes().to_vec();
        input.extend_from_slice(&[i as u8, 0x09]);
        input.extend((0..200u32).map(|j| (j * 31 + i as u32 * 7) as u8));
        put("store_ops", format!("ops-{i}"), &input)?;
    }
    println!("wrote {written} seed inputs under {}", root.display());
    Ok(())
}
