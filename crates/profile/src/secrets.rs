//! An account's secrets in the OS keychain. Every method blocks (D-Bus, maybe an unlock
//! prompt): call them off an async runtime's worker threads.

use sidetone_sip::Password;
use sidetone_vault::{ExposeSecret, SecretKind, SecretString, Vault};

use crate::Result;

/// The keychain service name Sidetone's secrets are filed under (app and CLI alike).
pub const VAULT_SERVICE: &str = "org.sidetone.desktop";

/// The profile's secrets, one keychain item per account and kind.
#[derive(Clone)]
pub struct AccountSecrets {
    vault: Vault,
}

impl Default for AccountSecrets {
    fn default() -> Self {
        Self::new()
    }
}

impl AccountSecrets {
    /// Sidetone's secrets in the OS keychain.
    pub fn new() -> Self {
        Self {
            vault: Vault::new(VAULT_SERVICE),
        }
    }

    /// Fails early with the keychain's own error when it is missing or locked.
    pub fn check(&self) -> Result<()> {
        Ok(self.vault.check()?)
    }

    /// Files an account's SIP password.
    pub fn store_sip_password(&self, account_id: &str, password: &Password) -> Result<()> {
        let secret = SecretString::from(password.expose().to_owned());
        Ok(self
            .vault
            .store(account_id, SecretKind::SipPassword, &secret)?)
    }

    /// An account's SIP password, if one is filed.
    pub fn sip_password(&self, account_id: &str) -> Result<Option<Password>> {
        let secret = self.vault.load(account_id, SecretKind::SipPassword)?;
        Ok(secret.map(|s| Password::new(s.expose_secret().to_owned())))
    }

    /// Files a single sign-on refresh token (the newest replaces the old).
    pub fn store_refresh_token(&self, account_id: &str, token: &SecretString) -> Result<()> {
        self.store(account_id, SecretKind::RefreshToken, token)
    }

    /// Files the password of an account's voicemail mailbox.
    pub fn store_voicemail_password(
        &self,
        account_id: &str,
        password: &SecretString,
    ) -> Result<()> {
        self.store(account_id, SecretKind::VoicemailPassword, password)
    }

    /// The password of an account's voicemail mailbox, if one is filed.
    pub fn voicemail_password(&self, account_id: &str) -> Result<Option<SecretString>> {
        Ok(self.vault.load(account_id, SecretKind::VoicemailPassword)?)
    }

    /// Files the provider password, kept only when the user chose to stay signed in (it
    /// fetches the document again).
    pub fn store_provisioning_password(
        &self,
        account_id: &str,
        password: &SecretString,
    ) -> Result<()> {
        self.store(account_id, SecretKind::ProvisioningPassword, password)
    }

    /// Files one secret of an account (the newest replaces the old).
    fn store(&self, account_id: &str, kind: SecretKind, secret: &SecretString) -> Result<()> {
        Ok(self.vault.store(account_id, kind, secret)?)
    }

    /// One secret of an account, if filed.
    pub(crate) fn load(&self, account_id: &str, kind: SecretKind) -> Result<Option<SecretString>> {
        Ok(self.vault.load(account_id, kind)?)
    }

    /// Removes every secret of an account (sign-out). Removing what is not there is fine.
    pub fn forget(&self, account_id: &str) -> Result<()> {
        Ok(self.vault.delete_account(account_id)?)
    }
}
