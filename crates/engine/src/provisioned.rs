//! From a validated provisioning document to the SIP accounts the engine registers.
//!
//! The onboarding crate checks the document; the sip crate knows accounts. Neither knows the
//! other, so the translation lives here, where the engine composes them.

use std::path::PathBuf;

use sidetone_onboarding::{
    Account, ExposeSecret, ImapTls, MediaProfile, SecretString, Secrets, TransportType,
    ValidatedDocument,
};
use sidetone_sip::{
    AccountConfig, AccountId, OutboundProxy, Password, SipError, SipUri, Transport,
};

use crate::EngineError;

/// One line of a provisioning document, ready to register.
#[derive(Debug, Clone)]
pub struct ProvisionedLine {
    /// The document's stable id of the line.
    pub line_id: String,
    /// Shown in the account list.
    pub display_name: String,
    /// The provider's account number, when it has one.
    pub account_number: Option<String>,
    /// One config per transport the document lists, in its order of preference (TLS first
    /// in a well-made document); the engine keeps the first that registers.
    pub candidates: Vec<AccountConfig>,
    /// Where the line's voicemail is, when the document says.
    pub voicemail: Option<LineVoicemail>,
}

/// The IMAP mailbox holding a line's voicemail, as its document describes it.
#[derive(Debug, Clone)]
pub struct LineVoicemail {
    /// IMAP server host.
    pub host: String,
    /// IMAP server port.
    pub port: u16,
    /// How the connection is protected.
    pub tls: ImapTls,
    /// The IMAP login.
    pub username: String,
    /// The folder holding the messages (`INBOX` when the document names none).
    pub folder: String,
    /// The IMAP password; `None` when the document leaves it out (asked for when needed).
    pub password: Option<SecretString>,
}

/// Builds the lines of `validated`. `ca_file` is where the caller wrote the document's
/// `trust.ca_certificates` (see [`trust_pem`]), trusted for these lines only.
///
/// Lines whose media profile Sidetone cannot carry yet (WebRTC) are left out; an error is
/// returned only when no line is left, so a document with one usable line still works.
pub fn lines_from_document(
    validated: &ValidatedDocument,
    ca_file: Option<PathBuf>,
) -> Result<Vec<ProvisionedLine>, EngineError> {
    let document = &validated.document;
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    for account in &document.accounts {
        if account.media.profile == Some(MediaProfile::Webrtc) {
            skipped.push(account.display_name.clone());
            continue;
        }
        let password = secret_for(&validated.secrets, &account.credential_id);
        lines.push(ProvisionedLine {
            line_id: account.id.clone(),
            display_name: account.display_name.clone(),
            account_number: account.account_number.clone(),
            candidates: candidates_for(account, password, ca_file.as_ref())?,
            voicemail: voicemail_for(account, &validated.secrets),
        });
    }
    if lines.is_empty() {
        return Err(SipError::InvalidAccount(format!(
            "this phone system offers only lines Sidetone cannot use yet (WebRTC): {}",
            skipped.join(", ")
        ))
        .into());
    }
    Ok(lines)
}

/// The document's CA certificates as one PEM text, to be written where
/// [`AccountConfig::ca_file`] points; `None` when the document names none.
pub fn trust_pem(validated: &ValidatedDocument) -> Option<String> {
    let certificates = &validated.document.trust.as_ref()?.ca_certificates;
    (!certificates.is_empty()).then(|| {
        certificates
            .iter()
            .map(|pem| pem.trim_end().to_owned() + "\n")
            .collect()
    })
}

/// The password of `credential_id`; `None` when the document leaves it out (the format lets
/// the app ask the user for it when first needed).
fn secret_for(secrets: &Secrets, credential_id: &str) -> Option<Password> {
    secrets
        .0
        .iter()
        .find(|s| s.credential_id == credential_id)
        .map(|s| Password::new(s.password.expose_secret().to_owned()))
}

fn voicemail_for(account: &Account, secrets: &Secrets) -> Option<LineVoicemail> {
    let vm = account.voicemail.as_ref()?;
    Some(LineVoicemail {
        host: vm.imap.host.clone(),
        port: vm.imap.port,
        tls: vm.imap.tls,
        username: vm.username.clone(),
        folder: vm.mailbox.clone().unwrap_or_else(|| "INBOX".to_owned()),
        password: secrets
            .0
            .iter()
            .find(|s| s.credential_id == vm.credential_id)
            .map(|s| s.password.clone()),
    })
}

fn candidates_for(
    account: &Account,
    password: Option<Password>,
    ca_file: Option<&PathBuf>,
) -> Result<Vec<AccountConfig>, EngineError> {
    let aor = SipUri::parse(&account.aor)?;
    let id = AccountId(format!("{}@{}", aor.user, aor.host_port()));
    let fixed_proxy = match &account.outbound_proxy {
        Some(uri) => Some(OutboundProxy::parse(uri)?),
        None => None,
    };
    let mut candidates = Vec::new();
    for transport in &account.transports {
        let kind = match transport.kind {
            TransportType::Udp => Transport::Udp,
            TransportType::Tcp => Transport::Tcp,
            TransportType::Tls => Transport::Tls,
            TransportType::Ws => Transport::Ws,
            TransportType::Wss => Transport::Wss,
        };
        // Where requests go: the document's outbound proxy, else this transport's own host
        // and port, else the AOR's domain (resolved as RFC 3263 says).
        let proxy = match (&fixed_proxy, &transport.host, &transport.url) {
            (Some(proxy), _, _) => Some(proxy.clone()),
            (None, Some(host), _) => Some(OutboundProxy {
                host: host.clone(),
                port: transport.port,
                path: None,
            }),
            (None, None, Some(url)) => Some(OutboundProxy::parse(url)?),
            (None, None, None) => None,
        };
        let mut config = AccountConfig::new(aor.clone(), password.clone());
        config.id = id.clone();
        config.auth_username = Some(account.auth_username.clone()).filter(|u| *u != aor.user);
        config.transport = kind;
        config.outbound_proxy = proxy;
        config.ca_file = ca_file.cloned();
        if let Some(expires) = account.registration_expires {
            config.expires = expires;
        }
        config.mwi = account.mwi.unwrap_or(false);
        candidates.push(config);
    }
    Ok(candidates)
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use sidetone_onboarding::{DocumentOrigin, ProvisioningDocument, Url};

    use super::*;

    fn validated(path: &str) -> ValidatedDocument {
        let bytes = std::fs::read(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        // The document came from where it says it refreshes from.
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let url = json["provisioning"]["url"].as_str().unwrap();
        let origin = DocumentOrigin::Authenticated {
            url: Url::parse(url).unwrap(),
            bearer_issuer: None,
        };
        ProvisioningDocument::parse(&bytes, &origin, SystemTime::now()).unwrap()
    }

    #[test]
    fn a_password_document_gives_one_line_with_a_candidate_per_transport() {
        let doc = validated("docs/examples/password-basic.json");
        let lines = lines_from_document(&doc, None).unwrap();
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line.display_name, "Jane Doe");
        let transports: Vec<Transport> = line.candidates.iter().map(|c| c.transport).collect();
        assert_eq!(transports, [Transport::Tls, Transport::Tcp, Transport::Udp]);
        let first = &line.candidates[0];
        assert_eq!(first.aor.to_string(), "sip:201@acme.example.com");
        assert_eq!(
            first.password.as_ref().map(Password::expose),
            Some("correct horse battery staple")
        );
        // auth_username equals the AOR user: not repeated.
        assert_eq!(first.auth_username, None);
        assert!(first.outbound_proxy.is_none());
        // The document's `"mwi": true`, on every transport's candidate.
        assert!(line.candidates.iter().all(|c| c.mwi));
    }

    #[test]
    fn webrtc_lines_are_left_out_but_rtp_lines_stay() {
        let doc = validated("docs/examples/webrtc-two-lines.json");
        let lines = lines_from_document(&doc, None).unwrap();
        let names: Vec<&str> = lines.iter().map(|l| l.display_name.as_str()).collect();
        assert_eq!(names, ["Night service"]);
        assert_eq!(lines[0].candidates[0].transport, Transport::Udp);
        // Its credential has no password: the user is asked for it, nothing is invented.
        assert!(lines[0].candidates[0].password.is_none());
        // `"mwi": false` stays off.
        assert!(!lines[0].candidates[0].mwi);
    }

    #[test]
    fn a_line_with_voicemail_carries_its_mailbox_and_password() {
        let doc = validated("docs/examples/oidc-sso.json");
        let lines = lines_from_document(&doc, None).unwrap();
        let vm = lines[0].voicemail.as_ref().expect("the line has voicemail");
        assert_eq!((vm.host.as_str(), vm.port), ("vm.example.com", 993));
        assert_eq!(vm.tls, ImapTls::Implicit);
        assert_eq!(vm.username, "2001@acme.example.com");
        assert_eq!(vm.folder, "INBOX");
        // vm-2001 has no password in this document: none is invented.
        assert!(vm.password.is_none());
        let basic = validated("docs/examples/password-basic.json");
        assert!(
            lines_from_document(&basic, None).unwrap()[0]
                .voicemail
                .is_none()
        );
    }

    #[test]
    fn trust_pem_is_none_without_certificates() {
        let doc = validated("docs/examples/password-basic.json");
        assert!(trust_pem(&doc).is_none());
    }
}
