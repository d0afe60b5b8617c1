//! libFuzzer entry for `sip_stream`: bytes on a SIP stream connection (TCP, TLS, WebSocket).
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::sip::sip_stream(data));
