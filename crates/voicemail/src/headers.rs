//! A voicemail's metadata from its header fields: the `X-Asterisk-VM-*` fields an
//! Asterisk-style PBX writes, with fallbacks to `From`, `Date` and the IMAP internal date.
//! Parsing is mail-parser's; this module only picks fields.

use std::time::Duration;

use mail_parser::MessageParser;

/// What the header fields say about one voicemail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageMeta {
    /// The caller's number or URI (`unknown` when nothing says).
    pub caller: String,
    /// The caller's display name, when known and different from the number.
    pub caller_name: Option<String>,
    /// When it was left, Unix milliseconds (0 when nothing says).
    pub received_at_ms: i64,
    /// Its length, when the PBX wrote it.
    pub duration: Option<Duration>,
}

/// The caller shown when a message names none.
pub const UNKNOWN_CALLER: &str = "unknown";

/// Reads the metadata from raw header bytes; `internal_date_ms` (the server's arrival time)
/// is the last fallback for the date.
pub fn parse_meta(header: &[u8], internal_date_ms: Option<i64>) -> MessageMeta {
    let parsed = MessageParser::new().parse_headers(header);
    let text = |name: &str| -> Option<String> {
        parsed
            .as_ref()
            .and_then(|m| m.header_raw(name))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let from = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first());
    let caller = text("X-Asterisk-VM-Caller-ID-Num")
        .or_else(|| from.and_then(|a| a.address()).map(str::to_owned))
        .unwrap_or_else(|| UNKNOWN_CALLER.to_owned());
    let caller_name = text("X-Asterisk-VM-Caller-ID-Name")
        .or_else(|| from.and_then(|a| a.name()).map(|n| n.trim().to_owned()))
        .filter(|n| !n.is_empty() && *n != caller);
    let received_at_ms = text("X-Asterisk-VM-Orig-time")
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|&s| s > 0)
        .and_then(|s| s.checked_mul(1000))
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|m| m.date())
                .map(|d| d.to_timestamp().saturating_mul(1000))
        })
        .or(internal_date_ms)
        .unwrap_or(0);
    let duration = text("X-Asterisk-VM-Duration")
        .and_then(|d| d.parse::<u64>().ok())
        .map(Duration::from_secs);
    MessageMeta {
        caller,
        caller_name,
        received_at_ms,
        duration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asterisk_headers_win() {
        let h = b"From: \"Voicemail System\" <voicemail@pbx.example>\r\n\
                  Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\
                  X-Asterisk-VM-Caller-ID-Num: +15551234567\r\n\
                  X-Asterisk-VM-Caller-ID-Name: Dave Front Desk\r\n\
                  X-Asterisk-VM-Duration: 7\r\n\
                  X-Asterisk-VM-Orig-time: 1795424400\r\n\r\n";
        let m = parse_meta(h, Some(1));
        assert_eq!(m.caller, "+15551234567");
        assert_eq!(m.caller_name.as_deref(), Some("Dave Front Desk"));
        assert_eq!(m.duration, Some(Duration::from_secs(7)));
        assert_eq!(m.received_at_ms, 1_795_424_400_000);
    }

    #[test]
    fn falls_back_to_from_and_date_then_internal_date() {
        let h = b"From: \"Alice Example\" <alice@example.org>\r\n\
                  Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\n";
        let m = parse_meta(h, Some(5));
        assert_eq!(m.caller, "alice@example.org");
        assert_eq!(m.caller_name.as_deref(), Some("Alice Example"));
        assert_eq!(m.duration, None);
        assert_eq!(m.received_at_ms, 1_795_424_400_000);

        let m = parse_meta(b"Subject: x\r\n\r\n", Some(5));
        assert_eq!(m.caller, UNKNOWN_CALLER);
        assert_eq!(m.caller_name, None);
        assert_eq!(m.received_at_ms, 5);
        assert_eq!(parse_meta(b"", None).received_at_ms, 0);
    }

    #[test]
    fn name_equal_to_number_is_dropped_and_garbage_is_ignored() {
        let h = b"X-Asterisk-VM-Caller-ID-Num: 1002\r\n\
                  X-Asterisk-VM-Caller-ID-Name: 1002\r\n\
                  X-Asterisk-VM-Duration: soon\r\n\
                  X-Asterisk-VM-Orig-time: -4\r\n\r\n";
        let m = parse_meta(h, Some(9));
        assert_eq!(m.caller, "1002");
        assert_eq!(m.caller_name, None);
        assert_eq!(m.duration, None);
        assert_eq!(m.received_at_ms, 9);
    }
}
