//! Fuzz target `frame_decode`: see `indexmap_store_fuzz::targets::frame_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| indexmap_store_fuzz::targets::frame_decode(data));
