//! Times call-history queries on 100,000 calls: a 50-row page plus its total count, for each
//! filter shape the UI uses. Target: ≤ 5 ms per page + count. Prints timings, asserts none.
//!
//! ```sh
//! cargo run --release -p sidetone-store --example history_bench [-- <calls> [distinct]]
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

use sidetone_store::{
    CallEnd, CallKind, CallQuery, Direction, Disposition, NewCall, Store, UnixMillis,
};

const DEFAULT_CALLS: i64 = 100_000;
const RUNS: usize = 60;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// The calls spread over two years.
const SPAN_MS: i64 = 730 * DAY_MS;
/// "Now" for the data set: 2026-03-01T00:00:00Z.
const NOW: i64 = 1_772_323_200_000;

const FIRST: [&str; 12] = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Öscar",
];
const LAST: [&str; 10] = [
    "Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Tanaka", "Silva", "Novak",
];

/// A small deterministic generator (no dependency needed for a benchmark's data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let calls: i64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => DEFAULT_CALLS,
    };
    // Worst case for search: every call with a different party.
    let distinct = std::env::args().nth(2).as_deref() == Some("distinct");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.sqlite3");

    let store = Store::open(&path)?;
    let t = Instant::now();
    fill(&store, calls, distinct)?;
    println!("built {calls} calls in {:.1} s", t.elapsed().as_secs_f64());
    drop(store);

    let t = Instant::now();
    drop(Store::open_or_recover(&path)?);
    println!(
        "open_or_recover (quick_check) of the {:.1} MB file: {:.1} ms",
        std::fs::metadata(&path)?.len() as f64 / 1e6,
        ms(t.elapsed())
    );
    let t = Instant::now();
    let store = Store::open(&path)?;
    println!("open: {:.1} ms", ms(t.elapsed()));

    let h = store.history();
    let last_30_days = (Some(UnixMillis(NOW - 30 * DAY_MS)), Some(UnixMillis(NOW)));
    let cases: Vec<(&str, CallQuery)> = vec![
        ("all", q(CallKind::All)),
        ("incoming", q(CallKind::Incoming)),
        ("outgoing", q(CallKind::Outgoing)),
        ("missed", q(CallKind::Missed)),
        (
            "all, last 30 days",
            CallQuery {
                from: last_30_days.0,
                until: last_30_days.1,
                ..q(CallKind::All)
            },
        ),
        (
            "missed, last 30 days",
            CallQuery {
                from: last_30_days.0,
                until: last_30_days.1,
                ..q(CallKind::Missed)
            },
        ),
        ("search name \"smith\"", search(CallKind::All, "smith")),
        ("search number \"5550\"", search(CallKind::All, "5550")),
        ("search, no match", search(CallKind::All, "zzzz")),
        ("search \"ali\"", search(CallKind::All, "ali")),
        ("search \"a\" (matches ~all)", search(CallKind::All, "a")),
        ("incoming + search \"a\"", search(CallKind::Incoming, "a")),
        (
            "search \"example.com\" (all)",
            search(CallKind::All, "example.com"),
        ),
        (
            "incoming + search \"müller\"",
            search(CallKind::Incoming, "müller"),
        ),
        (
            "missed + search \"smith\"",
            search(CallKind::Missed, "smith"),
        ),
        ("search \"sm\"", search(CallKind::All, "sm")),
        ("search \"0\"", search(CallKind::All, "0")),
        ("search one number", search(CallKind::All, "5550007919")),
        (
            "30 days + search \"smith\"",
            CallQuery {
                from: last_30_days.0,
                until: last_30_days.1,
                ..search(CallKind::All, "smith")
            },
        ),
        (
            "30 days + search \"a\"",
            CallQuery {
                from: last_30_days.0,
                until: last_30_days.1,
                ..search(CallKind::All, "a")
            },
        ),
        (
            "incoming, 30 days + search \"55\"",
            CallQuery {
                from: last_30_days.0,
                until: last_30_days.1,
                ..search(CallKind::Incoming, "55")
            },
        ),
        (
            "missed, 1 year + search \"müller\"",
            CallQuery {
                from: Some(UnixMillis(NOW - 365 * DAY_MS)),
                until: last_30_days.1,
                ..search(CallKind::Missed, "müller")
            },
        ),
    ];

    println!(
        "\n{:<36} {:>8} {:>10} {:>10} {:>10}",
        "page of 50 + count", "total", "median ms", "p95 ms", "max ms"
    );
    for (name, query) in &cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let page = h.query(query)?;
            times.push(t.elapsed());
            total = page.total;
        }
        report(name, total, &mut times);
    }

    // Deep paging: follow the cursor 20 pages down and time the 21st page.
    let mut query = q(CallKind::All);
    for _ in 0..20 {
        query.after = h.query(&query)?.next;
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut total = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        total = h.query(&query)?.total;
        times.push(t.elapsed());
    }
    report("all, page 21 (keyset)", total, &mut times);

    let mut times = Vec::with_capacity(RUNS);
    let mut missed = 0;
    h.mark_missed_seen(UnixMillis(NOW - 7 * DAY_MS))?;
    for _ in 0..RUNS {
        let t = Instant::now();
        missed = h.missed_since_last_seen()?;
        times.push(t.elapsed());
    }
    report("missed since last seen", missed, &mut times);

    let mut times = Vec::with_capacity(10);
    let mut rows = 0;
    for _ in 0..10 {
        let mut out = Vec::with_capacity(200_000);
        let t = Instant::now();
        rows = h.export_report_csv(UnixMillis(NOW), &mut out)?;
        times.push(t.elapsed());
    }
    report("CSV report", rows as u64, &mut times);
    Ok(())
}

fn q(kind: CallKind) -> CallQuery {
    CallQuery {
        kind,
        limit: 50,
        ..CallQuery::default()
    }
}

fn search(kind: CallKind, needle: &str) -> CallQuery {
    CallQuery {
        search: Some(needle.to_owned()),
        ..q(kind)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, total: u64, times: &mut [Duration]) {
    times.sort_unstable();
    let median = times[times.len() / 2];
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    let max = times[times.len() - 1];
    println!(
        "{name:<36} {total:>8} {:>10.3} {:>10.3} {:>10.3}",
        ms(median),
        ms(p95),
        ms(max)
    );
}

/// `calls` calls spread over the two years before `NOW`: 60 % incoming (a fifth of those
/// missed), with 500 people (numbers; names from a small set, absent one time in five) or,
/// with `distinct`, a different number for every call.
fn fill(store: &Store, calls: i64, distinct: bool) -> Result<(), Box<dyn Error>> {
    let mut rng = Lcg(42);
    let step = SPAN_MS / calls.max(1);
    for batch_start in (0..calls).step_by(1000) {
        store.atomically(|| {
            for i in batch_start..(batch_start + 1000).min(calls) {
                add_call(store, &mut rng, i, step, distinct)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn add_call(
    store: &Store,
    rng: &mut Lcg,
    i: i64,
    step: i64,
    distinct: bool,
) -> sidetone_store::Result<()> {
    let h = store.history();
    {
        let person = if distinct { i as u64 } else { rng.next(500) };
        let first = FIRST[(person % FIRST.len() as u64) as usize];
        let last = LAST[(person / FIRST.len() as u64 % LAST.len() as u64) as usize];
        let started_at = NOW - SPAN_MS + i * step + rng.next(step as u64) as i64;
        let incoming = rng.next(10) < 6;
        let direction = if incoming {
            Direction::Incoming
        } else {
            Direction::Outgoing
        };
        let id = h.record_start(&NewCall {
            account_id: if rng.next(4) == 0 { "work" } else { "home" }.into(),
            direction,
            remote_uri: format!("sip:+1555{:07}@pbx.example.com", person * 7919 % 10_000_000),
            remote_name: (rng.next(5) != 0).then(|| format!("{first} {last}")),
            started_at: UnixMillis(started_at),
        })?;
        let disposition = match (incoming, rng.next(10)) {
            (true, 0 | 1) => Disposition::Missed,
            (true, 2) => Disposition::Rejected,
            (false, 0) => Disposition::Busy,
            (false, 1) => Disposition::Cancelled,
            _ => Disposition::Answered,
        };
        let ended_at = started_at + 5_000 + rng.next(10 * MINUTE_MS as u64) as i64;
        if disposition == Disposition::Answered {
            h.record_answer(id, UnixMillis(started_at + 4_000))?;
        }
        h.record_end(
            id,
            &CallEnd {
                ended_at: UnixMillis(ended_at),
                disposition,
                transfer: None,
            },
        )?;
    }
    Ok(())
}
