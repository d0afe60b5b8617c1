//! The screening's rules one by one; RFC 4475's own messages are in tests/rfc4475.rs.

use super::{DatagramVerdict, build_reply, inspect, screen_datagram};

/// A well-formed OPTIONS with `extra` headers added.
fn options(extra: &str) -> String {
    format!(
        "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
         From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n{extra}\
         Content-Length: 0\r\n\r\n"
    )
}

/// What the screen hands the stack for `text` (empty when it passes it unchanged).
fn normalized(text: &str) -> String {
    String::from_utf8_lossy(&inspect(text.as_bytes()).normalized.unwrap_or_default()).into_owned()
}

fn status(text: &str) -> Option<u16> {
    match screen_datagram(text.as_bytes()) {
        DatagramVerdict::Reject { status, .. } => Some(status),
        _ => None,
    }
}

#[test]
fn a_plain_request_and_keepalives_pass() {
    assert_eq!(
        screen_datagram(options("").as_bytes()),
        DatagramVerdict::Accept
    );
    assert_eq!(screen_datagram(b"\r\n\r\n"), DatagramVerdict::Accept);
    assert_eq!(screen_datagram(b""), DatagramVerdict::Accept);
}

#[test]
fn unquoted_display_names_must_be_tokens() {
    assert_eq!(
        status(&options("Contact: Alexander Bell <sip:b@h>\r\n")),
        None,
        "spaces between tokens are fine"
    );
    let bad = options("").replace("From: <sip:b@h>", "From: Bell, Alexander <sip:b@h>");
    assert_eq!(status(&bad), Some(400));
}

#[test]
fn methods_are_case_sensitive_and_unknown_ones_get_501() {
    let lower = options("")
        .replace("OPTIONS sip", "options sip")
        .replace("1 OPTIONS", "1 options");
    assert_eq!(status(&lower), Some(501));
}

#[test]
fn a_bad_ack_or_a_request_without_via_is_dropped_not_answered() {
    let ack = options("")
        .replace("OPTIONS sip", "ACK sip")
        .replace("1 OPTIONS", "1 INVITE");
    assert!(matches!(
        screen_datagram(ack.as_bytes()),
        DatagramVerdict::Discard { .. }
    ));
    let no_via = options("").replace("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n", "");
    assert!(matches!(
        screen_datagram(no_via.as_bytes()),
        DatagramVerdict::Discard { .. }
    ));
}

#[test]
fn optional_whitespace_is_taken_out_for_the_stack() {
    let spaced = options("").replace("<sip:b@h>;tag=1", "<sip:b@h> ; tag = 1");
    assert_eq!(screen_datagram(spaced.as_bytes()), DatagramVerdict::Accept);
    let text = normalized(&spaced);
    assert!(text.contains("From:<sip:b@h>;tag=1\r\n"), "{text:?}");
    let padded = format!("\r\n\r\n{}", options(""));
    assert_eq!(
        inspect(padded.as_bytes()).normalized,
        Some(options("").into_bytes())
    );
    assert_eq!(inspect(options("").as_bytes()).normalized, None);
}

#[test]
fn a_sender_cannot_say_where_its_request_came_from() {
    // A scanner's claim `received=<registrar>` in its own (top) Via is taken out, in either
    // of the two Via header forms; a proxy's `received` further down stays, and responses
    // are left alone (their top Via is ours).
    let spoofed = options("").replace(
        "branch=z9hG4bK1",
        "branch=z9hG4bK1;Received=192.0.2.1, SIP/2.0/UDP 192.0.2.1;received=192.0.2.7",
    );
    let text = normalized(&spoofed);
    assert!(
        text.contains(
            "Via:SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1, \
             SIP/2.0/UDP 192.0.2.1;received=192.0.2.7\r\n"
        ),
        "{text:?}"
    );
    let compact = options("").replace(
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1",
        "v: SIP/2.0/UDP 127.0.0.1:5070;received=192.0.2.1;branch=z9hG4bK1",
    );
    let text = normalized(&compact);
    assert!(
        text.contains("v:SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"),
        "{text:?}"
    );
    let response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;\
                    received=192.0.2.1\r\nFrom: <sip:b@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\n\
                    Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(normalized(response), "");
}

#[test]
fn a_rejection_echoes_the_request_and_tags_the_to() {
    let bad = options("").replace("1 OPTIONS", "1 INVITE");
    let inspection = inspect(bad.as_bytes());
    let DatagramVerdict::Reject { status, detail } = inspection.verdict else {
        panic!("not rejected: {:?}", inspection.verdict);
    };
    let Some(message) = inspection.message else {
        panic!("no message kept");
    };
    let reply = String::from_utf8(build_reply(&message, status, detail, 0xabc)).unwrap_or_default();
    assert!(reply.starts_with("SIP/2.0 400 Bad Request\r\n"), "{reply}");
    assert!(reply.contains("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"));
    assert!(reply.contains("To: <sip:a@h>;tag=0000000000000abc\r\n"));
    assert!(reply.contains("CSeq: 1 INVITE\r\nWarning: 399 sidetone \""));
    assert!(reply.ends_with("Content-Length: 0\r\n\r\n"));
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap stand-in for the fuzzer: every prefix and some mangled forms of a message.
    let base = options("Contact: \"x\\\"y\" <sip:c@h;lr>;q=0.5, <sip:d@h>\r\n");
    for end in 0..base.len() {
        let prefix = base.get(..end).unwrap_or_default();
        let _ = screen_datagram(prefix.as_bytes());
        let mut mangled = prefix.as_bytes().to_vec();
        mangled.extend_from_slice(&[0xff, b'"', b'<', b'\\', b';', b'=', b',']);
        let _ = screen_datagram(&mangled);
    }
}
