//! wal-format's integration tests, one module per kind of check, in one
//! test binary: one link instead of one per file.
//!
//! [`golden`] pins the exact bytes of headers and frames, and checks them
//! against `FORMAT.md`; [`properties`] checks the encoder and the decoders
//! over generated frames, headers and streams, damaged or not.

mod golden;
mod properties;
