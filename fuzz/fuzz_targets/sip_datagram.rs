//! libFuzzer entry for `sip_datagram`: a UDP datagram as the SIP receive path gets it.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::sip::sip_datagram(data));
