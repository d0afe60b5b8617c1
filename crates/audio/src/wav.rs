//! WAV files as a call's microphone and speaker (hound), resampled with rubato.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use rubato::{FftFixedInOut, Resampler};

use crate::AudioError;
use crate::pcm::to_i16;

/// The pipeline's sample rate.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame at [`SAMPLE_RATE`].
pub const FRAME_SAMPLES: usize = 960;

/// A WAV file played as a microphone: any rate, mono or multi-channel (mixed down),
/// 8–32-bit integer or 32-bit float; read whole and resampled to 48 kHz mono at open.
#[derive(Debug)]
pub struct WavSource {
    samples: VecDeque<i16>,
    duration_frames: usize,
}

impl WavSource {
    /// Reads and converts `path`.
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let read_error = |reason: String| AudioError::Read {
            path: path.display().to_string(),
            reason,
        };
        let reader = hound::WavReader::open(path).map_err(|e| read_error(e.to_string()))?;
        let spec = reader.spec();
        let channels = usize::from(spec.channels.max(1));
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(|e| read_error(e.to_string()))?,
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|s| s as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(|e| read_error(e.to_string()))?
            }
        };
        let mono: Vec<f32> = interleaved
            .chunks(channels)
            .map(|frame| frame.iter().sum::<f32>() / frame.len() as f32)
            .collect();
        let resampled = resample(&mono, spec.sample_rate, SAMPLE_RATE)?;
        let samples: VecDeque<i16> = resampled.into_iter().map(to_i16).collect();
        Ok(Self {
            duration_frames: samples.len().div_ceil(FRAME_SAMPLES),
            samples,
        })
    }

    /// The next 20 ms frame ([`FRAME_SAMPLES`] samples; the last one padded with silence),
    /// or `None` at the end.
    pub fn next_frame(&mut self) -> Option<Vec<i16>> {
        if self.samples.is_empty() {
            return None;
        }
        let n = self.samples.len().min(FRAME_SAMPLES);
        let mut frame: Vec<i16> = self.samples.drain(..n).collect();
        frame.resize(FRAME_SAMPLES, 0);
        Some(frame)
    }

    /// How many frames the whole file lasts.
    pub fn duration_frames(&self) -> usize {
        self.duration_frames
    }
}

/// A WAV file recording what a call's speaker would play: 48 kHz mono 16-bit.
pub struct WavSink {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    path: PathBuf,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink").field("path", &self.path).finish()
    }
}

impl WavSink {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Self, AudioError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| AudioError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            writer: Some(writer),
            path: path.to_owned(),
        })
    }

    /// Appends samples.
    pub fn write(&mut self, samples: &[i16]) -> Result<(), AudioError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        for &s in samples {
            writer.write_sample(s).map_err(|e| AudioError::Write {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Writes the header's final sizes and closes the file. Dropping does it too, silently.
    pub fn finalize(mut self) -> Result<(), AudioError> {
        match self.writer.take() {
            Some(writer) => writer.finalize().map_err(|e| AudioError::Write {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.finalize();
        }
    }
}

/// Resamples a whole signal, compensating the resampler's delay.
fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let chunk = (from as usize / 50).max(1);
    let mut resampler = FftFixedInOut::<f32>::new(from as usize, to as usize, chunk, 1)
        .map_err(|e| AudioError::Resample(e.to_string()))?;
    let delay = resampler.output_delay();
    let wanted = (input.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let mut output = Vec::with_capacity(wanted + delay + chunk * 2);
    let mut position = 0;
    // Feed the signal, then silence until the delayed tail has come out.
    while output.len() < wanted + delay {
        let need = resampler.input_frames_next();
        let mut block = vec![0.0f32; need];
        if position < input.len() {
            let n = need.min(input.len() - position);
            block[..n].copy_from_slice(&input[position..position + n]);
            position += n;
        }
        let out = resampler
            .process(&[block], None)
            .map_err(|e| AudioError::Resample(e.to_string()))?;
        if let Some(channel) = out.into_iter().next() {
            output.extend(channel);
        }
    }
    Ok(output.into_iter().skip(delay).take(wanted).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, seconds: f32, float: bool) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: if float { 32 } else { 16 },
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..(rate as f32 * seconds) as usize {
            let v = 0.25 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin();
            for _ in 0..channels {
                if float {
                    w.write_sample(v).unwrap();
                } else {
                    w.write_sample((v * 32767.0) as i16).unwrap();
                }
            }
        }
        w.finalize().unwrap();
    }

    fn rms(x: &[i16]) -> f32 {
        (x.iter().map(|&s| f32::from(s).powi(2)).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn reads_any_rate_and_layout_as_48k_mono_frames() {
        let dir = std::env::temp_dir().join(format!("sidetone-audio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (rate, channels, float) in [
            (8000, 1, false),
            (16000, 2, false),
            (44100, 1, true),
            (48000, 2, true),
        ] {
            let path = dir.join(format!("t{rate}-{channels}.wav"));
            write_wav(&path, rate, channels, 1.0, float);
            let mut source = WavSource::open(&path).unwrap();
            assert_eq!(source.duration_frames(), 50, "{rate} Hz");
            let mut all = Vec::new();
            while let Some(frame) = source.next_frame() {
                assert_eq!(frame.len(), FRAME_SAMPLES);
                all.extend(frame);
            }
            // A 0.25 full-scale sine: RMS 0.177 * 32768 = 5793, kept through resampling.
            let level = rms(&all[4800..43200]);
            assert!(
                (5300.0..6300.0).contains(&level),
                "{rate} Hz x{channels}: RMS {level}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sink_writes_48k_mono_16_bit() {
        let path = std::env::temp_dir().join(format!("sidetone-sink-{}.wav", std::process::id()));
        let mut sink = WavSink::create(&path).unwrap();
        sink.write(&[1000; FRAME_SAMPLES]).unwrap();
        sink.write(&[-1000; FRAME_SAMPLES]).unwrap();
        sink.finalize().unwrap();
        let reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (48000, 1, 16)
        );
        assert_eq!(reader.len() as usize, 2 * FRAME_SAMPLES);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(matches!(
            WavSource::open(Path::new("/nonexistent/x.wav")),
            Err(AudioError::Read { .. })
        ));
    }
}
