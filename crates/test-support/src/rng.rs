//! Deterministic choices for randomized tests: a small generator, a way to
//! derive one seed from others, and the seed of a run.
//!
//! A test that takes its seed from [`seed_from_env`] and derives every
//! choice from it with [`Rng`] and [`mix`] makes the same choices again
//! when rerun with that seed in the environment variable.

/// SplitMix64: small, fast, good enough to pick operations and delays.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next value of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by remainder: slightly biased, which
    /// does not matter for choosing operations.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-high: an index into
    /// a collection of `n` items.
    pub fn index(&mut self, n: usize) -> usize {
        let wide = (u128::from(self.next_u64()) * n as u128) >> 64;
        usize::try_from(wide).unwrap_or(0)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.index(hi - lo)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.index(100) < percent
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A seed derived from two values (a run's seed and a round number, say),
/// so that each pair gets its own, unrelated sequence.
pub fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.wrapping_mul(0x2545_f491_4f6c_dd1d)).next_u64()
}

/// The seed of a run: the environment variable `name` if it is set (to
/// replay a run), otherwise one from the clock.
///
/// # Panics
///
/// If `name` is set to something other than a `u64`.
#[track_caller]
pub fn seed_from_env(name: &str) -> u64 {
    match std::env::var(name) {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("{name} must be a u64: {e:?}")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

/// [`seed_from_env`], announced on standard output as `<what>: seed <seed>
/// (<name>=<seed> reproduces the choices)`, so that the seed of a run that
/// passed can be replayed too.
#[track_caller]
pub fn announced_seed(what: &str, name: &str) -> u64 {
    let seed = seed_from_env(name);
    println!("{what}: seed {seed} ({name}={seed} reproduces the choices)");
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences must not change: a seed printed by a failing run has
    /// to replay the same choices with a later version of this crate.
    #[test]
    fn sequences_are_stable() {
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert!(Rng::new(7).below(10) < 10);
        assert_eq!(Rng::new(7).index(0), 0);
        let mut rng = Rng::new(3);
        assert!(
            (0..1000)
                .map(|_| rng.range(5, 9))
                .all(|x| (5..9).contains(&x))
        );
        let mut buf = [0u8; 13];
        rng.fill(&mut buf);
        assert_ne!(buf, [0u8; 13]);
        assert_ne!(mix(1, 2), mix(2, 1));
    }
}
