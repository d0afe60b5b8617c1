//! Accounts from a server name and a login ID typed by hand (the "manual login").
//!
//! With no provisioning document, the transport is unknown. We try the safest first:
//! TLS, then TCP, then UDP (DNS NAPTR/SRV discovery will come before this list once the
//! resolver is in). The caller moves to the next candidate only when a server did not answer;
//! a certificate that fails verification or a wrong password ends the search, so an attacker
//! who breaks TLS cannot push the user down to plain text.

use crate::account::{AccountConfig, Password, SipUri};
use crate::{SipError, Transport};

/// The accounts to try, in order, for `server` (`host`, `host:port`, or with an explicit
/// `;transport=udp|tcp|tls|ws|wss`) and `login_id` (a user part, or `user@domain` when the
/// SIP domain differs from the server).
pub fn manual_account_candidates(
    server: &str,
    login_id: &str,
    password: Password,
) -> Result<Vec<AccountConfig>, SipError> {
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
    let (hostport, explicit) = match server.split_once(";transport=") {
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
    let order: Vec<Transport> = match explicit {
        Some(transport) => vec![transport],
        None => vec![Transport::Tls, Transport::Tcp, Transport::Udp],
    };
    Ok(order
        .into_iter()
        .map(|transport| {
            let mut account = AccountConfig::new(aor.clone(), Some(password.clone()));
            account.transport = transport;
            // Registrar = the server typed; when the login has its own domain, the server is
            // the outbound proxy for it.
            account.outbound_proxy = Some(crate::OutboundProxy {
                host: proxy.host.clone(),
                port: proxy.port.or(Some(transport.default_port())),
                path: None,
            });
            account
        })
        .collect())
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

    #[test]
    fn tries_tls_then_tcp_then_udp_on_their_default_ports() {
        let c = manual_account_candidates("pbx.example.com", "1001", pw()).unwrap();
        let seen: Vec<_> = c
            .iter()
            .map(|a| (a.transport, a.outbound_proxy.as_ref().unwrap().port))
            .collect();
        assert_eq!(
            seen,
            [
                (Transport::Tls, Some(5061)),
                (Transport::Tcp, Some(5060)),
                (Transport::Udp, Some(5060))
            ]
        );
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
