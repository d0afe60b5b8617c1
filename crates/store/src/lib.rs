//! Sidetone's local SQLite store: call history, the voicemail cache and settings, with versioned migrations. Never holds a secret.
//!
//! One database file per profile ([`paths`] says where). Open it with [`Store::open`] (or
//! [`Store::open_or_recover`], which sets a damaged or foreign file aside and starts fresh),
//! then work through the three views it hands out:
//!
//! - [`Store::history`] → [`CallHistory`]: record calls as they progress, query, count
//!   missed calls, delete, export a CSV report;
//! - [`Store::voicemail`] → [`VoicemailCache`]: what IMAP sync cached, and the offline
//!   heard/delete changes waiting to go back to the server;
//! - [`Store::settings`] → [`Settings`]: small key/value settings (strings or JSON).
//!
//! A [`Store`] owns one SQLite connection: it is `Send` but not `Sync`. Calls block on disk
//! IO, so async callers run them on a blocking thread. Times are [`UnixMillis`] (UTC) passed
//! in by the caller; nothing in here reads the clock except when naming a set-aside file.
//! Schema and policies: docs/store.md.

mod error;
mod history;
mod migrations;
mod open;
pub mod paths;
mod report;
mod settings;
mod timestamp;
mod voicemail_cache;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use error::{Error, Result};
pub use history::{
    CallEnd, CallHistory, CallId, CallKind, CallPage, CallQuery, CallRecord, Direction,
    Disposition, MAX_PAGE_SIZE, NewCall, PageCursor, Transfer, TransferKind,
};
pub use migrations::SCHEMA_VERSION;
pub use open::OpenOutcome;
pub use report::{REPORT_MAX_ROWS, REPORT_WINDOW};
pub use settings::Settings;
pub use timestamp::UnixMillis;
pub use voicemail_cache::{
    CachedAudio, MessageRef, PendingChange, PendingChangeId, Voicemail, VoicemailCache,
    VoicemailChange, VoicemailId, VoicemailUpdate,
};

/// An open Sidetone database (one profile's call history, voicemail cache and settings).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// The database file this store was opened from (`:memory:` for [`Store::open_in_memory`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database (equals [`SCHEMA_VERSION`] once opened).
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.db_err(e))
    }

    /// Runs SQLite's full `PRAGMA integrity_check`; [`Error::Corrupt`] with SQLite's
    /// findings if anything is wrong. Reads the whole file: for diagnostics, not every open.
    pub fn integrity_check(&self) -> Result<()> {
        open::check_integrity(&self.conn, &self.path, "integrity_check")
    }

    /// Call history: record, query, count, delete, export.
    pub fn history(&self) -> CallHistory<'_> {
        CallHistory::new(self)
    }

    /// The voicemail cache that IMAP sync fills, and its queue of offline changes.
    pub fn voicemail(&self) -> VoicemailCache<'_> {
        VoicemailCache::new(self)
    }

    /// Key/value settings (strings or JSON). Never secrets: those live in the vault.
    pub fn settings(&self) -> Settings<'_> {
        Settings::new(self)
    }

    /// Runs `f` atomically: everything it writes through this store commits together, or
    /// (when it returns an error) not at all. Nests: an inner call is a savepoint of the
    /// outer one. Use it to batch many writes (one commit instead of one per write).
    pub fn atomically<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.conn
            .execute_batch("SAVEPOINT sidetone_store")
            .map_err(|e| self.db_err(e))?;
        let result = f().and_then(|value| {
            self.conn
                .execute_batch("RELEASE sidetone_store")
                .map(|()| value)
                .map_err(|e| self.db_err(e))
        });
        if result.is_err()
            && let Err(e) = self
                .conn
                .execute_batch("ROLLBACK TO sidetone_store; RELEASE sidetone_store")
        {
            tracing::warn!(error = %e, "rolling back a failed store operation failed");
        }
        result
    }

    /// Classifies an SQLite error on this store's file.
    pub(crate) fn db_err(&self, err: rusqlite::Error) -> Error {
        Error::from_sqlite(&self.path, err)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A fresh store in a temp dir (the dir must outlive the store).
    pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("test.sqlite3")).unwrap();
        (dir, store)
    }
}
