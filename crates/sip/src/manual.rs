//! Accounts from a server name and a login ID typed by hand (the "manual login").
//!
//! With no provisioning document, the transport is unknown. DNS says first, as RFC 3263 does
//! (NAPTR, then SRV: see `crate::locate`); when it says nothing we try the safest first: TLS,
//! then TCP, then UDP on their default ports. The caller moves to the next candidate only
//! when a server did not answer; a certificate that fails verification or a wrong password
//! ends the search, so an attacker who breaks TLS (or forges DNS) cannot push the user down
//! to plain text.

use std::net::IpAddr;

use crate::account::{AccountConfig, Password, SipUri};
use crate::locate::{self, NameServer};
use crate::{SipError, Transport};

/// The accounts to try, in order, for `server` (`host`, `host:port`, or with an explicit
/// `;transport=udp|tcp|tls|ws|wss`) and `login_id` (a user part, or `user@domain` when the
/// SIP domain differs from the server), without asking DNS: TLS, TCP, then UDP on their
/// default ports (or the typed port and transport).
pub fn manual_account_candidates(
    server: &str,
    login_id: &str,
    password: Password,
) -> Result<Vec<AccountConfig>, SipError> {
    let typed = TypedServer::parse(server, login_id)?;
    Ok(typed.candidates(&typed.default_plan(), &password))
}

/// As [`manual_account_candidates`], but the transports come from DNS when it has NAPTR or
/// SRV records for a typed host name (no IP, port or transport given): one candidate per
/// transport offered, TLS first, each left without a port so the registration follows the
/// SRV records. When DNS has nothing (or does not answer), the list without DNS.
pub async fn locate_manual_candidates(
    server: &str,
    login_id: &str,
    password: Password,
    name_server: NameServer,
) -> Result<Vec<AccountConfig>, SipError> {
    let typed = TypedServer::parse(server, login_id)?;
    if !typed.needs_dns() {
        return Ok(typed.candidates(&typed.default_plan(), &password));
    }
    let found = locate::locate_servers(&typed.host, name_server).await;
    let mut plan: Vec<(Transport, Option<u16>)> = Vec::new();
    for target in found {
        if plan.iter().all(|(t, _)| *t != target.transport) {
            plan.push((target.transport, None));
        }
    }
    if plan.is_empty() {
        plan = typed.default_plan();
    }
    Ok(typed.candidates(&plan, &password))
}

/// What the user typed, checked.
struct TypedServer {
    aor: SipUri,
    /// The server's host (IPv6 without brackets).
    host: String,
    port: Option<u16>,
    transport: Option<Transport>,
}

impl TypedServer {
    fn parse(server: &str, login_id: &str) -> Result<Self, SipError> {
        let bad = |why: String| SipError::InvalidAccount(why);
        let server = server.trim();
        let login_id = login_id.trim();
        if server.is_empty() || server.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                "enter the server's host name, e.g. pbx.example.com".into()
            ));
        }
        if login_id.is_empty()
            || login_id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad("enter your login ID".into()));
        }
        let (hostport, transport) = match server.split_once(";transport=") {
            Some((hostport, name)) => (hostport, Some(name.parse::<Transport>()?)),
            None => (server, None),
        };
        let hostport = hostport
            .strip_prefix("sip:")
            .or_else(|| hostport.strip_prefix("sips:"))
            .unwrap_or(hostport);
        let (user, domain) = match login_id.split_once('@') {
            Some((user, domain)) => (user, domain.to_owned()),
            None => (login_id, hostport.to_owned()),
        };
        let aor = SipUri::parse(&format!("sip:{user}@{domain}"))?;
        let proxy = SipUri::parse(&format!("sip:probe@{hostport}"))?;
        Ok(Self {
            aor,
            host: proxy.host,
            port: proxy.port,
            transport,
        })
    }

    /// DNS is asked only for a bare host name: a typed IP, port or transport is meant as is.
    fn needs_dns(&self) -> bool {
        self.transport.is_none() && self.port.is_none() && self.host.parse::<IpAddr>().is_err()
    }

    /// The typed transport, else TLS, TCP, UDP; on the typed port, else each default port.
    fn default_plan(&self) -> Vec<(Transport, Option<u16>)> {
        let order = match self.transport {
            Some(transport) => vec![transport],
            None => vec![Transport::Tls, Transport::Tcp, Transport::Udp],
        };
        order
            .into_iter()
            .map(|t| (t, Some(self.port.unwrap_or(t.default_port()))))
            .collect()
    }

    fn candidates(
        &self,
        plan: &[(Transport, Option<u16>)],
        password: &Password,
    ) -> Vec<AccountConfig> {
        plan.iter()
            .map(|&(transport, port)| {
                let mut account = AccountConfig::new(self.aor.clone(), Some(password.clone()));
                account.transport = transport;
                // Registrar = the server typed; when the login has its own domain, the server
                // is the outbound proxy for it. Its name is also what TLS verifies.
                account.outbound_proxy = Some(crate::OutboundProxy {
                    host: self.host.clone(),
                    port,
                    path: None,
                });
                account
            })
            .collect()
    }
}

/// True when a failed attempt means "nobody answered there", so the next transport may be
/// tried. Certificate and credential failures are final (see the module docs).
pub fn worth_trying_next(error: &SipError) -> bool {
    matches!(error, SipError::Unreachable(_) | SipError::Timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw() -> Password {
        Password::new("x")
    }

    /// TLS, TCP, UDP on their default ports: the order without DNS.
    const OLD_ORDER: [(Transport, Option<u16>); 3] = [
        (Transport::Tls, Some(5061)),
        (Transport::Tcp, Some(5060)),
        (Transport::Udp, Some(5060)),
    ];

    fn plan(candidates: &[AccountConfig]) -> Vec<(Transport, Option<u16>)> {
        candidates
            .iter()
            .map(|a| (a.transport, a.outbound_proxy.as_ref().unwrap().port))
            .collect()
    }

    #[test]
    fn tries_tls_then_tcp_then_udp_on_their_default_ports() {
        let c = manual_account_candidates("pbx.example.com", "1001", pw()).unwrap();
        assert_eq!(plan(&c), OLD_ORDER);
        assert_eq!(c[0].aor.to_string(), "sip:1001@pbx.example.com");
    }

    #[test]
    fn an_explicit_transport_or_port_is_honoured() {
        let c = manual_account_candidates("10.0.0.5:5070;transport=tcp", "alice@corp.test", pw())
            .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].transport, Transport::Tcp);
        assert_eq!(c[0].aor.to_string(), "sip:alice@corp.test");
        assert_eq!(c[0].outbound_proxy.as_ref().unwrap().port, Some(5070));
    }

    #[tokio::test]
    async fn a_typed_ip_port_or_transport_asks_no_dns() {
        // A name server nobody listens on: asking it would fail or time out.
        let nobody = NameServer::At("127.0.0.1:9".parse().unwrap());
        for (server, expected) in [
            ("10.0.0.5", OLD_ORDER.to_vec()),
            (
                "pbx.example.com:5070",
                vec![
                    (Transport::Tls, Some(5070)),
                    (Transport::Tcp, Some(5070)),
                    (Transport::Udp, Some(5070)),
                ],
            ),
            (
                "pbx.example.com;transport=udp",
                vec![(Transport::Udp, Some(5060))],
            ),
            (
                "[::1]:5080;transport=tcp",
                vec![(Transport::Tcp, Some(5080))],
            ),
        ] {
            let started = std::time::Instant::now();
            let c = locate_manual_candidates(server, "1001", pw(), nobody)
                .await
                .unwrap();
            assert_eq!(plan(&c), expected, "{server}");
            assert!(
                started.elapsed() < std::time::Duration::from_millis(500),
                "{server}"
            );
        }
    }

    #[tokio::test]
    async fn dns_that_does_not_answer_leaves_the_old_order() {
        // Port 9 on loopback: UDP queries are refused or unanswered, TCP is refused.
        let nobody = NameServer::At("127.0.0.1:9".parse().unwrap());
        let c = locate_manual_candidates("pbx.example.com", "1001", pw(), nobody)
            .await
            .unwrap();
        assert_eq!(plan(&c), OLD_ORDER);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        for (server, login) in [
            ("", "1001"),
            ("pbx", ""),
            ("pbx example", "1001"),
            ("pbx;transport=sctp", "1"),
        ] {
            assert!(
                manual_account_candidates(server, login, pw()).is_err(),
                "{server:?} {login:?}"
            );
        }
    }

    #[test]
    fn only_silence_moves_on_to_a_weaker_transport() {
        assert!(worth_trying_next(&SipError::Unreachable("refused".into())));
        assert!(worth_trying_next(&SipError::Timeout));
        assert!(!worth_trying_next(&SipError::TlsUntrusted(
            "UnknownIssuer".into()
        )));
        assert!(!worth_trying_next(&SipError::WrongPassword));
    }
}
