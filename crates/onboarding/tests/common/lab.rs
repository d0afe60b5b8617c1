//! The lab identity provider (tests/lab/idp), one per test binary, and its admin API.

use std::sync::OnceLock;

use serde_json::Value;
use sidetone_lab_client::Lab;
use sidetone_onboarding::{ProvisioningClient, Url, client_tls_config};

/// One lab for every test in the binary; it stops when the test process ends.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| Lab::start(&["kamailio", "idp"]).expect("the lab starts"))
}

/// The identity provider's endpoints (sidetone_lab/idp.py).
pub fn idp() -> &'static Value {
    lab().service("idp")
}

/// Where the provider serves provisioning documents.
pub fn provisioning_url() -> Url {
    Url::parse(idp()["provisioning_url"].as_str().unwrap()).unwrap()
}

/// The lab CA, PEM.
pub fn ca_pem() -> Vec<u8> {
    std::fs::read(idp()["ca_cert"].as_str().unwrap()).unwrap()
}

/// A provisioning client that trusts the lab CA (as a provider's users would be told to).
pub fn client() -> ProvisioningClient {
    ProvisioningClient::new(Some(&ca_pem())).unwrap()
}

/// POSTs `body` to the lab's admin API (tests only) and returns its JSON answer.
pub async fn admin(route: &str, body: Value) -> Value {
    let tls = client_tls_config(Some(&ca_pem())).unwrap();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .build()
        .unwrap();
    let response = http
        .post(format!("{}{route}", idp()["admin_url"].as_str().unwrap()))
        .bearer_auth(idp()["admin_key"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "admin {route}: {}",
        response.status()
    );
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}
