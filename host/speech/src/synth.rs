//! Speech synthesis: text, language and voice in, PCM out.

use crate::SpeechError;
use crate::audio::Pcm;

/// Who speaks: a language (BCP 47, e.g. `en`, `hr`, `de`) and optionally an engine-
/// specific voice name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Voice {
    pub language: String,
    pub name: Option<String>,
}

impl Voice {
    pub fn language(language: &str) -> Voice {
        Voice {
            language: language.to_string(),
            name: None,
        }
    }
}

/// A speech synthesizer. Implementations must be safe to call from several threads
/// (serializing internally where the underlying library has global state).
pub trait Synthesizer: Send + Sync {
    /// A short stable name (`espeak-ng`, `flite`), part of prompt cache keys.
    fn name(&self) -> &str;

    /// Languages it speaks, BCP 47.
    fn languages(&self) -> Vec<String>;

    /// Speaks `text`. The PCM is at the engine's native rate; callers resample.
    fn synthesize(&self, text: &str, voice: &Voice) -> Result<Pcm, SpeechError>;
}
