//! Single sign-on with OpenID Connect in the system browser (docs/provisioning.md, section 6):
//! Sidetone is a public native client (RFC 8252) using the authorization code flow with PKCE
//! S256, `state`, `nonce`, RFC 9207 `iss` when the issuer offers it, and a one-shot loopback
//! redirect listener. The protocol work (discovery, the authorization URL, the code exchange,
//! ID token validation against the issuer's JWKS, refresh) is openidconnect's; this module
//! wires it to our HTTP client and the loopback listener and checks what the crate leaves to
//! its caller.
//!
//! The flow: [`ProvisioningClient::start_sso`] → open [`SsoAttempt::authorize_url`] in the
//! browser ([`open_in_browser`]) → [`SsoAttempt::complete`] (bounded and cancelled by its
//! caller) → [`SsoTokens::bearer`] for the provisioning request. Later,
//! [`ProvisioningClient::refresh_sso`] turns the kept refresh token into a new access token.

mod browser;
mod callback;
mod oidc_http;

#[cfg(feature = "fuzzing")]
pub(crate) use callback::classify_to_word;

use std::time::{Duration, SystemTime};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AuthorizationCode, ClientId, CsrfToken,
    DiscoveryError, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::{Authentication, ProvisioningClient};
use crate::error::{OnboardingError, Result};
use callback::CallbackListener;
use oidc_http::{OidcHttp, OidcTransportError};

pub use browser::{BROWSER_ENV, open_in_browser};

/// The client id providers register Sidetone under, when the document names none.
pub const DEFAULT_CLIENT_ID: &str = "sidetone-desktop";
/// How long a sign-in waits for the browser by default: MFA, a forgotten password and a
/// coffee fit in; a forgotten tab does not hold the loopback listener open for ever.
pub const SSO_WAIT: Duration = Duration::from_secs(15 * 60);
/// The scopes asked for when the document names none (`openid` is always sent).
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Where and as whom to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRequest {
    /// The issuer (from discovery or the document), compared exactly with its metadata.
    pub issuer: Url,
    /// The client id at that issuer.
    pub client_id: String,
    /// The scopes to ask for.
    pub scopes: Vec<String>,
    /// The login id the user typed, sent as `login_hint` so they need not type it again.
    pub login_hint: Option<String>,
}

impl SsoRequest {
    /// A request at `issuer` with the default client id and scopes.
    pub fn new(issuer: Url) -> Self {
        Self {
            issuer,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            login_hint: None,
        }
    }
}

/// What a sign-in or refresh yields. The access token stays in memory; the refresh token is
/// for the keychain.
#[derive(Debug)]
pub struct SsoTokens {
    /// The access token for the provisioning endpoint. Never logged.
    pub access_token: SecretString,
    /// The refresh token, when the issuer gave one (rotated ones replace the old). Never
    /// logged.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, when the issuer said.
    pub expires_at: Option<SystemTime>,
    /// The issuer, exactly as its metadata names it.
    pub issuer: String,
    /// The ID token's subject, when an ID token came (always after a sign-in).
    pub subject: Option<String>,
}

impl SsoTokens {
    /// How to authenticate a provisioning request with these tokens.
    pub fn bearer(&self) -> Authentication {
        Authentication::Bearer {
            access_token: self.access_token.clone(),
            issuer: self.issuer.clone(),
        }
    }
}

/// RFC 9207's metadata member, which openidconnect's core metadata does not carry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct IssParameterMetadata {
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for IssParameterMetadata {}

/// The issuer's metadata with [`IssParameterMetadata`].
type IssuerMetadata = ProviderMetadata<
    IssParameterMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client built from discovery: authorization endpoint set, token endpoint maybe.
type IssuerClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A sign-in under way: the browser has (or is about to have) the authorization URL, the
/// loopback listener waits for its redirect.
#[derive(Debug)]
pub struct SsoAttempt {
    authorize_url: Url,
    listener: CallbackListener,
    client: IssuerClient,
    http: reqwest::Client,
    pkce_verifier: PkceCodeVerifier,
    state: CsrfToken,
    nonce: Nonce,
    expect_iss: bool,
    issuer: String,
}

impl ProvisioningClient {
    /// Discovers `request.issuer`, binds the loopback listener and prepares the authorization
    /// URL. Nothing is opened yet: the caller opens [`SsoAttempt::authorize_url`].
    pub async fn start_sso(&self, request: &SsoRequest) -> Result<SsoAttempt> {
        let metadata = self.discover_issuer(&request.issuer).await?;
        let expect_iss = metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported;
        let issuer = metadata.issuer().as_str().to_owned();
        let listener = CallbackListener::bind().await?;
        let client = IssuerClient::from_provider_metadata(
            metadata,
            ClientId::new(request.client_id.clone()),
            None,
        )
        .set_redirect_uri(RedirectUrl::from_url(listener.redirect_uri().clone()));
        let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut authorize = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        // openidconnect sends `openid` itself; sending it twice is a malformed scope.
        for scope in request.scopes.iter().filter(|s| s.as_str() != "openid") {
            authorize = authorize.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = request.login_hint.as_ref().filter(|h| !h.is_empty()) {
            authorize = authorize.set_login_hint(LoginHint::new(hint.clone()));
        }
        let (authorize_url, state, nonce) = authorize.url();
        Ok(SsoAttempt {
            authorize_url,
            listener,
            client,
            http: self.oidc_http.clone(),
            pkce_verifier,
            state,
            nonce,
            expect_iss,
            issuer,
        })
    }

    /// Trades `refresh_token` for new tokens at `request.issuer`. `SessionExpired` when the
    /// issuer no longer accepts it (revoked, expired, the user signed out there).
    pub async fn refresh_sso(
        &self,
        request: &SsoRequest,
        refresh_token: &SecretString,
    ) -> Result<SsoTokens> {
        let metadata = self.discover_issuer(&request.issuer).await?;
        let issuer = metadata.issuer().as_str().to_owned();
        let client = IssuerClient::from_provider_metadata(
            metadata,
            ClientId::new(request.client_id.clone()),
            None,
        );
        let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = client
            .exchange_refresh_token(&refresh_token)
            .map_err(|e| failed(format!("the issuer has no token endpoint: {e}")))?
            .request_async(&OidcHttp(&self.oidc_http))
            .await
            .map_err(|e| token_error(Grant::Refresh, e))?;
        // A refresh may carry a new ID token; it must still be the issuer's, for us.
        let subject = match response.id_token() {
            Some(id_token) => {
                let claims = id_token
                    .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
                    .map_err(|e| failed(format!("ID token after refresh: {e}")))?;
                Some(claims.subject().as_str().to_owned())
            }
            None => None,
        };
        Ok(tokens(&response, issuer, subject))
    }

    /// The issuer's metadata and JWKS; its `issuer` must equal the expected one exactly.
    async fn discover_issuer(&self, issuer: &Url) -> Result<IssuerMetadata> {
        if issuer.scheme() != "https" {
            return Err(failed("the issuer is not https://".to_owned()));
        }
        // `Url` adds a slash to a bare origin; the issuer identifier has none (RFC 8414 §2).
        let expected = issuer.as_str().strip_suffix('/').unwrap_or(issuer.as_str());
        let issuer_url =
            IssuerUrl::new(expected.to_owned()).map_err(|e| failed(format!("issuer URL: {e}")))?;
        IssuerMetadata::discover_async(issuer_url, &OidcHttp(&self.oidc_http))
            .await
            .map_err(|e| match e {
                DiscoveryError::Request(OidcTransportError(inner)) => inner,
                other => failed(format!("discovery of {expected}: {other}")),
            })
    }
}

impl SsoAttempt {
    /// The URL to open in the system browser (never in the app's webview).
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    /// The loopback redirect URI the issuer will send the browser to.
    pub fn redirect_uri(&self) -> &Url {
        self.listener.redirect_uri()
    }

    /// Waits for the browser's redirect at most `within` (else `SsoTimeout`; [`SSO_WAIT`] is
    /// the usual bound), checks it, exchanges the code and validates the ID token (signature,
    /// issuer, audience, expiry, nonce, access token hash). Drop the future to cancel.
    pub async fn complete(self, within: Duration) -> Result<SsoTokens> {
        let params = tokio::time::timeout(within, self.listener.wait(self.state.secret()))
            .await
            .map_err(|_| OnboardingError::SsoTimeout { waited: within })??;
        if self.expect_iss && params.iss.as_deref() != Some(self.issuer.as_str()) {
            // RFC 9207: an answer from another issuer (a mix-up attack) is refused.
            return Err(failed("the redirect's iss is not the issuer's".to_owned()));
        }
        if let Some(error) = params.error {
            tracing::info!(
                error,
                description = params.error_description.as_deref().unwrap_or(""),
                "identity provider ended the sign-in"
            );
            return Err(if error == "access_denied" {
                OnboardingError::SsoCancelled
            } else {
                failed(format!("the identity provider said {error}"))
            });
        }
        let code = params
            .code
            .ok_or_else(|| failed("the redirect carries no code".to_owned()))?;
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| failed(format!("the issuer has no token endpoint: {e}")))?
            .set_pkce_verifier(self.pkce_verifier)
            .request_async(&OidcHttp(&self.http))
            .await
            .map_err(|e| token_error(Grant::Code, e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| failed("no ID token in the token response".to_owned()))?;
        let verifier = self.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &self.nonce)
            .map_err(|e| failed(format!("ID token: {e}")))?;
        if let Some(expected_hash) = claims.access_token_hash() {
            let signing_alg = id_token
                .signing_alg()
                .map_err(|e| failed(format!("ID token algorithm: {e}")))?;
            let signing_key = id_token
                .signing_key(&verifier)
                .map_err(|e| failed(format!("ID token key: {e}")))?;
            let actual =
                AccessTokenHash::from_token(response.access_token(), signing_alg, signing_key)
                    .map_err(|e| failed(format!("access token hash: {e}")))?;
            if actual != *expected_hash {
                return Err(failed(
                    "the access token does not belong to the ID token".to_owned(),
                ));
            }
        }
        let subject = Some(claims.subject().as_str().to_owned());
        Ok(tokens(&response, self.issuer, subject))
    }
}

fn tokens(response: &CoreTokenResponse, issuer: String, subject: Option<String>) -> SsoTokens {
    SsoTokens {
        access_token: SecretString::from(response.access_token().secret().to_owned()),
        refresh_token: response
            .refresh_token()
            .map(|t| SecretString::from(t.secret().to_owned())),
        expires_at: response
            .expires_in()
            .map(|d: Duration| SystemTime::now() + d),
        issuer,
        subject,
    }
}

/// What the token endpoint was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Code,
    Refresh,
}

/// Maps a token endpoint failure: the network's fault, a refused refresh token (the session
/// ended), or anything else the issuer said.
fn token_error(
    grant: Grant,
    error: RequestTokenError<
        OidcTransportError,
        openidconnect::StandardErrorResponse<CoreErrorResponseType>,
    >,
) -> OnboardingError {
    match error {
        RequestTokenError::Request(OidcTransportError(inner)) => inner,
        RequestTokenError::ServerResponse(response)
            if grant == Grant::Refresh
                && *response.error() == CoreErrorResponseType::InvalidGrant =>
        {
            OnboardingError::SessionExpired
        }
        RequestTokenError::ServerResponse(response) => {
            failed(format!("the token endpoint said {}", response.error()))
        }
        other => failed(format!("token endpoint: {other}")),
    }
}

fn failed(detail: String) -> OnboardingError {
    OnboardingError::SsoFailed { detail }
}
