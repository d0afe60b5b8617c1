//! `sidetone-cli history` reads the store the engine writes: listing, filters, JSON, CSV export.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use sidetone_store::{CallEnd, Direction, Disposition, NewCall, Store, UnixMillis, paths};

fn seed(data_dir: &Path) {
    let db = paths::database_path(data_dir, paths::DEFAULT_PROFILE).unwrap();
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let store = Store::open(&db).unwrap();
    let now = UnixMillis::from_system_time(SystemTime::now());
    let calls = [
        (
            "sip:1002@example.test",
            Some("Bob Example"),
            Direction::Outgoing,
            Disposition::Answered,
            2,
        ),
        (
            "sip:1003@example.test",
            Some("=cmd|' /C calc'!A0"),
            Direction::Incoming,
            Disposition::Missed,
            1,
        ),
        (
            "sip:1004@example.test",
            None,
            Direction::Incoming,
            Disposition::Answered,
            100,
        ),
    ];
    for (uri, name, direction, disposition, days_ago) in calls {
        let start = now.saturating_sub(Duration::from_secs(days_ago * 86_400));
        let id = store
            .history()
            .record_start(&NewCall {
                account_id: "acct".into(),
                direction,
                remote_uri: uri.into(),
                remote_name: name.map(Into::into),
                started_at: start,
            })
            .unwrap();
        if disposition == Disposition::Answered {
            store
                .history()
                .record_answer(id, UnixMillis(start.as_millis() + 1_000))
                .unwrap();
        }
        let end = CallEnd {
            ended_at: UnixMillis(start.as_millis() + 61_000),
            disposition,
            transfer: None,
        };
        store.history().record_end(id, &end).unwrap();
    }
}

fn cli(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sidetone-cli"))
        .arg("history")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lists_filters_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());

    let (ok, out, _) = cli(dir.path(), &[]);
    assert!(ok);
    assert!(out.contains("Bob Example <sip:1002@example.test>"), "{out}");
    assert!(out.contains("3 of 3 calls"), "{out}");

    let (ok, out, _) = cli(dir.path(), &["--kind", "missed", "--json"]);
    assert!(ok);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["remote_uri"], "sip:1003@example.test");

    let (ok, out, _) = cli(dir.path(), &["--search", "bob"]);
    assert!(ok && out.contains("1 of 1 calls"), "{out}");
}

#[test]
fn exports_the_90_day_report_as_csv_with_formulas_defused() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let report = dir.path().join("report.csv");
    let (ok, _, err) = cli(dir.path(), &["--export", report.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("exported 2 calls"), "{err}");
    let csv = std::fs::read_to_string(&report).unwrap();
    assert_eq!(
        csv.lines().count(),
        3,
        "header + the two calls inside 90 days:\n{csv}"
    );
    assert!(
        !csv.contains("sip:1004@example.test"),
        "the 100-day-old call is outside the report"
    );
    assert!(
        csv.contains("'=cmd"),
        "a name starting with = must be defused:\n{csv}"
    );
}

#[test]
fn a_bad_profile_name_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = cli(dir.path(), &["--profile", "../etc"]);
    assert!(!ok);
    assert!(err.contains("profile name"), "{err}");
}
