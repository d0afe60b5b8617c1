//! Deployment links: `sidetone://provision?url=…|server=…[&token=…][&user=…]`
//! (docs/provisioning.md, section 1).

use std::collections::HashMap;

use url::Url;

use crate::deployment::{Deployment, Token, server_url};
use crate::error::{Invalid, OnboardingError, Result};

/// The longest link accepted, in characters.
pub const MAX_LINK_LEN: usize = 4096;
/// The longest `user` parameter (a login id).
const MAX_USER_LEN: usize = 320;

/// A parsed, checked deployment link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentLink {
    /// What the link asks Sidetone to do.
    pub deployment: Deployment,
}

impl DeploymentLink {
    /// Parses a link exactly as the doc says; hostile input gets a specific error.
    pub fn parse(input: &str) -> Result<Self> {
        let malformed = |why: &str| Err(OnboardingError::invalid(Invalid::LinkMalformed, why));
        if input.chars().count() > MAX_LINK_LEN {
            return malformed("longer than 4096 characters");
        }
        if input.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return malformed("control characters or spaces in the link");
        }
        let Ok(link) = Url::parse(input) else {
            return malformed("not a URL");
        };
        if link.scheme() != "sidetone" {
            return malformed("not a sidetone: link");
        }
        if !link
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case("provision"))
        {
            return malformed("not sidetone://provision");
        }
        if !link.username().is_empty() || link.password().is_some() || link.port().is_some() {
            return malformed("user info or port in the link");
        }
        if !link.path().is_empty() || link.fragment().is_some() {
            return malformed("a path or fragment in the link");
        }
        let mut params: HashMap<String, String> = HashMap::new();
        for (name, value) in link.query_pairs() {
            if params
                .insert(name.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return malformed(&format!("parameter {name} given twice"));
            }
        }
        let provisioning_url = match (params.get("url"), params.get("server")) {
            (Some(url), None) => provisioning_url(url)?,
            (None, Some(server)) => server_url(server, Invalid::LinkInvalidServer)?,
            _ => {
                return Err(OnboardingError::invalid(
                    Invalid::LinkMissingTarget,
                    "a link has exactly one of url and server",
                ));
            }
        };
        let token = params.get("token").map(|t| Token::parse(t)).transpose()?;
        let user = match params.get("user") {
            Some(user) if user.is_empty() || user.len() > MAX_USER_LEN => {
                return malformed("user is 1 to 320 characters");
            }
            Some(user) if user.chars().any(|c| c.is_control() || c.is_whitespace()) => {
                return malformed("spaces or control characters in user");
            }
            other => other.cloned(),
        };
        Ok(Self {
            deployment: Deployment {
                provisioning_url,
                token,
                user,
            },
        })
    }
}

/// Checks the `url` parameter: `https://`, a host, no user info, no fragment, no token.
fn provisioning_url(value: &str) -> Result<Url> {
    let fail = |kind, why: &str| Err(OnboardingError::invalid(kind, why.to_owned()));
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return fail(
            Invalid::LinkMalformed,
            "control characters or spaces in url",
        );
    }
    let Ok(url) = Url::parse(value) else {
        // "pbx.example.com/x" has no scheme at all: not https.
        return fail(
            Invalid::LinkInsecureUrl,
            "url is not an absolute https:// URL",
        );
    };
    if url.scheme() != "https" {
        return fail(Invalid::LinkInsecureUrl, "url must be https://");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return fail(
            Invalid::LinkMalformed,
            "user info in url (a phishing trick)",
        );
    }
    if url.fragment().is_some() {
        return fail(Invalid::LinkMalformed, "a fragment in url");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return fail(Invalid::LinkMalformed, "url has no host");
    }
    if url.query_pairs().any(|(name, _)| name == "token") {
        return fail(
            Invalid::LinkMalformed,
            "url carries a token in its own query",
        );
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_examples_parse() {
        let a = DeploymentLink::parse(
            "sidetone://provision?url=https%3A%2F%2Fpbx.example.com%2Fprovisioning%2Fv1%2Fdocument&token=7Q2M0D4K9VXR1H8A",
        )
        .unwrap()
        .deployment;
        assert_eq!(
            a.provisioning_url.as_str(),
            "https://pbx.example.com/provisioning/v1/document"
        );
        assert_eq!(a.token.unwrap().expose(), "7Q2M0D4K9VXR1H8A");
        let b = DeploymentLink::parse(
            "sidetone://provision?server=pbx.example.com&token=7Q2M0D4K9VXR1H8A",
        )
        .unwrap()
        .deployment;
        assert_eq!(b.provisioning_url, a.provisioning_url);
        let c = DeploymentLink::parse(
            "sidetone://provision?server=pbx.example.com%3A8443&user=jane%40acme.example",
        )
        .unwrap()
        .deployment;
        assert_eq!(c.display_host(), "pbx.example.com:8443");
        assert_eq!(c.user.as_deref(), Some("jane@acme.example"));
        assert!(c.token.is_none());
    }

    #[test]
    fn idn_in_url_shows_punycode() {
        // Cyrillic "а" in a look-alike of paypal.com.
        let link = DeploymentLink::parse(
            "sidetone://provision?url=https%3A%2F%2Fp%D0%B0ypal.com%2Fprov&token=7Q2M0D4K9VXR1H8A",
        )
        .unwrap();
        assert_eq!(link.deployment.display_host(), "xn--pypal-4ve.com");
    }

    #[test]
    fn host_is_case_insensitive_and_unknown_params_ignored() {
        assert!(DeploymentLink::parse("SIDETONE://PROVISION?server=a.example&future=1").is_ok());
    }
}
