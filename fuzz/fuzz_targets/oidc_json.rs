//! libFuzzer entry for `oidc_json`: an identity provider's discovery document or token response.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::oidc_json(data));
