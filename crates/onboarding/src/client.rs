//! Fetching the provisioning document (docs/provisioning.md, section 5).

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::deployment::{Deployment, Token};
use crate::document::{
    DocumentOrigin, MAX_DOCUMENT_BYTES, ProvisioningDocument, ValidatedDocument,
};
use crate::error::{Invalid, OnboardingError, Result};
use crate::http::{self, ReadError, Redirects};
use crate::tls::client_tls_config;

/// The largest error body read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// How a provisioning request authenticates.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authentication {
    /// A one-time token from a link or code (`?token=`).
    Token(Token),
    /// HTTP Basic with the user's login id and password.
    Password {
        /// The login id.
        login_id: String,
        /// The password. Never logged.
        password: SecretString,
    },
    /// An OIDC access token from `issuer`.
    Bearer {
        /// The access token. Never logged.
        access_token: SecretString,
        /// The issuer that issued it (a document naming another is refused).
        issuer: String,
    },
}

/// One entry of a `300 multiple_accounts` answer: what the picker shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChoice {
    /// The provider's account number.
    pub account_number: String,
    /// Display name of the account.
    pub name: String,
    /// Where to fetch this account's document (same origin as the request).
    pub href: Url,
}

/// What a provisioning request returned.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchOutcome {
    /// The validated document (secrets apart).
    Document(Box<ValidatedDocument>),
    /// `300`: the user has several accounts; fetch the chosen `href` with the same
    /// authentication (a token is not spent by a `300`).
    ChooseAccount(Vec<AccountChoice>),
}

/// Fetches provisioning documents and does WebFinger discovery over verified HTTPS.
#[derive(Debug, Clone)]
pub struct ProvisioningClient {
    pub(crate) document_http: reqwest::Client,
    pub(crate) discovery_http: reqwest::Client,
    /// For OpenID Connect: follows no redirect.
    pub(crate) oidc_http: reqwest::Client,
}

impl ProvisioningClient {
    /// A client trusting the OS store plus `extra_ca_pem` (PEM certificates, e.g. a company
    /// or lab CA). Certificate verification cannot be turned off.
    pub fn new(extra_ca_pem: Option<&[u8]>) -> Result<Self> {
        let tls = client_tls_config(extra_ca_pem)?;
        Ok(Self {
            document_http: http::client(tls.clone(), Redirects::SameOrigin)?,
            discovery_http: http::client(tls.clone(), Redirects::HttpsOnly)?,
            oidc_http: http::client(tls, Redirects::Never)?,
        })
    }

    /// Fetches what a link or code points at with its token (or `InvalidValue` without one:
    /// then sign in and use [`fetch`](Self::fetch)).
    pub async fn fetch_deployment(&self, deployment: &Deployment) -> Result<FetchOutcome> {
        let Some(token) = &deployment.token else {
            return Err(OnboardingError::invalid(
                Invalid::LinkInvalidToken,
                "this link has no token: sign in instead",
            ));
        };
        self.fetch(
            &deployment.provisioning_url,
            &Authentication::Token(token.clone()),
        )
        .await
    }

    /// `GET url` with `auth`; exactly one request (a wrong password is never retried).
    pub async fn fetch(&self, url: &Url, auth: &Authentication) -> Result<FetchOutcome> {
        if url.scheme() != "https" {
            return Err(OnboardingError::invalid(
                Invalid::InsecureUrl,
                "provisioning URL must be https://",
            ));
        }
        let host = http::host_of(url);
        let mut request_url = url.clone();
        let mut bearer_issuer = None;
        let request = match auth {
            Authentication::Token(token) => {
                if url.query_pairs().any(|(k, _)| k == "token") {
                    return Err(OnboardingError::invalid(
                        Invalid::LinkMalformed,
                        "URL already has a token",
                    ));
                }
                request_url
                    .query_pairs_mut()
                    .append_pair("token", token.expose());
                self.document_http.get(request_url)
            }
            Authentication::Password { login_id, password } => self
                .document_http
                .get(request_url)
                .basic_auth(login_id, Some(password.expose_secret())),
            Authentication::Bearer {
                access_token,
                issuer,
            } => {
                bearer_issuer = Some(issuer.clone());
                self.document_http
                    .get(request_url)
                    .bearer_auth(access_token.expose_secret())
            }
        };
        let response = request
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| http::transport_error(e, &host))?;
        let status = response.status();
        if status == StatusCode::OK {
            let json = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
            if !json {
                return Err(OnboardingError::invalid(
                    Invalid::DocumentNotJson,
                    "the answer is not application/json",
                ));
            }
            let body = match http::read_capped(response, MAX_DOCUMENT_BYTES, &host).await {
                Ok(body) => body,
                Err(ReadError::TooLarge) => {
                    return Err(OnboardingError::invalid(
                        Invalid::DocumentTooLarge,
                        "more than 256 KiB",
                    ));
                }
                Err(ReadError::Transport(e)) => return Err(e),
            };
            let origin = DocumentOrigin::Authenticated {
                url: url.clone(),
                bearer_issuer,
            };
            let document = ProvisioningDocument::parse(&body, &origin, SystemTime::now())?;
            return Ok(FetchOutcome::Document(Box::new(document)));
        }
        let retry_header = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = http::read_capped(response, MAX_ERROR_BODY, &host)
            .await
            .unwrap_or_default();
        answer_from(url, status.as_u16(), &body, retry_header)
    }
}

/// What a non-200 answer means: the error it stands for, or (`300`) the accounts to pick
/// from. Sans-IO: `body` is the answer's (capped) body, `retry_after` its `Retry-After`.
pub(crate) fn answer_from(
    url: &Url,
    status: u16,
    body: &[u8],
    retry_after: Option<u64>,
) -> Result<FetchOutcome> {
    let body: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = body.error.clone().unwrap_or_default();
    Err(match (status, code.as_str()) {
        (300, _) => return account_choices(url, body),
        (400, _) => OnboardingError::BadRequest {
            message: body.message.unwrap_or_default(),
        },
        (401, "use_single_sign_on") => OnboardingError::UseSingleSignOn {
            issuer: body.issuer,
        },
        (401, "invalid_token") => OnboardingError::AccessTokenRejected,
        (401, _) => OnboardingError::WrongPassword,
        (403, "password_expired") => OnboardingError::PasswordExpired {
            change_password_url: body.change_password_url,
        },
        (404, "unknown_token") => OnboardingError::UnknownToken,
        (404, "unknown_account") => OnboardingError::UnknownAccount,
        (410, error) => OnboardingError::TokenUsedOrExpired {
            expired: error == "token_expired",
        },
        (429 | 423, _) => OnboardingError::LockedOut {
            retry_after: retry_after.or(body.retry_after).map(Duration::from_secs),
        },
        (status, _) => OnboardingError::UnexpectedResponse {
            status,
            error: body.error,
        },
    })
}

/// The picker's entries from a `300` body; `href`s must be `https://` on `url`'s origin.
fn account_choices(url: &Url, body: ErrorBody) -> Result<FetchOutcome> {
    let mut choices = Vec::new();
    for account in body.accounts.unwrap_or_default() {
        let href = Url::parse(&account.href)
            .ok()
            .filter(|h| h.origin() == url.origin());
        let Some(href) = href else {
            return Err(OnboardingError::RedirectRefused {
                location: "an account on another origin".into(),
            });
        };
        choices.push(AccountChoice {
            account_number: account.account_number,
            name: account.name,
            href,
        });
    }
    if choices.is_empty() {
        return Err(OnboardingError::UnexpectedResponse {
            status: 300,
            error: Some("multiple_accounts without accounts".into()),
        });
    }
    Ok(FetchOutcome::ChooseAccount(choices))
}

/// `{"error", "message", …}` of an error answer.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    error: Option<String>,
    message: Option<String>,
    retry_after: Option<u64>,
    issuer: Option<String>,
    change_password_url: Option<String>,
    accounts: Option<Vec<ErrorAccount>>,
}

#[derive(Debug, Deserialize)]
struct ErrorAccount {
    account_number: String,
    name: String,
    href: String,
}
