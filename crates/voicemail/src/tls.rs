//! The TLS client configuration: verification always on, OS roots plus the account's CA.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use crate::{Result, VoicemailError};

/// A client config trusting the OS roots and, when given, the certificates in `ca_file`.
/// There is deliberately no way to turn verification off.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    // A machine without a CA bundle still works with the account's own CA.
    let native = rustls_native_certs::load_native_certs();
    let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let invalid = |what: String| VoicemailError::InvalidAccount(what);
        let pem = std::fs::read(path)
            .map_err(|e| invalid(format!("cannot read CA file {}: {e}", path.display())))?;
        let mut count = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert =
                cert.map_err(|e| invalid(format!("bad PEM in CA file {}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| invalid(format!("bad CA certificate in {}: {e}", path.display())))?;
            count += 1;
        }
        if count == 0 {
            return Err(invalid(format!(
                "no certificate in CA file {}",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| VoicemailError::Tls(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry: a DNS name or an IP address.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned()).map_err(|_| {
        VoicemailError::InvalidAccount(format!("not a valid TLS server name: {host:?}"))
    })
}

/// Says whether a failed TLS handshake was the certificate's fault or the network's.
pub(crate) fn classify_handshake_error(error: &std::io::Error) -> VoicemailError {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(why)) => VoicemailError::Tls(format!("{why:?}")),
        Some(other) => VoicemailError::Tls(format!("TLS handshake failed: {other}")),
        None => VoicemailError::Unreachable(format!("TLS handshake failed: {error}")),
    }
}
