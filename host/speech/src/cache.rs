//! The prompt cache: each prompt is synthesized once, resampled to the rate the call
//! needs, and kept in memory (bounded, least recently used evicted first) and optionally
//! on disk (one WAV file per prompt, written atomically).
//!
//! Keys are the SHA-256 of (synthesizer name, voice language, voice name, text, output
//! rate). Disk files are ordinary 16-bit mono WAVs that carry an extra `vxgt` chunk with
//! the key and the SHA-256 of the samples, so a truncated or damaged file is noticed and
//! the prompt synthesized again.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::SpeechError;
use crate::audio::Pcm;
use crate::synth::{Synthesizer, Voice};

/// A cache key: SHA-256 of what determines the audio.
pub type CacheKey = [u8; 32];

/// The key for a prompt. Fields are length-prefixed, so no two inputs collide by
/// concatenation.
pub fn cache_key(synthesizer: &str, voice: &Voice, text: &str, rate: u32) -> CacheKey {
    let mut h = Sha256::new();
    h.update(b"voxgate-prompt-v1");
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(synthesizer.as_bytes());
    field(voice.language.as_bytes());
    match &voice.name {
        Some(n) => {
            field(b"1");
            field(n.as_bytes());
        }
        None => field(b"0"),
    }
    field(text.as_bytes());
    field(&rate.to_le_bytes());
    h.finalize().into()
}

#[derive(Debug)]
struct Entry {
    pcm: Arc<Pcm>,
    tick: u64,
}

#[derive(Debug, Default)]
struct Memory {
    entries: HashMap<CacheKey, Entry>,
    /// Last use → key; the first is the least recently used.
    order: BTreeMap<u64, CacheKey>,
    bytes: usize,
    tick: u64,
}

impl Memory {
    fn get(&mut self, key: &CacheKey) -> Option<Arc<Pcm>> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.entries.get_mut(key)?;
        self.order.remove(&e.tick);
        e.tick = tick;
        self.order.insert(tick, *key);
        Some(Arc::clone(&e.pcm))
    }

    fn insert(&mut self, key: CacheKey, pcm: Arc<Pcm>, max_bytes: usize) {
        let size = pcm_bytes(&pcm);
        if size > max_bytes {
            return;
        }
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.tick);
            self.bytes -= pcm_bytes(&old.pcm);
        }
        while self.bytes + size > max_bytes {
            let Some((_, victim)) = self.order.pop_first() else {
                break;
            };
            if let Some(old) = self.entries.remove(&victim) {
                self.bytes -= pcm_bytes(&old.pcm);
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, key);
        self.entries.insert(
            key,
            Entry {
                pcm,
                tick: self.tick,
            },
        );
        self.bytes += size;
    }
}

fn pcm_bytes(pcm: &Pcm) -> usize {
    pcm.samples.len() * 2
}

/// Synthesized prompts, in memory and optionally on disk. Shared between calls
/// (`&self` everywhere, internally locked; synthesis runs outside the lock).
#[derive(Debug)]
pub struct PromptCache {
    dir: Option<PathBuf>,
    max_memory_bytes: usize,
    memory: Mutex<Memory>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl PromptCache {
    /// A cache keeping at most `max_memory_bytes` of samples in memory, and every prompt
    /// in `dir` if given (created if missing).
    pub fn new(dir: Option<PathBuf>, max_memory_bytes: usize) -> Result<PromptCache, SpeechError> {
        if let Some(d) = &dir {
            fs::create_dir_all(d)
                .map_err(|e| SpeechError::Cache(format!("creating {}: {e}", d.display())))?;
        }
        Ok(PromptCache {
            dir,
            max_memory_bytes,
            memory: Mutex::new(Memory::default()),
        })
    }

    /// The prompt at `rate` Hz: from memory, else from disk, else synthesized (and
    /// resampled) and stored in both.
    pub fn get_or_synthesize(
        &self,
        synth: &dyn Synthesizer,
        text: &str,
        voice: &Voice,
        rate: u32,
    ) -> Result<Arc<Pcm>, SpeechError> {
        let key = cache_key(synth.name(), voice, text, rate);
        if let Some(pcm) = self.memory().get(&key) {
            return Ok(pcm);
        }
        if let Some(path) = self.path(&key) {
            match read_wav(&path, &key, rate) {
                Ok(Some(pcm)) => {
                    let pcm = Arc::new(pcm);
                    self.memory()
                        .insert(key, Arc::clone(&pcm), self.max_memory_bytes);
                    return Ok(pcm);
                }
                Ok(None) => {}
                Err(why) => {
                    tracing::warn!(path = %path.display(), %why, "prompt cache entry is corrupt; synthesizing again");
                }
            }
        }
        let pcm = synth.synthesize(text, voice)?.resampled(rate)?;
        let pcm = Arc::new(pcm);
        if let Some(path) = self.path(&key)
            && let Err(e) = write_atomically(&path, &encode_wav(&pcm, &key))
        {
            // The prompt is still usable; only persistence failed.
            tracing::warn!(path = %path.display(), error = %e, "could not store prompt on disk");
        }
        self.memory()
            .insert(key, Arc::clone(&pcm), self.max_memory_bytes);
        Ok(pcm)
    }

    /// Bytes of samples held in memory.
    pub fn memory_bytes(&self) -> usize {
        self.memory().bytes
    }

    /// Prompts held in memory.
    pub fn memory_entries(&self) -> usize {
        self.memory().entries.len()
    }

    /// Where a prompt is (or would be) stored on disk.
    pub fn path_for(
        &self,
        synthesizer: &str,
        voice: &Voice,
        text: &str,
        rate: u32,
    ) -> Option<PathBuf> {
        self.path(&cache_key(synthesizer, voice, text, rate))
    }

    /// Drops everything held in memory (disk entries stay).
    pub fn clear_memory(&self) {
        *self.memory() = Memory::default();
    }

    fn path(&self, key: &CacheKey) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{}.wav", hex::encode(key))))
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        // The memory map is consistent after every statement that can panic, so a
        // poisoned lock is still usable.
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Writes via a temporary file in the same directory and a rename, so readers see the
/// old file or the whole new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

const TAG_CHUNK: &[u8; 4] = b"vxgt";
const TAG_LEN: u32 = 64;

/// RIFF/WAVE, PCM 16-bit mono, with a `vxgt` chunk (key, SHA-256 of the data) before the
/// data chunk.
fn encode_wav(pcm: &Pcm, key: &CacheKey) -> Vec<u8> {
    let data: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let data_len = data.len() as u32;
    let mut out = Vec::with_capacity(data.len() + 44 + 8 + TAG_LEN as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + (8 + 16) + (8 + TAG_LEN) + (8 + data_len)).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&pcm.rate.to_le_bytes());
    out.extend_from_slice(&(pcm.rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(TAG_CHUNK);
    out.extend_from_slice(&TAG_LEN.to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&Sha256::digest(&data));
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// Reads a cached prompt: `Ok(None)` if there is no file, `Err` if it is unusable.
fn read_wav(path: &Path, key: &CacheKey, rate: u32) -> Result<Option<Pcm>, String> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    decode_wav(&bytes, key, rate).map(Some)
}

fn decode_wav(bytes: &[u8], key: &CacheKey, rate: u32) -> Result<Pcm, String> {
    let u32_at = |b: &[u8], at: usize| -> Result<u32, String> {
        b.get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| "truncated".to_string())
    };
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err("not a RIFF/WAVE file".into());
    }
    if u32_at(bytes, 4)? as usize != bytes.len() - 8 {
        return Err("RIFF length does not match the file".into());
    }
    let mut pos = 12;
    let mut format_ok = false;
    let mut tag: Option<&[u8]> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32_at(bytes, pos + 4)? as usize;
        let body = bytes
            .get(pos + 8..pos + 8 + len)
            .ok_or_else(|| format!("chunk {} truncated", String::from_utf8_lossy(id)))?;
        match id {
            b"fmt " => {
                let fmt = body.get(0..16).ok_or("fmt chunk too short")?;
                let format = u16::from_le_bytes([fmt[0], fmt[1]]);
                let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
                let file_rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
                let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
                if format != 1 || channels != 1 || bits != 16 || file_rate != rate {
                    return Err("unexpected format".into());
                }
                format_ok = true;
            }
            id if id == TAG_CHUNK => tag = Some(body),
            b"data" => {
                if !format_ok {
                    return Err("data before fmt".into());
                }
                let tag = tag.ok_or("no vxgt chunk")?;
                if tag.len() != TAG_LEN as usize || &tag[..32] != key {
                    return Err("key does not match".into());
                }
                if Sha256::digest(body).as_slice() != &tag[32..] {
                    return Err("sample checksum does not match".into());
                }
                if body.len() % 2 != 0 {
                    return Err("odd data length".into());
                }
                let samples = body
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect();
                return Ok(Pcm::new(rate, samples));
            }
            _ => {}
        }
        pos += 8 + len + (len & 1);
    }
    Err("no data chunk".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_and_damage() {
        let key = cache_key("x", &Voice::language("en"), "hi", 8000);
        let pcm = Pcm::new(8000, (0..800).map(|i| (i * 37 % 2000) as i16).collect());
        let wav = encode_wav(&pcm, &key);
        assert_eq!(decode_wav(&wav, &key, 8000), Ok(pcm));
        assert!(decode_wav(&wav, &key, 16000).is_err());
        assert!(decode_wav(&wav[..wav.len() - 1], &key, 8000).is_err());
        let mut flipped = wav.clone();
        let last = flipped.len() - 10;
        flipped[last] ^= 0x40;
        assert!(decode_wav(&flipped, &key, 8000).is_err());
        let other = cache_key("x", &Voice::language("en"), "ho", 8000);
        assert!(decode_wav(&wav, &other, 8000).is_err());
    }

    #[test]
    fn keys_differ_per_field() {
        let v = Voice::language("en");
        let k = cache_key("a", &v, "t", 8000);
        assert_ne!(k, cache_key("b", &v, "t", 8000));
        assert_ne!(k, cache_key("a", &Voice::language("de"), "t", 8000));
        assert_ne!(k, cache_key("a", &v, "u", 8000));
        assert_ne!(k, cache_key("a", &v, "t", 16000));
        let named = Voice {
            language: "en".into(),
            name: Some("kal".into()),
        };
        assert_ne!(k, cache_key("a", &named, "t", 8000));
    }
}
