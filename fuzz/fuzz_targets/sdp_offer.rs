//! libFuzzer entry for `sdp_offer`: a far end's SDP offer or answer.
// libFuzzer calls an `extern "C"` function the macro defines.
#![allow(unsafe_code)]
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sidetone_fuzz::media::sdp_offer(data));
