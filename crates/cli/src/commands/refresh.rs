//! `sidetone-cli refresh`: fetches the saved accounts' provisioning documents again now
//! (the app does it by itself every `refresh_interval`), with the refresh token or the kept
//! password from the keychain, and applies what changed. A session the provider ended marks
//! the account "sign in again".

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use sidetone_onboarding::ProvisioningClient;
use sidetone_profile::refresh::{self, Refreshed};
use sidetone_profile::{AccountList, AccountSecrets, SavedAccount};
use sidetone_store::{Store, UnixMillis};

use crate::commands::cli_error::CliError;
use crate::commands::profile_args::ProfileArgs;

/// Fetches the provisioning documents again and applies them.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only this account (its id, SIP address, login ID or account number).
    #[arg(long)]
    account: Option<String>,
    /// Also trust the CA certificates in this PEM file for the provider's server.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Print one JSON object per account instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Runs the command: exit 0 when every account refreshed, 1 otherwise (each says why).
pub fn run(args: RefreshArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => error.report(args.json),
    }
}

fn run_inner(args: &RefreshArgs) -> Result<bool, CliError> {
    let profile = args.profile.open()?;
    let list = AccountList::new(&profile.store);
    let accounts = match &args.account {
        Some(_) => vec![list.pick(args.account.as_deref())?],
        None => list.all()?,
    };
    let ca = match &args.ca_file {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| CliError::new("cli.ca_file", format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let client = ProvisioningClient::new(ca.as_deref())
        .map_err(|e| CliError::new("onboarding.client", e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("cli.runtime", e.to_string()))?;
    let mut all_ok = true;
    for account in accounts {
        let outcome = refresh_one(&runtime, &client, &profile.store, &account);
        let report = match outcome {
            Ok((status, changed)) => {
                all_ok &= status == "refreshed";
                serde_json::json!({ "account": account.id, "status": status,
                                    "sip_password_changed": changed })
            }
            Err(error) => {
                all_ok = false;
                serde_json::json!({ "account": account.id, "status": "failed",
                                    "error": { "code": error.code, "message": error.message } })
            }
        };
        if args.json {
            println!("{report}");
        } else {
            println!(
                "{}: {}{}",
                account.id,
                report["status"].as_str().unwrap_or_default(),
                report["error"]["message"]
                    .as_str()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(all_ok)
}

/// Refreshes one account: `("refreshed", password changed)`, `("sign_in_again", false)`.
fn refresh_one(
    runtime: &tokio::runtime::Runtime,
    client: &ProvisioningClient,
    store: &Store,
    account: &SavedAccount,
) -> Result<(&'static str, bool), CliError> {
    let secrets = AccountSecrets::new();
    let now = UnixMillis::from_system_time(SystemTime::now());
    let Some(credentials) = account.refresh_credentials(&secrets)? else {
        refresh::mark_sign_in_again(store, account)?;
        return Ok(("sign_in_again", false));
    };
    match runtime.block_on(refresh::fetch_refreshed(client, account, credentials))? {
        Refreshed::Document {
            document,
            rotated_refresh_token,
        } => {
            let applied = refresh::apply_refreshed(
                store,
                &secrets,
                account,
                &document,
                rotated_refresh_token.as_ref(),
                now,
            )?;
            Ok(("refreshed", applied.sip_password_changed))
        }
        Refreshed::SignInAgain(reason) => {
            eprintln!("sidetone-cli: {}: {reason}", account.id);
            refresh::mark_sign_in_again(store, account)?;
            Ok(("sign_in_again", false))
        }
    }
}
