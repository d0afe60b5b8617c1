//! The one-shot loopback listener that receives the browser's redirect (RFC 8252 §7.3).
//!
//! The browser is redirected to `http://127.0.0.1:<port>/callback?code=…&state=…`. Anything
//! on this machine can connect to that port, so the listener trusts nothing: it reads at
//! most [`MAX_REQUEST_BYTES`] per connection, waits at most [`READ_TIMEOUT`] for a request,
//! answers at most [`MAX_CONNECTIONS`] connections, and only a callback carrying the `state`
//! this sign-in sent ends the wait. A redirect with another `state` is answered and ignored,
//! so a local process cannot end a sign-in by guessing the port.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::error::{OnboardingError, Result};

/// The path of the redirect URI.
pub(crate) const CALLBACK_PATH: &str = "/callback";
/// The largest request read from one connection.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many connections one sign-in answers before it gives up.
const MAX_CONNECTIONS: usize = 64;

/// What the issuer sent back through the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallbackParams {
    /// `code` on success.
    pub code: Option<String>,
    /// `iss` (RFC 9207), when the issuer sends it.
    pub iss: Option<String>,
    /// `error` when the sign-in did not happen (`access_denied` when the user cancelled).
    pub error: Option<String>,
    /// `error_description`, for logs.
    pub error_description: Option<String>,
}

/// A bound loopback listener waiting for one redirect.
#[derive(Debug)]
pub(crate) struct CallbackListener {
    listener: TcpListener,
    redirect_uri: Url,
}

impl CallbackListener {
    /// Binds an ephemeral port on 127.0.0.1 (not `localhost`: RFC 8252 §8.3).
    pub(crate) async fn bind() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| local_error(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| local_error(e.to_string()))?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}{CALLBACK_PATH}"))
            .map_err(|e| local_error(e.to_string()))?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to send to the issuer.
    pub(crate) fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits for the redirect that carries `state`, answers the browser with a page saying
    /// what happened, and returns the parameters. Connections are served side by side
    /// (browsers open spare connections that never send a request). Waits without end
    /// unless [`MAX_CONNECTIONS`] have come and gone: the caller bounds the time.
    pub(crate) async fn wait(self, state: &str) -> Result<CallbackParams> {
        let (found, mut results) = tokio::sync::mpsc::channel(1);
        let mut found = Some(found);
        // Dropped with this future: a cancelled sign-in leaves no connection task behind.
        let mut connections = tokio::task::JoinSet::new();
        let mut accepted = 0usize;
        loop {
            tokio::select! {
                Some(params) = results.recv() => return Ok(params),
                accept = self.listener.accept(), if found.is_some() => {
                    let (stream, _) =
                        accept.map_err(|e| local_error(format!("loopback accept: {e}")))?;
                    accepted += 1;
                    let Some(sender) = found.clone() else { continue };
                    if accepted >= MAX_CONNECTIONS {
                        // The last one: when every task is done, `recv` ends the loop.
                        found = None;
                    }
                    let state = state.to_owned();
                    connections.spawn(async move {
                        if let Some(params) = answer(stream, &state).await {
                            let _ = sender.send(params).await;
                        }
                    });
                }
                else => {
                    return Err(OnboardingError::SsoFailed {
                        detail: format!("no valid redirect in {MAX_CONNECTIONS} loopback connections"),
                    });
                }
            }
        }
    }
}

/// Reads one request and answers it; `Some` when it is our redirect.
async fn answer(mut stream: TcpStream, state: &str) -> Option<CallbackParams> {
    let request = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(request)) => request,
        _ => return None,
    };
    let outcome = classify(&request, state);
    let (status, page) = match &outcome {
        Classified::Ours(params) if params.code.is_some() => ("200 OK", PAGE_DONE),
        Classified::Ours(_) => ("200 OK", PAGE_FAILED),
        Classified::OtherState => ("400 Bad Request", PAGE_STALE),
        Classified::NotFound => ("404 Not Found", PAGE_NOT_FOUND),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Connection: close\r\n\r\n{page}",
        page.len()
    );
    // The browser may have gone; the sign-in goes on regardless.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    match outcome {
        Classified::Ours(params) => Some(params),
        _ => None,
    }
}

/// Reads until the end of the request head, at most [`MAX_REQUEST_BYTES`].
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Some(buf);
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return None;
        }
    }
}

/// What one request was.
#[derive(Debug, PartialEq, Eq)]
enum Classified {
    /// The redirect of this sign-in.
    Ours(CallbackParams),
    /// A redirect to our path with another (or no) `state`.
    OtherState,
    /// Anything else (favicon, a port scanner, garbage).
    NotFound,
}

/// Parses a request head (httparse) and decides what it is. Sans-IO, so it is unit-tested
/// and fuzzable.
fn classify(head: &[u8], state: &str) -> Classified {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Classified::NotFound,
    }
    let (Some("GET"), Some(target)) = (request.method, request.path) else {
        return Classified::NotFound;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        return Classified::NotFound;
    }
    let mut params: HashMap<String, String> = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        // A repeated parameter makes the whole redirect suspect (RFC 6749 §3.1).
        if params
            .insert(key.into_owned(), value.into_owned())
            .is_some()
        {
            return Classified::OtherState;
        }
    }
    if params.get("state").map(String::as_str) != Some(state) {
        return Classified::OtherState;
    }
    Classified::Ours(CallbackParams {
        code: params.remove("code"),
        iss: params.remove("iss"),
        error: params.remove("error"),
        error_description: params.remove("error_description"),
    })
}

/// [`classify`] as a word, for the fuzz targets (`fuzz/`): `ours`, `other_state` or
/// `not_found`.
#[cfg(feature = "fuzzing")]
pub(crate) fn classify_to_word(head: &[u8], state: &str) -> &'static str {
    match classify(head, state) {
        Classified::Ours(_) => "ours",
        Classified::OtherState => "other_state",
        Classified::NotFound => "not_found",
    }
}

fn local_error(detail: String) -> OnboardingError {
    OnboardingError::SsoFailed { detail }
}

const PAGE_DONE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<title>Signed in - Sidetone</title><body style=\"font-family:sans-serif;margin:3em\">\
<h1>You are signed in</h1><p>Return to Sidetone; you can close this tab.</p></body></html>";
const PAGE_FAILED: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<title>Sign-in not completed - Sidetone</title><body style=\"font-family:sans-serif;margin:3em\">\
<h1>Sign-in was not completed</h1><p>Return to Sidetone to try again; you can close this tab.</p>\
</body></html>";
const PAGE_STALE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<title>Sidetone</title><body style=\"font-family:sans-serif;margin:3em\">\
<h1>This sign-in page is out of date</h1><p>Start the sign-in again from Sidetone.</p>\
</body></html>";
const PAGE_NOT_FOUND: &str = "<!doctype html><title>Not found</title>";

#[cfg(test)]
mod tests {
    use super::*;

    fn head(target: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
    }

    #[test]
    fn the_redirect_with_our_state_is_ours() {
        let got = classify(
            &head("/callback?code=abc&state=s1&iss=https%3A%2F%2Fidp"),
            "s1",
        );
        assert_eq!(
            got,
            Classified::Ours(CallbackParams {
                code: Some("abc".into()),
                iss: Some("https://idp".into()),
                error: None,
                error_description: None,
            })
        );
    }

    #[test]
    fn an_error_redirect_is_ours_without_a_code() {
        let got = classify(&head("/callback?error=access_denied&state=s1"), "s1");
        let Classified::Ours(params) = got else {
            panic!("not ours: {got:?}")
        };
        assert_eq!(params.code, None);
        assert_eq!(params.error.as_deref(), Some("access_denied"));
    }

    #[test]
    fn another_state_a_missing_state_or_a_repeated_parameter_is_not_ours() {
        assert_eq!(
            classify(&head("/callback?code=abc&state=s2"), "s1"),
            Classified::OtherState
        );
        assert_eq!(
            classify(&head("/callback?code=abc"), "s1"),
            Classified::OtherState
        );
        assert_eq!(
            classify(&head("/callback?code=a&code=b&state=s1"), "s1"),
            Classified::OtherState
        );
    }

    #[test]
    fn other_paths_methods_and_garbage_are_not_found() {
        assert_eq!(classify(&head("/favicon.ico"), "s1"), Classified::NotFound);
        assert_eq!(
            classify(&head("/callbackx?state=s1&code=a"), "s1"),
            Classified::NotFound
        );
        let post = b"POST /callback?state=s1&code=a HTTP/1.1\r\n\r\n";
        assert_eq!(classify(post, "s1"), Classified::NotFound);
        assert_eq!(classify(b"\x00\xff\r\n\r\n", "s1"), Classified::NotFound);
        assert_eq!(classify(b"", "s1"), Classified::NotFound);
    }

    #[tokio::test]
    async fn a_stranger_cannot_end_the_wait_and_the_real_redirect_does() {
        let listener = CallbackListener::bind().await.unwrap();
        let addr = format!(
            "127.0.0.1:{}",
            listener.redirect_uri().port().expect("a port")
        );
        let wait = tokio::spawn(async move { listener.wait("right").await });
        for target in ["/favicon.ico", "/callback?code=x&state=wrong"] {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            s.write_all(&head(target)).await.unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).await.unwrap();
            assert!(!answer.starts_with("HTTP/1.1 200"), "{target}: {answer}");
        }
        // A spare connection that says nothing (browsers open them) holds nothing up.
        let _idle = TcpStream::connect(&addr).await.unwrap();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(&head("/callback?code=good&state=right"))
            .await
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("You are signed in"));
        let params = wait.await.unwrap().unwrap();
        assert_eq!(params.code.as_deref(), Some("good"));
    }
}
