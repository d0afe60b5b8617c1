use super::*;
use crate::offer_answer::Direction;

fn negotiated(codec: CodecKind) -> Negotiated {
    Negotiated {
        codec,
        payload_type: codec.default_payload_type(),
        telephone_event: None,
        remote: "127.0.0.1:4000".parse().unwrap(),
        direction: Direction::SendRecv,
    }
}

fn tone(frame: usize) -> Vec<i16> {
    (0..FRAME_SAMPLES)
        .map(|i| {
            let t = (frame * FRAME_SAMPLES + i) as f32 / SAMPLE_RATE as f32;
            (8000.0 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()) as i16
        })
        .collect()
}

fn rms(x: &[i16]) -> f32 {
    (x.iter().map(|&s| f32::from(s).powi(2)).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// Sends 1 s of a 440 Hz tone from one session to another, dropping every `drop_every`-th
/// packet; returns the receiver's output and stats.
fn loop_through(codec: CodecKind, drop_every: Option<usize>) -> (Vec<i16>, MediaStats) {
    let mut tx = MediaSession::new(negotiated(codec), 0x1234_5678_9abc_def0).unwrap();
    let mut rx = MediaSession::new(negotiated(codec), 42).unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    for frame in 0..50 {
        let now = start + FRAME * frame as u32;
        let datagram = tx.send_frame(&tone(frame)).unwrap();
        if drop_every.is_none_or(|n| frame % n != n - 1) {
            assert!(rx.receive(&datagram, now));
        }
        out.extend(rx.playout(now));
    }
    (out, rx.stats())
}

#[test]
fn rtp_header_fields_follow_rfc_3550() {
    let mut s = MediaSession::new(negotiated(CodecKind::Pcmu), 0x0102_0304_0506_0708).unwrap();
    let a = s.send_frame(&[0; FRAME_SAMPLES]).unwrap();
    let b = s.send_frame(&[0; FRAME_SAMPLES]).unwrap();
    assert_eq!(a.len(), 12 + 160);
    assert_eq!(a[0], 0x80);
    assert_eq!(a[1], 0x80, "marker on the first packet, PT 0");
    assert_eq!(b[1], 0x00, "no marker afterwards");
    let seq = |p: &[u8]| u16::from_be_bytes([p[2], p[3]]);
    let ts = |p: &[u8]| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    assert_eq!(seq(&b), seq(&a).wrapping_add(1));
    assert_eq!(ts(&b), ts(&a).wrapping_add(160));
    assert_eq!(&a[8..12], &[1, 2, 3, 4], "SSRC");
    assert!(a[12..].iter().all(|&b| b == 0xFF), "µ-law silence");
}

#[test]
fn foreign_datagrams_are_ignored() {
    let mut s = MediaSession::new(negotiated(CodecKind::Opus), 1).unwrap();
    let now = Instant::now();
    assert!(!s.receive(b"", now));
    assert!(!s.receive(b"garbage", now));
    let mut other = MediaSession::new(negotiated(CodecKind::Pcmu), 2).unwrap();
    let pcmu = other.send_frame(&[0; FRAME_SAMPLES]).unwrap();
    assert!(!s.receive(&pcmu, now), "wrong payload type");
    assert_eq!(s.stats().packets_ignored, 3);
}

#[test]
fn each_codec_carries_a_tone_end_to_end() {
    for codec in CodecKind::ALL {
        let (out, stats) = loop_through(codec, None);
        assert_eq!(stats.packets_received, 50);
        // Skip buffering and codec/resampler delay; then the tone is there at about its level
        // (RMS of an 8000-peak sine is 5657).
        let level = rms(&out[out.len() / 2..]);
        assert!((4000.0..7000.0).contains(&level), "{codec}: RMS {level}");
    }
}

#[test]
fn losses_are_concealed_not_silenced() {
    for codec in CodecKind::ALL {
        let (out, stats) = loop_through(codec, Some(10));
        assert!(stats.frames_concealed >= 3, "{codec}: {stats:?}");
        let level = rms(&out[out.len() / 2..]);
        assert!(level > 3000.0, "{codec}: RMS {level} with 10 % loss");
    }
}

fn with_events(codec: CodecKind, pt: u8) -> Negotiated {
    Negotiated {
        telephone_event: Some(pt),
        ..negotiated(codec)
    }
}

fn header(datagram: &[u8]) -> rtp::packet::Packet {
    let mut buf = datagram;
    rtp::packet::Packet::unmarshal(&mut buf).unwrap()
}

#[test]
fn dtmf_replaces_voice_with_rfc_4733_events_and_the_far_end_decodes_them() {
    let mut tx = MediaSession::new(with_events(CodecKind::Pcmu, 101), 7 << 32).unwrap();
    let mut rx = MediaSession::new(with_events(CodecKind::Pcmu, 101), 99).unwrap();
    let now = Instant::now();
    // A voice packet first, so the event's timestamp is mid-stream.
    let voice = header(&tx.send_frame(&tone(0)).unwrap());
    assert!(voice.header.marker);
    tx.queue_dtmf("1#").unwrap();
    assert!(tx.dtmf_pending());
    let mut packets = Vec::new();
    for frame in 1..=17 {
        let datagram = tx.send_frame(&tone(frame)).unwrap();
        assert!(rx.receive(&datagram, now));
        packets.push(header(&datagram));
    }
    assert!(!tx.dtmf_pending());
    let kinds: Vec<(u8, bool)> = packets
        .iter()
        .map(|p| (p.header.payload_type, p.header.marker))
        .collect();
    let event = |marker| (101, marker);
    let speech = |marker| (0, marker);
    assert_eq!(
        kinds,
        [
            event(true),
            event(false),
            event(false),
            event(false),
            event(false),
            event(false),
            event(false),
            speech(true),
            event(true),
            event(false),
            event(false),
            event(false),
            event(false),
            event(false),
            event(false),
            speech(true),
            speech(false),
        ]
    );
    // One timestamp per event (the stream time it started), sequence numbers go on.
    let first_ts = voice.header.timestamp.wrapping_add(160);
    assert!(packets[..7].iter().all(|p| p.header.timestamp == first_ts));
    assert!(
        packets[8..15]
            .iter()
            .all(|p| p.header.timestamp == first_ts.wrapping_add(8 * 160))
    );
    for pair in packets.windows(2) {
        assert_eq!(
            pair[1].header.sequence_number,
            pair[0].header.sequence_number.wrapping_add(1)
        );
    }
    // The voice after the events keeps the stream clock.
    assert_eq!(packets[7].header.timestamp, first_ts.wrapping_add(7 * 160));
    let heard: Vec<char> = std::iter::from_fn(|| rx.poll_dtmf()).collect();
    assert_eq!(heard, ['1', '#']);
}

#[test]
fn dtmf_needs_a_telephone_event_type_and_valid_digits() {
    let mut plain = MediaSession::new(negotiated(CodecKind::Pcmu), 1).unwrap();
    assert_eq!(plain.queue_dtmf("1"), Err(MediaError::DtmfNotNegotiated));
    let mut session = MediaSession::new(with_events(CodecKind::Opus, 101), 1).unwrap();
    assert_eq!(
        session.queue_dtmf("12e"),
        Err(MediaError::InvalidDtmfDigit(Some('e')))
    );
    assert!(!session.dtmf_pending(), "nothing queued on an error");
    // A re-INVITE that drops telephone-event drops the digits with it.
    session.queue_dtmf("9").unwrap();
    session.update(negotiated(CodecKind::Opus)).unwrap();
    assert!(!session.dtmf_pending());
    assert_eq!(session.queue_dtmf("1"), Err(MediaError::DtmfNotNegotiated));
}

#[test]
fn frames_skipped_on_hold_keep_the_clock_and_mark_the_next_talk_spurt() {
    let mut tx = MediaSession::new(with_events(CodecKind::Pcmu, 101), 5).unwrap();
    let first = header(&tx.send_frame(&tone(0)).unwrap());
    let second = header(&tx.send_frame(&tone(1)).unwrap());
    assert!(!second.header.marker);
    tx.queue_dtmf("5").unwrap();
    for _ in 0..50 {
        tx.skip_frame();
    }
    assert!(!tx.dtmf_pending(), "digits typed on hold are dropped");
    let resumed = header(&tx.send_frame(&tone(2)).unwrap());
    assert!(resumed.header.marker);
    assert_eq!(resumed.header.payload_type, 0);
    assert_eq!(
        resumed.header.timestamp,
        first.header.timestamp.wrapping_add(52 * 160)
    );
    assert_eq!(
        resumed.header.sequence_number,
        second.header.sequence_number.wrapping_add(1)
    );
}
