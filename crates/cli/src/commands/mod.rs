//! One module per subcommand.

pub mod call;
pub mod history;
pub mod provision;
pub mod register;
