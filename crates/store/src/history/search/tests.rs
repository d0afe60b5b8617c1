use std::collections::BTreeSet;

use super::*;
use crate::history::search_index::short_grams;
use crate::history::{CallEnd, Direction, Disposition, NewCall, search_key};
use crate::test_support::temp_store;
use crate::{CallId, Store, UnixMillis};

const FIRST: [&str; 6] = ["Öscar", "Ünal", "Alice", "Zoë", "100% Sales", "Under_Score"];
const LAST: [&str; 5] = ["Müller", "Smith", r"Back\slash", "\"Quoted\"", "ΣΊΣΥΦΟΣ"];

/// `n` calls with `parties` different parties: Unicode and LIKE/FTS5 syntax in names,
/// numbers in URIs, one name in four absent.
fn fill(store: &Store, n: i64, parties: i64) -> Vec<CallId> {
    let h = store.history();
    store
        .atomically(|| {
            (0..n)
                .map(|i| {
                    let p = i % parties;
                    let name = (p % 4 != 0)
                        .then(|| format!("{} {}", FIRST[(p % 6) as usize], LAST[(p % 5) as usize]));
                    h.record_start(&NewCall {
                        account_id: "acct".into(),
                        direction: if i % 3 == 0 {
                            Direction::Outgoing
                        } else {
                            Direction::Incoming
                        },
                        remote_uri: format!("sip:+4930{:05}@Example.COM", p * 7919 % 100_000),
                        remote_name: name,
                        started_at: UnixMillis(i * 1000),
                    })
                })
                .collect()
        })
        .unwrap()
}

fn listed(store: &Store, source: PartySource, arg: &str) -> BTreeSet<i64> {
    list_parties(store.conn(), source, arg).unwrap();
    let mut stmt = store
        .conn()
        .prepare("SELECT id FROM temp.search_party")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The trigram index finds exactly the parties `LIKE` finds, for needles of three or more
/// characters: Unicode (folded by the store, not by FTS5), digits, and text that is syntax
/// to LIKE or to FTS5.
#[test]
fn trigram_index_finds_what_like_finds() {
    let (_dir, store) = temp_store();
    fill(&store, 400, 200);
    let mut needles: Vec<String> = [
        "öscar",
        "ÖSCAR",
        "müller",
        "MÜLLER",
        "zoë",
        "σίσυφος",
        "ΣΊΣΥΦΟΣ",
        "100%",
        "0% s",
        "r_s",
        "_sc",
        r"k\s",
        r"\sl",
        "\"qu",
        "d\" ",
        "@example.com",
        "4930",
        "+49",
        "zzzz",
        "sip:",
        "lice s",
        "nal m",
        "ice\u{1f}sip",
    ]
    .map(str::to_owned)
    .to_vec();
    // Every 3- and 5-character window of a few keys.
    for p in [1, 2, 7, 13] {
        let key: Vec<char> = store
            .conn()
            .query_row(
                "SELECT search_key FROM remote_party WHERE id = ?1",
                [p],
                |r| r.get::<_, String>(0),
            )
            .unwrap()
            .chars()
            .collect();
        for len in [3, 5] {
            needles.extend(key.windows(len).map(|w| w.iter().collect::<String>()));
        }
    }
    let mut nonempty = 0;
    for needle in &needles {
        let needle = needle.to_lowercase();
        let by_trigram = listed(&store, TRIGRAM_SOURCE, &fts_phrase(&needle));
        let by_like = listed(&store, LIKE_SOURCE, &like_contains_pattern(&needle));
        assert_eq!(by_trigram, by_like, "{needle:?}");
        nonempty += usize::from(!by_like.is_empty());
    }
    assert!(
        nonempty > needles.len() / 2,
        "the needles mostly match something"
    );
}

/// Each party's call counts and each short substring's call counts equal a recount from
/// the calls, after calls are added, end (missed, then not, then missed again) and are
/// deleted; the trigram index agrees with its content.
#[test]
fn aggregates_match_a_recount_after_every_kind_of_write() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let ids = fill(&store, 300, 70);
    for (i, id) in ids.iter().enumerate() {
        let dispositions: &[Disposition] = match i % 4 {
            0 => &[Disposition::Missed],
            1 => &[Disposition::Missed, Disposition::Answered],
            2 => &[Disposition::Busy, Disposition::Missed],
            _ => &[],
        };
        for &disposition in dispositions {
            h.record_end(
                *id,
                &CallEnd {
                    ended_at: UnixMillis(10),
                    disposition,
                    transfer: None,
                },
            )
            .unwrap();
        }
    }
    for id in ids.iter().step_by(3) {
        assert!(h.delete(*id).unwrap());
    }
    h.close_interrupted().unwrap();
    assert_recounted(&store);
    h.delete_all().unwrap();
    assert_recounted(&store);
    let left: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM search_gram", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

/// Recounts every aggregate from `call_history` and compares.
fn assert_recounted(store: &Store) {
    let conn = store.conn();
    let calls: Vec<(String, bool, bool)> = conn
        .prepare(
            "SELECT p.search_key, c.direction = 'incoming', c.disposition IS 'missed'
             FROM call_history c JOIN remote_party p ON p.id = c.party_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let recount = |matches: &dyn Fn(&str) -> bool| {
        let of = |f: &dyn Fn(&(String, bool, bool)) -> bool| {
            calls.iter().filter(|c| matches(&c.0) && f(c)).count() as i64
        };
        KindCounts {
            calls: of(&|_| true),
            incoming: of(&|c| c.1),
            missed: of(&|c| c.2),
        }
    };
    let parties = counted(
        conn,
        "SELECT search_key, calls, incoming, missed FROM remote_party",
    );
    for (key, counts) in &parties {
        assert_eq!(*counts, recount(&|k| k == key), "party {key:?}");
        assert!(counts.calls > 0, "a party without calls is deleted");
    }
    let grams = counted(
        conn,
        "SELECT gram, calls, incoming, missed FROM search_gram",
    );
    for (gram, counts) in &grams {
        assert_eq!(
            *counts,
            recount(&|k| k.contains(gram.as_str())),
            "gram {gram:?}"
        );
    }
    // And nothing is missing: every short substring of every key has its row.
    let expected: BTreeSet<&str> = parties.iter().flat_map(|(k, _)| short_grams(k)).collect();
    let present: BTreeSet<&str> = grams.iter().map(|(g, _)| g.as_str()).collect();
    assert_eq!(present, expected);
    conn.execute(
        "INSERT INTO remote_party_fts (remote_party_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .unwrap();
}

/// Rows of text and its three counts.
fn counted(conn: &rusqlite::Connection, sql: &str) -> Vec<(String, KindCounts)> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                KindCounts {
                    calls: r.get(1)?,
                    incoming: r.get(2)?,
                    missed: r.get(3)?,
                },
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Short grams are whole characters, up to three of them, plus the empty string.
#[test]
fn short_grams_count_characters_not_bytes() {
    let key = search_key(Some("Zoë"), "sip:x");
    let grams = short_grams(&key);
    assert!(grams.contains(""));
    assert!(grams.contains("ë"));
    assert!(grams.contains("zoë"));
    assert!(grams.contains("ë\u{1f}s"));
    assert!(grams.iter().all(|g| g.chars().count() <= MAX_GRAM_CHARS));
    // "zoë\x1fsip:x": 9 characters, 9 + 8 + 7 windows, 1 empty, minus repeats (none).
    assert_eq!(grams.len(), 1 + 9 + 8 + 7);
}

/// The planner's choices: nothing and everything short-circuit; a needle matching one
/// party of many reads that party's calls; one matching a third of the calls walks the
/// paging index; the total comes from the aggregates unless there is a date range.
#[test]
fn plans_follow_the_counts() {
    let (_dir, store) = temp_store();
    fill(&store, 3000, 1000);
    let plan = |needle: &str, from: Option<i64>| {
        let query = CallQuery {
            search: Some(needle.into()),
            from: from.map(UnixMillis),
            ..CallQuery::default()
        };
        let search = prepare(store.conn(), needle, &query).unwrap();
        (search.plan, search.total)
    };
    assert_eq!(plan("zzzz", None), (SearchPlan::Nothing, Some(0)));
    assert_eq!(plan("j", None), (SearchPlan::Nothing, Some(0)));
    assert_eq!(
        plan("example.com", None),
        (SearchPlan::Everything, Some(3000))
    );
    assert_eq!(plan("E", None), (SearchPlan::Everything, Some(3000)));
    // With a date range a short needle's counts still say "every call"; a longer needle's
    // are not summed (the range's total is counted anyway), so it scans.
    assert_eq!(plan("sip", Some(5)), (SearchPlan::Everything, None));
    assert_eq!(plan("sip:+4930", Some(5)), (SearchPlan::Scan, None));
    let one_party = store
        .conn()
        .query_row(
            "SELECT search_key FROM remote_party WHERE id = 7",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    let number = one_party.split(['+', '@']).nth(1).unwrap().to_owned();
    assert_eq!(plan(&number, None).0, SearchPlan::ByParty, "{number}");
    assert_eq!(plan("smith", None).0, SearchPlan::Scan);
    assert_eq!(plan("al", None).0, SearchPlan::Scan);
}
