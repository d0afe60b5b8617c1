//! The flags that name a profile's data (`--data-dir`, `--profile`) and opening its store,
//! shared by every subcommand that reads or changes what the profile keeps.

use std::path::PathBuf;

use clap::Args;
use sidetone_store::{OpenOutcome, Store, paths};

use crate::commands::cli_error::CliError;

/// Which profile's data to use.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The data directory (default: $SIDETONE_DATA_DIR, else the per-user data directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The profile to use.
    #[arg(long, default_value = paths::DEFAULT_PROFILE)]
    pub profile: String,
}

/// An open profile: its store and the directory its files live in.
pub struct OpenProfile {
    /// The profile's database.
    pub store: Store,
    /// The directory holding the database (and the profile's caches).
    pub dir: PathBuf,
}

impl ProfileArgs {
    /// Opens the profile's store (creating it the first time). A store that was unreadable is
    /// set aside and a fresh one started, and the user is told where the old one went.
    pub fn open(&self) -> Result<OpenProfile, CliError> {
        let dir = paths::data_dir(self.data_dir.as_deref())?;
        let db = paths::database_path(&dir, &self.profile)?;
        let (store, outcome) = Store::open_or_recover(&db)?;
        if let OpenOutcome::Recovered { set_aside, .. } = &outcome {
            eprintln!(
                "sidetone-cli: the profile's data was unreadable; it was kept as {} and a new one started",
                set_aside.display()
            );
        }
        let dir = db.parent().map(PathBuf::from).ok_or_else(|| {
            CliError::new("cli.data_dir", format!("{} has no directory", db.display()))
        })?;
        Ok(OpenProfile { store, dir })
    }
}
