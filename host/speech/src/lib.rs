//! voxgate's speech engines, all offline by default: voice activity detection, speech
//! recognition, speech synthesis, and the prompt cache.
//!
//! Engines sit behind small traits so that an agent can use PocketSphinx for English,
//! espeak-ng for Croatian and an HTTP service for something else, and so that tests can
//! swap in the real engines on generated audio. Optional engines use the same traits:
//! OpenAI-compatible HTTP services ([`http`]) and, with the `whisper` feature, Whisper
//! on a model file the operator supplies. Everything here is synchronous and blocking
//! (CPU-bound, or waiting on a speech service within its timeouts): the gateway runs it
//! on a bounded blocking pool, never on the reactor that paces RTP.

pub mod audio;
pub mod cache;
pub mod espeak;
pub mod flite;
pub mod http;
pub mod pocketsphinx;
pub mod recognizer;
pub mod synth;
pub mod vad;
pub mod wav;
#[cfg(feature = "whisper")]
pub mod whisper;

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
    /// An HTTP speech service failed; the message names the URL and what went wrong
    /// (transport error, timeout, HTTP status with an excerpt of the body, bad body).
    #[error("speech service: {0}")]
    Http(String),
    #[error("no utterance in progress: call start first")]
    NotStarted,
}
