//! `trust.ca_certificates`: exactly one PEM certificate each, a CA, within its validity.

use std::time::{SystemTime, UNIX_EPOCH};

use x509_parser::pem::Pem;

use crate::error::{Invalid, OnboardingError, Result};

/// The largest PEM string accepted.
const MAX_PEM_LEN: usize = 16 * 1024;

/// Checks one PEM string and returns its DER bytes.
pub(crate) fn check_ca_certificate(pem: &str, now: SystemTime, pointer: &str) -> Result<Vec<u8>> {
    let invalid = |why: &str| {
        Err(OnboardingError::at(
            Invalid::InvalidCertificate,
            pointer,
            why,
        ))
    };
    if pem.len() > MAX_PEM_LEN {
        return Err(OnboardingError::at(
            Invalid::InvalidValue,
            pointer,
            "longer than 16 KiB",
        ));
    }
    let trimmed = pem.trim_end();
    if !trimmed.starts_with("-----BEGIN CERTIFICATE-----")
        || !trimmed.ends_with("-----END CERTIFICATE-----")
    {
        return invalid("not a PEM CERTIFICATE block");
    }
    let mut blocks = Pem::iter_from_buffer(pem.as_bytes());
    let block = match (blocks.next(), blocks.next()) {
        (Some(Ok(block)), None) => block,
        (Some(Ok(_)), Some(_)) => return invalid("more than one PEM block"),
        _ => return invalid("not a PEM CERTIFICATE block"),
    };
    if block.label != "CERTIFICATE" {
        return invalid("not a CERTIFICATE block");
    }
    let certificate = match x509_parser::parse_x509_certificate(&block.contents) {
        Ok(([], certificate)) => certificate,
        _ => return invalid("not an X.509 certificate"),
    };
    let is_ca = match certificate.basic_constraints() {
        Ok(constraints) => constraints.is_some_and(|c| c.value.ca),
        Err(_) => return invalid("repeated basicConstraints"),
    };
    if !is_ca {
        return Err(OnboardingError::at(
            Invalid::CertificateNotCa,
            pointer,
            "not a CA certificate (basicConstraints CA:TRUE)",
        ));
    }
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    };
    let validity = certificate.validity();
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return Err(OnboardingError::at(
            Invalid::CertificateExpired,
            pointer,
            format!(
                "valid from {} to {} only",
                validity.not_before.to_datetime(),
                validity.not_after.to_datetime()
            ),
        ));
    }
    Ok(block.contents)
}
