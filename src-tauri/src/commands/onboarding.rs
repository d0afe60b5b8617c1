//! Onboarding commands: a link, code, QR image or login ID becomes a deployment the user
//! confirms; a sign-in (one-time token or password) fetches the provisioning document; the
//! terms are accepted; the lines register. Nothing is saved before the user has agreed.

use base64::Engine as _;
use serde::Serialize;
use sidetone_engine::provisioned;
use sidetone_onboarding::{
    Authentication, Deployment, FetchOutcome, LoginId, PastedInput, SecretString, Terms,
    ValidatedDocument, decode_qr_image, parse_input,
};
use sidetone_profile::SignInMethod;
use sidetone_profile::terms::{self, AcceptedTerms, EmergencyAddress};
use tauri::State;

use crate::commands::accounts::SignInResult;
use crate::error::CommandError;
use crate::onboarding::{PendingAccount, Resolved, SsoSession, host_of};
use crate::registration::activate;
use crate::state::AppState;

/// The most image bytes a QR decode accepts (the UI refuses larger files itself).
const MAX_QR_BYTES: usize = 10 * 1024 * 1024;

/// A deployment as the UI shows it for confirmation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentView {
    id: String,
    provider_name: String,
    server_host: String,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    login_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accounts: Option<Vec<DeploymentAccountView>>,
}

/// One account of a "Multiple accounts located" picker.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentAccountView {
    id: String,
    label: String,
    login_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// What the paste box held.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParsedInputView {
    /// A link, code or QR code: confirm it.
    Deployment {
        /// "link", "code" or "qr".
        source: &'static str,
        /// What it resolves to.
        deployment: DeploymentView,
    },
    /// A login ID: discover it next.
    LoginId {
        /// The login ID as typed.
        user: String,
    },
}

/// The result of a token sign-in: signed in, or several accounts to pick from first.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenSignInView {
    /// The account was provisioned.
    SignedIn {
        /// As for a password sign-in.
        result: SignInResult,
    },
    /// Pick one of `deployment.accounts`, then sign in again with its id.
    ChooseAccount {
        /// The same deployment id, now with accounts.
        deployment: DeploymentView,
    },
}

/// The provider's terms as the UI shows them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsView {
    provider_name: String,
    licence_version: String,
    licence_text: String,
    emergency_version: String,
    emergency_text: String,
    emergency_address: Option<EmergencyAddress>,
}

fn deployment_view(id: String, resolved: &Resolved) -> DeploymentView {
    let server_host = resolved.server_host();
    // Until the document is fetched (only after the user agrees to contact this host), the
    // host is all we can honestly show as the provider, unless discovery named the account.
    let (provider_name, login_id, accounts) = match resolved {
        Resolved::Link(deployment) => (None, deployment.user.clone(), None),
        Resolved::Choices {
            deployment,
            choices,
        } => {
            let picker = choices
                .iter()
                .map(|c| DeploymentAccountView {
                    id: c.account_number.clone(),
                    label: c.name.clone(),
                    login_id: deployment.user.clone().unwrap_or_default(),
                    detail: Some(format!("Account {}", c.account_number)),
                })
                .collect();
            (None, deployment.user.clone(), Some(picker))
        }
        Resolved::Discovered { login_id, accounts } => {
            let picker = (accounts.len() > 1).then(|| {
                accounts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| DeploymentAccountView {
                        id: a.account_number.clone().unwrap_or_else(|| i.to_string()),
                        label: a.title.clone().unwrap_or_else(|| host_of(&a.href)),
                        login_id: login_id.clone(),
                        detail: a.account_number.as_ref().map(|n| format!("Account {n}")),
                    })
                    .collect()
            });
            let title = accounts.first().and_then(|a| a.title.clone());
            (title, Some(login_id.clone()), picker)
        }
    };
    DeploymentView {
        id,
        provider_name: provider_name.unwrap_or_else(|| server_host.clone()),
        server_host,
        method: resolved.method(),
        login_id,
        accounts,
    }
}

fn link_view(state: &AppState, source: &'static str, deployment: Deployment) -> ParsedInputView {
    let resolved = Resolved::Link(deployment);
    let id = state.onboarding.remember(resolved.clone());
    ParsedInputView::Deployment {
        source,
        deployment: deployment_view(id, &resolved),
    }
}

/// Sorts what the user pasted: a `sidetone://` link, an authentication code or a login ID.
/// Contacts nobody.
#[tauri::command]
pub fn onboarding_parse_input(
    state: State<'_, AppState>,
    input: String,
) -> Result<ParsedInputView, CommandError> {
    match parse_input(input.trim())? {
        PastedInput::Link(deployment) => Ok(link_view(&state, "link", deployment)),
        PastedInput::Code(deployment) => Ok(link_view(&state, "code", deployment)),
        PastedInput::LoginId(login) => Ok(ParsedInputView::LoginId {
            user: login.login_id,
        }),
        _ => Err(CommandError::new(
            "onboarding.input_unrecognised",
            "Sidetone doesn't recognise that.",
        )),
    }
}

/// Finds the deployment link in a QR code image (PNG or JPEG, base64). Contacts nobody.
#[tauri::command]
pub fn onboarding_decode_qr_image(
    state: State<'_, AppState>,
    image_base64: String,
) -> Result<ParsedInputView, CommandError> {
    if image_base64.len() > MAX_QR_BYTES / 3 * 4 + 4 {
        return Err(CommandError::new(
            "ui.image_too_large",
            "The image is larger than 10 MB.",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(image_base64.trim())
        .map_err(|_| CommandError::new("onboarding.qr_not_found", "That is not an image."))?;
    let link = decode_qr_image(&bytes)?;
    Ok(link_view(&state, "qr", link.deployment))
}

/// Asks the user's provider (WebFinger) how they sign in and which accounts they have.
#[tauri::command]
pub async fn onboarding_discover(
    state: State<'_, AppState>,
    user: String,
) -> Result<DeploymentView, CommandError> {
    let login = LoginId::parse(user.trim())?;
    let found = state
        .onboarding
        .client()?
        .discover(&login, state.onboarding.discovery_server.as_deref())
        .await?;
    if found.accounts.is_empty() {
        return Err(CommandError::new(
            "onboarding.discovery_not_found",
            format!("No phone account was found for {}.", login.login_id),
        ));
    }
    let resolved = Resolved::Discovered {
        login_id: login.login_id,
        accounts: found.accounts,
    };
    let id = state.onboarding.remember(resolved.clone());
    Ok(deployment_view(id, &resolved))
}

/// Signs in with a one-time token from a confirmed link, code or QR code.
#[tauri::command]
pub async fn onboarding_sign_in_token(
    state: State<'_, AppState>,
    deployment_id: String,
    account_id: Option<String>,
) -> Result<TokenSignInView, CommandError> {
    let resolved = state.onboarding.deployment(&deployment_id)?;
    let (deployment, url) = match &resolved {
        Resolved::Link(d) => (d.clone(), d.provisioning_url.clone()),
        Resolved::Choices {
            deployment,
            choices,
        } => {
            let chosen = choices
                .iter()
                .find(|c| Some(&c.account_number) == account_id.as_ref())
                .ok_or_else(|| {
                    CommandError::new("onboarding.account_unknown", "Pick an account.")
                })?;
            (deployment.clone(), chosen.href.clone())
        }
        Resolved::Discovered { .. } => {
            return Err(CommandError::new(
                "onboarding.no_token",
                "This set-up has no one-time token: sign in instead.",
            ));
        }
    };
    let Some(token) = deployment.token.clone() else {
        return Err(CommandError::new(
            "onboarding.no_token",
            "This link has no one-time token: sign in instead.",
        ));
    };
    let auth = Authentication::Token(token);
    match state.onboarding.client()?.fetch(&url, &auth).await? {
        FetchOutcome::ChooseAccount(choices) => {
            let resolved = Resolved::Choices {
                deployment,
                choices,
            };
            state.onboarding.replace(&deployment_id, resolved.clone());
            Ok(TokenSignInView::ChooseAccount {
                deployment: deployment_view(deployment_id, &resolved),
            })
        }
        FetchOutcome::Document(document) => {
            let host = resolved.server_host();
            let result =
                provisioned_account(&state, *document, host, SignInMethod::Token, None, None)
                    .await?;
            state.onboarding.forget(&deployment_id);
            Ok(TokenSignInView::SignedIn { result })
        }
        _ => Err(CommandError::new(
            "onboarding.server_error",
            "The server's answer was not understood.",
        )),
    }
}

/// Signs in with the user's own password at the provider's provisioning endpoint. Exactly one
/// request: a wrong password is reported, never retried.
#[tauri::command]
pub async fn onboarding_sign_in_password(
    state: State<'_, AppState>,
    deployment_id: String,
    account_id: Option<String>,
    login_id: Option<String>,
    password: String,
    stay_signed_in: bool,
) -> Result<SignInResult, CommandError> {
    let resolved = state.onboarding.deployment(&deployment_id)?;
    let (url, known_login) = match &resolved {
        Resolved::Link(d) => (d.provisioning_url.clone(), d.user.clone()),
        Resolved::Choices { deployment, .. } => {
            (deployment.provisioning_url.clone(), deployment.user.clone())
        }
        Resolved::Discovered { login_id, .. } => {
            let chosen = resolved
                .chosen_account(account_id.as_deref())
                .ok_or_else(|| {
                    CommandError::new("onboarding.account_unknown", "Pick an account.")
                })?;
            (chosen.href.clone(), Some(login_id.clone()))
        }
    };
    let login_id = known_login
        .or(login_id)
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| CommandError::new("onboarding.login_required", "Enter your login ID."))?;
    if password.is_empty() {
        return Err(CommandError::new(
            "auth.wrong_password",
            "Enter your password.",
        ));
    }
    let password = SecretString::from(password);
    // Staying signed in keeps the provider password in the keychain so the document can be
    // fetched again; without it the user signs in again when a refresh is due.
    let kept_password = stay_signed_in.then(|| password.clone());
    let auth = Authentication::Password { login_id, password };
    let host = resolved.server_host();
    match state.onboarding.client()?.fetch(&url, &auth).await? {
        FetchOutcome::Document(document) => {
            let result = provisioned_account(
                &state,
                *document,
                host,
                SignInMethod::Password,
                None,
                kept_password,
            )
            .await?;
            state.onboarding.forget(&deployment_id);
            Ok(result)
        }
        FetchOutcome::ChooseAccount(choices) => {
            // Discovery lists accounts up front; a 300 here means the link had none chosen.
            let resolved = match resolved {
                Resolved::Link(deployment) => Resolved::Choices {
                    deployment,
                    choices,
                },
                other => other,
            };
            state.onboarding.replace(&deployment_id, resolved);
            Err(CommandError::new(
                "onboarding.choose_account",
                "You have several accounts: pick one.",
            ))
        }
        _ => Err(CommandError::new(
            "onboarding.server_error",
            "The server's answer was not understood.",
        )),
    }
}

/// Turns a fetched document into an account: parked for the terms when the provider has
/// terms this profile has not accepted, else activated (secrets to the keychain, registered,
/// saved) at once.
pub(crate) async fn provisioned_account(
    state: &AppState,
    validated: ValidatedDocument,
    server_host: String,
    method: SignInMethod,
    sso: Option<SsoSession>,
    kept_password: Option<SecretString>,
) -> Result<SignInResult, CommandError> {
    let ca_file = match provisioned::trust_pem(&validated) {
        Some(pem) => Some(write_trust(state, &server_host, &pem)?),
        None => None,
    };
    let lines = provisioned::lines_from_document(&validated, ca_file)?;
    let document = validated.document;
    let Some(first) = lines.first() else {
        return Err(CommandError::internal("the document has no line"));
    };
    let account_id = first
        .candidates
        .first()
        .map(|c| c.id.to_string())
        .unwrap_or_default();
    if already_added(state, &account_id)? {
        return Err(CommandError::new(
            "onboarding.already_added",
            "This phone line is already set up in Sidetone.",
        ));
    }
    let pending = PendingAccount {
        lines,
        provider_name: document.provider.name.clone(),
        server_host: server_host.clone(),
        login_id: document.sign_in.login_id.clone(),
        method,
        terms: document.terms.clone().unwrap_or(Terms {
            licence: None,
            emergency: None,
            extensions: Default::default(),
        }),
        sso,
        refresh: document.provisioning.clone(),
        kept_password,
    };
    let terms_required = terms::outstanding(&*state.store()?, &server_host, &pending.terms)?;
    if terms_required {
        state.onboarding.park(account_id.clone(), pending);
    } else {
        activate(state, pending).await?;
    }
    Ok(SignInResult {
        account_id,
        terms_required,
    })
}

/// True when the line is set up already. One waiting for its user to sign in again is not:
/// signing in again replaces its secrets and clears the mark.
fn already_added(state: &AppState, account_id: &str) -> Result<bool, CommandError> {
    let saved = crate::accounts::load_all(&*state.store()?)?;
    Ok(saved.iter().any(|a| a.id == account_id && !a.sign_in_again))
}

/// Writes the provider's CA certificates where its accounts will find them.
fn write_trust(
    state: &AppState,
    server_host: &str,
    pem: &str,
) -> Result<std::path::PathBuf, CommandError> {
    let dir = &state.onboarding.trust_dir;
    std::fs::create_dir_all(dir).map_err(|e| {
        CommandError::new("store.io", format!("cannot create {}: {e}", dir.display()))
    })?;
    let path = dir.join(format!("{}.pem", terms::file_safe_host(server_host)));
    std::fs::write(&path, pem).map_err(|e| {
        CommandError::new("store.io", format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(path)
}

/// The terms an account waits for.
#[tauri::command]
pub fn terms_get(
    state: State<'_, AppState>,
    account_id: String,
) -> Result<TermsView, CommandError> {
    let pending = state.onboarding.parked(&account_id).ok_or_else(|| {
        CommandError::new(
            "terms.not_pending",
            "There are no terms waiting for this account.",
        )
    })?;
    let accepted = terms::accepted(&*state.store()?, &pending.server_host)?;
    let terms = &pending.terms;
    let licence_text =
        terms
            .licence
            .as_ref()
            .map_or_else(String::new, |l| match (&l.text, &l.url) {
                (Some(text), _) => text.clone(),
                (None, Some(url)) => format!("Read the licence at {url}"),
                (None, None) => String::new(),
            });
    let (licence_version, emergency_version) = terms::versions(terms);
    Ok(TermsView {
        provider_name: pending.provider_name.clone(),
        licence_version,
        licence_text,
        emergency_version,
        emergency_text: terms
            .emergency
            .as_ref()
            .map(|e| e.text.clone())
            .unwrap_or_default(),
        emergency_address: accepted.and_then(|a| a.emergency_address),
    })
}

/// Accepts the terms shown (by version), keeps the emergency address, and activates the
/// account: secrets to the keychain, lines registered, the account saved.
#[tauri::command]
pub async fn terms_accept(
    state: State<'_, AppState>,
    account_id: String,
    licence_version: String,
    emergency_version: String,
    emergency_address: EmergencyAddress,
) -> Result<(), CommandError> {
    let pending = state.onboarding.parked(&account_id).ok_or_else(|| {
        CommandError::new(
            "terms.not_pending",
            "There are no terms waiting for this account.",
        )
    })?;
    let terms = &pending.terms;
    let shown_licence = terms.licence.as_ref().map(|l| l.version.as_str());
    let shown_emergency = terms.emergency.as_ref().map(|e| e.version.as_str());
    if shown_licence.unwrap_or_default() != licence_version
        || shown_emergency.unwrap_or_default() != emergency_version
    {
        return Err(CommandError::new(
            "terms.outdated",
            "The terms changed while you were reading them.",
        ));
    }
    let address_required = terms.emergency.as_ref().is_some_and(|e| e.address_required);
    if address_required && !emergency_address.is_complete() {
        return Err(CommandError::new(
            "terms.address_invalid",
            "Enter the street, city, region, postal code and country.",
        ));
    }
    let accepted = AcceptedTerms {
        licence_version,
        emergency_version,
        emergency_address: emergency_address.is_complete().then_some(emergency_address),
        accepted_at_ms: now_ms(),
    };
    terms::accept(&*state.store()?, &pending.server_host, &accepted)?;
    let Some(pending) = state.onboarding.unpark(&account_id) else {
        return Ok(());
    };
    activate(&state, pending).await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
