//! Speech services over HTTP, for operators who use one: an OpenAI-compatible
//! transcription endpoint as a [`Recognizer`] and an OpenAI-compatible speech endpoint
//! as a [`Synthesizer`].
//!
//! * The traits are synchronous and the gateway already runs them on its blocking pool,
//!   so the clients block too (`ureq`: no second async runtime, rustls with the `ring`
//!   provider the rest of voxgate uses). https services are checked against Mozilla's
//!   roots built into the binary, or the system's trust store for private CAs
//!   ([`TlsRoots`]).
//! * Transcription services take a whole file, so [`HttpRecognizer`] buffers the
//!   utterance, gives no partial results, and sends one 16-bit mono WAV at
//!   [`Recognizer::finish`]. The grammar cannot constrain a free transcriber; its
//!   phrases go in the `prompt` field as hints, and the transcript is mapped onto the
//!   closest phrase (or the keyphrase spotted in it) afterwards
//!   ([`recognizer::final_hypothesis`]). A JSGF grammar has no such reading and is
//!   refused at [`Recognizer::start`].
//! * Confidence: services that report one (`verbose_json` segments' `avg_logprob`, or
//!   token `logprobs`) give `exp` of the mean log probability; otherwise
//!   [`DEFAULT_CONFIDENCE`]. A phrase matched with some edits scales it down.
//! * Every request has a connect timeout and a total one that covers reading the body,
//!   so a service that stalls holds a blocking thread for at most that long. Failures
//!   are [`SpeechError::Http`] naming the URL and the status with an excerpt of the body;
//!   the API key never appears in errors or in `Debug` output.
//!
//! `base_url` is the service's root (`https://api.openai.com`); a trailing `/v1` is
//! accepted too, since that is how OpenAI documents its base URL.
//!
//! [`recognizer::final_hypothesis`]: crate::recognizer::final_hypothesis

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::SpeechError;
use crate::audio::Pcm;
use crate::recognizer::{self, Grammar, Hypothesis, Recognizer};
use crate::synth::{Synthesizer, Voice};
use crate::wav;

/// Confidence of a transcript when the service reports none.
pub const DEFAULT_CONFIDENCE: f32 = 0.8;

/// The longest prompt built from a grammar's phrases, in bytes (Whisper reads at most
/// 224 tokens of prompt; a token is rarely shorter than 3 bytes).
pub const MAX_PROMPT_BYTES: usize = 600;

/// How much of an error response's body goes into the error message.
const BODY_EXCERPT_CHARS: usize = 200;

/// The largest transcription response read (JSON text).
const MAX_TRANSCRIPT_RESPONSE_BYTES: u64 = 1 << 20;

/// An OpenAI-compatible transcription service (`POST {base_url}/v1/audio/transcriptions`).
#[derive(Clone, PartialEq)]
pub struct HttpRecognizerConfig {
    /// The service's root, `https://…` or `http://…`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The `model` field (`whisper-1`, `gpt-4o-transcribe`, a local server's model name).
    pub model: String,
    /// The `language` field (ISO 639-1, e.g. `en`, `hr`); `None` lets the service detect.
    pub language: Option<String>,
    /// The `response_format` field; `None` leaves the service's default (`json`).
    /// `verbose_json` makes Whisper servers report per-segment confidence.
    pub response_format: Option<String>,
    /// Rate of the PCM given to `feed`, and of the WAV sent.
    pub sample_rate: u32,
    /// Longest utterance buffered; feeding more is an error.
    pub max_audio: Duration,
    /// Whose certificates https services are checked against.
    pub tls_roots: TlsRoots,
    /// Time to establish the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for the whole request, from connecting to reading the last byte of the answer.
    pub timeout: Duration,
}

impl HttpRecognizerConfig {
    /// 8 kHz telephone audio, 5 s to connect, 20 s in all, utterances up to 60 s.
    pub fn new(base_url: &str, model: &str) -> HttpRecognizerConfig {
        HttpRecognizerConfig {
            base_url: base_url.to_string(),
            api_key: None,
            model: model.to_string(),
            language: None,
            response_format: None,
            sample_rate: 8000,
            max_audio: Duration::from_secs(60),
            tls_roots: TlsRoots::Mozilla,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
        }
    }
}

impl fmt::Debug for HttpRecognizerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRecognizerConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("language", &self.language)
            .field("response_format", &self.response_format)
            .field("sample_rate", &self.sample_rate)
            .field("max_audio", &self.max_audio)
            .field("tls_roots", &self.tls_roots)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `{base}/v1/{path}`, without doubling a `/v1` the base already ends with: services
/// are configured by their root or by their `/v1` URL alike.
pub fn endpoint(base_url: &str, path: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    format!("{base}/v1/{path}")
}

/// Which certificate authorities an https service's certificate must chain to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsRoots {
    /// Mozilla's roots, built into the binary: the same on every machine, whatever its
    /// certificate store holds (or lacks, in a minimal container).
    #[default]
    Mozilla,
    /// The operating system's trust store (on Linux the `ca-certificates` bundle, through
    /// `rustls-platform-verifier`): for services whose certificate comes from a private
    /// CA, or networks that inspect TLS with their own CA.
    System,
}

/// The HTTP client every outbound service call of voxgate's uses (speech services,
/// LLM analysers, recording downloads): rustls with `roots`, the two time limits, error
/// statuses returned as responses (so that their bodies can be quoted) and no redirects
/// (a service that redirects is misconfigured, and a redirect could leave an
/// allow-listed host).
pub fn agent(connect_timeout: Duration, timeout: Duration, roots: TlsRoots) -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let roots = match roots {
        TlsRoots::Mozilla => RootCerts::WebPki,
        TlsRoots::System => RootCerts::PlatformVerifier,
    };
    ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .root_certs(roots)
                .build(),
        )
        .timeout_connect(Some(connect_timeout))
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("voxgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn check_base_url(base_url: &str) -> Result<(), SpeechError> {
    let b = base_url.trim();
    if b.starts_with("http://") || b.starts_with("https://") {
        Ok(())
    } else {
        Err(SpeechError::Init(format!(
            "speech service URL `{b}` must start with http:// or https://"
        )))
    }
}

/// The first characters of a body, on one line, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(BODY_EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > BODY_EXCERPT_CHARS {
        out.push('…');
    }
    out.trim().to_string()
}

fn transport_error(url: &str, timeout: Duration, e: ureq::Error) -> SpeechError {
    match e {
        ureq::Error::Timeout(which) => SpeechError::Http(format!(
            "POST {url}: timed out ({which}; total limit {} ms)",
            timeout.as_millis()
        )),
        ureq::Error::BodyExceedsLimit(limit) => {
            SpeechError::Http(format!("POST {url}: response larger than {limit} bytes"))
        }
        e => SpeechError::Http(format!("POST {url}: {e}")),
    }
}

/// Sends a prepared request and returns the body of a 2xx answer; anything else is an
/// error naming the URL, the status and the start of the body.
fn post(
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: &[u8],
    url: &str,
    timeout: Duration,
    limit: u64,
) -> Result<Vec<u8>, SpeechError> {
    let response = request
        .send(body)
        .map_err(|e| transport_error(url, timeout, e))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .into_with_config()
        .limit(limit)
        .read_to_vec();
    if !status.is_success() {
        // The body of an error is only quoted; failing to read it is not the news.
        let body = bytes.unwrap_or_default();
        return Err(SpeechError::Http(format!(
            "POST {url}: HTTP {status}: {}",
            excerpt(&body)
        )));
    }
    bytes.map_err(|e| transport_error(url, timeout, e))
}

/// A multipart/form-data body and its boundary.
struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Multipart {
    /// A boundary that does not occur in any of `contents`.
    fn new(contents: &[&[u8]]) -> Multipart {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            let mut h = Sha256::new();
            h.update(nanos.to_le_bytes());
            h.update(n.to_le_bytes());
            h.update(std::process::id().to_le_bytes());
            let boundary = format!("voxgate-{}", &hex::encode(h.finalize())[..32]);
            let b = boundary.as_bytes();
            if !contents.iter().any(|c| c.windows(b.len()).any(|w| w == b)) {
                return Multipart {
                    boundary,
                    body: Vec::new(),
                };
            }
        }
    }

    fn text(&mut self, name: &str, value: &str) {
        self.part(name, None, value.as_bytes());
    }

    fn part(&mut self, name: &str, file: Option<(&str, &str)>, value: &[u8]) {
        let b = &mut self.body;
        b.extend_from_slice(b"--");
        b.extend_from_slice(self.boundary.as_bytes());
        b.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        b.extend_from_slice(name.as_bytes());
        b.push(b'"');
        if let Some((filename, content_type)) = file {
            b.extend_from_slice(b"; filename=\"");
            b.extend_from_slice(filename.as_bytes());
            b.extend_from_slice(b"\"\r\nContent-Type: ");
            b.extend_from_slice(content_type.as_bytes());
        }
        b.extend_from_slice(b"\r\n\r\n");
        b.extend_from_slice(value);
        b.extend_from_slice(b"\r\n");
    }

    fn finish(mut self) -> (String, Vec<u8>) {
        self.body.extend_from_slice(b"--");
        self.body.extend_from_slice(self.boundary.as_bytes());
        self.body.extend_from_slice(b"--\r\n");
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            self.body,
        )
    }
}

/// What transcription services answer: `json` has `text`; `verbose_json` adds segments
/// with `avg_logprob`; `gpt-4o-transcribe` with `include[]=logprobs` adds token logprobs.
#[derive(Debug, Deserialize)]
struct TranscriptionResponse {
    text: String,
    #[serde(default)]
    segments: Vec<Segment>,
    #[serde(default)]
    logprobs: Vec<TokenLogprob>,
}

#[derive(Debug, Deserialize)]
struct Segment {
    avg_logprob: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct TokenLogprob {
    logprob: Option<f64>,
}

impl TranscriptionResponse {
    /// `exp` of the mean reported log probability, if any was reported.
    fn confidence(&self) -> Option<f32> {
        let mean = |values: Vec<f64>| {
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let finite = |v: &Option<f64>| v.filter(|v| v.is_finite());
        let segments = mean(
            self.segments
                .iter()
                .filter_map(|s| finite(&s.avg_logprob))
                .collect(),
        );
        let tokens = mean(
            self.logprobs
                .iter()
                .filter_map(|t| finite(&t.logprob))
                .collect(),
        );
        segments
            .or(tokens)
            .map(|lp| lp.exp().clamp(0.0, 1.0) as f32)
    }
}

/// A transcription service as a [`Recognizer`]: buffers the utterance, transcribes it at
/// [`Recognizer::finish`] (blocking, bounded by the configured timeouts).
pub struct HttpRecognizer {
    config: HttpRecognizerConfig,
    url: String,
    agent: ureq::Agent,
    /// The utterance so far; `None` outside an utterance.
    audio: Option<Vec<i16>>,
    grammar: Option<Grammar>,
    prompt: Option<String>,
}

impl fmt::Debug for HttpRecognizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRecognizer")
            .field("config", &self.config)
            .field("buffered", &self.audio.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl HttpRecognizer {
    /// Checks the configuration; connects only when an utterance is transcribed.
    pub fn new(config: HttpRecognizerConfig) -> Result<HttpRecognizer, SpeechError> {
        check_base_url(&config.base_url)?;
        if config.sample_rate == 0 {
            return Err(SpeechError::Init("sample rate 0".into()));
        }
        if config.model.trim().is_empty() {
            return Err(SpeechError::Init("transcription model not set".into()));
        }
        Ok(HttpRecognizer {
            url: endpoint(&config.base_url, "audio/transcriptions"),
            agent: agent(config.connect_timeout, config.timeout, config.tls_roots),
            config,
            audio: None,
            grammar: None,
            prompt: None,
        })
    }

    /// The URL utterances are sent to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn max_samples(&self) -> usize {
        let max = self.config.max_audio.as_millis() * u128::from(self.config.sample_rate) / 1000;
        usize::try_from(max).unwrap_or(usize::MAX)
    }

    /// Sends one utterance and returns the service's answer.
    fn transcribe(&self, samples: &[i16]) -> Result<TranscriptionResponse, SpeechError> {
        let wav = wav::encode_pcm16_mono(self.config.sample_rate, samples);
        let mut contents: Vec<&[u8]> = vec![&wav, self.config.model.as_bytes()];
        if let Some(p) = &self.prompt {
            contents.push(p.as_bytes());
        }
        let mut form = Multipart::new(&contents);
        form.part("file", Some(("utterance.wav", "audio/wav")), &wav);
        form.text("model", &self.config.model);
        if let Some(language) = &self.config.language {
            form.text("language", language);
        }
        if let Some(prompt) = &self.prompt {
            form.text("prompt", prompt);
        }
        if let Some(format) = &self.config.response_format {
            form.text("response_format", format);
        }
        let (content_type, body) = form.finish();
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", &content_type)
            .header("Accept", "application/json");
        if let Some(key) = &self.config.api_key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let started = std::time::Instant::now();
        let answer = post(
            request,
            &body,
            &self.url,
            self.config.timeout,
            MAX_TRANSCRIPT_RESPONSE_BYTES,
        )?;
        tracing::debug!(
            url = %self.url,
            audio_ms = samples.len() as u64 * 1000 / u64::from(self.config.sample_rate),
            took_ms = started.elapsed().as_millis() as u64,
            "transcribed"
        );
        serde_json::from_slice(&answer).map_err(|e| {
            SpeechError::Http(format!(
                "POST {}: response is not a transcription ({e}): {}",
                self.url,
                excerpt(&answer)
            ))
        })
    }
}

impl Recognizer for HttpRecognizer {
    fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    fn start(&mut self, grammar: &Grammar) -> Result<(), SpeechError> {
        if matches!(grammar, Grammar::Jsgf(_)) {
            return Err(SpeechError::Grammar(
                "a transcription service cannot follow a JSGF grammar; use phrases".into(),
            ));
        }
        self.prompt = recognizer::prompt_from_grammar(grammar, MAX_PROMPT_BYTES);
        self.grammar = Some(grammar.clone());
        self.audio = Some(Vec::new());
        Ok(())
    }

    fn feed(&mut self, pcm: &[i16]) -> Result<Option<Hypothesis>, SpeechError> {
        let max = self.max_samples();
        let audio = self.audio.as_mut().ok_or(SpeechError::NotStarted)?;
        if audio.len() + pcm.len() > max {
            return Err(SpeechError::Recognize(format!(
                "utterance longer than {} ms",
                self.config.max_audio.as_millis()
            )));
        }
        audio.extend_from_slice(pcm);
        Ok(None)
    }

    fn finish(&mut self) -> Result<Option<Hypothesis>, SpeechError> {
        let audio = self.audio.take().ok_or(SpeechError::NotStarted)?;
        if audio.is_empty() {
            return Ok(None);
        }
        let response = self.transcribe(&audio)?;
        let confidence = response.confidence().unwrap_or(DEFAULT_CONFIDENCE);
        Ok(recognizer::final_hypothesis(
            &response.text,
            confidence,
            self.grammar.as_ref(),
        ))
    }
}

/// The largest synthesis response read (a WAV): ten minutes of 24 kHz 16-bit audio.
pub const MAX_SPEECH_RESPONSE_BYTES: u64 = 30 << 20;

/// An OpenAI-compatible speech service (`POST {base_url}/v1/audio/speech`, answering
/// with a WAV).
#[derive(Clone, PartialEq)]
pub struct HttpSynthesizerConfig {
    /// Part of [`Synthesizer::name`], which prompt cache keys include (see there).
    pub name: String,
    /// The service's root, `https://…` or `http://…`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The `model` field (`tts-1`, `gpt-4o-mini-tts`, a local server's model name).
    pub model: String,
    /// The service's voice for each language (BCP 47 tag, matched case-insensitively;
    /// `hr-HR` falls back to `hr`).
    pub voices: BTreeMap<String, String>,
    /// The voice for languages without an entry in `voices`; `None` refuses them.
    pub default_voice: Option<String>,
    /// Languages it is offered for; empty means the keys of `voices`.
    pub languages: Vec<String>,
    /// Whose certificates https services are checked against.
    pub tls_roots: TlsRoots,
    /// Time to establish the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for the whole request, from connecting to reading the last byte of the WAV.
    pub timeout: Duration,
}

impl HttpSynthesizerConfig {
    /// Named `http`, no voices yet, 5 s to connect, 30 s in all.
    pub fn new(base_url: &str, model: &str) -> HttpSynthesizerConfig {
        HttpSynthesizerConfig {
            name: "http".to_string(),
            base_url: base_url.to_string(),
            api_key: None,
            model: model.to_string(),
            voices: BTreeMap::new(),
            default_voice: None,
            languages: Vec::new(),
            tls_roots: TlsRoots::Mozilla,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for HttpSynthesizerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSynthesizerConfig")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("voices", &self.voices)
            .field("default_voice", &self.default_voice)
            .field("languages", &self.languages)
            .field("tls_roots", &self.tls_roots)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(serde::Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    input: &'a str,
    voice: &'a str,
    response_format: &'a str,
}

/// A speech service as a [`Synthesizer`]. Holds no per-call state: one instance serves
/// every thread (connections are pooled by the agent).
pub struct HttpSynthesizer {
    config: HttpSynthesizerConfig,
    url: String,
    agent: ureq::Agent,
    /// Lower-cased language tag → voice.
    voices: BTreeMap<String, String>,
    name: String,
}

impl fmt::Debug for HttpSynthesizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSynthesizer")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpSynthesizer {
    pub fn new(config: HttpSynthesizerConfig) -> Result<HttpSynthesizer, SpeechError> {
        check_base_url(&config.base_url)?;
        if config.model.trim().is_empty() {
            return Err(SpeechError::Init("speech model not set".into()));
        }
        if config.voices.is_empty() && config.default_voice.is_none() {
            return Err(SpeechError::Init(
                "no voices: set a voice per language or a default voice".into(),
            ));
        }
        let voices = config
            .voices
            .iter()
            .map(|(lang, voice)| (canonical_tag(lang), voice.clone()))
            .collect();
        // Prompt cache keys include the name, and the disk cache outlives restarts: the
        // name changes with anything that changes how a text sounds.
        let mut h = Sha256::new();
        for part in [&config.base_url, &config.model] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for (lang, voice) in &config.voices {
            h.update(format!("{}={voice};", canonical_tag(lang)).as_bytes());
        }
        h.update(config.default_voice.as_deref().unwrap_or("").as_bytes());
        let name = format!("{}-{}", config.name, &hex::encode(h.finalize())[..8]);
        Ok(HttpSynthesizer {
            url: endpoint(&config.base_url, "audio/speech"),
            agent: agent(config.connect_timeout, config.timeout, config.tls_roots),
            voices,
            name,
            config,
        })
    }

    /// The URL texts are sent to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The service's voice for `voice`: its explicit name, else the language's voice,
    /// else the primary language's, else the default.
    pub fn resolve<'a>(&'a self, voice: &'a Voice) -> Option<&'a str> {
        if let Some(name) = &voice.name {
            return Some(name);
        }
        let tag = canonical_tag(&voice.language);
        let primary = tag.split('-').next().unwrap_or_default();
        self.voices
            .get(&tag)
            .or_else(|| self.voices.get(primary))
            .map(String::as_str)
            .or(self.config.default_voice.as_deref())
    }
}

fn canonical_tag(tag: &str) -> String {
    tag.trim().replace('_', "-").to_ascii_lowercase()
}

impl Synthesizer for HttpSynthesizer {
    /// `{config.name}-{hash}`, the hash over the URL, model and voices: prompts cached
    /// on disk are not replayed after the operator switches service, model or voice.
    fn name(&self) -> &str {
        &self.name
    }

    fn languages(&self) -> Vec<String> {
        if self.config.languages.is_empty() {
            self.config.voices.keys().cloned().collect()
        } else {
            self.config.languages.clone()
        }
    }

    fn synthesize(&self, text: &str, voice: &Voice) -> Result<Pcm, SpeechError> {
        let service_voice = self.resolve(voice).ok_or_else(|| {
            SpeechError::UnknownVoice(match &voice.name {
                Some(n) => format!("{}/{n}", voice.language),
                None => voice.language.clone(),
            })
        })?;
        let request = SpeechRequest {
            model: &self.config.model,
            input: text,
            voice: service_voice,
            response_format: "wav",
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| SpeechError::Synthesize(format!("request: {e}")))?;
        let mut http = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "audio/wav");
        if let Some(key) = &self.config.api_key {
            http = http.header("Authorization", &format!("Bearer {key}"));
        }
        let answer = post(
            http,
            &body,
            &self.url,
            self.config.timeout,
            MAX_SPEECH_RESPONSE_BYTES,
        )?;
        wav::decode(&answer).map_err(|e| {
            SpeechError::Http(format!(
                "POST {}: response is not usable audio: {e}",
                self.url
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_accept_a_base_with_or_without_v1() {
        assert_eq!(
            endpoint("https://api.openai.com", "audio/speech"),
            "https://api.openai.com/v1/audio/speech"
        );
        assert_eq!(
            endpoint("https://api.openai.com/v1/", "audio/speech"),
            "https://api.openai.com/v1/audio/speech"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8000/", "audio/transcriptions"),
            "http://127.0.0.1:8000/v1/audio/transcriptions"
        );
    }

    #[test]
    fn confidence_from_segments_or_tokens() {
        let r: TranscriptionResponse = serde_json::from_str(
            r#"{"text":"hi","segments":[{"avg_logprob":-0.1},{"avg_logprob":-0.3}]}"#,
        )
        .unwrap();
        assert!((r.confidence().unwrap() - (-0.2f32).exp()).abs() < 1e-6);
        let r: TranscriptionResponse =
            serde_json::from_str(r#"{"text":"hi","logprobs":[{"token":"hi","logprob":0.0}]}"#)
                .unwrap();
        assert_eq!(r.confidence(), Some(1.0));
        let r: TranscriptionResponse = serde_json::from_str(r#"{"text":"hi"}"#).unwrap();
        assert_eq!(r.confidence(), None);
    }

    #[test]
    fn debug_output_hides_the_key() {
        let mut c = HttpRecognizerConfig::new("https://example.invalid", "whisper-1");
        c.api_key = Some("sk-secret".into());
        assert!(!format!("{c:?}").contains("sk-secret"));
        let mut s = HttpSynthesizerConfig::new("https://example.invalid", "tts-1");
        s.api_key = Some("sk-secret".into());
        s.default_voice = Some("alloy".into());
        assert!(!format!("{s:?}").contains("sk-secret"));
        assert!(!format!("{:?}", HttpSynthesizer::new(s).unwrap()).contains("sk-secret"));
    }

    #[test]
    fn voices_resolve_by_language() {
        let mut c = HttpSynthesizerConfig::new("http://127.0.0.1:1", "tts-1");
        c.voices.insert("en".into(), "alloy".into());
        c.voices.insert("hr_HR".into(), "nova".into());
        let s = HttpSynthesizer::new(c.clone()).unwrap();
        assert_eq!(s.resolve(&Voice::language("en-GB")), Some("alloy"));
        assert_eq!(s.resolve(&Voice::language("hr-hr")), Some("nova"));
        assert_eq!(s.resolve(&Voice::language("de")), None);
        let named = Voice {
            language: "de".into(),
            name: Some("onyx".into()),
        };
        assert_eq!(s.resolve(&named), Some("onyx"));
        assert_eq!(s.languages(), vec!["en".to_string(), "hr_HR".to_string()]);
        c.default_voice = Some("echo".into());
        let s2 = HttpSynthesizer::new(c).unwrap();
        assert_eq!(s2.resolve(&Voice::language("de")), Some("echo"));
        assert_ne!(s.name(), s2.name(), "a changed voice changes cache keys");
        assert!(s.name().starts_with("http-"));
    }

    #[test]
    fn multipart_boundary_avoids_the_content() {
        let m = Multipart::new(&[b"abc"]);
        let mut form = Multipart::new(&[m.boundary.as_bytes()]);
        assert_ne!(form.boundary, m.boundary);
        form.text("model", "whisper-1");
        let (content_type, body) = form.finish();
        let body = String::from_utf8(body).unwrap();
        let boundary = content_type.split("boundary=").nth(1).unwrap();
        assert!(body.starts_with(&format!("--{boundary}\r\n")));
        assert!(body.contains("name=\"model\"\r\n\r\nwhisper-1\r\n"));
        assert!(body.ends_with("--\r\n"));
    }
}
