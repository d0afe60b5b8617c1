//! The provisioning document: types, strict parsing and validation, secrets handed out apart.

mod model;
mod parse;
mod trust;
mod validate;

use std::time::SystemTime;

use secrecy::SecretString;
use url::Url;

pub use model::*;
pub use parse::MAX_DOCUMENT_BYTES;

use crate::error::Result;

/// Where a document came from: decides whether it may carry passwords and which origin its
/// `provisioning.url` must have.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DocumentOrigin {
    /// The answer to an HTTPS request with a verified certificate, authenticated with a
    /// one-time token, a password or a bearer token. The only origin that may carry secrets.
    Authenticated {
        /// The URL the document was fetched from.
        url: Url,
        /// The issuer of the bearer token used, for `issuer_mismatch`.
        bearer_issuer: Option<String>,
    },
    /// Anything else: a file, an unauthenticated request. Passwords are refused.
    Unauthenticated {
        /// The URL it came from, if any.
        url: Option<Url>,
    },
}

impl DocumentOrigin {
    /// The URL the document came from, if known.
    pub fn url(&self) -> Option<&Url> {
        match self {
            Self::Authenticated { url, .. } => Some(url),
            Self::Unauthenticated { url } => url.as_ref(),
        }
    }

    fn may_carry_secrets(&self) -> bool {
        matches!(self, Self::Authenticated { .. })
    }
}

/// One secret from `credentials[]`, to be moved into the OS keychain at once.
#[derive(Debug)]
pub struct CredentialSecret {
    /// The credential's id (`credential_id` in accounts, ICE servers, voicemail).
    pub credential_id: String,
    /// The password. `Debug` shows `[REDACTED]`.
    pub password: SecretString,
}

/// The secrets a document carried, taken out of it.
#[derive(Debug, Default)]
pub struct Secrets(pub Vec<CredentialSecret>);

/// A document that passed every rule; its passwords are in `secrets`, not in `document`.
#[derive(Debug)]
pub struct ValidatedDocument {
    /// The document without passwords (safe to store and show).
    pub document: ProvisioningDocument,
    /// The passwords, for the vault.
    pub secrets: Secrets,
    /// DER of `trust.ca_certificates`, to trust for this provider's hosts only.
    pub trust_anchors: Vec<Vec<u8>>,
}

impl ProvisioningDocument {
    /// Parses and validates `bytes` from `origin` at time `now` (for certificate validity),
    /// stopping at the first failure in docs/provisioning.md section 8's order.
    pub fn parse(
        bytes: &[u8],
        origin: &DocumentOrigin,
        now: SystemTime,
    ) -> Result<ValidatedDocument> {
        let mut document = parse::parse_document(bytes)?;
        let trust_anchors = validate::validate(&document, origin, now)?;
        let secrets = document.take_secrets();
        Ok(ValidatedDocument {
            document,
            secrets,
            trust_anchors,
        })
    }

    /// Moves every password out of the document.
    pub fn take_secrets(&mut self) -> Secrets {
        Secrets(
            self.credentials
                .iter_mut()
                .filter_map(|c| {
                    c.password.take().map(|password| CredentialSecret {
                        credential_id: c.id.clone(),
                        password,
                    })
                })
                .collect(),
        )
    }
}
