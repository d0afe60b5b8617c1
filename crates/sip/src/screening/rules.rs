//! The checks, in the order RFC 3261 §8.2 and §18.3 apply them, and what each failure
//! earns: a stateless 400/505/501/416 for a request, silence for a response or an ACK.

use super::DatagramVerdict;
use super::address::{check_address, check_cseq, check_uri, check_via, sip_uri_has_headers};
use super::message::RawMessage;
use super::scan::{Fault, is_token_char, param};

/// Methods the stack can represent (everything else gets 501 from us: the stack would drop
/// it unanswered). Case-sensitive, as methods are (RFC 3261 §7.1).
pub(crate) const KNOWN_METHODS: [&str; 14] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "PUBLISH",
    "INFO",
    "REFER",
    "MESSAGE",
    "UPDATE",
];

/// Headers that may appear once only (RFC 3261 §20, RFC 4475 §3.3.8 and §3.3.9).
const SINGLE: [&str; 6] = [
    "call-id",
    "cseq",
    "from",
    "to",
    "max-forwards",
    "content-length",
];

/// Headers every request and response carries (RFC 3261 §8.1.1; Max-Forwards is left out
/// so RFC 2543 requests still pass, RFC 4475 §3.4.1).
const REQUIRED: [&str; 5] = ["via", "from", "to", "call-id", "cseq"];

/// The verdict for one split datagram, and for an accepted one the header values to write
/// back without their optional whitespace (header index, value).
pub(crate) fn verdict(message: &RawMessage) -> (DatagramVerdict, Vec<(usize, String)>) {
    let accepted = || {
        let rewrites = header_facts(message)
            .map(|facts| facts.rewrites)
            .unwrap_or_default();
        (DatagramVerdict::Accept, rewrites)
    };
    if message.start_line.starts_with("SIP/") {
        return match response_fault(message) {
            Some(detail) => (DatagramVerdict::Discard { detail }, Vec::new()),
            None => accepted(),
        };
    }
    let Some((status, detail)) = request_fault(message) else {
        return accepted();
    };
    (refusal(message, status, detail), Vec::new())
}

/// Reject, or Discard when no answer is possible.
fn refusal(message: &RawMessage, status: u16, detail: Fault) -> DatagramVerdict {
    let method = message.start_line.split(' ').next().unwrap_or_default();
    if method == "ACK" {
        // An ACK is never answered (RFC 3261 §17.2.3): a bad one is dropped.
        DatagramVerdict::Discard { detail }
    } else if message.values("via").next().is_none() {
        // A response travels along the Via (RFC 3261 §18.2.2); without one there is no
        // way back we could justify.
        DatagramVerdict::Discard { detail }
    } else {
        DatagramVerdict::Reject { status, detail }
    }
}

/// Why a request must be refused, and with which status.
fn request_fault(message: &RawMessage) -> Option<(u16, Fault)> {
    let bad = |detail| Some((400, detail));
    if let Some(detail) = message.framing_fault {
        return bad(detail);
    }
    let parts: Vec<&str> = message.start_line.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return bad("the Request-Line is not Method SP Request-URI SP SIP-Version");
    };
    if method.is_empty() || !method.bytes().all(is_token_char) {
        return bad("the Request-Line is not Method SP Request-URI SP SIP-Version");
    }
    if let Err(detail) = check_uri(uri) {
        return bad(detail);
    }
    let is_sip = ["sip:", "sips:"].iter().any(|scheme| {
        uri.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    });
    if is_sip && sip_uri_has_headers(uri) {
        return bad("the Request-URI carries headers");
    }
    if !is_version(version) {
        return bad("the Request-Line has no SIP-Version");
    }
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Some((505, "only SIP/2.0 is supported"));
    }
    let facts = match header_facts(message) {
        Ok(facts) => facts,
        Err(detail) => return bad(detail),
    };
    if KNOWN_METHODS.contains(method) && facts.cseq_method != *method {
        return bad("the CSeq method does not match the Request-Line");
    }
    if facts
        .top_branch
        .is_some_and(|b| b.eq_ignore_ascii_case("z9hG4bK"))
    {
        // RFC 4475 §3.2.1: the magic cookie alone identifies no transaction; reject
        // statelessly rather than guess.
        return bad("the Via branch is only the magic cookie");
    }
    if !KNOWN_METHODS.contains(method) {
        return Some((501, "unknown method"));
    }
    if !is_sip {
        return Some((416, "only sip: and sips: Request-URIs are served"));
    }
    None
}

/// Why a response must be dropped.
fn response_fault(message: &RawMessage) -> Option<Fault> {
    if let Some(detail) = message.framing_fault {
        return Some(detail);
    }
    let mut parts = message.start_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default();
    if version != "SIP/2.0" {
        return Some("the Status-Line is not SIP/2.0");
    }
    if code.len() != 3 || !matches!(code.parse::<u16>(), Ok(100..=699)) {
        return Some("the status code is not 100 to 699");
    }
    if reason.chars().any(|c| c.is_control() && c != '\t') {
        return Some("the reason phrase holds control characters");
    }
    header_facts(message).err()
}

/// What the header checks learned.
struct HeaderFacts<'a> {
    cseq_method: &'a str,
    /// Header values whose canonical form differs (index, canonical value).
    rewrites: Vec<(usize, String)>,
    /// The top Via's branch (empty when it has none).
    top_branch: Option<String>,
}

/// Checks every header the stack relies on, their counts, the required ones, and the
/// Content-Length against the octets that arrived (RFC 3261 §18.3).
fn header_facts(message: &RawMessage) -> Result<HeaderFacts<'_>, Fault> {
    let mut cseq_method = "";
    let mut top_branch = None;
    let mut content_length = None;
    let mut rewrites = Vec::new();
    let is_request = !message.start_line.starts_with("SIP/");
    for (i, header) in message.headers.iter().enumerate() {
        let value = header.value.as_str();
        let canonical = match header.canonical.as_str() {
            "via" => {
                // Only the first Via header of a request holds the sender's own hop.
                let via = check_via(value, is_request && top_branch.is_none())?;
                if top_branch.is_none() {
                    top_branch = Some(
                        param(&via.params, "branch")
                            .flatten()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                Some(via.canonical)
            }
            "from" | "to" => Some(check_address(value)?.canonical),
            "contact" if value != "*" => {
                let contacts = super::scan::split_commas(value)
                    .into_iter()
                    .map(|contact| check_address(contact).map(|c| c.canonical))
                    .collect::<Result<Vec<_>, _>>()?;
                Some(contacts.join(", "))
            }
            _ => None,
        };
        if let Some(canonical) = canonical.filter(|c| c != value) {
            rewrites.push((i, canonical));
        }
        match header.canonical.as_str() {
            "call-id" if value.is_empty() || value.contains([' ', '\t']) => {
                return Err("the Call-ID is empty or holds spaces");
            }
            "cseq" => cseq_method = check_cseq(value)?,
            "max-forwards" if !is_digits(value) => return Err("Max-Forwards is not a number"),
            "content-length" => match value.parse::<usize>() {
                Ok(length) if is_digits(value) => content_length = Some(length),
                _ => return Err("Content-Length is not a number"),
            },
            _ => {}
        }
    }
    for name in SINGLE {
        if message.values(name).nth(1).is_some() {
            return Err("a single-value header appears more than once");
        }
    }
    if REQUIRED
        .iter()
        .any(|name| message.values(name).next().is_none())
    {
        return Err("a required header (Via, From, To, Call-ID, CSeq) is missing");
    }
    if content_length.is_some_and(|length| length > message.body_len) {
        return Err("Content-Length is larger than the body that arrived");
    }
    Ok(HeaderFacts {
        cseq_method,
        rewrites,
        top_branch,
    })
}

/// `"SIP/" 1*DIGIT "." 1*DIGIT` (the name case-insensitively, RFC 3261 §7.1).
fn is_version(text: &str) -> bool {
    let Some(numbers) = text
        .get(..4)
        .filter(|name| name.eq_ignore_ascii_case("SIP/"))
        .and_then(|_| text.get(4..))
    else {
        return false;
    };
    numbers
        .split_once('.')
        .is_some_and(|(major, minor)| is_digits(major) && is_digits(minor))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
