//! The accounts this profile has, through `sidetone-profile` (shared with the CLI): the list
//! in the store (no secrets) and the secrets in the OS keychain. These helpers only map its
//! errors to the UI's; every keychain call blocks, so callers run them on `blocking`.

use sidetone_profile::{AccountList, AccountSecrets};
use sidetone_sip::Password;
use sidetone_store::Store;
use sidetone_vault::SecretString;

pub use sidetone_profile::SavedAccount;

use crate::error::CommandError;

/// The saved accounts, in the order they were added.
pub fn load_all(store: &Store) -> Result<Vec<SavedAccount>, CommandError> {
    Ok(AccountList::new(store).all()?)
}

/// Adds an account, or replaces the saved one with the same id.
pub fn save(store: &Store, account: SavedAccount) -> Result<(), CommandError> {
    Ok(AccountList::new(store).upsert(account)?)
}

/// Forgets an account (its secrets are removed separately, see [`forget_secrets`]).
pub fn remove(store: &Store, account_id: &str) -> Result<(), CommandError> {
    AccountList::new(store).remove(account_id)?;
    Ok(())
}

/// Puts an account's SIP password in the keychain. Blocks.
pub fn store_password(account_id: &str, password: &Password) -> Result<(), CommandError> {
    Ok(AccountSecrets::new().store_sip_password(account_id, password)?)
}

/// Keeps a single sign-on refresh token in the keychain (the newest replaces the old). Blocks.
pub fn store_refresh_token(account_id: &str, token: &SecretString) -> Result<(), CommandError> {
    Ok(AccountSecrets::new().store_refresh_token(account_id, token)?)
}

/// Puts an account's voicemail password in the keychain. Blocks.
pub fn store_voicemail_password(
    account_id: &str,
    password: &SecretString,
) -> Result<(), CommandError> {
    Ok(AccountSecrets::new().store_voicemail_password(account_id, password)?)
}

/// Keeps the provider password for document refreshes ("stay signed in"). Blocks.
pub fn store_provisioning_password(
    account_id: &str,
    password: &SecretString,
) -> Result<(), CommandError> {
    Ok(AccountSecrets::new().store_provisioning_password(account_id, password)?)
}

/// An account's SIP password from the keychain, if one is stored. Blocks.
pub fn load_password(account_id: &str) -> Result<Option<Password>, CommandError> {
    Ok(AccountSecrets::new().sip_password(account_id)?)
}

/// Removes every secret of an account from the keychain. Blocks.
pub fn forget_secrets(account_id: &str) -> Result<(), CommandError> {
    Ok(AccountSecrets::new().forget(account_id)?)
}
