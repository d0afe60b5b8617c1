//! Saving what `provision` and `login` fetched, the way the app does: the provider's terms
//! accepted (shown first; `--accept-terms` is the user's yes), the secrets in the keychain,
//! each line registered once to prove it works, the accounts saved in the profile. Nothing
//! is saved when a password or certificate is refused.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use sidetone_store::UnixMillis;

use sidetone_engine::provisioned::{self, ProvisionedLine};
use sidetone_engine::{EngineError, EngineEvent, EngineHandle};
use sidetone_onboarding::{SecretString, Terms, ValidatedDocument};
use sidetone_profile::terms::{self, AcceptedTerms, EmergencyAddress};
use sidetone_profile::{AccountList, AccountSecrets, SavedAccount, SignInMethod};
use sidetone_sip::{AccountConfig, AccountId, worth_trying_next};
use tokio::sync::broadcast;

use crate::commands::cli_error::CliError;
use crate::commands::engine_session::EngineSession;
use crate::commands::profile_args::{OpenProfile, ProfileArgs};

/// How long one transport may take to answer before the next is tried.
const PER_TRANSPORT: Duration = Duration::from_secs(8);

/// A provisioning document fetched after signing in, and how the user signed in.
pub struct Fetched {
    /// The checked document.
    pub document: ValidatedDocument,
    /// The provider's host as the user confirmed it.
    pub host: String,
    /// How the account signs in again.
    pub method: SignInMethod,
    /// For single sign-on: the issuer, client id and refresh token.
    pub sso: Option<SsoSaved>,
    /// The provider password, kept to refresh the document ("stay signed in").
    pub provisioning_password: Option<SecretString>,
}

/// What is kept of a single sign-on.
pub struct SsoSaved {
    /// The issuer, as its metadata names it.
    pub issuer: String,
    /// The client id used there.
    pub client_id: String,
    /// The refresh token, for the keychain.
    pub refresh_token: Option<SecretString>,
}

/// The user's answer to the provider's terms.
pub struct TermsAnswer {
    /// `--accept-terms` was given.
    pub accepted: bool,
    /// `--emergency-address`, when given.
    pub emergency_address: Option<EmergencyAddress>,
}

/// Parses `--emergency-address "street; unit; city; region; postal code; country"` (the unit
/// may be empty).
pub fn parse_emergency_address(text: &str) -> Result<EmergencyAddress, String> {
    let parts: Vec<&str> = text.split(';').map(str::trim).collect();
    let [street, unit, city, region, postal_code, country] = parts.as_slice() else {
        return Err(format!(
            "the emergency address needs 6 parts separated by ';' (street; unit; city; region; \
             postal code; country), not {}",
            parts.len()
        ));
    };
    let address = EmergencyAddress {
        street: (*street).to_owned(),
        unit: (*unit).to_owned(),
        city: (*city).to_owned(),
        region: (*region).to_owned(),
        postal_code: (*postal_code).to_owned(),
        country: (*country).to_owned(),
    };
    if !address.is_complete() {
        return Err(
            "the emergency address needs a street, city, region, postal code and country".into(),
        );
    }
    Ok(address)
}

/// Saves `fetched` into the profile; returns what was saved, per line.
pub fn activate(
    fetched: Fetched,
    profile: &ProfileArgs,
    answer: &TermsAnswer,
) -> Result<Vec<serde_json::Value>, CliError> {
    let opened = profile.open()?;
    let doc_terms = fetched.document.document.terms.clone();
    if let Some(doc_terms) = &doc_terms {
        settle_terms(&opened, &fetched.host, doc_terms, answer)?;
    }
    let ca_file = match provisioned::trust_pem(&fetched.document) {
        Some(pem) => Some(write_trust(&opened, &fetched.host, &pem)?),
        None => None,
    };
    let lines = provisioned::lines_from_document(&fetched.document, ca_file)
        .map_err(|e| CliError::new("onboarding.document_unusable", e.to_string()))?;
    let list = AccountList::new(&opened.store);
    for line in &lines {
        let id = line_id(line);
        if list.find(&id)?.is_some() {
            return Err(CliError::new(
                "onboarding.already_added",
                format!("{id} is already set up here: `sidetone-cli logout --account {id}` first"),
            ));
        }
    }
    let session = EngineSession::start()
        .map_err(|_| CliError::new("cli.engine", "the phone engine did not start"))?;
    let result = activate_lines(&session, &fetched, &lines, &list);
    let _ = session.engine.shutdown();
    result
}

fn activate_lines(
    session: &EngineSession,
    fetched: &Fetched,
    lines: &[ProvisionedLine],
    list: &AccountList<'_>,
) -> Result<Vec<serde_json::Value>, CliError> {
    let secrets = AccountSecrets::new();
    let login_id = &fetched.document.document.sign_in.login_id;
    let provider = &fetched.document.document.provider.name;
    let mut saved_lines = Vec::new();
    for line in lines {
        let id = line_id(line);
        store_secrets(&secrets, &id, line, fetched)?;
        let (config, registered) = match register_once(session, line) {
            Ok(result) => result,
            Err(error) => {
                // Refused: nothing of this line stays.
                let _ = secrets.forget(&id);
                return Err(error);
            }
        };
        let mut saved = SavedAccount::from_line(
            &config,
            line,
            login_id,
            &fetched.host,
            provider,
            fetched.method,
        );
        saved.sso_issuer = fetched.sso.as_ref().map(|s| s.issuer.clone());
        saved.sso_client_id = fetched.sso.as_ref().map(|s| s.client_id.clone());
        saved.remember_refresh(
            &fetched.document,
            UnixMillis::from_system_time(SystemTime::now()),
        );
        list.upsert(saved)?;
        saved_lines.push(serde_json::json!({
            "id": id, "registered": registered, "transport": config.transport,
            "voicemail": line.voicemail.is_some(),
        }));
    }
    Ok(saved_lines)
}

/// The terms must be accepted (and the emergency address given when the provider asks for
/// one) before anything is saved; they are printed for the user to read.
fn settle_terms(
    opened: &OpenProfile,
    host: &str,
    doc_terms: &Terms,
    answer: &TermsAnswer,
) -> Result<(), CliError> {
    if !terms::outstanding(&opened.store, host, doc_terms)? {
        return Ok(());
    }
    if let Some(licence) = &doc_terms.licence {
        eprintln!("Licence agreement (version {}):", licence.version);
        match (&licence.text, &licence.url) {
            (Some(text), _) => eprintln!("{text}\n"),
            (None, Some(url)) => eprintln!("Read it at {url}\n"),
            (None, None) => {}
        }
    }
    if let Some(emergency) = &doc_terms.emergency {
        eprintln!(
            "Emergency calling (version {}):\n{}\n",
            emergency.version, emergency.text
        );
    }
    if !answer.accepted && !asked_and_accepted() {
        return Err(CliError::new(
            "cli.terms_required",
            "the terms above were not accepted; nothing was saved (--accept-terms accepts them)",
        ));
    }
    let address_required = doc_terms
        .emergency
        .as_ref()
        .is_some_and(|e| e.address_required);
    if address_required && answer.emergency_address.is_none() {
        return Err(CliError::new(
            "terms.address_invalid",
            "your provider needs your emergency address: --emergency-address \
             \"street; unit; city; region; postal code; country\"",
        ));
    }
    let (licence_version, emergency_version) = terms::versions(doc_terms);
    let accepted = AcceptedTerms {
        licence_version,
        emergency_version,
        emergency_address: answer.emergency_address.clone(),
        accepted_at_ms: UnixMillis::from_system_time(SystemTime::now()).as_millis(),
    };
    Ok(terms::accept(&opened.store, host, &accepted)?)
}

fn store_secrets(
    secrets: &AccountSecrets,
    id: &str,
    line: &ProvisionedLine,
    fetched: &Fetched,
) -> Result<(), CliError> {
    let sso = fetched.sso.as_ref();
    if let Some(password) = &fetched.provisioning_password {
        secrets.store_provisioning_password(id, password)?;
    }
    if let Some(password) = line.candidates.first().and_then(|c| c.password.as_ref()) {
        secrets.store_sip_password(id, password)?;
    }
    if let Some(token) = sso.and_then(|s| s.refresh_token.as_ref()) {
        secrets.store_refresh_token(id, token)?;
    }
    if let Some(password) = line.voicemail.as_ref().and_then(|v| v.password.as_ref()) {
        secrets.store_voicemail_password(id, password)?;
    }
    Ok(())
}

/// Registers the first of `candidates` that answers, then unregisters it (the CLI does not
/// stay running); returns the one that worked.
pub fn register_and_release(
    session: &EngineSession,
    candidates: Vec<AccountConfig>,
) -> Result<AccountConfig, EngineError> {
    let mut events = session.events.resubscribe();
    let config = session
        .engine
        .register_first_working(candidates, PER_TRANSPORT)?;
    unregister(session, &session.engine, &mut events, &config.id);
    Ok(config)
}

/// Registers a provisioned line once. A server that does not answer now still saves the
/// line, not registered: the app will keep trying. A refused password or certificate is an
/// error.
fn register_once(
    session: &EngineSession,
    line: &ProvisionedLine,
) -> Result<(AccountConfig, bool), CliError> {
    match register_and_release(session, line.candidates.clone()) {
        Ok(config) => Ok((config, true)),
        Err(EngineError::Sip(sip)) if worth_trying_next(&sip) => {
            eprintln!(
                "sidetone-cli: {} did not answer ({sip}); saved, not registered",
                line.display_name
            );
            let first = line.candidates.first().cloned().ok_or_else(|| {
                CliError::new("onboarding.document_unusable", "a line without transports")
            })?;
            Ok((first, false))
        }
        Err(error) => Err(CliError::new(error.code(), error.to_string())),
    }
}

/// On a terminal, asks whether the terms printed above are accepted; `false` otherwise.
fn asked_and_accepted() -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    eprint!("Accept these terms? [y/N] ");
    let mut line = String::new();
    stdin.read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes" | "Yes")
}

/// Unregisters `id` and waits (bounded) until the engine says it is gone.
fn unregister(
    session: &EngineSession,
    engine: &EngineHandle,
    events: &mut broadcast::Receiver<EngineEvent>,
    id: &AccountId,
) {
    if engine.unregister(id).is_err() {
        return;
    }
    // The timer is made inside the runtime (a tokio timer needs one to exist).
    session.waiter.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(event) = events.recv().await {
                if matches!(&event, EngineEvent::AccountRemoved { account_id } if account_id == id)
                {
                    break;
                }
            }
        })
        .await;
    });
}

/// The engine's id of a line (its first candidate's; every candidate shares it).
fn line_id(line: &ProvisionedLine) -> String {
    line.candidates
        .first()
        .map(|c| c.id.to_string())
        .unwrap_or_default()
}

/// Writes the provider's CA certificates where its accounts will find them.
fn write_trust(opened: &OpenProfile, host: &str, pem: &str) -> Result<PathBuf, CliError> {
    let dir = opened.dir.join("trust");
    let io = |e: std::io::Error, what: &PathBuf| {
        CliError::new("store.io", format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
    let path = dir.join(format!("{}.pem", terms::file_safe_host(host)));
    std::fs::write(&path, pem).map_err(|e| io(e, &path))?;
    Ok(path)
}
