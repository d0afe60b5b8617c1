//! A crashed and restarted registrar (issues 3 and 9): the lab's real Kamailio is killed with
//! SIGKILL and started again on the same ports (`Lab::control`). Kamailio keeps its
//! registrations in memory, so a restart forgets our binding: the phone must notice and
//! register again on its own, with backoff, and be reachable again (an OPTIONS the
//! registrar routes to us gets our 200). What is measured: the time from the revival to
//! being reachable again, per transport, and how many attempts the engine made meanwhile.
//! And a call through Kamailio to a baresip far end: its media flows phone to phone, so it
//! goes on while Kamailio is dead, the hang-up after the revival still reaches baresip, and
//! baresip's call to us after the re-register rings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod far_end;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::probe::options_status;
use common::{Kamailio, TestEngine};
use far_end::{FarEnd, Phone, level_dbfs, read_wav, write_tone};
use sidetone_engine::{CallMedia, EngineEvent};
use sidetone_media::CodecKind;
use sidetone_sip::{CallDirection, CallState, RegistrationState, SipError, Transport};
use tokio::sync::broadcast;

/// How long Kamailio stays dead: longer than the first retry, so backoff shows.
const OUTAGE: Duration = Duration::from_secs(4);

/// Registration events seen until one matches `until` (included) or `within` passes.
fn registration_events(
    engine: &mut TestEngine,
    within: Duration,
    until: impl Fn(&RegistrationState) -> bool,
) -> Vec<(Instant, RegistrationState, Option<SipError>)> {
    let events = &mut engine.events;
    engine.runtime.block_on(async {
        let mut seen = Vec::new();
        let _ = tokio::time::timeout(within, async {
            loop {
                match events.recv().await {
                    Ok(EngineEvent::Registration { state, reason, .. }) => {
                        let done = until(&state);
                        seen.push((Instant::now(), state, reason));
                        if done {
                            return;
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
        .await;
        seen
    })
}

/// Prints what the user saw, in ms since `since`: the measurements in the test log.
fn print_events(
    transport: Transport,
    since: Instant,
    seen: &[(Instant, RegistrationState, Option<SipError>)],
) {
    for (when, state, reason) in seen {
        eprintln!(
            "{transport}: +{:>6} ms {state:?} {}",
            (*when - since).as_millis(),
            reason.as_ref().map(ToString::to_string).unwrap_or_default()
        );
    }
}

fn is_registered(state: &RegistrationState) -> bool {
    matches!(state, RegistrationState::Registered { .. })
}

/// Registers over `transport`, crashes Kamailio for [`OUTAGE`], revives it, and asserts the
/// phone is reachable again within `within` of the revival without anyone acting; prints
/// the measured time from revival to registered.
fn comes_back_after_a_crash(transport: Transport, within: Duration) {
    let mut kamailio = Kamailio::start();
    let udp: SocketAddr = kamailio.endpoint(Transport::Udp).parse().unwrap();
    let (user, _) = kamailio.user();
    let domain = kamailio.domain();
    let mut engine = TestEngine::start();
    engine.handle.register(kamailio.account(transport)).unwrap();
    engine.wait_registered();
    assert_eq!(options_status(udp, &user, &domain), Some(200));

    kamailio.control("kill");
    let killed = Instant::now();
    let mut seen = Vec::new();
    if transport != Transport::Udp {
        // The connection dies with the server: the user sees the loss at once.
        let lost = registration_events(&mut engine, Duration::from_secs(3), |s| !is_registered(s));
        let (at, state, _) = lost.last().expect("no registration event after the crash");
        assert!(!is_registered(state), "{lost:?}");
        eprintln!(
            "{transport}: loss shown {} ms after the kill: {state:?}",
            (*at - killed).as_millis()
        );
        seen.extend(lost);
    }
    let rest = OUTAGE.saturating_sub(killed.elapsed());
    seen.extend(registration_events(&mut engine, rest, |_| false));
    kamailio.control("revive");
    let revived = Instant::now();
    if transport == Transport::Udp {
        // Nothing tells a UDP client; the restarted registrar has forgotten it.
        assert_eq!(
            options_status(udp, &user, &domain),
            Some(404),
            "the restart forgot the binding"
        );
    }

    seen.extend(registration_events(&mut engine, within, is_registered));
    let (at, state, _) = seen.last().cloned().unwrap_or_else(|| {
        panic!("{transport}: no registration event within {within:?} of the revival")
    });
    print_events(transport, killed, &seen);
    assert!(
        is_registered(&state) && at >= revived,
        "{transport}: not registered again within {within:?} of the revival: {seen:?}"
    );
    let recovery = at - revived;
    // Backoff, not a loop: one attempt at the loss, then doubling waits from 2.5-5 s.
    let attempts = seen
        .iter()
        .filter(|(_, s, _)| matches!(s, RegistrationState::Retrying { .. }))
        .count();
    assert!(
        attempts <= 3,
        "{transport}: {attempts} failed attempts in a {OUTAGE:?} outage"
    );
    assert_eq!(
        options_status(udp, &user, &domain),
        Some(200),
        "{transport}: reachable again after the restart"
    );
    eprintln!(
        "{transport}: registered again {} ms after the revival ({} ms after the kill), \
         {attempts} failed attempts",
        recovery.as_millis(),
        (at - killed).as_millis()
    );
    engine.handle.shutdown().unwrap();
}

#[test]
fn tcp_registration_comes_back_after_a_registrar_crash() {
    comes_back_after_a_crash(Transport::Tcp, Duration::from_secs(15));
}

#[test]
fn tls_registration_comes_back_after_a_registrar_crash() {
    comes_back_after_a_crash(Transport::Tls, Duration::from_secs(15));
}

#[test]
fn ws_registration_comes_back_after_a_registrar_crash() {
    comes_back_after_a_crash(Transport::Ws, Duration::from_secs(15));
}

#[test]
fn udp_registration_comes_back_after_a_registrar_crash() {
    // Nothing signals the crash over UDP: the bound is the UDP refresh interval.
    comes_back_after_a_crash(Transport::Udp, Duration::from_secs(70));
}

/// Louder than this (dBFS) counts as the tone being heard; the tones are at about -12.
const HEARD_DBFS: f64 = -30.0;

#[test]
fn a_udp_call_keeps_its_media_while_the_registrar_is_dead_and_hangs_up_after_its_revival() {
    // Over UDP the next refresh (at most 60 s apart) brings the binding back.
    call_survives_a_crash(Transport::Udp, Duration::from_secs(70));
}

#[test]
fn a_tcp_call_keeps_its_media_while_the_registrar_is_dead_and_hangs_up_after_its_revival() {
    // Over TCP the closed connection triggers the re-register; the call's signalling then
    // rides the new connection.
    call_survives_a_crash(Transport::Tcp, Duration::from_secs(15));
}

/// A call from us (user 1001 over `transport`) to baresip through Kamailio, which is killed
/// for [`OUTAGE`] mid-call and revived; registration must come back within `within` of the
/// revival.
fn call_survives_a_crash(transport: Transport, within: Duration) {
    let mut far = FarEnd::start("tone:1000", "pcmu");
    let mut account = far.account();
    let kam = far.kamailio();
    let address = kam[transport.as_str()].as_str().unwrap();
    account.transport = transport;
    account.outbound_proxy = Some(sidetone_sip::OutboundProxy::parse(address).unwrap());
    let mut phone = Phone::register_account(account);
    let dir = far.dir();
    let tone = dir.join("our-tone.wav");
    write_tone(&tone, 440.0, 150.0);
    let record = dir.join("we-heard.wav");
    let media = CallMedia {
        play: Some(tone),
        record: Some(record.clone()),
        codecs: vec![CodecKind::Pcmu],
        ..CallMedia::default()
    };
    let call_id = phone.dial_established("2000", media);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(2));

    far.control("kamailio", "kill");
    let killed_at = started.elapsed().as_secs_f64();
    // Kamailio only relayed the signalling: with it dead the call must go on, untouched.
    let while_dead = phone.collect(OUTAGE);
    let ended = while_dead.iter().find(|e| {
        matches!(
            e,
            EngineEvent::Call {
                state: CallState::Ended { .. },
                ..
            }
        )
    });
    assert!(
        ended.is_none(),
        "the call ended with the registrar: {ended:?}"
    );
    far.control("kamailio", "revive");
    let revived = Instant::now();
    let revived_at = started.elapsed().as_secs_f64();

    // The restart forgot our binding; it comes back with the call still up.
    phone.wait(within, |e| {
        matches!(
            e,
            EngineEvent::Registration {
                state: RegistrationState::Registered { .. },
                ..
            }
        )
    });
    eprintln!(
        "{transport} call: registered again {} ms after the revival",
        revived.elapsed().as_millis()
    );
    let hangup_at = started.elapsed().as_secs_f64();
    phone.handle.hangup(&call_id).unwrap();
    let stats = match phone.wait(Duration::from_secs(10), |e| {
        matches!(e, EngineEvent::CallStats { .. })
    }) {
        EngineEvent::CallStats { stats, .. } => stats,
        other => panic!("{other:?}"),
    };
    // Our BYE went through the restarted Kamailio (loose routing needs no state).
    far.wait_event(Duration::from_secs(10), |e| e["type"] == "CALL_CLOSED");

    // Reachable again: baresip calls us through the restarted Kamailio and we ring.
    let domain = far.kamailio()["domain"].as_str().unwrap().to_owned();
    far.command("dial", &format!("sip:1001@{domain}"));
    let ringing = phone.wait(Duration::from_secs(10), |e| {
        matches!(
            e,
            EngineEvent::Call {
                direction: CallDirection::Incoming,
                state: CallState::Ringing,
                ..
            }
        )
    });
    if let EngineEvent::Call { call_id, .. } = ringing {
        let _ = phone.handle.hangup(&call_id);
    }

    // Both directions while Kamailio was dead: what we heard, and what baresip heard.
    let (rate, ours) = read_wav(&record);
    let we_heard = level_dbfs(rate, &ours, killed_at + 0.5, revived_at - 0.2);
    let (rate, theirs) = read_wav(&far.heard());
    let they_heard = level_dbfs(rate, &theirs, killed_at + 0.5, revived_at - 0.2);
    eprintln!(
        "{transport} call: while Kamailio was dead ({killed_at:.1}-{revived_at:.1} s): we heard {we_heard:.1} dBFS, \
         baresip heard {they_heard:.1} dBFS; {} packets received in a {hangup_at:.1} s call",
        stats.packets_received
    );
    assert!(
        we_heard > HEARD_DBFS,
        "our side heard nothing: {we_heard:.1}"
    );
    assert!(
        they_heard > HEARD_DBFS,
        "baresip heard nothing: {they_heard:.1}"
    );
    // 50 packets a second (20 ms frames) for the whole call: no gap at the crash.
    let expected = hangup_at * 50.0;
    assert!(
        stats.packets_received as f64 > expected - 100.0,
        "{} packets received, about {expected:.0} expected",
        stats.packets_received
    );
}

/// Resets (RST) every TCP connection on Kamailio's `port`, from Kamailio's side, with
/// `ss -K` (needs CAP_NET_ADMIN and a kernel with INET_DIAG_DESTROY, as the lab has). The
/// only connections there are ours: the lab's readiness probes closed theirs.
fn reset_connections_at(port: u16) {
    let filter = format!("( sport = :{port} )");
    let output = std::process::Command::new("ss")
        .args(["-K", "-t", "-n", "state", "established", &filter])
        .output()
        .expect("ss (iproute2)");
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && listed.lines().count() >= 2,
        "ss -K reset nothing on :{port}: {listed} {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Registers over `transport`, resets our connection from Kamailio's side (Kamailio stays
/// up), and asserts the phone registers again over a new one at once: one attempt, no
/// backoff, reachable again.
fn re_registers_at_once_after_a_reset(transport: Transport) {
    let kamailio = Kamailio::start();
    let udp: SocketAddr = kamailio.endpoint(Transport::Udp).parse().unwrap();
    let port: SocketAddr = kamailio.endpoint(transport).parse().unwrap();
    let (user, _) = kamailio.user();
    let domain = kamailio.domain();
    let mut engine = TestEngine::start();
    engine.handle.register(kamailio.account(transport)).unwrap();
    engine.wait_registered();
    assert_eq!(options_status(udp, &user, &domain), Some(200));

    reset_connections_at(port.port());
    let reset = Instant::now();
    let seen = registration_events(&mut engine, Duration::from_secs(5), is_registered);
    print_events(transport, reset, &seen);
    let states: Vec<_> = seen.iter().map(|(_, s, _)| s.clone()).collect();
    assert!(
        matches!(
            states.as_slice(),
            [
                RegistrationState::Registering,
                RegistrationState::Registered { .. }
            ]
        ),
        "{transport}: expected one immediate re-register after the reset: {states:?}"
    );
    assert_eq!(
        options_status(udp, &user, &domain),
        Some(200),
        "{transport}: reachable over the new connection"
    );
    eprintln!(
        "{transport}: registered again {} ms after the reset",
        (seen[1].0 - reset).as_millis()
    );
    engine.handle.shutdown().unwrap();
}

#[test]
fn tcp_reset_by_the_registrar_re_registers_at_once() {
    re_registers_at_once_after_a_reset(Transport::Tcp);
}

#[test]
fn tls_reset_by_the_registrar_re_registers_at_once() {
    re_registers_at_once_after_a_reset(Transport::Tls);
}
