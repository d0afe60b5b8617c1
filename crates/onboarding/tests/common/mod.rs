//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod lab;
pub mod qr;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sidetone_onboarding::{DocumentOrigin, Url};

/// docs/ of the repository.
pub fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The examples in docs/examples, by file name.
pub fn examples() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(docs_dir().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 3, "examples missing");
    out
}

/// A fixed time when the examples' CA is valid (2027-01-01).
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_798_761_600)
}

/// An authenticated origin on the document's own `provisioning.url` origin.
pub fn origin_for(doc: &serde_json::Value) -> DocumentOrigin {
    let url = doc["provisioning"]["url"]
        .as_str()
        .unwrap_or("https://pbx.example.com/provisioning/v1/document");
    DocumentOrigin::Authenticated {
        url: Url::parse(url).unwrap(),
        bearer_issuer: None,
    }
}
