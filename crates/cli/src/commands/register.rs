//! `sidetone-cli register`: register an account, print what happens, hold, unregister.

use crate::commands::engine_session::EngineSession;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sidetone_engine::{EngineEvent, EngineHandle};
use sidetone_sip::{AccountConfig, AccountId, RegistrationState, SipError};
use tokio::sync::broadcast;

use crate::commands::account_args::AccountArgs;
use crate::output;

/// Register a SIP account, print registration events, keep it for --hold seconds
/// (refreshing as needed), then unregister (Expires: 0) and exit.
///
/// Exit status: 0 registered (and unregistered), 3 wrong password, 4 unreachable,
/// 5 timeout, 6 TLS certificate not trusted, 1 any other failure, 2 bad usage.
/// On failure one line `sidetone-cli: REASON` goes to stderr.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  echo \"$PW\" | sidetone-cli register --uri sip:1001@pbx.example.com \\\n      --password-stdin --transport tls --hold 60 --json"
)]
pub struct RegisterArgs {
    #[command(flatten)]
    account: AccountArgs,

    /// The registration lifetime to ask for, in seconds.
    #[arg(long, value_name = "S", default_value_t = 600)]
    expires: u32,

    /// Keep the registration this many seconds before unregistering (Ctrl-C ends it early).
    #[arg(long, value_name = "S", default_value_t = 0)]
    hold: u64,

    /// Give up if not registered within this many seconds.
    #[arg(long, value_name = "S", default_value_t = 45)]
    timeout: u64,

    /// Print one JSON object per line instead of text.
    #[arg(long)]
    json: bool,

    /// Subscribe to voicemail counts (MWI, RFC 3842) once registered, and print them.
    /// Counts the server sends without a subscription are printed either way.
    #[arg(long)]
    mwi: bool,
}

/// Runs the subcommand and returns the process exit status.
pub fn run(args: RegisterArgs) -> ExitCode {
    match build_account(&args) {
        Ok(account) => register(account, &args),
        Err(error) => fail(&error, args.json),
    }
}

fn build_account(args: &RegisterArgs) -> Result<AccountConfig, SipError> {
    let mut account = args.account.to_config()?;
    account.expires = args.expires;
    account.mwi = args.mwi;
    Ok(account)
}

fn register(account: AccountConfig, args: &RegisterArgs) -> ExitCode {
    let EngineSession {
        engine,
        mut events,
        waiter,
    } = match EngineSession::start() {
        Ok(session) => session,
        Err(code) => return code,
    };
    let result = waiter.block_on(session(&engine, &mut events, account, args));
    let _ = engine.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error, args.json),
    }
}

/// Register, hold, unregister. Errs with the reason the first registration failed.
async fn session(
    engine: &EngineHandle,
    events: &mut broadcast::Receiver<EngineEvent>,
    account: AccountConfig,
    args: &RegisterArgs,
) -> Result<(), SipError> {
    let id = engine
        .register(account)
        .map_err(|e| SipError::Internal(e.to_string()))?;
    tokio::time::timeout(
        Duration::from_secs(args.timeout),
        wait_until_registered(events, &id, args.json),
    )
    .await
    .unwrap_or(Err(SipError::Timeout))?;

    let hold = tokio::time::sleep(Duration::from_secs(args.hold));
    tokio::pin!(hold);
    loop {
        tokio::select! {
            () = &mut hold => break,
            _ = tokio::signal::ctrl_c() => break,
            event = events.recv() => match event {
                Ok(event) => output::print_event(&event, args.json),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }

    engine
        .unregister(&id)
        .map_err(|e| SipError::Internal(e.to_string()))?;
    // Print the unregister as it happens; the engine's shutdown grace bounds the rest.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(event) = events.recv().await {
            output::print_event(&event, args.json);
            if matches!(&event, EngineEvent::AccountRemoved { account_id } if *account_id == id) {
                break;
            }
        }
    })
    .await;
    Ok(())
}

async fn wait_until_registered(
    events: &mut broadcast::Receiver<EngineEvent>,
    id: &AccountId,
    json: bool,
) -> Result<(), SipError> {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => {
                return Err(SipError::Internal("engine stopped".into()));
            }
        };
        output::print_event(&event, json);
        if let EngineEvent::Registration {
            account_id,
            state,
            reason,
        } = &event
        {
            if account_id != id {
                continue;
            }
            match (state, reason) {
                (RegistrationState::Registered { .. }, _) => return Ok(()),
                // A CLI run is one attempt: the first failure is the answer.
                (RegistrationState::Retrying { .. } | RegistrationState::Failed, Some(reason)) => {
                    return Err(reason.clone());
                }
                _ => {}
            }
        }
    }
}

fn fail(error: &SipError, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({ "event": "error", "reason": output::reason_json(error) })
        );
    }
    // Display starts with the short reason (`wrong password`, `unreachable: …`).
    eprintln!("sidetone-cli: {error}");
    ExitCode::from(match error {
        SipError::WrongPassword => 3,
        SipError::Unreachable(_) => 4,
        SipError::Timeout => 5,
        SipError::TlsUntrusted(_) => 6,
        _ => 1,
    })
}
