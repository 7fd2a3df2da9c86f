//! Speech recognition: feed PCM frames of one utterance, get partial and final results.

use crate::SpeechError;

/// What the caller may say in this turn. Grammar and keyphrase modes are what make the
/// embedded recognizer fast and accurate; free dictation is for engines that do it well.
#[derive(Debug, Clone, PartialEq)]
pub enum Grammar {
    /// Exactly one of these phrases (each a sequence of words).
    Phrases(Vec<String>),
    /// A JSGF grammar text (`#JSGF V1.0; grammar g; public <s> = …;`).
    Jsgf(String),
    /// Spot any of these phrases inside free speech, each with a detection threshold
    /// (PocketSphinx keyphrase `kws_threshold`, e.g. `1e-20`).
    Keyphrases(Vec<(String, f64)>),
    /// Free speech (a language model), for engines that handle it.
    Free,
}

/// A recognition result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Recognized words, lower case, single spaces.
    pub text: String,
    /// 0.0 to 1.0; engines without a calibrated score map theirs as best they can.
    pub confidence: f32,
    /// A final result for the utterance (after [`Recognizer::finish`]).
    pub is_final: bool,
}

/// One recognizer, used for one utterance at a time.
pub trait Recognizer: Send {
    /// The sample rate `feed` expects.
    fn sample_rate(&self) -> u32;

    /// Starts an utterance with what may be said now.
    fn start(&mut self, grammar: &Grammar) -> Result<(), SpeechError>;

    /// Feeds audio of the utterance; may return a partial result.
    fn feed(&mut self, pcm: &[i16]) -> Result<Option<Hypothesis>, SpeechError>;

    /// Ends the utterance and returns the final result, `None` if nothing matched.
    fn finish(&mut self) -> Result<Option<Hypothesis>, SpeechError>;
}
