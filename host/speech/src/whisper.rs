//! Whisper (whisper.cpp through `whisper-rs`) as a [`Recognizer`], for operators who
//! want free speech recognized offline in many languages. Behind the `whisper` cargo
//! feature: building whisper.cpp takes cmake, a C++ compiler and libclang.
//!
//! * The operator supplies the model file (ggml format, e.g. `ggml-base.en.bin` or
//!   `ggml-small.bin` from the whisper.cpp project); voxgate ships and downloads none.
//!   Loading it is slow (hundreds of milliseconds to seconds), so one recognizer is
//!   meant to be created once and reused: each utterance reuses its decoder state.
//! * Whisper transcribes whole utterances of 16 kHz float audio: `feed` buffers (no
//!   partial results) and `finish` resamples to 16 kHz with the windowed-sinc resampler
//!   of [`crate::audio`], pads the utterance to a little over one second (whisper.cpp
//!   returns nothing for less) and decodes greedily.
//! * A grammar cannot constrain Whisper. [`Grammar::Phrases`] and keyphrases become the
//!   decoder's prompt (as tokens, so that nothing is allocated per utterance that
//!   whisper-rs would not free), and the transcript is mapped onto the closest phrase (or
//!   the keyphrase spotted in it) as the HTTP recognizer does
//!   ([`recognizer::final_hypothesis`]). JSGF is refused.
//! * Confidence is the mean probability of the transcript's text tokens.
//! * whisper.cpp's build uses `-march=native` by default: a binary built on one machine
//!   may not run on an older CPU. Build with `GGML_NATIVE=OFF` in the environment (the
//!   build script passes `GGML_*` variables to cmake) for binaries that are shipped.
//!
//! [`recognizer::final_hypothesis`]: crate::recognizer::final_hypothesis

use std::fmt;
use std::path::{Path, PathBuf};

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::SpeechError;
use crate::audio;
use crate::recognizer::{self, Grammar, Hypothesis, Recognizer};

/// The rate Whisper models take.
pub const WHISPER_RATE: u32 = 16_000;

/// Whisper reads at most this many prompt tokens (half its 448-token text context).
const MAX_PROMPT_TOKENS: usize = 224;

/// The shortest input whisper.cpp transcribes is one second; pad a little beyond.
const MIN_SAMPLES: usize = WHISPER_RATE as usize * 11 / 10;

/// Whisper on a local model file.
pub struct WhisperRecognizer {
    model: PathBuf,
    context: WhisperContext,
    state: WhisperState,
    /// Parameters set once (language, threads, output flags); each utterance clones
    /// them and adds its prompt tokens.
    params: FullParams<'static, 'static>,
    threads: usize,
    sample_rate: u32,
    /// Whisper's own code for the language (`None`: detect).
    language: Option<&'static str>,
    audio: Option<Vec<i16>>,
    grammar: Option<Grammar>,
    prompt_tokens: Vec<std::ffi::c_int>,
}

impl fmt::Debug for WhisperRecognizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhisperRecognizer")
            .field("model", &self.model)
            .field("threads", &self.threads)
            .field("sample_rate", &self.sample_rate)
            .field("language", &self.language)
            .field("buffered", &self.audio.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

fn whisper_error(what: &str) -> impl Fn(whisper_rs::WhisperError) -> SpeechError + '_ {
    move |e| SpeechError::Recognize(format!("whisper {what}: {e}"))
}

impl WhisperRecognizer {
    /// Loads the model (CPU only) and prepares a decoder state. `threads` is how many
    /// threads one transcription uses (at least 1); audio is taken at 8 kHz and the
    /// language detected, until [`Self::with_sample_rate`] / [`Self::with_language`]
    /// say otherwise.
    pub fn new(model_path: impl AsRef<Path>, threads: usize) -> Result<Self, SpeechError> {
        let model = model_path.as_ref().to_path_buf();
        if !model.is_file() {
            return Err(SpeechError::Init(format!(
                "whisper model {} is not a readable file",
                model.display()
            )));
        }
        // whisper.cpp logs to stderr unless hooked; this sends it to `tracing`.
        whisper_rs::install_logging_hooks();
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let context = WhisperContext::new_with_params(&model, params)
            .map_err(|e| SpeechError::Init(format!("whisper model {}: {e}", model.display())))?;
        let state = context
            .create_state()
            .map_err(|e| SpeechError::Init(format!("whisper state: {e}")))?;
        let threads = threads.max(1);
        let mut recognizer = WhisperRecognizer {
            model,
            context,
            state,
            params: FullParams::new(SamplingStrategy::Greedy { best_of: 1 }),
            threads,
            sample_rate: 8000,
            language: None,
            audio: None,
            grammar: None,
            prompt_tokens: Vec::new(),
        };
        recognizer.set_params();
        Ok(recognizer)
    }

    /// The rate `feed` takes (8000 for telephone audio, 16000 needs no resampling).
    pub fn with_sample_rate(mut self, rate: u32) -> Result<Self, SpeechError> {
        if rate == 0 {
            return Err(SpeechError::Init("sample rate 0".into()));
        }
        self.sample_rate = rate;
        Ok(self)
    }

    /// The language spoken (ISO 639-1: `en`, `hr`, `de` …); `None` detects it per
    /// utterance (slower, and short utterances are easily misdetected).
    pub fn with_language(mut self, language: Option<&str>) -> Result<Self, SpeechError> {
        self.language = match language {
            None => None,
            Some(tag) => {
                let tag = tag.trim().to_ascii_lowercase();
                let primary = tag.split(['-', '_']).next().unwrap_or_default();
                let name = whisper_rs::get_lang_id(primary).and_then(whisper_rs::get_lang_str);
                Some(name.ok_or(SpeechError::UnknownVoice(tag.clone()))?)
            }
        };
        self.set_params();
        Ok(self)
    }

    fn set_params(&mut self) {
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(i32::try_from(self.threads).unwrap_or(i32::MAX));
        // whisper-rs turns the language into a C string it never frees: set it here,
        // once per configuration, never per utterance.
        p.set_language(Some(self.language.unwrap_or("auto")));
        p.set_translate(false);
        p.set_no_context(true);
        p.set_single_segment(true);
        p.set_no_timestamps(true);
        p.set_suppress_blank(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        self.params = p;
    }

    /// 16 kHz float audio for Whisper, padded to its minimum length.
    fn whisper_audio(&self, pcm: &[i16]) -> Result<Vec<f32>, SpeechError> {
        let input: Vec<f32> = pcm.iter().map(|&s| f32::from(s) / 32768.0).collect();
        let mut out = if self.sample_rate == WHISPER_RATE {
            input
        } else {
            audio::resample(&input, self.sample_rate, WHISPER_RATE)?
        };
        if out.len() < MIN_SAMPLES {
            out.resize(MIN_SAMPLES, 0.0);
        }
        Ok(out)
    }
}

impl Recognizer for WhisperRecognizer {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn start(&mut self, grammar: &Grammar) -> Result<(), SpeechError> {
        if matches!(grammar, Grammar::Jsgf(_)) {
            return Err(SpeechError::Grammar(
                "Whisper cannot follow a JSGF grammar; use phrases".into(),
            ));
        }
        self.prompt_tokens.clear();
        if let Some(prompt) = recognizer::prompt_from_grammar(grammar, 4 * MAX_PROMPT_TOKENS) {
            // A token is at least one byte, so this many tokens always fit: whisper-rs
            // mishandles the "too many tokens" answer of whisper_tokenize.
            let room = prompt.len() + 8;
            let mut tokens = self
                .context
                .tokenize(&prompt, room)
                .map_err(|e| SpeechError::Grammar(format!("whisper prompt: {e}")))?;
            tokens.truncate(MAX_PROMPT_TOKENS);
            self.prompt_tokens = tokens;
        }
        self.grammar = Some(grammar.clone());
        self.audio = Some(Vec::new());
        Ok(())
    }

    fn feed(&mut self, pcm: &[i16]) -> Result<Option<Hypothesis>, SpeechError> {
        let audio = self.audio.as_mut().ok_or(SpeechError::NotStarted)?;
        audio.extend_from_slice(pcm);
        Ok(None)
    }

    fn finish(&mut self) -> Result<Option<Hypothesis>, SpeechError> {
        let pcm = self.audio.take().ok_or(SpeechError::NotStarted)?;
        if pcm.is_empty() {
            return Ok(None);
        }
        let samples = self.whisper_audio(&pcm)?;
        let mut params = self.params.clone();
        if !self.prompt_tokens.is_empty() {
            params.set_tokens(&self.prompt_tokens);
        }
        self.state
            .full(params, &samples)
            .map_err(whisper_error("transcription"))?;
        let eot = self.context.token_eot();
        let mut text = String::new();
        let (mut probability, mut tokens) = (0.0f32, 0usize);
        for segment in self.state.as_iter() {
            let segment_text = segment
                .to_str_lossy()
                .map_err(whisper_error("segment text"))?;
            text.push_str(&segment_text);
            text.push(' ');
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                // Special tokens (timestamps, end of text, language) come after EOT.
                if token.token_id() < eot {
                    probability += token.token_probability();
                    tokens += 1;
                }
            }
        }
        let confidence = if tokens == 0 {
            0.0
        } else {
            probability / tokens as f32
        };
        Ok(recognizer::final_hypothesis(
            &text,
            confidence,
            self.grammar.as_ref(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_is_an_init_error() {
        let err = WhisperRecognizer::new("/nonexistent/ggml-base.en.bin", 2).unwrap_err();
        assert!(
            matches!(&err, SpeechError::Init(m) if m.contains("/nonexistent/ggml-base.en.bin")),
            "{err:?}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_model_is_an_init_error() {
        let path = std::env::temp_dir().join(format!("voxgate-not-a-model-{}", std::process::id()));
        std::fs::write(&path, b"this is not a ggml model").unwrap();
        let result = WhisperRecognizer::new(&path, 1);
        let _ = std::fs::remove_file(&path);
        assert!(matches!(result, Err(SpeechError::Init(_))), "{result:?}");
    }

    /// Needs a real model: `VOXGATE_WHISPER_MODEL=/path/to/ggml-base.en.bin cargo test
    /// -p voxgate-speech --features whisper -- --ignored`. Whisper hears a Flite-spoken
    /// English phrase at 8 kHz and it is mapped onto the grammar.
    #[test]
    #[ignore = "needs a Whisper model file in VOXGATE_WHISPER_MODEL"]
    fn recognizes_synthesized_speech_with_a_model() {
        let model = std::env::var_os("VOXGATE_WHISPER_MODEL")
            .expect("VOXGATE_WHISPER_MODEL names a ggml Whisper model file");
        let synth = crate::flite::FliteSynthesizer::new().unwrap();
        use crate::synth::Synthesizer;
        let pcm = synth
            .synthesize("Where is my order?", &crate::synth::Voice::language("en"))
            .unwrap()
            .resampled(8000)
            .unwrap();
        let mut rec = WhisperRecognizer::new(model, 2)
            .unwrap()
            .with_language(Some("en"))
            .unwrap();
        let grammar = Grammar::Phrases(vec!["where is my order".into(), "talk to a human".into()]);
        rec.start(&grammar).unwrap();
        rec.feed(&pcm.samples).unwrap();
        let h = rec.finish().unwrap().unwrap();
        assert_eq!(h.text, "where is my order", "{h:?}");
        assert!(h.confidence > 0.3, "{h:?}");
    }
}
