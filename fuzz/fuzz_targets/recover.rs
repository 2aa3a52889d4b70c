//! Fuzz target `recover`: see `indexmap_store_fuzz::targets::recover`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| indexmap_store_fuzz::targets::recover(data));
