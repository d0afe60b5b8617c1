//! The DNS records RFC 3263 reads, as plain data (however they were fetched), and what the
//! location step yields.

use crate::Transport;

/// A NAPTR record (RFC 3403), reduced to the fields RFC 3263 §4.1 uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NaptrRecord {
    /// Lower is processed first.
    pub order: u16,
    /// Among equal `order`, lower is preferred.
    pub preference: u16,
    /// `S` means "the replacement is an SRV owner name"; the only flag RFC 3263 uses.
    pub flags: String,
    /// e.g. `SIPS+D2T`, `SIP+D2T`, `SIP+D2U`.
    pub services: String,
    /// The SRV owner name to query next, without the trailing dot.
    pub replacement: String,
}

/// An SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SrvRecord {
    /// Lower is tried first.
    pub priority: u16,
    /// Share of the load among equal priorities; 0 = "no preference".
    pub weight: u16,
    /// The port the server listens on.
    pub port: u16,
    /// The server's host name, without the trailing dot (`.` alone: "no service here").
    pub target: String,
}

/// One place to try: over `transport`, to `host` (a name to look up, or an IP) at `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerTarget {
    /// How to talk to it.
    pub transport: Transport,
    /// The SRV target (or the domain itself when DNS had nothing).
    pub host: String,
    /// Where it listens.
    pub port: u16,
}

/// One SRV query to make: the owner name, and the transport its answers are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SrvQuery {
    /// The transport a target found here speaks.
    pub transport: Transport,
    /// e.g. `_sips._tcp.example.com`.
    pub name: String,
}
