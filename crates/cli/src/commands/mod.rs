//! One module per subcommand.

pub mod register;
