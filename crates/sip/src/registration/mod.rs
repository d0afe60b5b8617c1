//! Registration (RFC 3261 §10): when to REGISTER, refresh, back off and give up, sans-IO.

mod machine;
mod policy;
mod state;
#[cfg(test)]
mod tests;

pub use machine::Registration;
pub(crate) use machine::send_next;
pub use policy::RegistrationPolicy;
pub(crate) use policy::next_unit;
pub use state::{RegisterOutcome, RegisterRequest, RegistrationEvent, RegistrationState};
