//! Fetching a saved account's provisioning document again, as the document's `provisioning`
//! section asks (every `refresh_interval`, default a day), with what the keychain keeps:
//! single sign-on refreshes its tokens first (a rotated refresh token replaces the old), a
//! password account uses the password kept when the user chose "stay signed in". When
//! neither works any more the account is marked `sign_in_again` and nothing is retried.

use std::time::Duration;

use sidetone_engine::provisioned::{self, ProvisionedLine};
use sidetone_onboarding::{
    Authentication, FetchOutcome, OnboardingError, ProvisioningClient, Refresh, SecretString,
    SsoRequest, Url, ValidatedDocument,
};
use sidetone_store::{Store, UnixMillis};
use sidetone_vault::SecretKind;

use crate::{AccountList, AccountSecrets, ProfileError, Result, SavedAccount, SavedVoicemail};

/// The refresh interval when the document names none (docs/provisioning.md).
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(86_400);

/// What a refresh signs in with, read from the keychain.
pub enum RefreshCredentials {
    /// Single sign-on: trade the refresh token for an access token at the issuer.
    Sso {
        /// The issuer and client the account signed in with.
        request: SsoRequest,
        /// The refresh token.
        refresh_token: SecretString,
    },
    /// The provider's own password, kept because the user chose to stay signed in.
    Password {
        /// The login ID.
        login_id: String,
        /// The password.
        password: SecretString,
    },
}

/// What a refresh brought.
pub enum Refreshed {
    /// A new document (already checked), and the issuer's rotated refresh token, if any.
    Document {
        /// The document.
        document: Box<ValidatedDocument>,
        /// A new refresh token to keep instead of the old one.
        rotated_refresh_token: Option<SecretString>,
    },
    /// The provider no longer accepts what is kept (session ended, password changed, or
    /// nothing kept): the user must sign in again.
    SignInAgain(OnboardingError),
}

impl SavedAccount {
    /// Keeps where and how often the document of this account refreshes.
    pub fn remember_refresh(&mut self, document: &ValidatedDocument, now: UnixMillis) {
        self.remember_refresh_from(document.document.provisioning.as_ref(), now);
    }

    /// [`SavedAccount::remember_refresh`] from the document's `provisioning` section.
    pub fn remember_refresh_from(&mut self, refresh: Option<&Refresh>, now: UnixMillis) {
        self.provisioning_url = refresh.map(|r| r.url.clone());
        self.refresh_interval_secs = refresh.and_then(|r| r.refresh_interval.map(u64::from));
        self.refreshed_at_ms = Some(now.as_millis());
    }

    /// True when the document should be fetched again (never for an account waiting for the
    /// user to sign in again, or one without a refresh URL).
    pub fn refresh_due(&self, now: UnixMillis) -> bool {
        if self.sign_in_again || self.provisioning_url.is_none() {
            return false;
        }
        let interval = self
            .refresh_interval_secs
            .map_or(DEFAULT_REFRESH_INTERVAL, Duration::from_secs);
        match self.refreshed_at_ms {
            Some(at) => {
                let age = now.as_millis().saturating_sub(at);
                // A clock set back makes the age negative: refresh rather than wait forever.
                age < 0 || u128::try_from(age).unwrap_or(0) >= interval.as_millis()
            }
            None => true,
        }
    }

    /// The credentials a refresh would use, from the keychain (blocks). `None` when nothing
    /// usable is kept.
    pub fn refresh_credentials(
        &self,
        secrets: &AccountSecrets,
    ) -> Result<Option<RefreshCredentials>> {
        if let (Some(issuer), Some(client_id)) = (&self.sso_issuer, &self.sso_client_id) {
            let Some(refresh_token) = secrets.load(&self.id, SecretKind::RefreshToken)? else {
                return Ok(None);
            };
            let issuer = Url::parse(issuer).map_err(|e| ProfileError::Unusable {
                account: self.id.clone(),
                reason: format!("its issuer {issuer:?}: {e}"),
            })?;
            let mut request = SsoRequest::new(issuer);
            request.client_id = client_id.clone();
            return Ok(Some(RefreshCredentials::Sso {
                request,
                refresh_token,
            }));
        }
        Ok(secrets
            .load(&self.id, SecretKind::ProvisioningPassword)?
            .map(|password| RefreshCredentials::Password {
                login_id: self.login_id.clone(),
                password,
            }))
    }
}

/// Fetches `account`'s document with `credentials`. A session or password the provider no
/// longer accepts is [`Refreshed::SignInAgain`]; a server that can't be reached is an error
/// (try again later).
pub async fn fetch_refreshed(
    client: &ProvisioningClient,
    account: &SavedAccount,
    credentials: RefreshCredentials,
) -> Result<Refreshed> {
    let url = account
        .provisioning_url
        .as_deref()
        .ok_or_else(|| ProfileError::Unusable {
            account: account.id.clone(),
            reason: "its document names no refresh URL".into(),
        })
        .and_then(|u| {
            Url::parse(u).map_err(|e| ProfileError::Unusable {
                account: account.id.clone(),
                reason: format!("refresh URL {u:?}: {e}"),
            })
        })?;
    let (auth, rotated) = match credentials {
        RefreshCredentials::Sso {
            request,
            refresh_token,
        } => match client.refresh_sso(&request, &refresh_token).await {
            Ok(tokens) => (tokens.bearer(), tokens.refresh_token.clone()),
            Err(e) if ends_session(&e) => return Ok(Refreshed::SignInAgain(e)),
            Err(e) => return Err(e.into()),
        },
        RefreshCredentials::Password { login_id, password } => {
            (Authentication::Password { login_id, password }, None)
        }
    };
    match client.fetch(&url, &auth).await {
        Ok(FetchOutcome::Document(document)) => Ok(Refreshed::Document {
            document,
            rotated_refresh_token: rotated,
        }),
        Ok(_) => Err(ProfileError::Unusable {
            account: account.id.clone(),
            reason: "its refresh URL answered with a choice of accounts".into(),
        }),
        Err(e) if ends_session(&e) => Ok(Refreshed::SignInAgain(e)),
        Err(e) => Err(e.into()),
    }
}

/// The provider's "no" to what is kept, as opposed to a network failure worth retrying.
fn ends_session(error: &OnboardingError) -> bool {
    matches!(
        error,
        OnboardingError::SessionExpired
            | OnboardingError::WrongPassword
            | OnboardingError::AccessTokenRejected
            | OnboardingError::PasswordExpired { .. }
    )
}

/// What applying a refreshed document changed for the account.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The SIP password changed (the engine should use the new one).
    pub sip_password_changed: bool,
    /// The account as saved now.
    pub account: Option<SavedAccount>,
}

/// Applies a refreshed `document` to `account` (blocks: keychain): the line with the same id
/// updates its secrets (a credential's new secret replaces the old), name, voicemail and MWI;
/// the rotated refresh token is kept. A document without this line leaves it as it was (a
/// refresh never adds or removes lines by itself).
pub fn apply_refreshed(
    store: &Store,
    secrets: &AccountSecrets,
    account: &SavedAccount,
    document: &ValidatedDocument,
    rotated_refresh_token: Option<&SecretString>,
    now: UnixMillis,
) -> Result<Applied> {
    let lines =
        provisioned::lines_from_document(document, account.ca_file.clone()).map_err(|e| {
            ProfileError::Unusable {
                account: account.id.clone(),
                reason: format!("its refreshed document: {e}"),
            }
        })?;
    if let Some(token) = rotated_refresh_token {
        secrets.store_refresh_token(&account.id, token)?;
    }
    let Some(line) = lines.iter().find(|l| line_id(l) == account.id) else {
        return Ok(Applied::default());
    };
    let mut updated = account.clone();
    let mut applied = Applied::default();
    if let Some(password) = line.candidates.first().and_then(|c| c.password.as_ref()) {
        let old = secrets.sip_password(&account.id)?;
        if old.as_ref().map(sidetone_sip::Password::expose) != Some(password.expose()) {
            secrets.store_sip_password(&account.id, password)?;
            applied.sip_password_changed = true;
        }
    }
    if let Some(password) = line.voicemail.as_ref().and_then(|v| v.password.as_ref()) {
        secrets.store_voicemail_password(&account.id, password)?;
    }
    updated.display_name = Some(line.display_name.clone());
    updated.account_number = line.account_number.clone();
    updated.voicemail = line.voicemail.as_ref().map(SavedVoicemail::from_line);
    updated.mwi = line.candidates.first().is_some_and(|c| c.mwi);
    updated.remember_refresh(document, now);
    updated.sign_in_again = false;
    AccountList::new(store).upsert(updated.clone())?;
    applied.account = Some(updated);
    Ok(applied)
}

/// Marks `account` as needing the user to sign in again.
pub fn mark_sign_in_again(store: &Store, account: &SavedAccount) -> Result<SavedAccount> {
    let mut marked = account.clone();
    marked.sign_in_again = true;
    AccountList::new(store).upsert(marked.clone())?;
    Ok(marked)
}

fn line_id(line: &ProvisionedLine) -> String {
    line.candidates
        .first()
        .map(|c| c.id.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use sidetone_sip::{AccountConfig, SipUri};

    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    fn account() -> SavedAccount {
        let aor = SipUri::parse("sip:1001@pbx.example.com").unwrap();
        let mut saved = SavedAccount::from_config(&AccountConfig::new(aor, None), "1001", "pbx");
        saved.provisioning_url = Some("https://pbx.example.com/doc".into());
        saved
    }

    #[test]
    fn a_refresh_is_due_after_its_interval_and_never_while_waiting_for_a_sign_in() {
        let mut saved = account();
        assert!(saved.refresh_due(UnixMillis(0)), "never fetched: due");
        saved.refreshed_at_ms = Some(10 * HOUR_MS);
        assert!(
            !saved.refresh_due(UnixMillis(33 * HOUR_MS)),
            "a day has not passed"
        );
        assert!(
            saved.refresh_due(UnixMillis(34 * HOUR_MS)),
            "the default day passed"
        );
        saved.refresh_interval_secs = Some(3_600);
        assert!(saved.refresh_due(UnixMillis(11 * HOUR_MS)));
        assert!(!saved.refresh_due(UnixMillis(11 * HOUR_MS - 1)));
        // A clock set back does not postpone refreshes forever.
        assert!(saved.refresh_due(UnixMillis(HOUR_MS)));
        saved.sign_in_again = true;
        assert!(!saved.refresh_due(UnixMillis(100 * HOUR_MS)));
        saved.sign_in_again = false;
        saved.provisioning_url = None;
        assert!(
            !saved.refresh_due(UnixMillis(100 * HOUR_MS)),
            "nowhere to refresh from"
        );
    }

    #[test]
    fn only_the_providers_no_ends_a_session_a_network_failure_does_not() {
        assert!(ends_session(&OnboardingError::SessionExpired));
        assert!(ends_session(&OnboardingError::WrongPassword));
        assert!(!ends_session(&OnboardingError::Timeout {
            host: "idp".into()
        }));
        assert!(!ends_session(&OnboardingError::Unreachable {
            host: "idp".into(),
            detail: "refused".into()
        }));
    }
}
