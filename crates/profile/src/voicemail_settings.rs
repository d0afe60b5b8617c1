//! Where a saved account's voicemail is, and the voicemail crate's account made from it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sidetone_engine::provisioned::LineVoicemail;
use sidetone_onboarding::ImapTls;
use sidetone_vault::SecretString;
use sidetone_voicemail::{AudioCache, Security, VoicemailAccount};

use crate::{AccountSecrets, ProfileError, Result, SavedAccount};

/// The most downloaded voicemail audio a profile keeps; the least recently played goes first.
pub const VOICEMAIL_AUDIO_BYTES: u64 = 256 * 1024 * 1024;

/// Where a profile (whose files are in `profile_dir`) keeps downloaded voicemail audio.
pub fn voicemail_audio_cache(profile_dir: &Path) -> AudioCache {
    AudioCache::new(profile_dir.join("voicemail-audio"), VOICEMAIL_AUDIO_BYTES)
}

/// How the voicemail IMAP connection is protected, as the provisioning document said.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VoicemailSecurity {
    /// IMAPS: TLS from the first byte.
    Implicit,
    /// Plain IMAP upgraded with STARTTLS.
    Starttls,
    /// Plain IMAP; the document may say so only for a loopback host.
    None,
}

/// The voicemail mailbox of a saved account (its password is in the keychain).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SavedVoicemail {
    /// IMAP server host.
    pub host: String,
    /// IMAP server port.
    pub port: u16,
    /// How the connection is protected.
    pub security: VoicemailSecurity,
    /// The IMAP login.
    pub username: String,
    /// The folder holding the messages.
    pub folder: String,
}

impl SavedVoicemail {
    /// What to keep of a provisioned line's voicemail (the password goes to the keychain).
    pub fn from_line(line: &LineVoicemail) -> Self {
        Self {
            host: line.host.clone(),
            port: line.port,
            security: match line.tls {
                ImapTls::Implicit => VoicemailSecurity::Implicit,
                ImapTls::Starttls => VoicemailSecurity::Starttls,
                ImapTls::None => VoicemailSecurity::None,
            },
            username: line.username.clone(),
            folder: line.folder.clone(),
        }
    }
}

impl SavedAccount {
    /// The folder holding this line's voicemail (`INBOX` when it has none).
    pub fn voicemail_folder(&self) -> &str {
        self.voicemail
            .as_ref()
            .map_or("INBOX", |v| v.folder.as_str())
    }

    /// The voicemail crate's account for this line, its password read from the keychain
    /// (blocks).
    pub fn voicemail_login(&self, secrets: &AccountSecrets) -> Result<VoicemailAccount> {
        if self.voicemail.is_none() {
            return Err(ProfileError::NoVoicemail(self.id.clone()));
        }
        let password = secrets
            .voicemail_password(&self.id)?
            .ok_or_else(|| ProfileError::NoVoicemailPassword(self.id.clone()))?;
        self.voicemail_account(password)
    }

    /// The voicemail crate's account for this line, with its password from the keychain.
    pub fn voicemail_account(&self, password: SecretString) -> Result<VoicemailAccount> {
        let vm = self
            .voicemail
            .as_ref()
            .ok_or_else(|| ProfileError::NoVoicemail(self.id.clone()))?;
        let security = match vm.security {
            VoicemailSecurity::Implicit => Security::Tls,
            VoicemailSecurity::None => Security::PlainLoopback,
            // Said plainly rather than connecting without TLS.
            VoicemailSecurity::Starttls => {
                return Err(ProfileError::Unusable {
                    account: self.id.clone(),
                    reason: "its voicemail server wants STARTTLS, which Sidetone does not \
                             support yet; ask the provider for IMAPS (port 993)"
                        .into(),
                });
            }
        };
        Ok(VoicemailAccount {
            account_id: self.id.clone(),
            host: vm.host.clone(),
            port: vm.port,
            security,
            ca_file: self.ca_file.clone(),
            username: vm.username.clone(),
            password,
            folder: vm.folder.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use sidetone_sip::{AccountConfig, SipUri};

    use super::*;

    fn account(security: VoicemailSecurity) -> SavedAccount {
        let aor = SipUri::parse("sip:1001@pbx.example.com").unwrap();
        let mut saved = SavedAccount::from_config(&AccountConfig::new(aor, None), "1001", "pbx");
        saved.voicemail = Some(SavedVoicemail {
            host: "127.0.0.1".into(),
            port: 10143,
            security,
            username: "1001".into(),
            folder: "INBOX".into(),
        });
        saved
    }

    #[test]
    fn the_voicemail_account_takes_the_mailbox_and_the_password() {
        let vm = account(VoicemailSecurity::None)
            .voicemail_account(SecretString::from("pw"))
            .unwrap();
        assert_eq!((vm.host.as_str(), vm.port), ("127.0.0.1", 10143));
        assert_eq!(vm.security, Security::PlainLoopback);
        assert_eq!(vm.account_id, "1001@pbx.example.com");
        assert_eq!(vm.folder, "INBOX");
    }

    #[test]
    fn starttls_and_a_missing_mailbox_are_clear_errors() {
        let error = account(VoicemailSecurity::Starttls)
            .voicemail_account(SecretString::from("pw"))
            .unwrap_err();
        assert_eq!(error.code(), "profile.unusable_account");
        let mut none = account(VoicemailSecurity::Implicit);
        none.voicemail = None;
        let error = none
            .voicemail_account(SecretString::from("pw"))
            .unwrap_err();
        assert_eq!(error.code(), "profile.no_voicemail");
    }
}
