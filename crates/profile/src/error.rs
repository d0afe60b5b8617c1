//! The one error type of the crate; every variant has a stable code for the UI and scripts.

use sidetone_vault::VaultError;

/// What went wrong reading or changing the profile's accounts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The profile's database failed (its own code says how).
    #[error(transparent)]
    Store(#[from] sidetone_store::Error),
    /// The keychain failed: locked, missing, refused (its own code says how).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No saved account has this id.
    #[error("no account {0:?} in this profile")]
    UnknownAccount(String),
    /// Several accounts exist and none was named.
    #[error("this profile has {0} accounts: name one ({1})")]
    AccountNotNamed(usize, String),
    /// The profile has no account yet.
    #[error("this profile has no account yet: provision or log in first")]
    NoAccount,
    /// The account has no voicemail mailbox.
    #[error("the account {0:?} has no voicemail mailbox")]
    NoVoicemail(String),
    /// The voicemail mailbox's password is not in the keychain.
    #[error("the voicemail password of {0:?} is not in the keychain: sign in again")]
    NoVoicemailPassword(String),
    /// The provider refused or could not be reached while refreshing.
    #[error(transparent)]
    Onboarding(#[from] sidetone_onboarding::OnboardingError),
    /// A saved value can no longer be used (e.g. an address this version refuses).
    #[error("the saved account {account:?} is unusable: {reason}")]
    Unusable {
        /// The account.
        account: String,
        /// Why.
        reason: String,
    },
}

impl ProfileError {
    /// A stable, machine-readable code (`profile.<what>`, or the store's or vault's own).
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::Store(e) => e.code(),
            ProfileError::Vault(e) => e.code(),
            ProfileError::UnknownAccount(_) => "profile.unknown_account",
            ProfileError::AccountNotNamed(..) => "profile.account_not_named",
            ProfileError::NoAccount => "profile.no_account",
            ProfileError::NoVoicemail(_) => "profile.no_voicemail",
            ProfileError::NoVoicemailPassword(_) => "profile.no_voicemail_password",
            ProfileError::Unusable { .. } => "profile.unusable_account",
            ProfileError::Onboarding(e) => onboarding_code(e),
        }
    }
}

/// The crate's result.
pub type Result<T, E = ProfileError> = std::result::Result<T, E>;

/// The stable code of an onboarding failure met while refreshing.
fn onboarding_code(error: &sidetone_onboarding::OnboardingError) -> &'static str {
    use sidetone_onboarding::OnboardingError as E;
    match error {
        E::SessionExpired | E::AccessTokenRejected => "auth.session_expired",
        E::WrongPassword | E::PasswordExpired { .. } => "auth.wrong_password",
        E::Unreachable { .. } => "net.unreachable",
        E::Timeout { .. } => "net.timeout",
        _ => "onboarding.refresh_failed",
    }
}
