//! The timing rules of registration: when to refresh, how long to back off.

use std::time::Duration;

/// Tunable timing rules. [`RegistrationPolicy::default`] is what Sidetone ships.
///
/// Refresh: a refresh must finish before the binding lapses, and one non-INVITE transaction
/// may take up to Timer F = 64·T1 = 32 s (RFC 3261 §17.1.2.2) to fail. So we refresh at
/// `max(granted/2, granted − max(granted/5, 32 s))`: at 80 % for long lifetimes (3600 s →
/// 2880 s), a full Timer F early for medium ones (120 s → 88 s), and at half-life for very
/// short ones (30 s → 15 s) so we never refresh in a tight loop. Up to 5 % of that delay is
/// taken off at random so clients that registered together (after a registrar restart) do
/// not all refresh in the same second.
///
/// Backoff: the shape of RFC 5626 §4.5 — `min(max, base·2^(failures−1))`, then a uniform
/// pick in [50 %, 100 %] of it, so a fleet that lost its registrar spreads its retries. Base
/// 5 s and cap 300 s (RFC 5626's 30 s/1800 s suit big deployments; a desktop user should see
/// the phone come back within minutes of the network). A `Retry-After` from the server is
/// honoured as given (capped at `retry_after_max`) instead of our backoff.
///
/// Over UDP nothing tells us that a registrar restarted and forgot our binding (a stream
/// transport's connection closes, see `Registration::flow_lost`), and a keep-alive that the
/// restarted server answers proves nothing about the binding: only a REGISTER does. So over
/// UDP ([`RegistrationPolicy::for_transport`]) a refresh goes out at least every
/// `refresh_max` (60 s), which bounds how long a restart leaves the phone unreachable. That
/// costs one digest exchange (4 datagrams) a minute — less than an OPTIONS keep-alive every
/// 15–30 s — and doubles as a NAT keep-alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// The first backoff window after a failure.
    pub backoff_base: Duration,
    /// The largest backoff window.
    pub backoff_max: Duration,
    /// The least time before expiry at which a refresh starts (one Timer F).
    pub refresh_margin: Duration,
    /// The longest server `Retry-After` we wait for.
    pub retry_after_max: Duration,
    /// How many 423 Interval Too Brief in a row we follow before giving up.
    pub max_interval_too_brief: u32,
    /// The longest wait between refreshes, whatever lifetime was granted (`None`: follow
    /// the lifetime only). Set for UDP, where nothing else reveals a restarted registrar.
    pub refresh_max: Option<Duration>,
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        Self {
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(300),
            refresh_margin: Duration::from_secs(32),
            retry_after_max: Duration::from_secs(3600),
            max_interval_too_brief: 3,
            refresh_max: None,
        }
    }
}

/// The refresh bound over UDP (see [`RegistrationPolicy`]).
const DATAGRAM_REFRESH_MAX: Duration = Duration::from_secs(60);

impl RegistrationPolicy {
    /// What Sidetone ships for a registration over `transport`: the default, plus the
    /// refresh bound over UDP.
    pub fn for_transport(transport: crate::Transport) -> Self {
        let refresh_max = (transport == crate::Transport::Udp).then_some(DATAGRAM_REFRESH_MAX);
        Self {
            refresh_max,
            ..Self::default()
        }
    }

    /// How long after a success granting `granted` seconds to refresh. `unit` in [0, 1) picks
    /// the random part (0 = no jitter).
    pub fn refresh_delay(&self, granted: u32, unit: f64) -> Duration {
        let granted = Duration::from_secs(u64::from(granted.max(1)));
        let margin = (granted / 5).max(self.refresh_margin);
        let mut delay = granted.saturating_sub(margin).max(granted / 2);
        if let Some(max) = self.refresh_max {
            delay = delay.min(max);
        }
        delay.mul_f64(1.0 - 0.05 * unit.clamp(0.0, 1.0))
    }

    /// How long to wait after `failures` consecutive failures (≥ 1). `unit` in [0, 1) picks
    /// the point in [50 %, 100 %] of the window.
    pub fn backoff_delay(&self, failures: u32, unit: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        let window = self
            .backoff_base
            .saturating_mul(1 << doublings)
            .min(self.backoff_max);
        window.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }

    /// After the `too_brief`-th 423 Interval Too Brief in a row: the lifetime to ask for
    /// next (RFC 3261 §10.2.8, RFC 6665 §4.1.2.1: at least the server's `Min-Expires`), or
    /// why to give up (no usable `Min-Expires`, or a server that keeps raising the bar).
    pub(crate) fn follow_min_expires(
        &self,
        min_expires: Option<u32>,
        requested: u32,
        too_brief: u32,
    ) -> Result<u32, crate::SipError> {
        match min_expires {
            Some(min) if min > requested && too_brief <= self.max_interval_too_brief => Ok(min),
            _ => Err(crate::SipError::Rejected {
                status: 423,
                reason: "Interval Too Brief without a usable Min-Expires".into(),
            }),
        }
    }

    /// The wait a server's `Retry-After` asks for, within our cap.
    pub fn retry_after_delay(&self, retry_after: Duration) -> Duration {
        retry_after.min(self.retry_after_max)
    }
}

/// A uniform number in [0, 1) from splitmix64 over `state`: deterministic per seed, no
/// dependency. The jitter of refreshes and backoffs (registration and subscriptions).
pub(crate) fn next_unit(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
