//! The subscription rules in fake time: the clock is an `Instant` moved by hand.

use std::time::{Duration, Instant};

use super::*;
use crate::mwi::{MwiState, NotifiedState, SubscribeOutcome, SubscribeRequest};
use crate::{RegistrationPolicy, SipError};

struct Harness {
    mwi: MwiSubscription,
    now: Instant,
    sent: Vec<SubscribeRequest>,
    events: Vec<crate::mwi::MwiEvent>,
}

impl Harness {
    fn new() -> Self {
        Self {
            mwi: MwiSubscription::new(RegistrationPolicy::default(), MWI_EXPIRES, 3),
            now: Instant::now(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn pump(&mut self) {
        while let Some(request) = self.mwi.poll_transmit() {
            self.sent.push(request);
        }
        while let Some(event) = self.mwi.poll_event() {
            self.events.push(event);
        }
    }

    fn registered(&mut self) {
        self.mwi.registered();
        self.pump();
    }

    fn answer(&mut self, outcome: SubscribeOutcome) {
        self.mwi.handle_outcome(outcome, self.now);
        self.pump();
    }

    fn notify(&mut self, state: &str) {
        self.mwi
            .handle_notify(NotifiedState::parse(state), self.now);
        self.pump();
    }

    /// Jumps to the next wake-up and fires it; returns how long that was.
    fn wake(&mut self) -> Option<Duration> {
        let at = self.mwi.poll_timeout()?;
        let waited = at.saturating_duration_since(self.now);
        self.now = at;
        self.mwi.handle_timeout(self.now);
        self.pump();
        Some(waited)
    }

    fn state(&self) -> &MwiState {
        self.mwi.state()
    }

    fn last_reason(&self) -> Option<SipError> {
        self.events.last().and_then(|e| e.reason.clone())
    }
}

fn ok(granted: u32) -> SubscribeOutcome {
    SubscribeOutcome::Success {
        granted_expires: granted,
    }
}

fn failed(error: SipError) -> SubscribeOutcome {
    SubscribeOutcome::Failed {
        error,
        retry_after: None,
    }
}

fn refused(status: u16, reason: &str) -> SubscribeOutcome {
    failed(SipError::Rejected {
        status,
        reason: reason.into(),
    })
}

const NEW: SubscribeRequest = SubscribeRequest {
    expires: MWI_EXPIRES,
    refresh: false,
};
const REFRESH: SubscribeRequest = SubscribeRequest {
    expires: MWI_EXPIRES,
    refresh: true,
};

#[test]
fn subscribes_once_registered_and_refreshes_in_the_dialog_before_expiry() {
    let mut h = Harness::new();
    assert!(
        h.sent.is_empty(),
        "nothing before the account is registered"
    );
    h.registered();
    assert_eq!(h.sent, [NEW]);
    assert_eq!(h.state(), &MwiState::Subscribing);
    h.answer(ok(3600));
    assert_eq!(h.state(), &MwiState::Active { expires: 3600 });
    let waited = h.wake().unwrap();
    assert!(
        waited <= Duration::from_secs(2880) && waited >= Duration::from_secs(2736),
        "{waited:?}"
    );
    assert_eq!(h.sent, [NEW, REFRESH]);
    let events = h.events.len();
    h.answer(ok(3600));
    assert_eq!(
        h.events.len(),
        events + 1,
        "the refresh reports Active again, nothing in between"
    );
    // A registration refresh is not a new registration: nothing more is sent.
    h.registered();
    assert_eq!(h.sent.len(), 2);
}

#[test]
fn refusals_stop_at_once_and_for_the_whole_registration() {
    for (outcome, code) in [
        (refused(489, "Bad Event"), "sip.rejected"),
        (refused(404, "Not Found"), "sip.rejected"),
        (refused(403, "Forbidden"), "sip.rejected"),
        (refused(405, "Method Not Allowed"), "sip.rejected"),
        (SubscribeOutcome::CredentialsRejected, "sip.wrong_password"),
    ] {
        let mut h = Harness::new();
        h.registered();
        h.answer(outcome);
        assert_eq!(h.state(), &MwiState::Stopped);
        assert_eq!(h.last_reason().map(|r| r.code()), Some(code));
        assert_eq!(h.mwi.poll_timeout(), None, "nothing scheduled");
        h.now += Duration::from_secs(24 * 3600);
        h.mwi.handle_timeout(h.now);
        h.registered(); // a registration refresh
        h.pump();
        assert_eq!(h.sent.len(), 1, "one SUBSCRIBE only");
        // Only a new registration tries again.
        h.mwi.registration_lost();
        h.registered();
        assert_eq!(h.sent.len(), 2);
    }
}

#[test]
fn timeouts_back_off_and_give_up_after_a_bounded_number() {
    let mut h = Harness::new();
    h.registered();
    let mut waits = Vec::new();
    for attempt in 1..=MWI_MAX_FAILURES {
        h.answer(failed(SipError::Timeout));
        assert!(
            matches!(h.state(), MwiState::Retrying { attempt: a, .. } if *a == attempt),
            "{:?}",
            h.state()
        );
        waits.push(h.wake().unwrap());
    }
    // 5 s, 10 s, 20 s, 40 s, 80 s windows, each taken at 50–100 %.
    for (wait, window) in waits.iter().zip([5u64, 10, 20, 40, 80]) {
        let window = Duration::from_secs(window);
        assert!(*wait >= window / 2 && *wait <= window, "{wait:?}");
    }
    h.answer(failed(SipError::Timeout));
    assert_eq!(h.state(), &MwiState::Stopped);
    assert_eq!(h.last_reason(), Some(SipError::Timeout));
    assert_eq!(h.sent.len() as u32, MWI_MAX_FAILURES + 1);
    assert_eq!(h.wake(), None);
}

#[test]
fn retry_after_is_honoured() {
    let mut h = Harness::new();
    h.registered();
    h.answer(SubscribeOutcome::Failed {
        error: SipError::ServerUnavailable {
            status: 503,
            reason: "Busy".into(),
        },
        retry_after: Some(Duration::from_secs(90)),
    });
    assert_eq!(h.wake(), Some(Duration::from_secs(90)));
    assert_eq!(h.sent, [NEW, NEW]);
}

#[test]
fn interval_too_brief_asks_again_with_min_expires() {
    let mut h = Harness::new();
    h.registered();
    h.answer(SubscribeOutcome::IntervalTooBrief {
        min_expires: Some(7200),
    });
    assert_eq!(
        h.sent.last(),
        Some(&SubscribeRequest {
            expires: 7200,
            refresh: false
        })
    );
    h.answer(SubscribeOutcome::IntervalTooBrief { min_expires: None });
    assert_eq!(h.state(), &MwiState::Stopped);
}

#[test]
fn a_forgotten_subscription_is_made_anew_once() {
    let mut h = Harness::new();
    h.registered();
    h.answer(ok(600));
    let _ = h.wake();
    assert_eq!(
        h.sent.last(),
        Some(&SubscribeRequest {
            expires: MWI_EXPIRES,
            refresh: true
        })
    );
    h.answer(SubscribeOutcome::NoSuchSubscription);
    assert_eq!(h.sent.last(), Some(&NEW), "a new dialog at once");
    h.answer(SubscribeOutcome::NoSuchSubscription);
    assert_eq!(h.state(), &MwiState::Stopped, "not twice");
}

#[test]
fn notify_states_shorten_refreshes_and_terminations_follow_rfc_6665() {
    let mut h = Harness::new();
    h.registered();
    h.answer(ok(3600));
    h.notify("active;expires=100");
    let waited = h.wake().unwrap();
    assert!(waited <= Duration::from_secs(68), "{waited:?}");
    assert_eq!(h.sent.last(), Some(&REFRESH));
    h.answer(ok(3600));

    // timeout/deactivated: subscribe again at once, in a new dialog.
    h.notify("terminated;reason=timeout");
    assert_eq!(h.sent.last(), Some(&NEW));
    h.answer(ok(3600));
    // Ending every new subscription at once: spaced out, then given up (the timeout above
    // was the first of the bounded count).
    let mut sent = h.sent.len();
    for _ in 1..MWI_MAX_FAILURES {
        h.notify("terminated;reason=deactivated");
        if h.sent.len() == sent {
            assert!(h.wake().unwrap() >= Duration::from_millis(2500));
        }
        assert_eq!(h.sent.len(), sent + 1);
        sent += 1;
        h.answer(ok(3600));
    }
    h.notify("terminated;reason=deactivated");
    assert_eq!(h.state(), &MwiState::Stopped);
    assert_eq!(h.sent.len(), sent, "no endless loop");

    // noresource: never again for this registration.
    let mut h = Harness::new();
    h.registered();
    h.answer(ok(3600));
    h.notify("terminated;reason=noresource");
    assert_eq!(h.state(), &MwiState::Stopped);
    assert_eq!(
        h.last_reason().map(|r| r.code()),
        Some("sip.subscription_ended")
    );
    assert_eq!(h.wake(), None);

    // probation with retry-after: waits as asked.
    let mut h = Harness::new();
    h.registered();
    h.answer(ok(3600));
    h.notify("terminated;reason=probation;retry-after=40");
    assert_eq!(h.wake(), Some(Duration::from_secs(40)));
    assert_eq!(h.sent.last(), Some(&NEW));
}

#[test]
fn losing_the_registration_stops_sending_and_a_new_one_subscribes_anew() {
    let mut h = Harness::new();
    h.registered();
    h.answer(ok(3600));
    h.mwi.registration_lost();
    h.pump();
    assert_eq!(h.state(), &MwiState::Idle);
    assert_eq!(h.wake(), None);
    h.registered();
    assert_eq!(
        h.sent,
        [NEW, NEW],
        "a new dialog, the Contact may have changed"
    );

    // Lost while a SUBSCRIBE is out: its answer is dropped.
    let mut h = Harness::new();
    h.registered();
    h.mwi.registration_lost();
    h.answer(ok(3600));
    assert_eq!(h.state(), &MwiState::Idle);
    assert_eq!(h.wake(), None);
}

#[test]
fn stopping_ends_a_live_subscription_then_goes_idle() {
    let mut h = Harness::new();
    h.registered();
    h.answer(ok(3600));
    h.mwi.stop();
    h.pump();
    assert_eq!(
        h.sent.last(),
        Some(&SubscribeRequest {
            expires: 0,
            refresh: true
        })
    );
    assert!(!h.mwi.is_idle());
    h.answer(failed(SipError::Timeout));
    assert!(h.mwi.is_idle(), "one try only");
    assert_eq!(h.state(), &MwiState::Idle);

    // Stop while the first SUBSCRIBE is out: its 2xx made a subscription to end.
    let mut h = Harness::new();
    h.registered();
    h.mwi.stop();
    h.pump();
    assert_eq!(h.sent.len(), 1);
    h.answer(ok(3600));
    assert_eq!(h.sent.last().map(|r| r.expires), Some(0));
    h.answer(ok(0));
    assert!(h.mwi.is_idle());

    // Nothing live: nothing sent.
    let mut h = Harness::new();
    h.mwi.stop();
    h.pump();
    assert!(h.sent.is_empty());
    assert!(h.mwi.is_idle());
}

#[test]
fn stale_outcomes_and_notifies_without_a_subscription_are_ignored() {
    let mut h = Harness::new();
    // An account without MWI goes through registration states: nothing to say.
    h.mwi.registration_lost();
    h.pump();
    h.answer(ok(3600));
    h.notify("active;expires=10");
    assert!(h.sent.is_empty());
    assert_eq!(h.state(), &MwiState::Idle);
    assert!(h.events.is_empty());
}
