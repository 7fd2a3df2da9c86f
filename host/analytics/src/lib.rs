//! Post-call analysis: what a call was about and how the people on it felt.
//!
//! Two ways in, one way out. A recording (a PBX's call, posted to the API) is decoded
//! ([`decode`]), cut into utterances per channel and transcribed ([`transcribe`]); a
//! voxgate call already has its transcript. Either way a [`Transcript`] reaches an
//! [`Analyser`], which finds sentiment (overall and per speaker), a category, the tone of
//! customer and agent, and keywords.
//!
//! Everything here is blocking, CPU-bound work without I/O of its own but for the
//! optional LLM analyser's HTTP request; the gateway runs it on its blocking pool, keeps
//! the work queue in the store and serves the results.

pub mod analyser;
pub mod decode;
pub mod lexicon;
pub mod llm;
pub mod transcribe;
pub mod wer;

pub use analyser::{
    AnalyseError, Analyser, Analysis, Polarity, Rules, Sentiment, Sentiments, Speaker, Tones,
    Transcript, Turn,
};
