//! The TLS configuration for every onboarding request: OS roots plus the caller's CAs,
//! verification always on (there is no switch to turn it off).

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Invalid, OnboardingError, Result};

/// A rustls client configuration trusting the OS store plus `extra_ca_pem` (zero or more PEM
/// `CERTIFICATE` blocks, e.g. a lab or company CA), with the ring provider.
pub fn client_tls_config(extra_ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig> {
    let bad_ca = |why: String| OnboardingError::invalid(Invalid::InvalidCertificate, why);
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "could not load some OS root certificates");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, ignored, "OS root certificates");
    if let Some(pem) = extra_ca_pem {
        let mut count = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| bad_ca(format!("extra CA: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| bad_ca(format!("extra CA: {e}")))?;
            count += 1;
        }
        if count == 0 {
            return Err(bad_ca("extra CA: no PEM CERTIFICATE block".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad_ca(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
