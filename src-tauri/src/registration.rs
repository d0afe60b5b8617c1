//! Bringing a signed-in account to life: its secrets into the keychain, its lines registered
//! (the first transport that answers), the account saved so it comes back at the next start.

use std::time::Duration;

use sidetone_engine::provisioned::ProvisionedLine;
use sidetone_sip::{AccountConfig, worth_trying_next};

use crate::accounts::{self, SavedAccount};
use crate::blocking::blocking;
use crate::error::CommandError;
use crate::onboarding::PendingAccount;
use crate::state::AppState;

/// How long one transport may take to answer before the next is tried.
pub const PER_TRANSPORT: Duration = Duration::from_secs(8);

/// Activates every line of `pending`. A line whose server does not answer now is still saved
/// and left registering (the engine retries with backoff): a softphone set up on a train must
/// not forget its account. A rejected password or certificate is an error and saves nothing.
pub async fn activate(state: &AppState, pending: PendingAccount) -> Result<(), CommandError> {
    for line in &pending.lines {
        let Some(first) = line.candidates.first().cloned() else {
            continue;
        };
        if let Some(password) = first.password.clone() {
            let id = first.id.to_string();
            blocking(move || accounts::store_password(&id, &password)).await??;
        }
        if let Some(token) = pending.sso.as_ref().and_then(|s| s.refresh_token.clone()) {
            let id = first.id.to_string();
            blocking(move || accounts::store_refresh_token(&id, &token)).await??;
        }
        if let Some(password) = pending.kept_password.clone() {
            let id = first.id.to_string();
            blocking(move || accounts::store_provisioning_password(&id, &password)).await??;
        }
        if let Some(password) = line.voicemail.as_ref().and_then(|v| v.password.clone()) {
            let id = first.id.to_string();
            blocking(move || accounts::store_voicemail_password(&id, &password)).await??;
        }
        let registered = register_line(state, line).await;
        let config = match registered {
            Ok(config) => config,
            Err(error) => {
                forget_password(first.id.to_string()).await;
                return Err(error);
            }
        };
        let mut saved = SavedAccount::from_line(
            &config,
            line,
            &pending.login_id,
            &pending.server_host,
            &pending.provider_name,
            pending.method,
        );
        saved.sso_issuer = pending.sso.as_ref().map(|s| s.issuer.clone());
        saved.sso_client_id = pending.sso.as_ref().map(|s| s.client_id.clone());
        saved.remember_refresh_from(pending.refresh.as_ref(), crate::voicemail::now());
        accounts::save(&*state.store()?, saved)?;
    }
    Ok(())
}

/// Registers the first candidate that answers; when none answers, registers the first one
/// anyway so the engine keeps trying.
async fn register_line(
    state: &AppState,
    line: &ProvisionedLine,
) -> Result<AccountConfig, CommandError> {
    let engine = state.engine.clone();
    let candidates = line.candidates.clone();
    let outcome =
        blocking(move || engine.register_first_working(candidates, PER_TRANSPORT)).await?;
    match outcome {
        Ok(config) => Ok(config),
        Err(sidetone_engine::EngineError::Sip(sip)) if worth_trying_next(&sip) => {
            let first = line
                .candidates
                .first()
                .cloned()
                .ok_or_else(|| CommandError::internal("a line without transports"))?;
            state.engine.register(first.clone())?;
            Ok(first)
        }
        Err(error) => Err(error.into()),
    }
}

async fn forget_password(account_id: String) {
    let _ = blocking(move || accounts::forget_secrets(&account_id)).await;
}
