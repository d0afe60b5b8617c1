//! Sample conversions between the pipeline's 16-bit PCM and the float used for processing.

/// A float sample (full scale ±1) as 16-bit PCM, clipped.
pub(crate) fn to_i16(sample: f32) -> i16 {
    (sample * 32768.0).clamp(-32768.0, 32767.0) as i16
}

/// A 16-bit PCM sample as float, full scale ±1.
pub(crate) fn to_f32(sample: i16) -> f32 {
    f32::from(sample) / 32768.0
}
