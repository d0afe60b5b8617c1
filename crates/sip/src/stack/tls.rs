//! The TLS client configuration: verification always on, OS roots plus the account's CA.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use crate::SipError;

/// Installs rustls's `ring` provider as the process default, for the TLS paths inside the
/// SIP stack that use rustls's default (rsipstack re-dials with `ClientConfig::builder()`).
/// Needed when another crate links `aws-lc-rs` too: rustls then cannot choose and panics.
/// Harmless when a provider is already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client config trusting the OS roots and, when given, the certificates in `ca_file`.
/// There is deliberately no way to turn verification off.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, SipError> {
    let mut roots = RootCertStore::empty();
    // A machine without a CA bundle still works with the account's own CA.
    let native = rustls_native_certs::load_native_certs();
    let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            SipError::InvalidAccount(format!("cannot read CA file {}: {e}", path.display()))
        })?;
        let mut count = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                SipError::InvalidAccount(format!("bad PEM in CA file {}: {e}", path.display()))
            })?;
            roots.add(cert).map_err(|e| {
                SipError::InvalidAccount(format!("bad CA certificate in {}: {e}", path.display()))
            })?;
            count += 1;
        }
        if count == 0 {
            return Err(SipError::InvalidAccount(format!(
                "no certificate in CA file {}",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SipError::Internal(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry: a DNS name or an IP address.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, SipError> {
    ServerName::try_from(host.to_owned())
        .map_err(|_| SipError::InvalidAccount(format!("not a valid TLS server name: {host:?}")))
}

/// Says whether a failed TLS handshake was the certificate's fault.
pub(crate) fn classify_handshake_error(error: &std::io::Error) -> SipError {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(why)) => SipError::TlsUntrusted(format!("{why:?}")),
        Some(other) => SipError::Unreachable(format!("TLS handshake failed: {other}")),
        None => SipError::Unreachable(format!("TLS handshake failed: {error}")),
    }
}
