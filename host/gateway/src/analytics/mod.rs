//! Post-call analytics in the gateway: recordings posted by a PBX are fetched, paid for
//! and queued ([`ingest`]); workers transcribe and analyse them ([`worker`]); voxgate's
//! own calls are analysed from their transcript the moment their record arrives
//! ([`Analytics::analyse_own_call`]). The analysis itself lives in `voxgate-analytics`;
//! queue and results live in each tenant's store.

pub mod ingest;
pub mod view;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use voxgate_analytics::lexicon::LexiconAnalyser;
use voxgate_analytics::llm::{LlmAnalyser, LlmConfig};
use voxgate_analytics::{Analyser, Rules, Speaker, Transcript, Turn};
use voxgate_speech::SpeechError;
use voxgate_speech::http::{HttpRecognizer, HttpRecognizerConfig};
use voxgate_speech::pocketsphinx::{PocketSphinxConfig, PocketSphinxRecognizer};
use voxgate_speech::recognizer::Recognizer;

use crate::tenant::TenantConfig;

/// A tenant's `[analytics]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Language of the recordings (BCP 47 primary tag); picks the analyser's lexicon.
    pub language: String,
    /// What transcribes posted recordings.
    pub recognizer: RecognizerConfig,
    /// In two-channel recordings, the agent's channel: `left`, `right`, or `mixed` (mix
    /// both, speakers unknown).
    pub agent_channel: AgentChannel,
    /// Recordings larger than this are refused (413).
    pub max_recording_mb: u32,
    /// `lexicon` (built in, the default) or `llm` (see `llm`).
    pub analyser: AnalyserChoice,
    pub llm: Option<LlmSettings>,
    /// The tenant's own categories (name → words and phrases) and keywords.
    pub categories: BTreeMap<String, Vec<String>>,
    pub keywords: Vec<String>,
}

impl Default for AnalyticsConfig {
    fn default() -> AnalyticsConfig {
        AnalyticsConfig {
            language: "en".into(),
            recognizer: RecognizerConfig::Pocketsphinx,
            agent_channel: AgentChannel::Left,
            max_recording_mb: 100,
            analyser: AnalyserChoice::Lexicon,
            llm: None,
            categories: BTreeMap::new(),
            keywords: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentChannel {
    Left,
    Right,
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnalyserChoice {
    Lexicon,
    Llm,
}

/// The recognizer for posted recordings.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "engine", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RecognizerConfig {
    /// The embedded PocketSphinx with its general English language model.
    Pocketsphinx,
    /// An OpenAI-compatible transcription service (`/v1/audio/transcriptions`).
    Http {
        url: String,
        model: String,
        /// The name of the tenant secret sent as the bearer token.
        secret: Option<String>,
    },
}

/// An OpenAI-compatible chat-completions service for the `llm` analyser.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    pub url: String,
    pub model: String,
    /// The name of the tenant secret sent as the bearer token.
    pub secret: Option<String>,
    #[serde(default = "default_llm_timeout")]
    pub timeout_ms: u64,
}

fn default_llm_timeout() -> u64 {
    30_000
}

impl AnalyticsConfig {
    pub fn rules(&self) -> Rules {
        Rules {
            categories: self.categories.clone(),
            keywords: self.keywords.clone(),
        }
    }

    pub fn max_recording_bytes(&self) -> usize {
        (self.max_recording_mb as usize).saturating_mul(1 << 20)
    }

    pub fn agent_channel_index(&self) -> Option<usize> {
        match self.agent_channel {
            AgentChannel::Left => Some(0),
            AgentChannel::Right => Some(1),
            AgentChannel::Mixed => None,
        }
    }
}

/// A tenant secret by name, as the tenant file gives it.
fn secret(config: &TenantConfig, name: Option<&str>) -> Result<Option<String>, String> {
    let Some(name) = name else { return Ok(None) };
    match config.secrets.get(name) {
        Some(crate::tenant::SecretValue::Literal(s)) => Ok(Some(s.clone())),
        Some(crate::tenant::SecretValue::Env { env }) => std::env::var(env)
            .map(Some)
            .map_err(|_| format!("secret `{name}`: environment variable {env} is not set")),
        None => Err(format!("the tenant has no secret `{name}`")),
    }
}

/// The tenant's analyser: the LLM one when configured (falling back to the lexicon when
/// it cannot be built), the built-in lexicon otherwise.
pub fn analyser_for(config: &TenantConfig) -> Arc<dyn Analyser> {
    let a = &config.analytics;
    if let (AnalyserChoice::Llm, Some(llm)) = (a.analyser, &a.llm) {
        match secret(config, llm.secret.as_deref()) {
            Ok(api_key) => match LlmAnalyser::new(LlmConfig {
                api_key,
                timeout: Duration::from_millis(llm.timeout_ms),
                ..LlmConfig::new(&llm.url, &llm.model)
            }) {
                Ok(a) => return Arc::new(a),
                Err(e) => tracing::warn!(tenant = %config.id, "LLM analyser not used: {e}"),
            },
            Err(e) => tracing::warn!(tenant = %config.id, "LLM analyser not used: {e}"),
        }
    }
    lexicon()
}

/// The built-in analyser (its lexicons are built once per process).
pub fn lexicon() -> Arc<dyn Analyser> {
    static LEXICON: std::sync::OnceLock<Arc<LexiconAnalyser>> = std::sync::OnceLock::new();
    LEXICON
        .get_or_init(|| Arc::new(LexiconAnalyser::new()))
        .clone()
}

/// Makes recognizers for the tenant's transcriptions.
pub fn recognizer_for(
    config: &TenantConfig,
    rate: u32,
) -> Result<Box<dyn Recognizer>, SpeechError> {
    match &config.analytics.recognizer {
        RecognizerConfig::Pocketsphinx => {
            let rate = if rate >= 16_000 { 16_000 } else { 8000 };
            Ok(Box::new(PocketSphinxRecognizer::new(
                &PocketSphinxConfig::for_recordings(rate),
            )?))
        }
        RecognizerConfig::Http {
            url,
            model,
            secret: name,
        } => {
            let mut c = HttpRecognizerConfig::new(url, model);
            c.api_key = secret(config, name.as_deref()).map_err(SpeechError::Init)?;
            c.language = Some(config.analytics.language.clone());
            c.sample_rate = if rate >= 16_000 { 16_000 } else { 8000 };
            Ok(Box::new(HttpRecognizer::new(c)?))
        }
    }
}

/// A voxgate call's transcript from its record: the caller is the customer, voxgate's
/// agent the agent. Turns without words (no input, DTMF without text) are left out.
pub fn transcript_of_record(record: &serde_json::Value, language: &str) -> Transcript {
    let turns = record
        .get("turns")
        .and_then(serde_json::Value::as_array)
        .map(|turns| {
            turns
                .iter()
                .filter_map(|t| {
                    let text = t.get("text")?.as_str()?.trim();
                    if text.is_empty() {
                        return None;
                    }
                    let speaker = match t.get("who")?.as_str()? {
                        "caller" => Speaker::Customer,
                        "agent" => Speaker::Agent,
                        _ => Speaker::Unknown,
                    };
                    Some(Turn {
                        speaker,
                        start_ms: 0,
                        end_ms: 0,
                        text: voxgate_speech::recognizer::normalize_transcript(text),
                        confidence: t
                            .get("confidence")
                            .and_then(serde_json::Value::as_f64)
                            .map(|c| c as f32),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Transcript {
        language: language.to_string(),
        duration_ms: 0,
        turns,
    }
}
