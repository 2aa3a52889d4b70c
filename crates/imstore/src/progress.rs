//! A progress bar on stderr for long runs, shown only on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Files smaller than this finish too fast for a bar to help.
const MIN_BYTES: u64 = 16 << 20;

/// A bar over `len` bytes, labelled `what`; hidden when stderr is not a
/// terminal (piped, or in tests) or the file is small.
pub(crate) fn bytes(len: u64, what: &str) -> ProgressBar {
    if len < MIN_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A spinner labelled `what` for a step that reports no progress (a
/// compaction), on a terminal and for a file of `len` bytes or more.
pub(crate) fn spinner(len: u64, what: &str) -> ProgressBar {
    if len < MIN_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
