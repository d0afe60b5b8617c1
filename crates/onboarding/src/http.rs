//! HTTP plumbing shared by the provisioning fetch and WebFinger: clients with our TLS and
//! redirect rules, capped body reads, and mapping transport failures to [`OnboardingError`].

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};
use url::Url;

use crate::error::{OnboardingError, Result};

/// Every request gives up after this long (docs/provisioning.md, section 5).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(15);
/// At most this many redirects are followed.
const MAX_REDIRECTS: usize = 5;

/// The error a redirect policy returns; found again in the error chain.
#[derive(Debug)]
pub(crate) struct RedirectRefusedMarker(pub(crate) String);

impl std::fmt::Display for RedirectRefusedMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {} refused", self.0)
    }
}

impl StdError for RedirectRefusedMarker {}

/// Which redirects a client follows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Redirects {
    /// Only to `https://` on the first request's origin (the document).
    SameOrigin,
    /// Only to `https://` (WebFinger).
    HttpsOnly,
    /// None (OpenID Connect discovery, JWKS and token requests: a redirect there is an
    /// attack on the client, RFC 9700 §4.11).
    Never,
}

/// A client with `tls` and the redirect rule.
pub(crate) fn client(tls: rustls::ClientConfig, redirects: Redirects) -> Result<reqwest::Client> {
    let policy = Policy::custom(move |attempt: Attempt<'_>| {
        let next = attempt.url();
        let location = format!(
            "{}://{}",
            next.scheme(),
            next.host_str().unwrap_or_default()
        );
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(RedirectRefusedMarker(format!("{location} (too many)")));
        }
        let first_origin = attempt.previous().first().map(Url::origin);
        let allowed = next.scheme() == "https"
            && match redirects {
                Redirects::SameOrigin => first_origin.is_some_and(|o| o == next.origin()),
                Redirects::HttpsOnly => true,
                Redirects::Never => false,
            };
        if allowed {
            attempt.follow()
        } else {
            attempt.error(RedirectRefusedMarker(location))
        }
    });
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(true)
        .redirect(policy)
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .no_proxy()
        .user_agent(concat!("Sidetone/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OnboardingError::Unreachable {
            host: String::new(),
            detail: format!("HTTP client setup: {}", chain(&e.without_url())),
        })
}

/// Why a capped read stopped.
pub(crate) enum ReadError {
    /// More than the cap.
    TooLarge,
    /// The transport failed.
    Transport(OnboardingError),
}

/// Reads at most `cap` bytes of the body; a larger `Content-Length` or body is refused before
/// anything is parsed.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    host: &str,
) -> std::result::Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(ReadError::Transport(transport_error(e, host))),
        }
    }
}

/// Maps a reqwest failure to who is at fault: a refused redirect, TLS, timeout, network.
/// The message never carries the URL (it may hold a token).
pub(crate) fn transport_error(error: reqwest::Error, host: &str) -> OnboardingError {
    let error = error.without_url();
    let host = host.to_owned();
    let mut source: Option<&(dyn StdError + 'static)> = Some(&error);
    let mut tls = None;
    let mut innermost = String::new();
    while let Some(e) = source {
        innermost = e.to_string();
        if let Some(marker) = e.downcast_ref::<RedirectRefusedMarker>() {
            return OnboardingError::RedirectRefused {
                location: marker.0.clone(),
            };
        }
        if let Some(rustls_error) = e.downcast_ref::<rustls::Error>() {
            tls = Some(rustls_error.to_string());
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(rustls_error) = inner.downcast_ref::<rustls::Error>()
        {
            tls = Some(rustls_error.to_string());
        }
        source = e.source();
    }
    let detail = chain(&error);
    if let Some(reason) = tls {
        return OnboardingError::Tls {
            host,
            detail: reason,
        };
    }
    if error.is_timeout() {
        return OnboardingError::Timeout { host };
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return OnboardingError::Tls {
            host,
            detail: innermost,
        };
    }
    OnboardingError::Unreachable { host, detail }
}

/// An error and its sources, joined with ": ".
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// `host[:port]` of a URL, for messages.
pub(crate) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}
