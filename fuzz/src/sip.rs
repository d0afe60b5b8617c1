//! SIP: the datagram screen in front of the SIP stack, and the addresses people type.

use sidetone_sip::{DatagramVerdict, OutboundProxy, SipUri, screen_datagram};

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
