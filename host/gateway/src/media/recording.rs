//! Call recordings at rest: a WAV file sealed with AES-256-GCM under the tenant's key.
//!
//! The recording is built in memory during the call and sealed before anything touches
//! the disk, so no plaintext copy is ever written. The file is
//! `MAGIC (8 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)`; the associated data
//! is `tenant/call-id`, so a file renamed or copied into another call's place does not
//! open there. Nonces are random: 96 bits is ample for one key's recordings.

use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// Marks a sealed recording (and its format version).
const MAGIC: &[u8; 8] = b"VXREC\x001\x00";

/// Why a recording could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("the operating system gave no random nonce: {0}")]
    Random(String),
    #[error("the recording could not be encrypted")]
    Seal,
    #[error("not a voxgate recording (no VXREC header)")]
    NotARecording,
    #[error(
        "the recording does not open with this tenant's key (wrong key, wrong call, or damaged)"
    )]
    Open,
    #[error("cannot encode the recording as WAV: {0}")]
    Wav(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// 16-bit mono PCM as WAV bytes.
pub fn wav_bytes(rate: u32, samples: &[i16]) -> Result<Vec<u8>, RecordingError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut w =
        hound::WavWriter::new(&mut out, spec).map_err(|e| RecordingError::Wav(e.to_string()))?;
    for &s in samples {
        w.write_sample(s)
            .map_err(|e| RecordingError::Wav(e.to_string()))?;
    }
    w.finalize()
        .map_err(|e| RecordingError::Wav(e.to_string()))?;
    Ok(out.into_inner())
}

fn key(raw: &[u8; 32]) -> Result<LessSafeKey, RecordingError> {
    UnboundKey::new(&AES_256_GCM, raw)
        .map(LessSafeKey::new)
        .map_err(|_| RecordingError::Seal)
}

/// Seals `plain` under `raw_key`, bound to `aad`.
pub fn seal(raw_key: &[u8; 32], aad: &str, plain: &[u8]) -> Result<Vec<u8>, RecordingError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| RecordingError::Random(e.to_string()))?;
    let mut body = plain.to_vec();
    key(raw_key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            &mut body,
        )
        .map_err(|_| RecordingError::Seal)?;
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens a sealed recording: the WAV bytes.
pub fn open(raw_key: &[u8; 32], aad: &str, sealed: &[u8]) -> Result<Vec<u8>, RecordingError> {
    let rest = sealed
        .strip_prefix(MAGIC.as_slice())
        .ok_or(RecordingError::NotARecording)?;
    if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(RecordingError::Open);
    }
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| RecordingError::Open)?;
    let mut body = body.to_vec();
    let plain = key(raw_key)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            &mut body,
        )
        .map_err(|_| RecordingError::Open)?;
    Ok(plain.to_vec())
}

/// Seals a call's audio and writes it to `path` (via a temporary file and a rename, so
/// a crash leaves either no file or a whole one).
pub fn write_sealed(
    path: &Path,
    raw_key: &[u8; 32],
    aad: &str,
    rate: u32,
    samples: &[i16],
) -> Result<(), RecordingError> {
    let io = |source| RecordingError::Io {
        path: path.display().to_string(),
        source,
    };
    let sealed = seal(raw_key, aad, &wav_bytes(rate, samples)?)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, sealed).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sealed_audio_opens_only_with_its_key_and_call() {
        let pcm: Vec<i16> = (0..8000).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
        let wav = wav_bytes(8000, &pcm).unwrap();
        let sealed = seal(&[9; 32], "t/c1", &wav).unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"RIFF"));
        assert_eq!(open(&[9; 32], "t/c1", &sealed).unwrap(), wav);
        assert!(matches!(
            open(&[8; 32], "t/c1", &sealed),
            Err(RecordingError::Open)
        ));
        assert!(matches!(
            open(&[9; 32], "t/c2", &sealed),
            Err(RecordingError::Open)
        ));
        assert!(matches!(
            open(&[9; 32], "t/c1", &wav),
            Err(RecordingError::NotARecording)
        ));
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(matches!(
            open(&[9; 32], "t/c1", &damaged),
            Err(RecordingError::Open)
        ));
    }
}
