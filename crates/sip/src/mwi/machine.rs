//! The MWI subscription state machine: inputs with `now`, outputs polled.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{MwiEvent, MwiState, NotifiedState, SubscribeOutcome, SubscribeRequest};
use crate::registration::{next_unit, send_next};
use crate::{RegistrationPolicy, SipError};

/// The lifetime we ask for (RFC 3842 §4.1 suggests 3600 s as the default).
pub const MWI_EXPIRES: u32 = 3600;

/// Transient failures in a row (timeouts, unreachable, 5xx, subscriptions the server keeps
/// ending) after which we stop for this registration rather than retry forever.
pub const MWI_MAX_FAILURES: u32 = 5;

/// One account's message-summary subscription (RFC 3842 over RFC 6665), sans-IO, in the
/// style of [`crate::Registration`]: drive it with [`registered`](Self::registered),
/// [`registration_lost`](Self::registration_lost), [`stop`](Self::stop),
/// [`handle_outcome`](Self::handle_outcome), [`handle_notify`](Self::handle_notify) and
/// [`handle_timeout`](Self::handle_timeout); after each call drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event), and wake it
/// at [`poll_timeout`](Self::poll_timeout). At most one SUBSCRIBE is outstanding.
///
/// The rules: subscribe once the account is registered; refresh before the granted lifetime
/// ends; back off on transient failures and stop after [`MWI_MAX_FAILURES`] in a row; stop
/// at once on a final refusal (489 Bad Event, 404, 403, wrong password, …) — a server that
/// does not do MWI must not get a SUBSCRIBE loop. Stopped lasts until the account registers
/// anew (not a refresh of the same registration).
#[derive(Debug)]
pub struct MwiSubscription {
    policy: RegistrationPolicy,
    requested_expires: u32,
    state: MwiState,
    /// The account is registered (a refresh of its registration changes nothing).
    registered: bool,
    /// Given up for this registration (a refusal, or too many failures).
    given_up: bool,
    /// The account is stopping: a live subscription is ended with `Expires: 0`.
    stopping: bool,
    /// The server holds a subscription in our current dialog.
    live: bool,
    in_flight: Option<SubscribeRequest>,
    to_send: Option<SubscribeRequest>,
    next_attempt: Option<Instant>,
    /// Consecutive transient failures (backoff and the give-up bound).
    failures: u32,
    /// Consecutive 423s.
    too_brief: u32,
    events: VecDeque<MwiEvent>,
    rng: u64,
}

impl MwiSubscription {
    /// A subscription asking for `expires` seconds; `seed` drives the jitter.
    pub fn new(policy: RegistrationPolicy, expires: u32, seed: u64) -> Self {
        Self {
            policy,
            requested_expires: expires.max(1),
            state: MwiState::Idle,
            registered: false,
            given_up: false,
            stopping: false,
            live: false,
            in_flight: None,
            to_send: None,
            next_attempt: None,
            failures: 0,
            too_brief: 0,
            events: VecDeque::new(),
            rng: seed,
        }
    }

    /// The current state.
    pub fn state(&self) -> &MwiState {
        &self.state
    }

    /// True when nothing is outstanding or queued (an unsubscribe has finished).
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_none() && self.to_send.is_none()
    }

    /// The account became registered (not a refresh): subscribe, giving a server that
    /// refused before one new chance.
    pub fn registered(&mut self) {
        if self.registered || self.stopping {
            return;
        }
        self.registered = true;
        self.given_up = false;
        self.failures = 0;
        self.too_brief = 0;
        // A new registration may have a new Contact: a new dialog, not a refresh.
        self.live = false;
        if self.in_flight.is_none() {
            self.attempt_now(false);
        }
    }

    /// The account lost its registration (failed, retrying, unregistered, or registering
    /// again over a new connection): nothing is sent until it is registered again.
    pub fn registration_lost(&mut self) {
        if self.stopping {
            // Unregistering after stop(): the unsubscribe queued then still goes out.
            return;
        }
        self.registered = false;
        self.live = false;
        self.next_attempt = None;
        self.to_send = None;
        // Stopped stays shown (with its reason) until a new registration tries again.
        if !matches!(self.state, MwiState::Idle | MwiState::Stopped) {
            self.set_state(MwiState::Idle, None);
        }
    }

    /// The account is going away: end a live subscription (`Expires: 0`), then go idle.
    pub fn stop(&mut self) {
        self.stopping = true;
        self.next_attempt = None;
        self.to_send = None;
        if self.in_flight.is_none() {
            self.unsubscribe_if_live();
        }
    }

    /// Time passed: send a due refresh or retry.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = self.next_attempt.is_some_and(|at| at <= now);
        if due && self.wanted() && self.in_flight.is_none() {
            self.attempt_now(self.live);
        }
    }

    /// The outstanding SUBSCRIBE ended with `outcome`.
    pub fn handle_outcome(&mut self, outcome: SubscribeOutcome, now: Instant) {
        let Some(request) = self.in_flight.take() else {
            return; // nothing was outstanding: a stale report
        };
        if request.expires == 0 {
            // One try only: the subscription expires on its own if the server missed it.
            self.live = false;
            self.set_state(MwiState::Idle, None);
            return;
        }
        if !self.wanted() {
            // The registration went away (or the account stops) while this was out.
            self.live = matches!(outcome, SubscribeOutcome::Success { .. });
            if self.stopping {
                self.unsubscribe_if_live();
            } else {
                self.live = false;
            }
            return;
        }
        match outcome {
            SubscribeOutcome::Success { granted_expires } if granted_expires > 0 => {
                self.on_success(request, granted_expires, now);
            }
            SubscribeOutcome::Success { .. } => {
                // Granted nothing: there is no subscription; do not loop on it.
                let error = SipError::ServerUnavailable {
                    status: 200,
                    reason: "granted 0 s".into(),
                };
                self.on_transient(error, None, now);
            }
            SubscribeOutcome::CredentialsRejected => self.give_up(SipError::WrongPassword),
            SubscribeOutcome::IntervalTooBrief { min_expires } => {
                self.on_interval_too_brief(min_expires);
            }
            SubscribeOutcome::NoSuchSubscription if request.refresh => {
                // The server forgot us (restarted): subscribe anew, at once.
                self.live = false;
                self.attempt_now(false);
            }
            SubscribeOutcome::NoSuchSubscription => self.give_up(SipError::Rejected {
                status: 481,
                reason: "Call/Transaction Does Not Exist".into(),
            }),
            SubscribeOutcome::Failed { error, retry_after } => {
                if error.is_transient() {
                    self.on_transient(error, retry_after, now);
                } else {
                    self.give_up(error);
                }
            }
        }
    }

    /// A NOTIFY of our subscription arrived with this `Subscription-State` (RFC 6665
    /// §4.1.3). Unsolicited NOTIFYs are not for this machine.
    pub fn handle_notify(&mut self, state: Option<NotifiedState>, now: Instant) {
        if !self.wanted() {
            return;
        }
        match state {
            None => {}
            Some(NotifiedState::Alive { expires }) => {
                self.live = true;
                // The server may shorten the subscription: refresh in time for its view.
                if let Some(expires) = expires.filter(|e| *e > 0)
                    && self.in_flight.is_none()
                {
                    let unit = self.next_unit();
                    let at = now + self.policy.refresh_delay(expires, unit);
                    if self.next_attempt.is_none_or(|planned| at < planned) {
                        self.next_attempt = Some(at);
                    }
                }
            }
            Some(NotifiedState::Terminated {
                reason,
                retry_after,
            }) => self.on_terminated(reason.as_deref(), retry_after, now),
        }
    }

    /// The SUBSCRIBE to send now, if any.
    pub fn poll_transmit(&mut self) -> Option<SubscribeRequest> {
        send_next(&mut self.to_send, &mut self.in_flight)
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.in_flight.is_some() || !self.wanted() {
            return None;
        }
        self.next_attempt
    }

    /// The next thing to tell the user.
    pub fn poll_event(&mut self) -> Option<MwiEvent> {
        self.events.pop_front()
    }

    fn on_success(&mut self, request: SubscribeRequest, granted: u32, now: Instant) {
        self.live = true;
        self.too_brief = 0;
        if request.refresh {
            // It lived until its refresh: whatever failed or ended subscriptions before is
            // over. (Not on a new dialog's 2xx: a server that accepts and then ends every
            // subscription at once would otherwise never reach the give-up bound.)
            self.failures = 0;
        }
        let unit = self.next_unit();
        self.next_attempt = Some(now + self.policy.refresh_delay(granted, unit));
        self.set_state(MwiState::Active { expires: granted }, None);
    }

    fn on_terminated(&mut self, reason: Option<&str>, retry_after: Option<u32>, now: Instant) {
        self.live = false;
        match reason {
            // RFC 6665 §4.1.3: do not subscribe again.
            Some(reason @ ("rejected" | "noresource" | "invariant")) => {
                self.give_up(SipError::SubscriptionEnded(reason.to_owned()));
            }
            // probation, giveup (retry later), deactivated, timeout, none, or unknown
            // (retry at once): counted like a failure, so a server that ends every
            // subscription right away gets a few, spaced-out tries, not a loop.
            _ => {
                let retry_after = retry_after.map(|s| Duration::from_secs(u64::from(s)));
                self.failures = self.failures.saturating_add(1);
                if self.failures > MWI_MAX_FAILURES {
                    self.give_up(SipError::SubscriptionEnded(
                        reason.unwrap_or("terminated").to_owned(),
                    ));
                } else if retry_after.is_none() && self.failures == 1 && self.in_flight.is_none() {
                    self.attempt_now(false);
                } else {
                    let error =
                        SipError::SubscriptionEnded(reason.unwrap_or("terminated").to_owned());
                    self.schedule_retry(error, retry_after, now);
                }
            }
        }
    }

    fn on_interval_too_brief(&mut self, min_expires: Option<u32>) {
        self.too_brief += 1;
        match self
            .policy
            .follow_min_expires(min_expires, self.requested_expires, self.too_brief)
        {
            Ok(min) => {
                self.requested_expires = min;
                self.attempt_now(self.live);
            }
            Err(error) => self.give_up(error),
        }
    }

    fn on_transient(&mut self, error: SipError, retry_after: Option<Duration>, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        if self.failures > MWI_MAX_FAILURES {
            self.give_up(error);
            return;
        }
        self.schedule_retry(error, retry_after, now);
    }

    fn schedule_retry(&mut self, error: SipError, retry_after: Option<Duration>, now: Instant) {
        let delay = match retry_after {
            Some(after) => self.policy.retry_after_delay(after),
            None => {
                let unit = self.next_unit();
                self.policy.backoff_delay(self.failures.max(1), unit)
            }
        };
        self.next_attempt = Some(now + delay);
        let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.set_state(
            MwiState::Retrying {
                attempt: self.failures.max(1),
                retry_in_ms,
            },
            Some(error),
        );
    }

    fn give_up(&mut self, error: SipError) {
        self.given_up = true;
        self.live = false;
        self.next_attempt = None;
        self.to_send = None;
        self.set_state(MwiState::Stopped, Some(error));
    }

    fn unsubscribe_if_live(&mut self) {
        if self.live {
            self.to_send = Some(SubscribeRequest {
                expires: 0,
                refresh: true,
            });
        } else if self.state != MwiState::Idle && self.state != MwiState::Stopped {
            self.set_state(MwiState::Idle, None);
        }
    }

    /// Queues a SUBSCRIBE, to go out at once.
    fn attempt_now(&mut self, refresh: bool) {
        self.next_attempt = None;
        self.to_send = Some(SubscribeRequest {
            expires: self.requested_expires,
            refresh,
        });
        // A refresh of a live subscription keeps showing Active: no flicker.
        if !refresh && self.state != MwiState::Subscribing {
            self.set_state(MwiState::Subscribing, None);
        }
    }

    /// A subscription is wanted: registered, not given up, not stopping.
    fn wanted(&self) -> bool {
        self.registered && !self.given_up && !self.stopping
    }

    fn set_state(&mut self, state: MwiState, reason: Option<SipError>) {
        self.state = state.clone();
        self.events.push_back(MwiEvent { state, reason });
    }

    fn next_unit(&mut self) -> f64 {
        next_unit(&mut self.rng)
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
