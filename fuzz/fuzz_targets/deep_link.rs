//! libFuzzer entry for `deep_link`: a sidetone:// link, or whatever is pasted into the set-up box.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::deep_link(data));
