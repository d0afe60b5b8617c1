//! libFuzzer entry for `rtp_receive`: RTP and telephone-event packets arriving on a call's media port.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::media::rtp_receive(data));
