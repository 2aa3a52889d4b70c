//! Replays, on stable, every input kept under `fuzz/regressions/<target>/`
//! (each one a crash a fuzzer once found, or a seed worth keeping) through
//! the same target bodies the fuzzers run, and writes the fuzzers' seed
//! corpus (`seed_corpus_is_written`; `cargo xtask fuzz` runs it with
//! `FUZZ_CORPUS_DIR=<repo>/fuzz/corpus`).

use std::path::Path;

use store_test_kit::fuzz;

#[test]
fn every_kept_fuzz_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in fuzz::TARGETS {
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
            for (_, target) in fuzz::TARGETS {
                target(&data);
            }
        }
    }
}

#[test]
fn seed_corpus_is_written() {
    // `FUZZ_CORPUS_DIR` (set by `cargo xtask fuzz`) or a scratch directory.
    let scratch;
    let root = match std::env::var_os("FUZZ_CORPUS_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            scratch = tempfile::tempdir().expect("a temporary directory");
            scratch.path().to_path_buf()
        }
    };
    let written = fuzz::write_seed_corpus(&root).expect("the seed corpus is written");
    let seeds = fuzz::seed_inputs().expect("the seeds are generated");
    assert_eq!(written, seeds.len());
    for (name, target) in fuzz::TARGETS {
        let ours: Vec<_> = seeds.iter().filter(|s| s.target == name).collect();
        assert!(!ours.is_empty(), "no seed inputs for `{name}`");
        for seed in ours {
            let path = root.join(name).join(&seed.name);
            let data = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
            assert_eq!(data, seed.bytes, "{} holds other bytes", path.display());
            target(&data);
        }
    }
    eprintln!("wrote {written} seed inputs under {}", root.display());
}
