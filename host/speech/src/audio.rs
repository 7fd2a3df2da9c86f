//! Mono 16-bit PCM with its sample rate, and rate conversion.

use crate::SpeechError;

/// Mono 16-bit PCM at `rate` Hz.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pcm {
    pub rate: u32,
    pub samples: Vec<i16>,
}

impl Pcm {
    pub fn new(rate: u32, samples: Vec<i16>) -> Pcm {
        Pcm { rate, samples }
    }

    /// Length in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        if self.rate == 0 {
            return 0;
        }
        self.samples.len() as u64 * 1000 / u64::from(self.rate)
    }

    /// The same audio at another rate (windowed-sinc resampling; never sample dropping).
    pub fn resampled(&self, rate: u32) -> Result<Pcm, SpeechError> {
        if rate == self.rate {
            return Ok(self.clone());
        }
        let input: Vec<f32> = self
            .samples
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        let out = resample(&input, self.rate, rate)?;
        Ok(Pcm {
            rate,
            samples: out
                .iter()
                .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
                .collect(),
        })
    }
}

/// Channels of the same length averaged into one.
pub fn mix(channels: &[Vec<i16>]) -> Vec<i16> {
    let n = channels.len().max(1) as i32;
    let len = channels.first().map_or(0, Vec::len);
    (0..len)
        .map(|i| {
            let sum: i32 = channels
                .iter()
                .map(|c| i32::from(c.get(i).copied().unwrap_or(0)))
                .sum();
            // Averaging i16 values stays within i16.
            (sum / n) as i16
        })
        .collect()
}

/// Converts mono audio between rates with a windowed-sinc filter.
pub fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, SpeechError> {
    use rubato::{
        Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction,
    };
    if input.is_empty() || from == 0 || to == 0 {
        return Ok(Vec::new());
    }
    let params = SincInterpolationParameters {
        sinc_len: 128,
        f_cutoff: 0.925,
        interpolation: SincInterpolationType::Linear,
        oversampling_factor: 128,
        window: WindowFunction::BlackmanHarris2,
    };
    let err = |e: String| SpeechError::Resample(e);
    let chunk = 1024;
    let ratio = f64::from(to) / f64::from(from);
    let mut r =
        SincFixedIn::<f32>::new(ratio, 1.0, params, chunk, 1).map_err(|e| err(e.to_string()))?;
    let delay = r.output_delay();
    let expected = (input.len() as f64 * ratio).round() as usize;
    let mut out = Vec::with_capacity(expected + delay + chunk);
    let mut pos = 0;
    while pos + chunk <= input.len() {
        let block = r
            .process(&[&input[pos..pos + chunk]], None)
            .map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&block[0]);
        pos += chunk;
    }
    // rubato refuses an empty partial block, which input of a whole number of chunks
    // would leave.
    if pos < input.len() {
        let block = r
            .process_partial(Some(&[&input[pos..]]), None)
            .map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&block[0]);
    }
    while out.len() < expected + delay {
        let block = r
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| err(e.to_string()))?;
        if block[0].is_empty() {
            break;
        }
        out.extend_from_slice(&block[0]);
    }
    let end = (delay + expected).min(out.len());
    Ok(out.get(delay..end).map(<[f32]>::to_vec).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    /// Dominant frequency by zero crossings: enough to show pitch survives resampling.
    fn zero_crossing_freq(x: &[f32], rate: u32) -> f32 {
        let crossings = x
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        crossings as f32 / 2.0 / (x.len() as f32 / rate as f32)
    }

    #[test]
    fn resampling_keeps_length_and_pitch() {
        let input = sine(44_100, 440.0, 1.0);
        let out = resample(&input, 44_100, 8000).unwrap();
        assert!((out.len() as i64 - 8000).abs() <= 2, "{}", out.len());
        let f = zero_crossing_freq(&out, 8000);
        assert!((f - 440.0).abs() < 5.0, "{f}");
    }

    #[test]
    fn input_of_whole_chunks_resamples() {
        let input = sine(22_050, 440.0, 2048.0 / 22_050.0);
        assert_eq!(input.len(), 2048);
        let out = resample(&input, 22_050, 8000).unwrap();
        assert!((out.len() as i64 - 743).abs() <= 2, "{}", out.len());
    }

    #[test]
    fn resampling_filters_what_cannot_be_represented() {
        // 6 kHz cannot exist at 8 kHz: a real resampler removes it instead of folding it
        // down to 2 kHz.
        let input = sine(44_100, 6000.0, 0.5);
        let out = resample(&input, 44_100, 8000).unwrap();
        let rms = (out.iter().map(|s| s * s).sum::<f32>() / out.len() as f32).sqrt();
        assert!(rms < 0.01, "aliasing: rms {rms}");
    }
}
