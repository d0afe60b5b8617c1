//! DTMF as RFC 4733 telephone-events, sans-IO: the 4-byte event payload (§2.3), the
//! digits we accept, a sender that turns queued digits into one payload per 20 ms frame, and
//! a receiver that reports each event once (the end packet is sent three times, §2.5.1.4).
//!
//! The RTP header around the payload (payload type, marker, timestamp, sequence number)
//! is the media session's: see [`crate::MediaSession::queue_dtmf`].

mod receiver;
mod sender;
#[cfg(test)]
mod tests;

pub use receiver::DtmfReceiver;
pub use sender::{DtmfFrame, DtmfSender};

use crate::MediaError;

/// The volume we send events at: -10 dBm0 (RFC 4733 §2.3.4 counts 0 to -63 dBm0 down).
pub const EVENT_VOLUME: u8 = 10;

/// One telephone-event payload (RFC 4733 §2.3, Figure 1):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     event     |E|R| volume    |          duration             |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// The event code (0-9, 10 = `*`, 11 = `#`, 12-15 = A-D; RFC 4733 §3.2).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0 (0..=63).
    pub volume: u8,
    /// How long the event has lasted so far, in units of the RTP clock.
    pub duration: u16,
}

impl EventPayload {
    /// The payload's four bytes (the R bit is always sent as zero).
    pub fn to_bytes(self) -> [u8; 4] {
        let [hi, lo] = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            hi,
            lo,
        ]
    }

    /// Reads a payload; `None` when it is shorter than four bytes. Extra bytes (a redundant
    /// RFC 2198 block would need its own payload type) are ignored; the R bit too.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let [event, flags, hi, lo, ..] = *bytes else {
            return None;
        };
        Some(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([hi, lo]),
        })
    }
}

/// The event code of a DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`, case-insensitive).
pub fn event_of_digit(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The digit of a DTMF event code; `None` for the other telephone events (flash, tones).
pub fn digit_of_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// Checks a string of digits and returns their event codes; the first character that is
/// not a DTMF digit is the error ([`MediaError::InvalidDtmfDigit`]). Empty is an error too.
pub fn parse_digits(digits: &str) -> Result<Vec<u8>, MediaError> {
    if digits.is_empty() {
        return Err(MediaError::InvalidDtmfDigit(None));
    }
    digits
        .chars()
        .map(|c| event_of_digit(c).ok_or(MediaError::InvalidDtmfDigit(Some(c))))
        .collect()
}
