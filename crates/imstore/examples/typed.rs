//! An application's own `imstore`, with its key and value types: dumps and
//! tails show decoded keys and values as JSON, `info` counts live entries
//! exactly, and `compact` and `import-legacy` work.
//!
//! ```sh
//! cargo run -p imstore --example typed -- dump --ops --json data.log
//! ```

use serde::{Deserialize, Serialize};

/// The application's value type (any `Serialize + DeserializeOwned`).
#[derive(Debug, Serialize, Deserialize)]
struct User {
    name: String,
    age: u32,
}

fn main() -> std::process::ExitCode {
    imstore::run::<String, User>()
}
