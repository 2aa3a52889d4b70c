//! Workloads: the calls a test makes ([`Step`]), and the deterministic
//! generator of a seed's steps and payloads.

use super::Rng;

/// One call of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `Wal::append`.
    Append(Vec<u8>),
    /// `Wal::append_many`.
    AppendMany(Vec<Vec<u8>>),
    /// `Wal::batch`, `push` each, `commit`.
    Batch(Vec<Vec<u8>>),
    /// `Wal::sync`.
    Sync,
    /// `Wal::rewrite` with the current records from `keep_from` on,
    /// followed by `extra`.
    Rewrite {
        /// How many of the oldest records to drop.
        keep_from: usize,
        /// New records after the kept ones.
        extra: Vec<Vec<u8>>,
    },
    /// Drop the `Wal` and open it again.
    Reopen,
}

impl Step {
    /// A short description for failure messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Append(p) => format!("append({} B)", p.len()),
            Self::AppendMany(ps) => format!("append_many({} records)", ps.len()),
            Self::Batch(ps) => format!("batch({} records)", ps.len()),
            Self::Sync => "sync".to_owned(),
            Self::Rewrite { keep_from, extra } => {
                format!("rewrite(drop {keep_from}, add {})", extra.len())
            }
            Self::Reopen => "reopen".to_owned(),
        }
    }
}

/// Shape of a generated workload.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadShape {
    /// Number of calls.
    pub calls: usize,
    /// Rewrite (dropping a prefix) once the log holds this many bytes...
    pub max_bytes: usize,
    /// ...or this many records.
    pub max_records: usize,
}

impl WorkloadShape {
    /// `calls` calls over a log kept under ~48 KiB.
    #[must_use]
    pub fn new(calls: usize) -> Self {
        Self {
            calls,
            max_bytes: 48 << 10,
            max_records: 80,
        }
    }
}

/// A payload of a random size (mostly 0..2000 bytes, one in ten 4..12 KiB,
/// so that records straddle 4 KiB pages) starting with its unique `id`.
pub fn payload(rng: &mut Rng, id: u64) -> Vec<u8> {
    let len = match rng.index(100) {
        0..=4 => rng.index(8),
        5..=59 => rng.range(8, 200),
        60..=89 => rng.range(200, 2000),
        _ => rng.range(4097, 12 << 10),
    };
    let mut p = vec![0; len];
    rng.fill(&mut p);
    let id = id.to_le_bytes();
    let n = len.min(id.len());
    p[..n].copy_from_slice(&id[..n]);
    p
}

/// The deterministic workload of `seed`: appends, batches, syncs, rewrites
/// (keeping everything, dropping a prefix, or adding new records) and
/// reopens, with a rewrite dropping old records whenever the log grows
/// past the shape's bounds. It depends on the seed only, never on results.
#[must_use]
pub fn workload(seed: u64, shape: WorkloadShape) -> Vec<Step> {
    let mut rng = Rng::new(seed ^ 0x5EED_0F3A_u64);
    let mut sizes: Vec<usize> = Vec::new();
    let mut id = seed << 32;
    let mut next = |rng: &mut Rng| {
        id += 1;
        payload(rng, id)
    };
    let mut steps = Vec::with_capacity(shape.calls);
    while steps.len() < shape.calls {
        let bytes: usize = sizes.iter().map(|s| s + 16).sum();
        let step = if bytes > shape.max_bytes || sizes.len() > shape.max_records {
            let keep = rng.range(0, 10).min(sizes.len());
            let extra = (0..rng.index(3)).map(|_| next(&mut rng)).collect();
            Step::Rewrite {
                keep_from: sizes.len() - keep,
                extra,
            }
        } else {
            match rng.index(100) {
                0..=39 => Step::Append(next(&mut rng)),
                40..=49 => Step::AppendMany((0..rng.range(1, 6)).map(|_| next(&mut rng)).collect()),
                50..=57 => Step::Batch((0..rng.range(0, 5)).map(|_| next(&mut rng)).collect()),
                58..=84 => Step::Sync,
                85..=91 => {
                    let keep_from = match rng.index(3) {
                        0 => 0,
                        1 => rng.index(sizes.len() + 1),
                        _ => sizes.len(),
                    };
                    let extra = (0..rng.index(4)).map(|_| next(&mut rng)).collect();
                    Step::Rewrite { keep_from, extra }
                }
                _ => Step::Reopen,
            }
        };
        match &step {
            Step::Append(p) => sizes.push(p.len()),
            Step::AppendMany(ps) | Step::Batch(ps) => sizes.extend(ps.iter().map(Vec::len)),
            Step::Rewrite { keep_from, extra } => {
                sizes.drain(..*keep_from);
                sizes.extend(extra.iter().map(Vec::len));
            }
            Step::Sync | Step::Reopen => {}
        }
        steps.push(step);
    }
    steps
}
