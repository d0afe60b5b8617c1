//! Call history commands: query with filters and paging, export the report, delete.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sidetone_store::{
    CallId, CallKind, CallQuery, CallRecord, Direction, Disposition, MAX_PAGE_SIZE, UnixMillis,
};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// Pages beyond this are not offered: nobody pages through more than 10,000 calls by hand,
/// and keyset paging walks every earlier page to reach a numbered one.
const MAX_PAGE_NUMBER: u32 = 200;

/// Which calls the History screen shows.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryFilter {
    /// Every call.
    All,
    /// Calls to us (missed ones included).
    Incoming,
    /// Calls we placed.
    Outgoing,
    /// Calls nobody answered.
    Missed,
}

/// A history query from the UI (see ui/src/lib/api/README.md).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQueryArgs {
    filter: HistoryFilter,
    #[serde(default)]
    search: String,
    from: Option<i64>,
    to: Option<i64>,
    page: u32,
    page_size: u32,
}

/// One row of the History screen.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    id: String,
    account_id: String,
    direction: &'static str,
    missed: bool,
    remote: String,
    display_name: Option<String>,
    started_at: i64,
    duration_secs: u64,
    /// Where our blind transfer sent the call, when it ended that way.
    transferred_to: Option<String>,
}

/// A page of rows and how many match in all.
#[derive(Debug, Serialize)]
pub struct HistoryPage {
    rows: Vec<HistoryRow>,
    total: u64,
}

impl From<&CallRecord> for HistoryRow {
    fn from(call: &CallRecord) -> Self {
        Self {
            id: call.id.0.to_string(),
            account_id: call.account_id.clone(),
            direction: match call.direction {
                Direction::Incoming => "incoming",
                _ => "outgoing",
            },
            missed: call.disposition == Some(Disposition::Missed),
            remote: call.remote_uri.clone(),
            display_name: call.remote_name.clone(),
            started_at: call.started_at.as_millis(),
            duration_secs: call.duration.map_or(0, |d| d.as_secs()),
            transferred_to: call.transfer.as_ref().map(|t| t.target.clone()),
        }
    }
}

/// Returns one page of the call history, newest first.
#[tauri::command]
pub fn history_query(
    state: State<'_, AppState>,
    filter: HistoryFilter,
    search: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    page: u32,
    page_size: u32,
) -> Result<HistoryPage, CommandError> {
    // Tauri maps the UI's arguments by name, one parameter each (not one struct).
    let args = HistoryQueryArgs {
        filter,
        search: search.unwrap_or_default(),
        from,
        to,
        page,
        page_size,
    };
    if args.page == 0 || args.page > MAX_PAGE_NUMBER {
        return Err(CommandError::new(
            "invalid_input",
            format!("page must be 1 to {MAX_PAGE_NUMBER}"),
        ));
    }
    let mut query = CallQuery {
        kind: match args.filter {
            HistoryFilter::All => CallKind::All,
            HistoryFilter::Incoming => CallKind::Incoming,
            HistoryFilter::Outgoing => CallKind::Outgoing,
            HistoryFilter::Missed => CallKind::Missed,
        },
        from: args.from.map(UnixMillis),
        until: args.to.map(UnixMillis),
        search: Some(args.search).filter(|s| !s.trim().is_empty()),
        after: None,
        limit: args.page_size.clamp(1, MAX_PAGE_SIZE),
    };
    let store = state.store()?;
    let mut page = store.history().query(&query)?;
    for _ in 1..args.page {
        let Some(next) = page.next else {
            return Ok(HistoryPage {
                rows: Vec::new(),
                total: page.total,
            });
        };
        query.after = Some(next);
        page = store.history().query(&query)?;
    }
    Ok(HistoryPage {
        rows: page.calls.iter().map(HistoryRow::from).collect(),
        total: page.total,
    })
}

/// Where an export went and how many calls it holds.
#[derive(Debug, Serialize)]
pub struct ExportResult {
    path: String,
    count: usize,
}

/// Writes the call report (the last 90 days, up to 1,000 calls) as CSV. With no path, it goes
/// to the user's Downloads (or home) folder under a dated name.
#[tauri::command]
pub fn history_export(
    state: State<'_, AppState>,
    path: Option<String>,
) -> Result<ExportResult, CommandError> {
    let now = UnixMillis::from_system_time(SystemTime::now());
    let path = match path {
        Some(path) if !path.trim().is_empty() => PathBuf::from(path),
        _ => default_export_path(now)?,
    };
    let fail = |e: std::io::Error| {
        CommandError::new(
            "history.export_failed",
            format!("could not write {}: {e}", path.display()),
        )
    };
    let file = std::fs::File::create(&path).map_err(fail)?;
    let count = state
        .store()?
        .history()
        .export_report_csv(now, std::io::BufWriter::new(file))?;
    Ok(ExportResult {
        path: path.display().to_string(),
        count,
    })
}

fn default_export_path(now: UnixMillis) -> Result<PathBuf, CommandError> {
    let dir = crate::export_dir::default_export_dir("history.export_failed")?;
    let day = now
        .to_rfc3339()
        .map_or_else(|| "report".into(), |t| t[..10].to_owned());
    Ok(dir.join(format!("sidetone-calls-{day}.csv")))
}

/// Deletes calls from the history.
#[tauri::command]
pub fn history_delete(state: State<'_, AppState>, ids: Vec<String>) -> Result<(), CommandError> {
    let store = state.store()?;
    for id in ids {
        let id: i64 = id
            .parse()
            .map_err(|_| CommandError::new("invalid_input", format!("{id:?} is not a call id")))?;
        store.history().delete(CallId(id))?;
    }
    Ok(())
}
