//! SIP: the datagram screen in front of the SIP stack, the addresses people type, and the
//! voicemail summaries servers NOTIFY.

use bytes::BytesMut;
use rsipstack::transport::stream::SipCodec;
use sidetone_sip::{
    DatagramVerdict, MAX_SUMMARY_BYTES, MessageSummary, OutboundProxy, SipUri, screen_datagram,
};
use tokio_util::codec::Decoder;

/// A UDP datagram as the SIP receive path gets it, before the SIP stack sees it.
///
/// Holds: a refusal is one of the statuses the screen is documented to send, with a reason.
pub fn sip_datagram(data: &[u8]) {
    match screen_datagram(data) {
        DatagramVerdict::Accept => {}
        DatagramVerdict::Reject { status, detail } => {
            assert!(
                matches!(status, 400 | 416 | 501 | 505),
                "unexpected status {status}"
            );
            assert!(!detail.is_empty(), "a refusal without a reason");
        }
        DatagramVerdict::Discard { detail } => {
            assert!(!detail.is_empty(), "a discard without a reason");
        }
        _ => {}
    }
}

/// An account address (`sip:user@host:port`) or outbound proxy as typed or provisioned.
///
/// Holds: an accepted address prints as text that parses back to the same address.
pub fn sip_uri(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    if let Ok(uri) = SipUri::parse(text) {
        let printed = uri.to_string();
        let again = SipUri::parse(&printed);
        assert!(
            again.as_ref().is_ok_and(|again| *again == uri),
            "{text:?} parsed as {uri:?}, printed as {printed:?}, which parses as {again:?}"
        );
    }
    let _ = OutboundProxy::parse(text);
}

/// Bytes on a SIP stream connection (TCP, TLS, WebSocket frames) as the stack frames and
/// parses them: these skip the datagram screen, so the stack's own parser is what stands.
/// The input arrives in chunks (a first byte gives the chunk size) as a TCP read would.
///
/// Holds: every message taken out of the buffer consumed at least one byte (no endless
/// loop), and a framing error ends the connection rather than the process.
pub fn sip_stream(data: &[u8]) {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk.max(1));
    let mut codec = SipCodec::new();
    let mut buffer = BytesMut::new();
    for piece in rest.chunks(chunk) {
        buffer.extend_from_slice(piece);
        // At most one message per byte buffered: a bound, and what "progress" means.
        for _ in 0..=buffer.len() {
            let before = buffer.len();
            match codec.decode(&mut buffer) {
                Ok(Some(_)) => assert!(buffer.len() < before, "a message consumed nothing"),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// The body of an MWI NOTIFY (`application/simple-message-summary`, RFC 3842) from the
/// voicemail server.
///
/// Holds: an accepted body is within the size bound, names each message class once, and
/// never has more urgent messages than messages.
pub fn message_summary(data: &[u8]) {
    let Ok(summary) = MessageSummary::parse(data) else {
        return;
    };
    assert!(
        data.len() <= MAX_SUMMARY_BYTES,
        "{} bytes accepted",
        data.len()
    );
    for (i, (class, counts)) in summary.counts.iter().enumerate() {
        assert!(
            !summary.counts[..i].iter().any(|(seen, _)| seen == class),
            "{class:?} twice"
        );
        assert!(
            counts.urgent_new <= counts.new && counts.urgent_old <= counts.old,
            "{counts:?}"
        );
    }
}
