//! Audio for Sidetone: sound devices (cpal; PulseAudio's native protocol on Linux),
//! resampling, echo cancellation / noise suppression / gain (sonora), and WAV sources and sinks for headless calls. Everything leaves here as 20 ms
//! frames of 48 kHz mono 16-bit PCM, the media pipeline's format.
//!
//! Realtime rule: the device callbacks only move samples through lock-free rings and update
//! atomics; format conversion and resampling happen in the handles ([`Microphone`],
//! [`Speaker`]), on the caller's thread.

mod call_audio;
mod controls;
mod device_format;
mod devices;
mod error;
mod file_player;
mod host;
mod microphone;
mod pcm;
mod processing;
mod resample;
mod speaker;
mod stream_thread;
mod wav;

pub use call_audio::{CallAudio, DeviceChoice};
pub use controls::AudioControls;
pub use devices::{AudioDevice, DeviceList, list_devices};
pub use error::AudioError;
pub use file_player::{Played, play_file};
pub use microphone::Microphone;
pub use processing::{ProcessingConfig, VoiceProcessor};
pub use speaker::Speaker;
pub use wav::{FRAME_SAMPLES, SAMPLE_RATE, WavSink, WavSource};
