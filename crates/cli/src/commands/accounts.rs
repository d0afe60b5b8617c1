//! `sidetone-cli accounts` and `sidetone-cli logout`: the phone lines this profile keeps,
//! and signing one out (its secrets leave the keychain; its cached data too if asked).

use std::process::ExitCode;

use clap::Args;
use sidetone_profile::{AccountList, AccountSecrets, SavedAccount};
use sidetone_voicemail::AudioCache;

use crate::commands::cli_error::CliError;
use crate::commands::profile_args::ProfileArgs;

/// Lists the accounts this profile keeps (the app's and the CLI's are the same).
#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// Print one JSON object per account instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Signs an account out: forgets it and removes its secrets from the keychain.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The account (its id, SIP address, login ID or account number); may be left out when
    /// the profile has only one.
    #[arg(long)]
    account: Option<String>,
    /// Also remove what was cached for it here (voicemail messages and their audio).
    #[arg(long)]
    forget_data: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Runs `accounts`.
pub fn run_accounts(args: AccountsArgs) -> ExitCode {
    let listed = args
        .profile
        .open()
        .and_then(|p| Ok(AccountList::new(&p.store).all()?));
    let accounts = match listed {
        Ok(accounts) => accounts,
        Err(error) => return error.report(args.json),
    };
    for account in &accounts {
        if args.json {
            println!("{}", account_json(account));
        } else {
            println!(
                "{}  {}  <{}>  {} via {}{}",
                account.id,
                account.label(),
                account.aor,
                account.provider_name,
                account.server_host,
                if account.voicemail.is_some() {
                    "  (voicemail)"
                } else {
                    ""
                }
            );
        }
    }
    if !args.json && accounts.is_empty() {
        println!(
            "No accounts yet: `sidetone-cli provision LINK` or `sidetone-cli login --user ID`."
        );
    }
    ExitCode::SUCCESS
}

/// Runs `logout`.
pub fn run_logout(args: LogoutArgs) -> ExitCode {
    match logout(&args) {
        Ok(report) => {
            if args.json {
                println!("{report}");
            } else {
                println!(
                    "Signed out {} ({} cached voicemail audio files removed).",
                    report["account"].as_str().unwrap_or_default(),
                    report["audio_files_removed"]
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => error.report(args.json),
    }
}

fn logout(args: &LogoutArgs) -> Result<serde_json::Value, CliError> {
    let profile = args.profile.open()?;
    let list = AccountList::new(&profile.store);
    let account = list.pick(args.account.as_deref())?;
    // Secrets first: an account still listed with its secrets gone is visible and can be
    // signed out again; the other way round would leave secrets nobody can see.
    AccountSecrets::new().forget(&account.id)?;
    list.remove(&account.id)?;
    let removed = if args.forget_data {
        let cache: AudioCache = sidetone_profile::voicemail_audio_cache(&profile.dir);
        sidetone_voicemail::forget_account(&profile.store, &cache, &account.id)?
    } else {
        0
    };
    Ok(serde_json::json!({
        "account": account.id,
        "secrets_removed": true,
        "data_removed": args.forget_data,
        "audio_files_removed": removed,
    }))
}

/// What `accounts --json` prints of an account (no secret is in a saved account).
fn account_json(account: &SavedAccount) -> serde_json::Value {
    serde_json::json!({
        "id": account.id,
        "name": account.label(),
        "aor": account.aor,
        "login_id": account.login_id,
        "provider": account.provider_name,
        "server": account.server_host,
        "transport": account.transport,
        "method": account.method,
        "account_number": account.account_number,
        "voicemail": account.voicemail.is_some(),
        "sign_in_again": account.sign_in_again,
        "refreshed_at_ms": account.refreshed_at_ms,
    })
}
