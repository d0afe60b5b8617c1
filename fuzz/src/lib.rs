//! Fuzz targets for every parser Sidetone feeds with bytes from outside: the network, links
//! in e-mails, pasted codes, picked files and servers it does not control.
//!
//! Each target is a plain function over `&[u8]` that must never panic and checks what must
//! hold for any input (a round trip, a refusal, a bound). Two drivers call the same
//! functions: `cargo fuzz` with libFuzzer (`fuzz/run`, nightly; `fuzz_targets/`) for long
//! coverage-guided runs, and `tests/smoke/` on stable Rust for CI's short run over the
//! checked-in corpora in `fuzz/corpus/<target>/` plus seeded mutations of them.

pub mod media;
pub mod onboarding;
pub mod sip;
pub mod voicemail;

/// One fuzz target: its name (also its corpus folder and libFuzzer binary) and its body.
#[derive(Clone, Copy)]
pub struct Target {
    /// The target's name, as `cargo fuzz run NAME` knows it.
    pub name: &'static str,
    /// Runs one input; panics only when Sidetone has a bug.
    pub run: fn(&[u8]),
}

/// Every target, in the order the smoke run takes them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "sip_datagram",
        run: sip::sip_datagram,
    },
    Target {
        name: "sip_stream",
        run: sip::sip_stream,
    },
    Target {
        name: "sip_uri",
        run: sip::sip_uri,
    },
    Target {
        name: "message_summary",
        run: sip::message_summary,
    },
    Target {
        name: "sdp_offer",
        run: media::sdp_offer,
    },
    Target {
        name: "rtp_receive",
        run: media::rtp_receive,
    },
    Target {
        name: "deep_link",
        run: onboarding::deep_link,
    },
    Target {
        name: "auth_code",
        run: onboarding::auth_code,
    },
    Target {
        name: "provisioning_document",
        run: onboarding::provisioning_document,
    },
    Target {
        name: "provisioning_answer",
        run: onboarding::provisioning_answer,
    },
    Target {
        name: "qr_image",
        run: onboarding::qr_image,
    },
    Target {
        name: "webfinger_jrd",
        run: onboarding::webfinger_jrd,
    },
    Target {
        name: "sso_callback",
        run: onboarding::sso_callback,
    },
    Target {
        name: "oidc_json",
        run: onboarding::oidc_json,
    },
    Target {
        name: "voicemail_message",
        run: voicemail::voicemail_message,
    },
];

/// The input as text, or `None` when it is not UTF-8 (the text parsers take `&str`: their
/// callers have already refused invalid UTF-8).
pub(crate) fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
