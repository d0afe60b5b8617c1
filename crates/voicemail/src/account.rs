//! Which IMAP mailbox holds an account's voicemail, and how to log in to it.

use std::net::IpAddr;
use std::path::PathBuf;

use secrecy::SecretString;

use crate::{Result, VoicemailError};

/// How the IMAP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// IMAP over TLS from the first byte (IMAPS, usually port 993). Verification is always on.
    Tls,
    /// Plain IMAP. Allowed only to a loopback address (a local PBX or the test lab): a
    /// password never crosses a network in clear text.
    PlainLoopback,
}

/// One account's voicemail mailbox. The password comes from the vault.
#[derive(Clone, Debug)]
pub struct VoicemailAccount {
    /// The account (as the engine names it); keys the cached messages in the store.
    pub account_id: String,
    /// Server host name or IP address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// TLS or plain (loopback only).
    pub security: Security,
    /// The provider's own CA (PEM), trusted in addition to the OS roots.
    pub ca_file: Option<PathBuf>,
    /// The IMAP user name.
    pub username: String,
    /// The IMAP password (never logged, never stored outside the vault).
    pub password: SecretString,
    /// The folder holding the voicemail messages, e.g. `INBOX`.
    pub folder: String,
}

impl VoicemailAccount {
    /// Checks what can be checked without the network.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.account_id.trim().is_empty() {
            return Err(VoicemailError::InvalidAccount(
                "empty account id".to_owned(),
            ));
        }
        if self.host.trim().is_empty() || self.port == 0 {
            return Err(VoicemailError::InvalidAccount(
                "missing server host or port".to_owned(),
            ));
        }
        if self.folder.is_empty() || self.folder.contains(['\r', '\n', '"', '\\']) {
            return Err(VoicemailError::InvalidAccount(format!(
                "unusable folder name {:?}",
                self.folder
            )));
        }
        if self.security == Security::PlainLoopback && !is_loopback(&self.host) {
            return Err(VoicemailError::InvalidAccount(format!(
                "plain IMAP is only allowed to a loopback address, not {}",
                self.host
            )));
        }
        Ok(())
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(host: &str, security: Security) -> VoicemailAccount {
        VoicemailAccount {
            account_id: "a".into(),
            host: host.into(),
            port: 143,
            security,
            ca_file: None,
            username: "u".into(),
            password: SecretString::from("p"),
            folder: "INBOX".into(),
        }
    }

    #[test]
    fn plain_imap_only_on_loopback() {
        assert!(
            account("127.0.0.1", Security::PlainLoopback)
                .validate()
                .is_ok()
        );
        assert!(account("[::1]", Security::PlainLoopback).validate().is_ok());
        assert!(
            account("localhost", Security::PlainLoopback)
                .validate()
                .is_ok()
        );
        let err = account("imap.example.org", Security::PlainLoopback)
            .validate()
            .unwrap_err();
        assert_eq!(err.code(), "voicemail.invalid_account");
        assert!(
            account("imap.example.org", Security::Tls)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn password_is_not_in_debug_output() {
        let a = account("127.0.0.1", Security::PlainLoopback);
        let mut a2 = a.clone();
        a2.password = SecretString::from("hunter2-very-secret");
        assert!(!format!("{a2:?}").contains("hunter2"));
    }
}
