//! PocketSphinx (Debian's 5prealpha) as a [`Recognizer`]: grammar, keyphrase and
//! language-model searches on one long-lived decoder.
//!
//! * Creating a decoder loads the acoustic model and the 135k-word dictionary: 50–170 ms
//!   with a warm page cache, against ~0.4 ms to add a 20-phrase grammar and ~0.05 ms to
//!   switch to a cached one. So one decoder serves every utterance of a recognizer;
//!   each distinct grammar is added once as a named search and later turns only switch
//!   to it (`ps_set_search`). At most
//!   [`PocketSphinxConfig::max_searches`] searches are kept (least recently used go).
//! * Telephone audio (8 kHz) is upsampled to 16 kHz by a streaming polyphase FIR before
//!   it reaches the 16 kHz en-us model ([`Narrowband::Upsample`]), with an initial
//!   cepstral mean fitted to telephone-band audio. The alternative, an 8 kHz front end
//!   (`-samprate 8000 -nfft 256 -upperf 3500`, [`Narrowband::NativeFrontEnd`]), changes
//!   the mel filter bank the model was trained with: on 14 Flite sentences in the
//!   telephone band it got 8 right where upsampling got 14 (tests/recognizer.rs), for a
//!   real-time factor of 0.010 instead of 0.014 — not worth it.
//! * Options set in the model's `feat.params` (`-upperf`, `-cmninit`, …) override the
//!   same options passed to `ps_init`, so where they must differ the decoder loads a
//!   model overlay: a directory of symlinks with a rewritten `feat.params`.
//! * Confidence: for grammar and language-model searches it is the posterior
//!   probability of the final hypothesis over the word lattice (`ps_get_prob`, a log
//!   value, turned linear with `logmath_exp`), already in 0..1. Keyword spotting has no
//!   lattice (`ps_get_prob` is 0 in the log domain), so a spotted phrase gets 1.0: it
//!   passed its own detection threshold. Partial hypotheses are not scored
//!   (confidence 0.0). Caveat: a grammar's lattice only holds the grammar's phrases, so
//!   the posterior is ~1.0 whenever one phrase wins clearly, *including* for speech
//!   outside the grammar (which comes back as the closest phrase); it does not reject
//!   out-of-grammar speech.

mod ffi;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::SpeechError;
use crate::recognizer::{Grammar, Hypothesis, Recognizer};
use ffi::Decoder;

/// The Debian package that provides the default model.
pub const DEBIAN_MODEL_PACKAGE: &str = "pocketsphinx-en-us";

const DEBIAN_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";

/// How 8 kHz audio is fed to a 16 kHz acoustic model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Narrowband {
    /// Upsample 8 kHz to 16 kHz and run the model's own front end (more accurate).
    #[default]
    Upsample,
    /// Run the front end at 8 kHz (`-samprate 8000 -nfft 256 -upperf 3500`).
    NativeFrontEnd,
}

/// Where the model is and how audio arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct PocketSphinxConfig {
    /// Acoustic model directory (`-hmm`).
    pub hmm: PathBuf,
    /// Pronunciation dictionary (`-dict`).
    pub dict: PathBuf,
    /// Language model for [`Grammar::Free`] (`en-us.lm.bin`), loaded on first use.
    pub lm: PathBuf,
    /// Rate of the PCM given to `feed`: 8000 or 16000.
    pub sample_rate: u32,
    /// How 8 kHz audio is handled (ignored at 16 kHz).
    pub narrowband: Narrowband,
    /// Searches kept on the decoder at once (at least 1).
    pub max_searches: usize,
    /// Extra decoder arguments, e.g. `("-beam", "1e-60")`; the name includes the dash.
    /// Options that the model's `feat.params` sets are overridden by it.
    pub extra_args: Vec<(String, String)>,
    /// Each utterance arrives whole in a single [`Recognizer::feed`] (recordings, not
    /// live calls). Its features are then normalised by the utterance's own cepstral
    /// mean (batch CMN) instead of a running estimate, which on recordings whose
    /// channel differs from the estimate's start (the first utterance of a decoder, a
    /// new speaker) cut the word error rate by more than half. A second `feed` in the
    /// same utterance is an error.
    pub whole_utterances: bool,
    /// Where PocketSphinx logs (it is chatty); `None` discards its log. Process-wide in
    /// sphinxbase, so only the first recognizer created in a process sets it.
    pub log_file: Option<PathBuf>,
}

impl PocketSphinxConfig {
    /// Debian's `pocketsphinx-en-us` model, for 8 kHz telephone audio.
    pub fn debian_en_us() -> PocketSphinxConfig {
        let dir = Path::new(DEBIAN_MODEL_DIR);
        PocketSphinxConfig {
            hmm: dir.join("en-us"),
            dict: dir.join("cmudict-en-us.dict"),
            lm: dir.join("en-us.lm.bin"),
            sample_rate: 8000,
            narrowband: Narrowband::default(),
            max_searches: 32,
            extra_args: Vec::new(),
            log_file: None,
            whole_utterances: false,
        }
    }

    /// Debian's model set up for transcribing recordings (post-call analytics) at
    /// `rate`: each utterance fed whole ([`PocketSphinxConfig::whole_utterances`]), the
    /// second, flat-lexicon search pass off (`-fwdflat no`) and at most 10 word exits
    /// per frame (`-maxwpf 10`). Measured on a 5-minute Flite call: real-time factor
    /// 0.075 → 0.048 on one core for word error 30.2% → 31.8%.
    pub fn for_recordings(rate: u32) -> PocketSphinxConfig {
        let mut c = PocketSphinxConfig::debian_en_us().with_sample_rate(rate);
        c.whole_utterances = true;
        c.extra_args = vec![
            ("-fwdflat".into(), "no".into()),
            ("-maxwpf".into(), "10".into()),
        ];
        c
    }

    /// The same with another input rate.
    pub fn with_sample_rate(mut self, rate: u32) -> PocketSphinxConfig {
        self.sample_rate = rate;
        self
    }

    /// Whether audio is upsampled 8 → 16 kHz before decoding.
    fn upsamples(&self) -> bool {
        self.sample_rate == 8000 && self.narrowband == Narrowband::Upsample
    }

    /// `feat.params` settings that differ from the model's for this input. PocketSphinx
    /// lets a model's `feat.params` override the same options given to `ps_init`, so
    /// these go into a model overlay (see [`model_overlay`]).
    fn feat_overrides(&self) -> Vec<(&'static str, String)> {
        match (self.sample_rate, self.narrowband) {
            (8000, Narrowband::Upsample) => vec![("-cmninit", NARROWBAND_CMNINIT.to_string())],
            (8000, Narrowband::NativeFrontEnd) => vec![("-upperf", "3500".to_string())],
            _ => Vec::new(),
        }
    }

    fn decoder_args(&self) -> Result<Vec<(&str, String)>, SpeechError> {
        for (what, path) in [("acoustic model", &self.hmm), ("dictionary", &self.dict)] {
            if !path.exists() {
                return Err(SpeechError::Init(format!(
                    "PocketSphinx {what} {} not found: install the Debian package \
                     {DEBIAN_MODEL_PACKAGE} (scripts/setup does)",
                    path.display()
                )));
            }
        }
        let overrides = self.feat_overrides();
        let hmm = if overrides.is_empty() {
            self.hmm.clone()
        } else {
            model_overlay(&self.hmm, &overrides)?
        };
        let mut args = vec![
            ("-hmm", hmm.to_string_lossy().into_owned()),
            ("-dict", self.dict.to_string_lossy().into_owned()),
        ];
        match (self.sample_rate, self.narrowband) {
            (16000, _) | (8000, Narrowband::Upsample) => args.push(("-samprate", "16000".into())),
            (8000, Narrowband::NativeFrontEnd) => {
                args.push(("-samprate", "8000".into()));
                args.push(("-nfft", "256".into()));
            }
            (rate, _) => {
                return Err(SpeechError::Init(format!(
                    "PocketSphinx takes 8000 or 16000 Hz audio, not {rate}"
                )));
            }
        }
        for (name, value) in &self.extra_args {
            args.push((name.as_str(), value.clone()));
        }
        Ok(args)
    }
}

/// Initial cepstral mean for telephone-band speech upsampled to 16 kHz. The en-us
/// model's own `-cmninit` (41.00,-5.29,-0.12,…) describes wide-band audio; with no
/// energy above 3.4 kHz the real mean is far from it (c1 ≈ +32, c2 ≈ -39), and live CMN
/// needs a whole utterance to get there, so the first utterance on a fresh decoder
/// failed. Measured as the mean PocketSphinx converged to over the Flite test corpus
/// (several voices, sox `sinc 300-3400`).
const NARROWBAND_CMNINIT: &str =
    "41.00,32.00,-39.00,29.00,-17.00,-30.00,12.00,-38.00,-12.00,-1.50,-24.50,7.00,-12.00";

/// A copy of acoustic model `hmm` whose `feat.params` has `overrides` applied: a
/// directory under the temp dir, keyed by model path and overrides, holding symlinks to
/// every other model file. Idempotent and safe against concurrent creators.
fn model_overlay(hmm: &Path, overrides: &[(&str, String)]) -> Result<PathBuf, SpeechError> {
    use std::hash::{Hash, Hasher};
    let err = |what: &str, e: std::io::Error| {
        SpeechError::Init(format!(
            "PocketSphinx model overlay for {}: {what}: {e}",
            hmm.display()
        ))
    };
    let params = std::fs::read_to_string(hmm.join("feat.params")).unwrap_or_default();
    let mut lines: Vec<String> = params
        .lines()
        .filter(|l| {
            !overrides
                .iter()
                .any(|(name, _)| l.split_whitespace().next() == Some(name))
        })
        .map(str::to_string)
        .collect();
    lines.extend(
        overrides
            .iter()
            .map(|(name, value)| format!("{name} {value}")),
    );
    let params = lines.join("\n") + "\n";

    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (hmm, &params).hash(&mut hasher);
    let dir = std::env::temp_dir().join(format!("voxgate-pocketsphinx-{:016x}", hasher.finish()));
    std::fs::create_dir_all(&dir).map_err(|e| err("create", e))?;
    let entries = std::fs::read_dir(hmm).map_err(|e| err("read", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| err("read", e))?;
        let name = entry.file_name();
        if name == "feat.params" {
            continue;
        }
        let link = dir.join(&name);
        match std::os::unix::fs::symlink(entry.path(), &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(err("link", e)),
            _ => {}
        }
    }
    let target = dir.join("feat.params");
    if std::fs::read_to_string(&target).ok().as_deref() != Some(params.as_str()) {
        let tmp = dir.join(format!("feat.params.{}", std::process::id()));
        std::fs::write(&tmp, &params).map_err(|e| err("write", e))?;
        std::fs::rename(&tmp, &target).map_err(|e| err("write", e))?;
    }
    Ok(dir)
}

/// PocketSphinx recognizer; see the module documentation.
#[derive(Debug)]
pub struct PocketSphinxRecognizer {
    decoder: Decoder,
    config: PocketSphinxConfig,
    /// Grammar key (JSGF text, keyphrase file text, `lm`) → search name.
    searches: HashMap<String, String>,
    /// Keys of `searches`, least recently used first.
    lru: VecDeque<String>,
    next_search: u64,
    active_search: Option<String>,
    /// An evicted search that was active at the time: removed once another is active.
    orphan: Option<String>,
    in_utterance: bool,
    /// Audio was fed in this utterance (with `whole_utterances`, only once is allowed).
    fed: bool,
    upsampler: Upsampler2x,
    scratch: Vec<i16>,
    last_partial: Option<String>,
}

impl PocketSphinxRecognizer {
    /// Loads the model; slow (see the module documentation), so keep the recognizer.
    pub fn new(config: &PocketSphinxConfig) -> Result<PocketSphinxRecognizer, SpeechError> {
        let args = config.decoder_args()?;
        let log = config
            .log_file
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        ffi::init_logging(log.as_deref())
            .map_err(|e| SpeechError::Init(format!("PocketSphinx: {e}")))?;
        let decoder = Decoder::new(&args).map_err(|e| {
            SpeechError::Init(format!(
                "PocketSphinx: {e} (model from Debian package {DEBIAN_MODEL_PACKAGE})"
            ))
        })?;
        Ok(PocketSphinxRecognizer {
            decoder,
            config: config.clone(),
            searches: HashMap::new(),
            lru: VecDeque::new(),
            next_search: 0,
            active_search: None,
            orphan: None,
            in_utterance: false,
            fed: false,
            upsampler: Upsampler2x::new(),
            scratch: Vec::new(),
            last_partial: None,
        })
    }

    /// Whether the loaded dictionary knows `word` (lower case).
    pub fn knows_word(&mut self, word: &str) -> bool {
        self.decoder.has_word(word)
    }

    /// Searches currently kept on the decoder.
    pub fn cached_searches(&self) -> usize {
        self.searches.len()
    }

    /// The search for `grammar`, added to the decoder if it is new.
    fn search_for(&mut self, grammar: &Grammar) -> Result<String, SpeechError> {
        let key = match grammar {
            Grammar::Phrases(phrases) => phrases_to_jsgf(phrases, |w| self.decoder.has_word(w))?,
            Grammar::Jsgf(text) => text.clone(),
            Grammar::Keyphrases(list) => {
                format!(
                    "kws\n{}",
                    keyphrase_file(list, |w| self.decoder.has_word(w))?
                )
            }
            Grammar::Free => "lm".to_string(),
        };
        if let Some(name) = self.searches.get(&key).cloned() {
            self.lru.retain(|k| k != &key);
            self.lru.push_back(key);
            return Ok(name);
        }
        self.evict()?;
        let name = format!("voxgate{}", self.next_search);
        self.next_search += 1;
        match grammar {
            Grammar::Phrases(_) => self.decoder.set_jsgf_string(&name, &key).map_err(|e| {
                SpeechError::Grammar(format!("PocketSphinx rejected the phrase grammar: {e}"))
            })?,
            Grammar::Jsgf(text) => self.decoder.set_jsgf_string(&name, text).map_err(|_| {
                let missing = jsgf_words(text)
                    .into_iter()
                    .find(|w| !self.decoder.has_word(w));
                SpeechError::Grammar(match missing {
                    Some(w) => format!("word `{w}` is not in the PocketSphinx dictionary"),
                    None => "PocketSphinx could not parse the JSGF grammar".to_string(),
                })
            })?,
            Grammar::Keyphrases(_) => {
                let body = key.strip_prefix("kws\n").unwrap_or(&key);
                self.add_kws(&name, body)?;
            }
            Grammar::Free => {
                let lm = self.config.lm.to_string_lossy().into_owned();
                self.decoder.set_lm_file(&name, &lm).map_err(|e| {
                    SpeechError::Grammar(format!(
                        "language model {lm}: {e} (Debian package {DEBIAN_MODEL_PACKAGE})"
                    ))
                })?;
            }
        }
        self.searches.insert(key.clone(), name.clone());
        self.lru.push_back(key);
        Ok(name)
    }

    /// Keyword search from a keyphrase file's text (PocketSphinx only reads files).
    fn add_kws(&mut self, name: &str, body: &str) -> Result<(), SpeechError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "voxgate-kws-{}-{}.txt",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, body)
            .map_err(|e| SpeechError::Grammar(format!("keyphrase file {}: {e}", path.display())))?;
        let result = self.decoder.set_kws(name, &path.to_string_lossy());
        // The decoder has read the file; failing to remove a temp file is harmless.
        let _ = std::fs::remove_file(&path);
        result
            .map_err(|e| SpeechError::Grammar(format!("PocketSphinx rejected the keyphrases: {e}")))
    }

    /// Drops least recently used searches to make room for one more.
    fn evict(&mut self) -> Result<(), SpeechError> {
        let max = self.config.max_searches.max(1);
        while self.searches.len() >= max {
            let Some(key) = self.lru.pop_front() else {
                break;
            };
            if let Some(name) = self.searches.remove(&key) {
                if self.active_search.as_deref() == Some(name.as_str()) {
                    // Never remove the active search; drop it once another is active.
                    self.orphan = Some(name);
                    continue;
                }
                self.decoder
                    .unset_search(&name)
                    .map_err(SpeechError::Recognize)?;
            }
        }
        Ok(())
    }

    fn decode(&mut self, pcm: &[i16]) -> Result<(), SpeechError> {
        if self.config.upsamples() {
            self.scratch.clear();
            self.upsampler.process(pcm, &mut self.scratch);
            self.decoder
                .process_raw(&self.scratch, self.config.whole_utterances)
        } else {
            self.decoder.process_raw(pcm, self.config.whole_utterances)
        }
        .map_err(SpeechError::Recognize)
    }
}

impl Recognizer for PocketSphinxRecognizer {
    fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    fn start(&mut self, grammar: &Grammar) -> Result<(), SpeechError> {
        if self.in_utterance {
            // An abandoned utterance: close it so that the search may change.
            self.in_utterance = false;
            self.decoder.end_utt().map_err(SpeechError::Recognize)?;
        }
        let name = self.search_for(grammar)?;
        if self.active_search.as_deref() != Some(name.as_str()) {
            self.decoder
                .set_search(&name)
                .map_err(SpeechError::Recognize)?;
            self.active_search = Some(name);
            if let Some(old) = self.orphan.take() {
                self.decoder
                    .unset_search(&old)
                    .map_err(SpeechError::Recognize)?;
            }
        }
        self.decoder.start_utt().map_err(SpeechError::Recognize)?;
        self.upsampler.reset();
        self.last_partial = None;
        self.in_utterance = true;
        self.fed = false;
        Ok(())
    }

    fn feed(&mut self, pcm: &[i16]) -> Result<Option<Hypothesis>, SpeechError> {
        if !self.in_utterance {
            return Err(SpeechError::NotStarted);
        }
        if self.config.whole_utterances && std::mem::replace(&mut self.fed, true) {
            return Err(SpeechError::Recognize(
                "this recognizer takes each utterance whole, in one feed".into(),
            ));
        }
        self.decode(pcm)?;
        let text = self
            .decoder
            .hyp()
            .map(|(h, _)| normalize(&h))
            .filter(|h| !h.is_empty());
        if text.is_none() || text == self.last_partial {
            return Ok(None);
        }
        self.last_partial.clone_from(&text);
        Ok(text.map(|text| Hypothesis {
            text,
            confidence: 0.0,
            is_final: false,
        }))
    }

    fn finish(&mut self) -> Result<Option<Hypothesis>, SpeechError> {
        if !self.in_utterance {
            return Err(SpeechError::NotStarted);
        }
        if self.config.upsamples() {
            // Push the filter's delay line out.
            let zeros = [0i16; Upsampler2x::HALF_TAPS];
            self.decode(&zeros)?;
        }
        self.in_utterance = false;
        self.decoder.end_utt().map_err(SpeechError::Recognize)?;
        let Some(text) = self
            .decoder
            .hyp()
            .map(|(h, _)| normalize(&h))
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let confidence = if self.active_is_kws() {
            1.0
        } else {
            self.decoder.posterior()
        };
        Ok(Some(Hypothesis {
            text,
            confidence: confidence.clamp(0.0, 1.0) as f32,
            is_final: true,
        }))
    }
}

impl PocketSphinxRecognizer {
    fn active_is_kws(&self) -> bool {
        let Some(active) = self.active_search.as_deref() else {
            return false;
        };
        self.searches
            .iter()
            .any(|(k, n)| n == active && k.starts_with("kws\n"))
    }
}

/// Lower case, single spaces; drops filler tokens such as `<sil>` or `[noise]`.
fn normalize(hyp: &str) -> String {
    hyp.split_whitespace()
        .filter(|w| !(w.starts_with('<') || w.starts_with('[') || w.starts_with('+')))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Characters that would change the meaning of a JSGF or keyphrase file.
fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && !word
            .chars()
            .any(|c| "#;=|*+<>()[]{}/\\\"".contains(c) || c.is_control())
}

/// Lower-cased words of one phrase, each checked against the dictionary.
fn phrase_words(
    phrase: &str,
    mut known: impl FnMut(&str) -> bool,
) -> Result<Vec<String>, SpeechError> {
    let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err(SpeechError::Grammar("empty phrase".into()));
    }
    for w in &words {
        if !is_plain_word(w) {
            return Err(SpeechError::Grammar(format!(
                "word `{w}` contains grammar syntax"
            )));
        }
        if !known(w) {
            return Err(SpeechError::Grammar(format!(
                "word `{w}` is not in the PocketSphinx dictionary"
            )));
        }
    }
    Ok(words)
}

/// `#JSGF V1.0; grammar voxgate; public <s> = ( a b | c );` from phrases.
fn phrases_to_jsgf(
    phrases: &[String],
    mut known: impl FnMut(&str) -> bool,
) -> Result<String, SpeechError> {
    let mut alternatives: Vec<String> = Vec::with_capacity(phrases.len());
    for p in phrases {
        let joined = phrase_words(p, &mut known)?.join(" ");
        if !alternatives.contains(&joined) {
            alternatives.push(joined);
        }
    }
    if alternatives.is_empty() {
        return Err(SpeechError::Grammar("no phrases".into()));
    }
    Ok(format!(
        "#JSGF V1.0;\ngrammar voxgate;\npublic <s> = ( {} );\n",
        alternatives.join(" | ")
    ))
}

/// A PocketSphinx keyphrase file: `phrase /threshold/` per line.
fn keyphrase_file(
    list: &[(String, f64)],
    mut known: impl FnMut(&str) -> bool,
) -> Result<String, SpeechError> {
    if list.is_empty() {
        return Err(SpeechError::Grammar("no keyphrases".into()));
    }
    let mut out = String::new();
    for (phrase, threshold) in list {
        if !(threshold.is_finite() && *threshold > 0.0) {
            return Err(SpeechError::Grammar(format!(
                "keyphrase `{phrase}`: threshold {threshold} must be a positive number"
            )));
        }
        let words = phrase_words(phrase, &mut known)?.join(" ");
        out.push_str(&format!("{words} /{threshold:e}/\n"));
    }
    Ok(out)
}

/// Best-effort list of the words a JSGF grammar uses (to name a missing one).
fn jsgf_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut body = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#JSGF") || t.starts_with("grammar ") || t.starts_with("import ") {
            continue;
        }
        let t = t.split("//").next().unwrap_or("");
        body.push_str(t);
        body.push(' ');
    }
    let mut skip_until: Option<char> = None;
    let mut word = String::new();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() && word != "public" && !words.contains(word) {
            words.push(word.clone());
        }
        word.clear();
    };
    for c in body.chars() {
        if let Some(end) = skip_until {
            if c == end {
                skip_until = None;
            }
            continue;
        }
        match c {
            '<' => skip_until = Some('>'),
            '{' => skip_until = Some('}'),
            '/' => skip_until = Some('/'),
            '"' => skip_until = Some('"'),
            _ => {}
        }
        if skip_until.is_some() || c.is_whitespace() || ";=|*+()[]".contains(c) {
            flush(&mut word, &mut words);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut words);
    words
}

/// Streaming 8 → 16 kHz interpolator: zero-stuffing and a windowed-sinc low-pass at
/// 3.8 kHz, computed as two polyphase branches with history kept across calls (unlike
/// [`crate::audio::Pcm::resampled`], which treats every call as a whole signal and so
/// would put edges into every 20 ms frame).
#[derive(Debug, Clone)]
struct Upsampler2x {
    history: VecDeque<f32>,
    even: Vec<f32>,
    odd: Vec<f32>,
}

impl Upsampler2x {
    const TAPS: usize = 64;
    const HALF_TAPS: usize = Self::TAPS / 2;

    fn new() -> Upsampler2x {
        // Cut-off 3.8 kHz at the 16 kHz output rate; gain 2 makes up for the zeros.
        let fc = 3800.0 / 16000.0;
        let mid = (Self::TAPS - 1) as f64 / 2.0;
        let n = Self::TAPS as f64;
        let taps: Vec<f64> = (0..Self::TAPS)
            .map(|k| {
                let x = k as f64 - mid;
                let sinc = if x == 0.0 {
                    2.0 * fc
                } else {
                    (2.0 * std::f64::consts::PI * fc * x).sin() / (std::f64::consts::PI * x)
                };
                let t = 2.0 * std::f64::consts::PI * k as f64 / (n - 1.0);
                let blackman = 0.42 - 0.5 * t.cos() + 0.08 * (2.0 * t).cos();
                2.0 * sinc * blackman
            })
            .collect();
        Upsampler2x {
            history: VecDeque::from(vec![0.0; Self::HALF_TAPS]),
            even: taps.iter().step_by(2).map(|&h| h as f32).collect(),
            odd: taps.iter().skip(1).step_by(2).map(|&h| h as f32).collect(),
        }
    }

    fn reset(&mut self) {
        self.history.iter_mut().for_each(|s| *s = 0.0);
    }

    /// Appends two output samples per input sample to `out`.
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.reserve(input.len() * 2);
        for &s in input {
            self.history.pop_back();
            self.history.push_front(f32::from(s));
            // history[j] is x[n - j]; y[2n] = Σ even[j]·x[n-j], y[2n+1] = Σ odd[j]·x[n-j].
            let (mut e, mut o) = (0.0f32, 0.0f32);
            for ((&x, &he), &ho) in self.history.iter().zip(&self.even).zip(&self.odd) {
                e += x * he;
                o += x * ho;
            }
            out.push(e.round().clamp(-32768.0, 32767.0) as i16);
            out.push(o.round().clamp(-32768.0, 32767.0) as i16);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsgf_from_phrases_lower_cases_and_dedups() {
        let g = phrases_to_jsgf(
            &["Where is my order".into(), "yes".into(), "YES".into()],
            |_| true,
        );
        assert_eq!(
            g.ok().as_deref(),
            Some("#JSGF V1.0;\ngrammar voxgate;\npublic <s> = ( where is my order | yes );\n")
        );
    }

    #[test]
    fn oov_and_syntax_words_are_rejected() {
        let e = phrases_to_jsgf(&["where is my zorblax".into()], |w| w != "zorblax");
        assert!(matches!(e, Err(SpeechError::Grammar(m)) if m.contains("zorblax")));
        let e = phrases_to_jsgf(&["a | b".into()], |_| true);
        assert!(matches!(e, Err(SpeechError::Grammar(_))));
        assert!(phrases_to_jsgf(&[], |_| true).is_err());
    }

    #[test]
    fn keyphrase_file_format() {
        let f = keyphrase_file(&[("Order Status".into(), 1e-20)], |_| true);
        assert_eq!(f.ok().as_deref(), Some("order status /1e-20/\n"));
        assert!(keyphrase_file(&[("x".into(), 0.0)], |_| true).is_err());
    }

    #[test]
    fn jsgf_words_skips_syntax() {
        let w = jsgf_words(
            "#JSGF V1.0;\ngrammar g;\n// comment here\npublic <s> = [please] ( yes {y} | /2/ no thanks ) <t>*;\n<t> = hello;",
        );
        assert_eq!(w, ["please", "yes", "no", "thanks", "hello"]);
    }

    #[test]
    fn upsampler_keeps_a_tone_and_doubles_length() {
        let mut up = Upsampler2x::new();
        let tone: Vec<i16> = (0..800)
            .map(|n| {
                (10000.0 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let mut out = Vec::new();
        for chunk in tone.chunks(160) {
            up.process(chunk, &mut out);
        }
        assert_eq!(out.len(), 1600);
        let peak = out[200..]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!((9500..=10500).contains(&peak), "peak {peak}");
    }

    #[test]
    fn normalize_drops_fillers() {
        assert_eq!(
            normalize("<s> Where  is [NOISE] my order </s>"),
            "where is my order"
        );
    }
}
