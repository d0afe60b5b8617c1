//! libFuzzer entry for `sso_callback`: an HTTP request head on the sign-in callback listener.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::sso_callback(data));
