//! Secrets in the operating system's keychain (passwords, refresh tokens) and nothing else;
//! no plaintext fallback, ever.
//!
//! Each secret is one keychain item named by the app's service name (e.g.
//! `org.sidetone.desktop`) and `"{account_id}/{kind}"`:
//! - Linux: the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC), `default`
//!   collection, secrets encrypted on the bus;
//! - macOS: the login keychain; Windows: Credential Manager (generic credentials).
//!
//! When there is no keychain (no Secret Service on the session bus), every call fails with
//! [`VaultError::KeychainUnavailable`]; secrets are never written anywhere else. Call
//! [`Vault::check`] at start-up to find out early and tell the user how to fix it.
//!
//! # Blocking
//!
//! Every keychain call blocks: on Linux it is a round of D-Bus calls, and it may wait for the
//! user to answer the desktop's unlock prompt (at most [`Vault::with_unlock_prompt_timeout`]).
//! Never call the blocking methods on an async runtime's worker threads: use the `*_async`
//! methods, which run them on tokio's blocking pool (`spawn_blocking`), or do that yourself.
//!
//! Secrets are [`SecretString`]s (`secrecy`): zeroized on drop, `Debug` prints `[REDACTED]`,
//! no `Display`; read one only with [`ExposeSecret::expose_secret`] at the point of use.
//!
//! ```no_run
//! use sidetone_vault::{ExposeSecret, SecretKind, SecretString, Vault, VaultError};
//!
//! fn sign_in(vault: &Vault, account: &str, password: SecretString) -> Result<(), VaultError> {
//!     vault.check()?; // KeychainUnavailable / KeychainLocked: tell the user, stop here
//!     vault.store(account, SecretKind::SipPassword, &password)?;
//!     let again = vault.load(account, SecretKind::SipPassword)?;
//!     assert_eq!(again.map(|s| s.expose_secret().len()), Some(password.expose_secret().len()));
//!     Ok(())
//! }
//!
//! let vault = Vault::new("org.sidetone.desktop");
//! # let _ = sign_in(&vault, "1001", SecretString::from("pw"));
//! vault.delete_account("1001")?; // sign-out: every kind of secret of that account
//! # Ok::<(), VaultError>(())
//! ```

mod backend;
mod error;

use std::sync::Arc;
use std::time::Duration;

pub use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub use error::VaultError;

/// What a secret is for; one keychain item per account and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretKind {
    /// The SIP digest password of an account.
    SipPassword,
    /// An OAuth 2.0 / OIDC refresh token from single sign-on.
    RefreshToken,
    /// The password that fetches the account's provisioning document.
    ProvisioningPassword,
    /// The password of the account's voicemail mailbox (IMAP).
    VoicemailPassword,
}

impl SecretKind {
    /// Every kind, e.g. to remove all of an account's secrets.
    pub const ALL: [SecretKind; 4] = [
        SecretKind::SipPassword,
        SecretKind::RefreshToken,
        SecretKind::ProvisioningPassword,
        SecretKind::VoicemailPassword,
    ];

    /// The stable name used in keychain item names (never change one: stored items would be
    /// orphaned).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::SipPassword => "sip-password",
            SecretKind::RefreshToken => "refresh-token",
            SecretKind::ProvisioningPassword => "provisioning-password",
            SecretKind::VoicemailPassword => "voicemail-password",
        }
    }
}

/// Longest account id accepted. Windows limits a credential's user name to 513 characters
/// and its target name (`user.service`) to 32767; this leaves room for the kind and service.
pub const MAX_ACCOUNT_ID_LEN: usize = 256;

/// How long [`Vault`] waits by default for the user to answer the keychain's unlock prompt.
pub const DEFAULT_UNLOCK_PROMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The app's secrets in the OS keychain. Cheap to clone; every method blocks (see the crate
/// docs) except the `*_async` ones.
#[derive(Clone)]
pub struct Vault {
    service: Arc<str>,
    unlock_prompt_timeout: Duration,
    store: Store,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("service", &self.service)
            .field("unlock_prompt_timeout", &self.unlock_prompt_timeout)
            .finish_non_exhaustive()
    }
}

/// Where entries come from: always the OS keychain, except in this crate's unit tests.
#[derive(Clone)]
enum Store {
    Os,
    #[cfg(test)]
    Mock(Arc<mock::MockStore>),
}

impl Vault {
    /// A vault for the app's keychain items, named by `service_name` (a reverse-DNS id such
    /// as `org.sidetone.desktop`; tests use their own so they never touch the app's items).
    /// Does not touch the keychain; see [`Vault::check`].
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            service: Arc::from(service_name.into()),
            unlock_prompt_timeout: DEFAULT_UNLOCK_PROMPT_TIMEOUT,
            store: Store::Os,
        }
    }

    /// How long to wait for the user to answer the keychain's unlock prompt (Linux; macOS
    /// and Windows prompt by themselves). `Duration::ZERO` never prompts: a locked keychain
    /// is reported as [`VaultError::KeychainLocked`] at once.
    pub fn with_unlock_prompt_timeout(mut self, timeout: Duration) -> Self {
        self.unlock_prompt_timeout = timeout;
        self
    }

    /// The service name this vault's items are stored under.
    pub fn service_name(&self) -> &str {
        &self.service
    }

    /// Checks that the keychain is reachable and unlocked (prompting to unlock if needed),
    /// without reading or writing anything. The start-up guard: call it when the app starts
    /// and show the error's message if it fails ([`VaultError::KeychainUnavailable`] says how
    /// to install or start a keychain). Blocks.
    pub fn check(&self) -> Result<(), VaultError> {
        self.prepare()
    }

    /// Stores (or replaces) the secret of `kind` for `account_id`. Blocks.
    pub fn store(
        &self,
        account_id: &str,
        kind: SecretKind,
        secret: &SecretString,
    ) -> Result<(), VaultError> {
        let entry = self.entry(account_id, kind)?;
        self.prepare()?;
        match entry.set_password(secret.expose_secret()) {
            Ok(()) => Ok(()),
            // Several items for one name (written by another program or an old version):
            // remove them all, then store ours.
            Err(keyring::Error::Ambiguous(duplicates)) => {
                for duplicate in duplicates {
                    match duplicate.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => {}
                        Err(err) => return Err(backend::classify(err)),
                    }
                }
                entry
                    .set_password(secret.expose_secret())
                    .map_err(backend::classify)
            }
            Err(err) => Err(backend::classify(err)),
        }
    }

    /// The secret of `kind` for `account_id`, or `None` if none is stored. Blocks.
    pub fn load(
        &self,
        account_id: &str,
        kind: SecretKind,
    ) -> Result<Option<SecretString>, VaultError> {
        let entry = self.entry(account_id, kind)?;
        self.prepare()?;
        match entry.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::CorruptEntry {
                    reason: "the stored value is not UTF-8",
                })?;
                // `to_owned` allocates exactly `len` bytes, so turning it into the boxed
                // `str` inside the SecretString does not reallocate and leave a copy behind.
                Ok(Some(SecretString::from(text.to_owned())))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(backend::classify(err)),
        }
    }

    /// Deletes the secret of `kind` for `account_id`; deleting one that is not there is not
    /// an error. Blocks.
    pub fn delete(&self, account_id: &str, kind: SecretKind) -> Result<(), VaultError> {
        let entry = self.entry(account_id, kind)?;
        self.prepare()?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(keyring::Error::Ambiguous(duplicates)) => {
                for duplicate in duplicates {
                    match duplicate.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => {}
                        Err(err) => return Err(backend::classify(err)),
                    }
                }
                Ok(())
            }
            Err(err) => Err(backend::classify(err)),
        }
    }

    /// Deletes every secret of `account_id` (sign-out). Tries every kind even if one fails,
    /// and returns the first failure. Blocks.
    pub fn delete_account(&self, account_id: &str) -> Result<(), VaultError> {
        validate_account_id(account_id)?;
        let mut first_error = None;
        for kind in SecretKind::ALL {
            if let Err(err) = self.delete(account_id, kind) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// [`Vault::check`] on tokio's blocking pool.
    pub async fn check_async(&self) -> Result<(), VaultError> {
        let vault = self.clone();
        run_blocking(move || vault.check()).await
    }

    /// [`Vault::store`] on tokio's blocking pool.
    pub async fn store_async(
        &self,
        account_id: &str,
        kind: SecretKind,
        secret: SecretString,
    ) -> Result<(), VaultError> {
        let (vault, account_id) = (self.clone(), account_id.to_owned());
        run_blocking(move || vault.store(&account_id, kind, &secret)).await
    }

    /// [`Vault::load`] on tokio's blocking pool.
    pub async fn load_async(
        &self,
        account_id: &str,
        kind: SecretKind,
    ) -> Result<Option<SecretString>, VaultError> {
        let (vault, account_id) = (self.clone(), account_id.to_owned());
        run_blocking(move || vault.load(&account_id, kind)).await
    }

    /// [`Vault::delete`] on tokio's blocking pool.
    pub async fn delete_async(&self, account_id: &str, kind: SecretKind) -> Result<(), VaultError> {
        let (vault, account_id) = (self.clone(), account_id.to_owned());
        run_blocking(move || vault.delete(&account_id, kind)).await
    }

    /// [`Vault::delete_account`] on tokio's blocking pool.
    pub async fn delete_account_async(&self, account_id: &str) -> Result<(), VaultError> {
        let (vault, account_id) = (self.clone(), account_id.to_owned());
        run_blocking(move || vault.delete_account(&account_id)).await
    }

    fn entry(&self, account_id: &str, kind: SecretKind) -> Result<Arc<keyring::Entry>, VaultError> {
        validate_account_id(account_id)?;
        let user = item_user(account_id, kind);
        match &self.store {
            Store::Os => backend::entry(&self.service, &user).map(Arc::new),
            #[cfg(test)]
            Store::Mock(mock) => Ok(mock.entry(&user)),
        }
    }

    fn prepare(&self) -> Result<(), VaultError> {
        match &self.store {
            Store::Os => backend::ensure_unlocked(self.unlock_prompt_timeout),
            #[cfg(test)]
            Store::Mock(_) => Ok(()),
        }
    }
}

/// The keychain "user" (account attribute) of one secret.
fn item_user(account_id: &str, kind: SecretKind) -> String {
    format!("{account_id}/{}", kind.as_str())
}

fn validate_account_id(account_id: &str) -> Result<(), VaultError> {
    if account_id.is_empty() {
        return Err(VaultError::InvalidAccountId { reason: "empty" });
    }
    if account_id.len() > MAX_ACCOUNT_ID_LEN {
        return Err(VaultError::InvalidAccountId {
            reason: "longer than 256 bytes",
        });
    }
    if account_id.chars().any(char::is_control) {
        return Err(VaultError::InvalidAccountId {
            reason: "contains control characters",
        });
    }
    Ok(())
}

async fn run_blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    tokio::task::spawn_blocking(job)
        .await
        .unwrap_or_else(|join_error| {
            Err(VaultError::Platform {
                detail: if join_error.is_panic() {
                    "the keychain call panicked".into()
                } else {
                    "the keychain call was cancelled".into()
                },
            })
        })
}

/// keyring's in-memory mock store, for this crate's unit tests only: it never exists in a
/// build that ships.
#[cfg(test)]
mod mock {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use keyring::Entry;
    use keyring::mock::MockCredential;

    /// keyring's mock credentials are independent objects, so the store keeps one entry per
    /// name to make a load see an earlier store, as a real keychain would.
    #[derive(Default)]
    pub(crate) struct MockStore {
        entries: Mutex<HashMap<String, Arc<Entry>>>,
    }

    impl MockStore {
        pub(crate) fn entry(&self, user: &str) -> Arc<Entry> {
            let mut entries = match self.entries.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            entries
                .entry(user.to_owned())
                .or_insert_with(|| {
                    Arc::new(Entry::new_with_credential(Box::<MockCredential>::default()))
                })
                .clone()
        }

        /// Makes the next call on `user`'s entry fail with `error`.
        pub(crate) fn fail_next(&self, user: &str, error: keyring::Error) {
            let entry = self.entry(user);
            if let Some(credential) = entry.get_credential().downcast_ref::<MockCredential>() {
                credential.set_error(error);
            }
        }

        pub(crate) fn names(&self) -> Vec<String> {
            let entries = match self.entries.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            entries.keys().cloned().collect()
        }
    }
}

#[cfg(test)]
mod tests;
