//! `sidetone-cli`: the Sidetone engine without a window, for people, scripts, tests and
//! benchmarks. One subcommand per file under `commands/`.

mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sidetone softphone, headless.
#[derive(Debug, Parser)]
#[command(name = "sidetone-cli", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Register(commands::register::RegisterArgs),
    Call(commands::call::CallArgs),
    Answer(commands::call::AnswerArgs),
    History(commands::history::HistoryArgs),
    Provision(commands::provision::ProvisionArgs),
    Login(commands::provision::LoginArgs),
    Accounts(commands::accounts::AccountsArgs),
    Logout(commands::accounts::LogoutArgs),
    Voicemail(commands::voicemail::VoicemailArgs),
    Refresh(commands::refresh::RefreshArgs),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Register(args) => commands::register::run(args),
        Command::Call(args) => commands::call::run_call(args),
        Command::Answer(args) => commands::call::run_answer(args),
        Command::History(args) => commands::history::run(args),
        Command::Provision(args) => commands::provision::run(args),
        Command::Login(args) => commands::provision::run_login(args),
        Command::Accounts(args) => commands::accounts::run_accounts(args),
        Command::Logout(args) => commands::accounts::run_logout(args),
        Command::Voicemail(args) => commands::voicemail::run(args),
        Command::Refresh(args) => commands::refresh::run(args),
    }
}

/// Logs go to stderr, `warn` unless `SIDETONE_LOG` says otherwise (e.g. `sidetone=debug`).
/// The SIP stack logs whole messages (Authorization included) at `info`, so it is held at
/// `warn` whatever `SIDETONE_LOG` says: secrets never reach a log.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIDETONE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let filter = match "rsipstack=warn".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
