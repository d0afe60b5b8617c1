//! Test signals shared by the audio tests.

#![allow(dead_code)]

use std::f32::consts::PI;

use sidetone_audio::SAMPLE_RATE;

/// A voice-like signal: a gliding fundamental with 1/k harmonics, in syllables of ~4 per
/// second with pauses, peaking near `peak` of full scale. Deterministic.
pub fn talker(seconds: usize, f0: f32, syllables_per_second: f32, peak: f32) -> Vec<f32> {
    let rate = SAMPLE_RATE as f32;
    let mut phase = 0.0f32;
    (0..seconds * SAMPLE_RATE as usize)
        .map(|i| {
            let t = i as f32 / rate;
            let pitch = f0 * (1.0 + 0.25 * (2.0 * PI * 0.7 * t).sin());
            phase += 2.0 * PI * pitch / rate;
            let voice: f32 = (1..=20)
                .map(|k| {
                    let hz = pitch * k as f32;
                    // Two formant bumps, so the spectrum is speech-like rather than flat.
                    let formants = (-((hz - 600.0) / 300.0).powi(2)).exp()
                        + 0.6 * (-((hz - 1800.0) / 500.0).powi(2)).exp()
                        + 0.05;
                    formants * (k as f32 * phase).sin() / k as f32
                })
                .sum();
            let syllable = (PI * syllables_per_second * t).sin().powi(2);
            // A pause of half a second every 2.5 s, as between sentences.
            let talking = if t % 2.5 < 2.0 { 1.0 } else { 0.0 };
            peak * 0.6 * voice * syllable * talking
        })
        .collect()
}
