//! libFuzzer entry for `webfinger_jrd`: a WebFinger answer (JRD).
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::webfinger_jrd(data));
