//! From bytes to typed document: size, JSON, repeated members, version, types.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::model::ProvisioningDocument;
use crate::error::{Invalid, OnboardingError, Result};

/// The largest document read: 256 KiB.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Parses bytes into the typed document, checking (in the doc's order) size, JSON syntax and
/// repeated members, the version, then required members and types.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<ProvisioningDocument> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(OnboardingError::invalid(
            Invalid::DocumentTooLarge,
            format!("{} bytes; at most 262144", bytes.len()),
        ));
    }
    let not_json = |why: String| OnboardingError::invalid(Invalid::DocumentNotJson, why);
    let text = std::str::from_utf8(bytes).map_err(|_| not_json("not UTF-8".into()))?;
    if text.starts_with('\u{feff}') {
        return Err(not_json("starts with a byte order mark".into()));
    }
    serde_json::from_str::<NoRepeatedMembers>(text).map_err(|e| not_json(e.to_string()))?;
    let value: Value = serde_json::from_str(text).map_err(|e| not_json(e.to_string()))?;
    let Value::Object(top) = &value else {
        return Err(not_json("the top level is not an object".into()));
    };
    match top.get("sidetone_provisioning") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(_) => {
            return Err(OnboardingError::at(
                Invalid::UnsupportedVersion,
                "/sidetone_provisioning",
                "this Sidetone reads version 1 documents",
            ));
        }
        None => {
            return Err(OnboardingError::at(
                Invalid::UnsupportedVersion,
                "/sidetone_provisioning",
                "sidetone_provisioning is missing",
            ));
        }
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = pointer_of(e.path());
        let message = e.inner().to_string();
        let kind = if let Some(field) = field_in(&message, "missing field `") {
            pointer.push('/');
            pointer.push_str(&escape(field));
            Invalid::MissingField
        } else if message.starts_with("duplicate field") {
            Invalid::DocumentNotJson
        } else {
            Invalid::InvalidValue
        };
        OnboardingError::at(kind, pointer, message)
    })
}

/// The field name in serde's "missing field `name`" message.
fn field_in<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// A JSON pointer (RFC 6901) for serde_path_to_error's path.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            serde_path_to_error::Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            serde_path_to_error::Segment::Enum { variant } => {
                pointer.push('/');
                pointer.push_str(&escape(variant));
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    pointer
}

/// Escapes a member name for a JSON pointer.
pub(crate) fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Walks any JSON and fails on a member name repeated in one object (serde_json's `Value`
/// would silently keep the last one).
struct NoRepeatedMembers;

impl<'de> Deserialize<'de> for NoRepeatedMembers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoRepeatedVisitor)
    }
}

struct NoRepeatedVisitor;

impl<'de> Visitor<'de> for NoRepeatedVisitor {
    type Value = NoRepeatedMembers;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "member {key:?} repeated in one object"
                )));
            }
            map.next_value::<NoRepeatedMembers>()?;
        }
        Ok(NoRepeatedMembers)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoRepeatedMembers>()?.is_some() {}
        Ok(NoRepeatedMembers)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoRepeatedMembers)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoRepeatedMembers)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoRepeatedMembers)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoRepeatedMembers)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoRepeatedMembers)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(NoRepeatedMembers)
    }
}
