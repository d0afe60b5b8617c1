//! Streaming rate conversion between a device's rate and the pipeline's 48 kHz (rubato), on
//! the handles' side, never in a realtime callback.

use std::collections::VecDeque;

use rubato::{FftFixedInOut, Resampler};

use crate::AudioError;

/// Converts a mono stream arriving in pieces of any size; a passthrough when the rates match.
pub(crate) struct StreamResampler {
    inner: Option<Chunked>,
}

/// The FFT resampler wants fixed chunks: input waits in `pending` until a chunk is full.
struct Chunked {
    resampler: FftFixedInOut<f32>,
    pending: Vec<f32>,
    input: [Vec<f32>; 1],
    output: [Vec<f32>; 1],
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("passthrough", &self.inner.is_none())
            .finish()
    }
}

impl StreamResampler {
    /// A converter from `from` Hz to `to` Hz working on 10 ms chunks: short enough to add
    /// little delay, long enough for the FFT to be cheap.
    pub(crate) fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        if from == to {
            return Ok(Self { inner: None });
        }
        let chunk = (from as usize / 100).max(1);
        let resampler = FftFixedInOut::<f32>::new(from as usize, to as usize, chunk, 1)
            .map_err(|e| AudioError::Resample(e.to_string()))?;
        let output = vec![0.0; resampler.output_frames_max()];
        let chunk = resampler.input_frames_next();
        Ok(Self {
            inner: Some(Chunked {
                resampler,
                pending: Vec::with_capacity(chunk * 2),
                input: [Vec::with_capacity(chunk)],
                output: [output],
            }),
        })
    }

    /// Converts `input` and appends what is ready to `out`; the rest waits for more input.
    pub(crate) fn process(
        &mut self,
        input: &[f32],
        out: &mut VecDeque<f32>,
    ) -> Result<(), AudioError> {
        let Some(chunked) = self.inner.as_mut() else {
            out.extend(input.iter().copied());
            return Ok(());
        };
        chunked.pending.extend_from_slice(input);
        let mut start = 0;
        loop {
            let need = chunked.resampler.input_frames_next();
            if chunked.pending.len() - start < need {
                break;
            }
            chunked.input[0].clear();
            chunked.input[0].extend_from_slice(&chunked.pending[start..start + need]);
            start += need;
            let (_, written) = chunked
                .resampler
                .process_into_buffer(&chunked.input, &mut chunked.output, None)
                .map_err(|e| AudioError::Resample(e.to_string()))?;
            out.extend(chunked.output[0].iter().take(written).copied());
        }
        chunked.pending.drain(..start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keeps_the_rate_ratio_over_odd_sized_pieces() {
        for (from, to) in [(44_100, 48_000), (48_000, 16_000), (48_000, 48_000)] {
            let mut resampler = StreamResampler::new(from, to).unwrap();
            let mut out = VecDeque::new();
            // One second in pieces of 333 samples, as a device might deliver them.
            let second: Vec<f32> = (0..from).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
            for piece in second.chunks(333) {
                resampler.process(piece, &mut out).unwrap();
            }
            // At most one 10 ms chunk is still waiting for more input.
            let missing = to as usize - out.len();
            assert!(missing <= to as usize / 100, "{from}->{to}: {}", out.len());
        }
    }
}
