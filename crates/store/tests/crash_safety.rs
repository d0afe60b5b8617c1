//! Crash safety: a writer killed with SIGKILL (TerminateProcess on Windows) in the middle of
//! writing calls leaves a database that opens, passes `integrity_check`, and holds every
//! call the writer had reported as committed.
//!
//! The test binary plays both parts: run normally it is the parent; it re-runs itself,
//! filtered to this one test, with `CHILD_ENV` set, and then it is the writer.

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sidetone_store::{CallEnd, CallId, Direction, Disposition, NewCall, Store, UnixMillis};

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// Set (to the database path) in the child: write calls until killed.
const CHILD_ENV: &str = "SIDETONE_STORE_CRASH_WRITER_DB";
/// This test's name, for the child's test filter.
const TEST_NAME: &str = "killed_writer_loses_no_committed_call";
/// How many committed calls the parent waits for before it kills the writer.
const KILL_AFTER: usize = 300;
/// Bounds on the child, should the parent die without killing it.
const CHILD_MAX_CALLS: i64 = 200_000;
const CHILD_MAX_TIME: Duration = Duration::from_secs(120);

#[test]
fn killed_writer_loses_no_committed_call() -> TestResult {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        return write_until_killed(Path::new(&db));
    }

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("crash.sqlite3");
    let mut child = Command::new(std::env::current_exe()?)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let mut lines = BufReader::new(stdout).lines();

    let mut committed: Vec<(i64, i64)> = Vec::new();
    for line in lines.by_ref() {
        if let Some(entry) = parse_committed(&line?)? {
            committed.push(entry);
            if committed.len() >= KILL_AFTER {
                break;
            }
        }
    }
    // The writer is still going flat out: this lands in the middle of its writes.
    child.kill()?;
    let status = child.wait()?;
    assert!(
        !status.success(),
        "the writer should have been killed, not finished"
    );
    // Lines it printed before dying are commits too.
    for line in lines {
        if let Some(entry) = parse_committed(&line?)? {
            committed.push(entry);
        }
    }
    assert!(
        committed.len() >= KILL_AFTER,
        "the writer reported only {} commits",
        committed.len()
    );

    let store = Store::open(&db)?;
    store.integrity_check()?;
    let history = store.history();
    for (id, n) in &committed {
        let call = history
            .get(CallId(*id))?
            .ok_or_else(|| format!("call {id} was reported committed but is missing"))?;
        assert_eq!(call.remote_uri, format!("sip:call-{n}@crash.test"));
        assert_eq!(call.disposition, Some(Disposition::Answered), "call {id}");
        assert_eq!(
            call.ended_at,
            Some(UnixMillis(1_700_000_000_000 + n * 1000 + 900))
        );
    }
    // Rows the writer started but never reported are allowed (killed mid-call), and the
    // startup clean-up closes them.
    history.close_interrupted()?;
    Ok(())
}

/// `committed <id> <n>` → `(id, n)`; other lines (libtest's own) → `None`.
fn parse_committed(line: &str) -> TestResult<Option<(i64, i64)>> {
    let Some(rest) = line.strip_prefix("committed ") else {
        return Ok(None);
    };
    let (id, n) = rest.split_once(' ').ok_or("malformed line")?;
    Ok(Some((id.parse()?, n.parse()?)))
}

/// The child: records whole calls (start, answer, end: three commits each) and prints each
/// call's id and sequence number after its last commit returned.
fn write_until_killed(db: &Path) -> TestResult {
    let store = Store::open(db)?;
    let history = store.history();
    let started = Instant::now();
    for n in 0..CHILD_MAX_CALLS {
        if started.elapsed() > CHILD_MAX_TIME {
            break;
        }
        let t = 1_700_000_000_000 + n * 1000;
        let id = history.record_start(&NewCall {
            account_id: "crash".into(),
            direction: Direction::Outgoing,
            remote_uri: format!("sip:call-{n}@crash.test"),
            remote_name: Some(format!("Call {n}")),
            started_at: UnixMillis(t),
        })?;
        history.record_answer(id, UnixMillis(t + 100))?;
        history.record_end(
            id,
            &CallEnd {
                ended_at: UnixMillis(t + 900),
                disposition: Disposition::Answered,
                transfer: None,
            },
        )?;
        println!("committed {id} {n}");
    }
    Ok(())
}
