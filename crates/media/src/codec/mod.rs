//! Audio codecs: which ones we speak ([`CodecKind`]) and the G.711 tables. Opus comes from
//! libopus (the `opus` crate); see [`crate::session`] for how frames are coded.

pub mod g711;

use std::fmt;

/// A voice codec Sidetone can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecKind {
    /// Opus (RFC 7587), 48 kHz, with in-band FEC.
    Opus,
    /// G.711 µ-law (payload type 0).
    Pcmu,
    /// G.711 A-law (payload type 8).
    Pcma,
}

impl CodecKind {
    /// Every codec, in our default order of preference.
    pub const ALL: [CodecKind; 3] = [CodecKind::Opus, CodecKind::Pcmu, CodecKind::Pcma];

    /// The encoding name in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            CodecKind::Opus => "opus",
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
        }
    }

    /// The RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            CodecKind::Opus => 48_000,
            CodecKind::Pcmu | CodecKind::Pcma => 8_000,
        }
    }

    /// The channel count written in `a=rtpmap` (Opus is always `/2`, RFC 7587 §7).
    pub fn rtpmap_channels(self) -> u16 {
        match self {
            CodecKind::Opus => 2,
            CodecKind::Pcmu | CodecKind::Pcma => 1,
        }
    }

    /// The payload type we offer it with (static for G.711, dynamic for Opus).
    pub fn default_payload_type(self) -> u8 {
        match self {
            CodecKind::Opus => 111,
            CodecKind::Pcmu => 0,
            CodecKind::Pcma => 8,
        }
    }

    /// The lower-case name used on the command line (`opus`, `pcmu`, `pcma`).
    pub fn as_str(self) -> &'static str {
        match self {
            CodecKind::Opus => "opus",
            CodecKind::Pcmu => "pcmu",
            CodecKind::Pcma => "pcma",
        }
    }

    /// Parses a command-line name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for CodecKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
