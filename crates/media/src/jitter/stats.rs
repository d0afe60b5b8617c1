//! Counters a jitter buffer exposes for call-quality figures and tests.

use std::time::Duration;

/// What the jitter buffer has seen and done since the stream started.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets accepted into the buffer.
    pub received: u64,
    /// Packets dropped because the same sequence number was already buffered or played.
    pub duplicates: u64,
    /// Packets that arrived after their slot had been played or concealed.
    pub late: u64,
    /// Slots concealed because their packet never came (loss, or too late).
    pub lost: u64,
    /// Frames concealed while waiting for a delayed packet (the buffer ran dry).
    pub stretched: u64,
    /// Frames skipped to bring the delay back down to the target.
    pub skipped: u64,
    /// Packets dropped because the buffer was full.
    pub overflow: u64,
    /// Frames played from a packet.
    pub played: u64,
    /// The delay the buffer currently aims for.
    pub target_delay: Duration,
    /// The network jitter the target is based on (95th percentile of relative delay).
    pub jitter: Duration,
}
