//! Which provider terms (licence, emergency calling) this profile accepted, per provider
//! host, with the emergency address given; a new version of either is asked again.

use serde::{Deserialize, Serialize};
use sidetone_onboarding::Terms;
use sidetone_store::Store;

use crate::Result;

/// A postal address for emergency calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EmergencyAddress {
    /// Street and number.
    pub street: String,
    /// Flat, floor or suite (optional).
    #[serde(default)]
    pub unit: String,
    /// City.
    pub city: String,
    /// State, province or region.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// Country.
    pub country: String,
}

impl EmergencyAddress {
    /// True when every part but the unit is filled in.
    pub fn is_complete(&self) -> bool {
        [
            &self.street,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .all(|f| !f.trim().is_empty())
    }
}

/// What was accepted for one provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedTerms {
    /// The licence version accepted ("" when there was none).
    pub licence_version: String,
    /// The emergency terms version accepted ("" when there were none).
    pub emergency_version: String,
    /// The emergency address given with them.
    pub emergency_address: Option<EmergencyAddress>,
    /// When, in milliseconds since the Unix epoch.
    pub accepted_at_ms: i64,
}

/// A host (and port) as a name that is safe in store keys and file names: lower case,
/// `a-z 0-9 . -` kept, anything else (`:`, brackets of an IPv6 address) as `_`.
pub fn file_safe_host(server_host: &str) -> String {
    server_host
        .to_ascii_lowercase()
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '-' => c,
            _ => '_',
        })
        .collect()
}

/// The store key of a provider's accepted terms.
fn terms_key(server_host: &str) -> String {
    format!("terms.accepted.v1.{}", file_safe_host(server_host))
}

/// What this profile accepted of `server_host`'s terms, if anything.
pub fn accepted(store: &Store, server_host: &str) -> Result<Option<AcceptedTerms>> {
    Ok(store.settings().get_json(&terms_key(server_host))?)
}

/// Keeps what was accepted of `server_host`'s terms.
pub fn accept(store: &Store, server_host: &str, accepted: &AcceptedTerms) -> Result<()> {
    Ok(store
        .settings()
        .set_json(&terms_key(server_host), accepted)?)
}

/// The licence and emergency-terms versions of `terms` ("" for a part it does not have).
pub fn versions(terms: &Terms) -> (String, String) {
    (
        terms
            .licence
            .as_ref()
            .map(|l| l.version.clone())
            .unwrap_or_default(),
        terms
            .emergency
            .as_ref()
            .map(|e| e.version.clone())
            .unwrap_or_default(),
    )
}

/// True when `terms` has a version this profile has not accepted for `server_host`.
pub fn outstanding(store: &Store, server_host: &str, terms: &Terms) -> Result<bool> {
    if terms.licence.is_none() && terms.emergency.is_none() {
        return Ok(false);
    }
    let licence = terms.licence.as_ref().map(|l| l.version.as_str());
    let emergency = terms.emergency.as_ref().map(|e| e.version.as_str());
    Ok(match accepted(store, server_host)? {
        Some(a) => {
            licence.is_some_and(|v| v != a.licence_version)
                || emergency.is_some_and(|v| v != a.emergency_version)
        }
        None => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_keys_are_valid_store_keys_for_any_host() {
        assert_eq!(
            terms_key("127.0.0.1:8443"),
            "terms.accepted.v1.127.0.0.1_8443"
        );
        assert_eq!(
            terms_key("PBX.Example.COM"),
            "terms.accepted.v1.pbx.example.com"
        );
        assert_eq!(terms_key("[::1]:5061"), "terms.accepted.v1.___1__5061");
    }

    #[test]
    fn an_incomplete_emergency_address_is_refused_a_unit_is_optional() {
        let mut address = EmergencyAddress {
            street: "1 Main St".into(),
            unit: String::new(),
            city: "Springfield".into(),
            region: "IL".into(),
            postal_code: "62701".into(),
            country: "US".into(),
        };
        assert!(address.is_complete());
        address.city = "  ".into();
        assert!(!address.is_complete());
    }
}
