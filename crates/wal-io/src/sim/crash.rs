//! Power loss: the images a crash may leave.

use std::collections::{BTreeMap, BTreeSet};

use super::fault::{CrashVariant, Rng};
use super::state::{DataOp, Inode, State, write_into};

/// The page size of [`CrashVariant::Pages`].
const PAGE: usize = 4096;

/// The sector size of the torn-sector variants.
const SECTOR: usize = 512;

/// What fills the rest of a torn sector.
#[derive(Clone, Copy)]
enum SectorFill {
    /// Nothing: the tear is clean ([`CrashVariant::TornPrefix`]).
    Clean,
    /// Seeded random bytes.
    Garbage,
    /// Zeros.
    Zeros,
}

impl State {
    /// Replaces the state with an image a power loss could leave, then
    /// reboots: bumps the generation, releases every lock and revives the
    /// process. Faults and the operation counter are kept.
    pub(super) fn crash(&mut self, variant: CrashVariant) {
        let mut names = std::mem::take(&mut self.durable);
        if variant.keeps_namespace_prefix() {
            let kept = self.rng.below(self.pending_ns.len().saturating_add(1));
            for op in self.pending_ns.iter().take(kept) {
                op.apply(&mut names);
            }
        }
        let live: BTreeSet<u64> = names.values().copied().collect();
        let mut inodes = BTreeMap::new();
        for (ino, inode) in std::mem::take(&mut self.inodes) {
            if live.contains(&ino) {
                let image = crash_image(&inode, variant, &mut self.rng);
                inodes.insert(ino, Inode::durable(image));
            }
        }
        self.inodes = inodes;
        self.visible = names.clone();
        self.durable = names;
        self.pending_ns.clear();
        self.generation = self.generation.saturating_add(1);
        self.locks.clear();
        self.crash_at = None;
        self.dead = false;
    }
}

/// The image of one file after a crash of kind `variant`.
fn crash_image(inode: &Inode, variant: CrashVariant, rng: &mut Rng) -> Vec<u8> {
    match variant {
        CrashVariant::LoseUnsynced => inode.durable.clone(),
        CrashVariant::TornPrefix => torn(inode, rng, SectorFill::Clean),
        CrashVariant::TornSectorGarbage => torn(inode, rng, SectorFill::Garbage),
        CrashVariant::TornSectorZeros => torn(inode, rng, SectorFill::Zeros),
        CrashVariant::Pages => pages(inode, rng),
        CrashVariant::LengthWithoutData => {
            let mut image = inode.durable.clone();
            image.resize(inode.target_len(), 0);
            image
        }
        CrashVariant::DataWithoutLength => {
            let mut image = inode.durable.clone();
            let len = image.len();
            for op in &inode.pending {
                if let DataOp::Write { offset, bytes } = op {
                    let fits = len.saturating_sub(*offset).min(bytes.len());
                    write_into(&mut image, *offset, bytes.get(..fits).unwrap_or_default());
                }
            }
            image
        }
    }
}

/// A random prefix of the pending changes, then the next write torn.
fn torn(inode: &Inode, rng: &mut Rng, fill: SectorFill) -> Vec<u8> {
    let mut image = inode.durable.clone();
    let kept = rng.below(inode.pending.len().saturating_add(1));
    for op in inode.pending.iter().take(kept) {
        op.apply(&mut image);
    }
    let Some(DataOp::Write { offset, bytes }) = inode.pending.get(kept) else {
        return image;
    };
    if bytes.is_empty() {
        return image;
    }
    let keep = rng.below(bytes.len());
    write_into(&mut image, *offset, bytes.get(..keep).unwrap_or_default());
    let tear = offset.saturating_add(keep);
    if matches!(fill, SectorFill::Clean) {
        return image;
    }
    let sector_end = (tear / SECTOR + 1) * SECTOR;
    if image.len() < sector_end {
        image.resize(sector_end, 0);
    }
    if let Some(rest) = image.get_mut(tear..sector_end) {
        if matches!(fill, SectorFill::Garbage) {
            rng.fill(rest);
        } else {
            rest.fill(0);
        }
    }
    image
}

/// Each differing page from the durable or the unsynced image at random.
fn pages(inode: &Inode, rng: &mut Rng) -> Vec<u8> {
    let target = inode.target();
    let durable = &inode.durable;
    let len = if target.len() == durable.len() || rng.coin() {
        target.len()
    } else {
        durable.len()
    };
    let mut image = vec![0; len];
    let span = target.len().max(durable.len());
    for start in (0..span).step_by(PAGE) {
        let end = start.saturating_add(PAGE);
        let new = clamped(&target, start, end);
        let old = clamped(durable, start, end);
        let source = if new == old || rng.coin() { new } else { old };
        let dst_end = end.min(len);
        if let Some(dst) = image.get_mut(start..dst_end) {
            for (d, s) in dst.iter_mut().zip(source) {
                *d = *s;
            }
        }
    }
    image
}

/// `bytes[start..end]`, cut to what exists.
fn clamped(bytes: &[u8], start: usize, end: usize) -> &[u8] {
    bytes.get(start..end.min(bytes.len())).unwrap_or_default()
}
