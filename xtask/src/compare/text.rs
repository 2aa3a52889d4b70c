//! The prose of `docs/compare/REPORT.md`: how the comparison is run, what
//! each store was asked to do in each workload and what that guarantees,
//! and the caveats. It describes the code in `compare/src/` (`stores.rs`,
//! `workloads.rs`); a change there must be reflected here.

use std::fmt::Write as _;

use super::Sizes;
use super::report::Context;

/// How the run was made and what each workload does, with this run's sizes.
pub fn intro(cx: &Context) -> String {
    let s = cx.sizes;
    let mut text = String::new();
    let _ = write!(
        text,
        "Written by `cargo xtask compare{}` from the run it describes; rerun it rather \
         than edit the figures. The code is in `compare/` (its own cargo workspace) and \
         `xtask/src/compare*`.\n\n\
         Every store gets the same data: 16-byte keys (16 hex digits of a bijective hash \
         of the entry's index, so keys arrive in no particular order) and 100-byte values \
         (letters), made from fixed seeds. Each (store, workload) runs in its own processes \
         in a fresh directory under `compare/target/runs/`, removed afterwards, so the peak \
         resident memory (`VmHWM`) is that workload's alone. Closing the store is not timed. \
         Before each, `sync` writes back what earlier runs left in the page cache. The runs \
         go round all the (store, workload) pairs {runs} time(s), and every figure is the \
         best of its {runs} run(s) (the highest rate, the shortest time, the smallest size): \
         this machine is shared with other work, which only ever makes a run slower or \
         bigger, so the best run is the least disturbed one. It matters most for the durable \
         writes, whose syncs wait behind any other disk traffic. Every run's figures are in \
         the last table.\n\n\
         | workload | what is timed |\n|---|---|\n\
         | load-per-call | {n} inserts into an empty store, one call each, no sync per insert, then one durability call |\n\
         | load-batch | the same {n} entries through the store's batch path, 10,000 per batch, then one durability call |\n\
         | durable | {m} inserts into an empty store, each made durable before the next (figures are per second, so they compare across sizes); the raw floors `floor-append` and `floor-prealloc` run it too, with no store |\n\
         | durable-threads | for each of 1, 2, 4, 8, 16 and 32 writer threads, in a fresh process and directory: {d} inserts into an empty store shared by the threads (thread t takes every T-th entry), each insert made durable before it returns; timed from the common start to the end of the last thread; the floor `floor-group` runs it too, an ideal group commit with no store |\n\
         | get | {n} gets of uniformly random keys, all present, each value's length checked; the {n} entries were loaded per call before, untimed, in the same process |\n\
         | reopen | a process loads {n} entries per call, syncs and closes; then a fresh process (warm page cache, no in-process cache) opens the store: the open alone is timed (two keys are checked after) |\n\
         | reopen-scan | the same, timing the open plus an iteration over every entry (count and total length checked) |\n\
         | churn | {k} keys each written 10 times ({w} writes, one call each, no sync per write, then one durability call); after the store is closed, the bytes allocated to its directory are divided by the live data ({k} x 116 bytes); then a fresh process times a reopen |\n",
        cx.flags,
        n = thousands(s.n),
        m = thousands(s.durable),
        d = thousands(s.durable_threads),
        k = thousands(s.churn_keys),
        w = thousands(s.churn_keys * 10),
        runs = cx.runs,
    );
    text.push('\n');
    text
}

/// What `workload` is run on, in words (`1,000,000 entries`).
pub fn size_of(workload: &str, s: Sizes) -> String {
    match workload {
        "durable" => format!("{} durable inserts", thousands(s.durable)),
        "durable-threads" => format!(
            "{} durable inserts per thread count",
            thousands(s.durable_threads)
        ),
        "churn" => format!("{} keys x 10 writes", thousands(s.churn_keys)),
        _ => format!("{} entries", thousands(s.n)),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How to read the tables.
pub const LEGEND: &str = "\
Each cell is the store's figure and, in parentheses, that figure divided by \
indexmap_store's. Where higher is better a ratio below 1 means the store did \
worse than indexmap_store; where lower is better a ratio above 1 does. \
This is a shared 2-core machine: differences of less than about 20% are \
within the noise. A number in brackets points to a note under the table.\n\n";

/// Figures that need a note beside them: (store, workload, the note in a
/// few words for the chart, the note). The table and charts mark them `[1]`,
/// `[2]`, ... in this order.
pub const NOTES: [(&str, &str, &str, &str); 14] = [
    (
        "sled",
        "durable",
        "sled's flush() uses sync_file_range(2), not fsync",
        "sled 0.34's `flush()` writes with `sync_file_range(2)` on Linux, which \
         flushes neither the drive's write cache nor the file's metadata; only its \
         background thread calls `fsync`, every 500 ms. This is not a figure for an \
         fsync per write.",
    ),
    (
        "fjall",
        "durable",
        "fjall presets its journal's length: no new length to sync",
        "fjall sets the length of its journal file (64 MiB) when it creates it, so \
         its writes do not change the file's length and its `fdatasync` need not \
         record one; indexmap_store appends to its log. Compare the two sync costs \
         timed under Machine and versions.",
    ),
    (
        "pickledb",
        "durable",
        "pickledb never fsyncs; each write rewrites the whole file",
        "pickledb never syncs: with `AutoDump` every `set` rewrites the whole file \
         (write a temporary file, rename it over the old one) with no fsync, so a \
         write survives a process crash but not power loss. Its cost per write grows \
         with the size of the store.",
    ),
    (
        "pickledb",
        "load-batch",
        "pickledb has no batch API: one set per entry",
        "pickledb has no batch API for key-value pairs: one `set` per entry, as in \
         load-per-call.",
    ),
    (
        "indexmap_store-0.2.3",
        "load-per-call",
        "0.2.3 buffers up to 1 MiB in the process: a kill loses it",
        "0.2.3 at its defaults writes through a 1 MiB `BufWriter`: a write reaches the \
         OS only when the buffer fills (about 7,600 of these 137-byte records) or at \
         `flush()`, so a killed process loses up to 1 MiB of writes that had returned; \
         indexmap_store hands every write to the OS before it returns. The final \
         `flush()` (`fdatasync`) is in both figures.",
    ),
    (
        "indexmap_store-0.2.3",
        "load-batch",
        "0.2.3 has no batch API: one insert per entry",
        "0.2.3 has no batch API: one `insert` per entry, coalesced by its `BufWriter`.",
    ),
    (
        "indexmap_store-0.2.3",
        "durable",
        "0.2.3: fdatasync per write, no checksums",
        "0.2.3 with `sync_on_write: true` flushes its buffer and calls `fdatasync` in \
         every mutation, as indexmap_store does. What it does not do: its records carry \
         no checksum (recovery truncates at the first record that does not decode, so a \
         damaged synced record silently takes every later one with it), and its \
         compaction does not fsync the directory after the rename (after power loss the \
         old log can come back, without the writes synced since).",
    ),
    (
        "indexmap_store-0.2.3",
        "churn",
        "0.2.3: writes buffered in the process; compaction rename not synced",
        "0.2.3 at its defaults, as in load-per-call: up to 1 MiB of writes in the \
         process's buffer; it compacts (inside the write that crosses the threshold, \
         2x dead records past 1 MiB, as indexmap_store) without fsyncing the directory.",
    ),
    (
        "floor-append",
        "durable",
        "no store: write + fdatasync, appended",
        "The floor `floor-append` is no store: one `write` of a 124-byte record (the \
         116 bytes of key and value and 8 of framing) and one `fdatasync` per entry, \
         appended to a file that starts empty, so that every sync also records the \
         file's new length, as an appending log's does.",
    ),
    (
        "indexmap_store-prealloc",
        "durable",
        "indexmap_store with its log preallocated in 64 MiB chunks",
        "`indexmap_store-prealloc` is indexmap_store with `OpenOptions::preallocate(Some(64 \
         MiB))` (off by default): its log grows in chunks set aside ahead of the records, \
         so a durable write does not change the file's length, as fjall's journal and \
         `floor-prealloc`'s file do not. `durable` runs it with `sync_on_write: true`, \
         `durable-threads` through a `SharedStore` with `Durability::Always`.",
    ),
    (
        "indexmap_store-prealloc",
        "durable-threads",
        "SharedStore over a log preallocated in 64 MiB chunks",
        "`indexmap_store-prealloc` in this column is the `SharedStore` of \
         `indexmap_store-shared` over a log preallocated in 64 MiB chunks \
         (`OpenOptions::preallocate`), as `floor-group`'s file is.",
    ),
    (
        "floor-prealloc",
        "durable",
        "no store: write + fdatasync in place in a zero-filled file",
        "The floor `floor-prealloc` is no store: the same records written in place \
         into a file of the right length, filled with zeros and synced before the \
         clock starts, so its syncs record no new length or block: the cheapest \
         durable write on this disk, the floor of issue 16's target.",
    ),
    (
        "indexmap_store",
        "durable-threads",
        "indexmap_store: a Mutex<IndexMapStore>, one fdatasync per write",
        "indexmap_store in this column is a plain `IndexMapStore` behind a `Mutex`, \
         with `sync_on_write: true`: each writer syncs while holding the lock, so no \
         two syncs overlap and the rate cannot grow with the threads. Threads should \
         share a store through `SharedStore` (column `indexmap_store-shared`), whose \
         group commit runs one `fdatasync` outside the lock for every writer waiting.",
    ),
    (
        "floor-group",
        "durable-threads",
        "no store: an ideal group commit of raw records, the floor",
        "The floor `floor-group` is no store: the threads write `floor-prealloc`'s \
         124-byte records with one `pwrite` each into one file of the right length, \
         filled with zeros and synced before the clock starts, at offsets claimed in \
         order, and each waits for an `fdatasync` that began after its write returned: \
         one writer leads a sync for all those waiting (its `check` in the last table \
         is the number of syncs). It is group commit with no store work: no store's \
         rate at a thread count should be above it on this machine. The targets \
         section holds issue 16's 8-thread target against its own gain.",
    ),
];

/// What each store was asked to do, and what that guarantees.
pub const WHAT_EACH_STORE_DID: &str = "\
## What each store did

Every store runs with its default configuration, each used the way its \
documentation shows. \"Process crash\" means the process is killed; \"power \
loss\" includes an OS crash.

| store | one write (load-per-call, churn, and the untimed loads) | batch (load-batch, 10,000 entries) | the durability call ending a load or churn | durable (each write) |
|---|---|---|---|---|
| indexmap_store | `insert` with `StoreConfig::default()`: one `write(2)` per insert, so a process crash loses nothing, power loss what followed the last sync | `insert_many`: one record per batch | `flush()`: `fdatasync` | `StoreConfig { sync_on_write: true, .. }`: `fdatasync` in every insert |
| sled 0.34 | `Db::insert`; sled's own thread flushes every 500 ms (default `flush_every_ms`), so a process crash can lose the writes since then | `Db::apply_batch` | `Db::flush()`: writes its buffers with `sync_file_range(2)` on Linux (see note 1 above) | `insert`, then `flush()` |
| redb 4 | a write transaction per insert, committed with `Durability::None`: not persisted until a later durable commit | one write transaction per batch, `Durability::None` | an empty write transaction committed with `Durability::Immediate` | a write transaction per insert with the default `Durability::Immediate` |
| fjall 3 | `Keyspace::insert`: the journal is flushed to the OS on every write (`PersistMode::Buffer`, the default), so a process crash loses nothing, power loss what followed the last persist | a `WriteBatch` per batch | `Database::persist(PersistMode::SyncData)`: `fdatasync` of the journal | `insert`, then `persist(PersistMode::SyncData)` |
| indexmap_store 0.2.3 (crates.io) | `insert` with `StoreConfig::default()`: into a 1 MiB `BufWriter`, reaching the OS when it fills, so a process crash loses up to 1 MiB of writes, power loss what followed the last sync | no batch API: one `insert` per entry | `flush()`: the buffer, then `fdatasync` | `StoreConfig { sync_on_write: true, .. }`: the buffer flushed and `fdatasync` in every insert |
| pickledb 0.5 | `set` with `DumpUponRequest`: in memory only until the next dump | no batch API for key-value pairs: one `set` per entry | `dump()`: serializes the whole map (bincode), writes a temporary file and renames it over the old one, **with no fsync**: it survives a process crash, not power loss | `AutoDump`: every `set` dumps the whole file, again without fsync, so its figure buys less than the others' |

Reads: indexmap_store `get` reads its in-memory map (0.2.3 too, \
through `as_indexmap().get(&str)`); sled `Db::get`; redb: \
one read transaction shared by all the gets (one per get would be slower); \
fjall `Keyspace::get`; pickledb `get::<String>` (decodes the value each \
time). On open, indexmap_store replays its whole log into memory and \
pickledb reads and decodes its whole file, while sled, redb and fjall read \
what they need on demand: `reopen` alone favours the lazy ones, \
`reopen-scan` reads everything.

Space and compaction in `churn`, all at their defaults: indexmap_store \
rewrites its log when it holds at least twice as many records as live \
entries and is past 1 MiB (inside the write that crosses the threshold); \
sled and fjall compact in background threads; redb updates its B-tree \
copy-on-write and reuses freed pages; pickledb's file is always one \
snapshot of the live map. Memory: indexmap_store and pickledb hold every \
entry in memory; sled's page cache is 1 GiB by default, redb's 1 GiB, \
fjall's block cache 32 MiB plus 64 MiB memtables. Values are stored as \
bytes by sled, redb and fjall (fjall compresses blocks with LZ4 by \
default), as bincode `String`s by indexmap_store and pickledb.

";

/// What the figures do not say.
pub const CAVEATS: &str = "\
## Caveats

- A 2-core virtual machine that other work shares. sled and fjall also use \
  background threads, which compete for the same two cores, and whose work \
  after the timed part (flushes, compaction) is not in the figure unless it \
  delays the final durability call.
- The durable figures depend on what a sync costs on this virtual disk (timed \
  under Machine and versions). On another disk the durable figures change, \
  and so may their ratios.
- Reopens are measured with a warm page cache; a cold-cache open is not \
  measured.
- Keys are inserted in hash order (random for an ordered store); \
  sequential keys would favour the B-tree and LSM stores.
- Disk use is what the file system allocated (`du`), not file lengths: \
  fjall's journal has a length of 64 MiB from the start but is mostly \
  unallocated. Both are in the last table.
- pickledb is included as the simplest embedded store people reach for; its \
  `durable` figure does not include a sync (note 3), and its cost per write \
  grows with the size of the store (every write rewrites the whole file).
- sled's `durable` figure is for `sync_file_range(2)`, not `fsync` (note 1); \
  note 2 says why fjall's syncs may cost less than indexmap_store's.
- indexmap_store's figures are for `IndexMapStore<String, String>`, the \
  type the project's own benches use.
";
