//! Recordings in: WAV (PCM, µ-law, A-law, float) and MP3, told apart by their bytes,
//! decoded to one 16-bit signal per channel.
//!
//! The declared content type is only a hint: PBXs and storage buckets label files
//! loosely (`application/octet-stream`, `audio/x-wav`), so the bytes decide. What is
//! neither WAV nor MP3 is [`DecodeError::Unsupported`] (the API's 415); a WAV or MP3 that
//! does not decode is [`DecodeError::Malformed`].

use voxgate_speech::audio::Pcm;
use voxgate_speech::wav::{self, WavError};

/// A container this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Wav,
    Mp3,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported recording format: {0}; send WAV (PCM, µ-law or A-law) or MP3")]
    Unsupported(String),
    #[error("the {format} recording does not decode: {reason}")]
    Malformed {
        format: &'static str,
        reason: String,
    },
    #[error("the recording holds no audio")]
    Empty,
}

/// Decoded audio: one signal per channel, all at `rate` and of the same length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Audio {
    pub rate: u32,
    pub channels: Vec<Vec<i16>>,
}

impl Audio {
    pub fn duration_ms(&self) -> u64 {
        let len = self.channels.first().map_or(0, Vec::len) as u64;
        if self.rate == 0 {
            0
        } else {
            len * 1000 / u64::from(self.rate)
        }
    }

    /// One channel as [`Pcm`] (`None` past the last).
    pub fn channel(&self, index: usize) -> Option<Pcm> {
        self.channels
            .get(index)
            .map(|c| Pcm::new(self.rate, c.clone()))
    }

    /// All channels averaged into one.
    pub fn mono(&self) -> Pcm {
        Pcm::new(self.rate, voxgate_speech::audio::mix(&self.channels))
    }

    /// A recording of people taking turns, each on their own channel of `channels`:
    /// every turn `(channel, samples)` in order, the other channels silent meanwhile,
    /// with `gap` samples of silence before the first turn and after each. How test
    /// recordings and the benchmark's call are made.
    pub fn from_turns(
        rate: u32,
        channels: usize,
        gap: usize,
        turns: impl IntoIterator<Item = (usize, Vec<i16>)>,
    ) -> Audio {
        let mut out = vec![vec![0i16; gap]; channels];
        for (speaker, samples) in turns {
            let len = samples.len();
            for (i, c) in out.iter_mut().enumerate() {
                if i == speaker {
                    c.extend_from_slice(&samples);
                } else {
                    c.resize(c.len() + len, 0);
                }
                c.resize(c.len() + gap, 0);
            }
        }
        Audio {
            rate,
            channels: out,
        }
    }

    /// The audio as a 16-bit PCM WAV.
    pub fn to_wav(&self) -> Vec<u8> {
        let channels: Vec<&[i16]> = self.channels.iter().map(Vec::as_slice).collect();
        voxgate_speech::wav::encode_pcm16(self.rate, &channels)
    }
}

/// Which container `bytes` are, by their first bytes. `content_type` only names what was
/// declared in the error when the bytes are neither.
pub fn sniff(bytes: &[u8], content_type: Option<&str>) -> Result<Format, DecodeError> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        return Ok(Format::Wav);
    }
    // An ID3v2 tag, or an MPEG audio frame sync (11 set bits) of layer III.
    if bytes.starts_with(b"ID3") || is_mp3_frame(bytes) {
        return Ok(Format::Mp3);
    }
    let what = match bytes {
        [] => "an empty file".to_string(),
        b if b.starts_with(b"OggS") => "Ogg".to_string(),
        b if b.starts_with(b"fLaC") => "FLAC".to_string(),
        b if b.get(4..8) == Some(b"ftyp") => "MP4/M4A".to_string(),
        [0x1A, 0x45, 0xDF, 0xA3, ..] => "WebM/Matroska".to_string(),
        b if b.starts_with(b"FORM") => "AIFF".to_string(),
        b if b.starts_with(b"<") || b.starts_with(b"{") => "text, not audio".to_string(),
        _ => "unknown bytes".to_string(),
    };
    Err(DecodeError::Unsupported(match content_type {
        Some(t) if !t.is_empty() => format!("{what} (declared as `{t}`)"),
        _ => what,
    }))
}

fn is_mp3_frame(bytes: &[u8]) -> bool {
    match bytes {
        // Sync, any MPEG version but the reserved one, layer III (01).
        [0xFF, b, ..] => b & 0xE0 == 0xE0 && b & 0x18 != 0x08 && b & 0x06 == 0x02,
        _ => false,
    }
}

/// Decodes a whole recording.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Result<Audio, DecodeError> {
    let audio = match sniff(bytes, content_type)? {
        Format::Wav => {
            let (rate, channels) = wav::decode_channels(bytes).map_err(|e| match e {
                WavError::Unsupported { .. } => DecodeError::Unsupported(format!("WAV with {e}")),
                e => DecodeError::Malformed {
                    format: "WAV",
                    reason: e.to_string(),
                },
            })?;
            Audio { rate, channels }
        }
        Format::Mp3 => decode_mp3(bytes)?,
    };
    if audio.rate == 0 || audio.channels.first().is_none_or(Vec::is_empty) {
        return Err(DecodeError::Empty);
    }
    Ok(audio)
}

fn decode_mp3(bytes: &[u8]) -> Result<Audio, DecodeError> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::{Decoder, DecoderOptions};
    use symphonia::core::errors::Error;
    use symphonia::core::formats::{FormatOptions, FormatReader};
    use symphonia::core::io::MediaSourceStream;

    let malformed = |reason: String| DecodeError::Malformed {
        format: "MP3",
        reason,
    };
    let source = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        Default::default(),
    );
    let mut reader =
        symphonia::default::formats::MpaReader::try_new(source, &FormatOptions::default())
            .map_err(|e| malformed(e.to_string()))?;
    let track = reader
        .default_track()
        .ok_or_else(|| malformed("no audio track".into()))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::codecs::MpaDecoder::try_new(
        &track.codec_params,
        &DecoderOptions::default(),
    )
    .map_err(|e| malformed(e.to_string()))?;
    let mut rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<i16>> = Vec::new();
    let mut buffer: Option<SampleBuffer<i16>> = None;
    let mut frames_ok = 0usize;
    loop {
        let packet = match reader.next_packet() {
            Ok(p) => p,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(Error::ResetRequired) => break,
            Err(e) => return Err(malformed(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged frame is skipped, as players do; a file of nothing but damage
            // fails below for want of audio.
            Err(Error::DecodeError(_)) => continue,
            Err(e) => return Err(malformed(e.to_string())),
        };
        let spec = *decoded.spec();
        let count = spec.channels.count();
        if channels.is_empty() {
            channels = vec![Vec::new(); count];
            rate = spec.rate;
        } else if count != channels.len() || spec.rate != rate {
            return Err(malformed(
                "the channel count or sample rate changes mid-file".into(),
            ));
        }
        let capacity = decoded.capacity() as u64;
        let buf = match &mut buffer {
            Some(b) if b.capacity() as u64 >= capacity * count as u64 => b,
            _ => buffer.insert(SampleBuffer::new(capacity, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        for frame in buf.samples().chunks_exact(count) {
            for (c, &s) in channels.iter_mut().zip(frame) {
                c.push(s);
            }
        }
        frames_ok += 1;
    }
    if frames_ok == 0 {
        return Err(malformed("no MP3 frame decodes".into()));
    }
    Ok(Audio { rate, channels })
}
