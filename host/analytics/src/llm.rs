//! An optional analyser that asks a large language model, through any OpenAI-compatible
//! chat-completions service (OpenAI, Azure OpenAI's compatible endpoint, vLLM, Ollama,
//! llama.cpp's server …).
//!
//! * One blocking `POST {base_url}/chat/completions` per call, with
//!   `response_format: {"type": "json_object"}` and temperature 0. The system prompt
//!   asks for exactly the fields of an [`Analysis`] a model can fill: sentiment (overall,
//!   customer, agent: label and score), one category from the allowed list (the
//!   built-ins and the tenant's own, with the tenant's words as hints), a tone per side
//!   from [`TONES`], and keywords. The transcript follows as `agent:` / `customer:` lines
//!   (`speaker:` for turns of a mono recording).
//! * The answer is checked strictly; anything unusable is [`AnalyseError::BadAnswer`]
//!   naming the field: an unknown label, category or tone, a score outside −1..1 or one
//!   that contradicts its label, a missing field, a side's sentiment or tone missing
//!   although that side spoke. Labels, categories and tones are compared without regard
//!   to case; extra fields are ignored. A side that did not speak gets `None` whatever
//!   the model said. [`Analysis::categories`] is the one category with 1.0; the tenant's
//!   keywords that were said go first, then the model's, at most
//!   [`MAX_KEYWORDS`].
//! * Transport errors, timeouts, 408, 429 and 5xx are [`AnalyseError::Unavailable`]
//!   (worth retrying); other 4xx (a wrong key, an unknown model, a transcript too long
//!   for the model) and redirects are [`AnalyseError::Invalid`]. Errors name the URL and
//!   status with the start of the body; the API key never appears in errors or in
//!   `Debug` output.
//! * The answer is read up to [`MAX_RESPONSE_BYTES`]; the whole request, reading
//!   included, is bounded by [`LlmConfig::timeout`].
//!
//! `base_url` is the API root including its version, as OpenAI documents it
//! (`https://api.openai.com/v1`, `http://localhost:11434/v1`).

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::analyser::{
    AnalyseError, Analyser, Analysis, Polarity, Rules, Sentiment, Sentiments, Speaker, Tones,
    Transcript,
};
use voxgate_speech::http::{TlsRoots, agent, endpoint, excerpt};

use crate::lexicon::{self, MAX_KEYWORDS, TONES};

/// The largest answer read from the service.
pub const MAX_RESPONSE_BYTES: u64 = 1 << 20;

/// The longest a connection may take to open (within [`LlmConfig::timeout`]).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to reach the model.
#[derive(Clone, PartialEq)]
pub struct LlmConfig {
    /// The service's root (`https://api.openai.com`) or its `/v1` URL.
    pub base_url: String,
    /// The `model` field (`gpt-4o-mini`, `llama3.1:8b` …).
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// For the whole request, from connecting to reading the last byte of the answer.
    pub timeout: Duration,
    /// Whose certificates an https service's must chain to.
    pub tls_roots: TlsRoots,
}

impl LlmConfig {
    /// No key, 60 s to answer.
    pub fn new(base_url: &str, model: &str) -> LlmConfig {
        LlmConfig {
            base_url: base_url.to_string(),
            model: model.to_string(),
            api_key: None,
            timeout: Duration::from_secs(60),
            tls_roots: TlsRoots::Mozilla,
        }
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("tls_roots", &self.tls_roots)
            .finish()
    }
}

/// The LLM analyser (see the [module docs](self)).
pub struct LlmAnalyser {
    config: LlmConfig,
    url: String,
    name: String,
    agent: ureq::Agent,
}

impl fmt::Debug for LlmAnalyser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmAnalyser")
            .field("config", &self.config)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl LlmAnalyser {
    /// Checks the configuration; connects only when analysing.
    pub fn new(config: LlmConfig) -> Result<LlmAnalyser, AnalyseError> {
        let base = config.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(AnalyseError::Invalid(format!(
                "LLM service URL `{base}` must start with http:// or https://"
            )));
        }
        if config.model.trim().is_empty() {
            return Err(AnalyseError::Invalid("LLM model name is empty".to_string()));
        }
        if config.timeout.is_zero() {
            return Err(AnalyseError::Invalid("LLM timeout is zero".to_string()));
        }
        let url = endpoint(base, "chat/completions");
        let name = format!("llm:{}", config.model.trim());
        let agent = agent(
            CONNECT_TIMEOUT.min(config.timeout),
            config.timeout,
            config.tls_roots,
        );
        Ok(LlmAnalyser {
            config,
            url,
            name,
            agent,
        })
    }

    /// The name in [`Analysis::analyser`]: `llm:<model>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends the request and returns the body of a 2xx answer.
    fn post(&self, body: &[u8]) -> Result<Vec<u8>, AnalyseError> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(key) = self.config.api_key.as_deref().filter(|k| !k.is_empty()) {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let response = request.send(body).map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let limit = if status.is_success() {
            MAX_RESPONSE_BYTES
        } else {
            64 * 1024
        };
        let bytes = response
            .into_body()
            .into_with_config()
            .limit(limit)
            .read_to_vec();
        if status.is_success() {
            return bytes.map_err(|e| self.transport_error(e));
        }
        // The body of an error is only quoted; failing to read it is not the news.
        let body = bytes.unwrap_or_default();
        let message = format!("POST {}: HTTP {status}: {}", self.url, excerpt(&body));
        let code = status.as_u16();
        Err(if code == 408 || code == 429 || status.is_server_error() {
            AnalyseError::Unavailable(message)
        } else {
            AnalyseError::Invalid(message)
        })
    }

    fn transport_error(&self, e: ureq::Error) -> AnalyseError {
        let url = &self.url;
        match e {
            ureq::Error::Timeout(which) => AnalyseError::Unavailable(format!(
                "POST {url}: timed out ({which}; limit {} ms)",
                self.config.timeout.as_millis()
            )),
            ureq::Error::BodyExceedsLimit(limit) => {
                AnalyseError::BadAnswer(format!("POST {url}: answer larger than {limit} bytes"))
            }
            e @ (ureq::Error::BadUri(_) | ureq::Error::Http(_)) => {
                AnalyseError::Invalid(format!("POST {url}: {e}"))
            }
            e => AnalyseError::Unavailable(format!("POST {url}: {e}")),
        }
    }
}

impl Analyser for LlmAnalyser {
    fn analyse(&self, transcript: &Transcript, rules: &Rules) -> Result<Analysis, AnalyseError> {
        let language = match lexicon::primary_language(&transcript.language) {
            l if l.is_empty() => "en".to_string(),
            l => l,
        };
        let spoke = |s: Speaker| {
            transcript
                .turns
                .iter()
                .any(|t| t.speaker == s && !t.text.trim().is_empty())
        };
        let sides = Sides {
            customer: spoke(Speaker::Customer),
            agent: spoke(Speaker::Agent),
        };
        let lines = transcript_lines(transcript);
        if lines.is_empty() {
            // Nothing was said: nothing to pay a model for.
            return Ok(Analysis {
                analyser: self.name.clone(),
                language,
                sentiment: Sentiments {
                    overall: Sentiment {
                        label: Polarity::Neutral,
                        score: 0.0,
                    },
                    customer: None,
                    agent: None,
                },
                category: "other".to_string(),
                categories: vec![("other".to_string(), 1.0)],
                tone: Tones::default(),
                keywords: Vec::new(),
            });
        }
        let categories = lexicon::category_names(rules);
        let request = json!({
            "model": self.config.model.trim(),
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": system_prompt(&categories, rules)},
                {"role": "user", "content": format!(
                    "Language of the call: {language}\n\nTranscript:\n{lines}"
                )},
            ],
        });
        let body = serde_json::to_vec(&request)
            .map_err(|e| AnalyseError::Invalid(format!("cannot encode the request: {e}")))?;
        let answer = self.post(&body)?;
        let content = completion_content(&answer)?;
        let mut analysis = parse_analysis(&content, &categories, sides)?;
        analysis.analyser = self.name.clone();
        analysis.language = language;
        let mut keywords = lexicon::tenant_keywords(transcript, rules);
        for k in analysis.keywords {
            if !keywords
                .iter()
                .any(|o| o.to_lowercase() == k.to_lowercase())
            {
                keywords.push(k);
            }
        }
        keywords.truncate(MAX_KEYWORDS);
        analysis.keywords = keywords;
        Ok(analysis)
    }
}

/// `agent: …` / `customer: …` / `speaker: …` lines, one per turn with words.
fn transcript_lines(transcript: &Transcript) -> String {
    let mut out = String::new();
    for t in &transcript.turns {
        let text = t.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        let who = match t.speaker {
            Speaker::Agent => "agent",
            Speaker::Customer => "customer",
            Speaker::Unknown => "speaker",
        };
        out.push_str(who);
        out.push_str(": ");
        out.push_str(&text);
        out.push('\n');
    }
    out
}

fn system_prompt(categories: &[String], rules: &Rules) -> String {
    let describe = |c: &str| -> String {
        let builtin = match c {
            "complaint" => "something is wrong: damaged or faulty goods, bad service, refunds",
            "question" => "asks for information or advice: opening hours, how to, is it possible",
            "order" => "buying: a new order, prices, stock, changing or cancelling an order",
            "delivery" => {
                "getting goods to the customer: where is my parcel, delivery times, couriers"
            }
            "other" => "none of the others",
            _ => "",
        };
        let mut hints: Vec<&str> = Vec::new();
        for (name, phrases) in &rules.categories {
            if name.trim().eq_ignore_ascii_case(c) {
                hints.extend(phrases.iter().map(|p| p.trim()).filter(|p| !p.is_empty()));
            }
        }
        let hints = if hints.is_empty() {
            String::new()
        } else {
            format!("words that point to it: {}", hints.join(", "))
        };
        match (builtin.is_empty(), hints.is_empty()) {
            (false, false) => format!("- {c}: {builtin}; {hints}"),
            (false, true) => format!("- {c}: {builtin}"),
            (true, false) => format!("- {c}: {hints}"),
            (true, true) => format!("- {c}"),
        }
    };
    let categories = categories
        .iter()
        .map(|c| describe(c))
        .collect::<Vec<_>>()
        .join("\n");
    let tones = TONES.join(", ");
    format!(
        "You analyse the transcript of a phone call between a company's agent and a customer.\n\
         Lines starting with `agent:` are the agent, `customer:` the customer, `speaker:` \
         either of them (the recording could not tell them apart). The words come from \
         speech recognition: lower case, no punctuation, some words misheard.\n\n\
         Answer with one JSON object and nothing else, with exactly these fields:\n\
         {{\"sentiment\": {{\"overall\": S, \"customer\": S or null, \"agent\": S or null}}, \
         \"category\": C, \"tone\": {{\"customer\": T or null, \"agent\": T or null}}, \
         \"keywords\": [K, ...]}}\n\n\
         S is {{\"label\": L, \"score\": N}}: L is \"positive\", \"negative\" or \"neutral\"; N is a \
         number from -1 (very negative) to 1 (very positive) that agrees with L. \"overall\" is \
         the whole call, weighing the customer's feelings more than the agent's scripted \
         politeness. A side is null when it has no `agent:` or `customer:` line.\n\n\
         C is exactly one of these categories, the one the call is mostly about:\n\
         {categories}\n\n\
         T is exactly one of: {tones}.\n\n\
         K are at most {MAX_KEYWORDS} short words or phrases from the call, in its language, \
         that say what it was about, most telling first."
    )
}

/// `choices[0].message.content` of a chat completion.
fn completion_content(answer: &[u8]) -> Result<String, AnalyseError> {
    let bad = |what: &str| AnalyseError::BadAnswer(what.to_string());
    let v: Value = serde_json::from_slice(answer).map_err(|e| {
        AnalyseError::BadAnswer(format!("not a chat completion ({e}): {}", excerpt(answer)))
    })?;
    let choice = v
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| bad("choices: missing or empty"))?;
    if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
        return Err(bad(
            "choices[0].finish_reason: length (the answer was cut off)",
        ));
    }
    let message = choice
        .get("message")
        .ok_or_else(|| bad("choices[0].message: missing"))?;
    match message.get("content").and_then(Value::as_str) {
        Some(c) => Ok(c.to_string()),
        None => {
            let refusal = message
                .get("refusal")
                .and_then(Value::as_str)
                .map(|r| format!(" (refusal: {})", excerpt(r.as_bytes())))
                .unwrap_or_default();
            Err(AnalyseError::BadAnswer(format!(
                "choices[0].message.content: missing{refusal}"
            )))
        }
    }
}

/// Which sides spoke (their sentiment and tone are required).
#[derive(Debug, Clone, Copy)]
struct Sides {
    customer: bool,
    agent: bool,
}

fn bad(field: &str, problem: impl fmt::Display) -> AnalyseError {
    AnalyseError::BadAnswer(format!("{field}: {problem}"))
}

/// The model's JSON object as an [`Analysis`] (`analyser` and `language` left empty).
fn parse_analysis(
    content: &str,
    categories: &[String],
    sides: Sides,
) -> Result<Analysis, AnalyseError> {
    let text = strip_code_fence(content);
    let v: Value = serde_json::from_str(text).map_err(|e| {
        bad(
            "content",
            format!("not JSON ({e}): {}", excerpt(text.as_bytes())),
        )
    })?;
    if !v.is_object() {
        return Err(bad("content", "not a JSON object"));
    }
    let sentiment = required(&v, "sentiment", "sentiment")?;
    if !sentiment.is_object() {
        return Err(bad("sentiment", "not an object"));
    }
    let overall = parse_sentiment(
        required(sentiment, "overall", "sentiment.overall")?,
        "sentiment.overall",
    )?;
    let side_sentiment = |key: &str, spoke: bool| -> Result<Option<Sentiment>, AnalyseError> {
        let field = format!("sentiment.{key}");
        match (spoke, sentiment.get(key)) {
            (false, _) => Ok(None),
            (true, None | Some(Value::Null)) => {
                Err(bad(&field, "missing, although that side spoke"))
            }
            (true, Some(s)) => parse_sentiment(s, &field).map(Some),
        }
    };
    let customer = side_sentiment("customer", sides.customer)?;
    let agent = side_sentiment("agent", sides.agent)?;

    let category = match required(&v, "category", "category")? {
        Value::String(c) => {
            let c = c.trim();
            categories
                .iter()
                .find(|k| k.eq_ignore_ascii_case(c) || k.to_lowercase() == c.to_lowercase())
                .cloned()
                .ok_or_else(|| {
                    bad(
                        "category",
                        format!("unknown category `{}`", excerpt(c.as_bytes())),
                    )
                })?
        }
        _ => return Err(bad("category", "not a string")),
    };

    let tone = required(&v, "tone", "tone")?;
    if !tone.is_object() {
        return Err(bad("tone", "not an object"));
    }
    let side_tone = |key: &str, spoke: bool| -> Result<Option<String>, AnalyseError> {
        let field = format!("tone.{key}");
        match (spoke, tone.get(key)) {
            (false, _) => Ok(None),
            (true, None | Some(Value::Null)) => {
                Err(bad(&field, "missing, although that side spoke"))
            }
            (true, Some(Value::String(t))) => {
                let t = t.trim().to_lowercase();
                TONES
                    .iter()
                    .find(|k| **k == t)
                    .map(|k| Some(k.to_string()))
                    .ok_or_else(|| bad(&field, format!("unknown tone `{}`", excerpt(t.as_bytes()))))
            }
            (true, Some(_)) => Err(bad(&field, "not a string")),
        }
    };
    let tones = Tones {
        customer: side_tone("customer", sides.customer)?,
        agent: side_tone("agent", sides.agent)?,
    };

    let mut keywords: Vec<String> = Vec::new();
    match required(&v, "keywords", "keywords")? {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let Value::String(k) = item else {
                    return Err(bad(&format!("keywords[{i}]"), "not a string"));
                };
                let k = k.split_whitespace().collect::<Vec<_>>().join(" ");
                if !k.is_empty()
                    && !keywords
                        .iter()
                        .any(|o| o.to_lowercase() == k.to_lowercase())
                {
                    keywords.push(k);
                }
            }
        }
        _ => return Err(bad("keywords", "not an array")),
    }
    keywords.truncate(MAX_KEYWORDS);

    Ok(Analysis {
        analyser: String::new(),
        language: String::new(),
        sentiment: Sentiments {
            overall,
            customer,
            agent,
        },
        categories: vec![(category.clone(), 1.0)],
        category,
        tone: tones,
        keywords,
    })
}

fn required<'a>(v: &'a Value, key: &str, field: &str) -> Result<&'a Value, AnalyseError> {
    match v.get(key) {
        None | Some(Value::Null) => Err(bad(field, "missing")),
        Some(x) => Ok(x),
    }
}

fn parse_sentiment(v: &Value, field: &str) -> Result<Sentiment, AnalyseError> {
    if !v.is_object() {
        return Err(bad(field, "not an object with label and score"));
    }
    let label = match required(v, "label", &format!("{field}.label"))? {
        Value::String(l) => match l.trim().to_lowercase().as_str() {
            "positive" => Polarity::Positive,
            "negative" => Polarity::Negative,
            "neutral" => Polarity::Neutral,
            other => {
                return Err(bad(
                    &format!("{field}.label"),
                    format!("unknown label `{}`", excerpt(other.as_bytes())),
                ));
            }
        },
        _ => return Err(bad(&format!("{field}.label"), "not a string")),
    };
    let score_field = format!("{field}.score");
    let score = required(v, "score", &score_field)?
        .as_f64()
        .ok_or_else(|| bad(&score_field, "not a number"))?;
    if !score.is_finite() || !(-1.0..=1.0).contains(&score) {
        return Err(bad(&score_field, format!("{score} is outside -1..1")));
    }
    let contradicts = match label {
        Polarity::Positive => score < 0.0,
        Polarity::Negative => score > 0.0,
        Polarity::Neutral => false,
    };
    if contradicts {
        return Err(bad(
            &score_field,
            format!("{score} contradicts the label {}", label.as_str()),
        ));
    }
    Ok(Sentiment {
        label,
        score: score as f32,
    })
}

/// The JSON inside a Markdown code fence, which some models add even in JSON mode.
fn strip_code_fence(content: &str) -> &str {
    let t = content.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATEGORIES: &[&str] = &["complaint", "question", "order", "delivery", "other"];

    fn categories() -> Vec<String> {
        CATEGORIES.iter().map(|c| c.to_string()).collect()
    }

    const BOTH: Sides = Sides {
        customer: true,
        agent: true,
    };

    fn good() -> Value {
        json!({
            "sentiment": {
                "overall": {"label": "negative", "score": -0.6},
                "customer": {"label": "Negative", "score": -0.8},
                "agent": {"label": "neutral", "score": 0.1}
            },
            "category": "Complaint",
            "tone": {"customer": "frustrated", "agent": "apologetic"},
            "keywords": ["lawn mower", "refund", "Refund", " ", "lawn  mower"],
            "reasoning": "ignored"
        })
    }

    #[test]
    fn a_good_answer_is_parsed() {
        let a = parse_analysis(&good().to_string(), &categories(), BOTH).expect("parsed");
        assert_eq!(a.category, "complaint");
        assert_eq!(a.categories, vec![("complaint".to_string(), 1.0)]);
        assert_eq!(
            a.sentiment.customer.map(|s| s.label),
            Some(Polarity::Negative)
        );
        assert_eq!(a.tone.agent.as_deref(), Some("apologetic"));
        assert_eq!(a.keywords, ["lawn mower", "refund"]);
        // In a code fence, as some models answer.
        let fenced = format!("```json\n{}\n```", good());
        assert!(parse_analysis(&fenced, &categories(), BOTH).is_ok());
        // A side that did not speak gets nothing, whatever the model says.
        let a = parse_analysis(
            &good().to_string(),
            &categories(),
            Sides {
                customer: true,
                agent: false,
            },
        )
        .expect("parsed");
        assert_eq!(a.sentiment.agent, None);
        assert_eq!(a.tone.agent, None);
    }

    fn error_for(change: impl FnOnce(&mut Value)) -> String {
        let mut v = good();
        change(&mut v);
        match parse_analysis(&v.to_string(), &categories(), BOTH) {
            Err(AnalyseError::BadAnswer(m)) => m,
            other => panic!("expected BadAnswer, got {other:?}"),
        }
    }

    #[test]
    fn bad_answers_name_the_field() {
        let e = error_for(|v| v["category"] = json!("gardening"));
        assert!(e.starts_with("category: unknown"), "{e}");
        let e = error_for(|v| v["tone"]["customer"] = json!("grumpy"));
        assert!(e.starts_with("tone.customer: unknown"), "{e}");
        let e = error_for(|v| v["tone"]["agent"] = Value::Null);
        assert!(e.starts_with("tone.agent: missing"), "{e}");
        let e = error_for(|v| v["sentiment"]["overall"]["label"] = json!("mixed"));
        assert!(e.starts_with("sentiment.overall.label: unknown"), "{e}");
        let e = error_for(|v| v["sentiment"]["customer"]["score"] = json!(-1.5));
        assert!(e.starts_with("sentiment.customer.score"), "{e}");
        let e = error_for(|v| v["sentiment"]["overall"]["score"] = json!(0.7));
        assert!(e.contains("contradicts"), "{e}");
        let e = error_for(|v| v["sentiment"]["overall"]["score"] = json!("high"));
        assert!(
            e.starts_with("sentiment.overall.score: not a number"),
            "{e}"
        );
        let e = error_for(|v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("keywords");
            }
        });
        assert_eq!(e, "keywords: missing");
        let e = error_for(|v| v["keywords"] = json!(["ok", 3]));
        assert_eq!(e, "keywords[1]: not a string");
        let e = error_for(|v| v["sentiment"]["agent"] = Value::Null);
        assert!(e.starts_with("sentiment.agent: missing"), "{e}");
        let e = error_for(|v| *v = json!(["not", "an", "object"]));
        assert_eq!(e, "content: not a JSON object");
        match parse_analysis("the call was fine", &categories(), BOTH) {
            Err(AnalyseError::BadAnswer(m)) => assert!(m.starts_with("content: not JSON"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn completions_are_unwrapped() {
        let answer = json!({"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]});
        assert_eq!(
            completion_content(answer.to_string().as_bytes())
                .ok()
                .as_deref(),
            Some("{}")
        );
        let cut = json!({"choices": [{"message": {"content": "{"}, "finish_reason": "length"}]});
        assert!(matches!(
            completion_content(cut.to_string().as_bytes()),
            Err(AnalyseError::BadAnswer(m)) if m.contains("cut off")
        ));
        assert!(matches!(
            completion_content(br#"{"choices": []}"#),
            Err(AnalyseError::BadAnswer(m)) if m.starts_with("choices")
        ));
        assert!(matches!(
            completion_content(b"<html>"),
            Err(AnalyseError::BadAnswer(_))
        ));
    }

    #[test]
    fn the_key_stays_out_of_debug_output() {
        let mut config = LlmConfig::new("https://api.example.invalid/v1", "m");
        config.api_key = Some("sk-secret".to_string());
        let analyser = LlmAnalyser::new(config).expect("valid");
        assert!(!format!("{analyser:?}").contains("sk-secret"));
        assert_eq!(analyser.name(), "llm:m");
        assert!(matches!(
            LlmAnalyser::new(LlmConfig::new("ftp://x", "m")),
            Err(AnalyseError::Invalid(_))
        ));
        assert!(matches!(
            LlmAnalyser::new(LlmConfig::new("http://x", " ")),
            Err(AnalyseError::Invalid(_))
        ));
    }
}
