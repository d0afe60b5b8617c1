//! The inputs and outputs of the MWI subscription machine, and the NOTIFY report.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::MessageSummary;
use crate::SipError;

/// Where an account's message-summary subscription stands (RFC 6665 from our side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MwiState {
    /// No subscription, and none wanted now (the account is not registered).
    Idle,
    /// A SUBSCRIBE creating the subscription is on its way.
    Subscribing,
    /// The server holds our subscription for `expires` seconds (refreshed before then).
    Active {
        /// The lifetime the server granted, in seconds.
        expires: u32,
    },
    /// The last attempt failed for a reason that may pass; the next one is scheduled.
    Retrying {
        /// How many attempts in a row have failed.
        attempt: u32,
        /// Milliseconds until the next attempt.
        retry_in_ms: u64,
    },
    /// Given up for this registration (the server does not do MWI for us, refused our
    /// credentials, or kept failing); the event carries the reason. A new registration
    /// (after the account lost its registration, or was registered again) tries once more.
    Stopped,
}

/// Something the user (or the log) should hear about the subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MwiEvent {
    /// The state the subscription is now in.
    pub state: MwiState,
    /// Why, when it is `Retrying` or `Stopped`.
    pub reason: Option<SipError>,
}

/// One SUBSCRIBE exchange the machine wants done (the stack answers a digest challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeRequest {
    /// The `Expires` to ask for; 0 ends the subscription.
    pub expires: u32,
    /// Within the subscription's existing dialog (a refresh or an unsubscribe); otherwise a
    /// new dialog (new Call-ID and tag).
    pub refresh: bool,
}

/// How one SUBSCRIBE exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// 2xx; the server holds the subscription for `granted_expires` seconds.
    Success {
        /// The `Expires` of the 2xx (what we asked when it had none).
        granted_expires: u32,
    },
    /// 401/407 to our answer of the challenge: the password is wrong for this server.
    CredentialsRejected,
    /// 423 Interval Too Brief, with the server's `Min-Expires` when it sent a usable one.
    IntervalTooBrief {
        /// The shortest lifetime the server accepts.
        min_expires: Option<u32>,
    },
    /// 481 to a refresh: the server no longer knows the subscription.
    NoSuchSubscription,
    /// Anything else: a final refusal (489 Bad Event, 404, 403, …) or a transient failure
    /// (timeout, unreachable, 5xx), told apart by the error.
    Failed {
        /// What went wrong.
        error: SipError,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}

/// A `Subscription-State` header (RFC 6665 §8.2.3), as far as we act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifiedState {
    /// `active` or `pending`: the subscription lives, for `expires` seconds when given.
    Alive {
        /// The remaining lifetime the server states.
        expires: Option<u32>,
    },
    /// `terminated`: the subscription is over.
    Terminated {
        /// The `reason` parameter, lower-cased (`deactivated`, `timeout`, `noresource`, …).
        reason: Option<String>,
        /// The `retry-after` parameter, in seconds.
        retry_after: Option<u32>,
    },
}

impl NotifiedState {
    /// Parses a header value; `None` for a state we do not know (RFC 6665 §4.1.3 says to
    /// treat unknown states as absent).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(';').map(str::trim);
        let state = parts.next()?.to_ascii_lowercase();
        let mut expires = None;
        let mut reason = None;
        let mut retry_after = None;
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("expires") {
                expires = value.parse().ok();
            } else if name.eq_ignore_ascii_case("reason") {
                reason = Some(value.to_ascii_lowercase());
            } else if name.eq_ignore_ascii_case("retry-after") {
                retry_after = value.parse().ok();
            }
        }
        match state.as_str() {
            "active" | "pending" => Some(Self::Alive { expires }),
            "terminated" => Some(Self::Terminated {
                reason,
                retry_after,
            }),
            _ => None,
        }
    }
}

/// A message-summary NOTIFY we answered 200: for our subscription or unsolicited (as
/// Asterisk sends them to registered contacts without any subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MwiNotification {
    /// The summary; `None` when the NOTIFY had no body (a subscription that is pending or
    /// ending may say nothing about messages).
    pub summary: Option<MessageSummary>,
    /// Its `Subscription-State`, when it was for our subscription and had a known one.
    pub subscription: Option<NotifiedState>,
    /// True when it belongs to our subscription (its dialog), false when unsolicited.
    pub solicited: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_state_headers() {
        assert_eq!(
            NotifiedState::parse("active;expires=3599"),
            Some(NotifiedState::Alive {
                expires: Some(3599)
            })
        );
        assert_eq!(
            NotifiedState::parse(" Pending ; EXPIRES = 60 "),
            Some(NotifiedState::Alive { expires: Some(60) })
        );
        assert_eq!(
            NotifiedState::parse("terminated;reason=NoResource;retry-after=30"),
            Some(NotifiedState::Terminated {
                reason: Some("noresource".into()),
                retry_after: Some(30)
            })
        );
        assert_eq!(
            NotifiedState::parse("terminated"),
            Some(NotifiedState::Terminated {
                reason: None,
                retry_after: None
            })
        );
        assert_eq!(
            NotifiedState::parse("active;expires=soon"),
            Some(NotifiedState::Alive { expires: None })
        );
        assert_eq!(NotifiedState::parse("waiting"), None);
        assert_eq!(NotifiedState::parse(""), None);
    }
}
