//! The one oracle: what was appended, what a successful sync covered, a
//! rewrite in flight, and whether what a recovery replayed is possible.

use super::Step;

/// The oracle: what was appended, what a successful sync covered, and a
/// rewrite in flight.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The payloads appended or being appended, in order: the log's
    /// contents if nothing is lost.
    pub records: Vec<Vec<u8>>,
    /// How many of `records` a successful sync (or open, or rewrite) made
    /// durable.
    pub synced: usize,
    /// While a rewrite is in flight: the list it replaces `records` with.
    pub rewrite_to: Option<Vec<Vec<u8>>>,
}

impl Model {
    /// Marks `step` in flight: appended payloads count as appended, a
    /// rewrite's new list becomes an acceptable outcome.
    pub fn begin(&mut self, step: &Step) {
        match step {
            Step::Append(p) => self.records.push(p.clone()),
            Step::AppendMany(ps) | Step::Batch(ps) => self.records.extend(ps.iter().cloned()),
            Step::Rewrite { keep_from, extra } => {
                let from = (*keep_from).min(self.records.len());
                let mut list = self.records[from..].to_vec();
                list.extend(extra.iter().cloned());
                self.rewrite_to = Some(list);
            }
            Step::Sync | Step::Reopen => {}
        }
    }

    /// Records that `step`, begun with [`Model::begin`], succeeded.
    pub fn commit(&mut self, step: &Step) {
        match step {
            Step::Append(_) | Step::AppendMany(_) | Step::Batch(_) => {}
            Step::Sync | Step::Reopen => self.synced = self.records.len(),
            Step::Rewrite { .. } => {
                if let Some(list) = self.rewrite_to.take() {
                    self.records = list;
                }
                self.synced = self.records.len();
            }
        }
    }

    /// Whether `got` (the payloads a recovery replayed) is possible: the
    /// first k records for some synced <= k <= appended, or, with a rewrite
    /// in flight, exactly its new list.
    pub fn check(&self, got: &[Vec<u8>]) -> Result<(), String> {
        if self.rewrite_to.as_deref() == Some(got) {
            return Ok(());
        }
        let n = got.len();
        let bounds = format!(
            "synced {} <= k <= appended {}{}",
            self.synced,
            self.records.len(),
            if self.rewrite_to.is_some() {
                " (or the rewrite's new list)"
            } else {
                ""
            }
        );
        if let Some(i) = (0..n.min(self.records.len())).find(|&i| got[i] != self.records[i]) {
            return Err(format!(
                "replayed record {i} ({} B) differs from appended record {i} ({} B); {n} replayed, {bounds}",
                got[i].len(),
                self.records[i].len()
            ));
        }
        if n < self.synced || n > self.records.len() {
            return Err(format!("{n} records replayed, expected {bounds}"));
        }
        Ok(())
    }
}
