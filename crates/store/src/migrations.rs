//! The schema, as an append-only list of migrations (rusqlite_migration keeps the version in
//! SQLite's `user_version`). Policy, in docs/store.md: never edit a released migration, only
//! append; every migration runs in one transaction; no down migrations.

use rusqlite_migration::{M, Migrations};

/// SQLite `application_id` of a Sidetone store: "SDTN" in ASCII. Set by migration 1, checked
/// on open to tell our files from other SQLite databases.
pub(crate) const APPLICATION_ID: i32 = 0x5344_544E;

/// Version 1: call history, voicemail cache, pending voicemail changes, settings.
const V1: &str = r#"
PRAGMA application_id = 1396986958;

-- Whom calls were with, one row per distinct (display name, URI): what a search scans.
-- Calls repeat the same few hundred parties, so a substring search reads a few hundred
-- short keys instead of every call. Rows no call refers to are deleted with the last call.
CREATE TABLE remote_party (
    id              INTEGER PRIMARY KEY,
    -- lower-cased "name \x1f uri" (Unicode lower case, written by the store)
    search_key      TEXT    NOT NULL UNIQUE
) STRICT;

-- One row per call, inserted when the call starts and updated as it is answered and ends,
-- so a crash mid-call still leaves a row (disposition NULL = still in progress or cut
-- short by a crash; see CallHistory::close_interrupted).
CREATE TABLE call_history (
    id              INTEGER PRIMARY KEY,
    account_id      TEXT    NOT NULL,
    direction       TEXT    NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    remote_uri      TEXT    NOT NULL,
    remote_name     TEXT,
    party_id        INTEGER NOT NULL REFERENCES remote_party (id),
    started_at      INTEGER NOT NULL,          -- UTC unix milliseconds
    answered_at     INTEGER,                   -- UTC unix milliseconds
    ended_at        INTEGER,                   -- UTC unix milliseconds
    duration_ms     INTEGER CHECK (duration_ms >= 0),
    disposition     TEXT    CHECK (disposition IN ('answered', 'missed', 'rejected', 'busy',
                                   'failed', 'cancelled', 'answered_elsewhere')),
    transfer_kind   TEXT    CHECK (transfer_kind IN ('blind', 'attended')),
    transfer_target TEXT,
    CHECK ((transfer_kind IS NULL) = (transfer_target IS NULL))
) STRICT;

-- Paging is ORDER BY started_at DESC, id DESC with a (started_at, id) keyset cursor, so
-- the paging indexes are (started_at, id) after their equality column: a page reads 51
-- index entries, a count reads only the matching ones. party_id rides along so a search
-- matching many parties is filtered and counted from the index alone.
CREATE INDEX call_history_by_start     ON call_history (started_at, id, party_id);
CREATE INDEX call_history_by_direction ON call_history (direction, started_at, id, party_id);
CREATE INDEX call_history_missed       ON call_history (started_at, id, party_id)
    WHERE disposition = 'missed';
-- "Missed since last seen" counts missed calls by end time.
CREATE INDEX call_history_missed_by_end ON call_history (ended_at)
    WHERE disposition = 'missed';
-- Searches matching few parties: each party's calls, with every other filter column in
-- the index so they are filtered and counted without reading the table. Also serves the
-- foreign key.
CREATE INDEX call_history_by_party
    ON call_history (party_id, started_at, id, direction, disposition);

-- Voicemail as cached from IMAP. A message is identified on the server by
-- (account, folder, UIDVALIDITY, UID).
CREATE TABLE voicemail (
    id              INTEGER PRIMARY KEY,
    account_id      TEXT    NOT NULL,
    folder          TEXT    NOT NULL,
    uidvalidity     INTEGER NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    uid             INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
    caller          TEXT    NOT NULL,
    caller_name     TEXT,
    received_at     INTEGER NOT NULL,          -- UTC unix milliseconds
    duration_ms     INTEGER CHECK (duration_ms >= 0),
    heard           INTEGER NOT NULL DEFAULT 0 CHECK (heard IN (0, 1)),
    delete_pending  INTEGER NOT NULL DEFAULT 0 CHECK (delete_pending IN (0, 1)),
    audio_path      TEXT,
    audio_size      INTEGER CHECK (audio_size >= 0),
    CHECK ((audio_path IS NULL) = (audio_size IS NULL)),
    UNIQUE (account_id, folder, uidvalidity, uid)
) STRICT;

CREATE INDEX voicemail_by_received ON voicemail (account_id, received_at);

-- Heard/unheard/delete done offline, waiting to be replayed on the IMAP server, oldest
-- first. Keyed by the server identity, not voicemail.id, so a queued delete outlives the
-- cached row.
CREATE TABLE voicemail_pending_change (
    id              INTEGER PRIMARY KEY,
    account_id      TEXT    NOT NULL,
    folder          TEXT    NOT NULL,
    uidvalidity     INTEGER NOT NULL,
    uid             INTEGER NOT NULL,
    change          TEXT    NOT NULL CHECK (change IN ('mark_heard', 'mark_unheard', 'delete')),
    queued_at       INTEGER NOT NULL           -- UTC unix milliseconds
) STRICT;

CREATE INDEX voicemail_pending_change_by_message
    ON voicemail_pending_change (account_id, folder, uidvalidity, uid);

-- Small key/value settings; values are text (plain strings or JSON). Never secrets.
CREATE TABLE setting (
    key             TEXT    PRIMARY KEY NOT NULL,
    value           TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
"#;

/// Version 2: what lets a search count its matches without visiting them (docs/store.md,
/// "Search"): call counts per party, call counts per short substring, a trigram index of the
/// parties. The store keeps all three in step with `call_history` (history/search_index.rs).
const V2: &str = r#"
-- How many calls each party has, by the kinds the history filters on (outgoing = calls -
-- incoming), so a search's total is a sum over its parties rather than a count of calls.
ALTER TABLE remote_party ADD COLUMN calls    INTEGER NOT NULL DEFAULT 0 CHECK (calls >= 0);
ALTER TABLE remote_party ADD COLUMN incoming INTEGER NOT NULL DEFAULT 0 CHECK (incoming >= 0);
ALTER TABLE remote_party ADD COLUMN missed   INTEGER NOT NULL DEFAULT 0 CHECK (missed >= 0);
UPDATE remote_party SET
    calls    = (SELECT count(*) FROM call_history c WHERE c.party_id = remote_party.id),
    incoming = (SELECT count(*) FROM call_history c
                WHERE c.party_id = remote_party.id AND c.direction = 'incoming'),
    missed   = (SELECT count(*) FROM call_history c
                WHERE c.party_id = remote_party.id AND c.disposition = 'missed');

-- For every string of 0 to 3 characters found in some search key: how many calls have a
-- party whose key contains it. Answers the total of a 1-3 character search (which matches
-- too many parties to sum) exactly, and bounds longer ones. The empty gram counts every call.
CREATE TABLE search_gram (
    gram            TEXT    PRIMARY KEY NOT NULL,
    calls           INTEGER NOT NULL CHECK (calls >= 0),
    incoming        INTEGER NOT NULL CHECK (incoming >= 0),
    missed          INTEGER NOT NULL CHECK (missed >= 0)
) STRICT, WITHOUT ROWID;

WITH RECURSIVE position (i) AS (
    SELECT 1
    UNION ALL
    SELECT i + 1 FROM position WHERE i < (SELECT max(length(search_key)) FROM remote_party)
),
gram (party_id, gram) AS (
    SELECT id, '' FROM remote_party
    UNION
    SELECT p.id, substr(p.search_key, position.i, len.n)
    FROM remote_party p
    JOIN position ON position.i <= length(p.search_key)
    JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) len
        ON position.i + len.n - 1 <= length(p.search_key)
)
INSERT INTO search_gram (gram, calls, incoming, missed)
SELECT gram.gram, sum(p.calls), sum(p.incoming), sum(p.missed)
FROM gram JOIN remote_party p ON p.id = gram.party_id
GROUP BY gram.gram
HAVING sum(p.calls) > 0;

-- Substrings of 3+ characters: the parties whose key contains them, by trigram. Reads
-- search_key from remote_party (external content); case_sensitive because keys and needles
-- are already lower-cased by the store, so FTS5 must not fold anything differently.
CREATE VIRTUAL TABLE remote_party_fts USING fts5 (
    search_key,
    content = 'remote_party',
    content_rowid = 'id',
    tokenize = 'trigram case_sensitive 1',
    detail = 'full'
);
INSERT INTO remote_party_fts (remote_party_fts) VALUES ('rebuild');
"#;

/// Every migration, oldest first. Append only.
const STEPS: &[M<'static>] = &[M::up(V1), M::up(V2)];

/// The migrations as rusqlite_migration runs them.
pub(crate) static MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);

/// The schema version this build creates and understands (the number of migrations).
pub const SCHEMA_VERSION: i64 = STEPS.len() as i64;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::{Store, UnixMillis};

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn application_id_pragma_matches_constant() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let id: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
        let uv: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(uv, SCHEMA_VERSION);
    }

    /// Writes rows the way schema version N (index N-1) laid them out, with raw SQL of that
    /// version. When you add migration N+1, add a seed for version N+1 here: the test below
    /// refuses to run without one, so every version is upgraded with data in it.
    const SEEDS: &[fn(&Connection)] = &[seed_v1, seed_v2];

    fn seed_v1(conn: &Connection) {
        conn.execute_batch(
            "INSERT INTO remote_party (id, search_key)
             VALUES (3, 'alice\x1fsip:alice@example.org');
             INSERT INTO call_history (id, account_id, direction, remote_uri, remote_name,
                 party_id, started_at, answered_at, ended_at, duration_ms, disposition)
             VALUES (7, 'acct', 'incoming', 'sip:alice@example.org', 'Alice',
                 3, 1000, 2000, 5000, 3000, 'answered');
             INSERT INTO voicemail (account_id, folder, uidvalidity, uid, caller, received_at)
             VALUES ('acct', 'INBOX', 1, 42, 'sip:bob@example.org', 3000);
             INSERT INTO setting (key, value) VALUES ('ui.theme', 'dark');",
        )
        .unwrap();
    }

    /// Version 2 keeps each party's call counts, its short substrings' counts and its
    /// trigrams next to the rows: a seed writes all of them, as the store did.
    fn seed_v2(conn: &Connection) {
        seed_v1(conn);
        conn.execute_batch(
            "INSERT INTO remote_party (id, search_key, calls, incoming, missed)
             VALUES (5, 'bob\x1fsip:bob@example.org', 1, 0, 0);
             INSERT INTO call_history (id, account_id, direction, remote_uri, remote_name,
                 party_id, started_at, answered_at, ended_at, duration_ms, disposition)
             VALUES (8, 'acct', 'outgoing', 'sip:bob@example.org', 'Bob',
                 5, 6000, NULL, 7000, 0, 'busy');
             UPDATE remote_party SET calls = 1, incoming = 1 WHERE id = 3;
             DELETE FROM search_gram;
             WITH RECURSIVE position (i) AS (
                 SELECT 1 UNION ALL SELECT i + 1 FROM position WHERE i < 40
             ),
             gram (party_id, gram) AS (
                 SELECT id, '' FROM remote_party
                 UNION
                 SELECT p.id, substr(p.search_key, position.i, len.n)
                 FROM remote_party p
                 JOIN position ON position.i + len.n - 1 <= length(p.search_key)
                 JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) len
             )
             INSERT INTO search_gram (gram, calls, incoming, missed)
             SELECT gram.gram, sum(p.calls), sum(p.incoming), sum(p.missed)
             FROM gram JOIN remote_party p ON p.id = gram.party_id GROUP BY gram.gram;
             INSERT INTO remote_party_fts (remote_party_fts) VALUES ('rebuild');",
        )
        .unwrap();
    }

    /// What every seed must still read as after upgrading to the latest version.
    fn check_seeded(store: &Store, seeded_at: i64) {
        if seeded_at < 1 {
            return;
        }
        let call = store.history().get(crate::CallId(7)).unwrap().unwrap();
        assert_eq!(call.remote_name.as_deref(), Some("Alice"));
        assert_eq!(call.ended_at, Some(UnixMillis(5000)));
        let found = store
            .history()
            .query(&crate::CallQuery {
                search: Some("ALICE".into()),
                ..crate::CallQuery::default()
            })
            .unwrap();
        assert_eq!(found.total, 1);
        // Migration 2 counted the calls that were there: short searches read those counts,
        // longer ones the trigram index.
        for (needle, total) in [("ali", 1), ("alice", 1), ("e", 1), ("example.org", 1)] {
            let found = store
                .history()
                .query(&crate::CallQuery {
                    search: Some(needle.into()),
                    ..crate::CallQuery::default()
                })
                .unwrap();
            let bob = u64::from(seeded_at >= 2 && needle != "ali" && needle != "alice");
            assert_eq!(
                found.total,
                total + bob,
                "{needle} from version {seeded_at}"
            );
        }
        let vm = store.voicemail().list(Some("acct")).unwrap();
        assert_eq!(vm.len(), 1);
        assert_eq!(vm[0].message.uid, 42);
        assert_eq!(
            store.settings().get_string("ui.theme").unwrap().as_deref(),
            Some("dark")
        );
    }

    #[test]
    fn there_is_a_seed_for_every_schema_version() {
        assert_eq!(SEEDS.len() as i64, SCHEMA_VERSION);
    }

    #[test]
    fn upgrades_from_empty_and_from_every_earlier_version() {
        for version in 0..=SCHEMA_VERSION {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.sqlite3");
            {
                let mut conn = Connection::open(&path).unwrap();
                let target = usize::try_from(version).unwrap();
                MIGRATIONS.to_version(&mut conn, target).unwrap();
                if version >= 1 {
                    SEEDS[target - 1](&conn);
                }
            }
            let store = Store::open(&path).unwrap();
            assert_eq!(
                store.schema_version().unwrap(),
                SCHEMA_VERSION,
                "from {version}"
            );
            store.integrity_check().unwrap();
            check_seeded(&store, version);
            // Re-opening an up-to-date file is a no-op that keeps the data.
            drop(store);
            let store = Store::open(&path).unwrap();
            check_seeded(&store, version);
        }
    }
}
