//! The speech engines calls share: synthesizers for `say` prompts, a small pool of
//! recognizers, and the prompt cache.
//!
//! Recognizers are expensive to create (a decoder loads its acoustic model: 50–170 ms)
//! and cheap to reuse, so a few are kept and lent out per utterance. All of this is
//! blocking work: callers run it on tokio's blocking pool, bounded by the pool's size,
//! never on the tasks that pace RTP.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use voxgate_speech::SpeechError;
use voxgate_speech::audio::Pcm;
use voxgate_speech::cache::PromptCache;
use voxgate_speech::espeak::EspeakSynthesizer;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::pocketsphinx::{PocketSphinxConfig, PocketSphinxRecognizer};
use voxgate_speech::recognizer::{Grammar, Hypothesis, Recognizer};
use voxgate_speech::synth::{Synthesizer, Voice};

/// Recognitions that may run at once (one decoder each).
const RECOGNIZERS: usize = 2;

/// A recognition result with how long it took.
#[derive(Debug, Clone)]
pub struct Recognized {
    pub hypothesis: Option<Hypothesis>,
    pub took: Duration,
}

/// Speech engines for the whole gateway. Cheap to clone.
#[derive(Clone)]
pub struct Speech {
    inner: Arc<Inner>,
}

struct Inner {
    espeak: OnceLock<Result<EspeakSynthesizer, String>>,
    flite: OnceLock<Result<FliteSynthesizer, String>>,
    cache: PromptCache,
    idle: Mutex<Vec<PocketSphinxRecognizer>>,
    slots: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Speech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speech").finish_non_exhaustive()
    }
}

impl Speech {
    /// Engines start lazily; prompts are cached in memory (and in `cache_dir`).
    pub fn new(cache_dir: Option<std::path::PathBuf>) -> Result<Speech, SpeechError> {
        Ok(Speech {
            inner: Arc::new(Inner {
                espeak: OnceLock::new(),
                flite: OnceLock::new(),
                cache: PromptCache::new(cache_dir, 64 << 20)?,
                idle: Mutex::new(Vec::new()),
                slots: tokio::sync::Semaphore::new(RECOGNIZERS),
            }),
        })
    }

    fn synthesizer(&self, engine: &str) -> Result<&dyn Synthesizer, SpeechError> {
        match engine {
            "espeak-ng" => self
                .inner
                .espeak
                .get_or_init(|| EspeakSynthesizer::new().map_err(|e| e.to_string()))
                .as_ref()
                .map(|s| s as &dyn Synthesizer)
                .map_err(|e| SpeechError::Init(e.clone())),
            "flite" => self
                .inner
                .flite
                .get_or_init(|| FliteSynthesizer::new().map_err(|e| e.to_string()))
                .as_ref()
                .map(|s| s as &dyn Synthesizer)
                .map_err(|e| SpeechError::Init(e.clone())),
            other => Err(SpeechError::UnknownVoice(other.to_string())),
        }
    }

    /// Speaks `text` with `engine` in `language` as telephone audio (blocking; cached).
    pub fn say(
        &self,
        engine: &str,
        language: &str,
        text: &str,
        rate: u32,
    ) -> Result<Arc<Pcm>, SpeechError> {
        let synth = self.synthesizer(engine)?;
        self.inner
            .cache
            .get_or_synthesize(synth, text, &Voice::language(language), rate)
    }

    /// Which of `words` the recognizer's dictionary knows (blocking: may create a
    /// recognizer).
    pub fn dictionary_knows(&self, words: &[String]) -> Result<Vec<(String, bool)>, SpeechError> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let mut rec = match idle {
            Some(r) => r,
            None => PocketSphinxRecognizer::new(&PocketSphinxConfig::debian_en_us())?,
        };
        let answers = words
            .iter()
            .map(|w| (w.clone(), rec.knows_word(w)))
            .collect();
        self.inner
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(rec);
        Ok(answers)
    }

    /// Recognizes one utterance against `grammar` (blocking). Waits for a free
    /// recognizer; creates one if none is idle. Phrases with words outside the
    /// dictionary are left out rather than failing the turn.
    pub async fn recognize(
        &self,
        grammar: Arc<Grammar>,
        pcm: Vec<i16>,
    ) -> Result<Recognized, SpeechError> {
        let permit = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| SpeechError::Recognize("shutting down".into()))?;
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let idle = inner.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut rec = match idle {
                Some(r) => r,
                None => PocketSphinxRecognizer::new(&PocketSphinxConfig::debian_en_us())?,
            };
            let outcome = (|| {
                match &*grammar {
                    Grammar::Phrases(phrases) => {
                        let known: Vec<String> = phrases
                            .iter()
                            .filter(|p| p.split_whitespace().all(|w| rec.knows_word(w)))
                            .cloned()
                            .collect();
                        if known.is_empty() {
                            return Ok(None);
                        }
                        rec.start(&Grammar::Phrases(known))?;
                    }
                    other => rec.start(other)?,
                }
                rec.feed(&pcm)?;
                rec.finish()
            })();
            // A recognizer that failed mid-utterance is dropped rather than reused.
            if outcome.is_ok() {
                inner
                    .idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(rec);
            }
            outcome.map(|hypothesis| Recognized {
                hypothesis,
                took: started.elapsed(),
            })
        })
        .await
        .map_err(|e| SpeechError::Recognize(format!("recognition task failed: {e}")))?;
        drop(permit);
        result
    }
}
