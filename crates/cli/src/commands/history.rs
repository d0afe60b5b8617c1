//! `sidetone-cli history`: recent calls from the local store, and the CSV report export.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};
use sidetone_store::{CallKind, CallQuery, CallRecord, Store, UnixMillis};

use crate::commands::profile_args::ProfileArgs;

/// Lists recent calls, newest first, or exports the call report as CSV.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Which calls to show.
    #[arg(long, value_enum, default_value_t = Kind::All)]
    kind: Kind,
    /// Only calls whose remote name or number contains this text (case-insensitive).
    #[arg(long)]
    search: Option<String>,
    /// Only calls from the last N days.
    #[arg(long, value_name = "DAYS")]
    since_days: Option<u32>,
    /// How many calls to list (1 to 500).
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Print one JSON object per call instead of a table.
    #[arg(long)]
    json: bool,
    /// Write the report (up to 1,000 calls of the last 90 days) as CSV to FILE and exit;
    /// `-` writes to stdout.
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// The call types a person filters by.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    All,
    Incoming,
    Outgoing,
    Missed,
}

impl From<Kind> for CallKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::All => CallKind::All,
            Kind::Incoming => CallKind::Incoming,
            Kind::Outgoing => CallKind::Outgoing,
            Kind::Missed => CallKind::Missed,
        }
    }
}

/// Runs the command; the exit code is 0 on success, 1 with a one-line reason otherwise.
pub fn run(args: HistoryArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sidetone-cli: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(args: &HistoryArgs) -> Result<(), String> {
    let store = args.profile.open().map_err(|e| e.message)?.store;
    let now = UnixMillis::from_system_time(SystemTime::now());
    if let Some(path) = &args.export {
        return export(&store, now, path);
    }
    let query = CallQuery {
        kind: args.kind.into(),
        from: args
            .since_days
            .map(|days| now.saturating_sub(Duration::from_secs(u64::from(days) * 86_400))),
        search: args.search.clone(),
        limit: args.limit,
        ..CallQuery::default()
    };
    let page = store.history().query(&query).map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let write_err = |e: std::io::Error| format!("could not write the list: {e}");
    if args.json {
        for call in &page.calls {
            let line = serde_json::to_string(call).map_err(|e| e.to_string())?;
            writeln!(out, "{line}").map_err(write_err)?;
        }
    } else {
        for call in &page.calls {
            writeln!(out, "{}", table_row(call)).map_err(write_err)?;
        }
        writeln!(out, "{} of {} calls", page.calls.len(), page.total).map_err(write_err)?;
    }
    Ok(())
}

fn export(store: &Store, now: UnixMillis, path: &PathBuf) -> Result<(), String> {
    let rows = if path.as_os_str() == "-" {
        store
            .history()
            .export_report_csv(now, std::io::stdout().lock())
    } else {
        let file =
            File::create(path).map_err(|e| format!("could not create {}: {e}", path.display()))?;
        store.history().export_report_csv(now, BufWriter::new(file))
    }
    .map_err(|e| e.to_string())?;
    eprintln!("sidetone-cli: exported {rows} calls");
    Ok(())
}

fn table_row(call: &CallRecord) -> String {
    let when = call.started_at.to_rfc3339().unwrap_or_else(|| "?".into());
    let outcome = call.disposition.map_or("in progress", |d| d.as_str());
    let duration = call
        .duration
        .map_or_else(String::new, |d| format!("{}s", d.as_secs()));
    let who = match &call.remote_name {
        Some(name) => format!("{name} <{}>", call.remote_uri),
        None => call.remote_uri.clone(),
    };
    format!(
        "{when}  {:<8}  {:<18}  {:>6}  {who}",
        call.direction.as_str(),
        outcome,
        duration
    )
}
