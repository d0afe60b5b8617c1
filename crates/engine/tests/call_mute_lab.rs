//! Mute against a real far end: a mute pressed while the call is still being set up holds
//! once the far end answers, and unmuting brings our voice back. Measured on what baresip
//! recorded (the level of our tone in each interval).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod far_end;

use std::time::Duration;

use far_end::{FarEnd, Phone, level_dbfs, read_wav, write_tone};
use sidetone_engine::{CallMedia, EngineEvent};
use sidetone_media::CodecKind;
use sidetone_sip::CallState;

/// Louder than this (dBFS) counts as our tone being heard; the tone is at about -12.
const HEARD_DBFS: f64 = -30.0;
/// Quieter than this counts as silence.
const SILENT_DBFS: f64 = -50.0;

#[test]
fn a_mute_pressed_before_the_answer_holds_and_unmute_brings_the_voice_back() {
    let far = FarEnd::start("tone:1000", "pcmu");
    let mut phone = Phone::register(&far);
    let tone = far.dir().join("our-tone.wav");
    write_tone(&tone, 440.0, 60.0);
    let media = CallMedia {
        play: Some(tone),
        codecs: vec![CodecKind::Pcmu],
        ..CallMedia::default()
    };
    let call_id = phone.handle.dial(&phone.account_id, "2000", media).unwrap();
    // Muted as soon as the call exists, before the far end has answered.
    phone.wait(Duration::from_secs(10), |e| {
        matches!(
            e,
            EngineEvent::Call {
                state: CallState::Dialing,
                ..
            }
        )
    });
    phone.handle.mute(&call_id, true).unwrap();
    phone.wait(Duration::from_secs(10), |e| {
        matches!(
            e,
            EngineEvent::Call {
                state: CallState::Established,
                ..
            }
        )
    });
    phone.collect(Duration::from_secs(2));
    phone.handle.mute(&call_id, false).unwrap();
    phone.collect(Duration::from_secs(2));
    phone.handle.hangup(&call_id).unwrap();
    phone.wait(Duration::from_secs(10), |e| {
        matches!(e, EngineEvent::CallStats { .. })
    });

    let (rate, heard) = read_wav(&far.heard());
    let muted = level_dbfs(rate, &heard, 0.3, 1.7);
    let unmuted = level_dbfs(rate, &heard, 2.6, 3.7);
    eprintln!("baresip heard us at {muted:.1} dBFS while muted, {unmuted:.1} dBFS after");
    assert!(
        muted < SILENT_DBFS,
        "the mute before the answer was lost: {muted:.1} dBFS"
    );
    assert!(
        unmuted > HEARD_DBFS,
        "unmute did not bring the voice back: {unmuted:.1} dBFS"
    );
}
