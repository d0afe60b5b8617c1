//! The transports an account can use to reach its registrar.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SipError;

/// How SIP messages travel to the registrar (RFC 3261 §18, RFC 7118 for WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Transport {
    /// Plain UDP; the default of RFC 3261.
    #[default]
    Udp,
    /// Plain TCP.
    Tcp,
    /// TLS over TCP, certificate always verified.
    Tls,
    /// SIP over WebSocket (RFC 7118), plain.
    Ws,
    /// SIP over secure WebSocket, certificate always verified.
    Wss,
}

impl Transport {
    /// The port a server listens on when the account names none (5060/5061 for SIP; 80/443
    /// for WebSocket, as a browser would assume).
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Tls => 5061,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
    }

    /// True when the transport runs over TLS (so certificates are checked).
    pub fn is_secure(self) -> bool {
        matches!(self, Transport::Tls | Transport::Wss)
    }

    /// The lower-case name used in URIs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Transport {
    type Err = SipError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            "ws" => Ok(Transport::Ws),
            "wss" => Ok(Transport::Wss),
            other => Err(SipError::InvalidAccount(format!(
                "unknown transport {other:?} (expected udp, tcp, tls, ws or wss)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively_and_round_trips() {
        for t in [
            Transport::Udp,
            Transport::Tcp,
            Transport::Tls,
            Transport::Ws,
            Transport::Wss,
        ] {
            assert_eq!(t.as_str().to_uppercase().parse::<Transport>().ok(), Some(t));
        }
        assert!("sctp".parse::<Transport>().is_err());
    }
}
