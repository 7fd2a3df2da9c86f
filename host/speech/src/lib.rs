//! voxgate's speech engines, all offline by default: voice activity detection, speech
//! recognition, speech synthesis, and the prompt cache.
//!
//! Engines sit behind small traits so that an agent can use PocketSphinx for English,
//! espeak-ng for Croatian and an HTTP service for something else, and so that tests can
//! swap in the real engines on generated audio. Everything here is synchronous and
//! CPU-bound: the gateway runs it on a bounded blocking pool, never on the reactor that
//! paces RTP.

pub mod audio;
pub mod cache;
pub mod espeak;
pub mod flite;
pub mod pocketsphinx;
pub mod recognizer;
pub mod synth;
pub mod vad;

/// Why a speech operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("speech engine could not start: {0}")]
    Init(String),
    #[error("language or voice `{0}` is not available")]
    UnknownVoice(String),
    #[error("grammar is not usable: {0}")]
    Grammar(String),
    #[error("recognizer failed: {0}")]
    Recognize(String),
    #[error("synthesis failed: {0}")]
    Synthesize(String),
    #[error("resampling failed: {0}")]
    Resample(String),
    #[error("prompt cache: {0}")]
    Cache(String),
    #[error("no utterance in progress: call start first")]
    NotStarted,
}
