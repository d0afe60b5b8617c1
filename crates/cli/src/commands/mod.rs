//! One module per subcommand.

pub mod account_args;
pub mod call;
pub mod engine_session;
pub mod history;
pub mod provision;
pub mod register;
