//! From a welcome e-mail to a provisioned account: deployment links, QR payloads, authentication codes, discovery, provisioning documents and OIDC sign-in in the system browser.
//!
//! The contract is docs/provisioning.md. Entry points:
//! - [`parse_input`] for the paste box (a link, a code or a login id),
//!   [`DeploymentLink::parse`], [`AuthCode::parse`], [`decode_qr_image`];
//! - [`ProvisioningClient`] to discover accounts with WebFinger and fetch the document;
//! - [`ProvisioningDocument::parse`] to validate a document strictly, with its passwords
//!   handed out apart in [`Secrets`] for the vault.
//!
//! Every failure is an [`OnboardingError`] with a stable [`code`](OnboardingError::code).

mod base32;
mod client;
mod code;
mod deployment;
mod document;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
mod input;
mod link;
mod qr;
mod sso;
mod tls;
mod webfinger;

pub use client::{AccountChoice, Authentication, FetchOutcome, ProvisioningClient};
pub use code::AuthCode;
pub use deployment::{DOCUMENT_PATH, Deployment, MAX_TOKEN_SYMBOLS, TOKEN_SYMBOLS, Token};
pub use document::*;
pub use error::{Invalid, OnboardingError, Result};
pub use input::{LoginId, PastedInput, parse_input};
pub use link::{DeploymentLink, MAX_LINK_LEN};
pub use qr::{MAX_IMAGE_BYTES, decode_qr_image};
pub use sso::{
    BROWSER_ENV, DEFAULT_CLIENT_ID, DEFAULT_SCOPES, SSO_WAIT, SsoAttempt, SsoRequest, SsoTokens,
    open_in_browser,
};
pub use tls::client_tls_config;
pub use webfinger::{
    DiscoveredAccount, Discovery, PROP_ACCOUNT_NUMBER, PROP_ISSUER, PROP_SIGN_IN, REL_ISSUER,
    REL_PROVISIONING,
};

/// Re-exported so callers can hold secrets without depending on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};
/// Re-exported URL type of this crate's API.
pub use url::Url;
