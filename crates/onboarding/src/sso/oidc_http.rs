//! openidconnect's HTTP requests sent through our own reqwest client: our TLS roots (OS store
//! plus the caller's CA), no redirects, the shared timeout and a size cap. openidconnect's
//! own reqwest feature would pull a second reqwest and its own TLS setup.

use std::future::Future;
use std::pin::Pin;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::error::OnboardingError;
use crate::http::{self, ReadError};

/// The largest discovery document, JWKS or token response read.
const MAX_OIDC_BODY: usize = 512 * 1024;

/// Sends openidconnect's requests with `client` (built with [`http::Redirects::Never`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OidcHttp<'a>(pub(crate) &'a reqwest::Client);

/// A transport failure, carried through openidconnect's error types and taken out again.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct OidcTransportError(pub(crate) OnboardingError);

impl<'c> AsyncHttpClient<'c> for OidcHttp<'_> {
    type Error = OidcTransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let host = request
                .uri()
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let request = reqwest::Request::try_from(request).map_err(|e| {
                OidcTransportError(OnboardingError::SsoFailed {
                    detail: format!("request not sendable: {}", e.without_url()),
                })
            })?;
            let response = self
                .0
                .execute(request)
                .await
                .map_err(|e| OidcTransportError(http::transport_error(e, &host)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = match http::read_capped(response, MAX_OIDC_BODY, &host).await {
                Ok(body) => body,
                Err(ReadError::TooLarge) => {
                    return Err(OidcTransportError(OnboardingError::SsoFailed {
                        detail: format!("{host} sent more than {MAX_OIDC_BODY} bytes"),
                    }));
                }
                Err(ReadError::Transport(e)) => return Err(OidcTransportError(e)),
            };
            let mut answer = HttpResponse::new(body);
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        })
    }
}
