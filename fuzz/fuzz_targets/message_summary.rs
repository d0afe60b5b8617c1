//! libFuzzer entry for `message_summary`: the body of a voicemail NOTIFY (RFC 3842).
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::sip::message_summary(data));
