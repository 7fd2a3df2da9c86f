//! Flite synthesis: the clearer English voice, from Debian's `flite1-dev`.
//!
//! Flite's voices are shared mutable objects (synthesis reads and writes their feature
//! lists and lexicon caches) and its error handling is global, so it is not safe to
//! synthesize on two threads at once: the library is initialised once per process and
//! every call is made while holding one process-wide mutex, which also owns the voice
//! pointers.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::SpeechError;
use crate::audio::Pcm;
use crate::synth::{Synthesizer, Voice};

/// The raw C interface: exactly what this module uses of `flite/flite.h`.
mod raw {
    use std::os::raw::{c_char, c_int, c_short};

    /// `cst_voice`, opaque.
    #[repr(C)]
    pub struct CstVoice {
        _private: [u8; 0],
    }

    /// `cst_wave`.
    #[repr(C)]
    pub struct CstWave {
        pub kind: *const c_char,
        pub sample_rate: c_int,
        pub num_samples: c_int,
        pub num_channels: c_int,
        pub samples: *mut c_short,
    }

    unsafe extern "C" {
        pub fn flite_init() -> c_int;
        pub fn register_cmu_us_slt(voxdir: *const c_char) -> *mut CstVoice;
        pub fn register_cmu_us_kal(voxdir: *const c_char) -> *mut CstVoice;
        pub fn flite_text_to_wave(text: *const c_char, voice: *mut CstVoice) -> *mut CstWave;
        pub fn delete_wave(wave: *mut CstWave);
    }
}

/// The registered voices. Only ever used while [`LOCK`] is held.
#[derive(Debug)]
struct Voices {
    slt: NonNull<raw::CstVoice>,
    kal: NonNull<raw::CstVoice>,
}

// SAFETY: the voice pointers are process-lifetime objects owned by flite (never freed);
// they are only dereferenced by flite while the mutex that owns `Voices` is held, so
// moving the pointers between threads is fine.
unsafe impl Send for Voices {}

static LOCK: OnceLock<Result<Mutex<Voices>, String>> = OnceLock::new();

fn voices() -> Result<MutexGuard<'static, Voices>, SpeechError> {
    let m = LOCK
        .get_or_init(init)
        .as_ref()
        .map_err(|e| SpeechError::Init(e.clone()))?;
    // Poisoning only means a panic elsewhere while holding the lock; flite's state is
    // per utterance, so carry on.
    Ok(m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

fn init() -> Result<Mutex<Voices>, String> {
    // SAFETY: flite_init only sets up global tables; called once (OnceLock).
    unsafe { raw::flite_init() };
    // SAFETY: a null voxdir is what the compiled-in voices expect; each returns a voice
    // owned by flite for the life of the process (or null on failure).
    let slt = NonNull::new(unsafe { raw::register_cmu_us_slt(std::ptr::null()) });
    // SAFETY: as above.
    let kal = NonNull::new(unsafe { raw::register_cmu_us_kal(std::ptr::null()) });
    match (slt, kal) {
        (Some(slt), Some(kal)) => Ok(Mutex::new(Voices { slt, kal })),
        _ => Err("flite voices cmu_us_slt / cmu_us_kal did not register".to_string()),
    }
}

/// Which flite voice speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FliteVoice {
    /// CMU US SLT, female, clusergen: the clearer one (default).
    Slt,
    /// CMU US KAL, male, diphone: smaller and faster, more robotic.
    Kal,
}

impl FliteVoice {
    fn from_name(name: &str) -> Option<FliteVoice> {
        match name.to_ascii_lowercase().as_str() {
            "slt" | "cmu_us_slt" => Some(FliteVoice::Slt),
            "kal" | "kal16" | "cmu_us_kal" => Some(FliteVoice::Kal),
            _ => None,
        }
    }
}

/// Flite speech synthesis (English only). Cheap to create; instances share one engine.
#[derive(Debug, Clone)]
pub struct FliteSynthesizer {
    default_voice: FliteVoice,
}

impl FliteSynthesizer {
    /// Initialises flite (once per process); the default voice is `slt`.
    pub fn new() -> Result<FliteSynthesizer, SpeechError> {
        drop(voices()?);
        Ok(FliteSynthesizer {
            default_voice: FliteVoice::Slt,
        })
    }

    /// The voice used when [`Voice::name`] is `None`.
    pub fn with_default_voice(mut self, voice: FliteVoice) -> FliteSynthesizer {
        self.default_voice = voice;
        self
    }
}

fn is_english(tag: &str) -> bool {
    let tag = tag.trim().to_ascii_lowercase();
    tag == "en" || tag.starts_with("en-") || tag.starts_with("en_")
}

impl Synthesizer for FliteSynthesizer {
    fn name(&self) -> &str {
        "flite"
    }

    fn languages(&self) -> Vec<String> {
        vec!["en".to_string(), "en-us".to_string()]
    }

    fn synthesize(&self, text: &str, voice: &Voice) -> Result<Pcm, SpeechError> {
        let label = || match &voice.name {
            Some(n) => format!("{}/{n}", voice.language),
            None => voice.language.clone(),
        };
        if !is_english(&voice.language) {
            return Err(SpeechError::UnknownVoice(label()));
        }
        let which = match &voice.name {
            None => self.default_voice,
            Some(n) => {
                FliteVoice::from_name(n).ok_or_else(|| SpeechError::UnknownVoice(label()))?
            }
        };
        let text = CString::new(text.replace('\0', " "))
            .map_err(|e| SpeechError::Synthesize(e.to_string()))?;
        let voices = voices()?;
        let v = match which {
            FliteVoice::Slt => voices.slt,
            FliteVoice::Kal => voices.kal,
        };
        // SAFETY: the text is NUL-terminated and outlives the call; the voice is live and
        // we hold the lock, so no other thread is inside flite.
        let wave = unsafe { raw::flite_text_to_wave(text.as_ptr(), v.as_ptr()) };
        let Some(wave) = NonNull::new(wave) else {
            return Err(SpeechError::Synthesize(
                "flite_text_to_wave returned no wave".into(),
            ));
        };
        let wave = Wave(wave);
        let pcm = wave.to_pcm();
        drop(wave);
        drop(voices);
        pcm
    }
}

/// Owns a `cst_wave` and frees it on drop.
struct Wave(NonNull<raw::CstWave>);

impl Wave {
    fn to_pcm(&self) -> Result<Pcm, SpeechError> {
        // SAFETY: the wave is live until drop; we copy its fields.
        let (rate, count, channels, samples) = unsafe {
            let w = self.0.as_ref();
            (w.sample_rate, w.num_samples, w.num_channels, w.samples)
        };
        let bad = |what: &str| SpeechError::Synthesize(format!("flite wave: {what}"));
        let rate = u32::try_from(rate)
            .ok()
            .filter(|&r| r > 0)
            .ok_or_else(|| bad("sample rate"))?;
        let count = usize::try_from(count).map_err(|_| bad("sample count"))?;
        let channels = usize::try_from(channels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| bad("channels"))?;
        if count == 0 || samples.is_null() {
            return Ok(Pcm::new(rate, Vec::new()));
        }
        // SAFETY: `samples` holds `num_samples * num_channels` interleaved samples,
        // owned by the wave, which is live for this borrow.
        let all = unsafe { std::slice::from_raw_parts(samples, count * channels) };
        let mono = if channels == 1 {
            all.to_vec()
        } else {
            all.chunks_exact(channels).map(|f| f[0]).collect()
        };
        Ok(Pcm::new(rate, mono))
    }
}

impl Drop for Wave {
    fn drop(&mut self) {
        // SAFETY: the wave came from flite_text_to_wave and is freed exactly once.
        unsafe { raw::delete_wave(self.0.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_names() {
        assert_eq!(FliteVoice::from_name("SLT"), Some(FliteVoice::Slt));
        assert_eq!(FliteVoice::from_name("kal"), Some(FliteVoice::Kal));
        assert_eq!(FliteVoice::from_name("awb"), None);
        assert!(is_english("en-GB"));
        assert!(!is_english("de"));
    }
}
