//! libFuzzer entry for `provisioning_document`: a provisioning document from a server or a file.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::provisioning_document(data));
