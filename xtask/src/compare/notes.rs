//! The prose of `REPORT.md` about the peers and references added for issue
//! 16: what crates.io indexmap_store 0.2.3 guarantees in each workload (read
//! from its source), the raw floors, and what each store does in
//! `durable-threads`. It describes `compare/src/legacy.rs`, `floor.rs`,
//! `group_floor.rs` and `threads.rs`; a change there must be reflected
//! here.

/// The section, after "What each store did".
pub const LEGACY_AND_FLOORS: &str = "\
## crates.io indexmap_store 0.2.3, the floors and durable-threads

**indexmap_store 0.2.3** is the crates.io crate the specification \
describes and the one this project's users would otherwise run; it is \
built here at its defaults (renamed `indexmap_store_023` in \
`compare/Cargo.toml`). Read from its source (one file, 446 lines): an \
`IndexMap` with the `ahash` hasher; one log of records framed by a 4-byte \
length, a tag and bincode 1, **with no checksum**; writes through a 1 MiB \
`BufWriter`; `flush()` is the buffer's flush and `fdatasync`; \
`sync_on_write: true` does both in every mutation; drop flushes the buffer \
(no sync); no lock on the file. What that guarantees, workload by \
workload:

| workload | 0.2.3 does | a killed process loses | power loss loses |
|---|---|---|---|
| load-per-call, churn, and the untimed loads | `insert` into the buffer; the OS gets 1 MiB at a time | what is still in the buffer: up to 1 MiB, about 7,600 of these records, all of which had returned `Ok` | everything since the last `flush()` (as for any store that is not synced) |
| load-batch | no batch API: one `insert` per entry | as above | as above |
| the durability call ending a load | `flush()`: buffer to the OS, then `fdatasync` | nothing written before it | nothing written before it, unless a compaction's rename is lost (below) |
| durable | `sync_on_write: true`: buffer flushed and `fdatasync` in every `insert` | nothing that returned | nothing that returned, same caveat |
| churn (compaction) | at 2x dead records past 1 MiB, inside a write: writes a temporary file, `fsync`s it, renames it over the log, **without fsyncing the directory** | nothing | the rename can be undone: the old log comes back, without the writes synced to the new one since |

On open, 0.2.3 reads the whole file into memory and replays it, stopping at \
the first record that is short, has a zero length, an unknown tag, or does \
not decode, and truncates the file there (`set_len` + `fsync`). A torn tail \
is handled; but with no checksum, damage in the middle of a synced log \
(a flipped bit in a length) silently drops every record after it, and a \
log opened with the wrong key or value types is truncated at its first \
record instead of refused. indexmap_store checksums every record, refuses \
to truncate damaged synced data or a log of other types, and opens 0.2.x \
logs only with `import_legacy(true)`.

**The floors** `floor-append` and `floor-prealloc` run `durable` only: no \
store, a loop of one `write` of a 124-byte record and one `fdatasync` per \
entry, appended to an empty file, or in place into a file of the right \
length filled with zeros and synced before the clock starts. They are what \
this disk gives a durable write, measured in the same run as the stores; \
issue 16 asks indexmap_store's durable writes (its `Always` policy) for at \
least 0.95 times `floor-prealloc`.

**The group floor** `floor-group` runs `durable-threads` only: no store, \
an ideal group commit. The T threads write the same 124-byte records with \
one `pwrite` each into one file like `floor-prealloc`'s (zero-filled and \
synced before the clock starts), at offsets claimed in order from an \
atomic counter; a writer takes a ticket under a mutex once its write has \
returned, and returns once an `fdatasync` that began after its ticket has \
ended. Leader and followers: a writer not yet durable that sees no sync in \
flight notes the last ticket issued, syncs outside the lock and wakes the \
others; the rest wait on a condition variable. Like `SharedStore`'s, its \
leader first yields (at most 64 times) while writers are between claiming \
an offset and taking a ticket, so the sync covers them too. No store does \
less per durable write, so no store's rate at T threads should be above \
its rate, and its gain from 1 to 8 threads is what group commit can give \
on this machine: a store gains more only by being slower than it at one \
thread. The number of syncs it made is its `check` in the last table.

**durable-threads** shares one store among T threads (1 to 32, each T in a \
fresh process and directory), each insert acknowledged only once durable: \
indexmap_store as one `Mutex<IndexMapStore>` with `sync_on_write: true` \
(each writer syncs under the lock), and its `SharedStore` with group \
commit as `indexmap_store-shared` (a sync runs outside the lock and covers \
every writer waiting); \
fjall: `Keyspace::insert`, then `Database::persist(PersistMode::SyncData)`; \
redb: one write transaction per insert with `Durability::Immediate` (redb \
runs one write transaction at a time); sled: `insert`, then `flush()`, \
which on Linux is `sync_file_range(2)`, not an fsync (note 1 applies); \
and the group floor above. pickledb, 0.2.3, `floor-append` and \
`floor-prealloc` do not run it.

";
