//! Table-driven: malformed links, codes, QR images and documents, each with its error code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::qr;
use serde_json::{Value, json};
use sidetone_onboarding::{
    AuthCode, DeploymentLink, DocumentOrigin, OnboardingError, ProvisioningDocument, Url,
    decode_qr_image, parse_input,
};

const TOKEN: &str = "7Q2M0D4K9VXR1H8A";
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECK: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// An independent encoder (not the crate's) to build codes the crate must refuse.
fn raw_code(version: char, token: &str, host_bytes: &[u8]) -> String {
    let mut payload = format!("{version}{token}");
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in host_bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            payload.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        payload.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    let rest = payload.bytes().fold(0u32, |r, s| {
        (r * 32 + ALPHABET.iter().position(|&a| a == s).unwrap() as u32) % 37
    });
    payload.push(CHECK[rest as usize] as char);
    payload
}

fn link(s: &str) -> Result<(), OnboardingError> {
    DeploymentLink::parse(s).map(drop)
}

fn code(s: &str) -> Result<(), OnboardingError> {
    AuthCode::parse(s).map(drop)
}

fn example(name: &str) -> Value {
    let bytes = common::examples()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1;
    serde_json::from_slice(&bytes).unwrap()
}

/// password-basic.json changed by `edit`, validated as fetched with a password.
fn doc(edit: impl FnOnce(&mut Value)) -> Result<(), OnboardingError> {
    let mut value = example("password-basic.json");
    edit(&mut value);
    let origin = common::origin_for(&example("password-basic.json"));
    ProvisioningDocument::parse(&serde_json::to_vec(&value).unwrap(), &origin, common::now())
        .map(drop)
}

fn doc_bytes(bytes: &[u8]) -> Result<(), OnboardingError> {
    let origin = common::origin_for(&Value::Null);
    ProvisioningDocument::parse(bytes, &origin, common::now()).map(drop)
}

fn leaf_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/leaf-not-ca.pem"
    ))
    .unwrap()
}

fn oidc_ca_pem() -> String {
    example("oidc-sso.json")["trust"]["ca_certificates"][0]
        .as_str()
        .unwrap()
        .to_owned()
}

type Case = (
    &'static str,
    &'static str,
    Box<dyn Fn() -> Result<(), OnboardingError>>,
);

fn cases() -> Vec<Case> {
    let long = format!(
        "sidetone://provision?server=a.example&x={}",
        "a".repeat(5000)
    );
    let good_code = AuthCode::encode(
        "pbx.example.com",
        &sidetone_onboarding::Token::parse(TOKEN).unwrap(),
    )
    .unwrap();
    let mut typo: Vec<char> = good_code.chars().collect();
    typo[6] = if typo[6] == 'X' { 'Y' } else { 'X' };
    let typo: String = typo.into_iter().collect();
    vec![
        // ---- links ----
        (
            "other scheme",
            "link_malformed",
            Box::new(|| link("https://pbx.example.com/provision?token=7Q2M0D4K9VXR1H8A")),
        ),
        (
            "other host",
            "link_malformed",
            Box::new(|| link("sidetone://evil?server=a.example")),
        ),
        (
            "path",
            "link_malformed",
            Box::new(|| link("sidetone://provision/x?server=a.example")),
        ),
        (
            "http url",
            "link_insecure_url",
            Box::new(|| {
                link(
                    "sidetone://provision?url=http%3A%2F%2Fpbx.example.com%2Fp&token=7Q2M0D4K9VXR1H8A",
                )
            }),
        ),
        (
            "ftp url",
            "link_insecure_url",
            Box::new(|| link("sidetone://provision?url=ftp%3A%2F%2Fpbx.example.com%2Fp")),
        ),
        (
            "userinfo in url",
            "link_malformed",
            Box::new(|| {
                link("sidetone://provision?url=https%3A%2F%2Fpbx.example.com%40evil.example%2Fp")
            }),
        ),
        (
            "token inside url",
            "link_malformed",
            Box::new(|| {
                link(
                    "sidetone://provision?url=https%3A%2F%2Fa.example%2Fp%3Ftoken%3D7Q2M0D4K9VXR1H8A",
                )
            }),
        ),
        (
            "repeated server",
            "link_malformed",
            Box::new(|| link("sidetone://provision?server=pbx.example.com&server=evil.example")),
        ),
        (
            "no target",
            "link_missing_target",
            Box::new(|| link("sidetone://provision?token=7Q2M0D4K9VXR1H8A")),
        ),
        (
            "url and server",
            "link_missing_target",
            Box::new(|| {
                link("sidetone://provision?server=a.example&url=https%3A%2F%2Fb.example%2F")
            }),
        ),
        (
            "IDN server not A-label",
            "link_invalid_server",
            Box::new(|| link("sidetone://provision?server=b%C3%BCcher.example")),
        ),
        (
            "server with path",
            "link_invalid_server",
            Box::new(|| link("sidetone://provision?server=pbx.example.com%2Fevil")),
        ),
        (
            "server port 0",
            "link_invalid_server",
            Box::new(|| link("sidetone://provision?server=pbx.example.com%3A0")),
        ),
        (
            "short token",
            "link_invalid_token",
            Box::new(|| link("sidetone://provision?server=a.example&token=7Q2M0D4K")),
        ),
        (
            "token with U",
            "link_invalid_token",
            Box::new(|| link("sidetone://provision?server=a.example&token=7Q2M0D4K9VXR1H8U")),
        ),
        (
            "raw newline",
            "link_malformed",
            Box::new(|| link("sidetone://provision?server=a.example\n&token=7Q2M0D4K9VXR1H8A")),
        ),
        (
            "control char in user",
            "link_malformed",
            Box::new(|| link("sidetone://provision?server=a.example&user=a%0Ab")),
        ),
        ("oversized", "link_malformed", Box::new(move || link(&long))),
        // ---- paste box ----
        (
            "empty paste",
            "input_empty",
            Box::new(|| parse_input("   ").map(drop)),
        ),
        (
            "javascript",
            "input_unrecognized",
            Box::new(|| parse_input("javascript:alert(1)").map(drop)),
        ),
        (
            "bad login id",
            "login_id_malformed",
            Box::new(|| parse_input("jane@").map(drop)),
        ),
        // ---- codes ----
        ("code typo", "code_checksum", Box::new(move || code(&typo))),
        (
            "code too short",
            "code_malformed",
            Box::new(|| code("17Q2-M0D4-K9VX")),
        ),
        (
            "code version 2",
            "code_unsupported_version",
            Box::new(|| code(&raw_code('2', TOKEN, b"pbx.example.com"))),
        ),
        (
            "code host with space",
            "code_malformed",
            Box::new(|| code(&raw_code('1', TOKEN, b"evil host"))),
        ),
        (
            "code host upper case",
            "code_malformed",
            Box::new(|| code(&raw_code('1', TOKEN, b"PBX.example.com"))),
        ),
        (
            "code host not UTF-8",
            "code_malformed",
            Box::new(|| code(&raw_code('1', TOKEN, &[0xff, 0xfe, 0x41]))),
        ),
        (
            "code non-ASCII",
            "code_malformed",
            Box::new(|| code("17Q2-M0D4-K9VX-R1H8-AE1H-7GBK-5F1G-PTW3-CCMQ-66VV-Dé")),
        ),
        // ---- QR images ----
        (
            "blank image",
            "qr_not_found",
            Box::new(|| {
                decode_qr_image(&qr::encode(&qr::canvas(300, 300), image::ImageFormat::Png))
                    .map(drop)
            }),
        ),
        (
            "two codes",
            "qr_multiple",
            Box::new(|| {
                let mut image = qr::canvas(1300, 650);
                qr::draw(
                    &mut image,
                    "sidetone://provision?server=a.example&token=7Q2M0D4K9VXR1H8A",
                    0,
                    0,
                );
                qr::draw(
                    &mut image,
                    "sidetone://provision?server=b.example&token=7Q2M0D4K9VXR1H8A",
                    650,
                    0,
                );
                decode_qr_image(&qr::encode(&image, image::ImageFormat::Png)).map(drop)
            }),
        ),
        (
            "QR not a link",
            "qr_not_a_link",
            Box::new(|| decode_qr_image(&qr::png("https://evil.example/")).map(drop)),
        ),
        (
            "QR insecure link",
            "link_insecure_url",
            Box::new(|| {
                decode_qr_image(&qr::png(
                    "sidetone://provision?url=http%3A%2F%2Fa.example%2F",
                ))
                .map(drop)
            }),
        ),
        (
            "not an image",
            "image_unreadable",
            Box::new(|| decode_qr_image(b"GIF89a not really").map(drop)),
        ),
        (
            "truncated PNG",
            "image_unreadable",
            Box::new(|| decode_qr_image(&qr::png("x")[..100]).map(drop)),
        ),
        // ---- documents ----
        (
            "too large",
            "document_too_large",
            Box::new(|| doc_bytes(&vec![b' '; 262_145])),
        ),
        ("array", "document_not_json", Box::new(|| doc_bytes(b"[]"))),
        (
            "BOM",
            "document_not_json",
            Box::new(|| doc_bytes(b"\xef\xbb\xbf{}")),
        ),
        (
            "repeated member",
            "document_not_json",
            Box::new(|| doc_bytes(br#"{"sidetone_provisioning":1,"sidetone_provisioning":1}"#)),
        ),
        (
            "version 2",
            "unsupported_version",
            Box::new(|| doc(|d| d["sidetone_provisioning"] = json!(2))),
        ),
        (
            "no version",
            "unsupported_version",
            Box::new(|| {
                doc(|d| {
                    d.as_object_mut().unwrap().remove("sidetone_provisioning");
                })
            }),
        ),
        (
            "no provider name",
            "missing_field",
            Box::new(|| {
                doc(|d| {
                    d["provider"].as_object_mut().unwrap().remove("name");
                })
            }),
        ),
        (
            "unknown member",
            "unknown_field",
            Box::new(|| doc(|d| d["accounts"][0]["colour"] = json!("red"))),
        ),
        (
            "wrong type",
            "invalid_value",
            Box::new(|| doc(|d| d["accounts"][0]["mwi"] = json!("yes"))),
        ),
        (
            "expires out of range",
            "invalid_value",
            Box::new(|| doc(|d| d["accounts"][0]["registration_expires"] = json!(10))),
        ),
        (
            "webrtc without srtp",
            "invalid_value",
            Box::new(|| doc(|d| d["accounts"][0]["media"]["profile"] = json!("webrtc"))),
        ),
        (
            "password with issuer",
            "invalid_value",
            Box::new(|| doc(|d| d["sign_in"]["issuer"] = json!("https://login.example.com"))),
        ),
        (
            "imap none remote",
            "invalid_value",
            Box::new(|| {
                doc(
                    |d| d["accounts"][0]["voicemail"] = json!({"imap": {"host": "vm.example.com", "port": 143, "tls": "none"}, "username": "u", "credential_id": "sip-201"}),
                )
            }),
        ),
        (
            "http support url",
            "insecure_url",
            Box::new(|| doc(|d| d["provider"]["support_url"] = json!("http://help.example.com/"))),
        ),
        (
            "ws for wss",
            "insecure_url",
            Box::new(|| {
                doc(|d| {
                    d["accounts"][0]["transports"] =
                        json!([{"type": "wss", "url": "ws://edge.example.com/ws"}])
                })
            }),
        ),
        (
            "duplicate account id",
            "duplicate_id",
            Box::new(|| {
                doc(|d| {
                    let a = d["accounts"][0].clone();
                    d["accounts"].as_array_mut().unwrap().push(a);
                })
            }),
        ),
        (
            "duplicate credential id",
            "duplicate_id",
            Box::new(|| {
                doc(|d| {
                    let c = d["credentials"][0].clone();
                    d["credentials"].as_array_mut().unwrap().push(c);
                })
            }),
        ),
        (
            "duplicate transport",
            "duplicate_transport",
            Box::new(|| {
                doc(|d| d["accounts"][0]["transports"] = json!([{"type": "udp"}, {"type": "udp"}]))
            }),
        ),
        (
            "unknown credential",
            "unknown_credential",
            Box::new(|| doc(|d| d["accounts"][0]["credential_id"] = json!("nope"))),
        ),
        (
            "secret from a file",
            "secret_not_allowed",
            Box::new(|| {
                let bytes = serde_json::to_vec(&example("password-basic.json")).unwrap();
                ProvisioningDocument::parse(
                    &bytes,
                    &DocumentOrigin::Unauthenticated { url: None },
                    common::now(),
                )
                .map(drop)
            }),
        ),
        (
            "garbage certificate",
            "invalid_certificate",
            Box::new(|| {
                doc(
                    |d| d["trust"] = json!({"ca_certificates": ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]}),
                )
            }),
        ),
        (
            "two certificates in one",
            "invalid_certificate",
            Box::new(|| {
                let pem = oidc_ca_pem();
                doc(move |d| d["trust"] = json!({"ca_certificates": [format!("{pem}{pem}")]}))
            }),
        ),
        (
            "leaf certificate",
            "certificate_not_ca",
            Box::new(|| {
                let pem = leaf_pem();
                doc(move |d| d["trust"] = json!({"ca_certificates": [pem]}))
            }),
        ),
        (
            "expired CA",
            "certificate_expired",
            Box::new(|| {
                let value = example("oidc-sso.json");
                let in_2040 = UNIX_EPOCH + Duration::from_secs(2_208_988_800);
                ProvisioningDocument::parse(
                    &serde_json::to_vec(&value).unwrap(),
                    &common::origin_for(&value),
                    in_2040,
                )
                .map(drop)
            }),
        ),
        (
            "refresh on another origin",
            "provisioning_url_origin",
            Box::new(|| doc(|d| d["provisioning"]["url"] = json!("https://evil.example/doc"))),
        ),
        (
            "issuer mismatch",
            "issuer_mismatch",
            Box::new(|| {
                let value = example("oidc-sso.json");
                let origin = DocumentOrigin::Authenticated {
                    url: Url::parse(value["provisioning"]["url"].as_str().unwrap()).unwrap(),
                    bearer_issuer: Some("https://other-idp.example".into()),
                };
                ProvisioningDocument::parse(
                    &serde_json::to_vec(&value).unwrap(),
                    &origin,
                    common::now(),
                )
                .map(drop)
            }),
        ),
    ]
}

#[test]
fn every_malformed_input_has_its_code() {
    let cases = cases();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for (name, expected, run) in &cases {
        match run() {
            Ok(()) => failures.push(format!("{name}: accepted, expected {expected}")),
            Err(e) => {
                assert_eq!(e.code(), format!("onboarding.{}", e.code_suffix()));
                if e.code_suffix() != *expected {
                    failures.push(format!(
                        "{name}: got {} ({e}), expected {expected}",
                        e.code_suffix()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn x_members_are_ignored_and_pointers_name_the_member() {
    doc(|d| {
        d["x-vendor"] = json!({"anything": [1, 2]});
        d["accounts"][0]["x-colour"] = json!("red");
        d["accounts"][0]["media"]["x-jitter"] = json!(60);
    })
    .unwrap();
    let e = doc(|d| d["accounts"][0]["transports"][1]["colour"] = json!("red")).unwrap_err();
    assert!(
        matches!(&e, OnboardingError::Invalid { pointer: Some(p), .. } if p == "/accounts/0/transports/1/colour"),
        "{e:?}"
    );
    let e = doc(|d| {
        d["accounts"][0].as_object_mut().unwrap().remove("aor");
    })
    .unwrap_err();
    assert!(
        matches!(&e, OnboardingError::Invalid { pointer: Some(p), .. } if p == "/accounts/0/aor"),
        "{e:?}"
    );
}
