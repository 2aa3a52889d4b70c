//! Fuzz target `store_ops`: see `indexmap_store_fuzz::targets::store_ops`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| indexmap_store_fuzz::targets::store_ops(data));
