//! RFC 3263 §4.1 and RFC 2782 ordering, sans-IO: from NAPTR and SRV records to the ordered
//! places to try. Randomness (SRV weights) is passed in, so tests are deterministic.

use super::records::{NaptrRecord, ServerTarget, SrvQuery, SrvRecord};
use crate::Transport;

/// The NAPTR services we speak and the transport each names (RFC 3263 §4.1). WebSocket
/// (`SIP+D2W`, RFC 7118) and SCTP are not located by DNS here.
const SERVICES: [(&str, Transport); 3] = [
    ("SIPS+D2T", Transport::Tls),
    ("SIP+D2T", Transport::Tcp),
    ("SIP+D2U", Transport::Udp),
];

/// At most this many targets are kept from one SRV answer: each may cost an address lookup
/// and a connection attempt, and a long list from a hostile DNS answer must not stall us.
pub(crate) const MAX_TARGETS_PER_SRV: usize = 4;

/// A random number in `0..=upto`, for the weighted choice of RFC 2782.
pub(crate) type Pick<'a> = &'a mut dyn FnMut(u32) -> u32;

/// The SRV owner name RFC 3263 §4.2 queries for `transport` at `domain` when no NAPTR names
/// one; `None` for transports without SRV names (WebSocket).
pub(crate) fn standard_srv_name(transport: Transport, domain: &str) -> Option<String> {
    let prefix = match transport {
        Transport::Tls => "_sips._tcp",
        Transport::Tcp => "_sip._tcp",
        Transport::Udp => "_sip._udp",
        Transport::Ws | Transport::Wss => return None,
    };
    Some(format!("{prefix}.{domain}"))
}

/// The SRV queries to make for `domain`, in the order their answers are tried.
///
/// From the NAPTR records when they name a service we speak (sorted by order, then
/// preference; one query per transport, the first record wins); else the three standard
/// names. Either way TLS comes first when it is offered at all: DNS answers are not
/// authenticated, so their order never makes us prefer plain text over TLS.
pub(crate) fn srv_queries(domain: &str, naptr: &[NaptrRecord]) -> Vec<SrvQuery> {
    let mut usable: Vec<(&NaptrRecord, Transport)> = naptr
        .iter()
        .filter(|r| r.flags.eq_ignore_ascii_case("s"))
        .filter(|r| !r.replacement.is_empty() && r.replacement != ".")
        .filter_map(|r| {
            SERVICES
                .iter()
                .find(|(service, _)| r.services.eq_ignore_ascii_case(service))
                .map(|&(_, transport)| (r, transport))
        })
        .collect();
    usable.sort_by_key(|(r, _)| (r.order, r.preference));
    let mut queries: Vec<SrvQuery> = Vec::new();
    for (record, transport) in usable {
        if queries.iter().all(|q| q.transport != transport) {
            queries.push(SrvQuery {
                transport,
                name: record.replacement.clone(),
            });
        }
    }
    if queries.is_empty() {
        queries = [Transport::Tls, Transport::Tcp, Transport::Udp]
            .into_iter()
            .filter_map(|transport| {
                standard_srv_name(transport, domain).map(|name| SrvQuery { transport, name })
            })
            .collect();
    }
    // Stable: the server's order stays among the secure ones and among the plain ones.
    queries.sort_by_key(|q| !q.transport.is_secure());
    queries
}

/// Orders one SRV answer as RFC 2782 says: by priority, then within a priority by a
/// weighted random choice (weight 0 records first in the running sum, so they are picked
/// only when luck says so or nothing else is left). A lone target of `.` means "no service
/// here" and yields nothing; records with port 0 are dropped. At most
/// [`MAX_TARGETS_PER_SRV`] are kept.
pub(crate) fn order_srv(records: &[SrvRecord], pick: Pick<'_>) -> Vec<SrvRecord> {
    let mut left: Vec<SrvRecord> = records
        .iter()
        .filter(|r| !r.target.is_empty() && r.target != "." && r.port != 0)
        .cloned()
        .collect();
    left.sort_by_key(|r| r.priority);
    let mut ordered = Vec::with_capacity(left.len());
    while let Some(priority) = left.first().map(|r| r.priority) {
        let end = left.iter().take_while(|r| r.priority == priority).count();
        let mut group: Vec<SrvRecord> = left.drain(..end).collect();
        // Weight 0 first (RFC 2782), otherwise in the order the answer had them.
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let chosen = pick(total).min(total);
            let mut running = 0u32;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= chosen
                })
                .unwrap_or(0);
            ordered.push(group.remove(index));
        }
    }
    ordered.truncate(MAX_TARGETS_PER_SRV);
    ordered
}

/// The places to try, from the SRV `answers` to `queries` (same order; a missing or empty
/// answer, e.g. a NAPTR pointing at an SRV name that does not exist, adds nothing).
pub(crate) fn targets(
    queries: &[SrvQuery],
    answers: &[Vec<SrvRecord>],
    pick: Pick<'_>,
) -> Vec<ServerTarget> {
    queries
        .iter()
        .zip(answers)
        .flat_map(|(query, records)| {
            order_srv(records, pick)
                .into_iter()
                .map(|r| ServerTarget {
                    transport: query.transport,
                    host: r.target,
                    port: r.port,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
