//! Estimates how much delay the buffer needs from the spread of packets' transit times.

use std::collections::VecDeque;
use std::time::Duration;

/// Tracks relative transit times (arrival minus media time) over a sliding window.
///
/// The spread between the fastest packet and the 95th percentile is the delay that lets 95 %
/// of packets arrive in time; the window slides, so slow clock drift moves the baseline with it.
#[derive(Debug)]
pub(crate) struct DelayEstimator {
    window: VecDeque<i64>,
    capacity: usize,
    jitter: Duration,
    since_update: usize,
}

/// Recomputing the percentile costs a sort of the window; doing it every few packets is plenty,
/// because the target only changes at frame granularity.
const UPDATE_EVERY: usize = 8;

impl DelayEstimator {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            window: VecDeque::with_capacity(capacity),
            capacity,
            jitter: Duration::ZERO,
            since_update: UPDATE_EVERY,
        }
    }

    /// Records one packet's relative transit time in microseconds.
    pub(crate) fn record(&mut self, transit_us: i64) {
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(transit_us);
        self.since_update += 1;
        if self.since_update >= UPDATE_EVERY {
            self.since_update = 0;
            self.jitter = self.spread();
        }
    }

    /// The current jitter estimate.
    pub(crate) fn jitter(&self) -> Duration {
        self.jitter
    }

    fn spread(&self) -> Duration {
        let mut sorted: Vec<i64> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        let (Some(&fastest), false) = (sorted.first(), sorted.is_empty()) else {
            return Duration::ZERO;
        };
        let index = ((sorted.len() - 1) * 95) / 100;
        let p95 = sorted[index];
        Duration::from_micros(u64::try_from(p95 - fastest).unwrap_or(0))
    }
}
