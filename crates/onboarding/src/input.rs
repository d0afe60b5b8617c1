//! The UI's single paste box: a link, an authentication code, or a login id.

use url::Url;

use crate::code::AuthCode;
use crate::deployment::Deployment;
use crate::error::{Invalid, OnboardingError, Result};
use crate::link::{DeploymentLink, MAX_LINK_LEN};

/// What the user pasted or typed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PastedInput {
    /// A `sidetone://provision` link.
    Link(Deployment),
    /// An authentication code (same meaning as a `server=` link with a token).
    Code(Deployment),
    /// A login id (`jane@acme.example`): discover its accounts with WebFinger.
    LoginId(LoginId),
}

/// A login id split for WebFinger: `acct:LOCAL@DOMAIN` asked at `DOMAIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginId {
    /// The login id as typed (trimmed).
    pub login_id: String,
    /// The domain part as an ASCII host (IDNs as punycode), lower case.
    pub domain: String,
}

impl LoginId {
    /// Checks `local@domain`: no spaces or control characters, at most 320 characters, a
    /// domain that is a host name.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| Err(OnboardingError::invalid(Invalid::LoginIdMalformed, why));
        if input.is_empty() || input.chars().count() > 320 {
            return bad("a login id is 1 to 320 characters");
        }
        if input.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return bad("spaces or control characters in the login id");
        }
        let Some((local, domain)) = input.rsplit_once('@') else {
            return bad("a login id is name@domain");
        };
        if local.is_empty() || domain.is_empty() {
            return bad("a login id is name@domain");
        }
        if domain.contains(['/', '?', '#', ':', '@', '[', ']', '\\', '%']) {
            return bad("the domain is a host name");
        }
        let host = match Url::parse(&format!("https://{domain}/")) {
            Ok(url) => match url.host() {
                Some(url::Host::Domain(host)) => host.to_owned(),
                _ => return bad("the domain is a host name"),
            },
            Err(_) => return bad("the domain is a host name"),
        };
        Ok(Self {
            login_id: input.to_owned(),
            domain: host,
        })
    }
}

/// Sorts what was pasted into a link, a code or a login id, each checked.
pub fn parse_input(input: &str) -> Result<PastedInput> {
    if input.chars().count() > MAX_LINK_LEN + 64 {
        return Err(OnboardingError::invalid(
            Invalid::InputUnrecognized,
            "too long",
        ));
    }
    let text = input.trim();
    if text.is_empty() {
        return Err(OnboardingError::invalid(
            Invalid::InputEmpty,
            "nothing was entered",
        ));
    }
    if text
        .get(..9)
        .is_some_and(|s| s.eq_ignore_ascii_case("sidetone:"))
    {
        return Ok(PastedInput::Link(DeploymentLink::parse(text)?.deployment));
    }
    if text.contains('@') {
        return Ok(PastedInput::LoginId(LoginId::parse(text)?));
    }
    let looks_like_code = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || "-*~$=".contains(c));
    if looks_like_code && text.chars().filter(char::is_ascii_alphanumeric).count() >= 8 {
        return Ok(PastedInput::Code(AuthCode::parse(text)?.deployment()?));
    }
    Err(OnboardingError::invalid(
        Invalid::InputUnrecognized,
        "paste a sidetone:// link, an authentication code or your login id",
    ))
}
