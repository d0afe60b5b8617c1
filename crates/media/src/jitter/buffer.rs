//! The jitter buffer's state machine.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::delay::DelayEstimator;
use super::stats::JitterStats;
use crate::rtp_seq::SequenceExtender;

/// How a jitter buffer behaves; the defaults suit 20 ms voice frames.
#[derive(Debug, Clone)]
pub struct JitterConfig {
    /// The duration of one frame, which is also the period of [`JitterBuffer::pop`].
    pub frame: Duration,
    /// RTP clock rate of the stream (48,000 for Opus, 8,000 for G.711).
    pub clock_rate: u32,
    /// The least delay the buffer aims for.
    pub min_delay: Duration,
    /// The most delay the buffer will ever aim for, however bad the network.
    pub max_delay: Duration,
    /// The most packets held; beyond it the oldest are dropped.
    pub capacity: usize,
    /// Frames concealed in a row while the buffer is dry before it gives up and plays silence
    /// (the far end paused or the path broke); it then buffers afresh.
    pub max_stretch: u32,
    /// Packets of history the delay estimate uses.
    pub window: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            frame: Duration::from_millis(20),
            clock_rate: 48_000,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(400),
            capacity: 100,
            max_stretch: 5,
            window: 500,
        }
    }
}

/// One RTP packet's fields the buffer needs, and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<P> {
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp, in units of the clock rate.
    pub timestamp: u32,
    /// RTP marker bit: the first packet of a talk spurt.
    pub marker: bool,
    /// The encoded frame.
    pub payload: P,
}

/// What to do for one frame period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout<P> {
    /// Decode and play this payload.
    Frame(P),
    /// Conceal one frame. When the following packet is already here, it is given so an Opus
    /// decoder can rebuild the missing frame from its in-band FEC data.
    Conceal {
        /// The next packet's payload, for FEC.
        fec_source: Option<P>,
    },
    /// Play silence: nothing has arrived yet, or the far end has paused.
    Silence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting until enough delay has built up; `cursor` is set when playout starts.
    Buffering,
    /// Playing one slot per pop; `stretch` counts dry pops in a row.
    Playing { stretch: u32 },
}

/// An adaptive jitter buffer for one stream of fixed-duration frames (see the module docs).
#[derive(Debug)]
pub struct JitterBuffer<P> {
    config: JitterConfig,
    seq: SequenceExtender,
    packets: BTreeMap<u64, (Packet<P>, Instant)>,
    /// The next slot (extended sequence number) to play.
    cursor: Option<u64>,
    phase: Phase,
    estimator: DelayEstimator,
    /// Relative media time: extended RTP timestamp of the last packet, and its raw value.
    last_timestamp: Option<(i64, u32)>,
    /// Pops since the last skip, so skips are spread out and inaudible.
    since_skip: u32,
    /// The arrival time of the first packet: relative transit times are measured from it.
    base_instant: Option<Instant>,
    stats: JitterStats,
}

/// Skip at most one frame in this many pops (every 200 ms at 20 ms frames).
const MIN_POPS_BETWEEN_SKIPS: u32 = 10;

impl<P: Clone> JitterBuffer<P> {
    /// An empty buffer.
    pub fn new(config: JitterConfig) -> Self {
        let estimator = DelayEstimator::new(config.window.max(1));
        let stats = JitterStats {
            target_delay: config.min_delay,
            ..JitterStats::default()
        };
        Self {
            config,
            seq: SequenceExtender::new(),
            packets: BTreeMap::new(),
            cursor: None,
            phase: Phase::Buffering,
            estimator,
            last_timestamp: None,
            since_skip: 0,
            base_instant: None,
            stats,
        }
    }

    /// Takes a packet that arrived at `now`.
    pub fn push(&mut self, packet: Packet<P>, now: Instant) {
        let slot = self.seq.extend(packet.seq);
        self.record_transit(packet.timestamp, now);
        if self.cursor.is_some_and(|cursor| slot < cursor) {
            self.stats.late += 1;
            return;
        }
        if self.packets.contains_key(&slot) {
            self.stats.duplicates += 1;
            return;
        }
        self.stats.received += 1;
        self.packets.insert(slot, (packet, now));
        while self.packets.len() > self.config.capacity {
            if let Some((dropped, _)) = self.packets.pop_first() {
                self.stats.overflow += 1;
                if let Some(cursor) = self.cursor.as_mut() {
                    *cursor = (*cursor).max(dropped + 1);
                }
            }
        }
    }

    /// What to play for the frame period starting at `now`. Call once per frame period.
    pub fn pop(&mut self, now: Instant) -> Playout<P> {
        match self.phase {
            Phase::Buffering => self.pop_buffering(now),
            Phase::Playing { stretch } => self.pop_playing(stretch),
        }
    }

    /// Counters and the current target.
    pub fn stats(&self) -> &JitterStats {
        &self.stats
    }

    /// The delay the buffer now holds: buffered frames ahead of the play cursor.
    pub fn buffered(&self) -> Duration {
        let frames = match (self.cursor, self.packets.last_key_value()) {
            (Some(cursor), Some((&last, _))) if last >= cursor => last - cursor + 1,
            (None, Some(_)) => self.packets.len() as u64,
            _ => 0,
        };
        self.config.frame * u32::try_from(frames).unwrap_or(u32::MAX)
    }

    fn pop_buffering(&mut self, now: Instant) -> Playout<P> {
        let Some((&first, (_, arrived))) = self.packets.first_key_value() else {
            return Playout::Silence;
        };
        // Start once the first packet has waited out the target, or the buffer holds more than
        // the target (a burst arrived at once). The packet being played does not count as
        // margin: the next one must be able to arrive before its slot.
        let waited = now.saturating_duration_since(*arrived);
        if waited < self.stats.target_delay && self.buffered() <= self.stats.target_delay {
            return Playout::Silence;
        }
        self.cursor = Some(first);
        self.phase = Phase::Playing { stretch: 0 };
        self.pop_playing(0)
    }

    fn pop_playing(&mut self, stretch: u32) -> Playout<P> {
        let Some(cursor) = self.cursor else {
            self.phase = Phase::Buffering;
            return Playout::Silence;
        };
        self.since_skip = self.since_skip.saturating_add(1);
        if let Some((packet, _)) = self.packets.remove(&cursor) {
            self.phase = Phase::Playing { stretch: 0 };
            self.cursor = Some(cursor + 1);
            self.stats.played += 1;
            let payload = packet.payload;
            self.maybe_skip();
            return Playout::Frame(payload);
        }
        if self
            .packets
            .keys()
            .next()
            .is_some_and(|&next| next > cursor)
        {
            // A later packet is here, so this one is lost or hopelessly late: conceal the slot
            // and move on, offering the next packet for FEC.
            self.stats.lost += 1;
            self.cursor = Some(cursor + 1);
            self.phase = Phase::Playing { stretch: 0 };
            let fec_source = self
                .packets
                .get(&(cursor + 1))
                .map(|(p, _)| p.payload.clone());
            return Playout::Conceal { fec_source };
        }
        // Dry: nothing newer has arrived. Stretch (conceal without consuming the slot) so a
        // delayed packet is still played when it comes; give up after a while and rebuffer.
        if stretch >= self.config.max_stretch {
            self.phase = Phase::Buffering;
            self.cursor = None;
            return Playout::Silence;
        }
        self.stats.stretched += 1;
        self.phase = Phase::Playing {
            stretch: stretch + 1,
        };
        Playout::Conceal { fec_source: None }
    }

    /// Drops one buffered frame when the buffer holds clearly more than its target, so delay
    /// from a past jitter spike or a sender clock that runs fast does not stay forever.
    fn maybe_skip(&mut self) {
        let excess = self.buffered().saturating_sub(self.stats.target_delay);
        if excess < self.config.frame * 2 || self.since_skip < MIN_POPS_BETWEEN_SKIPS {
            return;
        }
        if let Some(cursor) = self.cursor
            && self.packets.remove(&cursor).is_some()
        {
            self.cursor = Some(cursor + 1);
            self.stats.skipped += 1;
            self.since_skip = 0;
        }
    }

    fn record_transit(&mut self, timestamp: u32, now: Instant) {
        let media_ticks = match self.last_timestamp {
            None => 0,
            Some((ext, raw)) => ext + i64::from(timestamp.wrapping_sub(raw).cast_signed()),
        };
        if self.last_timestamp.is_none_or(|(ext, _)| media_ticks > ext) {
            self.last_timestamp = Some((media_ticks, timestamp));
        }
        let base = *self.base_instant.get_or_insert(now);
        let arrival_us =
            i64::try_from(now.saturating_duration_since(base).as_micros()).unwrap_or(i64::MAX);
        let media_us = media_ticks * 1_000_000 / i64::from(self.config.clock_rate.max(1));
        self.estimator.record(arrival_us - media_us);
        let jitter = self.estimator.jitter();
        self.stats.jitter = jitter;
        let wanted =
            (jitter + self.config.frame).clamp(self.config.min_delay, self.config.max_delay);
        // Round up to whole frames: the buffer can only hold whole frames.
        let frames = wanted
            .as_micros()
            .div_ceil(self.config.frame.as_micros().max(1));
        self.stats.target_delay = self.config.frame * u32::try_from(frames).unwrap_or(u32::MAX);
    }
}
