//! Against the REAL lab identity provider (tests/lab/idp) on loopback HTTPS with its own CA.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::lab::{admin, client, idp, provisioning_url};
use serde_json::json;
use sidetone_onboarding::{
    AuthCode, Authentication, DeploymentLink, FetchOutcome, LoginId, OnboardingError,
    ProvisioningClient, SecretString, SignInMethod, ValidatedDocument,
};

fn user(id: &str) -> (String, SecretString) {
    let u = &idp()["users"][id];
    (
        u["login"].as_str().unwrap().to_owned(),
        SecretString::from(u["password"].as_str().unwrap().to_owned()),
    )
}

fn document(outcome: FetchOutcome) -> Box<ValidatedDocument> {
    match outcome {
        FetchOutcome::Document(doc) => doc,
        other => panic!("expected a document, got {other:?}"),
    }
}

#[tokio::test]
async fn token_link_gives_the_document_once_then_410() {
    let token = admin("/tokens", json!({"login": "1001@sidetone.test"})).await;
    let link = DeploymentLink::parse(token["url_link"].as_str().unwrap()).unwrap();
    let client = client();
    let doc = document(client.fetch_deployment(&link.deployment).await.unwrap());
    assert_eq!(doc.document.accounts[0].auth_username, "1001");
    assert!(
        !doc.secrets.0.is_empty(),
        "the SIP password came apart from the document"
    );
    assert_eq!(
        doc.trust_anchors.len(),
        doc.document
            .trust
            .as_ref()
            .map_or(0, |t| t.ca_certificates.len())
    );
    let again = client.fetch_deployment(&link.deployment).await.unwrap_err();
    assert!(
        matches!(
            again,
            OnboardingError::TokenUsedOrExpired { expired: false }
        ),
        "{again:?}"
    );
    assert_eq!(again.code(), "onboarding.token_used");
}

#[tokio::test]
async fn server_link_and_code_from_the_lab_work() {
    let client = client();
    let token = admin("/tokens", json!({"login": "1001@sidetone.test"})).await;
    let link = DeploymentLink::parse(token["server_link"].as_str().unwrap()).unwrap();
    assert_eq!(link.deployment.provisioning_url, provisioning_url());
    document(client.fetch_deployment(&link.deployment).await.unwrap());

    // The lab's codes.js made this code; our decoder must agree.
    let token = admin("/tokens", json!({"login": "1001@sidetone.test"})).await;
    let code = AuthCode::parse(token["code"].as_str().unwrap()).unwrap();
    assert_eq!(code.server, idp()["server"].as_str().unwrap());
    assert_eq!(code.token.expose(), token["token"].as_str().unwrap());
    assert_eq!(
        AuthCode::encode(&code.server, &code.token).unwrap(),
        token["code"].as_str().unwrap()
    );
    document(
        client
            .fetch_deployment(&code.deployment().unwrap())
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn expired_token_is_410_expired() {
    let token = admin("/tokens", json!({"login": "1001@sidetone.test", "ttl": 0})).await;
    let link = DeploymentLink::parse(token["url_link"].as_str().unwrap()).unwrap();
    let e = client()
        .fetch_deployment(&link.deployment)
        .await
        .unwrap_err();
    assert!(
        matches!(e, OnboardingError::TokenUsedOrExpired { expired: true }),
        "{e:?}"
    );
}

#[tokio::test]
async fn password_sign_in_gives_a_valid_document() {
    let (login_id, password) = user("1002");
    let auth = Authentication::Password { login_id, password };
    let doc = document(client().fetch(&provisioning_url(), &auth).await.unwrap());
    assert_eq!(doc.document.sign_in.method, SignInMethod::Password);
    assert_eq!(doc.document.accounts.len(), 1);
}

#[tokio::test]
async fn wrong_password_is_one_request_and_five_lock_out() {
    let (login_id, password) = user("1003");
    admin("/lockouts/reset", json!({"login": login_id})).await;
    let client = client();
    let wrong = Authentication::Password {
        login_id: login_id.clone(),
        password: SecretString::from("not-the-password".to_owned()),
    };
    // Four calls, four 401s: had the client retried even once, the lab (5 failures lock)
    // would have answered 429 by now. So each call made exactly one request.
    for attempt in 1..=4 {
        let e = client.fetch(&provisioning_url(), &wrong).await.unwrap_err();
        assert!(
            matches!(e, OnboardingError::WrongPassword),
            "attempt {attempt}: {e:?}"
        );
        assert_eq!(e.code(), "onboarding.invalid_credentials");
    }
    let e = client.fetch(&provisioning_url(), &wrong).await.unwrap_err();
    let OnboardingError::LockedOut {
        retry_after: Some(retry),
    } = e
    else {
        panic!("{e:?}")
    };
    assert!(
        retry > Duration::from_secs(14 * 60) && retry <= Duration::from_secs(15 * 60),
        "{retry:?}"
    );
    assert!(e.to_string().contains("15 minutes"), "{e}");
    // While locked even the right password is refused.
    let right = Authentication::Password {
        login_id: login_id.clone(),
        password,
    };
    let e = client.fetch(&provisioning_url(), &right).await.unwrap_err();
    assert!(matches!(e, OnboardingError::LockedOut { .. }), "{e:?}");
    admin("/lockouts/reset", json!({"login": login_id})).await;
    document(client.fetch(&provisioning_url(), &right).await.unwrap());
}

#[tokio::test]
async fn webfinger_finds_danas_two_accounts_and_the_picker_works() {
    let client = client();
    let login = LoginId::parse(idp()["users"]["dana"]["login"].as_str().unwrap()).unwrap();
    let found = client
        .discover(&login, idp()["server"].as_str())
        .await
        .unwrap();
    let numbers: Vec<_> = found
        .accounts
        .iter()
        .filter_map(|a| a.account_number.as_deref())
        .collect();
    assert_eq!(numbers, ["100200", "100300"]);
    assert!(
        found
            .accounts
            .iter()
            .all(|a| a.sign_in == Some(SignInMethod::Password))
    );
    assert_eq!(
        found.accounts[1].title.as_deref(),
        Some("Sidetone Lab Annex")
    );
    assert!(found.issuer.is_none());

    // Without an account the endpoint answers 300 with the same two accounts.
    let (login_id, password) = user("dana");
    let auth = Authentication::Password { login_id, password };
    let FetchOutcome::ChooseAccount(choices) =
        client.fetch(&provisioning_url(), &auth).await.unwrap()
    else {
        panic!("expected the account picker");
    };
    assert_eq!(choices.len(), 2);
    let annex = choices
        .iter()
        .find(|c| c.account_number == "100300")
        .unwrap();
    let doc = document(client.fetch(&annex.href, &auth).await.unwrap());
    assert_eq!(
        doc.document.accounts[0].account_number.as_deref(),
        Some("100300")
    );

    // A token is not spent by the 300: send it again with the chosen account.
    let token = admin("/tokens", json!({"login": "dana@sidetone.test"})).await;
    let link = DeploymentLink::parse(token["url_link"].as_str().unwrap()).unwrap();
    let FetchOutcome::ChooseAccount(choices) =
        client.fetch_deployment(&link.deployment).await.unwrap()
    else {
        panic!("expected the account picker");
    };
    let auth = Authentication::Token(link.deployment.token.unwrap());
    document(client.fetch(&choices[0].href, &auth).await.unwrap());
}

#[tokio::test]
async fn webfinger_unknown_user_is_not_found() {
    let login = LoginId::parse("nobody@sidetone.test").unwrap();
    let e = client()
        .discover(&login, idp()["server"].as_str())
        .await
        .unwrap_err();
    assert!(matches!(e, OnboardingError::WebFingerNotFound), "{e:?}");
}

#[tokio::test]
async fn without_the_lab_ca_tls_fails_and_is_never_accepted() {
    let (login_id, password) = user("1002");
    let auth = Authentication::Password { login_id, password };
    let client = ProvisioningClient::new(None).unwrap();
    let e = client.fetch(&provisioning_url(), &auth).await.unwrap_err();
    assert!(matches!(e, OnboardingError::Tls { .. }), "{e:?}");
    assert_eq!(e.code(), "onboarding.tls_error");
    let login = LoginId::parse("dana@sidetone.test").unwrap();
    let e = client
        .discover(&login, idp()["server"].as_str())
        .await
        .unwrap_err();
    assert!(matches!(e, OnboardingError::Tls { .. }), "{e:?}");
}
