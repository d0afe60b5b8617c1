//! The calls the UI sees: the engine's call events folded into the `CallState` DTO the UI
//! renders (when it started, when it was answered, why it ended).

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use sidetone_engine::EngineEvent;
use sidetone_sip::{CallDirection, CallState, EndReason};

use crate::error::CommandError;

/// `call_state`'s payload (ui/src/lib/api/README.md).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    /// The engine's call id.
    pub call_id: String,
    /// The account the call belongs to.
    pub account_id: String,
    /// `dialing`, `ringing`, `connected` or `ended`.
    pub state: &'static str,
    /// `incoming` or `outgoing`.
    pub direction: &'static str,
    /// The far end's address.
    pub remote: String,
    /// The far end's name, when known.
    pub display_name: Option<String>,
    /// When the call was placed or began ringing (ms since the epoch).
    pub started_at: i64,
    /// When it was answered.
    pub answered_at: Option<i64>,
    /// We put it on hold.
    pub held: bool,
    /// The far end put us on hold.
    pub remote_held: bool,
    /// Our microphone is muted.
    pub muted: bool,
    /// Why it ended, when not a normal hang-up.
    pub end_reason: Option<CommandError>,
}

impl CallView {
    /// A call as first seen (`dialing` until the engine says otherwise).
    fn new(
        account_id: &str,
        call_id: &str,
        direction: CallDirection,
        remote: &str,
        now_ms: i64,
    ) -> Self {
        Self {
            call_id: call_id.to_owned(),
            account_id: account_id.to_owned(),
            state: "dialing",
            direction: direction_name(direction),
            remote: remote.to_owned(),
            display_name: None,
            started_at: now_ms,
            answered_at: None,
            held: false,
            remote_held: false,
            muted: false,
            end_reason: None,
        }
    }
}

/// `incoming_call`'s payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingCallView {
    call_id: String,
    account_id: String,
    remote: String,
    display_name: Option<String>,
    started_at: i64,
}

impl IncomingCallView {
    /// The ringing call's announcement.
    pub fn of(call: &CallView) -> Self {
        Self {
            call_id: call.call_id.clone(),
            account_id: call.account_id.clone(),
            remote: call.remote.clone(),
            display_name: call.display_name.clone(),
            started_at: call.started_at,
        }
    }
}

/// The calls in progress, by id.
#[derive(Debug, Default)]
pub struct CallBook {
    calls: Mutex<HashMap<String, CallView>>,
}

impl CallBook {
    /// Folds one engine event in: for a call's state change, the call as the UI should now
    /// see it, and whether it is a new incoming call (for `incoming_call` and the
    /// notification); `None` for any other event.
    pub fn update(&self, event: &EngineEvent, now_ms: i64) -> Option<(CallView, bool)> {
        let EngineEvent::Call {
            account_id,
            call_id,
            direction,
            remote,
            state,
        } = event
        else {
            return None;
        };
        Some(self.fold(&account_id.0, &call_id.0, *direction, remote, state, now_ms))
    }

    fn fold(
        &self,
        account_id: &str,
        call_id: &str,
        direction: CallDirection,
        remote: &str,
        state: &CallState,
        now_ms: i64,
    ) -> (CallView, bool) {
        let fresh = || CallView::new(account_id, call_id, direction, remote, now_ms);
        let Ok(mut calls) = self.calls.lock() else {
            let mut view = fresh();
            view.state = "ended";
            view.end_reason = Some(CommandError::internal("the call list is unavailable"));
            return (view, false);
        };
        let is_new = !calls.contains_key(call_id);
        let view = calls.entry(call_id.to_owned()).or_insert_with(fresh);
        match state {
            CallState::Dialing => view.state = "dialing",
            CallState::Ringing | CallState::Early => view.state = "ringing",
            CallState::Established => {
                view.state = "connected";
                view.answered_at.get_or_insert(now_ms);
            }
            CallState::Ended { reason } => {
                view.state = "ended";
                view.end_reason = end_reason(reason);
            }
            // A state this shell does not know yet changes nothing the UI shows.
            _ => {}
        }
        let snapshot = view.clone();
        if snapshot.state == "ended" {
            calls.remove(call_id);
        }
        let ringing_in =
            is_new && direction == CallDirection::Incoming && matches!(state, CallState::Ringing);
        (snapshot, ringing_in)
    }

    /// Sets a call's hold state (ours and the far end's); returns the call as it now is.
    pub fn set_held(&self, call_id: &str, local: bool, remote: bool) -> Option<CallView> {
        let mut calls = self.calls.lock().ok()?;
        let call = calls.get_mut(call_id)?;
        call.held = local;
        call.remote_held = remote;
        Some(call.clone())
    }

    /// Sets a call's mute flag; returns the call as it now is.
    pub fn set_muted(&self, call_id: &str, muted: bool) -> Option<CallView> {
        let mut calls = self.calls.lock().ok()?;
        let call = calls.get_mut(call_id)?;
        call.muted = muted;
        Some(call.clone())
    }
}

fn direction_name(direction: CallDirection) -> &'static str {
    match direction {
        CallDirection::Incoming => "incoming",
        _ => "outgoing",
    }
}

/// Why a call ended, for the UI; `None` for a normal hang-up.
fn end_reason(reason: &EndReason) -> Option<CommandError> {
    if reason.is_normal() {
        return None;
    }
    let code = match reason {
        EndReason::Busy => "call.busy",
        EndReason::Declined => "call.declined",
        EndReason::NotFound => "call.not_found",
        EndReason::Timeout => "net.timeout",
        EndReason::Unreachable => "net.unreachable",
        EndReason::Unauthorized => "auth.wrong_password",
        EndReason::IncompatibleMedia => "call.incompatible_media",
        EndReason::LocalMediaFailed => "audio.device_not_found",
        _ => "call.failed",
    };
    Some(CommandError::new(code, reason.short()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outgoing_call_goes_dialing_ringing_connected_ended() {
        let book = CallBook::default();
        let out = CallDirection::Outgoing;
        let (view, ringing_in) = book.fold("a", "c1", out, "sip:2@x", &CallState::Dialing, 10);
        assert_eq!(
            (view.state, ringing_in, view.started_at),
            ("dialing", false, 10)
        );
        let (view, _) = book.fold("a", "c1", out, "sip:2@x", &CallState::Early, 20);
        assert_eq!(view.state, "ringing");
        let (view, _) = book.fold("a", "c1", out, "sip:2@x", &CallState::Established, 30);
        assert_eq!((view.state, view.answered_at), ("connected", Some(30)));
        let busy = CallState::Ended {
            reason: EndReason::RemoteHangup,
        };
        let (view, _) = book.fold("a", "c1", out, "sip:2@x", &busy, 90);
        assert_eq!(view.state, "ended");
        assert!(view.end_reason.is_none(), "a normal hang-up has no reason");
        assert!(
            book.set_muted("c1", true).is_none(),
            "an ended call leaves the book"
        );
    }

    #[test]
    fn only_call_events_change_the_book() {
        let book = CallBook::default();
        let removed = EngineEvent::AccountRemoved {
            account_id: sidetone_sip::AccountId("a".into()),
        };
        assert!(book.update(&removed, 1).is_none());
        let ringing = EngineEvent::Call {
            account_id: sidetone_sip::AccountId("a".into()),
            call_id: sidetone_sip::CallId("c9".into()),
            direction: CallDirection::Incoming,
            remote: "sip:9@x".into(),
            state: CallState::Ringing,
        };
        let (view, ringing_in) = book.update(&ringing, 5).unwrap();
        assert_eq!(
            (view.state, view.direction, ringing_in),
            ("ringing", "incoming", true)
        );
    }

    #[test]
    fn a_new_incoming_ringing_call_is_announced_once_and_busy_has_a_code() {
        let book = CallBook::default();
        let inc = CallDirection::Incoming;
        let (_, first) = book.fold("a", "c2", inc, "sip:9@x", &CallState::Ringing, 1);
        let (_, again) = book.fold("a", "c2", inc, "sip:9@x", &CallState::Ringing, 2);
        assert!(first && !again);
        let out = CallDirection::Outgoing;
        let busy = CallState::Ended {
            reason: EndReason::Busy,
        };
        let (view, _) = book.fold("a", "c3", out, "sip:7@x", &busy, 3);
        assert_eq!(view.end_reason.map(|e| e.code), Some("call.busy"));
    }
}
