//! The inputs and outputs of the registration state machine.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SipError;

/// Where an account's registration stands, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegistrationState {
    /// No binding at the registrar, and none wanted.
    Unregistered,
    /// The first REGISTER (or one after the user acted) is on its way.
    Registering,
    /// The registrar holds our binding for `expires` seconds (refreshed before then).
    Registered {
        /// The lifetime the registrar granted, in seconds.
        expires: u32,
    },
    /// The last attempt failed for a reason that may pass; the next one is scheduled.
    Retrying {
        /// How many attempts in a row have failed.
        attempt: u32,
        /// Milliseconds until the next attempt.
        retry_in_ms: u64,
    },
    /// A REGISTER with `Expires: 0` is on its way.
    Unregistering,
    /// Given up until the user acts (new password, fixed CA, edited account): retrying
    /// would not help, or would lock the user out. The event carries the reason.
    Failed,
}

/// Something the user should hear about: a new state and, on failure, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationEvent {
    /// The state the registration is now in.
    pub state: RegistrationState,
    /// Why, when the state is `Retrying` or `Failed` (or an unregister failed).
    pub reason: Option<SipError>,
}

/// What the machine wants sent: one REGISTER exchange (the stack answers the challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterRequest {
    /// The `Expires` to ask for; 0 removes our binding (unregister).
    pub expires: u32,
}

impl RegisterRequest {
    /// True for an unregister (`Expires: 0`).
    pub fn is_unregister(&self) -> bool {
        self.expires == 0
    }
}

/// How one REGISTER exchange ended, as reported by the IO side.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterOutcome {
    /// 2xx: the registrar granted `granted_expires` seconds (0 after an unregister).
    Success {
        /// The lifetime the registrar granted for our Contact.
        granted_expires: u32,
    },
    /// The server refused the credentials: 401/407 to our answer of its challenge (not a
    /// `stale=true` one, which the stack answers again), or 403 Forbidden.
    CredentialsRejected,
    /// 423 Interval Too Brief, with the registrar's `Min-Expires` when it sent one.
    IntervalTooBrief {
        /// The smallest lifetime the registrar accepts.
        min_expires: Option<u32>,
    },
    /// Anything else: the error says whose fault; `retry_after` is the server's
    /// `Retry-After` (e.g. on 503), which is honoured instead of our own backoff.
    Failed {
        /// What went wrong.
        error: SipError,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}
