//! The parser against RFC 3842's examples, what real servers send, and broken bodies.

use super::*;

fn parse(text: &str) -> Result<MessageSummary, SipError> {
    MessageSummary::parse(text.as_bytes())
}

fn counts(new: u32, old: u32, urgent_new: u32, urgent_old: u32) -> MessageCounts {
    MessageCounts {
        new,
        old,
        urgent_new,
        urgent_old,
    }
}

#[test]
fn rfc_3842_section_5_2_example() {
    let summary = parse(
        "Messages-Waiting: yes\r\n\
         Message-Account: sip:alice@vmail.example.com\r\n\
         Voice-Message: 2/8 (0/2)\r\n",
    )
    .unwrap();
    assert!(summary.messages_waiting);
    assert_eq!(
        summary.account.as_deref(),
        Some("sip:alice@vmail.example.com")
    );
    assert_eq!(summary.voice(), counts(2, 8, 0, 2));
}

#[test]
fn rfc_3842_example_with_message_headers_after_the_empty_line() {
    // RFC 3842 §5.2/§6: optional message headers follow an empty line; their colons and
    // slashes are no counts.
    let summary = parse(
        "Messages-Waiting: yes\r\n\
         Message-Account: sip:alice@vmail.example.com\r\n\
         Voice-Message: 4/8 (1/2)\r\n\
         \r\n\
         To: <alice@atlanta.example.com>\r\n\
         From: <bob@biloxi.example.com>\r\n\
         Subject: carpool tomorrow?\r\n\
         Date: Sun, 09 May 2004 16:38:14 -0400\r\n\
         Priority: normal\r\n\
         Message-ID: 13a.77ba99b34c@vmail.example.com\r\n",
    )
    .unwrap();
    assert_eq!(summary.voice(), counts(4, 8, 1, 2));
    assert_eq!(summary.counts.len(), 1);
}

#[test]
fn every_context_class_is_read_and_voice_is_picked_out() {
    let summary = parse(
        "Messages-Waiting: yes\r\nFax-Message: 1/0\r\nVoice-Message: 3/4\r\n\
         Pager-Message: 0/0\r\nMultimedia-Message: 0/1\r\nText-Message: 5/6 (1/1)\r\n\
         None: 0/0\r\n",
    )
    .unwrap();
    let classes: Vec<MessageClass> = summary.counts.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        classes,
        [
            MessageClass::Fax,
            MessageClass::Voice,
            MessageClass::Pager,
            MessageClass::Multimedia,
            MessageClass::Text,
            MessageClass::Unclassified
        ]
    );
    assert_eq!(summary.voice(), counts(3, 4, 0, 0));
}

#[test]
fn what_servers_send_in_practice_is_accepted() {
    // Asterisk: LF or CRLF, no account line; lower-case and odd whitespace from others.
    let asterisk =
        parse("Messages-Waiting: no\nMessage-Account: sip:*97@pbx\nVoice-Message: 0/10 (0/0)\n")
            .unwrap();
    assert!(!asterisk.messages_waiting);
    assert_eq!(asterisk.voice(), counts(0, 10, 0, 0));
    let loose = parse("messages-waiting :YES\r\n  voice-message:\t2 / 8 ( 0 / 2 ) \r\n").unwrap();
    assert!(loose.messages_waiting);
    assert_eq!(loose.voice(), counts(2, 8, 0, 2));
    // Only the status line: no counts means zero voice messages.
    let bare = parse("Messages-Waiting: no").unwrap();
    assert_eq!(bare.voice(), MessageCounts::default());
    assert_eq!(bare.account, None);
    // Lines of classes we do not know are skipped.
    let extension =
        parse("Messages-Waiting: yes\r\nX-Video-Message: 9/9\r\nVoice-Message: 1/0\r\n").unwrap();
    assert_eq!(extension.voice(), counts(1, 0, 0, 0));
}

#[test]
fn broken_bodies_are_the_peers_fault_and_never_a_guess() {
    for body in [
        "",
        "\r\n",
        "Voice-Message: 2/8\r\n",      // no status line
        "Messages-Waiting: maybe\r\n", // neither yes nor no
        "Messages-Waiting: yes\r\nMessages-Waiting: no\r\n", // contradicts itself
        "Messages-Waiting: yes\r\nVoice-Message: 2\r\n", // not new/old
        "Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n", // negative
        "Messages-Waiting: yes\r\nVoice-Message: +1/0\r\n", // sign
        "Messages-Waiting: yes\r\nVoice-Message: 1/x\r\n",
        "Messages-Waiting: yes\r\nVoice-Message: 99999999999/0\r\n", // over u32
        "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2\r\n",      // unclosed
        "Messages-Waiting: yes\r\nVoice-Message: 2/8 (3/0)\r\n",     // more urgent than new
        "Messages-Waiting: yes\r\nVoice-Message: 1/1\r\nVoice-Message: 2/2\r\n",
        "Messages-Waiting: yes\r\nno colon here\r\n",
        "Messages-Waiting: yes\r\nMessage-Account: a\r\nMessage-Account: b\r\n",
    ] {
        let error = parse(body).expect_err(body);
        assert_eq!(error.code(), "sip.malformed_by_peer", "{body:?}");
    }
}

#[test]
fn size_and_encoding_are_bounded() {
    let mut big = String::from("Messages-Waiting: yes\r\n\r\n");
    big.push_str(&"x".repeat(MAX_SUMMARY_BYTES));
    assert!(MessageSummary::parse(big.as_bytes()).is_err());
    assert!(MessageSummary::parse(b"Messages-Waiting: yes\r\nVoice-Message: 1/\xff\r\n").is_err());
    // Exactly at the limit is still read.
    let mut edge = String::from("Messages-Waiting: yes\r\n\r\n");
    edge.push_str(&"x".repeat(MAX_SUMMARY_BYTES - edge.len()));
    assert!(MessageSummary::parse(edge.as_bytes()).is_ok());
}

#[test]
fn errors_quote_little_and_escape_control_characters() {
    let error = parse(&format!(
        "Messages-Waiting: \u{1b}[31m{}\r\n",
        "y".repeat(500)
    ))
    .unwrap_err();
    let text = error.to_string();
    assert!(text.len() < 200, "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}
