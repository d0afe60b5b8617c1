//! Opening a database: pragmas, telling our files from damaged or foreign ones, migrating,
//! and setting a bad file aside to start fresh.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use crate::migrations::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};
use crate::{Error, Result, Store, UnixMillis};

/// How long a statement waits for another connection's lock before giving up with
/// [`Error::Busy`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Companion files SQLite may keep next to a database; they move with it when it is set aside.
const COMPANION_SUFFIXES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// What [`Store::open_or_recover`] had to do, so the UI can tell the user.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenOutcome {
    /// The database opened as it was (or was created new).
    Opened,
    /// The file was damaged or not Sidetone's. It was renamed to `set_aside` (kept, never
    /// deleted) and a new, empty database was created in its place.
    Recovered {
        /// Why the file could not be used ([`Error::Corrupt`] or [`Error::Foreign`]).
        cause: Error,
        /// Where the old file now is: `<name>.corrupt-<UTC stamp>` next to the original.
        set_aside: PathBuf,
    },
}

/// What the file turned out to be before migrating.
enum FileKind {
    /// Empty: no Sidetone schema yet, nothing of anyone else's either.
    Fresh,
    /// Ours, at a schema version we can migrate from.
    Ours,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`]. Creates missing parent directories (owner-only on Unix).
    ///
    /// Turns on WAL journaling, foreign keys and a busy timeout. Fails with
    /// [`Error::Corrupt`] for a file that is not an SQLite database (or whose header and
    /// schema are damaged), [`Error::Foreign`] for someone else's SQLite database (which it
    /// does not modify), and [`Error::NewerSchema`] for a file from a newer Sidetone.
    ///
    /// Reads only the header and schema, so it is quick at any size; damage deeper in the
    /// file shows up as [`Error::Corrupt`] when read. [`Store::open_or_recover`] also checks
    /// every page.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        open_checked(path.as_ref(), PageCheck::Skip)
    }
    /// An in-memory store with the full schema, for tests and tools. Gone when dropped.
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| Error::from_sqlite(&path, e))?;
        prepare(conn, path, PageCheck::Skip)
    }

    /// Like [`Store::open`], but also runs SQLite's `quick_check` over every page, whose
    /// cost grows with the file (milliseconds for a typical history, a few hundred at
    /// 100,000 calls): call it once at startup, off the UI thread. When the file is damaged
    /// ([`Error::Corrupt`]) or not Sidetone's ([`Error::Foreign`]), it renames the file (and its
    /// `-wal`/`-shm`/`-journal` companions) to `<name>.corrupt-<UTC stamp>`, keeps it, and
    /// starts a fresh database. [`OpenOutcome::Recovered`] says what happened and where the
    /// old file went. when the file is damaged ([`Error::Corrupt`]) or not
    /// Sidetone's ([`Error::Foreign`]) it renames the file (and its `-wal`/`-shm`/`-journal`
    /// companions) to `<name>.corrupt-<UTC stamp>`, keeps it, and starts a fresh database.
    /// [`OpenOutcome::Recovered`] says what happened and where the old file went.
    ///
    /// Every other error is returned as is: in particular [`Error::NewerSchema`] (the newer
    /// Sidetone can still read that file) and disk errors. Reads the wall clock, only to
    /// name the set-aside file.
    pub fn open_or_recover(path: impl AsRef<Path>) -> Result<(Store, OpenOutcome)> {
        let path = path.as_ref();
        match open_checked(path, PageCheck::Quick) {
            Ok(store) => Ok((store, OpenOutcome::Opened)),
            Err(cause) if cause.is_recoverable_by_reset() => {
                let now = UnixMillis::from_system_time(SystemTime::now());
                let set_aside = set_aside(path, now)?;
                tracing::warn!(
                    code = cause.code(),
                    error = %cause,
                    set_aside = %set_aside.display(),
                    "database unusable; kept it aside and started a fresh one"
                );
                let store = Store::open(path)?;
                Ok((store, OpenOutcome::Recovered { cause, set_aside }))
            }
            Err(other) => Err(other),
        }
    }
}

/// Whether opening reads every page to look for damage.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageCheck {
    /// Header and schema only.
    Skip,
    /// `PRAGMA quick_check`: every page, without cross-checking indexes against tables.
    Quick,
}

fn open_checked(path: &Path, page_check: PageCheck) -> Result<Store> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir_all(parent)?;
    }
    precreate_private_file(path)?;
    // No SQLITE_OPEN_URI: a path is a path, never a `file:` URI with options.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::from_sqlite(path, e))?;
    prepare(conn, path.to_path_buf(), page_check)
}

/// Pragmas, classification, page check and migration, in that order: nothing is written to
/// the file before we know it is ours or empty.
fn prepare(mut conn: Connection, path: PathBuf, page_check: PageCheck) -> Result<Store> {
    let err = |e| Error::from_sqlite(&path, e);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(err)?;
    match classify(&conn, &path)? {
        FileKind::Fresh | FileKind::Ours => {}
    }
    // WAL: readers do not block the writer, and a commit is one append to the log.
    // synchronous=NORMAL in WAL mode survives a crash of the process (what we test);
    // a power cut may lose the last commits but never corrupts the file.
    let _mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    if page_check == PageCheck::Quick {
        check_integrity(&conn, &path, "quick_check")?;
    }
    MIGRATIONS.to_latest(&mut conn).map_err(|e| match e {
        rusqlite_migration::Error::RusqliteError { err: e, .. } => Error::from_sqlite(&path, e),
        other => Error::Internal {
            detail: format!("migrating {}: {other}", path.display()),
        },
    })?;
    // Per-connection scratch for searches (history/search.rs lists matching parties in a
    // temp table). A 32 MB page cache (SQLite's default is 2 MB) keeps a large history's
    // party table and trigram index in memory between searches; it fills only with pages
    // actually read.
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;
         CREATE TEMP TABLE IF NOT EXISTS search_party (id INTEGER PRIMARY KEY);",
    )
    .map_err(err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(Store { conn, path })
}

/// Tells an empty file, one of ours, a newer one of ours and someone else's apart.
fn classify(conn: &Connection, path: &Path) -> Result<FileKind> {
    let err = |e| Error::from_sqlite(path, e);
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(err)?;
    let user_version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(err)?;
    if application_id == APPLICATION_ID {
        if user_version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found: user_version,
                supported: SCHEMA_VERSION,
            });
        }
        if user_version < 0 {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail: format!("negative schema version {user_version}"),
            });
        }
        return Ok(FileKind::Ours);
    }
    if application_id == 0 && user_version == 0 && objects == 0 {
        return Ok(FileKind::Fresh);
    }
    Err(Error::Foreign {
        path: path.to_path_buf(),
        detail: format!(
            "application_id {application_id:#x}, user_version {user_version}, \
             {objects} schema objects"
        ),
    })
}

/// Runs `PRAGMA quick_check` or `PRAGMA integrity_check`; anything but a single "ok" is
/// [`Error::Corrupt`] carrying SQLite's first findings.
pub(crate) fn check_integrity(conn: &Connection, path: &Path, pragma: &str) -> Result<()> {
    let err = |e| Error::from_sqlite(path, e);
    let mut findings: Vec<String> = Vec::new();
    conn.pragma_query(None, pragma, |row| {
        if findings.len() < 5 {
            findings.push(row.get(0)?);
        }
        Ok(())
    })
    .map_err(err)?;
    if findings.len() == 1 && findings[0] == "ok" {
        return Ok(());
    }
    Err(Error::Corrupt {
        path: path.to_path_buf(),
        detail: format!("{pragma}: {}", findings.join("; ")),
    })
}

/// Renames `path` and its companions to `<name>.corrupt-<stamp>[-n]`; returns the new path.
fn set_aside(path: &Path, now: UnixMillis) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} has no file name", path.display())))?;
    let stamp = now
        .to_file_stamp()
        .unwrap_or_else(|| "unknown-time".to_owned());
    let mut target = None;
    for n in 1..=1000u32 {
        let mut candidate = name.to_os_string();
        candidate.push(format!(".corrupt-{stamp}"));
        if n > 1 {
            candidate.push(format!("-{n}"));
        }
        let candidate = path.with_file_name(candidate);
        let taken = std::iter::once(String::new())
            .chain(COMPANION_SUFFIXES.iter().map(|s| (*s).to_owned()))
            .map(|suffix| exists(&with_suffix(&candidate, &suffix)))
            .collect::<Result<Vec<bool>>>()?
            .into_iter()
            .any(|t| t);
        if !taken {
            target = Some(candidate);
            break;
        }
    }
    let target = target.ok_or_else(|| Error::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::AlreadyExists, "no free set-aside name"),
    })?;
    fs::rename(path, &target).map_err(|e| Error::io(path, e))?;
    for suffix in COMPANION_SUFFIXES {
        let from = with_suffix(path, suffix);
        if exists(&from)? {
            fs::rename(&from, with_suffix(&target, suffix)).map_err(|e| Error::io(&from, e))?;
        }
    }
    Ok(target)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn exists(path: &Path) -> Result<bool> {
    path.try_exists().map_err(|e| Error::io(path, e))
}

/// Creates `dir` and its missing parents; the ones we create are owner-only on Unix
/// (call history is personal data).
fn create_private_dir_all(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| Error::io(dir, e))
}

/// Creates the database file owner-only on Unix before SQLite does (SQLite gives its `-wal`
/// and `-shm` files the same permissions). Leaves an existing file alone.
fn precreate_private_file(path: &Path) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_with(path: &Path, sql: &str) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    #[test]
    fn new_file_gets_wal_foreign_keys_and_latest_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/profile/s.sqlite3");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = store
            .conn()
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert_eq!(busy, 5000);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "database readable by others: {mode:o}");
        }
    }

    #[test]
    fn garbage_file_is_corrupt_and_recovery_keeps_it_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let garbage = b"this is not a database, just some text that is long enough to fill \
                        a header and then some more bytes to be sure"
            .repeat(20);
        fs::write(&path, &garbage).unwrap();

        let err = Store::open(&path).unwrap_err();
        assert_eq!(err.code(), "store.corrupt", "{err}");
        // Failing to open must not have touched the file.
        assert_eq!(fs::read(&path).unwrap(), garbage);

        let (store, outcome) = Store::open_or_recover(&path).unwrap();
        let OpenOutcome::Recovered { cause, set_aside } = outcome else {
            panic!("expected a recovery, got {outcome:?}");
        };
        assert_eq!(cause.code(), "store.corrupt");
        assert_eq!(
            fs::read(&set_aside).unwrap(),
            garbage,
            "old file kept byte for byte"
        );
        let name = set_aside
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("s.sqlite3.corrupt-"), "{name}");
        assert_eq!(set_aside.parent(), path.parent());
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store.integrity_check().unwrap();
        assert_eq!(store.history().delete_all().unwrap(), 0);
    }

    #[test]
    fn damaged_pages_in_a_real_database_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let schema_pages;
        {
            let store = Store::open(&path).unwrap();
            for i in 0..2000 {
                store
                    .history()
                    .record_start(&crate::NewCall {
                        account_id: "a".into(),
                        direction: crate::Direction::Outgoing,
                        remote_uri: format!("sip:{i}@example.org"),
                        remote_name: Some(format!("Person number {i}")),
                        started_at: UnixMillis(i),
                    })
                    .unwrap();
            }
            // Fold the WAL into the main file so the damage below hits real pages.
            store
                .conn()
                .pragma_update(None, "wal_checkpoint", "TRUNCATE")
                .unwrap();
            // The schema outgrows the first page; its pages are the ones to spare.
            schema_pages = store
                .conn()
                .prepare("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'")
                .unwrap()
                .query_map([], |r| r.get::<_, i64>(0))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
        }
        let mut bytes = fs::read(&path).unwrap();
        assert!(bytes.len() > 8192);
        // Keep the header and the schema intact, scribble over every other page.
        for (n, page) in bytes.chunks_mut(4096).enumerate() {
            if !schema_pages.contains(&(n as i64 + 1)) {
                page.fill(0xA5);
            }
        }
        fs::write(&path, &bytes).unwrap();
        {
            // Header and schema are intact: a plain open succeeds, reading fails clearly.
            let store = Store::open(&path).unwrap();
            assert_eq!(store.integrity_check().unwrap_err().code(), "store.corrupt");
            let err = store
                .history()
                .query(&crate::CallQuery::default())
                .unwrap_err();
            assert_eq!(err.code(), "store.corrupt", "{err}");
        }
        let (store, outcome) = Store::open_or_recover(&path).unwrap();
        let OpenOutcome::Recovered { cause, set_aside } = outcome else {
            panic!("expected a recovery, got {outcome:?}");
        };
        assert_eq!(cause.code(), "store.corrupt", "{cause}");
        assert_eq!(
            fs::read(&set_aside).unwrap(),
            bytes,
            "damaged file kept as it was"
        );
        assert_eq!(
            store
                .history()
                .query(&crate::CallQuery::default())
                .unwrap()
                .total,
            0
        );
    }

    #[test]
    fn healthy_file_opens_without_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        drop(Store::open(&path).unwrap());
        let (_store, outcome) = Store::open_or_recover(&path).unwrap();
        assert!(matches!(outcome, OpenOutcome::Opened), "{outcome:?}");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(
            names.iter().all(|e| !e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("corrupt")),
            "nothing set aside"
        );
    }

    #[test]
    fn foreign_database_with_higher_user_version_is_foreign_not_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        sqlite_with(
            &path,
            "PRAGMA journal_mode = WAL;
             CREATE TABLE recipes (id INTEGER PRIMARY KEY, title TEXT);
             INSERT INTO recipes (title) VALUES ('soup');
             PRAGMA user_version = 99;",
        );
        let err = Store::open(&path).unwrap_err();
        assert_eq!(err.code(), "store.foreign", "{err}");
        // Untouched: still theirs, still at their version.
        {
            let conn = Connection::open(&path).unwrap();
            let uv: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(uv, 99);
        }

        let (store, outcome) = Store::open_or_recover(&path).unwrap();
        let OpenOutcome::Recovered { cause, set_aside } = outcome else {
            panic!("expected a recovery, got {outcome:?}");
        };
        assert_eq!(cause.code(), "store.foreign");
        let old = Connection::open(&set_aside).unwrap();
        let title: String = old
            .query_row("SELECT title FROM recipes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(title, "soup", "their data kept in the set-aside file");
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn foreign_database_without_user_version_is_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        sqlite_with(&path, "CREATE TABLE t (x);");
        assert_eq!(Store::open(&path).unwrap_err().code(), "store.foreign");
    }

    #[test]
    fn newer_schema_is_refused_and_not_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        drop(Store::open(&path).unwrap());
        sqlite_with(
            &path,
            &format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1),
        );
        let err = Store::open(&path).unwrap_err();
        match &err {
            Error::NewerSchema {
                found, supported, ..
            } => {
                assert_eq!(*found, SCHEMA_VERSION + 1);
                assert_eq!(*supported, SCHEMA_VERSION);
            }
            other => panic!("expected NewerSchema, got {other:?}"),
        }
        let err = Store::open_or_recover(&path).unwrap_err();
        assert_eq!(err.code(), "store.newer_schema");
        assert!(path.exists(), "the newer file must stay where it is");
    }

    #[test]
    fn set_aside_moves_companions_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let now = UnixMillis(1_772_368_496_789);
        fs::write(&path, b"one").unwrap();
        fs::write(with_suffix(&path, "-wal"), b"wal").unwrap();
        let first = set_aside(&path, now).unwrap();
        assert_eq!(first, dir.path().join("s.sqlite3.corrupt-20260301T123456Z"));
        assert_eq!(fs::read(with_suffix(&first, "-wal")).unwrap(), b"wal");
        assert!(!with_suffix(&path, "-wal").exists());

        fs::write(&path, b"two").unwrap();
        let second = set_aside(&path, now).unwrap();
        assert_ne!(first, second);
        assert_eq!(fs::read(&first).unwrap(), b"one");
        assert_eq!(fs::read(&second).unwrap(), b"two");
    }

    #[test]
    fn a_directory_in_the_way_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert_eq!(err.code(), "store.io", "{err}");
    }

    #[test]
    fn in_memory_store_has_the_schema() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
