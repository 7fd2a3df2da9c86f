//! The audio codecs of the telephone network: G.711 µ-law/A-law and G.722.
//!
//! Why these: every PBX and SIP trunk speaks G.711 (PCMU in North America and Japan,
//! PCMA elsewhere), and G.722 is the wideband codec most desk phones and Asterisk/3CX
//! offer; 16 kHz audio noticeably improves speech recognition, so the answerer takes it
//! when the caller lists it first.
//!
//! [`Codec`] names a codec and answers the questions negotiation and pacing ask (static
//! payload type, RTP clock rate, PCM sample rate, samples per frame). Encoding and
//! decoding go through [`Encoder`] and [`Decoder`] values obtained from
//! [`Codec::encoder`] / [`Codec::decoder`], not through `Codec` itself: G.722 is ADPCM
//! and carries predictor state from one frame to the next, so a call keeps one encoder
//! and one decoder for its lifetime (and replaces them when a re-INVITE changes the
//! codec). G.711 is stateless; its free functions live in [`g711`].
//!
//! G.722 comes from the pure-Rust `audio-codec` crate (built without its Opus and G.729
//! features), a port of the ITU-T reference algorithm. Its RTP clock rate is 8000 even
//! though it samples at 16 kHz (RFC 3551 §4.5.2, an historical error kept for
//! compatibility), which is why [`Codec::clock_rate`] and [`Codec::sample_rate`] differ.

pub mod g711;

use audio_codec::{Decoder as _, Encoder as _};

/// An audio codec voxgate can send and receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// G.722 at 64 kbit/s, static payload type 9.
    G722,
}

impl Codec {
    /// Every codec, in voxgate's default order of preference for its own offers.
    pub const ALL: [Codec; 3] = [Codec::G722, Codec::Pcmu, Codec::Pcma];

    /// The RTP/AVP static payload type (RFC 3551 table 4).
    pub const fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::G722 => 9,
        }
    }

    /// The codec a static payload type stands for, if it is one of ours.
    pub const fn from_static_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            9 => Some(Codec::G722),
            _ => None,
        }
    }

    /// The encoding name used in `a=rtpmap` (RFC 3551, IANA registry).
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
        }
    }

    /// The codec an `a=rtpmap` encoding names, matched case-insensitively as RFC 4855
    /// requires, with its clock rate and channel count checked.
    pub fn from_rtpmap(name: &str, clock_rate: u32, channels: Option<u32>) -> Option<Codec> {
        let codec = Codec::ALL
            .into_iter()
            .find(|c| c.encoding_name().eq_ignore_ascii_case(name))?;
        let mono = matches!(channels, None | Some(1));
        (clock_rate == codec.clock_rate() && mono).then_some(codec)
    }

    /// The RTP timestamp rate in Hz.
    pub const fn clock_rate(self) -> u32 {
        8000
    }

    /// The PCM sample rate in Hz that the encoder takes and the decoder yields.
    pub const fn sample_rate(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma => 8000,
            Codec::G722 => 16000,
        }
    }

    /// PCM samples in one frame of `ptime_ms` milliseconds.
    pub const fn samples_per_frame(self, ptime_ms: u32) -> usize {
        (self.sample_rate() / 1000).saturating_mul(ptime_ms) as usize
    }

    /// RTP timestamp units in one frame of `ptime_ms` milliseconds.
    pub const fn timestamp_increment(self, ptime_ms: u32) -> u32 {
        (self.clock_rate() / 1000).saturating_mul(ptime_ms)
    }

    /// RTP timestamp units covered by a payload of `len` bytes. All three codecs put
    /// one byte on the wire per 8 kHz timestamp tick.
    pub const fn payload_duration(self, len: usize) -> u32 {
        len as u32
    }

    /// Encodes a complete signal in one go (e.g. a prompt for the prompt cache) and
    /// appends it to `out`. For a stream cut into frames use [`Codec::encoder`]: G.722
    /// must carry its state from frame to frame.
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        self.encoder().encode(pcm, out);
    }

    /// Decodes a complete payload sequence in one go and appends the PCM to `out`.
    /// For a stream of packets use [`Codec::decoder`].
    pub fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        self.decoder().decode(payload, out);
    }

    /// A fresh encoder.
    pub fn encoder(self) -> Encoder {
        Encoder {
            codec: self,
            g722: match self {
                Codec::G722 => Some(Box::new(audio_codec::g722::G722Encoder::new())),
                Codec::Pcmu | Codec::Pcma => None,
            },
        }
    }

    /// A fresh decoder.
    pub fn decoder(self) -> Decoder {
        Decoder {
            codec: self,
            g722: match self {
                Codec::G722 => Some(Box::new(audio_codec::g722::G722Decoder::new())),
                Codec::Pcmu | Codec::Pcma => None,
            },
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.encoding_name())
    }
}

/// Turns PCM into payload bytes for one codec, keeping the codec's state between frames.
pub struct Encoder {
    codec: Codec,
    g722: Option<Box<audio_codec::g722::G722Encoder>>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl Encoder {
    /// The codec this encoder produces.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Appends the encoding of `pcm` (at [`Codec::sample_rate`]) to `out`.
    ///
    /// G.722 consumes samples in pairs; give it whole frames (an even count), or the
    /// odd last sample is padded with zero.
    pub fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        match (self.codec, self.g722.as_deref_mut()) {
            (Codec::Pcmu, _) => g711::encode_ulaw(pcm, out),
            (Codec::Pcma, _) => g711::encode_alaw(pcm, out),
            (Codec::G722, Some(enc)) => {
                let start = out.len();
                out.resize(start + enc.max_encode_bytes(pcm.len()), 0);
                let written = out
                    .get_mut(start..)
                    .and_then(|tail| enc.encode_into(pcm, tail).ok())
                    .unwrap_or(0);
                out.truncate(start + written);
            }
            (Codec::G722, None) => {}
        }
    }
}

/// Turns payload bytes into PCM for one codec, keeping the codec's state between frames.
pub struct Decoder {
    codec: Codec,
    g722: Option<Box<audio_codec::g722::G722Decoder>>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl Decoder {
    /// The codec this decoder reads.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Appends the PCM (at [`Codec::sample_rate`]) of `payload` to `out`. Any byte
    /// string is a valid payload for these codecs, so this cannot fail.
    pub fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) {
        match (self.codec, self.g722.as_deref_mut()) {
            (Codec::Pcmu, _) => g711::decode_ulaw(payload, out),
            (Codec::Pcma, _) => g711::decode_alaw(payload, out),
            (Codec::G722, Some(dec)) => {
                let start = out.len();
                out.resize(start + dec.max_decode_samples(payload.len()), 0);
                let written = out
                    .get_mut(start..)
                    .and_then(|tail| dec.decode_into(payload, tail).ok())
                    .unwrap_or(0);
                out.truncate(start + written);
            }
            (Codec::G722, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize, amp: f64) -> Vec<i16> {
        (0..n)
            .map(|i| {
                (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    fn power_at(pcm: &[i16], freq: f64, rate: u32) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in pcm.iter().enumerate() {
            re += f64::from(s) * (w * i as f64).cos();
            im += f64::from(s) * (w * i as f64).sin();
        }
        (re * re + im * im) / (pcm.len() as f64).powi(2)
    }

    #[test]
    fn metadata() {
        assert_eq!(Codec::Pcmu.samples_per_frame(20), 160);
        assert_eq!(Codec::G722.samples_per_frame(20), 320);
        assert_eq!(Codec::G722.timestamp_increment(20), 160);
        assert_eq!(Codec::Pcma.timestamp_increment(30), 240);
        for c in Codec::ALL {
            assert_eq!(
                Codec::from_static_payload_type(c.static_payload_type()),
                Some(c)
            );
            assert_eq!(
                Codec::from_rtpmap(&c.encoding_name().to_lowercase(), 8000, None),
                Some(c)
            );
        }
        assert_eq!(Codec::from_rtpmap("PCMU", 16000, None), None);
        assert_eq!(Codec::from_rtpmap("PCMU", 8000, Some(2)), None);
        assert_eq!(Codec::from_rtpmap("opus", 48000, Some(2)), None);
        assert_eq!(Codec::from_static_payload_type(18), None);
        assert_eq!(Codec::Pcmu.samples_per_frame(u32::MAX), u32::MAX as usize);
    }

    #[test]
    fn one_shot_matches_streaming_for_whole_signals() {
        let pcm = sine(700.0, 16000, 640, 5000.0);
        for codec in Codec::ALL {
            let mut once = Vec::new();
            codec.encode(&pcm, &mut once);
            let mut enc = codec.encoder();
            let mut framed = Vec::new();
            for f in pcm.chunks_exact(codec.samples_per_frame(20)) {
                enc.encode(f, &mut framed);
            }
            assert_eq!(once, framed, "{codec}");
            let mut a = Vec::new();
            codec.decode(&once, &mut a);
            let mut dec = codec.decoder();
            let mut b = Vec::new();
            for p in once.chunks(160) {
                dec.decode(p, &mut b);
            }
            assert_eq!(a, b, "{codec}");
        }
    }

    #[test]
    fn g711_frames_round_trip() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let pcm = sine(440.0, 8000, 160, 8000.0);
            let mut enc = codec.encoder();
            let mut bytes = Vec::new();
            enc.encode(&pcm, &mut bytes);
            assert_eq!(bytes.len(), 160);
            let mut back = Vec::new();
            codec.decoder().decode(&bytes, &mut back);
            assert_eq!(back.len(), 160);
            for (a, b) in pcm.iter().zip(&back) {
                assert!((i32::from(*a) - i32::from(*b)).abs() <= 256);
            }
        }
    }

    #[test]
    fn g722_keeps_a_tone() {
        let mut enc = Codec::G722.encoder();
        let mut dec = Codec::G722.decoder();
        let pcm = sine(1000.0, 16000, 320 * 10, 10000.0);
        let mut out = Vec::new();
        for frame in pcm.chunks_exact(320) {
            let mut bytes = Vec::new();
            enc.encode(frame, &mut bytes);
            assert_eq!(bytes.len(), 160, "64 kbit/s: one byte per 8 kHz tick");
            dec.decode(&bytes, &mut out);
        }
        assert_eq!(out.len(), pcm.len());
        // After the codec has adapted, the tone dominates and keeps its level.
        let tail = out.get(1600..).unwrap();
        let tone = power_at(tail, 1000.0, 16000);
        let other = power_at(tail, 3000.0, 16000) + power_at(tail, 300.0, 16000);
        assert!(tone > 100.0 * other, "tone {tone} other {other}");
        let expected = (10000.0f64 / 2.0).powi(2);
        assert!(
            tone > expected * 0.5 && tone < expected * 2.0,
            "{tone} vs {expected}"
        );
    }

    #[test]
    fn g722_survives_extreme_and_random_input() {
        let mut enc = Codec::G722.encoder();
        let mut dec = Codec::G722.decoder();
        let mut x: u32 = 0x1234_5678;
        let mut bytes = Vec::new();
        let mut pcm = Vec::new();
        for round in 0..200 {
            let frame: Vec<i16> = (0..321)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    match round % 3 {
                        0 => x as i16,
                        1 if i % 2 == 0 => i16::MAX,
                        _ => i16::MIN,
                    }
                })
                .collect();
            bytes.clear();
            enc.encode(&frame, &mut bytes);
            dec.decode(&bytes, &mut pcm);
            let noise: Vec<u8> = (0..(round * 7 % 200))
                .map(|i| (x >> (i % 24)) as u8)
                .collect();
            dec.decode(&noise, &mut pcm);
        }
    }
}
