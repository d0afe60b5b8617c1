//! libFuzzer entry for `provisioning_answer`: the provisioning server's error body or list of accounts.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::provisioning_answer(data));
