//! Media: the far end's SDP and the packets arriving on a call's RTP port.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use sidetone_media::dtmf::EventPayload;
use sidetone_media::offer_answer::{accept_answer, create_answer, remote_direction};
use sidetone_media::session::{FRAME, FRAME_SAMPLES};
use sidetone_media::{CodecKind, Direction, LocalMedia, MediaSession, Negotiated};

/// What Sidetone offers and accepts in these targets: every codec, both ways.
fn local_media() -> LocalMedia {
    LocalMedia {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 40_000,
        codecs: CodecKind::ALL.to_vec(),
        direction: Direction::SendRecv,
    }
}

/// A far end's SDP, read as an offer to answer and as the answer to our offer.
///
/// Holds: what we agree to is a codec we offered, and our answer is valid SDP.
pub fn sdp_offer(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    let local = local_media();
    if let Ok((answer, negotiated)) = create_answer(&local, text, 1) {
        assert!(local.codecs.contains(&negotiated.codec), "{negotiated:?}");
        let reparsed = sdp::SessionDescription::unmarshal(&mut Cursor::new(answer.as_bytes()));
        assert!(reparsed.is_ok(), "our answer is not SDP: {answer:?}");
    }
    if let Ok(negotiated) = accept_answer(&local, text) {
        assert!(local.codecs.contains(&negotiated.codec), "{negotiated:?}");
    }
    let _ = remote_direction(text);
}

/// RTP and telephone-event packets on a call's media port: the input is split into
/// datagrams (two length bytes, then that many bytes) that arrive 20 ms apart while the
/// call plays out. The first byte picks the codec agreed in SDP.
///
/// Holds: every playout is one whole frame, whatever arrived; an RFC 4733 event payload
/// that parses writes back as the same payload.
pub fn rtp_receive(data: &[u8]) {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let codec = CodecKind::ALL[usize::from(pick) % CodecKind::ALL.len()];
    let negotiated = Negotiated {
        codec,
        payload_type: codec.default_payload_type(),
        telephone_event: Some(101),
        remote: SocketAddr::from((Ipv4Addr::LOCALHOST, 40_002)),
        direction: Direction::SendRecv,
    };
    let Ok(mut session) = MediaSession::new(negotiated, 0x5eed) else {
        return;
    };
    let start = Instant::now();
    let mut frames = 0u32;
    // At most 256 datagrams: a bound on one input's run time.
    while let [hi, lo, tail @ ..] = rest
        && frames < 256
    {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (datagram, after) = tail.split_at(len);
        rest = after;
        let now = start + FRAME * frames + Duration::from_millis(u64::from(pick % 20));
        session.receive(datagram, now);
        if let Some(event) = datagram.get(12..).and_then(EventPayload::parse) {
            let written = event.to_bytes();
            assert_eq!(EventPayload::parse(&written), Some(event), "{event:?}");
        }
        let played = session.playout(now);
        assert_eq!(played.len(), FRAME_SAMPLES, "a playout is one frame");
        while session.poll_dtmf().is_some() {}
        frames += 1;
    }
    let _ = session.stats();
}
