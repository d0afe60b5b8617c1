//! Onboarding: links, codes, images and documents from the welcome e-mail, the web portal,
//! the provisioning server and the identity provider.

use std::time::{Duration, SystemTime};

use openidconnect::core::{CoreProviderMetadata, CoreTokenResponse};
use sidetone_onboarding::{
    AuthCode, DeploymentLink, Discovery, DocumentOrigin, FetchOutcome, LoginId, MAX_LINK_LEN,
    ProvisioningDocument, Url, decode_qr_image, fuzzing, parse_input,
};

/// A `sidetone://` link, or anything pasted into the set-up box (link, code, login id).
///
/// Holds: an accepted link is within the documented length.
pub fn deep_link(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    if DeploymentLink::parse(text).is_ok() {
        assert!(
            text.chars().count() <= MAX_LINK_LEN,
            "an over-long link passed"
        );
    }
    let _ = parse_input(text);
    let _ = LoginId::parse(text);
}

/// An authentication code as typed from the welcome e-mail.
///
/// Holds: an accepted code encodes back to a code that reads as the same server and token.
pub fn auth_code(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    let Ok(code) = AuthCode::parse(text) else {
        return;
    };
    let encoded = AuthCode::encode(&code.server, &code.token);
    let again = encoded.as_deref().map(AuthCode::parse);
    assert!(
        matches!(&again, Ok(Ok(again)) if *again == code),
        "{text:?} read as {code:?}, encoded as {encoded:?}, read back as {again:?}"
    );
    let _ = code.deployment();
}

/// A provisioning document, as fetched with a one-time token and as opened from a file.
///
/// Holds: a document from an unauthenticated origin never yields a password.
pub fn provisioning_document(data: &[u8]) {
    // A fixed "now" in 2026, so certificate validity checks are reproducible.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let Ok(url) = Url::parse("https://provisioning.example.test/sidetone/v1/document") else {
        return;
    };
    let fetched = DocumentOrigin::Authenticated {
        url: url.clone(),
        bearer_issuer: Some("https://login.example.test".to_owned()),
    };
    let _ = ProvisioningDocument::parse(data, &fetched, now);
    for origin in [
        DocumentOrigin::Unauthenticated { url: Some(url) },
        DocumentOrigin::Unauthenticated { url: None },
    ] {
        if let Ok(validated) = ProvisioningDocument::parse(data, &origin, now) {
            assert!(
                validated.secrets.0.is_empty(),
                "an unauthenticated document carried passwords"
            );
        }
    }
}

/// An image file picked to scan a QR code from (PNG or JPEG, any bytes really).
pub fn qr_image(data: &[u8]) {
    let _ = decode_qr_image(data);
}

/// A WebFinger answer (JRD) for a login id.
///
/// Holds: an accepted answer has at least one account, and every link in it is `https://`.
pub fn webfinger_jrd(data: &[u8]) {
    let Ok(discovery) = Discovery::from_jrd(data) else {
        return;
    };
    assert!(!discovery.accounts.is_empty(), "{discovery:?}");
    let links = discovery
        .accounts
        .iter()
        .flat_map(|a| [Some(&a.href), a.issuer.as_ref()]);
    for link in links.chain([discovery.issuer.as_ref()]).flatten() {
        assert_eq!(link.scheme(), "https", "{discovery:?}");
    }
}

/// An HTTP request head on the loopback listener that waits for the sign-in redirect.
///
/// Holds: only a request that names our state can end the wait.
pub fn sso_callback(data: &[u8]) {
    const STATE: &str = "fuzz-state";
    let verdict = fuzzing::classify_sso_callback(data, STATE);
    assert!(matches!(verdict, "ours" | "other_state" | "not_found"));
    if verdict == "ours" {
        assert!(
            data.windows(STATE.len()).any(|w| w == STATE.as_bytes())
                || data.contains(&b'%')
                || data.contains(&b'+'),
            "a redirect without our state was taken as ours"
        );
    }
}

/// The identity provider's discovery document or token response.
pub fn oidc_json(data: &[u8]) {
    let _ = serde_json::from_slice::<CoreProviderMetadata>(data);
    let _ = serde_json::from_slice::<CoreTokenResponse>(data);
}

/// The provisioning server's answer other than a document: an error body, or a `300` list of
/// accounts to pick from. The first two bytes pick the HTTP status.
///
/// Holds: every account offered for picking is on the server's own origin.
pub fn provisioning_answer(data: &[u8]) {
    let [hi, lo, body @ ..] = data else {
        return;
    };
    let status = 300 + u16::from_be_bytes([*hi, *lo]) % 300;
    let Ok(url) = Url::parse("https://provisioning.example.test/sidetone/v1/document") else {
        return;
    };
    if let Ok(FetchOutcome::ChooseAccount(choices)) =
        fuzzing::provisioning_answer(&url, status, body)
    {
        assert!(!choices.is_empty());
        for choice in choices {
            assert_eq!(choice.href.origin(), url.origin(), "{choice:?}");
        }
    }
}
