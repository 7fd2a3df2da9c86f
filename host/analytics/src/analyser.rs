//! What an analyser reads ([`Transcript`]) and what it finds ([`Analysis`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who spoke a turn. Stereo recordings put agent and customer on their own channels;
/// mono recordings cannot tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Customer,
    Unknown,
}

/// One utterance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: Speaker,
    /// From the start of the recording (0 for text transcripts without timing).
    pub start_ms: u64,
    pub end_ms: u64,
    /// Lower-case words, as recognizers give them.
    pub text: String,
    /// The recognizer's confidence, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

/// A whole call's words, in the order they were spoken.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Transcript {
    /// BCP 47 primary language (`en`, `de`, `hr` …).
    pub language: String,
    pub duration_ms: u64,
    pub turns: Vec<Turn>,
}

impl Transcript {
    /// All words of one speaker (`None`: everyone), joined by spaces.
    pub fn text_of(&self, speaker: Option<Speaker>) -> String {
        self.turns
            .iter()
            .filter(|t| speaker.is_none_or(|s| t.speaker == s))
            .map(|t| t.text.as_str())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Positive,
    Negative,
    Neutral,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Positive => "positive",
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
        }
    }
}

/// A sentiment and how strong it is: `score` runs from -1 (very negative) to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub label: Polarity,
    pub score: f32,
}

/// Sentiment of the whole call and of each side that spoke.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiments {
    pub overall: Sentiment,
    pub customer: Option<Sentiment>,
    pub agent: Option<Sentiment>,
}

/// Tone of each side (see [`crate::lexicon::TONES`] for the labels the built-in analyser
/// gives).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Tones {
    pub customer: Option<String>,
    pub agent: Option<String>,
}

/// What an analyser found in one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Which analyser (`lexicon`, `llm:<model>`).
    pub analyser: String,
    pub language: String,
    pub sentiment: Sentiments,
    /// `complaint`, `question`, `order`, `delivery`, `other`, or one of the tenant's own.
    pub category: String,
    /// Every category that scored, best first, with its score.
    pub categories: Vec<(String, f32)>,
    pub tone: Tones,
    /// Words and phrases that say what the call was about, most telling first.
    pub keywords: Vec<String>,
}

/// A tenant's additions to the built-in rules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Extra categories (or extra words for a built-in one): name → words and phrases
    /// that point to it.
    #[serde(default)]
    pub categories: BTreeMap<String, Vec<String>>,
    /// Words and phrases always reported as keywords when they occur.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// Why an analysis failed. Retrying may help for [`AnalyseError::Unavailable`] only.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyseError {
    /// A service the analyser needs did not answer or answered with a server error.
    #[error("analyser unavailable: {0}")]
    Unavailable(String),
    /// The analyser answered with something that is not an analysis.
    #[error("analyser gave an unusable answer: {0}")]
    BadAnswer(String),
    #[error("{0}")]
    Invalid(String),
}

/// Finds sentiment, category, tone and keywords in a transcript.
pub trait Analyser: Send + Sync + std::fmt::Debug {
    /// Blocking; may call out over the network (LLM analysers).
    fn analyse(&self, transcript: &Transcript, rules: &Rules) -> Result<Analysis, AnalyseError>;
}
