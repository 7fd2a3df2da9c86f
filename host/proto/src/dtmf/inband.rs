//! In-band DTMF detection with Goertzel filters.
//!
//! Some trunks and analogue gateways deliver key presses only as tones in the audio.
//! The detector evaluates the eight DTMF frequencies over blocks of 102 samples
//! (12.75 ms at 8 kHz, the block length of the spandsp detector that many PBXs use):
//! short enough that a 40 ms tone always covers two whole blocks, long enough to tell
//! adjacent DTMF frequencies apart. A block counts as a key when
//!
//! * the strongest row and column tones are both above a minimum level,
//! * their *twist* (level difference) is within what telephone lines produce,
//! * each is clearly stronger than the other tones of its group (*relative peak*), and
//! * together they hold most of the block's energy, which is what rejects speech,
//!   music and noise: those spread energy over many frequencies.
//!
//! The energy share also measures how much of a block the tone fills, so consecutive
//! blocks of the same key add up to an estimate of the tone's duration; a key is
//! reported once that reaches [`InbandConfig::min_tone_ms`] (23 ms): a 20 ms tone can
//! never get there, whatever its alignment to the blocks, and a 40 ms tone always
//! covers two whole blocks (25.5 ms). The same key is reported again only after two
//! blocks in which its tones are absent: every gap of ≥ 40 ms contains two whole
//! blocks, while a dropout of 10 ms leaves enough of the tone in the blocks it
//! touches that the key stays pressed and is not doubled.

use super::{COLS_HZ, Digit, ROWS_HZ};

const BLOCK: usize = 102;
const RATE: f32 = 8000.0;

/// Keypad by (row, column).
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Thresholds of the in-band detector. The defaults follow ITU-T Q.24 practice and
/// the spandsp detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InbandConfig {
    /// Sample rate of the PCM given to [`InbandDetector::push`]: 8000 or 16000 (the
    /// latter is averaged down to 8 kHz).
    pub sample_rate: u32,
    /// Minimum level of each tone, in dB relative to a full-scale sine.
    pub min_level_dbfs: f32,
    /// How much louder the row tone may be than the column tone, in dB.
    pub normal_twist_db: f32,
    /// How much louder the column tone may be than the row tone, in dB.
    pub reverse_twist_db: f32,
    /// How much the chosen tone must exceed every other tone of its group, in dB.
    pub relative_peak_db: f32,
    /// Minimum share of the block's energy in the two tones (1.0 for a pure pair).
    pub min_energy_ratio: f32,
    /// Minimum tone duration in milliseconds before a key is reported.
    pub min_tone_ms: f32,
}

impl Default for InbandConfig {
    fn default() -> Self {
        InbandConfig {
            sample_rate: 8000,
            min_level_dbfs: -36.0,
            normal_twist_db: 8.0,
            reverse_twist_db: 6.0,
            relative_peak_db: 8.0,
            min_energy_ratio: 0.6,
            min_tone_ms: 23.0,
        }
    }
}

/// Streaming in-band DTMF detector for one direction of one call.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    config: InbandConfig,
    coeffs: [f32; 8],
    min_power: f32,
    normal_twist: f32,
    reverse_twist: f32,
    relative_peak: f32,
    block: [f32; BLOCK],
    filled: usize,
    /// Half of a 16 kHz sample pair waiting for its partner.
    pending: Option<i16>,
    /// The key of the current run of consecutive hit blocks and the tone samples
    /// accumulated over it.
    run: Option<(Digit, f32)>,
    reported: Option<Digit>,
    misses: u32,
}

fn db_to_power(db: f32) -> f32 {
    10f32.powf(db / 10.0)
}

impl InbandDetector {
    /// A detector with the given thresholds.
    pub fn new(config: InbandConfig) -> Self {
        let mut coeffs = [0f32; 8];
        for (c, f) in coeffs.iter_mut().zip(ROWS_HZ.iter().chain(COLS_HZ.iter())) {
            *c = 2.0 * (2.0 * std::f32::consts::PI * *f as f32 / RATE).cos();
        }
        let amp = 10f32.powf(config.min_level_dbfs / 20.0);
        let half = BLOCK as f32 / 2.0;
        InbandDetector {
            config,
            coeffs,
            min_power: (amp * half) * (amp * half),
            normal_twist: db_to_power(config.normal_twist_db),
            reverse_twist: db_to_power(config.reverse_twist_db),
            relative_peak: db_to_power(config.relative_peak_db),
            block: [0.0; BLOCK],
            filled: 0,
            pending: None,
            run: None,
            reported: None,
            misses: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &InbandConfig {
        &self.config
    }

    /// Feeds PCM at the configured rate; returns the keys whose press completed
    /// detection in it (usually none, at most one per 40 ms).
    pub fn push(&mut self, pcm: &[i16]) -> Vec<Digit> {
        let mut out = Vec::new();
        if self.config.sample_rate == 16000 {
            for &s in pcm {
                match self.pending.take() {
                    None => self.pending = Some(s),
                    Some(first) => {
                        let avg = ((i32::from(first) + i32::from(s)) / 2) as i16;
                        self.sample(avg, &mut out);
                    }
                }
            }
        } else {
            for &s in pcm {
                self.sample(s, &mut out);
            }
        }
        out
    }

    /// Forgets any partial block and tone in progress (e.g. after a codec change).
    pub fn reset(&mut self) {
        self.filled = 0;
        self.pending = None;
        self.run = None;
        self.reported = None;
        self.misses = 0;
    }

    fn sample(&mut self, s: i16, out: &mut Vec<Digit>) {
        if let Some(slot) = self.block.get_mut(self.filled) {
            *slot = f32::from(s) / 32768.0;
        }
        self.filled += 1;
        if self.filled < BLOCK {
            return;
        }
        self.filled = 0;
        let (power, energy) = self.analyse();
        let hit = self.classify(&power, energy);
        match hit {
            Some((d, samples)) => {
                let acc = match self.run {
                    Some((r, acc)) if r == d => acc + samples,
                    _ => samples,
                };
                self.run = Some((d, acc));
                let min = self.config.min_tone_ms * RATE / 1000.0;
                if acc >= min && self.reported != Some(d) {
                    self.reported = Some(d);
                    out.push(d);
                }
            }
            None => self.run = None,
        }
        // A block that still carries the reported key's tones (a dropout or the
        // ragged end of the tone) keeps the key pressed; two blocks without them
        // release it.
        let continuing = match (hit, self.reported) {
            (Some((d, _)), Some(r)) => d == r,
            (None, Some(r)) => self.present(r, &power),
            _ => false,
        };
        if continuing {
            self.misses = 0;
        } else {
            self.misses += 1;
            if self.misses >= 2 {
                self.reported = None;
            }
        }
    }

    /// Goertzel power at the eight frequencies and the block's energy.
    fn analyse(&self) -> ([f32; 8], f32) {
        let mut power = [0f32; 8];
        for (p, &c) in power.iter_mut().zip(&self.coeffs) {
            let (mut s1, mut s2) = (0f32, 0f32);
            for &x in &self.block {
                let s0 = x + c * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            *p = s1 * s1 + s2 * s2 - c * s1 * s2;
        }
        let energy = self.block.iter().map(|x| x * x).sum();
        (power, energy)
    }

    /// Whether both tones of `d` are above the minimum level.
    fn present(&self, d: Digit, power: &[f32; 8]) -> bool {
        let Some((fr, fc)) = d.frequencies() else {
            return false;
        };
        let at = |f: u32| {
            ROWS_HZ
                .iter()
                .chain(COLS_HZ.iter())
                .position(|&x| x == f)
                .and_then(|i| power.get(i))
                .copied()
                .unwrap_or(0.0)
        };
        at(fr) >= self.min_power && at(fc) >= self.min_power
    }

    /// Which key, if any, this block holds, and an estimate of how many of its
    /// samples carry the tone pair: for a pure pair the two Goertzel powers sum to
    /// `N/2 · energy · n/N` when `n` of the `N` samples carry it.
    fn classify(&self, power: &[f32; 8], energy: f32) -> Option<(Digit, f32)> {
        let (rows, cols) = power.split_at(4);
        let (ri, rp) = peak(rows)?;
        let (ci, cp) = peak(cols)?;
        if rp < self.min_power || cp < self.min_power {
            return None;
        }
        if rp > cp * self.normal_twist || cp > rp * self.reverse_twist {
            return None;
        }
        let dominant = |group: &[f32], idx: usize, p: f32| {
            group
                .iter()
                .enumerate()
                .all(|(i, &q)| i == idx || p >= q * self.relative_peak)
        };
        if !dominant(rows, ri, rp) || !dominant(cols, ci, cp) {
            return None;
        }
        let share = (rp + cp) / ((BLOCK as f32 / 2.0) * energy);
        if share < self.config.min_energy_ratio {
            return None;
        }
        let c = KEYPAD.get(ri)?.get(ci)?;
        Some((Digit::from_char(*c)?, share.min(1.0) * BLOCK as f32))
    }
}

impl Default for InbandDetector {
    fn default() -> Self {
        InbandDetector::new(InbandConfig::default())
    }
}

fn peak(group: &[f32]) -> Option<(usize, f32)> {
    group
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Deterministic white noise in [-1, 1).
    struct Noise(u64);
    impl Noise {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    fn dbfs(db: f64) -> f64 {
        32767.0 * 10f64.powf(db / 20.0)
    }

    /// `ms` of the key at `row_db`/`col_db` per tone, plus uniform noise of peak
    /// amplitude `noise`, starting at sample `t0` (so phases differ between calls).
    fn tone(c: char, ms: u32, row_db: f64, col_db: f64, noise: f64, rng: &mut Noise) -> Vec<f64> {
        let (fr, fc) = Digit::from_char(c).unwrap().frequencies().unwrap();
        let n = (ms * 8) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / 8000.0;
                dbfs(row_db) * (2.0 * PI * f64::from(fr) * t).sin()
                    + dbfs(col_db) * (2.0 * PI * f64::from(fc) * t + 0.7).sin()
                    + noise * rng.next()
            })
            .collect()
    }

    fn silence(ms: u32, noise: f64, rng: &mut Noise) -> Vec<f64> {
        (0..ms * 8).map(|_| noise * rng.next()).collect()
    }

    fn pcm(x: &[f64]) -> Vec<i16> {
        x.iter()
            .map(|v| v.clamp(-32768.0, 32767.0) as i16)
            .collect()
    }

    fn detect(signal: &[i16]) -> String {
        let mut d = InbandDetector::default();
        // Feed in 20 ms frames as the gateway does.
        signal
            .chunks(160)
            .flat_map(|f| d.push(f))
            .map(|d| d.to_char())
            .collect()
    }

    fn sequence(keys: &str, on: u32, off: u32, noise: f64, lead_ms: u32) -> Vec<i16> {
        let mut rng = Noise(0x9E37_79B9_7F4A_7C15);
        let mut s = silence(lead_ms, noise, &mut rng);
        for c in keys.chars() {
            s.extend(tone(c, on, -10.0, -10.0, noise, &mut rng));
            s.extend(silence(off, noise, &mut rng));
        }
        pcm(&s)
    }

    #[test]
    fn every_key_clean() {
        let keys = "123A456B789C*0#D";
        assert_eq!(detect(&sequence(keys, 60, 60, 0.0, 0)), keys);
    }

    #[test]
    fn minimum_tone_and_gap_at_every_alignment() {
        // 40 ms tones separated by 40 ms gaps, shifted across a whole block.
        for lead in 0..13 {
            let s = sequence("1155", 40, 40, 0.0, lead);
            assert_eq!(detect(&s), "1155", "lead {lead} ms");
        }
    }

    #[test]
    fn short_tones_are_ignored_at_every_alignment() {
        for lead in 0..13 {
            assert_eq!(
                detect(&sequence("123", 20, 60, 0.0, lead)),
                "",
                "lead {lead}"
            );
        }
    }

    #[test]
    fn minimum_tone_and_gap_with_noise() {
        for lead in 0..13 {
            let s = sequence("#88", 40, 40, dbfs(-10.0) * 0.3, lead);
            assert_eq!(detect(&s), "#88", "lead {lead} ms");
        }
    }

    #[test]
    fn noisy_tones_and_low_levels() {
        // About 15 dB SNR against the tone pair.
        let s = sequence("9#0", 80, 80, dbfs(-10.0) * 0.3, 5);
        assert_eq!(detect(&s), "9#0");
        // −30 dBFS per tone is still a key press.
        let mut rng = Noise(7);
        let quiet = pcm(&tone('7', 80, -30.0, -30.0, 0.0, &mut rng));
        assert_eq!(detect(&quiet), "7");
        // −45 dBFS is line noise.
        let faint = pcm(&tone('7', 80, -45.0, -45.0, 0.0, &mut rng));
        assert_eq!(detect(&faint), "");
    }

    #[test]
    fn twist_limits() {
        let mut rng = Noise(3);
        let ok = pcm(&tone('5', 80, -8.0, -14.0, 0.0, &mut rng));
        assert_eq!(detect(&ok), "5", "6 dB normal twist");
        let ok = pcm(&tone('5', 80, -12.0, -8.0, 0.0, &mut rng));
        assert_eq!(detect(&ok), "5", "4 dB reverse twist");
        let bad = pcm(&tone('5', 80, -4.0, -16.0, 0.0, &mut rng));
        assert_eq!(detect(&bad), "", "12 dB twist");
    }

    #[test]
    fn a_held_key_with_a_dropout_is_one_press() {
        let mut rng = Noise(11);
        let mut s = tone('3', 200, -10.0, -10.0, 0.0, &mut rng);
        s.extend(silence(10, 0.0, &mut rng));
        s.extend(tone('3', 200, -10.0, -10.0, 0.0, &mut rng));
        assert_eq!(detect(&pcm(&s)), "3");
    }

    #[test]
    fn speech_like_signals_do_not_trigger() {
        let mut rng = Noise(5);
        // Sum of non-DTMF sines at speech levels.
        let sines: Vec<f64> = (0..16000)
            .map(|i| {
                let t = f64::from(i) / 8000.0;
                [300.0, 500.0, 1100.0, 1800.0, 2400.0]
                    .iter()
                    .map(|f| dbfs(-14.0) * (2.0 * PI * f * t).sin())
                    .sum()
            })
            .collect();
        assert_eq!(detect(&pcm(&sines)), "");
        // White noise.
        let noise = silence(2000, dbfs(-6.0), &mut rng);
        assert_eq!(detect(&pcm(&noise)), "");
        // Voiced speech: a 120 Hz glottal pulse train with a slowly moving pitch,
        // whose harmonics pass right by 697 and 1209 Hz.
        let mut phase = 0.0f64;
        let voiced: Vec<f64> = (0..24000)
            .map(|i| {
                let t = f64::from(i) / 8000.0;
                let f0 = 120.0 + 15.0 * (2.0 * PI * 0.7 * t).sin();
                phase += 2.0 * PI * f0 / 8000.0;
                (1..=30)
                    .map(|k| dbfs(-12.0) / f64::from(k).sqrt() * (f64::from(k) * phase).sin())
                    .sum::<f64>()
                    * 0.3
            })
            .collect();
        assert_eq!(detect(&pcm(&voiced)), "");
        // Two tones, each a DTMF frequency of the same group, are not a key.
        let same_group: Vec<f64> = (0..1600)
            .map(|i| {
                let t = f64::from(i) / 8000.0;
                dbfs(-10.0) * ((2.0 * PI * 697.0 * t).sin() + (2.0 * PI * 852.0 * t).sin())
            })
            .collect();
        assert_eq!(detect(&pcm(&same_group)), "");
    }

    #[test]
    fn through_g711_and_at_16_khz() {
        let s = sequence("42", 60, 60, 0.0, 1);
        let mut bytes = Vec::new();
        crate::codec::g711::encode_alaw(&s, &mut bytes);
        let mut decoded = Vec::new();
        crate::codec::g711::decode_alaw(&bytes, &mut decoded);
        assert_eq!(detect(&decoded), "42");
        // Naive upsampling to 16 kHz (sample repetition) for the 16 kHz path.
        let up: Vec<i16> = s.iter().flat_map(|&x| [x, x]).collect();
        let mut d = InbandDetector::new(InbandConfig {
            sample_rate: 16000,
            ..Default::default()
        });
        let got: String = up
            .chunks(320)
            .flat_map(|f| d.push(f))
            .map(|d| d.to_char())
            .collect();
        assert_eq!(got, "42");
    }
}
