//! The stateless final response to a request the screening refused (RFC 3261 §8.2.6):
//! Via, From, To, Call-ID and CSeq copied, a To tag added, the reason in a Warning.

use super::address::check_address;
use super::message::RawMessage;
use super::scan::param;

/// What [`build_reply`] copies, in the order it writes them.
const ECHOED: [(&str, &str); 5] = [
    ("via", "Via"),
    ("from", "From"),
    ("to", "To"),
    ("call-id", "Call-ID"),
    ("cseq", "CSeq"),
];

/// The methods our endpoint serves, for `Allow` (RFC 3261 §20.5).
pub(crate) const ALLOWED_METHODS: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY";

/// The octets of the final response `status` to `request`. `tag` becomes the To tag when
/// the request had none. Never longer than the request plus a status line and three short
/// headers, so a spoofed source cannot use us to amplify traffic.
pub(crate) fn build_reply(request: &RawMessage, status: u16, detail: &str, tag: u64) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {status} {}\r\n", reason_phrase(status));
    for (canonical, name) in ECHOED {
        let mut values = request.values(canonical);
        // Every Via; one of each of the others (duplicates are what made it malformed).
        let take = if canonical == "via" { usize::MAX } else { 1 };
        for value in values.by_ref().take(take) {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            let tagless = canonical == "to"
                && check_address(value).is_ok_and(|to| param(&to.params, "tag").is_none());
            if tagless {
                out.push_str(&format!(";tag={tag:016x}"));
            }
            out.push_str("\r\n");
        }
    }
    if matches!(status, 405 | 501) {
        out.push_str(&format!("Allow: {ALLOWED_METHODS}\r\n"));
    }
    out.push_str(&format!(
        "Warning: 399 sidetone \"{}\"\r\n",
        detail.replace(['"', '\\'], "")
    ));
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        405 => "Method Not Allowed",
        416 => "Unsupported URI Scheme",
        501 => "Not Implemented",
        505 => "Version Not Supported",
        _ => "Error",
    }
}
