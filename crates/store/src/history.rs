//! Call history: one row per call, written as the call progresses, read back in pages.

use std::fmt;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::{Deserialize, Serialize};

use self::search::{Search, SearchPlan};
use self::search_index::Tally;
use crate::settings::MISSED_SEEN_KEY;
use crate::{Error, Result, Store, UnixMillis};

/// The most rows one [`CallHistory::query`] page may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Longest text (account id, URI, name, transfer target) the history accepts, in bytes.
const MAX_TEXT_BYTES: usize = 4096;

/// Separates name and URI in the search key, so a search never matches across the two.
const SEARCH_KEY_SEPARATOR: char = '\u{1f}';

/// The row id of a call in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub i64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who placed the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The remote party called us.
    Incoming,
    /// We called the remote party.
    Outgoing,
}

impl Direction {
    /// The stored (and exported) name: `incoming` or `outgoing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "incoming" => Some(Direction::Incoming),
            "outgoing" => Some(Direction::Outgoing),
            _ => None,
        }
    }
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Answered here and talked.
    Answered,
    /// Incoming, rang out or the caller gave up before we answered.
    Missed,
    /// Incoming, declined here (or outgoing, declined by the remote party).
    Rejected,
    /// The remote party was busy.
    Busy,
    /// Could not be set up (network, server or media error).
    Failed,
    /// Outgoing, we hung up before it was answered.
    Cancelled,
    /// Incoming, answered on another device of the same account.
    AnsweredElsewhere,
}

impl Disposition {
    /// Every disposition, for UIs and tests.
    pub const ALL: [Disposition; 7] = [
        Disposition::Answered,
        Disposition::Missed,
        Disposition::Rejected,
        Disposition::Busy,
        Disposition::Failed,
        Disposition::Cancelled,
        Disposition::AnsweredElsewhere,
    ];

    /// The stored (and exported) name, e.g. `answered_elsewhere`.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Missed => "missed",
            Disposition::Rejected => "rejected",
            Disposition::Busy => "busy",
            Disposition::Failed => "failed",
            Disposition::Cancelled => "cancelled",
            Disposition::AnsweredElsewhere => "answered_elsewhere",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Disposition::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// How the call was transferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Blind (unattended) transfer: REFER without talking to the target first.
    Blind,
    /// Attended (consultative) transfer: REFER with Replaces after a consultation call.
    Attended,
}

impl TransferKind {
    /// The stored name: `blind` or `attended`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::Blind => "blind",
            TransferKind::Attended => "attended",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "blind" => Some(TransferKind::Blind),
            "attended" => Some(TransferKind::Attended),
            _ => None,
        }
    }
}

/// A transfer that ended the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Blind or attended.
    pub kind: TransferKind,
    /// Where the call went (a SIP URI or number).
    pub target: String,
}

/// What is known when a call starts; [`CallHistory::record_start`] writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCall {
    /// The account (as the engine names it) the call belongs to.
    pub account_id: String,
    /// Incoming or outgoing.
    pub direction: Direction,
    /// The remote party's URI or number.
    pub remote_uri: String,
    /// The remote party's display name, when known.
    pub remote_name: Option<String>,
    /// When the call started (INVITE sent or received).
    pub started_at: UnixMillis,
}

/// How a call ended; [`CallHistory::record_end`] writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEnd {
    /// When the call ended.
    pub ended_at: UnixMillis,
    /// How it ended.
    pub disposition: Disposition,
    /// The transfer that ended it, if any.
    pub transfer: Option<Transfer>,
}

/// One call as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Row id.
    pub id: CallId,
    /// The account the call belongs to.
    pub account_id: String,
    /// Incoming or outgoing.
    pub direction: Direction,
    /// The remote party's URI or number.
    pub remote_uri: String,
    /// The remote party's display name, when known.
    pub remote_name: Option<String>,
    /// When the call started.
    pub started_at: UnixMillis,
    /// When it was answered, if it was.
    pub answered_at: Option<UnixMillis>,
    /// When it ended; `None` while in progress or if the app died during the call.
    pub ended_at: Option<UnixMillis>,
    /// Talk time (answer to end); zero for unanswered calls; `None` until the end is known.
    pub duration: Option<Duration>,
    /// How it ended; `None` while in progress (or until [`CallHistory::close_interrupted`]).
    pub disposition: Option<Disposition>,
    /// The transfer that ended the call, if any.
    pub transfer: Option<Transfer>,
}

/// Which calls a query shows ("type" in the UI).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// Every call.
    #[default]
    All,
    /// Calls to us, whatever their outcome (missed ones included).
    Incoming,
    /// Calls we placed.
    Outgoing,
    /// Calls with disposition [`Disposition::Missed`].
    Missed,
}

/// Where the next page starts: the last row of the previous page. Keyset paging, so a page
/// stays stable while new calls are inserted at the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageCursor {
    /// `started_at` of the last row shown.
    pub started_at: UnixMillis,
    /// `id` of the last row shown.
    pub id: CallId,
}

/// A history query: a filter, and which page of it. Ordered by start, newest first (ties
/// by id, newest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallQuery {
    /// Which calls.
    pub kind: CallKind,
    /// Calls that started at or after this instant.
    pub from: Option<UnixMillis>,
    /// Calls that started before this instant (exclusive).
    pub until: Option<UnixMillis>,
    /// Substring of the remote name or URI/number, case-insensitive; `%`, `_` and `\` are
    /// matched literally. Blank means no search.
    pub search: Option<String>,
    /// Continue after this row ([`CallPage::next`] of the previous page); `None` for the
    /// first page.
    pub after: Option<PageCursor>,
    /// Rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub limit: u32,
}

impl Default for CallQuery {
    /// The first page of 50 of all calls.
    fn default() -> Self {
        CallQuery {
            kind: CallKind::All,
            from: None,
            until: None,
            search: None,
            after: None,
            limit: 50,
        }
    }
}

/// One page of a query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPage {
    /// The rows, newest first.
    pub calls: Vec<CallRecord>,
    /// How many calls match the filter in all (all pages, ignoring the cursor).
    pub total: u64,
    /// Cursor for the next page; `None` when this is the last one.
    pub next: Option<PageCursor>,
}

/// The call history of one store; from [`Store::history`].
#[derive(Debug, Clone, Copy)]
pub struct CallHistory<'s> {
    store: &'s Store,
}

/// Missed calls that ended after `?1` (served by the `call_history_missed_by_end` index).
const MISSED_SINCE_SQL: &str =
    "SELECT count(*) FROM call_history WHERE disposition = 'missed' AND ended_at > ?1";

/// The SELECT list [`RawCall::read`] expects.
pub(crate) const CALL_COLUMNS: &str = "id, account_id, direction, remote_uri, remote_name, started_at, \
                       answered_at, ended_at, duration_ms, disposition, transfer_kind, \
                       transfer_target";

impl<'s> CallHistory<'s> {
    pub(crate) fn new(store: &'s Store) -> Self {
        CallHistory { store }
    }

    /// Records a call as it starts and returns its id; committed before this returns, so
    /// the row survives a crash later in the call.
    pub fn record_start(&self, call: &NewCall) -> Result<CallId> {
        check_text("account_id", &call.account_id, true)?;
        check_text("remote_uri", &call.remote_uri, true)?;
        let remote_name = normalize_name(call.remote_name.as_deref())?;
        let key = search_key(remote_name, &call.remote_uri);
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        self.store.atomically(|| {
            // DO UPDATE (a no-op) rather than DO NOTHING, so RETURNING yields the existing id.
            let party_id: i64 = conn
                .prepare_cached(
                    "INSERT INTO remote_party (search_key) VALUES (?1)
                 ON CONFLICT (search_key) DO UPDATE SET search_key = excluded.search_key
                 RETURNING id",
                )
                .and_then(|mut s| s.query_row([&key], |r| r.get(0)))
                .map_err(err)?;
            conn.prepare_cached(
                "INSERT INTO call_history (account_id, direction, remote_uri, remote_name,
                 party_id, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    call.account_id,
                    call.direction.as_str(),
                    call.remote_uri,
                    remote_name,
                    party_id,
                    call.started_at.0,
                ])
            })
            .map_err(err)?;
            let id = conn.last_insert_rowid();
            search_index::count_call(
                conn,
                party_id,
                Tally::call(call.direction == Direction::Incoming, false),
            )
            .map_err(err)?;
            Ok(CallId(id))
        })
    }

    /// Records that the call was answered. The first answer wins: answering again (a
    /// re-INVITE, a retransmission) keeps the earlier time.
    pub fn record_answer(&self, id: CallId, answered_at: UnixMillis) -> Result<()> {
        let changed = self
            .store
            .conn()
            .prepare_cached(
                "UPDATE call_history SET answered_at = coalesce(answered_at, ?2) WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id.0, answered_at.0]))
            .map_err(|e| self.store.db_err(e))?;
        found(changed, id)
    }

    /// Records how the call ended; the store works out the talk time (answer to end, zero
    /// if never answered, never negative when the wall clock stepped back). Recording the
    /// end again overwrites the earlier end.
    pub fn record_end(&self, id: CallId, end: &CallEnd) -> Result<()> {
        if let Some(t) = &end.transfer {
            check_text("transfer target", &t.target, true)?;
        }
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        self.store.atomically(|| {
            // Whether it was missed before, for the search counts of missed calls.
            let before: Option<(i64, bool)> = conn
                .prepare_cached(
                    "SELECT party_id, disposition IS 'missed' FROM call_history WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(err)?;
            let Some((party_id, was_missed)) = before else {
                return found(0, id);
            };
            conn.prepare_cached(
                "UPDATE call_history SET
                     ended_at = ?2,
                     disposition = ?3,
                     duration_ms = CASE WHEN answered_at IS NULL THEN 0
                                        ELSE max(0, ?2 - answered_at) END,
                     transfer_kind = ?4,
                     transfer_target = ?5
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id.0,
                    end.ended_at.0,
                    end.disposition.as_str(),
                    end.transfer.as_ref().map(|t| t.kind.as_str()),
                    end.transfer.as_ref().map(|t| t.target.as_str()),
                ])
            })
            .map_err(err)?;
            let missed = end.disposition == Disposition::Missed;
            if missed != was_missed {
                search_index::count_call(conn, party_id, Tally::missed_changed(missed))
                    .map_err(err)?;
            }
            Ok(())
        })
    }

    /// Closes calls left without an end by a crash: answered ones become
    /// [`Disposition::Answered`], the others [`Disposition::Failed`]; their end time and
    /// duration stay unknown. Call once at startup, before the engine places or takes
    /// calls. Returns how many rows it closed.
    pub fn close_interrupted(&self) -> Result<u64> {
        let n = self
            .store
            .conn()
            .execute(
                "UPDATE call_history
                 SET disposition = CASE WHEN answered_at IS NULL THEN 'failed' ELSE 'answered' END
                 WHERE disposition IS NULL",
                [],
            )
            .map_err(|e| self.store.db_err(e))?;
        Ok(n as u64)
    }

    /// One call by id.
    pub fn get(&self, id: CallId) -> Result<Option<CallRecord>> {
        let raw = self
            .store
            .conn()
            .prepare_cached(&format!(
                "SELECT {CALL_COLUMNS} FROM call_history WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id.0], RawCall::read).optional())
            .map_err(|e| self.store.db_err(e))?;
        raw.map(|r| r.into_record(self.store)).transpose()
    }

    /// One page of the calls matching `query`, with the total count for the filter. Page
    /// and count are read in one transaction, so they agree.
    pub fn query(&self, query: &CallQuery) -> Result<CallPage> {
        self.query_with(query, |_, search| Ok(search))
    }

    /// [`CallHistory::query`], with `plan` having the last word on how the search runs
    /// (tests use it to run every plan).
    fn query_with(
        &self,
        query: &CallQuery,
        plan: impl FnOnce(&rusqlite::Connection, Search) -> rusqlite::Result<Search>,
    ) -> Result<CallPage> {
        if query.limit == 0 || query.limit > MAX_PAGE_SIZE {
            return Err(Error::invalid(format!(
                "page size {} is not between 1 and {MAX_PAGE_SIZE}",
                query.limit
            )));
        }
        let needle = search_needle(query)?;
        let conn = self.store.conn();
        let (total, raws) = self.store.atomically(|| {
            let search = needle
                .map(|needle| plan(conn, search::prepare(conn, needle, query)?))
                .transpose()
                .map_err(|e| self.store.db_err(e))?;
            self.read_page(query, search.as_ref())
        })?;

        let mut calls = raws
            .into_iter()
            .map(|r| r.into_record(self.store))
            .collect::<Result<Vec<_>>>()?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let next = if calls.len() > limit {
            calls.truncate(limit);
            calls.last().map(|c| PageCursor {
                started_at: c.started_at,
                id: c.id,
            })
        } else {
            None
        };
        Ok(CallPage {
            calls,
            total: u64::try_from(total).unwrap_or(0),
            next,
        })
    }

    /// The total and the page's rows (one more than the limit, if there are) of `query`,
    /// its search planned as `search` says.
    fn read_page(&self, query: &CallQuery, search: Option<&Search>) -> Result<(i64, Vec<RawCall>)> {
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        let known_total = match search {
            None => None,
            Some(s) if s.plan == SearchPlan::Nothing => return Ok((0, Vec::new())),
            Some(s) => s.total,
        };
        let filter = Filter::new(query, search);
        let total: i64 = match known_total {
            Some(total) => total,
            None => conn
                .prepare_cached(&filter.count_sql())
                .and_then(|mut s| s.query_row(params_from_iter(&filter.values), |r| r.get(0)))
                .map_err(err)?,
        };
        let (sql, values) = filter.page_sql(query.after, query.limit);
        let raws = conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(&values), RawCall::read)?
                    .collect::<rusqlite::Result<Vec<RawCall>>>()
            })
            .map_err(err)?;
        Ok((total, raws))
    }

    /// Missed calls that ended after the last [`CallHistory::mark_missed_seen`] (all missed
    /// calls if never marked). Uses the end time, so a call that was still ringing when the
    /// user looked counts once it is missed.
    pub fn missed_since_last_seen(&self) -> Result<u64> {
        let seen = self.missed_seen_at()?.map_or(i64::MIN, |t| t.0);
        let n: i64 = self
            .store
            .conn()
            .prepare_cached(MISSED_SINCE_SQL)
            .and_then(|mut s| s.query_row([seen], |r| r.get(0)))
            .map_err(|e| self.store.db_err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Records that the user has seen the missed calls up to `now`.
    pub fn mark_missed_seen(&self, now: UnixMillis) -> Result<()> {
        self.store
            .settings()
            .set_internal(MISSED_SEEN_KEY, &now.0.to_string())
    }

    /// When the missed calls were last marked seen, if ever.
    pub fn missed_seen_at(&self) -> Result<Option<UnixMillis>> {
        let Some(text) = self.store.settings().get_string(MISSED_SEEN_KEY)? else {
            return Ok(None);
        };
        text.parse::<i64>()
            .map(|ms| Some(UnixMillis(ms)))
            .map_err(|e| Error::Corrupt {
                path: self.store.path().to_path_buf(),
                detail: format!("setting {MISSED_SEEN_KEY} is not a number: {e}"),
            })
    }

    /// Deletes one call; `false` if there was no such call.
    pub fn delete(&self, id: CallId) -> Result<bool> {
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        self.store.atomically(|| {
            let deleted: Option<(i64, bool, bool)> = conn
                .prepare_cached(
                    "DELETE FROM call_history WHERE id = ?1
                     RETURNING party_id, direction = 'incoming', disposition IS 'missed'",
                )
                .and_then(|mut s| {
                    s.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()
                })
                .map_err(err)?;
            let Some((party_id, incoming, missed)) = deleted else {
                return Ok(false);
            };
            search_index::count_call(conn, party_id, Tally::call(incoming, missed).removed())
                .and_then(|()| search_index::remove_party_if_unused(conn, party_id))
                .map_err(err)?;
            Ok(true)
        })
    }

    /// Deletes every call; returns how many.
    pub fn delete_all(&self) -> Result<u64> {
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        self.store.atomically(|| {
            let n = conn.execute("DELETE FROM call_history", []).map_err(err)?;
            conn.execute("DELETE FROM remote_party", []).map_err(err)?;
            search_index::clear(conn).map_err(err)?;
            Ok(n as u64)
        })
    }

    pub(crate) fn store(&self) -> &'s Store {
        self.store
    }
}

/// The trimmed search text, if any, checked.
fn search_needle(query: &CallQuery) -> Result<Option<&str>> {
    match query.search.as_deref().map(str::trim) {
        Some(needle) if !needle.is_empty() => {
            check_text("search", needle, false)?;
            Ok(Some(needle))
        }
        _ => Ok(None),
    }
}

/// A query's WHERE clause and its bound values. Kind filters are literals so SQLite can
/// pick the matching (partial) index; user input is always bound.
struct Filter {
    /// `call_history`, with an index hint for searches.
    from: &'static str,
    sql: String,
    values: Vec<Value>,
}

impl Filter {
    /// The filter for `query`; `search` says how to apply its search (whose matching
    /// parties, for [`SearchPlan::ByParty`], are already in `temp.search_party`).
    fn new(query: &CallQuery, search: Option<&Search>) -> Filter {
        let mut parts: Vec<&str> = Vec::new();
        let mut values = Vec::new();
        let mut from = "call_history";
        match query.kind {
            CallKind::All => {}
            CallKind::Incoming => parts.push("direction = 'incoming'"),
            CallKind::Outgoing => parts.push("direction = 'outgoing'"),
            CallKind::Missed => parts.push("disposition = 'missed'"),
        }
        if let Some(from) = query.from {
            parts.push("started_at >= ?");
            values.push(Value::Integer(from.0));
        }
        if let Some(until) = query.until {
            parts.push("started_at < ?");
            values.push(Value::Integer(until.0));
        }
        match search.map(|s| (s.plan, &s.pattern)) {
            None | Some((SearchPlan::Everything | SearchPlan::Nothing, _)) => {}
            Some((SearchPlan::ByParty, _)) => {
                parts.push("party_id IN (SELECT id FROM temp.search_party)");
                // Without statistics SQLite would walk the direction index and probe the
                // party list per row; name the index that answers every shape by party.
                from = "call_history INDEXED BY call_history_by_party";
            }
            Some((SearchPlan::Scan, pattern)) => {
                // The kind and date terms pick the paging index, whose entries carry
                // party_id: each entry's party key is tested, and the walk stops at a page.
                parts.push(
                    r"EXISTS (SELECT 1 FROM remote_party p WHERE p.id = call_history.party_id
                              AND p.search_key LIKE ? ESCAPE '\')",
                );
                values.push(Value::Text(pattern.clone()));
            }
        }
        let sql = if parts.is_empty() {
            "1".to_owned()
        } else {
            parts.join(" AND ")
        };
        Filter { from, sql, values }
    }

    fn count_sql(&self) -> String {
        format!("SELECT count(*) FROM {} WHERE {}", self.from, self.sql)
    }

    /// The page query and its values: the filter, the cursor, and one row more than the
    /// limit (to know whether there is a next page).
    fn page_sql(&self, after: Option<PageCursor>, limit: u32) -> (String, Vec<Value>) {
        let mut sql = format!(
            "SELECT {CALL_COLUMNS} FROM {} WHERE {}",
            self.from, self.sql
        );
        let mut values = self.values.clone();
        if let Some(after) = after {
            sql.push_str(" AND (started_at, id) < (?, ?)");
            values.push(Value::Integer(after.started_at.0));
            values.push(Value::Integer(after.id.0));
        }
        sql.push_str(" ORDER BY started_at DESC, id DESC LIMIT ?");
        values.push(Value::Integer(i64::from(limit) + 1));
        (sql, values)
    }
}

/// `%needle%` for `LIKE ... ESCAPE '\'`, lower-cased like the search key, with `\`, `%`
/// and `_` escaped so they match themselves.
fn like_contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Lower-cased (Unicode, not just ASCII) name and URI: what searches run against.
fn search_key(name: Option<&str>, uri: &str) -> String {
    let mut key = name.unwrap_or("").to_lowercase();
    key.push(SEARCH_KEY_SEPARATOR);
    key.push_str(&uri.to_lowercase());
    key
}

/// A blank display name is no display name.
fn normalize_name(name: Option<&str>) -> Result<Option<&str>> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => {
            check_text("remote_name", n, true)?;
            Ok(Some(n))
        }
        None => Ok(None),
    }
}

/// Rejects empty (when `required`), over-long and NUL-containing text.
pub(crate) fn check_text(what: &str, value: &str, required: bool) -> Result<()> {
    if required && value.trim().is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid(format!(
            "{what} is longer than {MAX_TEXT_BYTES} bytes"
        )));
    }
    if value.contains('\0') {
        return Err(Error::invalid(format!("{what} contains a NUL character")));
    }
    Ok(())
}

fn found(changed: usize, id: CallId) -> Result<()> {
    if changed == 0 {
        Err(Error::NotFound {
            what: "call",
            id: id.0,
        })
    } else {
        Ok(())
    }
}

/// A row as SQLite returns it, before the text columns are checked.
pub(crate) struct RawCall {
    id: i64,
    account_id: String,
    direction: String,
    remote_uri: String,
    remote_name: Option<String>,
    started_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    duration_ms: Option<i64>,
    disposition: Option<String>,
    transfer_kind: Option<String>,
    transfer_target: Option<String>,
}

impl RawCall {
    /// Reads the columns listed in [`CALL_COLUMNS`], in order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<RawCall> {
        Ok(RawCall {
            id: row.get(0)?,
            account_id: row.get(1)?,
            direction: row.get(2)?,
            remote_uri: row.get(3)?,
            remote_name: row.get(4)?,
            started_at: row.get(5)?,
            answered_at: row.get(6)?,
            ended_at: row.get(7)?,
            duration_ms: row.get(8)?,
            disposition: row.get(9)?,
            transfer_kind: row.get(10)?,
            transfer_target: row.get(11)?,
        })
    }

    /// Checks the enum columns; a value we never write means the file was tampered with.
    pub(crate) fn into_record(self, store: &Store) -> Result<CallRecord> {
        let bad = |what: &str, value: &str| Error::Corrupt {
            path: store.path().to_path_buf(),
            detail: format!("call {}: unknown {what} {value:?}", self.id),
        };
        let direction =
            Direction::parse(&self.direction).ok_or_else(|| bad("direction", &self.direction))?;
        let disposition = match self.disposition.as_deref() {
            None => None,
            Some(d) => Some(Disposition::parse(d).ok_or_else(|| bad("disposition", d))?),
        };
        let transfer = match (self.transfer_kind.as_deref(), self.transfer_target) {
            (Some(k), Some(target)) => Some(Transfer {
                kind: TransferKind::parse(k).ok_or_else(|| bad("transfer kind", k))?,
                target,
            }),
            _ => None,
        };
        let duration = match self.duration_ms {
            None => None,
            Some(ms) => Some(Duration::from_millis(
                u64::try_from(ms).map_err(|_| bad("duration", &ms.to_string()))?,
            )),
        };
        Ok(CallRecord {
            id: CallId(self.id),
            account_id: self.account_id,
            direction,
            remote_uri: self.remote_uri,
            remote_name: self.remote_name,
            started_at: UnixMillis(self.started_at),
            answered_at: self.answered_at.map(UnixMillis),
            ended_at: self.ended_at.map(UnixMillis),
            duration,
            disposition,
            transfer,
        })
    }
}

mod search;
mod search_index;
#[cfg(test)]
mod tests;
