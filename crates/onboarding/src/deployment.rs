//! What a link, code or QR code resolves to: a provisioning URL, maybe a token and a user.

use url::Url;

use crate::base32;
use crate::error::{Invalid, OnboardingError, Result};

/// The path a `server=` link or a code means (`https://SERVER/provisioning/v1/document`).
pub const DOCUMENT_PATH: &str = "/provisioning/v1/document";

/// Symbols in a token carried by an authentication code (80 bits).
pub const TOKEN_SYMBOLS: usize = 16;
/// The longest token a link may carry.
pub const MAX_TOKEN_SYMBOLS: usize = 64;

/// A one-time provisioning token in canonical form. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Canonicalizes (upper case, `O`→`0`, `I`/`L`→`1`) and checks 16–64 base32 symbols.
    pub fn parse(input: &str) -> Result<Self> {
        if input.len() > 4 * MAX_TOKEN_SYMBOLS {
            return Err(OnboardingError::invalid(
                Invalid::LinkInvalidToken,
                "token too long",
            ));
        }
        let canonical: String = input
            .chars()
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        let len = canonical.len();
        if !(TOKEN_SYMBOLS..=MAX_TOKEN_SYMBOLS).contains(&len)
            || !canonical.bytes().all(|b| base32::value(b).is_some())
        {
            return Err(OnboardingError::invalid(
                Invalid::LinkInvalidToken,
                "a token is 16 to 64 Crockford base32 symbols",
            ));
        }
        Ok(Self(canonical))
    }

    /// The token itself, for the request that spends it. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

/// Where to fetch the provisioning document and how: the result of a link, code or QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The provisioning endpoint (`https://`, no user info, no fragment, no `token`).
    pub provisioning_url: Url,
    /// The one-time token, when the link or code carries one.
    pub token: Option<Token>,
    /// The login id to pre-fill (username-first), when the link names one.
    pub user: Option<String>,
}

impl Deployment {
    /// The host (and port, when not 443) to show before contacting it, IDNs as punycode
    /// (A-labels) so look-alike characters cannot hide: "Set up your phone with HOST?".
    pub fn display_host(&self) -> String {
        let host = self.provisioning_url.host_str().unwrap_or_default();
        match self.provisioning_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }
}

/// Checks a `server` value (`host`, `host:port`, `[v6]:port`; lower-case ASCII, IDNs as
/// A-labels) and returns its provisioning URL. Errors carry `kind`.
pub(crate) fn server_url(server: &str, kind: Invalid) -> Result<Url> {
    let fail = |why: &str| Err(OnboardingError::invalid(kind, why.to_owned()));
    if server.is_empty() || server.len() > 261 {
        return fail("a server is host or host:port");
    }
    if !server.is_ascii() {
        return fail("a server is ASCII; IDNs must be given as xn-- A-labels");
    }
    let (host, port) = if let Some(rest) = server.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return fail("unclosed [IPv6] address");
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return fail("not an IPv6 address");
        }
        match after {
            "" => (&server[..v6.len() + 2], None),
            p => match p.strip_prefix(':') {
                Some(port) => (&server[..v6.len() + 2], Some(port)),
                None => return fail("junk after the IPv6 address"),
            },
        }
    } else {
        match server.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (server, None),
        }
    };
    if !host.starts_with('[') && !is_dns_name(host) {
        return fail("not a lower-case host name or IPv4 address");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return fail("the port is 1 to 65535");
        }
    }
    match Url::parse(&format!("https://{server}{DOCUMENT_PATH}")) {
        Ok(url) if url.host_str().is_some() => Ok(url),
        _ => fail("not a usable host"),
    }
}

/// `label(.label)*` with labels `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`, at most 253 chars.
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            let bytes = label.as_bytes();
            let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
            !bytes.is_empty()
                && bytes.len() <= 63
                && bytes.first().is_some_and(alnum)
                && bytes.last().is_some_and(alnum)
                && bytes.iter().all(|b| alnum(b) || *b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers() {
        for ok in [
            "pbx.example.com",
            "127.0.0.1:8443",
            "[::1]:5061",
            "xn--pypal-4ve.com",
            "a",
        ] {
            assert!(server_url(ok, Invalid::LinkInvalidServer).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "PBX.example.com",
            "pbx.example.com:0",
            "pbx.example.com:65536",
            "host:",
            "-a.com",
            "a..b",
            "bücher.de",
            "[::1",
            "[zz]:1",
            "a/b",
            "a@b",
            "a b",
            "a.com:80:80",
        ] {
            assert!(
                server_url(bad, Invalid::LinkInvalidServer).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = Token::parse("7q2m0d4k9vxr1h8a").unwrap();
        assert_eq!(token.expose(), "7Q2M0D4K9VXR1H8A");
        assert!(!format!("{token:?}").contains("7Q2M"));
    }
}
