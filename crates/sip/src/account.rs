//! What an account is: who the user is, where the registrar is, how to reach it.
//!
//! A provisioning document (`--account FILE`, crates/onboarding) will produce an
//! [`AccountConfig`]; today the CLI builds one from flags.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{SipError, Transport};

/// A stable name for an account inside one engine (e.g. `1001@pbx.example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub String);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password held only in memory; never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password (from the vault, or `--password-stdin`).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the digest computation only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The parts of a `sip:`/`sips:` address-of-record we need: user, host, optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// True for `sips:` (TLS all the way, RFC 3261 §19.1).
    pub secure: bool,
    /// The user part (`1001` in `sip:1001@pbx.example.com`).
    pub user: String,
    /// The host: a domain name or an IP address (IPv6 without brackets).
    pub host: String,
    /// The port, when the URI names one.
    pub port: Option<u16>,
}

impl SipUri {
    /// Parses `sip:user@host[:port][;params]`. Params and headers are ignored.
    pub fn parse(text: &str) -> Result<Self, SipError> {
        let bad = |why: &str| SipError::InvalidAccount(format!("{why}: {text:?}"));
        let text = text.trim();
        let (secure, rest) = if let Some(rest) = strip_prefix_ci(text, "sips:") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ci(text, "sip:") {
            (false, rest)
        } else {
            return Err(bad("the account URI must start with sip: or sips:"));
        };
        let rest = rest.split([';', '?']).next().unwrap_or_default();
        let (user, hostport) = rest
            .rsplit_once('@')
            .ok_or_else(|| bad("the account URI needs a user (sip:user@host)"))?;
        if user.is_empty() {
            return Err(bad("the account URI has an empty user"));
        }
        // RFC 3261 §25.1 `user`: unreserved, escaped and user-unreserved characters (`;` and
        // `?` already ended the text above). Control characters or spaces would be written
        // into our requests' headers as they are.
        if !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()%&=+$,/".contains(&b))
        {
            return Err(bad(
                "the account URI's user has characters a SIP URI cannot carry",
            ));
        }
        let (host, port) = split_host_port(hostport).map_err(bad)?;
        Ok(Self {
            secure,
            user: user.to_owned(),
            host,
            port,
        })
    }

    /// The host as it appears in a URI (IPv6 in brackets) with the port, if any.
    pub fn host_port(&self) -> String {
        let host = bracket_ipv6(&self.host);
        match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "sips" } else { "sip" };
        write!(f, "{scheme}:{}@{}", self.user, self.host_port())
    }
}

/// Where to send requests when it is not the registrar's own host: `HOST:PORT`, or a URL
/// (`ws://host:port/path`, `wss://…`, `sip:host:port`) whose path matters for WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundProxy {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
    /// The WebSocket resource path (`/` when none).
    pub path: Option<String>,
}

impl OutboundProxy {
    /// Parses `HOST[:PORT]` or `scheme://HOST[:PORT][/path]` or `sip:HOST[:PORT]`.
    pub fn parse(text: &str) -> Result<Self, SipError> {
        let bad = |why: &str| SipError::InvalidAccount(format!("{why}: {text:?}"));
        let text = text.trim();
        let (rest, has_scheme) = match text.split_once("://") {
            Some((_, rest)) => (rest, true),
            None => (text, false),
        };
        let rest = if has_scheme {
            rest
        } else {
            strip_prefix_ci(rest, "sips:")
                .or_else(|| strip_prefix_ci(rest, "sip:"))
                .unwrap_or(rest)
        };
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_owned())),
            None => (rest, None),
        };
        // The path goes into the WebSocket upgrade's request line as it is.
        if path
            .as_deref()
            .is_some_and(|p| p.bytes().any(|b| b.is_ascii_control() || b == b' '))
        {
            return Err(bad("the proxy's path has spaces or control characters"));
        }
        let hostport = hostport.split(';').next().unwrap_or_default();
        let (host, port) = split_host_port(hostport).map_err(bad)?;
        Ok(Self { host, port, path })
    }
}

/// Everything needed to register one account. Built from a provisioning document later;
/// from CLI flags today.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    /// The name events carry for this account.
    pub id: AccountId,
    /// The address-of-record, e.g. `sip:1001@pbx.example.com`; its host is the registrar's
    /// domain (Request-URI of REGISTER, digest realm scope, TLS name when no proxy is set).
    pub aor: SipUri,
    /// The digest user name when it differs from the AOR's user.
    pub auth_username: Option<String>,
    /// The password (from the vault or stdin); `None` for registrars without auth.
    pub password: Option<Password>,
    /// How to reach the registrar.
    pub transport: Transport,
    /// Send everything to this host instead of resolving the AOR's host.
    pub outbound_proxy: Option<OutboundProxy>,
    /// An extra CA certificate (PEM file) to trust for this account, besides the OS roots:
    /// how a provider with its own CA (or the lab) is trusted without turning checks off.
    pub ca_file: Option<PathBuf>,
    /// The registration lifetime we ask for, in seconds (the registrar may grant less).
    pub expires: u32,
    /// The `User-Agent` header value.
    pub user_agent: String,
    /// Subscribe to voicemail message-waiting indication (RFC 3842 `message-summary`) at
    /// the AOR once registered. Off unless the provider says it serves it: a server that
    /// does not would only answer 489. Unsolicited MWI NOTIFYs are taken either way.
    pub mwi: bool,
}

impl AccountConfig {
    /// An account for `aor` with defaults: UDP, no proxy, no extra CA, 600 s expiry, no MWI
    /// subscription.
    pub fn new(aor: SipUri, password: Option<Password>) -> Self {
        let id = AccountId(format!("{}@{}", aor.user, aor.host_port()));
        Self {
            id,
            aor,
            auth_username: None,
            password,
            transport: Transport::Udp,
            outbound_proxy: None,
            ca_file: None,
            expires: 600,
            user_agent: concat!("Sidetone/", env!("CARGO_PKG_VERSION")).to_owned(),
            mwi: false,
        }
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("unclosed IPv6 bracket")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("not an IPv6 address in brackets");
        }
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(after.strip_prefix(':').ok_or("text after the host")?),
            ),
        }
    } else {
        let (host, port) = match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        };
        // A host name or an IPv4 address (RFC 3261 §25.1). Anything else, control
        // characters above all, would end up inside the requests we write.
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err("the host is not a host name or IP address");
        }
        (host, port)
    };
    if host.is_empty() {
        return Err("missing host");
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().map_err(|_| "bad port")?),
        None => None,
    };
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aor_with_and_without_port() -> Result<(), SipError> {
        let uri = SipUri::parse("sip:1001@127.0.0.1")?;
        assert_eq!(
            (uri.user.as_str(), uri.host.as_str(), uri.port),
            ("1001", "127.0.0.1", None)
        );
        let uri = SipUri::parse("SIPS:alice@[::1]:5071;transport=tls")?;
        assert!(uri.secure);
        assert_eq!((uri.host.as_str(), uri.port), ("::1", Some(5071)));
        assert_eq!(uri.to_string(), "sips:alice@[::1]:5071");
        assert!(SipUri::parse("1001@host").is_err());
        assert!(SipUri::parse("sip:host").is_err());
        assert!(SipUri::parse("sip:a@host:99999").is_err());
        Ok(())
    }

    #[test]
    fn control_characters_and_spaces_never_reach_a_request() {
        // Found by the sip_uri fuzz target: a CR in the host and NULs in the user passed,
        // and would have been written into the REGISTER's headers.
        for text in [
            "sip:\0\0\0a@b\r",
            "sip:a@b\r\nVia: x",
            "sip:a b@host",
            "sip:a@ho st",
            "sip:a@host\t:5060",
            "sip:<a>@host",
            "sip:a@[::1]junk",
            "sip:a@[not-v6]",
        ] {
            assert!(SipUri::parse(text).is_err(), "{text:?} passed");
        }
        for text in ["sip:+49%2030@pbx.example.com", "sip:a.b-c_d@10.0.0.1:5070"] {
            assert!(SipUri::parse(text).is_ok(), "{text:?} refused");
        }
        // Outbound proxies share the host rule.
        for text in [
            "pbx\r.example.com:5060",
            "wss://pbx example.com/ws",
            "[::1]x",
            "wss://pbx.example.com/ws\r\nX-Injected: 1",
        ] {
            assert!(OutboundProxy::parse(text).is_err(), "{text:?} passed");
        }
    }

    #[test]
    fn parses_proxies() -> Result<(), SipError> {
        let p = OutboundProxy::parse("127.0.0.1:5070")?;
        assert_eq!(
            (p.host.as_str(), p.port, p.path),
            ("127.0.0.1", Some(5070), None)
        );
        let p = OutboundProxy::parse("wss://127.0.0.1:8443/ws")?;
        assert_eq!((p.port, p.path.as_deref()), (Some(8443), Some("/ws")));
        let p = OutboundProxy::parse("sip:proxy.example.com;lr")?;
        assert_eq!((p.host.as_str(), p.port), ("proxy.example.com", None));
        Ok(())
    }

    #[test]
    fn password_debug_is_redacted() {
        let text = format!("{:?}", Password::new("hunter2"));
        assert!(!text.contains("hunter2"));
    }
}
