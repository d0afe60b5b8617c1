//! Single sign-on commands: the user's company sign-in page opens in the system browser
//! (never the webview), the loopback redirect brings the code back, the access token fetches
//! the provisioning document, and the refresh token goes to the keychain with the account.

use sidetone_onboarding::{FetchOutcome, SSO_WAIT, SsoRequest, open_in_browser};
use tauri::State;

use crate::commands::accounts::SignInResult;
use crate::commands::onboarding::provisioned_account;
use crate::error::CommandError;
use crate::onboarding::{Resolved, SsoSession};
use crate::state::AppState;

/// Signs in at the account's identity provider in the system browser and fetches the
/// document with the access token. Resolves when the browser's redirect arrives; rejects
/// `onboarding.sso_cancelled` after `onboarding_cancel_sso` or a Cancel at the provider,
/// `onboarding.sso_timeout` after [`SSO_WAIT`].
#[tauri::command]
pub async fn onboarding_sign_in_sso(
    state: State<'_, AppState>,
    deployment_id: String,
    account_id: Option<String>,
) -> Result<SignInResult, CommandError> {
    sign_in_sso(&state, &deployment_id, account_id.as_deref()).await
}

/// Cancels the sign-in waiting for the browser (the user pressed Cancel in Sidetone).
#[tauri::command]
pub fn onboarding_cancel_sso(
    state: State<'_, AppState>,
    deployment_id: String,
) -> Result<(), CommandError> {
    state.onboarding.cancel_sso(&deployment_id);
    Ok(())
}

async fn sign_in_sso(
    state: &AppState,
    deployment_id: &str,
    account_id: Option<&str>,
) -> Result<SignInResult, CommandError> {
    let resolved = state.onboarding.deployment(deployment_id)?;
    let Resolved::Discovered { login_id, .. } = &resolved else {
        return Err(CommandError::new(
            "onboarding.sso_failed",
            "This set-up does not use single sign-on: sign in with your password.",
        ));
    };
    let account = resolved
        .chosen_account(account_id)
        .ok_or_else(|| CommandError::new("onboarding.account_unknown", "Pick an account."))?;
    let issuer = account.issuer.clone().ok_or_else(|| {
        CommandError::new(
            "onboarding.sso_failed",
            "Your provider did not say where its sign-in page is. Contact your administrator.",
        )
    })?;
    let mut request = SsoRequest::new(issuer);
    request.login_hint = Some(login_id.clone());
    let client = state.onboarding.client()?;
    let attempt = client.start_sso(&request).await?;
    // Registered before the browser opens, so a Cancel pressed at once is not lost.
    let cancelled = state.onboarding.sso_started(deployment_id);
    if let Err(error) = open_in_browser(attempt.authorize_url()) {
        drop(cancelled);
        state.onboarding.sso_ended(deployment_id);
        return Err(error.into());
    }
    // `select!` drops `cancelled` when it returns, which `sso_ended` relies on.
    let outcome = tokio::select! {
        done = attempt.complete(SSO_WAIT) => done.map_err(CommandError::from),
        _ = cancelled => Err(CommandError::new("onboarding.sso_cancelled", "Sign-in cancelled.")),
    };
    state.onboarding.sso_ended(deployment_id);
    let tokens = outcome?;
    match client.fetch(&account.href, &tokens.bearer()).await? {
        FetchOutcome::Document(document) => {
            let sso = SsoSession {
                issuer: tokens.issuer.clone(),
                client_id: request.client_id.clone(),
                refresh_token: tokens.refresh_token.clone(),
            };
            let host = resolved.server_host();
            let result = provisioned_account(
                state,
                *document,
                host,
                sidetone_profile::SignInMethod::Sso,
                Some(sso),
                None,
            )
            .await?;
            state.onboarding.forget(deployment_id);
            Ok(result)
        }
        // Discovery listed the accounts up front and the user picked one: another list here
        // is the server contradicting itself.
        _ => Err(CommandError::new(
            "onboarding.server_error",
            "The server's answer was not understood.",
        )),
    }
}
