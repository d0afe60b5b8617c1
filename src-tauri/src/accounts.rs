//! The accounts this profile has: what is kept of them (no secrets) and how they come back at
//! start. Passwords live only in the OS keychain (`sidetone-vault`).

use serde::{Deserialize, Serialize};
use sidetone_sip::{AccountConfig, AccountId, OutboundProxy, Password, SipUri, Transport};
use sidetone_store::Store;
use sidetone_vault::{ExposeSecret, SecretKind, SecretString, Vault};

use crate::error::CommandError;

/// The keychain service name Sidetone's secrets are filed under.
pub const VAULT_SERVICE: &str = "org.sidetone.desktop";

/// The store key of the account list.
const ACCOUNTS_KEY: &str = "accounts.v1";

/// What is persisted about an account: enough to register it again with the password from
/// the keychain. Never a secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SavedAccount {
    /// The engine's account id.
    pub id: String,
    /// The address of record, `sip:user@domain`.
    pub aor: String,
    /// The login ID the user typed.
    pub login_id: String,
    /// The server host the user typed (shown in the UI).
    pub server_host: String,
    /// Which transport worked.
    pub transport: Transport,
    /// Where requests go (`host:port`).
    pub proxy: Option<String>,
    /// "Provider" name shown in the UI.
    pub provider_name: String,
    /// How the user signs in: "password" (manual and password accounts) or "sso".
    pub method: String,
    /// The name shown for the line (the provisioning document's `display_name`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The digest user name when it differs from the AOR's user.
    #[serde(default)]
    pub auth_username: Option<String>,
    /// The provider's CA certificates (PEM) trusted for this account, from its document.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// The provider's account number, when it has one.
    #[serde(default)]
    pub account_number: Option<String>,
    /// For "sso" accounts: the issuer signed in at (its refresh token is in the keychain).
    #[serde(default)]
    pub sso_issuer: Option<String>,
    /// For "sso" accounts: the client id used at the issuer.
    #[serde(default)]
    pub sso_client_id: Option<String>,
    /// Subscribe to voicemail counts (MWI), as the provisioning document said; accounts
    /// saved before this existed read as off.
    #[serde(default)]
    pub mwi: bool,
}

impl SavedAccount {
    /// What to keep of an account that just registered.
    pub fn from_config(config: &AccountConfig, login_id: &str, server_host: &str) -> Self {
        Self {
            id: config.id.to_string(),
            aor: config.aor.to_string(),
            login_id: login_id.to_owned(),
            server_host: server_host.to_owned(),
            transport: config.transport,
            proxy: config.outbound_proxy.as_ref().map(|p| match p.port {
                Some(port) => format!("{}:{port}", p.host),
                None => p.host.clone(),
            }),
            provider_name: server_host.to_owned(),
            method: "password".into(),
            display_name: None,
            auth_username: config.auth_username.clone(),
            ca_file: config.ca_file.clone(),
            account_number: None,
            sso_issuer: None,
            sso_client_id: None,
            mwi: config.mwi,
        }
    }

    /// The engine's account config, with the password from the keychain.
    pub fn to_config(&self, password: Option<Password>) -> Result<AccountConfig, CommandError> {
        let aor = SipUri::parse(&self.aor).map_err(|e| CommandError::internal(e.to_string()))?;
        let mut config = AccountConfig::new(aor, password);
        config.id = AccountId(self.id.clone());
        config.transport = self.transport;
        config.auth_username = self.auth_username.clone();
        config.ca_file = self.ca_file.clone();
        config.mwi = self.mwi;
        config.outbound_proxy = match &self.proxy {
            Some(proxy) => Some(
                OutboundProxy::parse(proxy).map_err(|e| CommandError::internal(e.to_string()))?,
            ),
            None => None,
        };
        Ok(config)
    }
}

/// The saved accounts, in the order they were added.
pub fn load_all(store: &Store) -> Result<Vec<SavedAccount>, CommandError> {
    Ok(store.settings().get_json(ACCOUNTS_KEY)?.unwrap_or_default())
}

/// Saves the account list.
pub fn save_all(store: &Store, accounts: &[SavedAccount]) -> Result<(), CommandError> {
    Ok(store.settings().set_json(ACCOUNTS_KEY, accounts)?)
}

/// The keychain.
pub fn vault() -> Vault {
    Vault::new(VAULT_SERVICE)
}

/// Maps a keychain failure to the UI's error (locked and unavailable are the user's to fix).
pub fn vault_error(error: sidetone_vault::VaultError) -> CommandError {
    CommandError::new(error.code(), error.to_string())
}

/// Puts an account's SIP password in the keychain. Blocks.
pub fn store_password(account_id: &str, password: &Password) -> Result<(), CommandError> {
    let secret = SecretString::from(password.expose().to_owned());
    vault()
        .store(account_id, SecretKind::SipPassword, &secret)
        .map_err(vault_error)
}

/// Keeps a single sign-on refresh token in the keychain (the newest replaces the old). Blocks.
pub fn store_refresh_token(account_id: &str, token: &SecretString) -> Result<(), CommandError> {
    vault()
        .store(account_id, SecretKind::RefreshToken, token)
        .map_err(vault_error)
}

/// An account's SIP password from the keychain, if one is stored. Blocks.
pub fn load_password(account_id: &str) -> Result<Option<Password>, CommandError> {
    let secret = vault()
        .load(account_id, SecretKind::SipPassword)
        .map_err(vault_error)?;
    Ok(secret.map(|s| Password::new(s.expose_secret().to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mwi_is_kept_and_older_saved_accounts_read_as_off() {
        let aor = SipUri::parse("sip:201@acme.example.com").unwrap();
        let mut config = AccountConfig::new(aor, None);
        config.mwi = true;
        let saved = SavedAccount::from_config(&config, "201", "acme.example.com");
        let json = serde_json::to_value(&saved).unwrap();
        assert_eq!(json["mwi"], true);
        let back: SavedAccount = serde_json::from_value(json.clone()).unwrap();
        assert!(back.to_config(None).unwrap().mwi);

        // Saved by a version without the field.
        let mut old = json;
        old.as_object_mut().unwrap().remove("mwi");
        let back: SavedAccount = serde_json::from_value(old).unwrap();
        assert!(!back.mwi);
        assert!(!back.to_config(None).unwrap().mwi);
    }
}
