//! Replays, on stable, every input kept under `fuzz/regressions/<target>/`
//! (each one a crash a fuzzer once found, or a seed worth keeping) through
//! the same target bodies the fuzzers run.

mod common;
#[path = "fuzz_support/targets.rs"]
mod targets;

use std::path::Path;

#[test]
fn every_kept_fuzz_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!("{} must exist (keep a README.md in it): {e}", dir.display())
        });
        for entry in entries {
            let path = entry.expect("a readable directory").path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let data = std::fs::read(&path).expect("a readable input");
            eprintln!("replaying {}", path.display());
            target(&data);
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} kept inputs");
}

#[test]
fn targets_accept_small_generated_inputs() {
    // Every target on a spread of short inputs: a smoke test of the bodies
    // themselves, so a broken target is noticed without a fuzzer.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for len in 0..64usize {
        for _ in 0..8 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            for (_, target) in targets::TARGETS {
                target(&data);
            }
        }
    }
}
