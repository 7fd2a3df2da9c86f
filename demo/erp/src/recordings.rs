//! Recordings the post-call analytics path can fetch by reference id. They are
//! synthesised tones rather than speech so the crate ships no binary assets.

use std::f64::consts::TAU;

pub const SAMPLE_RATE: u32 = 8_000;

/// (reference, seconds, tone frequencies in Hz, beep period in ms or 0 for a steady tone)
const RECORDINGS: &[(&str, u32, &[f64], u32)] = &[
    ("rec-0001", 3, &[440.0], 0),
    ("rec-0002", 2, &[350.0, 440.0], 0),
    ("rec-0003", 4, &[1_000.0], 500),
];

pub fn all() -> Vec<(String, Vec<u8>)> {
    RECORDINGS
        .iter()
        .map(|&(id, secs, freqs, beep)| (id.to_owned(), tone_wav(secs, freqs, beep)))
        .collect()
}

/// A canonical 44-byte-header PCM WAV: 8 kHz, mono, 16-bit little-endian. A fade of
/// 10 ms at every edge keeps the tone free of clicks when a recognizer is fed it.
pub fn tone_wav(seconds: u32, freqs: &[f64], beep_ms: u32) -> Vec<u8> {
    let samples = SAMPLE_RATE.saturating_mul(seconds);
    let data_len = samples.saturating_mul(2);
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());

    let rate = f64::from(SAMPLE_RATE);
    let fade = SAMPLE_RATE / 100;
    let period = SAMPLE_RATE / 1000 * beep_ms;
    let count = freqs.len().max(1) as f64;
    for n in 0..samples {
        // Position inside the current on/off segment decides silence and fades.
        let (pos, len, on) = if period == 0 {
            (n, samples, true)
        } else {
            (n % period, period, (n / period).is_multiple_of(2))
        };
        let edge = pos.min(len.saturating_sub(pos + 1));
        let gain = if on {
            f64::from(edge.min(fade)) / f64::from(fade.max(1))
        } else {
            0.0
        };
        let t = f64::from(n) / rate;
        let wave: f64 = freqs.iter().map(|f| (TAU * f * t).sin()).sum::<f64>() / count;
        let sample = (wave * gain * 0.5 * f64::from(i16::MAX)).round() as i16;
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_and_length() {
        let wav = tone_wav(3, &[440.0], 0);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]),
            8_000
        );
        assert_eq!(u16::from_le_bytes([wav[34], wav[35]]), 16);
        assert_eq!(wav.len(), 44 + 3 * 8_000 * 2);
        // Not silence: somewhere the tone reaches a good fraction of full scale.
        let peak = wav[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]).unsigned_abs())
            .max();
        assert!(peak.is_some_and(|p| p > 10_000), "peak {peak:?}");
    }
}
