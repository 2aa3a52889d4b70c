//! The removed indices of a record, as runs: [`IndexRuns`] (what
//! `retain`, `truncate`, `drain` and `split_off` log, see
//! [`crate::remove_many`]) and [`RunsBuilder`].
//!
//! A record of removed runs is applied in one O(n) pass that keeps the
//! order of the rest (`IndexMap::retain` with a cursor), or by
//! `IndexMap::truncate` when the removed entries are the last ones.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Sorted, disjoint, non-empty runs of indices, each as `(gap, len)`: the
/// run starts `gap` indices after the previous run's end (after 0 for the
/// first) and holds `len` indices. Both are varints on the wire, so a
/// record of removed indices costs a few bytes per run, however long.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexRuns(Vec<(u64, u64)>);

/// Builds [`IndexRuns`] from ascending indices.
#[derive(Debug, Default)]
pub(crate) struct RunsBuilder {
    runs: Vec<(u64, u64)>,
    /// End (exclusive) of the last run.
    end: u64,
}

impl RunsBuilder {
    /// Adds `index`, which must be greater than every index added before.
    pub(crate) fn push(&mut self, index: u64) {
        match self.runs.last_mut() {
            Some((_, len)) if index == self.end => *len += 1,
            _ => self.runs.push((index - self.end, 1)),
        }
        self.end = index + 1;
    }

    /// The runs.
    pub(crate) fn finish(self) -> IndexRuns {
        IndexRuns(self.runs)
    }
}

impl IndexRuns {
    /// One run: `start..end` (`start < end`).
    pub(crate) fn range(start: usize, end: usize) -> Self {
        IndexRuns(vec![(start as u64, (end - start) as u64)])
    }

    /// The runs, as `(gap, len)` pairs.
    pub(crate) fn runs(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// Whether there is no index.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many indices (saturating: a hostile record cannot overflow).
    pub(crate) fn count(&self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |sum, &(_, len)| sum.saturating_add(len))
    }

    /// The runs as absolute `start..end` ranges, checked against a map of
    /// `len` entries: every run non-empty, in order, within bounds.
    fn ranges(&self, len: usize) -> Result<Vec<(usize, usize)>, String> {
        let mut out = Vec::with_capacity(self.0.len());
        let mut end = 0u64;
        for &(gap, run) in &self.0 {
            let start = end.checked_add(gap);
            let stop = start.and_then(|s| s.checked_add(run));
            match (start, stop) {
                (Some(start), Some(stop)) if run > 0 && stop <= len as u64 => {
                    out.push((start as usize, stop as usize));
                    end = stop;
                }
                _ => {
                    return Err(format!(
                        "removal of a run of {run} entries {gap} after index {end} in a map of {len}"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Removes the indices from `map`, keeping the order of the rest, in
    /// one O(n) pass (O(removed) when they are the last entries); an
    /// `Err` describing the problem, and `map` unchanged, if an index is
    /// out of bounds or a run is empty.
    pub(crate) fn apply<K, V, S>(&self, map: &mut IndexMap<K, V, S>) -> Result<(), String> {
        let ranges = self.ranges(map.len())?;
        match ranges[..] {
            [] => {}
            [(start, end)] if end == map.len() => map.truncate(start),
            _ => {
                let mut runs = ranges.into_iter();
                let mut current = runs.next();
                let mut i = 0usize;
                map.retain(|_, _| {
                    let keep = match current {
                        Some((start, end)) if i >= start => {
                            if i + 1 == end {
                                current = runs.next();
                            }
                            false
                        }
                        _ => true,
                    };
                    i += 1;
                    keep
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Op, OpRef, decode, encode_into};

    fn runs_of(indices: &[u64]) -> IndexRuns {
        let mut b = RunsBuilder::default();
        for &i in indices {
            b.push(i);
        }
        b.finish()
    }

    #[test]
    fn runs_are_gaps_and_lengths() {
        assert_eq!(runs_of(&[1, 2, 5]).0, [(1, 2), (2, 1)]);
        assert_eq!(runs_of(&[0, 1, 2]).0, [(0, 3)]);
        assert!(runs_of(&[]).is_empty());
        assert_eq!(runs_of(&[1, 2, 5]).count(), 3);
    }

    #[test]
    fn runs_apply_and_refuse_what_does_not_fit() {
        let mut map: IndexMap<u32, ()> = (0..8).map(|i| (i, ())).collect();
        runs_of(&[1, 2, 5]).apply(&mut map).unwrap();
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [0, 3, 4, 6, 7]);
        runs_of(&[3, 4]).apply(&mut map).unwrap();
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [0, 3, 4]);
        for bad in [
            IndexRuns(vec![(0, 4)]),
            IndexRuns(vec![(1, 0)]),
            IndexRuns(vec![(u64::MAX, 2)]),
            IndexRuns(vec![(0, 1), (0, u64::MAX)]),
        ] {
            assert!(bad.apply(&mut map).is_err(), "{bad:?}");
            assert_eq!(map.len(), 3);
        }
    }
    #[test]
    fn golden_retain_record_bytes() {
        // RECORDS.md's worked example: removing indices 1, 2 and 5.
        let mut buf = Vec::new();
        encode_into(
            &mut buf,
            &OpRef::<String, u32>::RemoveRuns(&runs_of(&[1, 2, 5])),
        )
        .unwrap();
        assert_eq!(buf, [7, 2, 1, 2, 2, 1]);
        let Op::RemoveRuns(runs) = decode::<String, u32>(&buf).unwrap() else {
            panic!("not a removal");
        };
        assert_eq!(runs, runs_of(&[1, 2, 5]));
    }
}
