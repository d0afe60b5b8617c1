use super::*;

#[test]
fn payload_layout_follows_rfc_4733_figure_1() {
    let payload = EventPayload {
        event: 11,
        end: true,
        volume: 10,
        duration: 800,
    };
    // event 11 (#), E=1 R=0 volume 10, duration 0x0320.
    assert_eq!(payload.to_bytes(), [0x0B, 0x8A, 0x03, 0x20]);
    assert_eq!(EventPayload::parse(&payload.to_bytes()), Some(payload));
    // The R bit is ignored, a short payload is not an event.
    let parsed = EventPayload::parse(&[1, 0x40 | 7, 0, 160]).unwrap();
    assert_eq!((parsed.event, parsed.end, parsed.volume), (1, false, 7));
    assert_eq!(EventPayload::parse(&[1, 0, 0]), None);
}

#[test]
fn digits_map_to_event_codes_and_back() {
    let all = "0123456789*#ABCD";
    let codes = parse_digits(all).unwrap();
    assert_eq!(codes, (0..16).collect::<Vec<u8>>());
    let back: String = codes.iter().filter_map(|&c| digit_of_event(c)).collect();
    assert_eq!(back, all);
    assert_eq!(
        parse_digits("1a"),
        Ok(vec![1, 12]),
        "lower case letters too"
    );
    assert_eq!(
        parse_digits("12x3"),
        Err(MediaError::InvalidDtmfDigit(Some('x')))
    );
    assert_eq!(parse_digits(""), Err(MediaError::InvalidDtmfDigit(None)));
    assert_eq!(digit_of_event(16), None, "flash is no digit");
    assert!(
        MediaError::InvalidDtmfDigit(Some('x'))
            .to_string()
            .contains("use 0-9, *, #, A-D")
    );
}

/// Every frame the sender produces for `digits`, until it is idle again.
fn frames(clock_rate: u32, digits: &str) -> Vec<DtmfFrame> {
    let mut sender = DtmfSender::new(clock_rate);
    sender.queue(&parse_digits(digits).unwrap());
    let mut out = Vec::new();
    while sender.is_busy() {
        out.push(sender.next_frame());
        assert!(out.len() < 100, "the sender never finishes");
    }
    out
}

#[test]
fn one_digit_is_a_100_ms_tone_then_three_end_packets() {
    let out = frames(8000, "5");
    let events: Vec<_> = out
        .iter()
        .map(|f| match f {
            DtmfFrame::Event { payload, first } => (*first, payload.end, payload.duration),
            DtmfFrame::Voice => panic!("voice inside an event: {out:?}"),
        })
        .collect();
    // Marker on the first packet only; duration grows by 20 ms (160 units at 8 kHz) per
    // frame up to 100 ms; the end packet goes out three times with the final duration.
    assert_eq!(
        events,
        [
            (true, false, 160),
            (false, false, 320),
            (false, false, 480),
            (false, false, 640),
            (false, true, 800),
            (false, true, 800),
            (false, true, 800),
        ]
    );
    assert!(out.iter().all(|f| matches!(
        f,
        DtmfFrame::Event { payload, .. } if payload.event == 5 && payload.volume == EVENT_VOLUME
    )));
}

#[test]
fn digits_are_separated_by_a_voice_gap_and_use_the_clock_rate() {
    let out = frames(48_000, "1#");
    let kinds: Vec<&str> = out
        .iter()
        .map(|f| match f {
            DtmfFrame::Voice => "voice",
            DtmfFrame::Event { first: true, .. } => "start",
            DtmfFrame::Event { payload, .. } if payload.end => "end",
            DtmfFrame::Event { .. } => "tone",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "start", "tone", "tone", "tone", "end", "end", "end", "voice", //
            "start", "tone", "tone", "tone", "end", "end", "end"
        ]
    );
    let DtmfFrame::Event { payload, .. } = out[14] else {
        panic!("{out:?}")
    };
    // 100 ms at 48 kHz.
    assert_eq!((payload.event, payload.duration), (11, 4800));
}

#[test]
fn clearing_the_queue_still_ends_the_current_event() {
    let mut sender = DtmfSender::new(8000);
    sender.queue(&parse_digits("12").unwrap());
    assert!(matches!(
        sender.next_frame(),
        DtmfFrame::Event { first: true, .. }
    ));
    sender.clear_queue();
    let mut ends = 0;
    while sender.is_busy() {
        if let DtmfFrame::Event { payload, .. } = sender.next_frame() {
            assert_eq!(payload.event, 1);
            ends += usize::from(payload.end);
        }
    }
    assert_eq!(ends, 3);
    assert_eq!(sender.next_frame(), DtmfFrame::Voice);
}

fn packet(event: u8, end: bool, duration: u16) -> [u8; 4] {
    EventPayload {
        event,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

#[test]
fn receiver_reports_each_event_once_despite_repeated_end_packets() {
    let mut rx = DtmfReceiver::new();
    let mut heard = Vec::new();
    for (ts, event, end, duration) in [
        (1000, 1, false, 160),
        (1000, 1, false, 320),
        (1000, 1, true, 800),
        (1000, 1, true, 800),
        (1000, 1, true, 800),
        (2280, 11, false, 160),
        (2280, 11, true, 800),
        (2280, 11, true, 800),
    ] {
        heard.extend(rx.receive(ts, &packet(event, end, duration)));
    }
    assert_eq!(heard, ['1', '#']);
}

#[test]
fn receiver_reports_an_event_whose_end_packets_were_all_lost() {
    let mut rx = DtmfReceiver::new();
    assert!(rx.receive(10, &packet(7, false, 160)).is_empty());
    assert!(rx.receive(10, &packet(7, false, 320)).is_empty());
    // The next event starts: the 7 is over, even though its end never arrived.
    assert_eq!(rx.receive(900, &packet(9, false, 160)), ['7']);
    assert_eq!(rx.receive(900, &packet(9, true, 800)), ['9']);
    // Garbage is ignored.
    assert!(rx.receive(1800, &[1, 2]).is_empty());
}
