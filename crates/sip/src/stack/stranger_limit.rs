//! A budget for datagrams from anyone but the registrar. Every request the stack takes in
//! becomes a transaction with timers and a place in rsipstack's unbounded queues, so a
//! stranger's flood (a scanner sweeping the port the registration opened, a looping phone)
//! must be dropped at the socket, before it costs anything: per source address, a token
//! bucket; and a cap on how many sources are tracked, so a spread-out flood cannot grow the
//! table either. The registrar, which relays every real call, is never limited.
//!
//! Sans-IO: the caller passes the time in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Datagrams per second a stranger may send, on average.
pub(crate) const STRANGER_RATE: u32 = 10;
/// How many a stranger may send at once (after a quiet spell).
pub(crate) const STRANGER_BURST: u32 = 20;
/// Sources tracked at most; beyond that, new sources are dropped until old ones go quiet.
pub(crate) const MAX_STRANGERS: usize = 256;

/// Per-source token buckets.
pub(crate) struct StrangerLimit {
    buckets: HashMap<IpAddr, Bucket>,
    rate: f64,
    burst: f64,
    max_sources: usize,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl StrangerLimit {
    /// A limit of `rate` datagrams per second with bursts of `burst`, for at most
    /// `max_sources` sources at a time.
    pub(crate) fn new(rate: u32, burst: u32, max_sources: usize) -> Self {
        Self {
            buckets: HashMap::new(),
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            max_sources,
        }
    }

    /// Whether one more datagram from `source` may go on at `now`.
    pub(crate) fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if !self.buckets.contains_key(&source) && self.buckets.len() >= self.max_sources {
            self.forget_quiet(now);
            if self.buckets.len() >= self.max_sources {
                return false;
            }
        }
        let (rate, burst) = (self.rate, self.burst);
        let bucket = self.buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drops the sources whose bucket has filled up again: they are as good as new.
    fn forget_quiet(&mut self, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets.retain(|_, bucket| {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            bucket.tokens + elapsed * rate < burst
        });
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn allowed(limit: &mut StrangerLimit, source: IpAddr, now: Instant, tries: u32) -> u32 {
        (0..tries).filter(|_| limit.allow(source, now)).count() as u32
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let start = Instant::now();
        let mut limit = StrangerLimit::new(10, 20, 8);
        assert_eq!(allowed(&mut limit, ip(1), start, 1_000), 20, "the burst");
        let later = start + Duration::from_millis(500);
        assert_eq!(
            allowed(&mut limit, ip(1), later, 1_000),
            5,
            "10/s for half a second"
        );
        let quiet = later + Duration::from_secs(60);
        assert_eq!(
            allowed(&mut limit, ip(1), quiet, 1_000),
            20,
            "full again, no more"
        );
    }

    #[test]
    fn each_source_has_its_own_budget() {
        let now = Instant::now();
        let mut limit = StrangerLimit::new(10, 20, 8);
        assert_eq!(allowed(&mut limit, ip(1), now, 100), 20);
        assert_eq!(allowed(&mut limit, ip(2), now, 100), 20);
        assert!(!limit.allow(ip(1), now));
    }

    #[test]
    fn a_spread_out_flood_cannot_grow_the_table() {
        let now = Instant::now();
        let mut limit = StrangerLimit::new(10, 20, 4);
        for last in 1..=4 {
            assert!(limit.allow(ip(last), now));
        }
        assert!(
            !limit.allow(ip(5), now),
            "a fifth source while four are busy"
        );
        assert_eq!(limit.buckets.len(), 4);
        // Once the others have been quiet long enough to be full again, room is made.
        let later = now + Duration::from_secs(2);
        assert!(limit.allow(ip(5), later));
        assert!(limit.buckets.len() <= 4);
    }

    #[test]
    fn time_going_backwards_grants_nothing() {
        let now = Instant::now() + Duration::from_secs(10);
        let mut limit = StrangerLimit::new(10, 2, 4);
        assert_eq!(allowed(&mut limit, ip(1), now, 10), 2);
        let earlier = now - Duration::from_secs(5);
        assert_eq!(allowed(&mut limit, ip(1), earlier, 10), 0);
    }
}
