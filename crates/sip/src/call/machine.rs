//! The call state rules, sans-IO: inputs in, user-visible states out.

use std::collections::VecDeque;

use super::{CallDirection, CallState, EndReason};

/// What happened to a call, as reported by the signalling layer or asked by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallInput {
    /// A provisional response to our INVITE (100 is ignored; 180 rings; 183 is early).
    Provisional {
        /// Its status code (101–199).
        status: u16,
    },
    /// A final response to our INVITE.
    Final {
        /// Its status code (200–699).
        status: u16,
    },
    /// Incoming call: we sent 2xx and the caller's ACK arrived.
    Acknowledged,
    /// The far end sent BYE (or CANCEL before we answered).
    RemoteHangup,
    /// The user hung up (or cancelled, before the answer).
    LocalHangup,
    /// The user declined an incoming call.
    LocalDecline,
    /// No final response in time (Timer B), or no ACK for our 2xx.
    Timeout,
    /// The transport failed before a final response.
    TransportFailed,
    /// The far end's SDP is unusable (no common codec).
    MediaFailed,
}

/// One call's state machine (see the module docs). States only move forward, and
/// [`CallState::Ended`] is final: late inputs after it are ignored.
#[derive(Debug, Clone)]
pub struct CallMachine {
    direction: CallDirection,
    state: CallState,
    events: VecDeque<CallState>,
}

impl CallMachine {
    /// A new call: outgoing calls start [`CallState::Dialing`], incoming ones
    /// [`CallState::Ringing`]; that first state is the first event.
    pub fn new(direction: CallDirection) -> Self {
        let state = match direction {
            CallDirection::Outgoing => CallState::Dialing,
            CallDirection::Incoming => CallState::Ringing,
        };
        Self {
            direction,
            events: VecDeque::from([state.clone()]),
            state,
        }
    }

    /// The current state.
    pub fn state(&self) -> &CallState {
        &self.state
    }

    /// True once the call has ended.
    pub fn is_ended(&self) -> bool {
        matches!(self.state, CallState::Ended { .. })
    }

    /// The next state change to report, oldest first.
    pub fn poll_event(&mut self) -> Option<CallState> {
        self.events.pop_front()
    }

    /// Applies one input.
    pub fn handle(&mut self, input: CallInput) {
        if self.is_ended() {
            return;
        }
        let established = self.state == CallState::Established;
        let next = match input {
            CallInput::Provisional { status }
                if !established && self.direction == CallDirection::Outgoing =>
            {
                match status {
                    180..=182 if self.state == CallState::Dialing => Some(CallState::Ringing),
                    183 if matches!(self.state, CallState::Dialing | CallState::Ringing) => {
                        Some(CallState::Early)
                    }
                    _ => None,
                }
            }
            CallInput::Provisional { .. } => None,
            CallInput::Final { status } => match status {
                200..=299 if !established => Some(CallState::Established),
                200..=299 => None,
                status => Some(ended(EndReason::from_status(status))),
            },
            CallInput::Acknowledged if !established => Some(CallState::Established),
            CallInput::Acknowledged => None,
            CallInput::RemoteHangup => Some(ended(EndReason::RemoteHangup)),
            CallInput::LocalHangup => Some(ended(EndReason::LocalHangup)),
            CallInput::LocalDecline
                if self.direction == CallDirection::Incoming && !established =>
            {
                Some(ended(EndReason::LocalDecline))
            }
            // Declining anything else is hanging up.
            CallInput::LocalDecline => Some(ended(EndReason::LocalHangup)),
            CallInput::Timeout => Some(ended(EndReason::Timeout)),
            CallInput::TransportFailed if established => Some(ended(EndReason::RemoteHangup)),
            CallInput::TransportFailed => Some(ended(EndReason::Unreachable)),
            CallInput::MediaFailed => Some(ended(EndReason::IncompatibleMedia)),
        };
        if let Some(next) = next
            && next != self.state
        {
            self.state = next.clone();
            self.events.push_back(next);
        }
    }
}

fn ended(reason: EndReason) -> CallState {
    CallState::Ended { reason }
}
