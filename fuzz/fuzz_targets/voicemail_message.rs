//! libFuzzer entry for `voicemail_message`: a voicemail e-mail as the IMAP server sends it.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::voicemail::voicemail_message(data));
