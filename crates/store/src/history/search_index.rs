//! Keeps the search aggregates of schema version 2 in step with `call_history`: each party's
//! call counts, the call counts of every short substring (`search_gram`) and the trigram
//! index of the parties (`remote_party_fts`). Every function here runs inside the caller's
//! transaction, so the aggregates commit (or roll back) with the calls they count.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

/// Substrings up to this many characters have their calls counted in `search_gram`
/// (migration 2 fills it with the same length).
pub(super) const MAX_GRAM_CHARS: usize = 3;

/// How one call counts in the aggregates: +1 when it is added, -1 when it is removed, and
/// only `missed` moving when its disposition becomes (or stops being) missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tally {
    calls: i64,
    incoming: i64,
    missed: i64,
}

impl Tally {
    /// One call, incoming or not, missed or not.
    pub(super) fn call(incoming: bool, missed: bool) -> Tally {
        Tally {
            calls: 1,
            incoming: i64::from(incoming),
            missed: i64::from(missed),
        }
    }

    /// A call that became missed (`true`) or stopped being missed (`false`).
    pub(super) fn missed_changed(now_missed: bool) -> Tally {
        Tally {
            calls: 0,
            incoming: 0,
            missed: if now_missed { 1 } else { -1 },
        }
    }

    /// The same call taken away.
    pub(super) fn removed(self) -> Tally {
        Tally {
            calls: -self.calls,
            incoming: -self.incoming,
            missed: -self.missed,
        }
    }
}

/// Adds `tally` to party `party_id` and to every short substring of its key. A party whose
/// first call this is goes into the trigram index.
pub(super) fn count_call(conn: &Connection, party_id: i64, tally: Tally) -> rusqlite::Result<()> {
    let (key, calls_before): (String, i64) = conn
        .prepare_cached(
            "UPDATE remote_party SET calls = calls + ?2, incoming = incoming + ?3,
                 missed = missed + ?4
             WHERE id = ?1
             RETURNING search_key, calls - ?2",
        )?
        .query_row(
            params![party_id, tally.calls, tally.incoming, tally.missed],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    if calls_before == 0 && tally.calls > 0 {
        // Parties are deleted with their last call, so no counted call means just inserted.
        conn.prepare_cached("INSERT INTO remote_party_fts (rowid, search_key) VALUES (?1, ?2)")?
            .execute(params![party_id, key])?;
    }
    // One statement for all of the key's grams: a JSON array is how SQLite takes a list.
    // Grams already counted move by the tally; a call adding grams no call had adds them.
    let grams = json_array(&short_grams(&key));
    conn.prepare_cached(
        "UPDATE search_gram SET calls = calls + ?2, incoming = incoming + ?3,
             missed = missed + ?4
         WHERE gram IN (SELECT value FROM json_each(?1))",
    )?
    .execute(params![grams, tally.calls, tally.incoming, tally.missed])?;
    if tally.calls > 0 {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO search_gram (gram, calls, incoming, missed)
             SELECT value, ?2, ?3, ?4 FROM json_each(?1)",
        )?
        .execute(params![grams, tally.calls, tally.incoming, tally.missed])?;
    } else if tally.calls < 0 {
        // A gram no call contains any more goes, so the table holds only what is there.
        conn.prepare_cached(
            "DELETE FROM search_gram
             WHERE gram IN (SELECT value FROM json_each(?1)) AND calls = 0",
        )?
        .execute([grams])?;
    }
    Ok(())
}

/// Deletes party `party_id` if no call is left with it (and takes it out of the trigram
/// index). Call after [`count_call`] has taken the last call away.
pub(super) fn remove_party_if_unused(conn: &Connection, party_id: i64) -> rusqlite::Result<()> {
    let key: Option<String> = conn
        .prepare_cached(
            "DELETE FROM remote_party WHERE id = ?1 AND calls = 0 RETURNING search_key",
        )?
        .query_row([party_id], |r| r.get(0))
        .optional()?;
    if let Some(key) = key {
        // External content: FTS5 removes a row's trigrams given the text it indexed.
        conn.prepare_cached(
            "INSERT INTO remote_party_fts (remote_party_fts, rowid, search_key)
             VALUES ('delete', ?1, ?2)",
        )?
        .execute(params![party_id, key])?;
    }
    Ok(())
}

/// Empties every aggregate (with the whole history).
pub(super) fn clear(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM search_gram;
         INSERT INTO remote_party_fts (remote_party_fts) VALUES ('delete-all');",
    )
}

/// `grams` as a JSON array of strings.
fn json_array(grams: &BTreeSet<&str>) -> String {
    serde_json::Value::from(grams.iter().copied().collect::<Vec<_>>()).to_string()
}

/// Every distinct string of 0 to [`MAX_GRAM_CHARS`] characters in `key`, as SQLite's
/// `substr` counts characters (Unicode scalar values).
pub(super) fn short_grams(key: &str) -> BTreeSet<&str> {
    let starts: Vec<usize> = key
        .char_indices()
        .map(|(i, _)| i)
        .chain([key.len()])
        .collect();
    let mut grams = BTreeSet::from([""]);
    for (n, &start) in starts.iter().enumerate() {
        for &end in starts.iter().skip(n + 1).take(MAX_GRAM_CHARS) {
            grams.insert(&key[start..end]);
        }
    }
    grams
}
