//! The command line: subcommands, arguments and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit statuses, shown in `--help`.
const EXIT_STATUSES: &str = "\
Exit status: 0 success (verify: clean); 1 verify: torn tail, which an open would cut;
2 synced data damaged or missing, which an open refuses; 3 not a log (or not found);
4 a writer holds the log, so a command that writes refused; 5 any other failure;
64 a wrong command line.";

/// Inspect, verify, dump, repair and back up an indexmap_store (or
/// wal-io) log.
///
/// Every command but salvage, compact, backup and import-legacy only reads:
/// it takes no lock, creates no file and changes no byte, so it is safe on
/// a log a writer has open.
#[derive(Debug, Parser)]
#[command(name = "imstore", version, after_help = EXIT_STATUSES)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the header, the records, the sidecar claim, the files beside
    /// the log and whether a writer holds it.
    #[command(after_help = "Examples:\n  imstore info data.log\n  imstore info --json data.log")]
    Info(Target),
    /// Run the recovery of an open without writing: exit 0 clean, 1 torn
    /// tail, 2 damaged or missing synced data, 3 not a log.
    #[command(
        after_help = "Examples:\n  imstore verify data.log && echo clean\n  imstore verify --json data.log\n\nThe verdict is the one `open` would reach: the same recovery code runs, read-only."
    )]
    Verify(Target),
    /// Print one line per frame, or per operation, with its offset,
    /// sequence number, kind, synced watermark, length and checksum.
    #[command(
        after_help = "Examples:\n  imstore dump data.log\n  imstore dump --ops --json data.log | head\n  imstore dump --from 31754920 data.log\n  imstore dump data.log.corrupt-31754920   # raw bytes: frames are looked for\n\nDamaged bytes are reported and skipped."
    )]
    Dump(DumpArgs),
    /// Keep the valid records before damaged synced data, after copying
    /// every byte from the damage on to <log>.corrupt-<offset>.
    #[command(
        after_help = "Examples:\n  imstore salvage --dry-run data.log   # what would be kept and copied\n  imstore salvage data.log\n\nRefuses while a writer holds the log."
    )]
    Salvage(SalvageArgs),
    /// Rewrite the log with only its live entries (needs the types: see
    /// `imstore::run`).
    #[command(
        after_help = "Example:\n  myapp-imstore compact data.log\n\nRefuses while a writer holds the log."
    )]
    Compact(Typed),
    /// Copy the log to DEST under its lock, durably, and verify the copy.
    #[command(
        after_help = "Example:\n  imstore backup data.log /backups/data.log\n\nRefuses while a writer holds the log; DEST must not exist."
    )]
    Backup(BackupArgs),
    /// Convert an indexmap_store 0.2.x log (needs the types: see
    /// `imstore::run`); the original is kept as <log>.v0-backup.
    #[command(
        name = "import-legacy",
        after_help = "Example:\n  myapp-imstore import-legacy data.log\n\nRefuses while a writer holds the log."
    )]
    ImportLegacy(Typed),
    /// Print the last frames, and with -f follow a live writer read-only.
    #[command(
        after_help = "Examples:\n  imstore tail data.log\n  imstore tail -f --json data.log\n\nA rewrite (compaction) is noticed by the header's file_id or the inode, and followed from its start."
    )]
    Tail(TailArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  imstore completions bash > /etc/bash_completion.d/imstore")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// A log and the output format.
#[derive(Debug, Args)]
pub struct Target {
    /// The log file.
    pub path: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A log, for a command that needs the types.
#[derive(Debug, Args)]
pub struct Typed {
    /// The log file.
    pub path: PathBuf,
    /// The application's schema version (`OpenOptions::schema_version`).
    #[arg(long, default_value_t = 0)]
    pub schema_version: u32,
}

/// How a payload is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PayloadFormat {
    /// UTF-8 text where printable, else hex.
    Auto,
    /// Always hex.
    Hex,
    /// Not at all.
    None,
}

/// `dump`'s arguments.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// The log, or a `.corrupt-<offset>` copy (raw frames without a header).
    pub path: PathBuf,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    /// One line per operation (a batch frame's records each) instead of per
    /// frame.
    #[arg(long)]
    pub ops: bool,
    /// How payloads are printed.
    #[arg(long, value_enum, default_value_t = PayloadFormat::Auto)]
    pub payload: PayloadFormat,
    /// Only frames starting at or after this byte offset.
    #[arg(long)]
    pub from: Option<u64>,
    /// Only frames starting before this byte offset.
    #[arg(long)]
    pub to: Option<u64>,
    /// Only records with at least this sequence number.
    #[arg(long)]
    pub seq_from: Option<u64>,
    /// Only records below this sequence number.
    #[arg(long)]
    pub seq_to: Option<u64>,
}

/// `salvage`'s arguments.
#[derive(Debug, Args)]
pub struct SalvageArgs {
    /// The log file.
    pub path: PathBuf,
    /// Show what would be kept and copied, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `backup`'s arguments.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The log file.
    pub path: PathBuf,
    /// Where the copy goes (must not exist).
    pub dest: PathBuf,
}

/// `tail`'s arguments.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// The log file.
    pub path: PathBuf,
    /// Keep following the log as a writer appends.
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the last frames to print first.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub lines: usize,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    /// Milliseconds between polls with -f.
    #[arg(long, default_value_t = 200)]
    pub interval_ms: u64,
}
