//! openraft's own storage conformance suite, on real files and on the
//! simulated storage.

use std::sync::Arc;

use indexmap_store_raft::openraft::StorageError;
use indexmap_store_raft::openraft::testing::{StoreBuilder, Suite};
use indexmap_store_raft::wal_io::sim::SimStorage;
use indexmap_store_raft::wal_io::{FsStorage, Storage};
use indexmap_store_raft::{LogStore, MapConfig, NodeId, StateMachine};

type C = MapConfig<String, String>;
type Log = LogStore<String, String>;
type Sm = StateMachine<String, String>;

fn open(
    storage: Arc<dyn Storage>,
    dir: &std::path::Path,
) -> Result<(Log, Sm), StorageError<NodeId>> {
    let (log, _) = LogStore::open(Arc::clone(&storage), dir.join("raft.log"))
        .map_err(|e| e.into_storage_error())?;
    let sm = StateMachine::open(storage, dir.join("snapshot.log"), Some(&log))
        .map_err(|e| e.into_storage_error())?;
    Ok((log, sm))
}

struct OnFiles;

impl StoreBuilder<C, Log, Sm, tempfile::TempDir> for OnFiles {
    async fn build(&self) -> Result<(tempfile::TempDir, Log, Sm), StorageError<NodeId>> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (log, sm) = open(Arc::new(FsStorage::new()), dir.path())?;
        Ok((dir, log, sm))
    }
}

struct OnSim;

impl StoreBuilder<C, Log, Sm, ()> for OnSim {
    async fn build(&self) -> Result<((), Log, Sm), StorageError<NodeId>> {
        let (log, sm) = open(Arc::new(SimStorage::new(7)), std::path::Path::new(""))?;
        Ok(((), log, sm))
    }
}

#[test]
fn openraft_suite_passes_on_real_files() -> Result<(), StorageError<NodeId>> {
    Suite::test_all(OnFiles)
}

#[test]
fn openraft_suite_passes_on_simulated_storage() -> Result<(), StorageError<NodeId>> {
    Suite::test_all(OnSim)
}
