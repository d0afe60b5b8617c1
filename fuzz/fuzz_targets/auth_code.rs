//! libFuzzer entry for `auth_code`: an authentication code typed from the welcome e-mail.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::auth_code(data));
