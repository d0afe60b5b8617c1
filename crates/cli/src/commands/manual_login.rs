//! `sidetone-cli login --server HOST --user ID` with a plain login ID (or `--sip`): the
//! manual login, for a phone system without provisioning. The password comes from stdin;
//! the transports the server's DNS offers (NAPTR, SRV; TLS first) are tried, else TLS, then
//! TCP, then UDP on their default ports (only a server that does not answer moves on: a
//! refused certificate or password ends it); the first that registers is saved with the
//! password in the keychain.

use std::path::Path;

use sidetone_profile::{AccountList, AccountSecrets, SavedAccount};
use sidetone_sip::{Password, manual_account_candidates};

use crate::commands::activate::register_and_release;
use crate::commands::cli_error::CliError;
use crate::commands::engine_session::EngineSession;
use crate::commands::profile_args::ProfileArgs;

/// What the manual login needs.
pub struct ManualLogin<'a> {
    /// The SIP server: `host`, `host:port`, optionally `;transport=…`.
    pub server: &'a str,
    /// The login ID: a user part, or `user@domain` when the SIP domain differs.
    pub login_id: &'a str,
    /// The password.
    pub password: Password,
    /// An extra CA to trust for TLS.
    pub ca_file: Option<&'a Path>,
}

/// Registers, saves, and reports what was saved.
pub fn login(
    manual: ManualLogin<'_>,
    profile: &ProfileArgs,
) -> Result<serde_json::Value, CliError> {
    // Checked before anything starts: the input, and whether this account is already here.
    let candidates =
        manual_account_candidates(manual.server, manual.login_id, manual.password.clone())
            .map_err(|e| CliError::new("cli.invalid_input", e.to_string()))?;
    let opened = profile.open()?;
    let list = AccountList::new(&opened.store);
    if let Some(first) = candidates.first()
        && list.find(&first.id.to_string())?.is_some()
    {
        return Err(CliError::new(
            "onboarding.already_added",
            format!(
                "{} is already set up here: `sidetone-cli logout --account {}` first",
                first.id, first.id
            ),
        ));
    }
    eprintln!(
        "Signing in to {} as {}",
        manual.server.trim(),
        manual.login_id.trim()
    );
    let session = EngineSession::start()
        .map_err(|_| CliError::new("cli.engine", "the phone engine did not start"))?;
    let located =
        session
            .engine
            .manual_candidates(manual.server, manual.login_id, manual.password.clone());
    let mut candidates = match located {
        Ok(candidates) => candidates,
        Err(e) => {
            let _ = session.engine.shutdown();
            return Err(CliError::new(e.code(), e.to_string()));
        }
    };
    for candidate in &mut candidates {
        candidate.ca_file = manual.ca_file.map(Path::to_path_buf);
    }
    let registered = register_and_release(&session, candidates);
    let _ = session.engine.shutdown();
    let config = registered.map_err(|e| CliError::new(e.code(), e.to_string()))?;
    let saved = SavedAccount::from_config(&config, manual.login_id.trim(), manual.server.trim());
    AccountSecrets::new().store_sip_password(&saved.id, &manual.password)?;
    list.upsert(saved.clone())?;
    Ok(serde_json::json!({
        "manual": true,
        "host": saved.server_host,
        "login_id": saved.login_id,
        "saved": [{ "id": saved.id, "registered": true, "transport": saved.transport }],
    }))
}
