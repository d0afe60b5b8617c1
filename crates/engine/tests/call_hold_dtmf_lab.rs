//! Hold, resume and DTMF against a real far end: the lab's Kamailio routes our calls to a
//! baresip phone (user 2000) that answers at once and plays a never-ending tone. What is
//! measured: the level of what each side recorded while held and while not, the events
//! baresip reports over ctrl_tcp, and the engine's own events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod far_end;

use std::time::{Duration, Instant};

use far_end::{FarEnd, Phone, level_dbfs, read_wav, write_tone};
use sidetone_engine::{CallMedia, EngineError, EngineEvent};
use sidetone_media::{CodecKind, MediaStats};
use sidetone_sip::CallId;

/// Louder than this (dBFS) counts as the tone being heard; the tones are at about -12.
const HEARD_DBFS: f64 = -30.0;
/// Quieter than this counts as silence.
const SILENT_DBFS: f64 = -50.0;

/// Dials baresip with `codec`, sending a 440 Hz tone and recording what we hear; returns
/// the call id, when its media started, and the recording's path.
fn call_far_end(
    far: &FarEnd,
    phone: &mut Phone,
    codec: CodecKind,
) -> (CallId, Instant, std::path::PathBuf) {
    let dir = far.dir();
    let tone = dir.join("our-tone.wav");
    write_tone(&tone, 440.0, 60.0);
    let record = dir.join(format!("we-heard-{codec}.wav"));
    let media = CallMedia {
        play: Some(tone),
        record: Some(record.clone()),
        codecs: vec![codec],
        ..CallMedia::default()
    };
    let call_id = phone.dial_established("2000", media);
    let started = Instant::now();
    (call_id, started, record)
}

/// Hangs up; returns the call's media counters.
fn hang_up(phone: &mut Phone, call_id: &CallId) -> MediaStats {
    phone.handle.hangup(call_id).unwrap();
    match phone.wait(Duration::from_secs(10), |e| {
        matches!(e, EngineEvent::CallStats { .. })
    }) {
        EngineEvent::CallStats { stats, .. } => stats,
        other => panic!("{other:?}"),
    }
}

/// What baresip recorded: only what it heard before the first re-INVITE (baresip 1.0 does
/// not record again after one). Returns its length in seconds and its level.
fn heard_before_first_reinvite(far: &FarEnd) -> (f64, f64) {
    let (rate, samples) = read_wav(&far.heard());
    let length = samples.len() as f64 / f64::from(rate);
    (length, level_dbfs(rate, &samples, 0.3, length - 0.2))
}

/// Our packets sent against a call of `call` seconds of which `held` had no sending: 50 a
/// second (20 ms frames).
fn assert_sent_only_while_not_held(stats: &MediaStats, call: f64, held: f64) {
    let expected = (call - held) * 50.0;
    let sent = stats.packets_sent as f64;
    eprintln!(
        "we sent {sent} packets in a {call:.2} s call held {held:.2} s (expected about {expected:.0})"
    );
    assert!(
        (sent - expected).abs() < 40.0,
        "we sent {sent} packets, about {expected:.0} expected: not silent while held?"
    );
}

fn held(local: bool, remote: bool) -> impl Fn(&EngineEvent) -> bool {
    move |e| matches!(e, EngineEvent::CallHeld { local: l, remote: r, .. } if *l == local && *r == remote)
}

#[test]
fn we_hold_baresip_which_goes_quiet_and_resume_brings_the_audio_back() {
    let far = FarEnd::start("tone:1000", "opus,pcmu");
    let mut phone = Phone::register(&far);
    let (call_id, started, record) = call_far_end(&far, &mut phone, CodecKind::Opus);
    let since = far.events().len();
    // baresip offers telephone-event at 8 kHz only, which an Opus call cannot pair with:
    // keys pressed now get a clear answer, not silence.
    let no_events = phone.handle.dtmf(&call_id, "5");
    assert!(
        matches!(no_events, Err(EngineError::DtmfUnavailable(_))),
        "{no_events:?}"
    );

    std::thread::sleep(Duration::from_secs(3));
    let hold_sent = started.elapsed().as_secs_f64();
    phone.handle.hold(&call_id, true).unwrap();
    phone.wait(Duration::from_secs(5), held(true, false));
    let held_at = started.elapsed().as_secs_f64();
    let on_hold = phone.handle.dtmf(&call_id, "5");
    assert!(
        matches!(on_hold, Err(EngineError::DtmfUnavailable(reason)) if reason.contains("hold")),
        "{on_hold:?}"
    );
    eprintln!(
        "hold: re-INVITE answered after {:.0} ms",
        (held_at - hold_sent) * 1000.0
    );
    // Baresip saw our re-offer (sendonly) and took it.
    let sdp_events: Vec<_> = far.events()[since..]
        .iter()
        .map(|(_, e)| e.clone())
        .filter(|e| e["type"] == "CALL_REMOTE_SDP")
        .collect();
    eprintln!("baresip after our hold: {sdp_events:?}");

    std::thread::sleep(Duration::from_secs(3));
    let resume_sent = started.elapsed().as_secs_f64();
    phone.handle.hold(&call_id, false).unwrap();
    phone.wait(Duration::from_secs(5), held(false, false));
    let resumed_at = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(4));
    let ended_at = started.elapsed().as_secs_f64();
    let stats = hang_up(&mut phone, &call_id);

    // What we heard, on the call's own 20 ms clock (one frame per tick, heard or not).
    let (rate, ours) = read_wav(&record);
    let before = level_dbfs(rate, &ours, 1.0, hold_sent);
    let during = level_dbfs(rate, &ours, held_at + 0.5, resume_sent);
    let after = level_dbfs(rate, &ours, resumed_at + 0.5, ended_at - 0.2);
    eprintln!(
        "we heard: {before:.1} dBFS before hold, {during:.1} dBFS held, {after:.1} dBFS resumed"
    );
    assert!(before > HEARD_DBFS, "no audio before hold: {before:.1}");
    assert!(
        during < SILENT_DBFS,
        "baresip kept sending while held (it answered recvonly): {during:.1} dBFS"
    );
    assert!(after > HEARD_DBFS, "no audio after resume: {after:.1}");

    // baresip took both re-offers (hold and resume).
    let offers = far.events()[since..]
        .iter()
        .filter(|(_, e)| e["type"] == "CALL_REMOTE_SDP" && e["param"] == "offer")
        .count();
    assert_eq!(offers, 2, "baresip saw {offers} re-offers");
    // baresip 1.0 stops its recording at the first re-INVITE (its sndfile filter is not
    // attached again), so its file holds what it heard before the hold: our tone.
    let (length, level) = heard_before_first_reinvite(&far);
    eprintln!("baresip heard {length:.2} s at {level:.1} dBFS before the hold");
    assert!(
        (length - hold_sent).abs() < 1.0,
        "{length:.2} s heard before the hold"
    );
    assert!(level > HEARD_DBFS, "baresip heard no tone before the hold");
    // Our own counter for the rest: nothing sent while held, 50 packets a second otherwise.
    assert_sent_only_while_not_held(&stats, ended_at, resumed_at - hold_sent);
}

#[test]
fn baresip_holds_us_we_answer_recvonly_report_it_and_stop_sending() {
    let mut far = FarEnd::start("tone:1000", "pcmu");
    let mut phone = Phone::register(&far);
    let (call_id, started, _record) = call_far_end(&far, &mut phone, CodecKind::Pcmu);
    std::thread::sleep(Duration::from_secs(2));
    let hold_sent = started.elapsed().as_secs_f64();
    far.command("hold", "");
    phone.wait(Duration::from_secs(5), held(false, true));
    let held_at = started.elapsed().as_secs_f64();
    eprintln!(
        "baresip's hold reached us after {:.0} ms",
        (held_at - hold_sent) * 1000.0
    );
    std::thread::sleep(Duration::from_secs(3));
    let resume_sent = started.elapsed().as_secs_f64();
    far.command("resume", "");
    phone.wait(Duration::from_secs(5), held(false, false));
    let resumed_at = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(3));
    let ended_at = started.elapsed().as_secs_f64();
    let stats = hang_up(&mut phone, &call_id);

    eprintln!(
        "baresip held us {:.0} ms after its command, resumed {:.0} ms after",
        (held_at - hold_sent) * 1000.0,
        (resumed_at - resume_sent) * 1000.0
    );
    let (length, level) = heard_before_first_reinvite(&far);
    eprintln!("baresip heard {length:.2} s at {level:.1} dBFS before its hold");
    assert!(level > HEARD_DBFS, "baresip heard no tone before its hold");
    // We answered its sendonly with recvonly and stopped sending until the resume.
    assert_sent_only_while_not_held(&stats, ended_at, resumed_at - held_at);
}

#[test]
fn we_send_dtmf_and_baresip_reports_the_digits() {
    let far = FarEnd::start("tone:1000", "pcmu");
    let mut phone = Phone::register(&far);
    let (call_id, _started, _record) = call_far_end(&far, &mut phone, CodecKind::Pcmu);
    // A clear error for a digit that is none, before anything is sent.
    let error = phone.handle.dtmf(&call_id, "1x").unwrap_err();
    assert!(matches!(error, EngineError::InvalidDtmf(_)), "{error}");
    assert_eq!(error.code(), "engine.invalid_dtmf");
    eprintln!("invalid digit: {error}");

    std::thread::sleep(Duration::from_millis(500));
    let since = far.events().len();
    let sent = Instant::now();
    phone.handle.dtmf(&call_id, "1#").unwrap();
    let ends = || {
        far.events()[since..]
            .iter()
            .filter(|(_, e)| e["type"] == "CALL_DTMF_END" || e["type"] == "CALL_DTMF_START")
            .map(|(at, e)| (at.duration_since(sent), e.clone()))
            .collect::<Vec<_>>()
    };
    far.wait_event(Duration::from_secs(3), |e| {
        e["type"] == "CALL_DTMF_START" && e["param"] == "#"
    });
    std::thread::sleep(Duration::from_millis(300));
    let seen = ends();
    for (at, event) in &seen {
        eprintln!(
            "{:>4} ms {} {}",
            at.as_millis(),
            event["type"],
            event["param"]
        );
    }
    let starts: Vec<String> = seen
        .iter()
        .filter(|(_, e)| e["type"] == "CALL_DTMF_START")
        .map(|(_, e)| e["param"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(starts, ["1", "#"], "each digit reported once: {seen:?}");
    hang_up(&mut phone, &call_id);
}

#[test]
fn baresip_sends_dtmf_and_we_emit_each_digit_once() {
    let mut far = FarEnd::start("tone:1000", "pcmu");
    let mut phone = Phone::register(&far);
    let (call_id, _started, _record) = call_far_end(&far, &mut phone, CodecKind::Pcmu);
    std::thread::sleep(Duration::from_millis(500));
    let mut heard = Vec::new();
    for digit in ["4", "*", "9", "#"] {
        far.command("sndcode", digit);
        // baresip ends a key when the next one (or a release) comes: space them out.
        let events = phone.collect(Duration::from_millis(600));
        heard.extend(events.into_iter().filter_map(|e| match e {
            EngineEvent::Dtmf { call_id: id, digit } if id == call_id => Some(digit),
            _ => None,
        }));
    }
    let events = phone.collect(Duration::from_millis(800));
    heard.extend(events.into_iter().filter_map(|e| match e {
        EngineEvent::Dtmf { digit, .. } => Some(digit),
        _ => None,
    }));
    eprintln!("we heard {heard:?}");
    assert_eq!(heard, ['4', '*', '9', '#']);
    hang_up(&mut phone, &call_id);
}
