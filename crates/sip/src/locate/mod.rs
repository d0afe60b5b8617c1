//! Finding the SIP server of a domain by DNS, as RFC 3263 says: NAPTR (which transports),
//! then SRV (which hosts and ports, RFC 2782), then A/AAAA.
//!
//! - [`order`]: the ordering rules, sans-IO, tested with fake records.
//! - [`lookup`]: the queries (hickory), each bounded by a deadline.
//! - here: the two steps built on them. [`locate_servers`] asks everything a domain offers
//!   (the manual login's candidates); [`resolve_address`] finds where one account's
//!   transport goes (every registration whose proxy or domain has no port).
//!
//! DNS is not authenticated, so it never weakens security: TLS is tried first whenever it
//! is offered, and the TLS certificate is checked against the domain the user or document
//! named, never against an SRV target (RFC 5922 §4, RFC 6125 §6.2.1), so a forged answer can
//! send us elsewhere but cannot make a stranger's certificate acceptable.

mod lookup;
mod order;
mod records;

#[cfg(test)]
mod order_tests;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};

use lookup::{Dns, LookupFailure};
pub(crate) use records::ServerTarget;

use crate::{SipError, Transport};

/// Which DNS server answers the NAPTR, SRV and address queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameServer {
    /// The operating system's configuration (`/etc/resolv.conf`, the registry, …); addresses
    /// through the OS resolver.
    #[default]
    System,
    /// This server only, for every query (the lab's DNS server in tests).
    At(SocketAddr),
}

impl NameServer {
    /// Parses `IP:PORT` (or a bare IP, port 53), as `SIDETONE_DNS_SERVER` holds it.
    pub fn parse(text: &str) -> Result<Self, SipError> {
        let text = text.trim();
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(Self::At(addr));
        }
        text.parse::<IpAddr>()
            .map(|ip| Self::At(SocketAddr::new(ip, 53)))
            .map_err(|_| {
                SipError::InvalidAccount(format!(
                    "not a DNS server address (IP:PORT expected): {text:?}"
                ))
            })
    }
}

/// What DNS offers for `domain`, in the order to try: NAPTR, then the SRV records it names
/// (or the three standard SRV names). Empty when DNS says nothing or does not answer; then
/// the caller keeps its old order. At most one NAPTR and three SRV queries, the SRV ones at
/// the same time, each within [`lookup::QUERY_DEADLINE`].
pub(crate) async fn locate_servers(domain: &str, server: NameServer) -> Vec<ServerTarget> {
    let dns = Dns::new(server);
    let naptr = match dns.naptr(domain).await {
        Ok(records) => records,
        Err(LookupFailure::NoRecords) => Vec::new(),
        Err(LookupFailure::TimedOut) => {
            // Nothing answers: more queries would only add their own deadlines.
            tracing::info!(domain, "DNS did not answer the NAPTR query");
            return Vec::new();
        }
        Err(LookupFailure::Failed(why)) => {
            tracing::info!(domain, why, "NAPTR lookup failed");
            Vec::new()
        }
    };
    let queries = order::srv_queries(domain, &naptr);
    let answers: Vec<Vec<records::SrvRecord>> =
        futures_util::future::join_all(queries.iter().map(|q| dns.srv(&q.name)))
            .await
            .into_iter()
            .map(Result::unwrap_or_default)
            .collect();
    let found = order::targets(&queries, &answers, &mut random_pick());
    tracing::info!(domain, ?found, "RFC 3263 location");
    found
}

/// Where an account's requests over `transport` go when its server is `host` (and `port`,
/// when the account names one). An IP literal or an explicit port uses no SRV; otherwise
/// the SRV records of the transport (the name a NAPTR record gives, else the standard one)
/// pick host and port, and a domain without them is reached on the default port.
pub(crate) async fn resolve_address(
    host: &str,
    port: Option<u16>,
    transport: Transport,
    server: NameServer,
) -> Result<SocketAddr, SipError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(
            ip,
            port.unwrap_or(transport.default_port()),
        ));
    }
    let dns = Dns::new(server);
    let first = |found: Vec<SocketAddr>| {
        found
            .into_iter()
            .next()
            .ok_or_else(|| SipError::Unreachable(format!("{host} has no address")))
    };
    let default_port = transport.default_port();
    let (Some(standard), None) = (order::standard_srv_name(transport, host), port) else {
        return first(dns.addresses(host, port.unwrap_or(default_port)).await?);
    };
    // RFC 3263 §4.2: the transport is known; a NAPTR record may still name its SRV owner.
    let name = match dns.naptr(host).await {
        Err(LookupFailure::TimedOut) => {
            return first(dns.addresses(host, default_port).await?);
        }
        Ok(records) => order::srv_queries(host, &records)
            .into_iter()
            .find(|q| q.transport == transport)
            .map_or(standard, |q| q.name),
        Err(_) => standard,
    };
    let targets = match dns.srv(&name).await {
        Ok(records) => order::order_srv(&records, &mut random_pick()),
        Err(_) => Vec::new(),
    };
    if targets.is_empty() {
        return first(dns.addresses(host, default_port).await?);
    }
    let mut last_error = None;
    for target in &targets {
        match dns.addresses(&target.target, target.port).await {
            Ok(found) => return first(found),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| SipError::Unreachable(format!("{name}: no target"))))
}

/// Random draws for RFC 2782's weighted choice: std's per-process random keys, no new crate.
fn random_pick() -> impl FnMut(u32) -> u32 {
    let state = RandomState::new();
    let mut draw = 0u64;
    move |upto| {
        draw += 1;
        let value = state.hash_one(draw) % (u64::from(upto) + 1);
        u32::try_from(value).unwrap_or(upto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_server_addresses_parse_with_or_without_port() {
        assert_eq!(
            NameServer::parse("127.0.0.1:5353").ok(),
            Some(NameServer::At("127.0.0.1:5353".parse().unwrap()))
        );
        assert_eq!(
            NameServer::parse(" ::1 ").ok(),
            Some(NameServer::At("[::1]:53".parse().unwrap()))
        );
        assert!(NameServer::parse("dns.example.com").is_err());
    }

    #[test]
    fn random_draws_stay_in_range() {
        let mut pick = random_pick();
        for upto in [0, 1, 7, 65535 * 4] {
            for _ in 0..50 {
                assert!(pick(upto) <= upto);
            }
        }
    }

    #[tokio::test]
    async fn ip_literals_and_explicit_ports_need_no_dns() {
        // A name server nobody listens on: any query would fail.
        let nobody = NameServer::At("127.0.0.1:9".parse().unwrap());
        let addr = resolve_address("10.1.2.3", None, Transport::Tls, nobody)
            .await
            .unwrap();
        assert_eq!(addr, "10.1.2.3:5061".parse().unwrap());
        let addr = resolve_address("::1", Some(5070), Transport::Udp, nobody)
            .await
            .unwrap();
        assert_eq!(addr, "[::1]:5070".parse().unwrap());
    }
}
