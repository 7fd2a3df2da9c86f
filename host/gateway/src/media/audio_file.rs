//! Prompts in, recordings out: WAV files as telephone audio (8 kHz, mono, 16-bit).
//!
//! Prompts come from operators in whatever format their tools produce (44.1 kHz stereo
//! from an editor, 22.05 kHz from a synthesizer), so loading converts once: channels are
//! mixed down and the rate is converted with a windowed-sinc resampler, never by
//! dropping samples, which would alias.

use std::path::Path;

/// The sample rate of narrowband telephone audio (G.711).
pub const TELEPHONE_RATE: u32 = 8000;

/// Why an audio file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AudioFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: hound::Error,
    },
    #[error("{path}: unsupported WAV format ({detail})")]
    Format { path: String, detail: String },
    #[error("{path}: cannot convert the sample rate: {detail}")]
    Resample { path: String, detail: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: hound::Error,
    },
}

/// Reads a WAV file as mono 16-bit PCM at `rate` Hz.
pub fn read_wav(path: &Path, rate: u32) -> Result<Vec<i16>, AudioFileError> {
    let name = path.display().to_string();
    let reader = hound::WavReader::open(path).map_err(|source| AudioFileError::Read {
        path: name.clone(),
        source,
    })?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let read_err = |source| AudioFileError::Read {
        path: name.clone(),
        source,
    };
    // Everything goes through f32 in [-1, 1): one path for every sample format.
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(read_err)?,
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(read_err)?
        }
        (format, bits) => {
            return Err(AudioFileError::Format {
                path: name,
                detail: format!("{format:?} with {bits} bits per sample"),
            });
        }
    };
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    let converted = if spec.sample_rate == rate {
        mono
    } else {
        voxgate_speech::audio::resample(&mono, spec.sample_rate, rate).map_err(|e| {
            AudioFileError::Resample {
                path: name,
                detail: e.to_string(),
            }
        })?
    };
    Ok(converted.iter().map(|&s| to_i16(s)).collect())
}

fn to_i16(s: f32) -> i16 {
    (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Writes mono 16-bit PCM as a WAV file.
pub fn write_wav(path: &Path, rate: u32, samples: &[i16]) -> Result<(), AudioFileError> {
    let err = |source| AudioFileError::Write {
        path: path.display().to_string(),
        source,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for &s in samples {
        w.write_sample(s).map_err(err)?;
    }
    w.finalize().map_err(err)
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

    #[test]
    fn wav_round_trip_with_stereo_downmix_and_rate_change() {
        let dir = std::env::temp_dir().join(format!("voxgate-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stereo.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in sine(16_000, 500.0, 0.5) {
            let v = (s * 32767.0) as i16;
            w.write_sample(v).unwrap();
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        let pcm = read_wav(&path, 8000).unwrap();
        assert!((pcm.len() as i64 - 4000).abs() <= 2);
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((15_000..=17_500).contains(&peak), "{peak}");

        let out = dir.join("out.wav");
        write_wav(&out, 8000, &pcm).unwrap();
        assert_eq!(read_wav(&out, 8000).unwrap(), pcm);
        assert!(matches!(
            read_wav(&dir.join("missing.wav"), 8000),
            Err(AudioFileError::Read { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
