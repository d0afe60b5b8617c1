//! Per-call media for Sidetone: SDP offer/answer, RTP/RTCP, SRTP, WebRTC (ICE, DTLS-SRTP),
//! codecs (Opus, G.711), the jitter buffer and DTMF (RFC 4733).
//!
//! Protocol logic here is sans-IO: it takes packets and the current time and says what to
//! play or send; sockets, clocks and threads live in the engine and the audio crate.

pub mod codec;
pub mod dtmf;
mod error;
pub mod fec_plan;
pub mod hold;
pub mod jitter;
pub mod offer_answer;
pub mod rtp_seq;
pub mod session;

pub use codec::CodecKind;
pub use error::MediaError;
pub use hold::HoldState;
pub use offer_answer::{Direction, LocalMedia, Negotiated};
pub use session::{MediaSession, MediaStats};
