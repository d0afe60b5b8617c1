//! The registration rules in fake time: every test drives the machine with an `Instant` we
//! move by hand, so refresh, backoff and lockout are checked without sleeping.

use std::time::{Duration, Instant};

use super::*;
use crate::SipError;

struct Harness {
    reg: Registration,
    now: Instant,
    sent: Vec<RegisterRequest>,
    events: Vec<RegistrationEvent>,
}

impl Harness {
    fn new(expires: u32) -> Self {
        Self::with_seed(expires, 7)
    }

    fn with_seed(expires: u32, seed: u64) -> Self {
        Self::with_policy(RegistrationPolicy::default(), expires, seed)
    }

    fn with_policy(policy: RegistrationPolicy, expires: u32, seed: u64) -> Self {
        let reg = Registration::new(policy, expires, seed);
        Self {
            reg,
            now: Instant::now(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn pump(&mut self) {
        while let Some(request) = self.reg.poll_transmit() {
            self.sent.push(request);
        }
        while let Some(event) = self.reg.poll_event() {
            self.events.push(event);
        }
    }

    fn start(&mut self) {
        self.reg.start(self.now);
        self.pump();
    }

    fn answer(&mut self, outcome: RegisterOutcome) {
        self.reg.handle_outcome(outcome, self.now);
        self.pump();
    }

    /// Jumps to the next wake-up, fires it, and returns how long that was.
    fn wake(&mut self) -> Option<Duration> {
        let at = self.reg.poll_timeout()?;
        let waited = at.saturating_duration_since(self.now);
        self.now = at;
        self.reg.handle_timeout(self.now);
        self.pump();
        Some(waited)
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.reg.handle_timeout(self.now);
        self.pump();
    }

    fn last_event(&self) -> &RegistrationEvent {
        self.events.last().unwrap_or_else(|| panic!("no event yet"))
    }
}

fn ok(granted: u32) -> RegisterOutcome {
    RegisterOutcome::Success {
        granted_expires: granted,
    }
}

fn failed(error: SipError) -> RegisterOutcome {
    RegisterOutcome::Failed {
        error,
        retry_after: None,
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn registers_then_refreshes_before_expiry_without_flicker() {
    let mut h = Harness::new(600);
    h.start();
    assert_eq!(h.sent, vec![RegisterRequest { expires: 600 }]);
    assert_eq!(h.last_event().state, RegistrationState::Registering);

    h.answer(ok(600));
    assert_eq!(
        h.last_event().state,
        RegistrationState::Registered { expires: 600 }
    );
    let events_before = h.events.len();

    // 600 s → refresh at 480 s (80 %), minus at most 5 % jitter.
    let waited = h.wake().unwrap_or_default();
    assert!(
        waited <= secs(480) && waited >= secs(456),
        "refresh after {waited:?}"
    );
    assert_eq!(h.sent.len(), 2, "one refresh REGISTER");
    assert_eq!(
        h.events.len(),
        events_before,
        "a refresh does not leave Registered"
    );
    assert_eq!(
        h.reg.state(),
        &RegistrationState::Registered { expires: 600 }
    );
}

#[test]
fn refresh_follows_the_granted_lifetime_not_the_requested_one() {
    let mut h = Harness::new(3600);
    h.start();
    h.answer(ok(120)); // the registrar may grant less (RFC 3261 §10.2.4)
    let waited = h.wake().unwrap_or_default();
    assert!(
        waited <= secs(88) && waited >= secs(83),
        "refresh after {waited:?}"
    );
}

#[test]
fn refresh_rule_keeps_a_timer_f_margin_and_never_loops() {
    let p = RegistrationPolicy::default();
    assert_eq!(p.refresh_delay(3600, 0.0), secs(2880)); // 80 %
    assert_eq!(p.refresh_delay(600, 0.0), secs(480));
    assert_eq!(p.refresh_delay(120, 0.0), secs(88)); // 32 s before expiry
    assert_eq!(p.refresh_delay(60, 0.0), secs(30)); // half-life floor
    assert_eq!(p.refresh_delay(30, 0.0), secs(15));
    assert!(p.refresh_delay(1, 0.0) >= Duration::from_millis(500));
    // Jitter only ever makes it earlier, by at most 5 %.
    let jittered = p.refresh_delay(3600, 0.999);
    assert!(jittered < secs(2880) && jittered >= secs(2736));
}

#[test]
fn backoff_doubles_with_jitter_and_caps() {
    let p = RegistrationPolicy::default();
    let windows = [5u64, 10, 20, 40, 80, 160, 300, 300, 300];
    for (i, window) in windows.iter().enumerate() {
        let failures = u32::try_from(i + 1).unwrap_or(u32::MAX);
        assert_eq!(p.backoff_delay(failures, 0.999_999).as_secs(), *window - 1);
        assert_eq!(p.backoff_delay(failures, 0.0), secs(*window) / 2);
    }
    assert_eq!(p.backoff_delay(u32::MAX, 0.0), secs(150), "no overflow");
}

#[test]
fn transient_failures_back_off_exponentially_and_success_resets() {
    let mut h = Harness::new(600);
    h.start();
    let mut waits = Vec::new();
    for attempt in 1..=4u32 {
        h.answer(failed(SipError::Timeout));
        match &h.last_event().state {
            RegistrationState::Retrying { attempt: a, .. } => assert_eq!(*a, attempt),
            other => panic!("expected Retrying, got {other:?}"),
        }
        assert_eq!(h.last_event().reason, Some(SipError::Timeout));
        waits.push(h.wake().unwrap_or_default());
    }
    let windows = [5u64, 10, 20, 40];
    for (wait, window) in waits.iter().zip(windows) {
        assert!(
            *wait >= secs(window) / 2 && *wait <= secs(window),
            "{wait:?} vs {window}"
        );
    }
    assert_eq!(h.sent.len(), 5, "first attempt + 4 retries");
    h.answer(ok(600));
    h.answer_refresh_then_fail();
    let wait = h.wake().unwrap_or_default();
    assert!(
        wait <= secs(5),
        "backoff restarted from the base after a success: {wait:?}"
    );
}

impl Harness {
    fn answer_refresh_then_fail(&mut self) {
        let _ = self.wake();
        self.answer(failed(SipError::Unreachable("down".into())));
    }
}

#[test]
fn different_seeds_spread_retries() {
    let mut a = Harness::with_seed(600, 1);
    let mut b = Harness::with_seed(600, 2);
    for h in [&mut a, &mut b] {
        h.start();
        h.answer(failed(SipError::Timeout));
    }
    assert_ne!(a.reg.poll_timeout(), b.reg.poll_timeout());
}

#[test]
fn retry_after_is_honoured_and_capped() {
    let mut h = Harness::new(600);
    h.start();
    let unavailable = SipError::ServerUnavailable {
        status: 503,
        reason: "Busy".into(),
    };
    h.answer(RegisterOutcome::Failed {
        error: unavailable.clone(),
        retry_after: Some(secs(120)),
    });
    assert_eq!(h.wake(), Some(secs(120)));
    h.answer(RegisterOutcome::Failed {
        error: unavailable,
        retry_after: Some(secs(86_400)),
    });
    assert_eq!(h.wake(), Some(secs(3600)));
    assert_eq!(h.sent.len(), 3);
}

#[test]
fn interval_too_brief_raises_expires_to_min_expires_at_once() {
    let mut h = Harness::new(60);
    h.start();
    h.answer(RegisterOutcome::IntervalTooBrief {
        min_expires: Some(1800),
    });
    assert_eq!(
        h.sent,
        vec![
            RegisterRequest { expires: 60 },
            RegisterRequest { expires: 1800 }
        ]
    );
    assert_eq!(h.reg.requested_expires(), 1800);
    h.answer(ok(1800));
    assert_eq!(
        h.last_event().state,
        RegistrationState::Registered { expires: 1800 }
    );
    // Refreshes keep asking for the raised value.
    let _ = h.wake();
    assert_eq!(h.sent.last(), Some(&RegisterRequest { expires: 1800 }));
}

#[test]
fn interval_too_brief_without_usable_min_expires_gives_up() {
    let mut h = Harness::new(60);
    h.start();
    h.answer(RegisterOutcome::IntervalTooBrief { min_expires: None });
    assert_eq!(h.last_event().state, RegistrationState::Failed);
    assert_eq!(h.reg.poll_timeout(), None);

    // A registrar that keeps raising the bar is followed only a few times.
    let mut h = Harness::new(60);
    h.start();
    for min in [120, 240, 480, 960] {
        h.answer(RegisterOutcome::IntervalTooBrief {
            min_expires: Some(min),
        });
    }
    assert_eq!(h.sent.len(), 4, "first + 3 raised");
    assert_eq!(h.last_event().state, RegistrationState::Failed);
}

#[test]
fn wrong_password_on_first_register_stops_and_waits_for_the_user() {
    let mut h = Harness::new(600);
    h.start();
    h.answer(RegisterOutcome::CredentialsRejected);
    assert_eq!(h.last_event().state, RegistrationState::Failed);
    assert_eq!(h.last_event().reason, Some(SipError::WrongPassword));
    assert_eq!(h.reg.poll_timeout(), None, "no retry scheduled");
    h.advance(secs(24 * 3600));
    assert_eq!(h.sent.len(), 1, "nothing sent in a day");

    // The user types a new password: try at once.
    h.reg.credentials_changed(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 2);
    h.answer(ok(600));
    assert_eq!(
        h.last_event().state,
        RegistrationState::Registered { expires: 600 }
    );
}

#[test]
fn rejection_of_once_accepted_credentials_gets_exactly_one_retry() {
    let mut h = Harness::new(600);
    h.start();
    h.answer(ok(600));
    let _ = h.wake(); // refresh
    assert_eq!(h.sent.len(), 2);
    h.answer(RegisterOutcome::CredentialsRejected);
    assert_eq!(
        h.sent.len(),
        3,
        "one immediate retry with the same credentials"
    );
    h.answer(RegisterOutcome::CredentialsRejected);
    assert_eq!(h.sent.len(), 3, "and no more");
    assert_eq!(h.last_event().reason, Some(SipError::WrongPassword));
    assert_eq!(h.reg.poll_timeout(), None);
}

#[test]
fn the_one_retry_is_restored_only_by_a_success() {
    let mut h = Harness::new(600);
    h.start();
    h.answer(ok(600));
    let _ = h.wake();
    h.answer(RegisterOutcome::CredentialsRejected); // retry spent
    h.answer(ok(600)); // glitch passed
    let _ = h.wake();
    h.answer(RegisterOutcome::CredentialsRejected);
    assert_eq!(h.sent.len(), 5, "a later glitch gets its own single retry");
}

#[test]
fn untrusted_certificate_and_unknown_user_are_final() {
    for error in [
        SipError::TlsUntrusted("UnknownIssuer".into()),
        SipError::Rejected {
            status: 404,
            reason: "Not Found".into(),
        },
    ] {
        let mut h = Harness::new(600);
        h.start();
        h.answer(failed(error.clone()));
        assert_eq!(h.last_event().state, RegistrationState::Failed);
        assert_eq!(h.last_event().reason, Some(error));
        h.advance(secs(3600));
        assert_eq!(h.sent.len(), 1);
    }
}

#[test]
fn stop_unregisters_a_live_binding() {
    let mut h = Harness::new(600);
    h.start();
    h.answer(ok(600));
    h.reg.stop(h.now);
    h.pump();
    assert_eq!(h.sent.last(), Some(&RegisterRequest { expires: 0 }));
    assert_eq!(h.last_event().state, RegistrationState::Unregistering);
    assert!(!h.reg.is_idle());
    h.answer(ok(0));
    assert_eq!(h.last_event().state, RegistrationState::Unregistered);
    assert!(h.reg.is_idle());
    assert_eq!(h.reg.poll_timeout(), None);
}

#[test]
fn stop_while_registering_unregisters_what_the_answer_created() {
    let mut h = Harness::new(600);
    h.start();
    h.reg.stop(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 1, "nothing new while a REGISTER is out");
    h.answer(ok(600));
    assert_eq!(h.sent.last(), Some(&RegisterRequest { expires: 0 }));
    h.answer(ok(0));
    assert!(h.reg.is_idle());

    let mut h = Harness::new(600);
    h.start();
    h.reg.stop(h.now);
    h.answer(failed(SipError::Timeout));
    assert_eq!(h.sent.len(), 1, "no binding was made, so no unregister");
    assert_eq!(h.last_event().state, RegistrationState::Unregistered);
    assert!(h.reg.is_idle());
}

#[test]
fn stop_without_binding_sends_nothing() {
    let mut h = Harness::new(600);
    h.reg.stop(h.now);
    h.pump();
    assert!(h.sent.is_empty());
    assert_eq!(h.last_event().state, RegistrationState::Unregistered);

    // After a lapsed binding there is nothing to remove either.
    let mut h = Harness::new(60);
    h.start();
    h.answer(ok(60));
    h.now += secs(61);
    h.reg.stop(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 1);
}

#[test]
fn one_request_outstanding_and_stale_outcomes_ignored() {
    let mut h = Harness::new(600);
    h.start();
    h.start();
    h.reg.credentials_changed(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 1);
    h.answer(ok(600));
    let events = h.events.len();
    h.answer(failed(SipError::Timeout)); // nothing outstanding: ignored
    assert_eq!(h.events.len(), events);
    assert_eq!(
        h.reg.state(),
        &RegistrationState::Registered { expires: 600 }
    );
}

#[test]
fn zero_granted_lifetime_does_not_loop() {
    let mut h = Harness::new(600);
    h.start();
    h.answer(ok(0));
    assert!(matches!(h.reg.state(), RegistrationState::Retrying { .. }));
    assert!(h.wake().unwrap_or_default() >= Duration::from_millis(2500));
}

#[test]
fn a_new_password_typed_while_the_old_one_is_out_is_still_tried() {
    let mut h = Harness::new(600);
    h.start();
    h.reg.credentials_changed(h.now); // the user fixes a typo before the answer comes
    h.pump();
    assert_eq!(h.sent.len(), 1, "still one request outstanding");
    h.answer(RegisterOutcome::CredentialsRejected); // ...to the old password
    assert_eq!(h.sent.len(), 2, "the new password is tried");
    h.answer(RegisterOutcome::CredentialsRejected);
    assert_eq!(h.sent.len(), 2, "and rejected once is enough");
    assert_eq!(h.last_event().reason, Some(SipError::WrongPassword));
}

#[test]
fn a_lost_connection_re_registers_at_once_then_backs_off_if_it_keeps_dying() {
    let mut h = Harness::new(600);
    h.start();
    h.answer(ok(600));
    h.reg.flow_lost(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 2, "re-register at once over a new connection");
    assert_eq!(h.last_event().state, RegistrationState::Registering);
    h.answer(ok(600));

    // The new connection dies right away too: now wait, with backoff.
    h.reg.flow_lost(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 2);
    assert!(matches!(
        h.last_event().state,
        RegistrationState::Retrying { .. }
    ));
    let waited = h.wake().unwrap_or_default();
    assert!(
        waited >= Duration::from_millis(2500) && waited <= secs(5),
        "{waited:?}"
    );
    assert_eq!(h.sent.len(), 3);
    h.answer(ok(600));

    // A flow that lives until its refresh resets the count: the next loss is immediate.
    let _ = h.wake();
    h.answer(ok(600));
    h.reg.flow_lost(h.now);
    h.pump();
    assert_eq!(h.sent.len(), 5);
}

#[test]
fn a_lost_connection_is_ignored_when_not_registered_over_it() {
    let mut h = Harness::new(600);
    h.reg.flow_lost(h.now); // never started
    h.start();
    h.reg.flow_lost(h.now); // REGISTER out: it reconnects by itself
    h.pump();
    assert_eq!(h.sent.len(), 1);
}

#[test]
fn over_udp_refreshes_come_at_least_every_minute_whatever_was_granted() {
    let udp = RegistrationPolicy::for_transport(crate::Transport::Udp);
    assert_eq!(udp.refresh_delay(3600, 0.0), secs(60));
    assert_eq!(udp.refresh_delay(120, 0.0), secs(60));
    assert_eq!(
        udp.refresh_delay(60, 0.0),
        secs(30),
        "shorter lifetimes keep their rule"
    );
    assert!(
        udp.refresh_delay(3600, 0.999) >= secs(57),
        "jitter takes at most 5 %"
    );
    for stream in [
        crate::Transport::Tcp,
        crate::Transport::Tls,
        crate::Transport::Ws,
        crate::Transport::Wss,
    ] {
        // A stream's closed connection reveals a restart at once; no extra refreshes.
        let policy = RegistrationPolicy::for_transport(stream);
        assert_eq!(policy.refresh_delay(3600, 0.0), secs(2880), "{stream}");
    }
}

#[test]
fn over_udp_a_registrar_that_restarted_is_registered_with_again_within_a_minute() {
    let udp = RegistrationPolicy::for_transport(crate::Transport::Udp);
    let mut h = Harness::with_policy(udp, 600, 7);
    h.start();
    h.answer(ok(600));
    // The registrar restarts and forgets us; nothing arrives over UDP. The next refresh
    // is what re-creates the binding: within 60 s, not at 480 s.
    let waited = h.wake().unwrap_or_default();
    assert!(waited >= secs(57) && waited <= secs(60), "{waited:?}");
    assert_eq!(h.sent.len(), 2);
    // Still down when the refresh goes out: the transaction times out, then backoff.
    h.advance(secs(32));
    h.answer(failed(SipError::Timeout));
    let retry = h.wake().unwrap_or_default();
    assert!(
        retry >= Duration::from_millis(2500) && retry <= secs(5),
        "{retry:?}"
    );
    assert_eq!(h.sent.len(), 3);
    h.answer(ok(600));
    assert_eq!(
        h.last_event().state,
        RegistrationState::Registered { expires: 600 }
    );
    // And the minute rule goes on after recovery.
    let waited = h.wake().unwrap_or_default();
    assert!(waited <= secs(60), "{waited:?}");
}
