//! The embedded speech engines measured against real time: how long recognition takes
//! per second of caller audio (real-time factor) and synthesis per second of prompt.
//!
//! Caller audio is spoken by Flite (a different synthesizer than voxgate's espeak-ng
//! default) and resampled to the 8 kHz of a telephone call, which is what the
//! recognizer gets from G.711.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use voxgate_speech::audio::Pcm;
use voxgate_speech::espeak::EspeakSynthesizer;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::pocketsphinx::{PocketSphinxConfig, PocketSphinxRecognizer};
use voxgate_speech::recognizer::{Grammar, Recognizer};
use voxgate_speech::synth::{Synthesizer, Voice};

use super::{cores, write_results};

#[derive(Debug, clap::Args)]
pub struct SpeechArgs {
    /// How many times each sentence is recognized and synthesized.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Turns of the voice-to-voice call (0: skip it).
    #[arg(long, default_value_t = 32)]
    turns: usize,
    /// Where to write results.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
}

/// Phrases a phone assistant listens for; the grammar of the recognition runs.
const PHRASES: [&str; 16] = [
    "where is my order",
    "i want to talk to a human",
    "repeat my last order",
    "what are your opening hours",
    "yes",
    "no",
    "cancel my order",
    "i have a complaint",
    "how much is the garden hose",
    "do you have any promotions",
    "when will my delivery arrive",
    "what do i usually order",
    "open a complaint",
    "goodbye",
    "thank you",
    "what do you recommend",
];

#[derive(Debug, Serialize)]
struct SpeechResult {
    machine_cores: usize,
    sentences: usize,
    recognized_exactly: usize,
    audio_seconds: f64,
    recognizer_rtf: f64,
    recognizer_ms_p50: f64,
    recognizer_ms_max: f64,
    espeak_ms_per_audio_second: f64,
    flite_ms_per_audio_second: f64,
    voice_to_voice: Option<super::voice::VoiceToVoice>,
}

pub(super) async fn run(args: SpeechArgs) -> anyhow::Result<()> {
    let rounds = args.rounds;
    let mut result = tokio::task::spawn_blocking(move || measure(rounds)).await??;
    if args.turns > 0 {
        result.voice_to_voice = Some(super::voice::measure(&PHRASES, args.turns).await?);
    }
    let v2v = match &result.voice_to_voice {
        Some(v) => format!(
            "| voice-to-voice through a call, p50 / p95 / max (target ≤ 300 / ≤ 500 ms) | \
             {:.0} ms / {:.0} ms / {:.0} ms |\n\
             | of which inside voxgate (last voiced frame → reply's first frame), p50 | {:.0} ms |\n\
             | turns answered / transcripts exact | {} of {} / {} |\n\
             | end-of-utterance silence | {} ms |\n",
            v.p50_ms,
            v.p95_ms,
            v.max_ms,
            v.internal_p50_ms,
            v.answered,
            v.turns,
            v.recognized_exactly,
            v.end_silence_ms
        ),
        None => String::new(),
    };
    let md = format!(
        "# Speech engines ({} cores)\n\n\
         | measure | value |\n|---|---|\n\
         | sentences recognized exactly (Flite voice, 8 kHz, {}-phrase grammar) | {} of {} |\n\
         | recognizer real-time factor (processing / audio) | {:.4} |\n\
         | recognition per utterance, p50 / max | {:.1} ms / {:.1} ms |\n\
         | espeak-ng synthesis per second of audio | {:.1} ms |\n\
         | Flite synthesis per second of audio | {:.1} ms |\n{}\n\
         Voice-to-voice: one call on loopback; the caller (this benchmark) speaks Flite phrases \
         at the 20 ms pace and times the first audible sample of each reply from its last \
         spoken sample.\n",
        result.machine_cores,
        PHRASES.len(),
        result.recognized_exactly,
        result.sentences,
        result.recognizer_rtf,
        result.recognizer_ms_p50,
        result.recognizer_ms_max,
        result.espeak_ms_per_audio_second,
        result.flite_ms_per_audio_second,
        v2v,
    );
    print!("{md}");
    write_results(&args.out, "speech", &md, &result)
}

fn measure(rounds: usize) -> anyhow::Result<SpeechResult> {
    let flite = FliteSynthesizer::new()?;
    let espeak = EspeakSynthesizer::new()?;
    let mut recognizer = PocketSphinxRecognizer::new(&PocketSphinxConfig::debian_en_us())?;
    let grammar = Grammar::Phrases(PHRASES.iter().map(|p| p.to_string()).collect());

    let mut callers = Vec::new();
    for phrase in PHRASES {
        let pcm = flite
            .synthesize(phrase, &Voice::language("en"))?
            .resampled(8000)?;
        callers.push((phrase, pcm));
    }

    let mut times = Vec::new();
    let mut audio = Duration::ZERO;
    let mut busy = Duration::ZERO;
    let mut exact = 0;
    let mut sentences = 0;
    for _ in 0..rounds.max(1) {
        for (phrase, pcm) in &callers {
            let started = Instant::now();
            recognizer.start(&grammar)?;
            recognizer.feed(&pcm.samples)?;
            let heard = recognizer.finish()?;
            let took = started.elapsed();
            busy += took;
            audio += Duration::from_millis(pcm.duration_ms());
            times.push(took);
            sentences += 1;
            if heard.is_some_and(|h| h.text == *phrase) {
                exact += 1;
            }
        }
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    let synth_rate = |s: &dyn Synthesizer| -> anyhow::Result<f64> {
        let mut busy = Duration::ZERO;
        let mut audio = 0.0;
        for _ in 0..rounds.max(1) {
            for phrase in PHRASES {
                let started = Instant::now();
                let pcm: Pcm = s.synthesize(phrase, &Voice::language("en"))?;
                busy += started.elapsed();
                audio += pcm.duration_ms() as f64 / 1000.0;
            }
        }
        Ok(ms(busy) / audio.max(0.001))
    };

    Ok(SpeechResult {
        machine_cores: cores(),
        sentences,
        recognized_exactly: exact,
        audio_seconds: audio.as_secs_f64(),
        recognizer_rtf: busy.as_secs_f64() / audio.as_secs_f64().max(0.001),
        recognizer_ms_p50: times.get(times.len() / 2).map_or(0.0, |d| ms(*d)),
        recognizer_ms_max: times.last().map_or(0.0, |d| ms(*d)),
        espeak_ms_per_audio_second: synth_rate(&espeak)?,
        flite_ms_per_audio_second: synth_rate(&flite)?,
        voice_to_voice: None,
    })
}
