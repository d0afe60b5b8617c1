//! Single sign-on against the REAL lab identity provider (node-oidc-provider, tests/lab/idp),
//! with a real browser: headless Chromium (tests/lab/browser/sign_in.mjs) opens the URL
//! Sidetone would open, fills the provider's pages and follows the redirect to our loopback
//! listener. Needs the lab's tools and `npm ci --prefix ui` (scripts/test.sh does both).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::lab::{admin, client, idp, provisioning_url};
use serde_json::{Value, json};
use sidetone_lab_client::repo_root;
use sidetone_onboarding::{
    ExposeSecret, FetchOutcome, OnboardingError, SignInMethod, SsoAttempt, SsoRequest, SsoTokens,
    Url,
};

/// How long one browser sign-in may take before the test calls it hung.
const SIGN_IN_LIMIT: Duration = Duration::from_secs(90);

fn issuer() -> Url {
    Url::parse(idp()["issuer"].as_str().unwrap()).unwrap()
}

fn request_for(user: &str) -> SsoRequest {
    let mut request = SsoRequest::new(issuer());
    request.login_hint = Some(idp()["users"][user]["login"].as_str().unwrap().to_owned());
    request
}

/// What the user does in the browser.
#[derive(Clone, Copy)]
enum AtTheBrowser<'a> {
    SignIn,
    SignInChangingPassword(&'a str),
    Cancel,
}

/// Runs the browser on `attempt`'s URL as `user` while `attempt` waits for the redirect;
/// returns what the attempt gave and the browser's report.
async fn sign_in(
    attempt: SsoAttempt,
    user: &str,
    action: AtTheBrowser<'_>,
) -> (Result<SsoTokens, OnboardingError>, Value) {
    let u = &idp()["users"][user];
    let script = repo_root().join("tests/lab/browser/sign_in.mjs");
    let mut browser = tokio::process::Command::new("node");
    browser
        .arg(script)
        .arg("--url")
        .arg(attempt.authorize_url().as_str())
        .arg("--login")
        .arg(u["login"].as_str().unwrap())
        .arg("--password")
        .arg(u["password"].as_str().unwrap())
        .kill_on_drop(true);
    if let Some(secret) = u["totp_secret"].as_str() {
        browser.arg("--totp-secret").arg(secret);
    }
    match action {
        AtTheBrowser::SignIn => {}
        AtTheBrowser::SignInChangingPassword(new) => {
            browser.arg("--new-password").arg(new);
        }
        AtTheBrowser::Cancel => {
            browser.arg("--cancel");
        }
    }
    let run = async {
        let (tokens, output) = tokio::join!(attempt.complete(SIGN_IN_LIMIT), browser.output());
        let output = output.expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
            panic!(
                "browser said: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (tokens, report)
    };
    tokio::time::timeout(SIGN_IN_LIMIT, run)
        .await
        .expect("the sign-in finished in time")
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn the_authorization_url_is_a_pkce_s256_code_request_to_a_loopback_redirect() {
    let attempt = client().start_sso(&request_for("alice")).await.unwrap();
    let url = attempt.authorize_url();
    assert!(url.as_str().starts_with(idp()["issuer"].as_str().unwrap()));
    let q = query(url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "sidetone-desktop");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert!(q["state"].len() >= 16 && q["nonce"].len() >= 16);
    assert_ne!(q["state"], q["nonce"]);
    assert_eq!(q["login_hint"], "alice@sidetone.test");
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    for wanted in ["openid", "profile", "email", "offline_access"] {
        assert_eq!(
            scopes.iter().filter(|s| **s == wanted).count(),
            1,
            "{scopes:?}"
        );
    }
    let redirect = Url::parse(&q["redirect_uri"]).unwrap();
    assert_eq!(redirect.scheme(), "http");
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.path(), "/callback");
    assert_eq!(&redirect, attempt.redirect_uri());
    assert_ne!(redirect.port(), None);

    // A second sign-in gets its own state, nonce, verifier and port.
    let other = client().start_sso(&request_for("alice")).await.unwrap();
    let q2 = query(other.authorize_url());
    assert_ne!(q["state"], q2["state"]);
    assert_ne!(q["nonce"], q2["nonce"]);
    assert_ne!(q["code_challenge"], q2["code_challenge"]);
    assert_ne!(q["redirect_uri"], q2["redirect_uri"]);
}

#[tokio::test]
async fn alice_signs_in_gets_her_document_and_refreshes_with_rotation() {
    let client = client();
    let attempt = client.start_sso(&request_for("alice")).await.unwrap();
    let (tokens, browser) = sign_in(attempt, "alice", AtTheBrowser::SignIn).await;
    let tokens = tokens.unwrap();
    assert_eq!(browser["path"], "/callback");
    assert!(
        browser["text"]
            .as_str()
            .unwrap()
            .contains("You are signed in"),
        "{browser}"
    );
    assert_eq!(tokens.issuer, idp()["issuer"].as_str().unwrap());
    assert!(tokens.subject.is_some());
    assert!(tokens.expires_at.is_some());
    let first_refresh = tokens.refresh_token.clone().expect("offline_access");

    // The access token fetches her document, which names the same issuer.
    let outcome = client
        .fetch(&provisioning_url(), &tokens.bearer())
        .await
        .unwrap();
    let FetchOutcome::Document(doc) = outcome else {
        panic!("expected a document")
    };
    assert_eq!(doc.document.sign_in.method, SignInMethod::Oidc);
    assert_eq!(doc.document.sign_in.login_id, "alice@sidetone.test");
    assert_eq!(doc.document.accounts[0].auth_username, "2001");

    // Refresh: a new access token, and the rotated refresh token replaces the old one.
    let refreshed = client
        .refresh_sso(&request_for("alice"), &first_refresh)
        .await
        .unwrap();
    assert_ne!(
        refreshed.access_token.expose_secret(),
        tokens.access_token.expose_secret()
    );
    let second_refresh = refreshed.refresh_token.clone().expect("rotated");
    assert_ne!(
        second_refresh.expose_secret(),
        first_refresh.expose_secret()
    );
    let outcome = client
        .fetch(&provisioning_url(), &refreshed.bearer())
        .await
        .unwrap();
    assert!(matches!(outcome, FetchOutcome::Document(_)));

    // Signed out at the provider: the refresh token stops working, and says so.
    admin("/sessions/revoke", json!({"login": "alice@sidetone.test"})).await;
    let ended = client
        .refresh_sso(&request_for("alice"), &second_refresh)
        .await
        .unwrap_err();
    assert!(
        matches!(ended, OnboardingError::SessionExpired),
        "{ended:?}"
    );
    assert_eq!(ended.code(), "onboarding.session_expired");
}

#[tokio::test]
async fn bob_passes_his_totp_step_at_the_provider() {
    let attempt = client().start_sso(&request_for("bob")).await.unwrap();
    let (tokens, browser) = sign_in(attempt, "bob", AtTheBrowser::SignIn).await;
    let tokens = tokens.unwrap_or_else(|e| panic!("{e:?}; browser: {browser}"));
    assert!(!tokens.access_token.expose_secret().is_empty());
}

#[tokio::test]
async fn carol_changes_her_expired_password_at_the_provider_and_is_signed_in() {
    let attempt = client().start_sso(&request_for("carol")).await.unwrap();
    let (tokens, browser) = sign_in(
        attempt,
        "carol",
        AtTheBrowser::SignInChangingPassword("a-New-passw0rd-for-carol"),
    )
    .await;
    let tokens = tokens.unwrap_or_else(|e| panic!("{e:?}; browser: {browser}"));
    assert!(tokens.refresh_token.is_some());
}

#[tokio::test]
async fn cancelling_at_the_provider_is_sso_cancelled_and_the_browser_is_told() {
    let attempt = client().start_sso(&request_for("alice")).await.unwrap();
    let (tokens, browser) = sign_in(attempt, "alice", AtTheBrowser::Cancel).await;
    let error = tokens.unwrap_err();
    assert!(matches!(error, OnboardingError::SsoCancelled), "{error:?}");
    assert_eq!(error.code(), "onboarding.sso_cancelled");
    assert!(
        browser["text"].as_str().unwrap().contains("not completed"),
        "{browser}"
    );
}

#[tokio::test]
async fn an_issuer_that_is_not_https_or_not_there_fails_before_any_browser() {
    let mut request = request_for("alice");
    request.issuer =
        Url::parse(&idp()["issuer"].as_str().unwrap().replace("https", "http")).unwrap();
    let e = client().start_sso(&request).await.unwrap_err();
    assert_eq!(e.code(), "onboarding.sso_failed", "{e:?}");

    // The same server under another path is another issuer: no metadata there.
    request.issuer =
        Url::parse(&format!("{}/elsewhere", idp()["issuer"].as_str().unwrap())).unwrap();
    let e = client().start_sso(&request).await.unwrap_err();
    assert_eq!(e.code(), "onboarding.sso_failed", "{e:?}");
}

#[tokio::test]
async fn a_refresh_token_that_was_never_issued_is_session_expired() {
    let e = client()
        .refresh_sso(
            &request_for("alice"),
            &sidetone_onboarding::SecretString::from("not-a-real-refresh-token".to_owned()),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, OnboardingError::SessionExpired), "{e:?}");
}

#[tokio::test]
async fn a_sign_in_nobody_finishes_times_out_and_frees_its_port() {
    let attempt = client().start_sso(&request_for("alice")).await.unwrap();
    let port = attempt.redirect_uri().port().unwrap();
    let e = attempt
        .complete(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(e, OnboardingError::SsoTimeout { .. }), "{e:?}");
    assert_eq!(e.code(), "onboarding.sso_timeout");
    // The listener is gone with the attempt: nothing answers on its port any more.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
}
