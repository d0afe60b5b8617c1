//! The gate every received datagram passes before the SIP stack sees it.
//!
//! Why rsipstack alone is not enough (0.7.14, checked against RFC 4475's torture messages):
//! its UDP receive loop silently drops whatever its parser refuses, so a malformed request
//! never gets the 400 Bad Request (or 505, 501, 416) RFC 3261 asks for; and its parser is
//! lenient where the RFC says "reject": a negative or too large Content-Length becomes 0 or
//! is truncated, duplicate single-value headers are kept, a CSeq method that contradicts the
//! Request-Line passes, `SIP/7.0` passes, spaces inside `<…>` pass, unknown methods cannot be
//! represented at all. Fixing that would mean forking the stack, so we check the wire bytes
//! ourselves first (RFC 3261 §7, §8.2, §18.3, §20, §25) and answer statelessly what must be
//! refused, handing everything else to the stack unchanged.
//!
//! [`screen_datagram`] is pure (no IO, no clock): the receive path and a fuzz target call the
//! same function.

mod address;
mod message;
mod reply;
mod rules;
mod scan;
#[cfg(test)]
mod tests;

pub(crate) use reply::{ALLOWED_METHODS, build_reply};

/// What Sidetone's SIP layer does with one received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatagramVerdict {
    /// Well-formed enough for the SIP stack, which takes it from here (transactions,
    /// dialogs, our request router). Keep-alives and empty datagrams are accepted too: the
    /// stack answers or ignores those itself.
    Accept,
    /// A request refused right here, statelessly, with this final response.
    Reject {
        /// The status code sent back (400, 416, 501, 505).
        status: u16,
        /// Why, in a few words; also sent in a `Warning` header.
        detail: &'static str,
    },
    /// Dropped without an answer: a malformed response (responses are never answered), a
    /// malformed ACK (neither is an ACK), or a request without any Via to answer along.
    Discard {
        /// Why, in a few words, for the logs.
        detail: &'static str,
    },
}

/// Classifies one received datagram, as the receive path does before the SIP stack sees it.
/// Never panics, whatever the bytes; this is the entry point for fuzzing.
pub fn screen_datagram(datagram: &[u8]) -> DatagramVerdict {
    inspect(datagram).verdict
}

/// The verdict plus what the receive path needs to act on it.
pub(crate) struct Inspection {
    pub verdict: DatagramVerdict,
    /// For an accepted message: the bytes to hand to the stack instead, when leading empty
    /// lines were skipped (RFC 3261 §7.5) or optional whitespace the stack mishandles was
    /// taken out. Never longer than the datagram.
    pub normalized: Option<Vec<u8>>,
    /// The message as far as it could be split, to copy headers into a rejection.
    pub message: Option<message::RawMessage>,
}

/// Classifies `datagram` and keeps what a rejection must echo (Via, From, To, Call-ID,
/// CSeq).
pub(crate) fn inspect(datagram: &[u8]) -> Inspection {
    // Keep-alives (CRLF, CRLFCRLF) and empty datagrams: the stack handles them.
    if datagram.iter().all(u8::is_ascii_whitespace) {
        return Inspection {
            verdict: DatagramVerdict::Accept,
            normalized: None,
            message: None,
        };
    }
    let skip = leading_empty_lines(datagram);
    let bytes = datagram.get(skip..).unwrap_or_default();
    let message = message::RawMessage::split(bytes);
    let (verdict, rewrites) = rules::verdict(&message);
    let normalized = if !rewrites.is_empty() {
        Some(message.rewritten(bytes, &rewrites)).filter(|new| new.len() <= datagram.len())
    } else if skip > 0 {
        Some(bytes.to_vec())
    } else {
        None
    };
    Inspection {
        verdict,
        normalized,
        message: Some(message),
    }
}

/// Octets of CRLF (or lone LF) lines in front of the start line.
fn leading_empty_lines(datagram: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match datagram.get(at..) {
            Some([b'\r', b'\n', ..]) => at += 2,
            Some([b'\n', ..]) => at += 1,
            _ => return at,
        }
    }
}
