//! Post-call analysis of a 5-minute recording: how long decoding, transcription and
//! analysis take, the recognizer's real-time factor on one thread and on every core,
//! and the word error rate of the whole transcript.
//!
//! The recording is a stereo call (agent left, customer right) spoken by Flite's two
//! voices and resampled to the 8 kHz of a telephone line, as a PBX would record it.
//! Figures are set against the audio's length and against the 10–15 s for 5 minutes
//! the seed product promises.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use voxgate_analytics::decode;
use voxgate_analytics::lexicon::LexiconAnalyser;
use voxgate_analytics::transcribe::{Options, transcribe};
use voxgate_analytics::wer::word_errors;
use voxgate_analytics::{Analyser, Rules};
use voxgate_speech::SpeechError;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::pocketsphinx::{PocketSphinxConfig, PocketSphinxRecognizer};
use voxgate_speech::recognizer::Recognizer;
use voxgate_speech::synth::{Synthesizer, Voice};

use super::{cores, write_results};

#[derive(Debug, clap::Args)]
pub struct AnalyticsArgs {
    /// Length of the recording, in seconds.
    #[arg(long, default_value_t = 300)]
    seconds: u32,
    /// Where to write results.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
}

/// A call about a late delivery that turns into a complaint and a new order.
const SCRIPT: [(bool, &str); 12] = [
    (
        true,
        "Good morning, thank you for calling the garden shop. How can I help you today?",
    ),
    (
        false,
        "Hello, I ordered a garden table two weeks ago and it still has not arrived.",
    ),
    (
        true,
        "I am sorry to hear that. Can you give me your order number please?",
    ),
    (
        false,
        "Yes, I have the confirmation email here. The courier said it would come on Monday.",
    ),
    (
        true,
        "Thank you. I can see the parcel is still at the depot. I will ask them to deliver it tomorrow.",
    ),
    (
        false,
        "That is not good enough. I took a day off work and nobody came.",
    ),
    (
        true,
        "I understand, and I apologise. I will refund the delivery charge today.",
    ),
    (
        false,
        "Thank you. Can I also order two chairs that match the table?",
    ),
    (
        true,
        "Of course. The matching chairs are in stock and they can come with the table.",
    ),
    (false, "Great, please add them to the same delivery."),
    (
        true,
        "Done. You will get an email with the new total. Is there anything else?",
    ),
    (false, "No, that is all. Thank you for your help."),
];

#[derive(Debug, Serialize)]
struct AnalyticsResult {
    machine_cores: usize,
    audio_seconds: f64,
    recording_bytes: usize,
    decode_ms: f64,
    turns: usize,
    transcribe_1_thread_s: f64,
    transcribe_all_cores_s: f64,
    analyse_ms: f64,
    total_s: f64,
    rtf_1_thread: f64,
    rtf_all_cores: f64,
    speedup_all_cores: f64,
    word_error_rate: f64,
    promise_10_to_15_s_ratio: f64,
    category: String,
    sentiment: String,
}

fn recognizer(rate: u32) -> Result<Box<dyn Recognizer>, SpeechError> {
    Ok(Box::new(PocketSphinxRecognizer::new(
        &PocketSphinxConfig::for_recordings(rate),
    )?))
}

/// The recording as a stereo 8 kHz WAV and the words said in it.
fn recording(seconds: u32) -> anyhow::Result<(Vec<u8>, String)> {
    let flite = FliteSynthesizer::new()?;
    let rate = 8000usize;
    let gap = rate * 7 / 10;
    let mut turns = Vec::new();
    let mut said = Vec::new();
    let mut length = gap;
    'script: loop {
        for (agent, text) in SCRIPT {
            if length >= rate * seconds as usize {
                break 'script;
            }
            let voice = Voice {
                language: "en".into(),
                name: Some(if agent { "slt" } else { "kal" }.into()),
            };
            let pcm = flite.synthesize(text, &voice)?.resampled(8000)?.samples;
            length += pcm.len() + gap;
            turns.push((usize::from(!agent), pcm));
            said.push(text);
        }
    }
    let audio = decode::Audio::from_turns(8000, 2, gap, turns);
    Ok((audio.to_wav(), said.join(" ")))
}

pub async fn run(args: AnalyticsArgs) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || measure(args)).await?
}

fn measure(args: AnalyticsArgs) -> anyhow::Result<()> {
    println!("synthesizing a {} s stereo call …", args.seconds);
    let (wav, said) = recording(args.seconds)?;

    let started = Instant::now();
    let t = Instant::now();
    let audio = decode::decode(&wav, Some("audio/wav"))?;
    let decode_ms = t.elapsed().as_secs_f64() * 1e3;
    let audio_seconds = audio.duration_ms() as f64 / 1000.0;
    let run = |threads: usize| -> anyhow::Result<(f64, voxgate_analytics::Transcript)> {
        let options = Options {
            threads,
            ..Options::default()
        };
        let t = Instant::now();
        let transcript = transcribe(&audio, &recognizer, &options, &|_| {})?;
        Ok((t.elapsed().as_secs_f64(), transcript))
    };
    let (all_s, transcript) = run(cores())?;
    let t = Instant::now();
    let analysis = LexiconAnalyser::new().analyse(&transcript, &Rules::default())?;
    let analyse_ms = t.elapsed().as_secs_f64() * 1e3;
    let total_s = started.elapsed().as_secs_f64();
    // The single-thread baseline after the timed path, so that it is not warmed by it…
    // and the timed path not by it: both start from new decoders.
    let (one_s, _) = run(1)?;
    let (errors, words) = word_errors(&said, &transcript.text_of(None));

    let r = AnalyticsResult {
        machine_cores: cores(),
        audio_seconds,
        recording_bytes: wav.len(),
        decode_ms,
        turns: transcript.turns.len(),
        transcribe_1_thread_s: one_s,
        transcribe_all_cores_s: all_s,
        analyse_ms,
        total_s,
        rtf_1_thread: one_s / audio_seconds,
        rtf_all_cores: all_s / audio_seconds,
        speedup_all_cores: one_s / all_s,
        word_error_rate: errors as f64 / words.max(1) as f64,
        promise_10_to_15_s_ratio: total_s / 12.5,
        category: analysis.category.clone(),
        sentiment: analysis.sentiment.overall.label.as_str().to_string(),
    };
    let md = format!(
        "# Post-call analysis of a {:.0} s recording\n\n\
         Stereo 8 kHz WAV ({} bytes), Flite voices, PocketSphinx en-us language model, \
         built-in lexicon analyser; {} cores.\n\n\
         | step | time |\n|---|---|\n\
         | decode | {:.1} ms |\n\
         | transcribe, {} threads | {:.2} s (RTF {:.3}) |\n\
         | transcribe, 1 thread (baseline) | {:.2} s (RTF {:.3}) |\n\
         | analyse | {:.2} ms |\n\
         | **total, as the worker runs it** | **{:.2} s** |\n\n\
         All cores against one: {:.2}× faster. Total against the seed product's 10–15 s \
         promise (12.5 s): {:.2}×. {} turns; word error rate {:.1}%; category `{}`, \
         sentiment `{}`.\n",
        r.audio_seconds,
        r.recording_bytes,
        r.machine_cores,
        r.decode_ms,
        r.machine_cores,
        r.transcribe_all_cores_s,
        r.rtf_all_cores,
        r.transcribe_1_thread_s,
        r.rtf_1_thread,
        r.analyse_ms,
        r.total_s,
        r.speedup_all_cores,
        r.promise_10_to_15_s_ratio,
        r.turns,
        r.word_error_rate * 100.0,
        r.category,
        r.sentiment,
    );
    println!("{md}");
    write_results(&args.out, "analytics", &md, &r)
}
