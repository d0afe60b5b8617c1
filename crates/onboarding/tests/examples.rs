//! docs/examples/*.json parse and validate in code AND against docs/provisioning.schema.json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use sidetone_onboarding::{ExposeSecret, ProvisioningDocument};

#[test]
fn examples_validate_in_code() {
    for (name, bytes) in common::examples() {
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let validated =
            ProvisioningDocument::parse(&bytes, &common::origin_for(&value), common::now())
                .unwrap_or_else(|e| panic!("{name}: {e} ({})", e.code()));
        // Passwords left the document and are only in `secrets`.
        let with_password = value["credentials"]
            .as_array()
            .map(|c| c.iter().filter(|c| c.get("password").is_some()).count())
            .unwrap_or(0);
        assert_eq!(validated.secrets.0.len(), with_password, "{name}");
        assert!(
            validated
                .document
                .credentials
                .iter()
                .all(|c| c.password.is_none())
        );
        let serialized = serde_json::to_string(&validated.document).unwrap();
        let debug = format!("{validated:?}");
        for secret in &validated.secrets.0 {
            let password = secret.password.expose_secret();
            assert!(!serialized.contains(password), "{name}: secret serialized");
            assert!(!debug.contains(password), "{name}: secret in Debug");
        }
    }
}

#[test]
fn examples_validate_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::docs_dir().join("provisioning.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    for (name, bytes) in common::examples() {
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}
