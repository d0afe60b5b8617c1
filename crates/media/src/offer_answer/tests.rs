use super::*;

fn local(codecs: &[CodecKind]) -> LocalMedia {
    LocalMedia {
        address: "127.0.0.1".parse().unwrap(),
        port: 40000,
        codecs: codecs.to_vec(),
        direction: Direction::SendRecv,
    }
}

/// An offer as baresip 1.0 writes it.
const BARESIP_OFFER: &str = "v=0\r\n\
o=- 1234 5678 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 10004 RTP/AVP 96 0 8 101\r\n\
b=AS:32\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=sendrecv\r\n\
a=ptime:20\r\n";

#[test]
fn offer_lists_opus_g711_and_both_telephone_events() {
    let offer = create_offer(&local(&CodecKind::ALL), 42);
    assert!(
        offer.contains("m=audio 40000 RTP/AVP 111 0 8 101 100"),
        "{offer}"
    );
    assert!(offer.contains("a=rtpmap:111 opus/48000/2"), "{offer}");
    assert!(offer.contains("a=fmtp:111 useinbandfec=1"), "{offer}");
    assert!(offer.contains("a=rtpmap:0 PCMU/8000"), "{offer}");
    assert!(offer.contains("a=rtpmap:8 PCMA/8000"), "{offer}");
    assert!(
        offer.contains("a=rtpmap:101 telephone-event/48000"),
        "{offer}"
    );
    assert!(
        offer.contains("a=rtpmap:100 telephone-event/8000"),
        "{offer}"
    );
    assert!(offer.contains("c=IN IP4 127.0.0.1"), "{offer}");
    assert!(offer.contains("a=sendrecv"), "{offer}");
    // Our own offer parses back as an audio stream we can answer.
    let (_, agreed) = create_answer(&local(&CodecKind::ALL), &offer, 1).unwrap();
    assert_eq!(agreed.codec, CodecKind::Opus);
    assert_eq!(agreed.payload_type, 111);
    assert_eq!(agreed.telephone_event, Some(101));
    assert_eq!(agreed.remote, "127.0.0.1:40000".parse().unwrap());
}

#[test]
fn answer_keeps_the_offerers_first_common_codec_and_payload_type() {
    let (answer, agreed) = create_answer(&local(&CodecKind::ALL), BARESIP_OFFER, 7).unwrap();
    assert_eq!(agreed.codec, CodecKind::Opus);
    assert_eq!(agreed.payload_type, 96);
    // Only telephone-event/8000 was offered: no match for a 48 kHz codec.
    assert_eq!(agreed.telephone_event, None);
    assert_eq!(agreed.remote, "127.0.0.1:10004".parse().unwrap());
    assert_eq!(agreed.direction, Direction::SendRecv);
    assert!(answer.contains("m=audio 40000 RTP/AVP 96\r\n"), "{answer}");
    assert!(answer.contains("a=rtpmap:96 opus/48000/2"), "{answer}");

    // Without Opus on our side, PCMU (static, no rtpmap needed) and its event type win.
    let (answer, agreed) = create_answer(
        &local(&[CodecKind::Pcma, CodecKind::Pcmu]),
        BARESIP_OFFER,
        7,
    )
    .unwrap();
    assert_eq!((agreed.codec, agreed.payload_type), (CodecKind::Pcmu, 0));
    assert_eq!(agreed.telephone_event, Some(101));
    assert!(answer.contains("m=audio 40000 RTP/AVP 0 101"), "{answer}");
}

#[test]
fn no_common_codec_or_refused_stream_is_an_error() {
    let offer = BARESIP_OFFER.replace("RTP/AVP 96 0 8 101", "RTP/AVP 96 101");
    assert_eq!(
        create_answer(&local(&[CodecKind::Pcmu]), &offer, 1).unwrap_err(),
        MediaError::NoCommonCodec
    );
    let refused = BARESIP_OFFER.replace("m=audio 10004", "m=audio 0");
    assert_eq!(
        accept_answer(&local(&CodecKind::ALL), &refused).unwrap_err(),
        MediaError::NoCommonCodec
    );
    assert!(matches!(
        accept_answer(&local(&CodecKind::ALL), "this is not sdp"),
        Err(MediaError::BadRemoteSdp(_))
    ));
}

#[test]
fn directions_are_mirrored() {
    for (theirs, ours) in [
        ("sendrecv", Direction::SendRecv),
        ("sendonly", Direction::RecvOnly),
        ("recvonly", Direction::SendOnly),
        ("inactive", Direction::Inactive),
    ] {
        let offer = BARESIP_OFFER.replace("a=sendrecv", &format!("a={theirs}"));
        let (answer, agreed) = create_answer(&local(&CodecKind::ALL), &offer, 1).unwrap();
        assert_eq!(agreed.direction, ours, "offer {theirs}");
        assert!(answer.contains(&format!("a={}", ours.as_str())), "{answer}");
        assert_eq!(
            accept_answer(&local(&CodecKind::ALL), &offer)
                .unwrap()
                .direction,
            ours
        );
    }
    // No attribute at all means sendrecv; a session-level one applies to every stream.
    let bare = BARESIP_OFFER.replace("a=sendrecv\r\n", "");
    assert_eq!(
        accept_answer(&local(&CodecKind::ALL), &bare)
            .unwrap()
            .direction,
        Direction::SendRecv
    );
    let session_level = bare.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
    assert_eq!(
        accept_answer(&local(&CodecKind::ALL), &session_level)
            .unwrap()
            .direction,
        Direction::RecvOnly
    );
}

#[test]
fn media_level_connection_overrides_session_level() {
    let offer = BARESIP_OFFER.replace("b=AS:32\r\n", "c=IN IP4 192.0.2.7\r\nb=AS:32\r\n");
    let agreed = accept_answer(&local(&CodecKind::ALL), &offer).unwrap();
    assert_eq!(agreed.remote, "192.0.2.7:10004".parse().unwrap());
}
