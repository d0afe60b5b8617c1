//! Mute and level meters shared by the audio callbacks, the call's task and the UI: plain
//! atomics, so reading them from any thread never disturbs the realtime callbacks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// How fast a meter falls back after a peak: it halves every 100 ms, so a meter polled a few
/// times a second still sees short peaks, and silence reads as silence quickly.
const HALF_LIFE_SECONDS: f32 = 0.1;

/// The mute switch and the input and output levels of one call's audio. Cheap to clone; all
/// clones see the same values.
#[derive(Debug, Clone, Default)]
pub struct AudioControls {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    muted: AtomicBool,
    input: PeakMeter,
    output: PeakMeter,
}

impl AudioControls {
    /// Unmuted, silent meters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mutes or unmutes the microphone: while muted, [`crate::Microphone::read_frame`]
    /// delivers silence (frames keep flowing, so the far end's timing is unaffected).
    pub fn set_muted(&self, muted: bool) {
        self.shared.muted.store(muted, Ordering::Relaxed);
    }

    /// Whether the microphone is muted.
    pub fn is_muted(&self) -> bool {
        self.shared.muted.load(Ordering::Relaxed)
    }

    /// The microphone's recent peak, 0 (silence) to 1 (full scale). Measured before muting,
    /// so the UI can warn someone who talks while muted.
    pub fn input_level(&self) -> f32 {
        self.shared.input.get()
    }

    /// The speaker's recent peak, 0 to 1, of what is actually being played.
    pub fn output_level(&self) -> f32 {
        self.shared.output.get()
    }

    /// Records the peak of `frames` frames at `rate` Hz just captured (capture callback).
    pub(crate) fn record_input(&self, peak: f32, frames: usize, rate: u32) {
        self.shared.input.record(peak, frames, rate);
    }

    /// Records the peak of `frames` frames at `rate` Hz just played (playback callback).
    pub(crate) fn record_output(&self, peak: f32, frames: usize, rate: u32) {
        self.shared.output.record(peak, frames, rate);
    }
}

/// A peak meter with exponential fall-back, stored as `f32` bits. Only one callback writes
/// it, so a load and a store (no compare-and-swap loop) are enough.
#[derive(Debug, Default)]
struct PeakMeter(AtomicU32);

impl PeakMeter {
    fn record(&self, peak: f32, frames: usize, rate: u32) {
        let seconds = frames as f32 / rate.max(1) as f32;
        let decayed = self.get() * 0.5f32.powf(seconds / HALF_LIFE_SECONDS);
        let value = peak.abs().min(1.0).max(decayed);
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_holds_a_peak_then_falls_back() {
        let controls = AudioControls::new();
        controls.record_input(0.8, 480, 48_000);
        assert!((controls.input_level() - 0.8).abs() < 1e-6);
        // 100 ms of silence: half.
        controls.record_input(0.0, 4_800, 48_000);
        assert!((controls.input_level() - 0.4).abs() < 1e-3);
        assert_eq!(controls.output_level(), 0.0);
        controls.set_muted(true);
        assert!(controls.clone().is_muted());
    }
}
