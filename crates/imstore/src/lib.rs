//! `imstore`: inspect, verify, dump, repair and back up an
//! [`indexmap_store`] (or `wal-io`) log from the command line.
//!
//! **Who should use it:** operators and developers facing a log that
//! `open` refuses ("corrupt at byte … open it in salvage mode"), or that
//! want to see what a log holds. The `imstore` binary reads every log
//! without knowing its key and value types; an application builds its own
//! binary with its types in three lines, and gets decoded keys and values,
//! exact live counts, and `compact` and `import-legacy`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     imstore::run::<String, u64>()
//! }
//! ```
//!
//! Every command but `salvage`, `compact`, `backup` and `import-legacy`
//! only reads: no lock taken, no file created, no byte changed. `verify`'s
//! verdict is the open's, from the same code
//! ([`wal_io::inspect::inspect`]). Exit statuses are the `EXIT_*`
//! constants.

mod cli;
mod codec;
mod dump;
mod error;
mod follow;
mod frames;
mod info;
mod legacy;
mod lock;
mod progress;
mod repair;
mod verify;

use std::hash::Hash;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use cli::Cli;
pub use codec::{Codec, Typed, Untyped};
pub use error::{
    EXIT_CORRUPT, EXIT_FAILED, EXIT_LOCKED, EXIT_NOT_A_LOG, EXIT_OK, EXIT_TORN, EXIT_USAGE,
    ImstoreError,
};
pub use lock::{LockState, probe as probe_lock};

use cli::Command;

/// Runs the tool with the key and value types `K` and `V`: dumps and tails
/// print decoded keys and values as JSON, `info` counts live entries
/// exactly, and `compact` and `import-legacy` work.
#[must_use]
pub fn run<K, V>() -> ExitCode
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    run_with(&Typed::<K, V>::default())
}

/// Runs the tool without types (the `imstore` binary).
#[must_use]
pub fn run_untyped() -> ExitCode {
    run_with(&Untyped)
}

/// Runs the tool with `codec`, parsing the process's arguments.
#[must_use]
pub fn run_with(codec: &dyn Codec) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match execute(codec, cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("imstore: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs one parsed command; returns its exit status.
///
/// # Errors
///
/// Whatever stops the command; [`ImstoreError::exit_code`] gives its status.
pub fn execute(codec: &dyn Codec, cli: Cli) -> Result<u8, ImstoreError> {
    match cli.command {
        Command::Info(t) => info::info(codec, &t.path, t.json),
        Command::Verify(t) => verify::verify(codec, &t.path, t.json),
        Command::Dump(args) => dump::dump(codec, &args),
        Command::Salvage(a) => repair::salvage(codec, &a.path, a.dry_run, a.json),
        Command::Compact(t) => repair::compact(codec, &t.path, t.schema_version),
        Command::Backup(b) => repair::backup(&b.path, &b.dest),
        Command::ImportLegacy(t) => repair::import_legacy(codec, &t.path, t.schema_version),
        Command::Tail(args) => follow::tail(codec, &args),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let name = cmd.get_name().to_owned();
            clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
            Ok(EXIT_OK)
        }
    }
}
