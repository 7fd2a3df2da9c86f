//! WAV in memory, both ways: 16-bit mono PCM out (what transcription services are sent),
//! and the common PCM flavours in (what speech services send back), for the HTTP
//! engines.
//!
//! Written here rather than with `hound` because services stream their WAV: OpenAI's
//! `/v1/audio/speech` sends RIFF and data sizes of `0xFFFFFFFF` (it cannot know the length
//! when the header leaves), which a strict reader rejects. A data chunk whose size is
//! unknown or larger than what arrived is read to the end of the body instead.

use crate::audio::Pcm;

/// Why bytes are not a WAV this module can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    #[error("not a RIFF/WAVE file (starts with {0:?})")]
    NotWav(String),
    #[error("no `fmt ` chunk before the `data` chunk")]
    NoFormat,
    #[error("no `data` chunk")]
    NoData,
    #[error("malformed `fmt ` chunk: {0}")]
    BadFormat(String),
    #[error("unsupported WAV encoding: format tag {tag:#06x}, {bits} bits per sample")]
    Unsupported { tag: u16, bits: u16 },
}

/// A 16-bit PCM mono WAV (44-byte canonical header) of `samples` at `rate` Hz.
pub fn encode_pcm16_mono(rate: u32, samples: &[i16]) -> Vec<u8> {
    encode_pcm16(rate, &[samples])
}

/// A 16-bit PCM WAV (44-byte canonical header) of `channels` (interleaved, cut to the
/// shortest) at `rate` Hz.
pub fn encode_pcm16(rate: u32, channels: &[&[i16]]) -> Vec<u8> {
    let count = channels.len().max(1);
    // A RIFF size field is 32 bits: at most ~4 GB, ~37 hours of mono at 16 kHz. Longer
    // input is cut rather than written with a wrapped size.
    let max_frames = (u32::MAX as usize - 36) / 2 / count;
    let frames = channels
        .iter()
        .map(|c| c.len())
        .min()
        .unwrap_or(0)
        .min(max_frames);
    let data_len = (frames * count * 2) as u32;
    let block = (count * 2) as u16;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.saturating_mul(u32::from(block)).to_le_bytes()); // bytes per second
    out.extend_from_slice(&block.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        for c in channels {
            out.extend_from_slice(&c.get(i).copied().unwrap_or(0).to_le_bytes());
        }
    }
    out
}

const PCM: u16 = 1;
const FLOAT: u16 = 3;
const ALAW: u16 = 6;
const MULAW: u16 = 7;
const EXTENSIBLE: u16 = 0xFFFE;

#[derive(Debug, Clone, Copy)]
struct Format {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// Reads a WAV into mono 16-bit PCM at its own rate. Reads integer PCM of 8, 16, 24 and
/// 32 bits, 32-bit float, G.711 µ-law and A-law (also as WAVE_FORMAT_EXTENSIBLE); several
/// channels are averaged into one.
pub fn decode(bytes: &[u8]) -> Result<Pcm, WavError> {
    let (rate, channels) = decode_channels(bytes)?;
    Ok(Pcm::new(rate, crate::audio::mix(&channels)))
}

/// Reads a WAV (the encodings [`decode`] reads) into one 16-bit PCM signal per channel,
/// all of the same length, and the sample rate.
pub fn decode_channels(bytes: &[u8]) -> Result<(u32, Vec<Vec<i16>>), WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        let head: String = bytes
            .iter()
            .take(16)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        return Err(WavError::NotWav(head));
    }
    let mut format: Option<Format> = None;
    let mut pos = 12usize;
    while let Some(header) = bytes.get(pos..pos + 8) {
        let id = &header[0..4];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let start = pos + 8;
        let remaining = bytes.len() - start;
        if id == b"data" {
            let format = format.ok_or(WavError::NoFormat)?;
            // Streamed WAVs announce 0 or 0xFFFFFFFF; truncated ones more than arrived.
            let len = if size == 0 || size == u32::MAX {
                remaining
            } else {
                (size as usize).min(remaining)
            };
            return convert(format, &bytes[start..start + len]);
        }
        let Some(body) = bytes.get(start..start.saturating_add(size as usize)) else {
            break;
        };
        if id == b"fmt " {
            format = Some(parse_format(body)?);
        }
        // Chunks are padded to an even size.
        pos = start + size as usize + (size as usize & 1);
    }
    Err(WavError::NoData)
}

fn parse_format(body: &[u8]) -> Result<Format, WavError> {
    let u16_at = |i: usize| body.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |i: usize| {
        body.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(mut tag), Some(channels), Some(rate), Some(bits)) =
        (u16_at(0), u16_at(2), u32_at(4), u16_at(14))
    else {
        return Err(WavError::BadFormat(format!("{} bytes long", body.len())));
    };
    if tag == EXTENSIBLE {
        // cbSize, valid bits, channel mask, then the sub-format GUID, whose first two
        // bytes are the format tag.
        tag = u16_at(24).ok_or_else(|| {
            WavError::BadFormat("WAVE_FORMAT_EXTENSIBLE without a sub-format".into())
        })?;
    }
    if channels == 0 || rate == 0 {
        return Err(WavError::BadFormat(format!(
            "{channels} channels at {rate} Hz"
        )));
    }
    Ok(Format {
        tag,
        channels,
        rate,
        bits,
    })
}

fn convert(format: Format, data: &[u8]) -> Result<(u32, Vec<Vec<i16>>), WavError> {
    let sample: fn(&[u8]) -> i32 = match (format.tag, format.bits) {
        (PCM, 8) => |b| (i32::from(b[0]) - 128) << 8,
        (PCM, 16) => |b| i32::from(i16::from_le_bytes([b[0], b[1]])),
        (PCM, 24) => |b| i32::from(i16::from_le_bytes([b[1], b[2]])),
        (PCM, 32) => |b| i32::from(i16::from_le_bytes([b[2], b[3]])),
        (FLOAT, 32) => |b| {
            let f = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let f = if f.is_finite() { f } else { 0.0 };
            (f * 32768.0).round().clamp(-32768.0, 32767.0) as i32
        },
        (MULAW, 8) => |b| i32::from(mulaw_to_linear(b[0])),
        (ALAW, 8) => |b| i32::from(alaw_to_linear(b[0])),
        (tag, bits) => return Err(WavError::Unsupported { tag, bits }),
    };
    let width = usize::from(format.bits / 8);
    let count = usize::from(format.channels);
    let frame = width * count;
    let frames = data.len() / frame;
    let mut channels = vec![Vec::with_capacity(frames); count];
    for f in data.chunks_exact(frame) {
        for (channel, s) in channels.iter_mut().zip(f.chunks_exact(width)) {
            // Every sample function yields an i16 value widened to i32.
            channel.push(sample(s) as i16);
        }
    }
    Ok((format.rate, channels))
}

/// G.711 µ-law to 16-bit linear.
pub fn mulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// G.711 A-law to 16-bit linear.
pub fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i32::from(a & 0x0F);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if a & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8], data_size: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&u32::MAX.to_le_bytes());
        out.extend_from_slice(b"WAVE");
        // An unrelated odd-sized chunk first: padding must be skipped.
        out.extend_from_slice(b"LIST");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(b"abc\0");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        let align = channels * bits / 8;
        out.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        out.extend_from_slice(&align.to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_size.to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn round_trips_interleaved_channels() {
        let left: Vec<i16> = (0..500).map(|i| i * 3).collect();
        let right: Vec<i16> = (0..500).map(|i| -i).collect();
        let bytes = encode_pcm16(16_000, &[&left, &right[..400]]);
        let (rate, channels) = decode_channels(&bytes).unwrap();
        assert_eq!(rate, 16_000);
        assert_eq!(channels, [left[..400].to_vec(), right[..400].to_vec()]);
    }

    #[test]
    fn round_trips_pcm16() {
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 - 18000) as i16).collect();
        let bytes = encode_pcm16_mono(8000, &samples);
        assert_eq!(bytes.len(), 44 + 2000);
        let r = hound::WavReader::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(r.spec().sample_rate, 8000);
        assert_eq!(r.spec().channels, 1);
        assert_eq!(r.spec().bits_per_sample, 16);
        assert_eq!(decode(&bytes).unwrap(), Pcm::new(8000, samples));
    }

    #[test]
    fn reads_streamed_stereo_and_companded() {
        // Stereo 16-bit, data size unknown (0xFFFFFFFF), a trailing half frame.
        let mut data = Vec::new();
        for (l, r) in [(100i16, 300i16), (-100, -300), (32767, 32767)] {
            data.extend_from_slice(&l.to_le_bytes());
            data.extend_from_slice(&r.to_le_bytes());
        }
        data.extend_from_slice(&[1, 2]);
        let pcm = decode(&wav(PCM, 2, 24_000, 16, &data, u32::MAX)).unwrap();
        assert_eq!(pcm, Pcm::new(24_000, vec![200, -200, 32767]));

        let pcm = decode(&wav(MULAW, 1, 8000, 8, &[0xFF, 0x00, 0x80], 3)).unwrap();
        assert_eq!(pcm.samples, vec![0, -32124, 32124]);
        let pcm = decode(&wav(ALAW, 1, 8000, 8, &[0xD5, 0x55, 0xAA, 0x2A], 4)).unwrap();
        assert_eq!(pcm.samples, vec![8, -8, 32256, -32256]);
        let pcm = decode(&wav(PCM, 1, 8000, 8, &[128, 0, 255], 3)).unwrap();
        assert_eq!(pcm.samples, vec![0, -32768, 32512]);
        let f: Vec<u8> = [0.5f32, -1.0, f32::NAN]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let pcm = decode(&wav(FLOAT, 1, 16_000, 32, &f, 12)).unwrap();
        assert_eq!(pcm.samples, vec![16384, -32768, 0]);
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(matches!(decode(b"{\"error\":1}"), Err(WavError::NotWav(_))));
        assert!(matches!(decode(b""), Err(WavError::NotWav(_))));
        assert!(matches!(decode(b"RIFF\0\0\0\0WAVE"), Err(WavError::NoData)));
        assert_eq!(
            decode(&wav(0x55, 1, 8000, 0, &[1, 2, 3], 3)),
            Err(WavError::Unsupported { tag: 0x55, bits: 0 })
        );
        assert!(matches!(
            decode(&wav(PCM, 0, 8000, 16, &[], 0)),
            Err(WavError::BadFormat(_))
        ));
        // A data chunk before any fmt chunk.
        let mut bytes = b"RIFF\0\0\0\0WAVEdata\x02\0\0\0\x01\x02".to_vec();
        assert_eq!(decode(&bytes), Err(WavError::NoFormat));
        bytes.truncate(14);
        assert!(decode(&bytes).is_err());
    }
}
