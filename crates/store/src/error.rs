//! The one error type of this crate. Each variant is named after who is at fault, and carries
//! a stable [`Error::code`] string that the shell hands to the UI.

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is not a readable SQLite database, or SQLite found it damaged.
    /// [`crate::Store::open_or_recover`] sets such a file aside and starts fresh.
    #[error("the database {path} is damaged: {detail}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite or the store saw.
        detail: String,
    },

    /// The file is a healthy SQLite database, but it was not made by Sidetone.
    /// [`crate::Store::open_or_recover`] sets such a file aside and starts fresh.
    #[error("the file {path} is an SQLite database that Sidetone did not create: {detail}")]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// What gave it away (application id, schema version, tables).
        detail: String,
    },

    /// The database was written by a newer Sidetone whose schema this build does not know.
    /// Not recovered automatically: the user most likely went back to an older version, and
    /// the newer one can still read the file.
    #[error(
        "the database {path} has schema version {found}, this build understands up to {supported}"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },

    /// The disk or file system failed us: permissions, a missing directory, an IO error.
    #[error("disk or file error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The disk is full.
    #[error("the disk holding {path} is full")]
    DiskFull {
        /// The database file.
        path: PathBuf,
    },

    /// Another process (most likely a second Sidetone) holds the database locked for longer
    /// than the busy timeout.
    #[error("the database {path} is locked by another process")]
    Busy {
        /// The database file.
        path: PathBuf,
    },

    /// The operating system reports no home directory, so there is no default data directory.
    #[error("no home directory found to keep Sidetone's data in; set SIDETONE_DATA_DIR")]
    NoDataDir,

    /// The caller passed something the store cannot accept.
    #[error("invalid input: {detail}")]
    InvalidInput {
        /// What was wrong, for the developer.
        detail: String,
    },

    /// The caller referred to a row that does not exist (any more).
    #[error("no {what} with id {id}")]
    NotFound {
        /// The kind of row: "call", "voicemail", "pending change".
        what: &'static str,
        /// The id asked for.
        id: i64,
    },

    /// A setting holds a value that does not decode into the type asked for (for instance,
    /// written by another version with a different shape).
    #[error("the setting {key:?} does not hold the expected value: {source}")]
    SettingUnreadable {
        /// The setting's key.
        key: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },

    /// Writing a report to the caller's writer failed.
    #[error("writing the report failed: {source}")]
    ReportOutput {
        /// The CSV writer's error (usually IO).
        #[source]
        source: csv::Error,
    },

    /// Something that should not happen: a bug in the store's SQL or an unexpected SQLite
    /// answer. Our fault.
    #[error("internal store error: {detail}")]
    Internal {
        /// What happened, for the developer.
        detail: String,
    },
}

impl Error {
    /// A stable, machine-readable code for the UI (`store.<what>`). Never changes meaning.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Corrupt { .. } => "store.corrupt",
            Error::Foreign { .. } => "store.foreign",
            Error::NewerSchema { .. } => "store.newer_schema",
            Error::Io { .. } => "store.io",
            Error::DiskFull { .. } => "store.disk_full",
            Error::Busy { .. } => "store.busy",
            Error::NoDataDir => "store.no_data_dir",
            Error::InvalidInput { .. } => "store.invalid_input",
            Error::NotFound { .. } => "store.not_found",
            Error::SettingUnreadable { .. } => "store.setting_unreadable",
            Error::ReportOutput { .. } => "store.report_output",
            Error::Internal { .. } => "store.internal",
        }
    }

    /// Whether [`crate::Store::open_or_recover`] may set the file aside and start fresh.
    pub fn is_recoverable_by_reset(&self) -> bool {
        matches!(self, Error::Corrupt { .. } | Error::Foreign { .. })
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Error::InvalidInput {
            detail: detail.into(),
        }
    }

    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Classifies an SQLite error on the database at `path` by who is at fault.
    pub(crate) fn from_sqlite(path: &Path, err: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        if let rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::FromSqlConversionFailure(..) = err
        {
            // A value we never write (STRICT tables and CHECKs stop us): tampered file.
            return Error::Corrupt {
                path,
                detail: err.to_string(),
            };
        }
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Error::Corrupt {
                path,
                detail: err.to_string(),
            },
            Some(ErrorCode::DiskFull) => Error::DiskFull { path },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy { path },
            Some(
                ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::FileLockingProtocolFailed,
            ) => Error::Io {
                path,
                source: io::Error::other(err.to_string()),
            },
            _ => Error::Internal {
                detail: err.to_string(),
            },
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_namespaced() {
        let p = PathBuf::from("x");
        let all = [
            Error::Corrupt {
                path: p.clone(),
                detail: String::new(),
            },
            Error::Foreign {
                path: p.clone(),
                detail: String::new(),
            },
            Error::NewerSchema {
                path: p.clone(),
                found: 2,
                supported: 1,
            },
            Error::io(&p, io::Error::other("x")),
            Error::DiskFull { path: p.clone() },
            Error::Busy { path: p.clone() },
            Error::NoDataDir,
            Error::invalid("x"),
            Error::NotFound {
                what: "call",
                id: 1,
            },
            Error::SettingUnreadable {
                key: "k".into(),
                source: serde_json::from_str::<i32>("x").unwrap_err(),
            },
            Error::ReportOutput {
                source: csv::Error::from(io::Error::other("x")),
            },
            Error::Internal {
                detail: String::new(),
            },
        ];
        let mut codes: Vec<&str> = all.iter().map(Error::code).collect();
        assert!(codes.iter().all(|c| c.starts_with("store.")));
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), before, "two variants share a code");
    }

    #[test]
    fn sqlite_codes_map_to_who_is_at_fault() {
        let p = Path::new("db");
        let mk = |code: i32| {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("m".into()))
        };
        assert_eq!(
            Error::from_sqlite(p, mk(rusqlite::ffi::SQLITE_NOTADB)).code(),
            "store.corrupt"
        );
        assert_eq!(
            Error::from_sqlite(p, mk(rusqlite::ffi::SQLITE_CORRUPT)).code(),
            "store.corrupt"
        );
        assert_eq!(
            Error::from_sqlite(p, mk(rusqlite::ffi::SQLITE_FULL)).code(),
            "store.disk_full"
        );
        assert_eq!(
            Error::from_sqlite(p, mk(rusqlite::ffi::SQLITE_BUSY)).code(),
            "store.busy"
        );
        assert_eq!(
            Error::from_sqlite(p, mk(rusqlite::ffi::SQLITE_IOERR)).code(),
            "store.io"
        );
        assert_eq!(
            Error::from_sqlite(p, rusqlite::Error::QueryReturnedNoRows).code(),
            "store.internal"
        );
    }
}
