//! The one error type of this crate, named after who is at fault.

use serde::{Deserialize, Serialize};

/// Why signalling failed. Variants are named after who is at fault so the UI can say what to
/// do; [`SipError::code`] is a stable string for scripts and the shell's `{ code, message }`.
///
/// Payloads are plain strings (never secrets) so the error can travel in events (`Clone`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SipError {
    /// The user's credentials: the server rejected them (401/407 after our answer, or 403).
    #[error("wrong password")]
    WrongPassword,
    /// The network or the server's host: nothing answered the connection attempt.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The server: a request got no final response in time (RFC 3261 Timer F, or a 408).
    #[error("timeout")]
    Timeout,
    /// The server's certificate: it does not chain to the OS roots or the account's CA, or it
    /// does not name the server. Never bypassed.
    #[error("TLS certificate not trusted: {0}")]
    TlsUntrusted(String),
    /// The server refused for a reason that is not the password (e.g. 404 unknown user).
    #[error("rejected by the server: {status} {reason}")]
    Rejected {
        /// The SIP status code.
        status: u16,
        /// The reason phrase the server sent.
        reason: String,
    },
    /// The server is temporarily unable to serve (5xx, 480); we retry later.
    #[error("server unavailable: {status} {reason}")]
    ServerUnavailable {
        /// The SIP status code.
        status: u16,
        /// The reason phrase the server sent.
        reason: String,
    },
    /// The account's configuration: a malformed URI, an unreadable CA file, a bad proxy.
    #[error("invalid account: {0}")]
    InvalidAccount(String),
    /// The server: it sent a message body we cannot read (e.g. a broken message summary).
    /// Nothing of it was used.
    #[error("malformed message from the server: {0}")]
    MalformedByPeer(String),
    /// The server: it ended a subscription (e.g. MWI) and asked us not to subscribe again
    /// (`Subscription-State: terminated` with `rejected`, `noresource` or `invariant`).
    #[error("the server ended the subscription: {0}")]
    SubscriptionEnded(String),
    /// Our side: the SIP stack failed in a way that is not the network's or the server's.
    #[error("internal SIP stack error: {0}")]
    Internal(String),
}

impl SipError {
    /// A stable machine-readable code, e.g. `sip.wrong_password`.
    pub fn code(&self) -> &'static str {
        match self {
            SipError::WrongPassword => "sip.wrong_password",
            SipError::Unreachable(_) => "sip.unreachable",
            SipError::Timeout => "sip.timeout",
            SipError::TlsUntrusted(_) => "sip.tls_untrusted",
            SipError::Rejected { .. } => "sip.rejected",
            SipError::ServerUnavailable { .. } => "sip.server_unavailable",
            SipError::InvalidAccount(_) => "sip.invalid_account",
            SipError::MalformedByPeer(_) => "sip.malformed_by_peer",
            SipError::SubscriptionEnded(_) => "sip.subscription_ended",
            SipError::Internal(_) => "sip.internal",
        }
    }

    /// True for failures that may pass by themselves (timeout, unreachable, a server that is
    /// busy or restarting, a stack hiccup): retrying later can help. Anything else needs the
    /// user or the server's operator to change something first.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SipError::Unreachable(_)
                | SipError::Timeout
                | SipError::ServerUnavailable { .. }
                | SipError::Internal(_)
        )
    }

    /// A short human reason without details, for one-line CLI output
    /// (`wrong password`, `unreachable`, `timeout`, `TLS certificate not trusted`).
    pub fn short_reason(&self) -> &'static str {
        match self {
            SipError::WrongPassword => "wrong password",
            SipError::Unreachable(_) => "unreachable",
            SipError::Timeout => "timeout",
            SipError::TlsUntrusted(_) => "TLS certificate not trusted",
            SipError::Rejected { .. } => "rejected by the server",
            SipError::ServerUnavailable { .. } => "server unavailable",
            SipError::InvalidAccount(_) => "invalid account",
            SipError::MalformedByPeer(_) => "malformed message from the server",
            SipError::SubscriptionEnded(_) => "subscription ended by the server",
            SipError::Internal(_) => "internal error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(SipError::WrongPassword.code(), "sip.wrong_password");
        assert_eq!(SipError::Unreachable("x".into()).code(), "sip.unreachable");
        assert_eq!(SipError::Timeout.code(), "sip.timeout");
        assert_eq!(
            SipError::TlsUntrusted("x".into()).code(),
            "sip.tls_untrusted"
        );
        assert_eq!(
            SipError::TlsUntrusted("x".into()).short_reason(),
            "TLS certificate not trusted"
        );
    }
}
