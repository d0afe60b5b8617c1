//! How a search query finds its page and its total. The search aggregates (search_index.rs)
//! give the exact number of matching calls of each kind before any date range, and what it
//! costs to list the matching parties; from those the query picks the cheaper of two ways
//! to read its calls. Costs are rough nanoseconds measured with examples/history_bench.rs.

use rusqlite::{Connection, OptionalExtension};

use super::search_index::MAX_GRAM_CHARS;
use super::{CallKind, CallQuery, like_contains_pattern};

/// Walking one entry of a paging index and testing its party's key.
const SCAN_CALL_NS: f64 = 150.0;
/// Finding one party's calls in `call_history_by_party`.
const PARTY_SEEK_NS: f64 = 1_000.0;
/// Reading (and, for a page, sorting) one of those calls.
const PARTY_CALL_NS: f64 = 100.0;
/// Testing one party's key with `LIKE` while scanning `remote_party`.
const LIKE_PARTY_NS: f64 = 150.0;
/// Listing one matching party through the trigram index and summing its counts.
const TRIGRAM_PARTY_NS: f64 = 400.0;
/// Up to this many matching parties are listed in `temp.search_party`, which lets the
/// by-party plan read them; more would cost more to list than that plan could save.
const LIST_MAX_PARTIES: f64 = 2_000.0;
/// How many of a needle's trigrams bound its matches (each is one lookup).
const BOUND_TRIGRAMS: usize = 16;

/// How a query applies its search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SearchPlan {
    /// No call of the query's kind matches.
    Nothing,
    /// Every call of the query's kind matches: the search filters nothing.
    Everything,
    /// Range-read each matching party's calls (the parties are in `temp.search_party`).
    ByParty,
    /// Walk the kind's paging index, testing each call's party key with `LIKE`.
    Scan,
}

/// A search, ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Search {
    /// How it reads its calls.
    pub(super) plan: SearchPlan,
    /// What [`SearchPlan::Scan`] tests each party key with (`LIKE ... ESCAPE '\'`).
    pub(super) pattern: String,
    /// The exact total, when the query has no date range (the aggregates count all time).
    pub(super) total: Option<i64>,
}

/// Calls by the kinds a query filters on, as the aggregates count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct KindCounts {
    calls: i64,
    incoming: i64,
    missed: i64,
}

impl KindCounts {
    fn of(self, kind: CallKind) -> i64 {
        match kind {
            CallKind::All => self.calls,
            CallKind::Incoming => self.incoming,
            CallKind::Outgoing => self.calls - self.incoming,
            CallKind::Missed => self.missed,
        }
    }

    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<KindCounts> {
        Ok(KindCounts {
            calls: row.get(0)?,
            incoming: row.get(1)?,
            missed: row.get(2)?,
        })
    }
}

/// The matching parties of a needle, and where they can be read from.
struct Parties {
    /// Their calls, by kind, when summed.
    counts: Option<KindCounts>,
    /// At most how many calls match (a party has at least one).
    bound: i64,
    /// How many there are, when they were listed in `temp.search_party`.
    listed: Option<usize>,
}

/// Plans the search of `query` for `needle` (trimmed, not blank).
pub(super) fn prepare(
    conn: &Connection,
    needle: &str,
    query: &CallQuery,
) -> rusqlite::Result<Search> {
    let needle = needle.to_lowercase();
    let pattern = like_contains_pattern(&needle);
    let dated = query.from.is_some() || query.until.is_some();
    let of_kind = gram_counts(conn, "")?.of(query.kind);
    // With a date range the all-time counts only rank the plans (the total is counted in
    // the range), so a longer needle's trigram bound does instead of summing its parties.
    let parties = if needle.chars().count() <= MAX_GRAM_CHARS {
        let counts = gram_counts(conn, &needle)?;
        Parties {
            bound: counts.calls,
            counts: Some(counts),
            listed: None,
        }
    } else {
        find_parties(conn, &needle, &pattern, !dated)?
    };
    let matched = match parties.counts {
        Some(counts) => counts.of(query.kind),
        None => parties.bound.min(of_kind),
    };
    let total = (!dated).then_some(matched);
    let plan = if matched == 0 {
        SearchPlan::Nothing
    } else if parties.counts.is_some() && matched == of_kind {
        SearchPlan::Everything
    } else {
        let cost = Costs {
            of_kind: of_kind as f64,
            matched: matched as f64,
            in_range: range_fraction(conn, query)?,
            party_rows: party_rows(conn)?,
            page_rows: f64::from(query.limit) + 1.0,
            dated,
        };
        let by_party = cost.by_party(parties.listed);
        if by_party < cost.scan() {
            if parties.listed.is_none() {
                list_parties(conn, LIKE_SOURCE, &pattern)?;
            }
            SearchPlan::ByParty
        } else {
            SearchPlan::Scan
        }
    };
    Ok(Search {
        plan,
        pattern,
        total,
    })
}

/// `search` run with `plan` instead of the one it chose (for tests: every plan must give the
/// same answer). The total stays the aggregates' one.
#[cfg(test)]
pub(super) fn forced(
    conn: &Connection,
    search: Search,
    plan: SearchPlan,
) -> rusqlite::Result<Search> {
    if plan == SearchPlan::ByParty {
        list_parties(conn, LIKE_SOURCE, &search.pattern)?;
    }
    Ok(Search { plan, ..search })
}

/// What the two plans are expected to cost for one query.
struct Costs {
    /// Calls of the query's kind, all time.
    of_kind: f64,
    /// Of those, the ones matching the search.
    matched: f64,
    /// The share of all time the date range covers (1 without one).
    in_range: f64,
    /// Rows of `remote_party` (an upper bound).
    party_rows: f64,
    /// Rows a page reads (one more than its limit).
    page_rows: f64,
    /// Whether the total must be counted (a date range) rather than read from the aggregates.
    dated: bool,
}

impl Costs {
    /// Walking the paging index until a page is full, plus, with a date range, the whole
    /// range for the count.
    fn scan(&self) -> f64 {
        let in_range = self.of_kind * self.in_range;
        let matched = self.matched * self.in_range;
        let walk = if matched > self.page_rows {
            in_range * self.page_rows / matched
        } else {
            in_range
        };
        let count = if self.dated { in_range } else { 0.0 };
        SCAN_CALL_NS * (walk + count)
    }

    /// Reading each matching party's calls (twice with a date range: page and count),
    /// after listing the parties when `listed` says they are not yet.
    fn by_party(&self, listed: Option<usize>) -> f64 {
        let (parties, listing) = match listed {
            Some(n) => (n as f64, 0.0),
            None => (
                self.matched.min(self.party_rows),
                LIKE_PARTY_NS * self.party_rows,
            ),
        };
        let pass = PARTY_SEEK_NS * parties + PARTY_CALL_NS * self.matched * self.in_range;
        listing + pass * if self.dated { 2.0 } else { 1.0 }
    }
}

/// Where matching parties come from: the trigram index or a `LIKE` scan of their keys.
#[derive(Clone, Copy)]
struct PartySource {
    /// `SELECT` of the matching ids, `?1` the needle's phrase or pattern.
    ids: &'static str,
    /// The matching parties' summed counts, same argument.
    sums: &'static str,
}

const TRIGRAM_SOURCE: PartySource = PartySource {
    ids: "SELECT rowid FROM remote_party_fts WHERE remote_party_fts MATCH ?1",
    sums: "SELECT coalesce(sum(p.calls), 0), coalesce(sum(p.incoming), 0),
                  coalesce(sum(p.missed), 0)
           FROM remote_party_fts f CROSS JOIN remote_party p ON p.id = f.rowid
           WHERE remote_party_fts MATCH ?1",
};

const LIKE_SOURCE: PartySource = PartySource {
    ids: r"SELECT id FROM remote_party WHERE search_key LIKE ?1 ESCAPE '\'",
    sums: r"SELECT coalesce(sum(calls), 0), coalesce(sum(incoming), 0), coalesce(sum(missed), 0)
            FROM remote_party WHERE search_key LIKE ?1 ESCAPE '\'",
};

/// The parties whose key contains `needle` (more than [`MAX_GRAM_CHARS`] characters): by
/// the trigram index when its trigrams say few parties can match, else by one `LIKE` scan
/// of the parties; listed when there are few enough, their calls summed if `count`.
fn find_parties(
    conn: &Connection,
    needle: &str,
    pattern: &str,
    count: bool,
) -> rusqlite::Result<Parties> {
    let bound = trigram_bound(conn, needle)?;
    let mut parties = Parties {
        counts: None,
        bound,
        listed: None,
    };
    if bound == 0 {
        parties.counts = Some(KindCounts::default());
        return Ok(parties);
    }
    let party_rows = party_rows(conn)?;
    let most = (bound as f64).min(party_rows);
    let (source, arg, most) = if TRIGRAM_PARTY_NS * most < LIKE_PARTY_NS * party_rows {
        (TRIGRAM_SOURCE, fts_phrase(needle), most)
    } else {
        (LIKE_SOURCE, pattern.to_owned(), party_rows)
    };
    if most <= LIST_MAX_PARTIES {
        parties.listed = Some(list_parties(conn, source, &arg)?);
        if count {
            parties.counts = Some(
                conn.prepare_cached(
                    "SELECT coalesce(sum(calls), 0), coalesce(sum(incoming), 0),
                            coalesce(sum(missed), 0)
                     FROM remote_party WHERE id IN (SELECT id FROM temp.search_party)",
                )?
                .query_row([], KindCounts::read)?,
            );
        }
    } else if count {
        parties.counts = Some(
            conn.prepare_cached(source.sums)?
                .query_row([&arg], KindCounts::read)?,
        );
    }
    Ok(parties)
}

/// Replaces `temp.search_party` with the parties `source` yields for `arg`; how many.
fn list_parties(conn: &Connection, source: PartySource, arg: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM temp.search_party")?
        .execute([])?;
    conn.prepare_cached(&format!(
        "INSERT INTO temp.search_party (id) {}",
        source.ids
    ))?
    .execute([arg])
}

/// The calls of a string of up to [`MAX_GRAM_CHARS`] characters (all calls for `""`).
fn gram_counts(conn: &Connection, gram: &str) -> rusqlite::Result<KindCounts> {
    Ok(conn
        .prepare_cached("SELECT calls, incoming, missed FROM search_gram WHERE gram = ?1")?
        .query_row([gram], KindCounts::read)
        .optional()?
        .unwrap_or_default())
}

/// At most how many parties contain `needle`: the fewest calls of any of its trigrams (a
/// party containing the needle contains each of them, and has a call).
fn trigram_bound(conn: &Connection, needle: &str) -> rusqlite::Result<i64> {
    let chars: Vec<(usize, char)> = needle.char_indices().collect();
    let mut bound = i64::MAX;
    for window in chars.windows(MAX_GRAM_CHARS).take(BOUND_TRIGRAMS) {
        let start = window[0].0;
        let end = window[MAX_GRAM_CHARS - 1].0 + window[MAX_GRAM_CHARS - 1].1.len_utf8();
        bound = bound.min(gram_counts(conn, &needle[start..end])?.calls);
        if bound == 0 {
            break;
        }
    }
    Ok(bound)
}

/// Rows of `remote_party`, bounded from above by the largest id (one index probe, where a
/// count would read the whole table).
fn party_rows(conn: &Connection) -> rusqlite::Result<f64> {
    let max: Option<i64> = conn
        .prepare_cached("SELECT max(id) FROM remote_party")?
        .query_row([], |r| r.get(0))?;
    Ok(max.unwrap_or(0).max(0) as f64)
}

/// The share of the history's time span that the query's date range covers, assuming
/// calls spread evenly over it: enough to rank plans.
fn range_fraction(conn: &Connection, query: &CallQuery) -> rusqlite::Result<f64> {
    if query.from.is_none() && query.until.is_none() {
        return Ok(1.0);
    }
    let (first, last): (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT (SELECT min(started_at) FROM call_history),
                    (SELECT max(started_at) FROM call_history)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(0.0);
    };
    let from = query.from.map_or(first, |t| t.0.max(first));
    let until = query
        .until
        .map_or(last.saturating_add(1), |t| t.0.min(last.saturating_add(1)));
    let span = last.saturating_sub(first).saturating_add(1) as f64;
    Ok((until.saturating_sub(from).max(0) as f64 / span).clamp(0.0, 1.0))
}

/// `needle` as an FTS5 phrase: quoted, with its quotes doubled, so nothing in it is query
/// syntax; the trigram tokenizer makes it "these characters, consecutive".
fn fts_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

#[cfg(test)]
mod tests;
