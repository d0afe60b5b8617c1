//! An adaptive jitter buffer for one incoming audio stream, sans-IO.
//!
//! Packets go in with their arrival time ([`JitterBuffer::push`]); the playout clock pulls one
//! frame per frame period ([`JitterBuffer::pop`]). The buffer reorders, drops duplicates and
//! late packets, tells the decoder when to conceal a missing frame (offering the next packet for
//! Opus in-band FEC), and keeps its delay near a target that follows the measured network
//! jitter: it waits (stretches with concealment) when it runs dry and skips a frame when it
//! holds more than it needs, so clock drift between the two ends cannot grow the delay.
//!
//! Time is passed in; nothing here reads a clock, so tests run on simulated networks.

mod buffer;
mod delay;
mod stats;

pub use buffer::{JitterBuffer, JitterConfig, Packet, Playout};
pub use stats::JitterStats;

#[cfg(test)]
mod tests;
