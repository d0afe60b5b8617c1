use super::*;
use crate::test_support::temp_store;

fn new_call(direction: Direction, uri: &str, name: Option<&str>, started_at: i64) -> NewCall {
    NewCall {
        account_id: "acct".into(),
        direction,
        remote_uri: uri.into(),
        remote_name: name.map(str::to_owned),
        started_at: UnixMillis(started_at),
    }
}

/// Inserts a finished call; returns its id.
fn finished(
    h: &CallHistory<'_>,
    direction: Direction,
    uri: &str,
    name: Option<&str>,
    started_at: i64,
    disposition: Disposition,
) -> CallId {
    let id = h
        .record_start(&new_call(direction, uri, name, started_at))
        .unwrap();
    if disposition == Disposition::Answered {
        h.record_answer(id, UnixMillis(started_at + 1_000)).unwrap();
    }
    h.record_end(
        id,
        &CallEnd {
            ended_at: UnixMillis(started_at + 10_000),
            disposition,
            transfer: None,
        },
    )
    .unwrap();
    id
}

fn query(kind: CallKind) -> CallQuery {
    CallQuery {
        kind,
        limit: MAX_PAGE_SIZE,
        ..CallQuery::default()
    }
}

fn search(h: &CallHistory<'_>, needle: &str) -> Vec<String> {
    let page = h
        .query(&CallQuery {
            search: Some(needle.into()),
            ..query(CallKind::All)
        })
        .unwrap();
    assert_eq!(page.total, page.calls.len() as u64);
    let mut uris: Vec<String> = page.calls.into_iter().map(|c| c.remote_uri).collect();
    uris.sort();
    uris
}

#[test]
fn a_call_is_recorded_as_it_progresses() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let id = h
        .record_start(&new_call(
            Direction::Incoming,
            "sip:alice@example.org",
            Some("  Alice  "),
            1_000,
        ))
        .unwrap();
    let rec = h.get(id).unwrap().unwrap();
    assert_eq!(rec.remote_name.as_deref(), Some("Alice"));
    assert_eq!(rec.disposition, None, "in progress");
    assert_eq!(rec.duration, None);

    h.record_answer(id, UnixMillis(3_000)).unwrap();
    h.record_answer(id, UnixMillis(4_000)).unwrap();
    let transfer = Transfer {
        kind: TransferKind::Attended,
        target: "sip:carol@example.org".into(),
    };
    h.record_end(
        id,
        &CallEnd {
            ended_at: UnixMillis(65_500),
            disposition: Disposition::Answered,
            transfer: Some(transfer.clone()),
        },
    )
    .unwrap();
    let rec = h.get(id).unwrap().unwrap();
    assert_eq!(
        rec.answered_at,
        Some(UnixMillis(3_000)),
        "first answer wins"
    );
    assert_eq!(rec.ended_at, Some(UnixMillis(65_500)));
    assert_eq!(rec.duration, Some(Duration::from_millis(62_500)));
    assert_eq!(rec.disposition, Some(Disposition::Answered));
    assert_eq!(rec.transfer, Some(transfer));
    assert_eq!(rec.direction, Direction::Incoming);
    assert_eq!(rec.account_id, "acct");
}

#[test]
fn unanswered_calls_last_zero_and_clock_steps_never_go_negative() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let missed = finished(
        &h,
        Direction::Incoming,
        "sip:a@x",
        None,
        1_000,
        Disposition::Missed,
    );
    assert_eq!(
        h.get(missed).unwrap().unwrap().duration,
        Some(Duration::ZERO)
    );

    let id = h
        .record_start(&new_call(Direction::Outgoing, "sip:b@x", None, 10_000))
        .unwrap();
    h.record_answer(id, UnixMillis(12_000)).unwrap();
    h.record_end(
        id,
        &CallEnd {
            ended_at: UnixMillis(11_000), // wall clock stepped back during the call
            disposition: Disposition::Answered,
            transfer: None,
        },
    )
    .unwrap();
    assert_eq!(h.get(id).unwrap().unwrap().duration, Some(Duration::ZERO));
}

#[test]
fn bad_input_and_unknown_ids_are_the_callers_fault() {
    let (_dir, store) = temp_store();
    let h = store.history();
    for bad in [
        new_call(Direction::Outgoing, "", None, 0),
        new_call(Direction::Outgoing, "   ", None, 0),
        new_call(Direction::Outgoing, "sip:a\0b@x", None, 0),
        new_call(
            Direction::Outgoing,
            &"x".repeat(MAX_TEXT_BYTES + 1),
            None,
            0,
        ),
        NewCall {
            account_id: String::new(),
            ..new_call(Direction::Outgoing, "sip:a@x", None, 0)
        },
    ] {
        assert_eq!(
            h.record_start(&bad).unwrap_err().code(),
            "store.invalid_input"
        );
    }
    let ghost = CallId(12345);
    assert_eq!(
        h.record_answer(ghost, UnixMillis(1)).unwrap_err().code(),
        "store.not_found"
    );
    let end = CallEnd {
        ended_at: UnixMillis(1),
        disposition: Disposition::Failed,
        transfer: None,
    };
    assert_eq!(
        h.record_end(ghost, &end).unwrap_err().code(),
        "store.not_found"
    );
    assert_eq!(h.get(ghost).unwrap(), None);
    for limit in [0, MAX_PAGE_SIZE + 1] {
        let err = h
            .query(&CallQuery {
                limit,
                ..CallQuery::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), "store.invalid_input");
    }
}

#[test]
fn every_disposition_round_trips() {
    let (_dir, store) = temp_store();
    let h = store.history();
    for (i, d) in Disposition::ALL.into_iter().enumerate() {
        let id = finished(&h, Direction::Incoming, "sip:a@x", None, i as i64, d);
        assert_eq!(h.get(id).unwrap().unwrap().disposition, Some(d));
    }
}

#[test]
fn close_interrupted_finishes_calls_cut_short_by_a_crash() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let ringing = h
        .record_start(&new_call(Direction::Incoming, "sip:a@x", None, 1))
        .unwrap();
    let talking = h
        .record_start(&new_call(Direction::Outgoing, "sip:b@x", None, 2))
        .unwrap();
    h.record_answer(talking, UnixMillis(3)).unwrap();
    let done = finished(
        &h,
        Direction::Incoming,
        "sip:c@x",
        None,
        4,
        Disposition::Rejected,
    );

    assert_eq!(h.close_interrupted().unwrap(), 2);
    assert_eq!(
        h.get(ringing).unwrap().unwrap().disposition,
        Some(Disposition::Failed)
    );
    assert_eq!(
        h.get(talking).unwrap().unwrap().disposition,
        Some(Disposition::Answered)
    );
    assert_eq!(
        h.get(done).unwrap().unwrap().disposition,
        Some(Disposition::Rejected)
    );
    assert_eq!(h.close_interrupted().unwrap(), 0);
}

#[test]
fn kind_filters_and_counts() {
    let (_dir, store) = temp_store();
    let h = store.history();
    finished(
        &h,
        Direction::Incoming,
        "sip:1@x",
        None,
        1,
        Disposition::Answered,
    );
    finished(
        &h,
        Direction::Incoming,
        "sip:2@x",
        None,
        2,
        Disposition::Missed,
    );
    finished(
        &h,
        Direction::Incoming,
        "sip:3@x",
        None,
        3,
        Disposition::Missed,
    );
    finished(
        &h,
        Direction::Incoming,
        "sip:4@x",
        None,
        4,
        Disposition::AnsweredElsewhere,
    );
    finished(
        &h,
        Direction::Outgoing,
        "sip:5@x",
        None,
        5,
        Disposition::Busy,
    );
    finished(
        &h,
        Direction::Outgoing,
        "sip:6@x",
        None,
        6,
        Disposition::Cancelled,
    );
    h.record_start(&new_call(Direction::Outgoing, "sip:7@x", None, 7))
        .unwrap();

    let uris = |kind| -> Vec<String> {
        let page = h.query(&query(kind)).unwrap();
        assert_eq!(page.total, page.calls.len() as u64);
        page.calls.into_iter().map(|c| c.remote_uri).collect()
    };
    assert_eq!(
        uris(CallKind::All),
        [
            "sip:7@x", "sip:6@x", "sip:5@x", "sip:4@x", "sip:3@x", "sip:2@x", "sip:1@x"
        ]
    );
    assert_eq!(
        uris(CallKind::Incoming),
        ["sip:4@x", "sip:3@x", "sip:2@x", "sip:1@x"]
    );
    assert_eq!(uris(CallKind::Outgoing), ["sip:7@x", "sip:6@x", "sip:5@x"]);
    assert_eq!(uris(CallKind::Missed), ["sip:3@x", "sip:2@x"]);
}

#[test]
fn date_range_is_half_open_on_start_time() {
    let (_dir, store) = temp_store();
    let h = store.history();
    for t in [99, 100, 150, 199, 200] {
        finished(
            &h,
            Direction::Outgoing,
            &format!("sip:{t}@x"),
            None,
            t,
            Disposition::Answered,
        );
    }
    let page = h
        .query(&CallQuery {
            from: Some(UnixMillis(100)),
            until: Some(UnixMillis(200)),
            ..query(CallKind::All)
        })
        .unwrap();
    let got: Vec<i64> = page.calls.iter().map(|c| c.started_at.0).collect();
    assert_eq!(got, [199, 150, 100]);
    assert_eq!(page.total, 3);
    let page = h
        .query(&CallQuery {
            from: Some(UnixMillis(150)),
            kind: CallKind::Outgoing,
            ..query(CallKind::All)
        })
        .unwrap();
    assert_eq!(page.total, 3);
}

#[test]
fn search_is_case_insensitive_literal_substring_of_name_or_number() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let calls = [
        ("sip:+15551234567@pbx.example", Some("Alice Smith")),
        ("sip:bob@example.org", Some("BOB JONES")),
        ("sip:sales@example.org", Some("100% Sales")),
        ("sip:support@example.org", Some("100 Sales")),
        ("sip:a_b@example.org", Some("Under Score")),
        ("sip:axb@example.org", Some("No Underscore")),
        ("sip:back@example.org", Some(r"Back\slash")),
        ("sip:oezil@example.org", Some("MESUT ÖZIL")),
        ("sip:ab@x", Some("Ab")),
    ];
    for (i, (uri, name)) in calls.iter().enumerate() {
        finished(
            &h,
            Direction::Incoming,
            uri,
            *name,
            i as i64,
            Disposition::Answered,
        );
    }
    assert_eq!(search(&h, "smith"), ["sip:+15551234567@pbx.example"]);
    assert_eq!(search(&h, "SMITH"), ["sip:+15551234567@pbx.example"]);
    assert_eq!(search(&h, "5551234"), ["sip:+15551234567@pbx.example"]);
    assert_eq!(search(&h, "Bob"), ["sip:bob@example.org"]);
    assert_eq!(search(&h, "jones"), ["sip:bob@example.org"]);
    assert_eq!(
        search(&h, "özil"),
        ["sip:oezil@example.org"],
        "Unicode case folding"
    );
    // Wildcards in user input match themselves only.
    assert_eq!(search(&h, "100%"), ["sip:sales@example.org"]);
    assert_eq!(search(&h, "%"), ["sip:sales@example.org"]);
    assert_eq!(search(&h, "a_b"), ["sip:a_b@example.org"]);
    assert_eq!(search(&h, "_"), ["sip:a_b@example.org"]);
    assert_eq!(search(&h, r"\"), ["sip:back@example.org"]);
    assert_eq!(search(&h, r"k\s"), ["sip:back@example.org"]);
    // Never matches across the name/URI boundary ("Ab" + "sip:ab@x").
    assert_eq!(search(&h, "absip"), Vec::<String>::new());
    // Blank search = no search.
    assert_eq!(search(&h, "   ").len(), calls.len());
    // Search combines with the other filters.
    let page = h
        .query(&CallQuery {
            search: Some("sales".into()),
            kind: CallKind::Outgoing,
            ..query(CallKind::All)
        })
        .unwrap();
    assert_eq!(page.total, 0);
}

/// Every search plan (the one the query picks, and each one forced) gives exactly what a
/// brute-force filter over every call gives, for every kind, with and without a date range,
/// across pages; totals included.
#[test]
fn search_plans_agree_with_brute_force() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let dispositions = Disposition::ALL;
    store
        .atomically(|| {
            for i in 0..900i64 {
                // 450 parties, each called twice; every 7th has no name.
                let p = i % 450;
                let name = (p % 7 != 0).then(|| format!("Person {p}"));
                let direction = if i % 3 == 0 {
                    Direction::Outgoing
                } else {
                    Direction::Incoming
                };
                let d = dispositions[(i % 7) as usize];
                finished(
                    &h,
                    direction,
                    &format!("sip:{p}@x"),
                    name.as_deref(),
                    i % 300,
                    d,
                );
            }
            Ok(())
        })
        .unwrap();
    let everything = h
        .query(&CallQuery {
            limit: MAX_PAGE_SIZE,
            ..CallQuery::default()
        })
        .unwrap()
        .total;
    assert_eq!(everything, 900);
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = h
            .query(&CallQuery {
                after,
                limit: MAX_PAGE_SIZE,
                ..CallQuery::default()
            })
            .unwrap();
        all.extend(page.calls);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let plans = [None, Some(SearchPlan::ByParty), Some(SearchPlan::Scan)];
    // 1-3 characters (counted by substring), longer (trigram index or LIKE scan), a needle
    // every call matches and one none does.
    for needle in [
        "person 12",
        "sip:",
        "4@",
        "1",
        "rson 4",
        "x",
        "zz",
        "person 99",
    ] {
        for kind in [
            CallKind::All,
            CallKind::Incoming,
            CallKind::Outgoing,
            CallKind::Missed,
        ] {
            for ((from, until), plan) in
                [(None, None), (Some(UnixMillis(50)), Some(UnixMillis(200)))]
                    .into_iter()
                    .flat_map(|range| plans.map(|plan| (range, plan)))
            {
                let expected: Vec<CallId> = all
                    .iter()
                    .filter(|c| {
                        let key = format!(
                            "{}\u{1f}{}",
                            c.remote_name.as_deref().unwrap_or("").to_lowercase(),
                            c.remote_uri
                        );
                        key.contains(needle)
                            && match kind {
                                CallKind::All => true,
                                CallKind::Incoming => c.direction == Direction::Incoming,
                                CallKind::Outgoing => c.direction == Direction::Outgoing,
                                CallKind::Missed => c.disposition == Some(Disposition::Missed),
                            }
                            && from.is_none_or(|f| c.started_at >= f)
                            && until.is_none_or(|u| c.started_at < u)
                    })
                    .map(|c| c.id)
                    .collect();
                let mut got = Vec::new();
                let mut after = None;
                loop {
                    let q = CallQuery {
                        kind,
                        from,
                        until,
                        search: Some(needle.to_owned()),
                        after,
                        limit: 40,
                    };
                    let page = h
                        .query_with(&q, |conn, search| match plan {
                            None => Ok(search),
                            Some(plan) => search::forced(conn, search, plan),
                        })
                        .unwrap();
                    assert_eq!(
                        page.total,
                        expected.len() as u64,
                        "{needle} {kind:?} {plan:?}"
                    );
                    got.extend(page.calls.iter().map(|c| c.id));
                    match page.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                assert_eq!(got, expected, "{needle:?} {kind:?} {from:?} {plan:?}");
            }
        }
    }
}

#[test]
fn keyset_pages_are_stable_complete_and_counted() {
    let (_dir, store) = temp_store();
    let h = store.history();
    // 120 calls, many sharing a start time, so the id tie-break matters.
    store
        .atomically(|| {
            for i in 0..120 {
                finished(
                    &h,
                    Direction::Outgoing,
                    &format!("sip:{i}@x"),
                    None,
                    (i / 7) * 1000,
                    Disposition::Answered,
                );
            }
            Ok(())
        })
        .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    let mut sizes = Vec::new();
    let mut expected_total = 120;
    loop {
        let page = h
            .query(&CallQuery {
                after,
                limit: 50,
                ..CallQuery::default()
            })
            .unwrap();
        assert_eq!(page.total, expected_total, "total ignores the cursor");
        sizes.push(page.calls.len());
        seen.extend(page.calls.iter().map(|c| (c.started_at, c.id)));
        if seen.len() == 50 {
            // A call arriving mid-paging lands on top and shifts nothing below.
            finished(
                &h,
                Direction::Incoming,
                "sip:new@x",
                None,
                999_999,
                Disposition::Missed,
            );
            expected_total += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, [50, 50, 20]);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(
        seen, sorted,
        "strictly descending by (start, id), no repeats"
    );
    assert_eq!(seen.len(), 120);

    // A page that ends exactly at the last row has no next.
    let page = h
        .query(&CallQuery {
            limit: 121,
            ..CallQuery::default()
        })
        .unwrap();
    assert_eq!(page.calls.len(), 121);
    assert_eq!(page.next, None);
}

#[test]
fn missed_since_last_seen_counts_by_end_time() {
    let (_dir, store) = temp_store();
    let h = store.history();
    assert_eq!(h.missed_seen_at().unwrap(), None);
    finished(
        &h,
        Direction::Incoming,
        "sip:1@x",
        None,
        1_000,
        Disposition::Missed,
    );
    finished(
        &h,
        Direction::Incoming,
        "sip:2@x",
        None,
        2_000,
        Disposition::Missed,
    );
    finished(
        &h,
        Direction::Incoming,
        "sip:3@x",
        None,
        3_000,
        Disposition::Answered,
    );
    assert_eq!(h.missed_since_last_seen().unwrap(), 2);

    // Still ringing while the user looks.
    let ringing = h
        .record_start(&new_call(Direction::Incoming, "sip:4@x", None, 20_000))
        .unwrap();
    h.mark_missed_seen(UnixMillis(25_000)).unwrap();
    assert_eq!(h.missed_seen_at().unwrap(), Some(UnixMillis(25_000)));
    assert_eq!(h.missed_since_last_seen().unwrap(), 0);

    h.record_end(
        ringing,
        &CallEnd {
            ended_at: UnixMillis(30_000),
            disposition: Disposition::Missed,
            transfer: None,
        },
    )
    .unwrap();
    finished(
        &h,
        Direction::Incoming,
        "sip:5@x",
        None,
        40_000,
        Disposition::Missed,
    );
    finished(
        &h,
        Direction::Incoming,
        "sip:6@x",
        None,
        41_000,
        Disposition::Rejected,
    );
    assert_eq!(h.missed_since_last_seen().unwrap(), 2);
}

#[test]
fn delete_one_and_delete_all() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let a = finished(
        &h,
        Direction::Incoming,
        "sip:a@x",
        None,
        1,
        Disposition::Missed,
    );
    let b = finished(
        &h,
        Direction::Incoming,
        "sip:b@x",
        None,
        2,
        Disposition::Missed,
    );
    let c = finished(
        &h,
        Direction::Incoming,
        "sip:c@x",
        None,
        3,
        Disposition::Missed,
    );
    assert!(h.delete(b).unwrap());
    assert!(!h.delete(b).unwrap());
    assert_eq!(h.get(b).unwrap(), None);
    assert!(h.get(a).unwrap().is_some());
    assert_eq!(h.query(&query(CallKind::All)).unwrap().total, 2);
    assert_eq!(h.delete_all().unwrap(), 2);
    assert_eq!(h.get(c).unwrap(), None);
    assert_eq!(h.query(&query(CallKind::All)).unwrap().total, 0);
    assert_eq!(h.missed_since_last_seen().unwrap(), 0);
}

#[test]
fn parties_are_shared_and_removed_with_their_last_call() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let parties = || -> i64 {
        store
            .conn()
            .query_row("SELECT count(*) FROM remote_party", [], |r| r.get(0))
            .unwrap()
    };
    let a1 = finished(
        &h,
        Direction::Incoming,
        "sip:a@x",
        Some("A"),
        1,
        Disposition::Missed,
    );
    let a2 = finished(
        &h,
        Direction::Outgoing,
        "sip:a@x",
        Some("A"),
        2,
        Disposition::Busy,
    );
    let b = finished(
        &h,
        Direction::Outgoing,
        "sip:b@x",
        None,
        3,
        Disposition::Busy,
    );
    assert_eq!(parties(), 2, "same name and URI, same party");
    assert!(h.delete(a1).unwrap());
    assert_eq!(parties(), 2, "a2 still refers to A");
    assert_eq!(search(&h, "sip:a@"), ["sip:a@x"]);
    assert!(h.delete(a2).unwrap());
    assert_eq!(parties(), 1);
    assert_eq!(search(&h, "sip:a@"), Vec::<String>::new());
    assert!(h.get(b).unwrap().is_some());
    h.delete_all().unwrap();
    assert_eq!(parties(), 0);
}

#[test]
fn a_failed_atomic_batch_leaves_nothing_behind() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let kept = store
        .atomically(|| {
            let first = h.record_start(&new_call(Direction::Incoming, "sip:a@x", None, 1))?;
            // An inner batch that fails rolls back alone.
            let inner: Result<CallId> = store.atomically(|| {
                h.record_start(&new_call(Direction::Incoming, "sip:b@x", None, 2))?;
                Err(Error::invalid("changed my mind"))
            });
            assert!(inner.is_err());
            Ok(first)
        })
        .unwrap();
    let outer: Result<()> = store.atomically(|| {
        h.record_start(&new_call(Direction::Incoming, "sip:c@x", None, 3))?;
        h.record_answer(CallId(-1), UnixMillis(4))
    });
    assert_eq!(outer.unwrap_err().code(), "store.not_found");
    let page = h.query(&query(CallKind::All)).unwrap();
    let ids: Vec<CallId> = page.calls.iter().map(|c| c.id).collect();
    assert_eq!(ids, [kept]);
    // The store is usable afterwards (no transaction left open).
    finished(
        &h,
        Direction::Incoming,
        "sip:d@x",
        None,
        5,
        Disposition::Missed,
    );
    assert_eq!(h.query(&query(CallKind::All)).unwrap().total, 2);
}

#[test]
fn missed_count_reads_the_missed_by_end_index() {
    let (_dir, store) = temp_store();
    let plan = explain(&store, MISSED_SINCE_SQL, &[Value::Integer(0)]);
    assert!(plan.contains("call_history_missed_by_end"), "{plan}");
}

#[test]
fn a_tampered_row_is_a_corrupt_error_not_a_panic() {
    let (_dir, store) = temp_store();
    let h = store.history();
    let id = finished(
        &h,
        Direction::Incoming,
        "sip:a@x",
        None,
        1,
        Disposition::Missed,
    );
    store
        .conn()
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON;
             UPDATE call_history SET disposition = 'exploded';
             PRAGMA ignore_check_constraints = OFF;",
        )
        .unwrap();
    assert_eq!(h.get(id).unwrap_err().code(), "store.corrupt");
    assert_eq!(
        h.query(&CallQuery::default()).unwrap_err().code(),
        "store.corrupt"
    );
}

/// The paging and count queries of every filter shape read an index, never the whole call
/// table: pages without a search walk an index in order (no sort), and every count is
/// answered from an index alone. This is what keeps a page + count at 100k rows within a
/// few milliseconds (see examples/history_bench.rs).
#[test]
fn every_filter_shape_is_served_by_an_index_without_sorting() {
    let (_dir, store) = temp_store();
    let kinds = [
        CallKind::All,
        CallKind::Incoming,
        CallKind::Outgoing,
        CallKind::Missed,
    ];
    for kind in kinds {
        for (from, until) in [
            (None, None),
            (Some(UnixMillis(1)), None),
            (Some(UnixMillis(1)), Some(UnixMillis(2))),
        ] {
            for plan in [None, Some(SearchPlan::ByParty), Some(SearchPlan::Scan)] {
                let search = plan.map(|plan| Search {
                    plan,
                    pattern: "%smith%".to_owned(),
                    total: None,
                });
                for after in [
                    None,
                    Some(PageCursor {
                        started_at: UnixMillis(5),
                        id: CallId(5),
                    }),
                ] {
                    let q = CallQuery {
                        kind,
                        from,
                        until,
                        search: plan.map(|_| "smith".to_owned()),
                        after,
                        limit: 50,
                    };
                    let filter = Filter::new(&q, search.as_ref());
                    let (sql, values) = filter.page_sql(after, 50);
                    let explained = explain(&store, &sql, &values);
                    if plan == Some(SearchPlan::ByParty) {
                        // Range-read the few matching parties' calls, sort only those.
                        assert!(
                            explained.contains("USING INDEX call_history_by_party (party_id=?"),
                            "{q:?}: {explained}"
                        );
                    } else {
                        // Walk an index in page order and stop after 51 rows.
                        assert!(
                            !explained.contains("TEMP B-TREE"),
                            "{q:?} sorts: {explained}"
                        );
                        assert!(
                            explained.contains("USING INDEX"),
                            "{q:?} scans: {explained}"
                        );
                        assert!(!explained.contains("by_party"), "{q:?}: {explained}");
                    }
                    // Counting reads an index alone, search included (a scan looks each
                    // entry's party up by id).
                    let explained = explain(&store, &filter.count_sql(), &filter.values);
                    assert!(
                        explained.contains("USING COVERING INDEX"),
                        "{q:?} count: {explained}"
                    );
                    assert!(!explained.contains("SCAN p"), "{q:?} count: {explained}");
                }
            }
        }
    }
}

fn explain(store: &Store, sql: &str, values: &[Value]) -> String {
    let mut stmt = store
        .conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let rows = stmt
        .query_map(params_from_iter(values), |r| r.get::<_, String>(3))
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join(" | ")
}
