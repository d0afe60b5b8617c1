//! Username-first discovery with WebFinger (RFC 7033; docs/provisioning.md, section 4).

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use serde::Deserialize;
use url::Url;

use crate::client::ProvisioningClient;
use crate::deployment::server_url;
use crate::document::SignInMethod;
use crate::error::{Invalid, OnboardingError, Result};
use crate::http::{self, ReadError};
use crate::input::LoginId;

/// Link relation of the user's OpenID issuer.
pub const REL_ISSUER: &str = "http://openid.net/specs/connect/1.0/issuer";
/// Link relation of one account's provisioning endpoint.
pub const REL_PROVISIONING: &str = "https://sidetone.invalid/rel/provisioning";
/// Property: the account number.
pub const PROP_ACCOUNT_NUMBER: &str = "https://sidetone.invalid/prop/account-number";
/// Property: `password` or `oidc`.
pub const PROP_SIGN_IN: &str = "https://sidetone.invalid/prop/sign-in";
/// Property: the issuer for `oidc`.
pub const PROP_ISSUER: &str = "https://sidetone.invalid/prop/issuer";
/// The largest JRD read.
const MAX_JRD: usize = 64 * 1024;

/// What WebFinger says about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The JRD's subject (`acct:…`).
    pub subject: Option<String>,
    /// The user's OpenID issuer, when they sign in with SSO.
    pub issuer: Option<Url>,
    /// One entry per account; two or more: show the "Multiple accounts located" picker.
    pub accounts: Vec<DiscoveredAccount>,
}

/// One provisioning link from WebFinger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredAccount {
    /// The account's provisioning endpoint (`https://`).
    pub href: Url,
    /// Display name (`titles.und`, else any title).
    pub title: Option<String>,
    /// The account number the user may know.
    pub account_number: Option<String>,
    /// How to authenticate to `href` (`None` when the server did not say).
    pub sign_in: Option<SignInMethod>,
    /// The issuer for `oidc`: the account's own, else the user's (the JRD's issuer link).
    pub issuer: Option<Url>,
}

#[derive(Debug, Deserialize)]
struct Jrd {
    subject: Option<String>,
    #[serde(default)]
    links: Vec<JrdLink>,
}

#[derive(Debug, Deserialize)]
struct JrdLink {
    rel: String,
    href: Option<String>,
    #[serde(default)]
    titles: BTreeMap<String, String>,
    #[serde(default)]
    properties: BTreeMap<String, Option<String>>,
}

impl ProvisioningClient {
    /// Asks `server` (`host[:port]`; default: the login id's domain) which issuer and
    /// accounts `login` has.
    pub async fn discover(&self, login: &LoginId, server: Option<&str>) -> Result<Discovery> {
        let base = server_url(server.unwrap_or(&login.domain), Invalid::LinkInvalidServer)?;
        let mut url = base
            .join("/.well-known/webfinger")
            .map_err(|e| failed(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("resource", &format!("acct:{}", login.login_id))
            .append_pair("rel", REL_ISSUER)
            .append_pair("rel", REL_PROVISIONING);
        let host = http::host_of(&url);
        let response = self
            .discovery_http
            .get(url)
            .header(ACCEPT, "application/jrd+json")
            .send()
            .await
            .map_err(|e| http::transport_error(e, &host))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(OnboardingError::WebFingerNotFound),
            other => return Err(failed(format!("HTTP {}", other.as_u16()))),
        }
        let body = match http::read_capped(response, MAX_JRD, &host).await {
            Ok(body) => body,
            Err(ReadError::TooLarge) => return Err(failed("the JRD is larger than 64 KiB".into())),
            Err(ReadError::Transport(e)) => return Err(e),
        };
        Discovery::from_jrd(&body)
    }
}

impl Discovery {
    /// Reads a WebFinger answer (a JRD, RFC 7033 §4.4): every link Sidetone follows must be
    /// `https://` without credentials, and at least one provisioning link must be present.
    pub fn from_jrd(body: &[u8]) -> Result<Self> {
        let jrd: Jrd =
            serde_json::from_slice(body).map_err(|e| failed(format!("not a JRD: {e}")))?;
        discovery_from(jrd)
    }
}

fn failed(detail: String) -> OnboardingError {
    OnboardingError::WebFingerFailed { detail }
}

fn https(value: &str) -> Result<Url> {
    match Url::parse(value) {
        Ok(url)
            if url.scheme() == "https" && url.username().is_empty() && url.password().is_none() =>
        {
            Ok(url)
        }
        _ => Err(failed("a link is not an https:// URL".into())),
    }
}

fn discovery_from(jrd: Jrd) -> Result<Discovery> {
    let mut issuer = None;
    let mut accounts = Vec::new();
    for link in jrd.links {
        let Some(href) = link.href.as_deref() else {
            continue;
        };
        if link.rel == REL_ISSUER {
            issuer = Some(https(href)?);
        } else if link.rel == REL_PROVISIONING {
            let property = |name: &str| link.properties.get(name).cloned().flatten();
            let sign_in = match property(PROP_SIGN_IN).as_deref() {
                Some("password") => Some(SignInMethod::Password),
                Some("oidc") => Some(SignInMethod::Oidc),
                _ => None,
            };
            accounts.push(DiscoveredAccount {
                href: https(href)?,
                title: link
                    .titles
                    .get("und")
                    .or_else(|| link.titles.values().next())
                    .cloned(),
                account_number: property(PROP_ACCOUNT_NUMBER),
                sign_in,
                issuer: property(PROP_ISSUER).as_deref().map(https).transpose()?,
            });
        }
    }
    if accounts.is_empty() {
        return Err(OnboardingError::NoProvisioningLink);
    }
    // An account without an issuer of its own signs in at the user's (docs/provisioning.md
    // section 4), wherever in the JRD that link stood: resolved here once, so every caller
    // reads `account.issuer` alone.
    for account in &mut accounts {
        if account.issuer.is_none() {
            account.issuer = issuer.clone();
        }
    }
    Ok(Discovery {
        subject: jrd.subject,
        issuer,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_without_its_own_issuer_signs_in_at_the_users() {
        let jrd = br#"{"subject": "acct:jane@acme.example", "links": [
            {"rel": "https://sidetone.invalid/rel/provisioning",
             "href": "https://pbx.example.com/p?account=1",
             "properties": {"https://sidetone.invalid/prop/sign-in": "oidc"}},
            {"rel": "https://sidetone.invalid/rel/provisioning",
             "href": "https://pbx.example.com/p?account=2",
             "properties": {"https://sidetone.invalid/prop/sign-in": "oidc",
                            "https://sidetone.invalid/prop/issuer": "https://login.branch.example"}},
            {"rel": "http://openid.net/specs/connect/1.0/issuer",
             "href": "https://login.acme.example"}]}"#;
        let found = Discovery::from_jrd(jrd).unwrap();
        let issuers: Vec<_> = found
            .accounts
            .iter()
            .map(|a| a.issuer.as_ref().map(Url::as_str))
            .collect();
        assert_eq!(
            issuers,
            [
                Some("https://login.acme.example/"),
                Some("https://login.branch.example/")
            ]
        );
    }
}
