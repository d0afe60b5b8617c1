//! The DNS queries themselves (hickory): NAPTR, SRV and A/AAAA, each bounded in time.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

use super::NameServer;
use super::records::{NaptrRecord, SrvRecord};
use crate::SipError;

/// How long one query may take, retries included. A resolver that never answers NAPTR
/// (some home routers drop unknown types) must not hold a sign-in for long.
pub(crate) const QUERY_DEADLINE: Duration = Duration::from_secs(3);

/// How long the resolver waits for one answer before it gives up on a name server.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a query gave no records.
#[derive(Debug)]
pub(crate) enum LookupFailure {
    /// The name or the record type does not exist (NXDOMAIN, or no data): DNS answered.
    NoRecords,
    /// Nothing answered in time: DNS is probably unreachable.
    TimedOut,
    /// Another failure (SERVFAIL, REFUSED, no configuration): said in words for the log.
    Failed(String),
}

/// A resolver for one location step. Built per step, not shared: hickory's connections live
/// on the runtime that opened them, and engines (and tests) come and go.
pub(crate) struct Dns {
    resolver: Option<TokioResolver>,
    /// A/AAAA through the OS (`getaddrinfo`: hosts file, mDNS, VPN split DNS) unless a name
    /// server was named for tests.
    system_addresses: bool,
}

impl Dns {
    /// A resolver asking `server`. When the system configuration cannot be read, NAPTR and
    /// SRV lookups fail (and the caller falls back), but address lookups still work.
    pub(crate) fn new(server: NameServer) -> Self {
        let built = match server {
            NameServer::System => TokioResolver::builder_tokio().map(|mut builder| {
                let options = builder.options_mut();
                options.timeout = options.timeout.min(ANSWER_TIMEOUT);
                options.attempts = 1;
                builder
            }),
            NameServer::At(addr) => {
                let mut config = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut config.connections {
                    connection.port = addr.port();
                }
                let mut builder = Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![config]),
                    TokioRuntimeProvider::default(),
                );
                let options = builder.options_mut();
                options.timeout = ANSWER_TIMEOUT;
                options.attempts = 1;
                // Only the named server answers: the machine's hosts file stays out of tests.
                options.use_hosts_file = ResolveHosts::Never;
                Ok(builder)
            }
        };
        let resolver = match built.and_then(|builder| builder.build()) {
            Ok(resolver) => Some(resolver),
            Err(error) => {
                tracing::warn!(%error, "no DNS configuration: NAPTR/SRV lookups are off");
                None
            }
        };
        Self {
            resolver,
            system_addresses: matches!(server, NameServer::System),
        }
    }

    /// The NAPTR records of `domain`.
    pub(crate) async fn naptr(&self, domain: &str) -> Result<Vec<NaptrRecord>, LookupFailure> {
        let answers = self.query(domain, RecordType::NAPTR).await?;
        Ok(answers
            .into_iter()
            .filter_map(|data| match data {
                RData::NAPTR(r) => Some(NaptrRecord {
                    order: r.order,
                    preference: r.preference,
                    flags: String::from_utf8_lossy(&r.flags).into_owned(),
                    services: String::from_utf8_lossy(&r.services).into_owned(),
                    replacement: without_root_dot(r.replacement.to_ascii()),
                }),
                _ => None,
            })
            .collect())
    }

    /// The SRV records at `name` (e.g. `_sips._tcp.example.com`).
    pub(crate) async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, LookupFailure> {
        let answers = self.query(name, RecordType::SRV).await?;
        Ok(answers
            .into_iter()
            .filter_map(|data| match data {
                RData::SRV(r) => Some(SrvRecord {
                    priority: r.priority,
                    weight: r.weight,
                    port: r.port,
                    target: without_root_dot(r.target.to_ascii()),
                }),
                _ => None,
            })
            .collect())
    }

    /// The addresses of `host` (a name or an IP literal), with `port`.
    pub(crate) async fn addresses(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, SipError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let unreachable =
            |why: String| SipError::Unreachable(format!("cannot resolve {host}: {why}"));
        let found: Vec<SocketAddr> = match (&self.resolver, self.system_addresses) {
            (Some(resolver), false) => {
                let lookup = tokio::time::timeout(QUERY_DEADLINE, resolver.lookup_ip(host))
                    .await
                    .map_err(|_| unreachable("no answer in time".into()))?
                    .map_err(|e| unreachable(e.to_string()))?;
                lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect()
            }
            _ => tokio::time::timeout(QUERY_DEADLINE, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| unreachable("no answer in time".into()))?
                .map_err(|e| unreachable(e.to_string()))?
                .collect(),
        };
        if found.is_empty() {
            return Err(SipError::Unreachable(format!("{host} has no address")));
        }
        Ok(found)
    }

    async fn query(&self, name: &str, kind: RecordType) -> Result<Vec<RData>, LookupFailure> {
        let resolver = self
            .resolver
            .as_ref()
            .ok_or_else(|| LookupFailure::Failed("no DNS configuration".into()))?;
        // A fully qualified name: the search list must not turn `_sip._udp.example.com` into
        // `_sip._udp.example.com.corp.internal`.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match tokio::time::timeout(QUERY_DEADLINE, resolver.lookup(fqdn.as_str(), kind)).await {
            Err(_) => Err(LookupFailure::TimedOut),
            Ok(Ok(lookup)) => Ok(lookup
                .answers()
                .iter()
                .filter(|record| record.record_type() == kind)
                .map(|record| record.data.clone())
                .collect()),
            Ok(Err(error)) if error.is_no_records_found() => Err(LookupFailure::NoRecords),
            Ok(Err(hickory_resolver::net::NetError::Timeout)) => Err(LookupFailure::TimedOut),
            Ok(Err(error)) => Err(LookupFailure::Failed(error.to_string())),
        }
    }
}

fn without_root_dot(name: String) -> String {
    match name.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => name,
    }
}
