//! The driver: runs workload steps against a log, keeping the shared
//! [`Model`] up to date and checking the log's stats after each.

use std::fmt;
use std::sync::{Arc, Mutex};

use wal_io::{Storage, Wal, WalError, WalOptions};

use super::{Model, Step, check_open, lock, open_log};

/// Why a workload step failed.
#[derive(Debug)]
pub enum StepError {
    /// The call returned an error.
    Wal(WalError),
    /// The call succeeded but broke a promise (described).
    Check(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wal(e) => write!(f, "call failed: {e}"),
            Self::Check(s) => write!(f, "check failed: {s}"),
        }
    }
}

/// Runs workload steps against a log, keeping the shared [`Model`] up to
/// date. The model's lock is never held during a `Wal` call, so a storage
/// hook may read it.
pub struct Driver {
    /// The open log, if any.
    pub wal: Option<Wal>,
    /// Where it lives.
    pub storage: Arc<dyn Storage>,
    /// How it is opened.
    pub opts: WalOptions,
    /// The oracle.
    pub model: Arc<Mutex<Model>>,
}

impl Driver {
    /// A driver over `storage`; call [`Driver::open`] first.
    pub fn new(storage: Arc<dyn Storage>, opts: WalOptions) -> Self {
        Self {
            wal: None,
            storage,
            opts,
            model: Arc::new(Mutex::new(Model::default())),
        }
    }

    /// Closes the log if it is open (sealing it), then opens it again: a
    /// clean reopen, so everything in the model must replay.
    pub fn open(&mut self) -> Result<(), StepError> {
        if let Some(wal) = self.wal.take() {
            wal.close().map_err(StepError::Wal)?;
        }
        let (wal, replayed, report) =
            open_log(self.storage.clone(), &self.opts).map_err(StepError::Wal)?;
        check_open(&wal, &replayed, &report).map_err(StepError::Check)?;
        let mut model = lock(&self.model);
        if replayed.payloads != model.records {
            return Err(StepError::Check(format!(
                "a clean reopen replayed {} records, {} were appended",
                replayed.payloads.len(),
                model.records.len()
            )));
        }
        model.synced = model.records.len();
        drop(model);
        self.wal = Some(wal);
        Ok(())
    }

    /// Runs one step. On error the model keeps the step in flight.
    pub fn step(&mut self, step: &Step) -> Result<(), StepError> {
        let new_list = {
            let mut model = lock(&self.model);
            model.begin(step);
            model.rewrite_to.clone()
        };
        if *step == Step::Reopen {
            return self.open();
        }
        let wal = self
            .wal
            .as_mut()
            .ok_or_else(|| StepError::Check("no open log".to_owned()))?;
        let result = match step {
            Step::Append(p) => wal.append(p).map(|_| ()),
            Step::AppendMany(ps) => wal.append_many(ps.iter().map(Vec::as_slice)).map(|_| ()),
            Step::Batch(ps) => wal.batch().and_then(|mut b| {
                for p in ps {
                    b.push(p)?;
                }
                b.commit().map(|_| ())
            }),
            Step::Sync => wal.sync(),
            Step::Rewrite { .. } => {
                let list = new_list.unwrap_or_default();
                let n = wal
                    .rewrite(|w| {
                        for p in &list {
                            w.push(p)?;
                        }
                        Ok(())
                    })
                    .map_err(StepError::Wal)?;
                if n != list.len() as u64 {
                    return Err(StepError::Check(format!(
                        "rewrite returned {n}, {} records were pushed",
                        list.len()
                    )));
                }
                Ok(())
            }
            Step::Reopen => unreachable!("handled above"),
        };
        result.map_err(StepError::Wal)?;
        let mut model = lock(&self.model);
        model.commit(step);
        let stats = wal.stats();
        let unsynced = (model.records.len() - model.synced) as u64;
        if stats.records != model.records.len() as u64 || stats.unsynced_records != unsynced {
            return Err(StepError::Check(format!(
                "after {}: stats {stats:?}, model has {} records ({} synced)",
                step.describe(),
                model.records.len(),
                model.synced
            )));
        }
        Ok(())
    }
}
