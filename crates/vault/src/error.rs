//! The vault's one error type.

/// Why a keychain operation failed, named after who has to act.
///
/// Messages never contain a secret (nor the bytes of an unreadable one). The shell turns a
/// `VaultError` into `{ code, message }` for the UI with [`VaultError::code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The keychain exists but is locked and the user did not unlock it (no unlock prompt
    /// could be shown, it was dismissed, or it timed out). The user must unlock it; the
    /// same call can then simply be retried.
    #[error("the keychain is locked: unlock it (log in again or open your keyring) and retry")]
    KeychainLocked,

    /// There is no keychain to talk to (Linux: no D-Bus session bus, or no Secret Service
    /// provider such as gnome-keyring on it). The user or packager must install or start one;
    /// Sidetone never falls back to storing secrets anywhere else.
    #[error("no keychain is available ({detail}): {hint}")]
    KeychainUnavailable {
        /// What the platform reported (no secret in it).
        detail: String,
        /// How to fix it on this platform.
        hint: &'static str,
    },

    /// The keychain refused this program access to the item (an access-control rule, or the
    /// user denied the request).
    #[error("the keychain denied access to the secret ({detail})")]
    AccessDenied {
        /// What the platform reported (no secret in it).
        detail: String,
    },

    /// The caller passed an account id the vault cannot use as a keychain name (empty,
    /// control characters, or too long).
    #[error("invalid account id for the keychain: {reason}")]
    InvalidAccountId {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The secret is larger than the platform keychain accepts for one item.
    #[error("the secret is too large for the keychain ({detail})")]
    SecretTooLarge {
        /// The platform's limit, as it stated it.
        detail: String,
    },

    /// The keychain holds something for this secret that the vault cannot use: several items
    /// for one name, or a value that is not UTF-8 (written by another program). Deleting
    /// the secret (or signing out) clears it.
    #[error("the keychain entry for this secret is unusable: {reason}")]
    CorruptEntry {
        /// What is wrong with it (never the value itself).
        reason: &'static str,
    },

    /// Any other failure of the platform keychain; a bug or an unusual system state.
    #[error("keychain failure: {detail}")]
    Platform {
        /// What the platform reported (no secret in it).
        detail: String,
    },
}

impl VaultError {
    /// A stable, machine-readable code for the UI and logs, e.g. `vault.locked`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeychainLocked => "vault.locked",
            Self::KeychainUnavailable { .. } => "vault.unavailable",
            Self::AccessDenied { .. } => "vault.access_denied",
            Self::InvalidAccountId { .. } => "vault.invalid_account_id",
            Self::SecretTooLarge { .. } => "vault.secret_too_large",
            Self::CorruptEntry { .. } => "vault.corrupt_entry",
            Self::Platform { .. } => "vault.platform",
        }
    }

    /// True if the same call may succeed when retried after the user acts (unlocks the
    /// keychain, starts the keyring daemon) without any change by the caller.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::KeychainLocked | Self::KeychainUnavailable { .. }
        )
    }
}
