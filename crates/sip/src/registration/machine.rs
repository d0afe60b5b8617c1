//! The registration state machine: inputs with `now`, outputs polled.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{
    RegisterOutcome, RegisterRequest, RegistrationEvent, RegistrationPolicy, RegistrationState,
};
use crate::SipError;

/// One account's registration, sans-IO (in the style of quinn-proto/str0m).
///
/// Drive it with [`start`](Self::start), [`stop`](Self::stop),
/// [`credentials_changed`](Self::credentials_changed), [`handle_outcome`](Self::handle_outcome)
/// and [`handle_timeout`](Self::handle_timeout); after each call drain
/// [`poll_transmit`](Self::poll_transmit) (send that REGISTER) and
/// [`poll_event`](Self::poll_event) (tell the user), and wake it at
/// [`poll_timeout`](Self::poll_timeout). At most one REGISTER is outstanding at a time.
///
/// The "never lock the user out" rule: credentials the server has rejected (401/407 to our
/// answer, or 403) are not sent again until the user acts — except one retry when the same
/// credentials had already been accepted on this account (a registrar glitch on a refresh is
/// likelier than a password that changed under us). Servers such as fail2ban-guarded PBXs
/// block an account after a few failures; a softphone hammering them would lock its user out.
#[derive(Debug)]
pub struct Registration {
    policy: RegistrationPolicy,
    /// The lifetime we ask for; raised by 423 Interval Too Brief.
    requested_expires: u32,
    state: RegistrationState,
    /// The user wants a binding.
    wanted: bool,
    in_flight: Option<RegisterRequest>,
    to_send: Option<RegisterRequest>,
    next_attempt: Option<Instant>,
    /// Consecutive failures that count for backoff.
    failures: u32,
    /// Consecutive 423s.
    too_brief: u32,
    /// The current credentials got a 2xx at least once.
    credentials_accepted: bool,
    /// The one retry after a rejection of once-accepted credentials is spent.
    credential_retry_spent: bool,
    /// Connections lost in a row soon after registering over them.
    flow_losses: u32,
    /// New credentials arrived while a REGISTER with the old ones was out.
    newer_credentials: bool,
    /// Our binding may exist at the registrar until then (so stop() must unregister).
    binding_until: Option<Instant>,
    events: VecDeque<RegistrationEvent>,
    rng: u64,
}

impl Registration {
    /// A registration asking for `expires` seconds; `seed` drives the jitter (use a random
    /// seed in production, a fixed one in tests).
    pub fn new(policy: RegistrationPolicy, expires: u32, seed: u64) -> Self {
        Self {
            policy,
            requested_expires: expires.max(1),
            state: RegistrationState::Unregistered,
            wanted: false,
            in_flight: None,
            to_send: None,
            next_attempt: None,
            failures: 0,
            too_brief: 0,
            credentials_accepted: false,
            credential_retry_spent: false,
            newer_credentials: false,
            flow_losses: 0,
            binding_until: None,
            events: VecDeque::new(),
            rng: seed,
        }
    }

    /// The current state.
    pub fn state(&self) -> &RegistrationState {
        &self.state
    }

    /// The lifetime the next REGISTER asks for.
    pub fn requested_expires(&self) -> u32 {
        self.requested_expires
    }

    /// True when nothing is wanted or pending: stopped and any unregister has finished.
    pub fn is_idle(&self) -> bool {
        !self.wanted && self.in_flight.is_none() && self.to_send.is_none()
    }

    /// The user wants to be registered (an explicit action: it also lifts a lockout).
    pub fn start(&mut self, now: Instant) {
        self.wanted = true;
        self.failures = 0;
        self.too_brief = 0;
        self.credential_retry_spent = false;
        if self.in_flight.is_none() {
            self.attempt_now(now, RegistrationState::Registering);
        }
    }

    /// The user gave new credentials: forget what the server said about the old ones and,
    /// if registration is wanted, try at once.
    pub fn credentials_changed(&mut self, now: Instant) {
        self.credentials_accepted = false;
        self.credential_retry_spent = false;
        self.failures = 0;
        if self.in_flight.is_some() {
            // The answer to the old credentials must not count against the new ones.
            self.newer_credentials = true;
        } else if self.wanted {
            self.attempt_now(now, RegistrationState::Registering);
        }
    }

    /// The user wants no binding: unregister if one may exist, else go idle.
    pub fn stop(&mut self, now: Instant) {
        self.wanted = false;
        self.next_attempt = None;
        self.to_send = None;
        if self.in_flight.is_some() {
            // The outcome decides: a 2xx leaves a binding that we then remove.
            return;
        }
        if self.binding_until.is_some_and(|until| until > now) {
            self.send(RegisterRequest { expires: 0 });
            self.set_state(RegistrationState::Unregistering, None);
        } else {
            self.binding_until = None;
            self.set_state(RegistrationState::Unregistered, None);
        }
    }

    /// Time passed: start a scheduled refresh or retry when it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = self.next_attempt.is_some_and(|at| at <= now);
        if !due || !self.wanted || self.in_flight.is_some() {
            return;
        }
        // A refresh of a live binding keeps showing Registered: no flicker for the user.
        let state = match self.state {
            RegistrationState::Registered { .. } => {
                // The flow lived until its refresh: it is not one that dies at once.
                self.flow_losses = 0;
                self.state.clone()
            }
            _ => RegistrationState::Registering,
        };
        self.attempt_now(now, state);
    }

    /// The connection our binding rides on (TCP, TLS, WS, WSS) closed, so the registrar can
    /// no longer reach us: register again over a new one (RFC 5626 §4.4.1) — at once the
    /// first time, with backoff while flows keep dying before their refresh (a server that
    /// closes every connection must not get a REGISTER loop).
    pub fn flow_lost(&mut self, now: Instant) {
        if !self.wanted
            || self.in_flight.is_some()
            || !matches!(self.state, RegistrationState::Registered { .. })
        {
            // Not registered over it, or an exchange (which reconnects) is already out.
            return;
        }
        self.flow_losses = self.flow_losses.saturating_add(1);
        if self.flow_losses == 1 {
            self.attempt_now(now, RegistrationState::Registering);
            return;
        }
        let unit = self.next_unit();
        let delay = self.policy.backoff_delay(self.flow_losses - 1, unit);
        self.next_attempt = Some(now + delay);
        let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.set_state(
            RegistrationState::Retrying {
                attempt: self.flow_losses - 1,
                retry_in_ms,
            },
            Some(SipError::Unreachable(
                "the connection to the registrar closed".into(),
            )),
        );
    }

    /// The outstanding REGISTER ended with `outcome`.
    pub fn handle_outcome(&mut self, outcome: RegisterOutcome, now: Instant) {
        let Some(request) = self.in_flight.take() else {
            return; // Nothing was outstanding: a stale report, ignore it.
        };
        // Whatever this answer says was about the credentials it carried.
        let newer_credentials = std::mem::take(&mut self.newer_credentials);
        if request.is_unregister() {
            self.finish_unregister(outcome, now);
            return;
        }
        match outcome {
            RegisterOutcome::Success { granted_expires } => self.on_success(granted_expires, now),
            RegisterOutcome::CredentialsRejected => {
                self.on_credentials_rejected(newer_credentials, now)
            }
            RegisterOutcome::IntervalTooBrief { min_expires } => {
                self.on_interval_too_brief(min_expires, now)
            }
            RegisterOutcome::Failed { error, retry_after } => {
                self.on_failure(error, retry_after, now)
            }
        }
    }

    /// The REGISTER to send now, if any (at most one is outstanding).
    pub fn poll_transmit(&mut self) -> Option<RegisterRequest> {
        send_next(&mut self.to_send, &mut self.in_flight)
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.in_flight.is_some() || !self.wanted {
            return None;
        }
        self.next_attempt
    }

    /// The next thing to tell the user.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    fn on_success(&mut self, granted: u32, now: Instant) {
        if granted == 0 {
            // A registrar that grants nothing must not make us refresh in a loop.
            let error = SipError::ServerUnavailable {
                status: 200,
                reason: "granted 0 s".into(),
            };
            self.on_failure(error, None, now);
            return;
        }
        self.binding_until = Some(now + Duration::from_secs(u64::from(granted)));
        self.credentials_accepted = true;
        self.credential_retry_spent = false;
        self.failures = 0;
        self.too_brief = 0;
        if !self.wanted {
            // stop() came while this REGISTER was out: remove what it created.
            self.send(RegisterRequest { expires: 0 });
            self.set_state(RegistrationState::Unregistering, None);
            return;
        }
        let unit = self.next_unit();
        self.next_attempt = Some(now + self.policy.refresh_delay(granted, unit));
        self.set_state(RegistrationState::Registered { expires: granted }, None);
    }

    fn on_credentials_rejected(&mut self, newer_credentials: bool, now: Instant) {
        if newer_credentials && self.wanted {
            // Those were the old credentials: try the new ones.
            self.attempt_now(now, RegistrationState::Registering);
            return;
        }
        if self.wanted && self.credentials_accepted && !self.credential_retry_spent {
            self.credential_retry_spent = true;
            self.attempt_now(now, self.state.clone());
            return;
        }
        self.give_up(SipError::WrongPassword);
    }

    fn on_interval_too_brief(&mut self, min_expires: Option<u32>, now: Instant) {
        self.too_brief += 1;
        match self
            .policy
            .follow_min_expires(min_expires, self.requested_expires, self.too_brief)
        {
            Ok(min) => {
                self.requested_expires = min;
                if self.wanted {
                    self.attempt_now(now, self.state.clone());
                }
            }
            Err(error) => self.give_up(error),
        }
    }

    fn on_failure(&mut self, error: SipError, retry_after: Option<Duration>, now: Instant) {
        if !error.is_transient() {
            // Wrong password, untrusted certificate, unknown user, bad account: retrying
            // cannot help until the user changes something.
            self.give_up(error);
            return;
        }
        if !self.wanted {
            self.set_state(RegistrationState::Unregistered, Some(error));
            return;
        }
        self.failures = self.failures.saturating_add(1);
        let delay = match retry_after {
            Some(after) => self.policy.retry_after_delay(after),
            None => {
                let unit = self.next_unit();
                self.policy.backoff_delay(self.failures, unit)
            }
        };
        self.next_attempt = Some(now + delay);
        let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.set_state(
            RegistrationState::Retrying {
                attempt: self.failures,
                retry_in_ms,
            },
            Some(error),
        );
    }

    fn finish_unregister(&mut self, outcome: RegisterOutcome, now: Instant) {
        self.binding_until = None;
        let reason = match outcome {
            RegisterOutcome::Success { .. } => None,
            RegisterOutcome::CredentialsRejected => Some(SipError::WrongPassword),
            RegisterOutcome::IntervalTooBrief { .. } => None,
            RegisterOutcome::Failed { error, .. } => Some(error),
        };
        // One try only: the binding expires on its own if the server did not hear us.
        self.set_state(RegistrationState::Unregistered, reason);
        if self.wanted {
            self.attempt_now(now, RegistrationState::Registering);
        }
    }

    fn give_up(&mut self, error: SipError) {
        self.next_attempt = None;
        self.to_send = None;
        let state = if self.wanted {
            RegistrationState::Failed
        } else {
            RegistrationState::Unregistered
        };
        self.set_state(state, Some(error));
    }

    /// Queues a REGISTER for the requested lifetime, to go out at once.
    fn attempt_now(&mut self, now: Instant, state: RegistrationState) {
        self.next_attempt = None;
        if self.binding_until.is_some_and(|until| until <= now) {
            // The binding lapsed while we were failing to refresh it.
            self.binding_until = None;
        }
        self.send(RegisterRequest {
            expires: self.requested_expires,
        });
        if state != self.state {
            self.set_state(state, None);
        }
    }

    fn send(&mut self, request: RegisterRequest) {
        self.to_send = Some(request);
    }

    fn set_state(&mut self, state: RegistrationState, reason: Option<SipError>) {
        self.state = state.clone();
        self.events.push_back(RegistrationEvent { state, reason });
    }

    fn next_unit(&mut self) -> f64 {
        super::policy::next_unit(&mut self.rng)
    }
}

/// The queued request, now outstanding, unless one is out already: the one-at-a-time rule
/// of registrations and subscriptions.
pub(crate) fn send_next<R: Copy>(to_send: &mut Option<R>, in_flight: &mut Option<R>) -> Option<R> {
    if in_flight.is_some() {
        return None;
    }
    let request = to_send.take()?;
    *in_flight = Some(request);
    Some(request)
}
