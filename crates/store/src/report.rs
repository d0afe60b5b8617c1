//! The call report: recent calls as CSV, for a spreadsheet or a manager.
//!
//! Formula injection: spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@`
//! (and some also after a leading tab or carriage return) as a formula, and remote names and
//! numbers come from strangers. Every text cell starting with one of those characters gets a
//! leading `'`, which spreadsheets show as text and do not evaluate. A side effect is that
//! E.164 numbers read `'+15551234567` in the raw file; spreadsheets display them as
//! `+15551234567`.

use std::borrow::Cow;
use std::io;
use std::time::Duration;

use rusqlite::params;

use crate::history::{CALL_COLUMNS, RawCall};
use crate::{CallHistory, Error, Result};
use crate::{CallRecord, UnixMillis};

/// At most this many calls go into a report (the newest).
pub const REPORT_MAX_ROWS: usize = 1000;

/// A report covers calls that started within this long before `now`.
pub const REPORT_WINDOW: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// The header row, in column order.
const HEADER: [&str; 8] = [
    "date_time_utc",
    "direction",
    "disposition",
    "remote_name",
    "remote_number",
    "duration_seconds",
    "account",
    "transferred_to",
];

impl CallHistory<'_> {
    /// Writes the call report to `out` as CSV: a header row, then up to [`REPORT_MAX_ROWS`]
    /// calls that started in the [`REPORT_WINDOW`] before `now` (inclusive, nothing after
    /// `now`), newest first. Returns how many calls it wrote.
    ///
    /// Columns: start as RFC 3339 UTC, direction, disposition (`in_progress` while open),
    /// remote name, remote number/URI, talk time in whole seconds (rounded; empty when
    /// unknown), account. Text cells are guarded against formula injection (module docs).
    pub fn export_report_csv<W: io::Write>(&self, now: UnixMillis, out: W) -> Result<usize> {
        let store = self.store();
        let from = now.saturating_sub(REPORT_WINDOW);
        let mut writer = csv::Writer::from_writer(out);
        let csv_err = |source| Error::ReportOutput { source };
        writer.write_record(HEADER).map_err(csv_err)?;

        let mut stmt = store
            .conn()
            .prepare_cached(&format!(
                "SELECT {CALL_COLUMNS} FROM call_history
                 WHERE started_at >= ?1 AND started_at <= ?2
                 ORDER BY started_at DESC, id DESC LIMIT ?3"
            ))
            .map_err(|e| store.db_err(e))?;
        let limit = i64::try_from(REPORT_MAX_ROWS).unwrap_or(i64::MAX);
        let mut rows = stmt
            .query(params![from.0, now.0, limit])
            .map_err(|e| store.db_err(e))?;
        let mut written = 0;
        while let Some(row) = rows.next().map_err(|e| store.db_err(e))? {
            let call = RawCall::read(row)
                .map_err(|e| store.db_err(e))?
                .into_record(store)?;
            writer.write_record(report_cells(&call)).map_err(csv_err)?;
            written += 1;
        }
        writer.flush().map_err(|e| csv_err(e.into()))?;
        Ok(written)
    }
}

/// One call's cells, in [`HEADER`] order, guarded.
fn report_cells(call: &CallRecord) -> [String; 8] {
    let when = call
        .started_at
        .to_rfc3339()
        .unwrap_or_else(|| call.started_at.0.to_string());
    let disposition = call.disposition.map_or("in_progress", |d| d.as_str());
    let seconds = call
        .duration
        .map(|d| ((d.as_millis() + 500) / 1000).to_string())
        .unwrap_or_default();
    [
        when,
        call.direction.as_str().to_owned(),
        disposition.to_owned(),
        guard_formula(call.remote_name.as_deref().unwrap_or("")).into_owned(),
        guard_formula(&call.remote_uri).into_owned(),
        seconds,
        guard_formula(&call.account_id).into_owned(),
        call.transfer
            .as_ref()
            .map(|t| guard_formula(&t.target).into_owned())
            .unwrap_or_default(),
    ]
}

/// Prefixes `'` to a cell a spreadsheet would evaluate as a formula.
pub(crate) fn guard_formula(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_store;
    use crate::{CallEnd, Direction, Disposition, NewCall};

    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    const NOW: UnixMillis = UnixMillis(1_772_368_496_000); // 2026-03-01T12:34:56Z

    fn parse(csv_bytes: &[u8]) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv_bytes);
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn guard_prefixes_only_dangerous_leading_characters() {
        for bad in ["=1+1", "+15551234", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(guard_formula(bad), format!("'{bad}"));
        }
        for fine in ["Alice", "sip:bob@example.org", "15551234", "", "a=b", " =x"] {
            assert_eq!(guard_formula(fine), fine);
        }
    }

    #[test]
    fn report_has_header_fields_and_guards_injection() {
        let (_dir, store) = temp_store();
        let h = store.history();
        let id = h
            .record_start(&NewCall {
                account_id: "@work".into(),
                direction: Direction::Incoming,
                remote_uri: "+15551234567".into(),
                remote_name: Some("=HYPERLINK(\"http://evil\",\"x\")".into()),
                started_at: NOW.saturating_sub(Duration::from_secs(3600)),
            })
            .unwrap();
        h.record_answer(id, UnixMillis(NOW.0 - 3_600_000 + 2_000))
            .unwrap();
        h.record_end(
            id,
            &CallEnd {
                ended_at: UnixMillis(NOW.0 - 3_600_000 + 2_000 + 61_600),
                disposition: Disposition::Answered,
                transfer: Some(crate::Transfer {
                    kind: crate::TransferKind::Blind,
                    target: "+15550001".into(),
                }),
            },
        )
        .unwrap();
        h.record_start(&NewCall {
            account_id: "home".into(),
            direction: Direction::Outgoing,
            remote_uri: "sip:bob@example.org".into(),
            remote_name: None,
            started_at: UnixMillis(NOW.0 - 60_000),
        })
        .unwrap();

        let mut out = Vec::new();
        assert_eq!(h.export_report_csv(NOW, &mut out).unwrap(), 2);
        let rows = parse(&out);
        assert_eq!(rows[0], HEADER.map(str::to_owned).to_vec());
        assert_eq!(
            rows[1],
            [
                "2026-03-01T12:33:56Z",
                "outgoing",
                "in_progress",
                "",
                "sip:bob@example.org",
                "",
                "home",
                ""
            ]
        );
        assert_eq!(
            rows[2],
            [
                "2026-03-01T11:34:56Z",
                "incoming",
                "answered",
                "'=HYPERLINK(\"http://evil\",\"x\")",
                "'+15551234567",
                "62",
                "'@work",
                "'+15550001"
            ]
        );
    }

    #[test]
    fn report_keeps_to_90_days_and_1000_rows() {
        let (_dir, store) = temp_store();
        let h = store.history();
        let add = |started_at: i64, uri: &str| {
            h.record_start(&NewCall {
                account_id: "a".into(),
                direction: Direction::Outgoing,
                remote_uri: uri.into(),
                remote_name: None,
                started_at: UnixMillis(started_at),
            })
            .unwrap()
        };
        // Window edges: exactly 90 days ago is in, a millisecond earlier is out,
        // after `now` is out.
        add(NOW.0 - 90 * DAY_MS, "sip:edge-in@x");
        add(NOW.0 - 90 * DAY_MS - 1, "sip:edge-out@x");
        add(NOW.0 + 1, "sip:future@x");
        let mut out = Vec::new();
        assert_eq!(h.export_report_csv(NOW, &mut out).unwrap(), 1);
        let rows = parse(&out);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][4], "sip:edge-in@x");

        // 1,200 calls inside the window: only the newest 1,000 are written.
        store
            .atomically(|| {
                for i in 0..1200 {
                    add(NOW.0 - 1_000_000 - i * 1000, &format!("sip:{i}@x"));
                }
                Ok(())
            })
            .unwrap();
        let mut out = Vec::new();
        assert_eq!(h.export_report_csv(NOW, &mut out).unwrap(), REPORT_MAX_ROWS);
        let rows = parse(&out);
        assert_eq!(rows.len(), REPORT_MAX_ROWS + 1);
        assert_eq!(rows[1][4], "sip:0@x", "newest first");
        assert_eq!(rows[REPORT_MAX_ROWS][4], "sip:999@x");
    }

    #[test]
    fn a_failing_writer_is_a_report_output_error() {
        struct Broken;
        impl io::Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::Error::other("disk gone"))
            }
        }
        let (_dir, store) = temp_store();
        let err = store.history().export_report_csv(NOW, Broken).unwrap_err();
        assert_eq!(err.code(), "store.report_output");
    }
}
