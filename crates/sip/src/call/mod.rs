//! Calls: our names for a call and its states, and the sans-IO rules that turn what the
//! signalling reports (provisional and final responses, BYE, CANCEL, local commands) into
//! the states a user sees. The IO half lives in `crate::stack::call`.

mod glare;
mod machine;
mod refer;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use glare::{GLARE_ATTEMPTS, glare_retry_delay};
pub use machine::{CallInput, CallMachine};
pub(crate) use refer::{Referral, refer_target};

/// A call's identity: its SIP Call-ID (unique per call, RFC 3261 §8.1.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallId(pub String);

impl CallId {
    /// A fresh random Call-ID for an outgoing call.
    pub fn random(seed: u64) -> Self {
        Self(format!("{seed:016x}@sidetone"))
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who placed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallDirection {
    /// We called.
    Outgoing,
    /// They called us.
    Incoming,
}

/// Where a call is, as a user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
#[non_exhaustive]
pub enum CallState {
    /// Outgoing: the INVITE is on its way (no answer beyond 100 Trying yet).
    Dialing,
    /// Outgoing: the far end rings (180). Incoming: our phone rings.
    Ringing,
    /// Outgoing: the far end sent session progress (183), usually with early media.
    Early,
    /// Both ends talk: 2xx and ACK.
    Established,
    /// The call is over; nothing more follows.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

impl CallState {
    /// The lower-case name used in events (`dialing`, `ringing`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            CallState::Dialing => "dialing",
            CallState::Ringing => "ringing",
            CallState::Early => "early",
            CallState::Established => "established",
            CallState::Ended { .. } => "ended",
        }
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// We hung up (BYE after answer, CANCEL before).
    LocalHangup,
    /// The far end hung up (BYE), or the caller gave up before we answered (CANCEL).
    RemoteHangup,
    /// We declined an incoming call (486/603).
    LocalDecline,
    /// The callee is busy (486, 600).
    Busy,
    /// The callee declined (603).
    Declined,
    /// No such user (404, 604) or not reachable at the moment (480).
    NotFound,
    /// Nobody answered in time (408, or no final response).
    Timeout,
    /// The network: the INVITE or its transport failed.
    Unreachable,
    /// The server refused our credentials (401/407 after our answer).
    Unauthorized,
    /// No codec in common (488/606), or the far end's SDP was unusable.
    IncompatibleMedia,
    /// Our side: the call's audio source or recording could not be opened.
    LocalMediaFailed,
    /// Another final response.
    Rejected {
        /// The SIP status code.
        status: u16,
    },
}

impl EndReason {
    /// A short phrase for one-line output (`busy`, `not found`, ...).
    pub fn short(&self) -> String {
        match self {
            EndReason::LocalHangup => "hung up".into(),
            EndReason::RemoteHangup => "far end hung up".into(),
            EndReason::LocalDecline => "declined by us".into(),
            EndReason::Busy => "busy".into(),
            EndReason::Declined => "declined".into(),
            EndReason::NotFound => "not found".into(),
            EndReason::Timeout => "timeout".into(),
            EndReason::Unreachable => "unreachable".into(),
            EndReason::Unauthorized => "unauthorized".into(),
            EndReason::IncompatibleMedia => "incompatible media".into(),
            EndReason::LocalMediaFailed => "cannot open the call's audio".into(),
            EndReason::Rejected { status } => format!("rejected ({status})"),
        }
    }

    /// True for a call that ended normally (someone hung up) rather than failing.
    pub fn is_normal(&self) -> bool {
        matches!(
            self,
            EndReason::LocalHangup | EndReason::RemoteHangup | EndReason::LocalDecline
        )
    }

    /// The reason a failed INVITE's final status stands for.
    pub fn from_status(status: u16) -> Self {
        match status {
            486 | 600 => EndReason::Busy,
            603 => EndReason::Declined,
            404 | 480 | 604 => EndReason::NotFound,
            408 => EndReason::Timeout,
            401 | 407 => EndReason::Unauthorized,
            487 => EndReason::RemoteHangup,
            488 | 606 => EndReason::IncompatibleMedia,
            503 => EndReason::Unreachable,
            status => EndReason::Rejected { status },
        }
    }
}

/// A call changed state, or its session was renegotiated. `remote_sdp` carries the far
/// end's session description when this step brought one (the 2xx answer to our offer, or
/// early media in a 183).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    /// Which call.
    pub call_id: CallId,
    /// Its state: new, or unchanged when `update` is set.
    pub state: CallState,
    /// The far end's SDP, when this step carried one.
    pub remote_sdp: Option<String>,
    /// A mid-call offer/answer step (a re-INVITE either way), when this event is one.
    pub update: Option<SessionUpdate>,
    /// How our transfer of this call goes, when this event is about that.
    pub transfer: Option<TransferUpdate>,
}

/// How our blind transfer of a call (REFER, RFC 3515; RFC 5589 §6) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferUpdate {
    /// The far end accepted the REFER (202) and calls the target.
    Accepted,
    /// The far end refused the REFER (its status), or no answer came (408).
    Refused {
        /// The final status of the REFER.
        status: u16,
    },
    /// The far end's call to the target progressed (a NOTIFY with a 1xx `message/sipfrag`).
    Progress {
        /// The provisional status of the far end's call to the target.
        status: u16,
    },
    /// The far end's call to the target ended its transfer: its first final status, or the
    /// last status when the subscription ended without one. Reported once.
    Finished {
        /// 2xx: the target answered (the transfer is done); anything else: it failed.
        status: u16,
    },
}

/// A mid-call offer/answer step of an established call (RFC 3264 §8 over re-INVITE).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionUpdate {
    /// The far end sent a new offer (e.g. to hold or resume us). Answer it at once with
    /// `Call::answer_offer` (or refuse it with `Call::refuse_offer`): the far end waits.
    /// `sdp` is empty for an offerless re-INVITE (then answer with an offer of ours).
    RemoteOffer {
        /// The far end's offer.
        sdp: String,
    },
    /// Our re-offer (`Call::send_offer`) was accepted with this answer.
    Answered {
        /// The far end's answer.
        sdp: String,
    },
    /// Our re-offer was refused, or no answer came: the session stays as it was
    /// (RFC 3261 §14.1). A 491 (glare) is only reported after the retries ran out.
    Refused {
        /// The final status, or 408 when none came.
        status: u16,
    },
}
