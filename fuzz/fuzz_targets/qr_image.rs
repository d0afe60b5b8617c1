//! libFuzzer entry for `qr_image`: an image file the user picks to scan a QR code from.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::onboarding::qr_image(data));
