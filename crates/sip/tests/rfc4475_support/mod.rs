//! Helpers of the RFC 4475 test: a Sidetone endpoint registered to a fake registrar, and the
//! far end that throws torture messages at it.

pub mod endpoint;
pub mod peer;
pub mod wire;
