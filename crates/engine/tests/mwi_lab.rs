//! Voicemail message-waiting indication (RFC 3842) against SIPp playing the registrar and
//! voicemail server on loopback: subscribe with a digest challenge and read two NOTIFYs,
//! take an unsolicited NOTIFY, and stop after a 489.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use sidetone_engine::{Engine, EngineConfig, EngineEvent, EngineHandle};
use sidetone_lab_client::sipp::Sipp;
use sidetone_sip::{AccountConfig, MwiState, OutboundProxy, Password, SipUri};
use tokio::sync::broadcast;

const USER: &str = "1001";
const PASSWORD: &str = "mwi-lab-secret";

/// An account of `USER` registering (and subscribing) straight at SIPp.
fn account(sipp: &Sipp, mwi: bool) -> AccountConfig {
    let aor = SipUri::parse(&format!("sip:{USER}@127.0.0.1")).unwrap();
    let mut account = AccountConfig::new(aor, Some(Password::new(PASSWORD)));
    account.outbound_proxy = Some(OutboundProxy::parse(&sipp.addr.to_string()).unwrap());
    account.mwi = mwi;
    account
}

/// An engine whose shutdown does not wait long for a SIPp that has already left.
fn engine() -> (EngineHandle, broadcast::Receiver<EngineEvent>) {
    let handle = Engine::start(EngineConfig {
        shutdown_grace: Duration::from_secs(1),
        ..EngineConfig::default()
    })
    .unwrap();
    let events = handle.subscribe();
    (handle, events)
}

/// Collects events until `done` says so or `within` passes; returns them all.
fn collect(
    events: &mut broadcast::Receiver<EngineEvent>,
    within: Duration,
    done: impl Fn(&[EngineEvent]) -> bool,
) -> Vec<EngineEvent> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline && !done(&seen) {
        match events.try_recv() {
            Ok(event) => seen.push(event),
            Err(broadcast::error::TryRecvError::Empty) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(broadcast::error::TryRecvError::Closed) => break,
        }
    }
    seen
}

/// The (new, old, messages waiting) of every MessageWaiting event, in order.
fn counts(events: &[EngineEvent]) -> Vec<(u32, u32, bool)> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::MessageWaiting {
                new_messages,
                old_messages,
                messages_waiting,
                ..
            } => Some((*new_messages, *old_messages, *messages_waiting)),
            _ => None,
        })
        .collect()
}

fn mwi_states(events: &[EngineEvent]) -> Vec<(MwiState, Option<String>)> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::MwiSubscription { state, reason, .. } => {
                Some((state.clone(), reason.as_ref().map(|r| r.to_string())))
            }
            _ => None,
        })
        .collect()
}

/// SIPp ran its scenario to the end: every message it expected came as it expected.
fn assert_scenario_passed(sipp: &mut Sipp) {
    let status = sipp.wait(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "sipp: {status:?}\n{}",
        sipp.log()
    );
}

#[test]
fn subscribes_answering_the_challenge_and_reports_each_notify() {
    let mut sipp = Sipp::start(
        "mwi_server.xml",
        2,
        Duration::from_secs(30),
        &[("user", USER), ("password", PASSWORD)],
    )
    .unwrap();
    let (engine, mut events) = engine();
    let id = engine.register(account(&sipp, true)).unwrap();
    let seen = collect(&mut events, Duration::from_secs(20), |seen| {
        counts(seen).len() >= 2
    });
    assert_eq!(
        counts(&seen),
        [(2, 8, true), (0, 10, false)],
        "events: {seen:#?}\n{}",
        sipp.log()
    );
    assert!(
        seen.iter().all(
            |e| !matches!(e, EngineEvent::MessageWaiting { account_id, .. } if *account_id != id)
        ),
        "every count names the account"
    );
    let states = mwi_states(&seen);
    assert!(
        states.contains(&(MwiState::Active { expires: 3600 }, None)),
        "{states:?}"
    );
    // SIPp checked our digest (403 otherwise, and no NOTIFY) and got our 200s.
    assert_scenario_passed(&mut sipp);
    assert_eq!(
        sipp.requests_received("SUBSCRIBE"),
        2,
        "the challenged one and its answer"
    );
    engine.shutdown().unwrap();
}

#[test]
fn takes_an_unsolicited_notify_and_refuses_other_events() {
    let mut sipp = Sipp::start(
        "mwi_unsolicited.xml",
        1,
        Duration::from_secs(30),
        &[("user", USER)],
    )
    .unwrap();
    let (engine, mut events) = engine();
    // MWI off: no SUBSCRIBE, yet what the PBX pushes is taken.
    engine.register(account(&sipp, false)).unwrap();
    let seen = collect(&mut events, Duration::from_secs(15), |seen| {
        !counts(seen).is_empty()
    });
    assert_eq!(counts(&seen), [(3, 1, true)], "{seen:#?}\n{}", sipp.log());
    // SIPp got 489 to the presence NOTIFY and 200 to the message summary.
    assert_scenario_passed(&mut sipp);
    assert_eq!(
        sipp.requests_received("SUBSCRIBE"),
        0,
        "MWI off sends no SUBSCRIBE"
    );
    assert!(mwi_states(&seen).is_empty(), "{seen:#?}");
    engine.shutdown().unwrap();
}

#[test]
fn a_489_stops_subscribing_for_the_registration() {
    let sipp = Sipp::start("mwi_refused.xml", 50, Duration::from_secs(60), &[]).unwrap();
    let (engine, mut events) = engine();
    engine.register(account(&sipp, true)).unwrap();
    let seen = collect(&mut events, Duration::from_secs(15), |seen| {
        mwi_states(seen)
            .iter()
            .any(|(state, _)| *state == MwiState::Stopped)
    });
    let states = mwi_states(&seen);
    let stopped = states.iter().find(|(state, _)| *state == MwiState::Stopped);
    let reason = stopped
        .and_then(|(_, reason)| reason.clone())
        .unwrap_or_default();
    assert!(reason.contains("489"), "{states:?}\n{}", sipp.log());
    // Longer than the first backoff window (at most 5 s): a retry would have come by now.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(sipp.requests_received("SUBSCRIBE"), 1, "{}", sipp.log());
    engine.shutdown().unwrap();
}
