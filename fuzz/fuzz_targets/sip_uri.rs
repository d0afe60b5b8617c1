//! libFuzzer entry for `sip_uri`: an account address or outbound proxy as typed or provisioned.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::sip::sip_uri(data));
