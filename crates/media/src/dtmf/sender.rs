//! Queued digits to one telephone-event payload per 20 ms frame (RFC 4733 §2.5.1).

use std::collections::VecDeque;

use super::{EVENT_VOLUME, EventPayload};

/// Frames a digit's tone lasts: 5 × 20 ms = 100 ms, long enough for every DTMF detector
/// (ITU-T Q.24 asks for 40 ms) and short enough for quick menus.
const TONE_FRAMES: u16 = 5;
/// The end packet is sent this many times in all (RFC 4733 §2.5.1.4), one per frame.
const END_PACKETS: u16 = 3;
/// Voice frames between the last end packet and the next digit: with the two repeated end
/// packets this leaves 60 ms of stream time between tones (Q.24 asks for 40 ms).
const GAP_FRAMES: u16 = 1;

/// What the session sends in the next 20 ms frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfFrame {
    /// No event: send voice as usual.
    Voice,
    /// Send this event payload instead of voice. `first` marks an event's first packet: it
    /// carries the RTP marker bit, and its timestamp is the one every packet of the event
    /// repeats (RFC 4733 §2.3.1, §2.5.1.2).
    Event {
        /// The payload.
        payload: EventPayload,
        /// True for the first packet of the event.
        first: bool,
    },
}

/// Turns queued DTMF digits into per-frame payloads (see the module docs).
#[derive(Debug, Clone)]
pub struct DtmfSender {
    /// RTP clock units per 20 ms frame of the telephone-event clock.
    frame_units: u16,
    queue: VecDeque<u8>,
    /// The event being sent and how many frames of it went out.
    current: Option<(u8, u16)>,
    /// Voice frames still owed before the next digit may start.
    gap: u16,
}

impl DtmfSender {
    /// A sender for a telephone-event clock of `clock_rate` Hz (8000 or 48000).
    pub fn new(clock_rate: u32) -> Self {
        Self {
            frame_units: u16::try_from(clock_rate / 50).unwrap_or(u16::MAX),
            queue: VecDeque::new(),
            current: None,
            gap: 0,
        }
    }

    /// Queues event codes (from [`super::parse_digits`]) after any still being sent.
    pub fn queue(&mut self, events: &[u8]) {
        self.queue.extend(events.iter().copied());
    }

    /// True while an event is being sent or digits wait.
    pub fn is_busy(&self) -> bool {
        self.current.is_some() || !self.queue.is_empty()
    }

    /// Forgets every queued digit (the call went on hold); an event already started still
    /// ends properly, so the far end does not hear a stuck tone.
    pub fn clear_queue(&mut self) {
        self.queue.clear();
    }

    /// What to send in the next frame.
    pub fn next_frame(&mut self) -> DtmfFrame {
        if self.current.is_none() {
            if self.gap > 0 {
                self.gap -= 1;
                return DtmfFrame::Voice;
            }
            let Some(event) = self.queue.pop_front() else {
                return DtmfFrame::Voice;
            };
            self.current = Some((event, 0));
        }
        let Some((event, sent)) = self.current.as_mut() else {
            return DtmfFrame::Voice;
        };
        let first = *sent == 0;
        *sent += 1;
        let frames = (*sent).min(TONE_FRAMES);
        let payload = EventPayload {
            event: *event,
            end: *sent >= TONE_FRAMES,
            volume: EVENT_VOLUME,
            duration: frames.saturating_mul(self.frame_units),
        };
        if *sent >= TONE_FRAMES + END_PACKETS - 1 {
            self.current = None;
            self.gap = GAP_FRAMES;
        }
        DtmfFrame::Event { payload, first }
    }
}
