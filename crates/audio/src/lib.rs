//! Audio for Sidetone: sound devices (cpal, later), resampling, and WAV sources and sinks for
//! headless calls. Everything leaves here as 20 ms frames of 48 kHz mono 16-bit PCM, the
//! media pipeline's format.

mod error;
mod wav;

pub use error::AudioError;
pub use wav::{FRAME_SAMPLES, SAMPLE_RATE, WavSink, WavSource};
