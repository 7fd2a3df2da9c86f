//! espeak-ng synthesis: every language the tenants speak, from Debian's `libespeak-ng`.
//!
//! espeak-ng keeps all of its state in globals and is not thread-safe, so the library is
//! initialised once per process (synchronous mode, audio handed to a callback) and every
//! call into it is made while holding one process-wide mutex. [`EspeakSynthesizer`] holds
//! no pointers of its own, which is what makes it `Send + Sync` without any `unsafe impl`.

#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::SpeechError;
use crate::audio::Pcm;
use crate::synth::{Synthesizer, Voice};

/// Speaking rate for telephony, words per minute (espeak-ng's normal is 175: a little
/// slower is clearer through an 8 kHz narrowband codec).
pub const TELEPHONY_RATE_WPM: i32 = 160;
/// Base pitch 0–100 (50 is espeak-ng's normal).
pub const TELEPHONY_PITCH: i32 = 50;
/// Pitch range 0–100 (50 is normal; a bit more keeps the voice from sounding flat).
pub const TELEPHONY_RANGE: i32 = 55;
/// Volume 0–200 (100 is normal; more clips).
pub const TELEPHONY_VOLUME: i32 = 100;

/// The raw C interface: exactly what this module uses of `espeak-ng/speak_lib.h`.
mod raw {
    use std::os::raw::{c_char, c_int, c_short, c_uchar, c_uint, c_void};

    pub const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
    pub const INITIALIZE_DONT_EXIT: c_int = 0x8000;
    pub const CHARS_UTF8: c_uint = 1;
    pub const POS_CHARACTER: c_int = 1;
    pub const EE_OK: c_int = 0;
    pub const RATE: c_int = 1;
    pub const VOLUME: c_int = 2;
    pub const PITCH: c_int = 3;
    pub const RANGE: c_int = 4;

    /// `espeak_EVENT` (only passed through by pointer; never read here).
    #[repr(C)]
    pub struct Event {
        _private: [u8; 0],
    }

    /// `espeak_VOICE`.
    #[repr(C)]
    pub struct VoiceSpec {
        pub name: *const c_char,
        pub languages: *const c_char,
        pub identifier: *const c_char,
        pub gender: c_uchar,
        pub age: c_uchar,
        pub variant: c_uchar,
        pub xx1: c_uchar,
        pub score: c_int,
        pub spare: *mut c_void,
    }

    pub type SynthCallback = unsafe extern "C" fn(*mut c_short, c_int, *mut Event) -> c_int;

    unsafe extern "C" {
        pub fn espeak_Initialize(
            output: c_int,
            buflength: c_int,
            path: *const c_char,
            options: c_int,
        ) -> c_int;
        pub fn espeak_SetSynthCallback(cb: SynthCallback);
        pub fn espeak_ListVoices(spec: *mut VoiceSpec) -> *mut *const VoiceSpec;
        pub fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
        pub fn espeak_SetVoiceByProperties(spec: *mut VoiceSpec) -> c_int;
        pub fn espeak_SetParameter(parameter: c_int, value: c_int, relative: c_int) -> c_int;
        pub fn espeak_Synth(
            text: *const c_void,
            size: usize,
            position: c_uint,
            position_type: c_int,
            end_position: c_uint,
            flags: c_uint,
            unique_identifier: *mut c_uint,
            user_data: *mut c_void,
        ) -> c_int;
    }
}

/// What `espeak_Initialize` told us, and which languages its voices speak.
#[derive(Debug)]
struct Engine {
    rate: u32,
    /// Language names of the installed voices, lower case (`en-us`, `hr`, `cmn` …).
    languages: BTreeSet<String>,
}

/// Serializes every call into espeak-ng, process-wide.
static LOCK: Mutex<()> = Mutex::new(());
static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

std::thread_local! {
    /// Where the synthesis callback puts samples. espeak-ng in synchronous mode calls
    /// the callback on the thread that called `espeak_Synth`, inside that call.
    static COLLECT: std::cell::RefCell<Option<Vec<i16>>> = const { std::cell::RefCell::new(None) };
}

fn lock() -> MutexGuard<'static, ()> {
    // A panic while holding the lock cannot leave espeak-ng's state half-updated in a
    // way that matters to the next call (each call sets voice and parameters afresh).
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// espeak-ng's synthesis callback: copies the samples into this thread's buffer.
unsafe extern "C" fn on_audio(
    wav: *mut std::os::raw::c_short,
    count: std::os::raw::c_int,
    _events: *mut raw::Event,
) -> std::os::raw::c_int {
    let Ok(count) = usize::try_from(count) else {
        return 0;
    };
    if wav.is_null() || count == 0 {
        return 0;
    }
    // SAFETY: espeak-ng passes a buffer of `count` valid samples that lives for the
    // duration of this call; we only read it.
    let samples = unsafe { std::slice::from_raw_parts(wav, count) };
    COLLECT.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut()
            && let Some(buf) = c.as_mut()
        {
            buf.extend_from_slice(samples);
        }
    });
    0
}

fn engine() -> Result<&'static Engine, SpeechError> {
    ENGINE
        .get_or_init(|| {
            let _guard = lock();
            init()
        })
        .as_ref()
        .map_err(|e| SpeechError::Init(e.clone()))
}

/// Initialises espeak-ng; called once, under the lock.
fn init() -> Result<Engine, String> {
    // SAFETY: synchronous mode starts no threads; a null path means the compiled-in data
    // directory; DONT_EXIT makes a missing data directory an error instead of exit().
    let rate = unsafe {
        raw::espeak_Initialize(
            raw::AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            std::ptr::null(),
            raw::INITIALIZE_DONT_EXIT,
        )
    };
    let rate = u32::try_from(rate)
        .ok()
        .filter(|&r| r > 0)
        .ok_or_else(|| format!("espeak_Initialize failed ({rate})"))?;
    // SAFETY: `on_audio` has the signature espeak-ng expects and never unwinds.
    unsafe { raw::espeak_SetSynthCallback(on_audio) };
    let languages = list_languages();
    if languages.is_empty() {
        return Err("espeak-ng has no voices".to_string());
    }
    tracing::debug!(rate, voices = languages.len(), "espeak-ng initialised");
    Ok(Engine { rate, languages })
}

/// Languages of all installed voices; under the lock, after initialisation.
fn list_languages() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // SAFETY: a null spec lists all voices; the result is a null-terminated array of
    // pointers to voices owned by espeak-ng, valid until the next ListVoices call, which
    // cannot happen while we hold the lock.
    let list = unsafe { raw::espeak_ListVoices(std::ptr::null_mut()) };
    if list.is_null() {
        return out;
    }
    for i in 0.. {
        // SAFETY: the array is null-terminated and we stop at the terminator.
        let voice = unsafe { *list.add(i) };
        if voice.is_null() {
            break;
        }
        // SAFETY: `voice` points to a live espeak_VOICE (see above).
        let mut p = unsafe { (*voice).languages };
        if p.is_null() {
            continue;
        }
        // `languages` is a list of (priority byte, NUL-terminated name), ended by a
        // zero priority byte.
        loop {
            // SAFETY: p points inside the list, which ends with a zero byte.
            let priority = unsafe { *p };
            if priority == 0 {
                break;
            }
            // SAFETY: after the priority byte comes a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(p.add(1)) };
            let bytes = name.to_bytes();
            out.insert(String::from_utf8_lossy(bytes).to_ascii_lowercase());
            // SAFETY: skip the priority byte, the name and its NUL: still inside the list.
            p = unsafe { p.add(bytes.len() + 2) };
        }
    }
    out
}

/// Maps a BCP 47 tag (`hr-HR`, `zh`, `en_GB`, `el`) to an installed espeak-ng language.
fn resolve_language(tag: &str, languages: &BTreeSet<String>) -> Option<String> {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    if tag.is_empty() {
        return None;
    }
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let region = rest
        .iter()
        .find(|p| p.len() == 2 || p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()));
    let mut candidates: Vec<String> = Vec::new();
    match primary {
        // Chinese: Mandarin unless Cantonese is asked for (zh-HK, zh-yue, yue).
        "zh" | "cmn" => {
            if rest.iter().any(|p| *p == "hk" || *p == "mo" || *p == "yue") {
                candidates.push("yue".into());
            } else {
                candidates.push("cmn".into());
            }
        }
        // English: American unless a region says otherwise.
        "en" => {
            candidates.push(tag.clone());
            if let Some(r) = region {
                candidates.push(format!("en-{r}"));
            }
            candidates.push("en-us".into());
            candidates.push("en".into());
        }
        _ => {
            candidates.push(tag.clone());
            if let Some(r) = region {
                candidates.push(format!("{primary}-{r}"));
            }
            candidates.push(primary.to_string());
        }
    }
    candidates.into_iter().find(|c| languages.contains(c))
}

/// espeak-ng speech synthesis. Cheap to create; all instances share the one engine.
#[derive(Debug, Clone)]
pub struct EspeakSynthesizer {
    engine: &'static Engine,
    rate_wpm: i32,
    pitch: i32,
}

impl EspeakSynthesizer {
    /// Initialises espeak-ng (once per process) with telephony defaults.
    pub fn new() -> Result<EspeakSynthesizer, SpeechError> {
        Ok(EspeakSynthesizer {
            engine: engine()?,
            rate_wpm: TELEPHONY_RATE_WPM,
            pitch: TELEPHONY_PITCH,
        })
    }

    /// Speaking rate in words per minute (clamped to espeak-ng's 80–450).
    pub fn with_rate(mut self, wpm: i32) -> EspeakSynthesizer {
        self.rate_wpm = wpm.clamp(80, 450);
        self
    }

    /// Base pitch 0–100.
    pub fn with_pitch(mut self, pitch: i32) -> EspeakSynthesizer {
        self.pitch = pitch.clamp(0, 100);
        self
    }

    /// The engine's native output rate (22050 Hz with Debian's data).
    pub fn sample_rate(&self) -> u32 {
        self.engine.rate
    }

    /// The espeak-ng language a BCP 47 tag maps to, if any voice speaks it.
    pub fn resolve(&self, language: &str) -> Option<String> {
        resolve_language(language, &self.engine.languages)
    }

    /// Selects the voice; under the lock.
    fn select_voice(&self, voice: &Voice, language: &str) -> Result<(), SpeechError> {
        let unknown = || SpeechError::UnknownVoice(voice_label(voice));
        if let Some(name) = &voice.name {
            let c = CString::new(name.as_str()).map_err(|_| unknown())?;
            // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
            let rc = unsafe { raw::espeak_SetVoiceByName(c.as_ptr()) };
            if rc == raw::EE_OK {
                return Ok(());
            }
            return Err(unknown());
        }
        let lang = CString::new(language).map_err(|_| unknown())?;
        let mut spec = raw::VoiceSpec {
            name: std::ptr::null(),
            languages: lang.as_ptr(),
            identifier: std::ptr::null(),
            gender: 0,
            age: 0,
            variant: 0,
            xx1: 0,
            score: 0,
            spare: std::ptr::null_mut(),
        };
        // SAFETY: `spec` and the string it points to outlive the call; espeak-ng copies
        // what it keeps.
        let rc = unsafe { raw::espeak_SetVoiceByProperties(&mut spec) };
        if rc == raw::EE_OK {
            Ok(())
        } else {
            Err(unknown())
        }
    }

    /// Sets rate, pitch, range and volume; under the lock.
    fn set_parameters(&self) -> Result<(), SpeechError> {
        for (param, value) in [
            (raw::RATE, self.rate_wpm),
            (raw::PITCH, self.pitch),
            (raw::RANGE, TELEPHONY_RANGE),
            (raw::VOLUME, TELEPHONY_VOLUME),
        ] {
            // SAFETY: plain integer parameters.
            let rc = unsafe { raw::espeak_SetParameter(param, value, 0) };
            if rc != raw::EE_OK {
                return Err(SpeechError::Synthesize(format!(
                    "espeak_SetParameter({param}, {value}) failed ({rc})"
                )));
            }
        }
        Ok(())
    }
}

fn voice_label(voice: &Voice) -> String {
    match &voice.name {
        Some(n) => format!("{}/{n}", voice.language),
        None => voice.language.clone(),
    }
}

/// Clears the thread's collection buffer even if synthesis bails out early.
struct Collecting;

impl Collecting {
    fn start() -> Collecting {
        COLLECT.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                *c = Some(Vec::new());
            }
        });
        Collecting
    }

    fn take(self) -> Vec<i16> {
        COLLECT.with(|c| {
            c.try_borrow_mut()
                .ok()
                .and_then(|mut c| c.take())
                .unwrap_or_default()
        })
    }
}

impl Drop for Collecting {
    fn drop(&mut self) {
        COLLECT.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                *c = None;
            }
        });
    }
}

impl Synthesizer for EspeakSynthesizer {
    fn name(&self) -> &str {
        "espeak-ng"
    }

    fn languages(&self) -> Vec<String> {
        self.engine.languages.iter().cloned().collect()
    }

    fn synthesize(&self, text: &str, voice: &Voice) -> Result<Pcm, SpeechError> {
        let language = self
            .resolve(&voice.language)
            .ok_or_else(|| SpeechError::UnknownVoice(voice_label(voice)))?;
        // Interior NULs would end the text early in C; drop them.
        let text = CString::new(text.replace('\0', " "))
            .map_err(|e| SpeechError::Synthesize(e.to_string()))?;
        let _guard = lock();
        self.select_voice(voice, &language)?;
        self.set_parameters()?;
        let collecting = Collecting::start();
        let bytes = text.as_bytes_with_nul();
        // SAFETY: the text is NUL-terminated UTF-8 of `bytes.len()` bytes and outlives the
        // call; synchronous mode returns only when synthesis is done, and the callback only
        // touches this thread's buffer.
        let rc = unsafe {
            raw::espeak_Synth(
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                raw::POS_CHARACTER,
                0,
                raw::CHARS_UTF8,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        let samples = collecting.take();
        if rc != raw::EE_OK {
            return Err(SpeechError::Synthesize(format!(
                "espeak_Synth failed ({rc})"
            )));
        }
        Ok(Pcm::new(self.engine.rate, samples))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> BTreeSet<String> {
        [
            "en-us", "en-gb", "de", "hr", "ar", "cmn", "yue", "el", "pt-br", "pt",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    }

    #[test]
    fn maps_bcp47_tags() {
        let l = langs();
        let r = |t: &str| resolve_language(t, &l);
        assert_eq!(r("en").as_deref(), Some("en-us"));
        assert_eq!(r("en-GB").as_deref(), Some("en-gb"));
        assert_eq!(r("en-AU").as_deref(), Some("en-us"));
        assert_eq!(r("hr-HR").as_deref(), Some("hr"));
        assert_eq!(r("de_AT").as_deref(), Some("de"));
        assert_eq!(r("zh").as_deref(), Some("cmn"));
        assert_eq!(r("zh-Hans-CN").as_deref(), Some("cmn"));
        assert_eq!(r("zh-HK").as_deref(), Some("yue"));
        assert_eq!(r("pt-BR").as_deref(), Some("pt-br"));
        assert_eq!(r("el").as_deref(), Some("el"));
        assert_eq!(r("xx"), None);
        assert_eq!(r(""), None);
    }
}
