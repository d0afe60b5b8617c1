//! Received telephone-event payloads to digits, each reported once (RFC 4733 §2.5.2).

use super::{EventPayload, digit_of_event};

/// Reports each DTMF event of a stream once. An event is known by its RTP timestamp (all
/// its packets repeat it, §2.5.1.2): the digit is reported on the first end packet, and
/// the two retransmitted end packets are ignored. When every end packet was lost, the
/// digit is reported when the next event (another timestamp) starts.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    /// The event in progress: its timestamp, code, and whether it was reported.
    current: Option<(u32, u8, bool)>,
}

impl DtmfReceiver {
    /// A receiver for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one telephone-event packet's RTP timestamp and payload; returns the digits
    /// completed by it (at most two: a previous event whose end was lost, and this one).
    pub fn receive(&mut self, timestamp: u32, payload: &[u8]) -> Vec<char> {
        let mut digits = Vec::new();
        let Some(event) = EventPayload::parse(payload) else {
            return digits;
        };
        match self.current {
            Some((ts, _, true)) if ts == timestamp => return digits,
            Some((ts, _, false)) if ts == timestamp => {}
            Some((_, code, reported)) => {
                if !reported {
                    digits.extend(digit_of_event(code));
                }
                self.current = Some((timestamp, event.event, false));
            }
            None => self.current = Some((timestamp, event.event, false)),
        }
        if event.end {
            digits.extend(digit_of_event(event.event));
            self.current = Some((timestamp, event.event, true));
        }
        digits
    }
}
