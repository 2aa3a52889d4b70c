//! [`StoreConfig`]: durability, compaction and buffering settings.

/// How a store syncs, compacts and buffers. Every field is public, so a
/// struct literal with `..StoreConfig::default()` is the way to set a few.
///
/// ```
/// use indexmap_store::StoreConfig;
/// let cfg = StoreConfig { sync_on_write: true, ..StoreConfig::default() };
/// assert_eq!(cfg.compact_ratio, 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreConfig {
    /// `fsync` (`fdatasync`) after every mutation, before it returns:
    /// durable against power loss, and slow. Default `false`: each mutation
    /// still reaches the operating system before it returns, so a killed
    /// process loses nothing, but power loss may lose what came after the
    /// last [`flush`](crate::IndexMapStore::flush).
    pub sync_on_write: bool,
    /// Never compact automatically while the log is at most this many
    /// bytes. Default 1 MiB.
    pub min_compact_bytes: u64,
    /// Compact automatically once `total_records >= compact_ratio *
    /// live_records` (and the log is past `min_compact_bytes`). With no live
    /// records the ratio is infinite. Default 2.0.
    pub compact_ratio: f64,
    /// Capacity of the buffers that encode records, read the log on open
    /// and write compacted logs. Default 1 MiB.
    pub buf_capacity: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            sync_on_write: false,
            min_compact_bytes: 1 << 20,
            compact_ratio: 2.0,
            buf_capacity: 1 << 20,
        }
    }
}

impl StoreConfig {
    /// Whether a log of `log_bytes` bytes holding `total` records, `live`
    /// of them live, should be compacted.
    #[must_use]
    pub fn should_compact(&self, log_bytes: u64, total: u64, live: u64) -> bool {
        // Compacting a log with no dead record would change nothing.
        if log_bytes <= self.min_compact_bytes || total <= live {
            return false;
        }
        live == 0 || total as f64 >= self.compact_ratio * live as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_specified_ones() {
        let cfg = StoreConfig::default();
        assert!(!cfg.sync_on_write);
        assert_eq!(cfg.min_compact_bytes, 1024 * 1024);
        assert_eq!(cfg.compact_ratio, 2.0);
        assert_eq!(cfg.buf_capacity, 1024 * 1024);
    }

    #[test]
    fn compaction_policy() {
        let cfg = StoreConfig {
            min_compact_bytes: 100,
            ..StoreConfig::default()
        };
        assert!(!cfg.should_compact(100, 10, 1), "not past the byte floor");
        assert!(cfg.should_compact(101, 10, 5), "ratio reached");
        assert!(!cfg.should_compact(101, 9, 5), "ratio not reached");
        assert!(
            cfg.should_compact(101, 3, 0),
            "no live records: infinite ratio"
        );
        assert!(!cfg.should_compact(101, 0, 0), "nothing dead");
        let eager = StoreConfig {
            compact_ratio: 0.5,
            ..cfg
        };
        assert!(
            !eager.should_compact(1000, 5, 5),
            "no dead record, no compaction"
        );
    }
}
