//! One module per subcommand.

pub mod account_args;
pub mod accounts;
pub mod activate;
pub mod call;
pub mod cli_error;
pub mod engine_session;
pub mod history;
pub mod manual_login;
pub mod profile_args;
pub mod provision;
pub mod refresh;
pub mod register;
pub mod voicemail;
