//! Recording → [`Transcript`]: each channel is cut into utterances by voice activity,
//! and the utterances are recognized in free-speech mode on several threads at once.
//!
//! Stereo recordings from a PBX carry the agent on one channel and the customer on the
//! other, so each channel's utterances are that speaker's turns; interleaved by start
//! time they give the conversation. Other recordings are mixed to mono and their turns
//! have no known speaker.
//!
//! Why utterances: a free-speech decoder works on one utterance at a time, its search
//! grows with the utterance, and silence costs time for nothing. Cutting at pauses
//! keeps each search short and lets utterances be spread over threads — the only way
//! a single recording uses more than one core.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use voxgate_speech::SpeechError;
use voxgate_speech::audio::Pcm;
use voxgate_speech::recognizer::{Grammar, Recognizer};
use voxgate_speech::vad::{Vad, VadConfig, VadEvent, VadMode};

use crate::analyser::{Speaker, Transcript, Turn};
use crate::decode::Audio;

/// Creates a recognizer for audio at about `rate` Hz (it may want another rate: its
/// [`Recognizer::sample_rate`] decides, and the audio is resampled to it).
pub type RecognizerFactory<'a> =
    &'a (dyn Fn(u32) -> Result<Box<dyn Recognizer>, SpeechError> + Sync);

/// How a recording is transcribed.
#[derive(Debug, Clone)]
pub struct Options {
    /// BCP 47 language written into the transcript.
    pub language: String,
    /// For two-channel recordings: which channel is the agent's (0 = left). `None` mixes
    /// the channels and leaves speakers unknown.
    pub agent_channel: Option<usize>,
    /// Recognizers run at once (at least 1).
    pub threads: usize,
    /// A pause this long ends an utterance.
    pub pause: Duration,
    /// Longer utterances are cut.
    pub max_utterance: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            language: "en".into(),
            agent_channel: Some(0),
            threads: 1,
            pause: Duration::from_millis(400),
            max_utterance: Duration::from_secs(20),
        }
    }
}

/// Why a recording could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error("speech recognition failed: {0}")]
    Speech(#[from] SpeechError),
}

/// One stretch of speech on one channel.
#[derive(Debug, Clone)]
struct Utterance {
    speaker: Speaker,
    start_ms: u64,
    end_ms: u64,
    samples: Vec<i16>,
}

/// Audio kept before a detected start and after a detected end: the onset detector
/// needs a few frames to fire, and word endings fade below its threshold.
const LEAD_IN_MS: u64 = 200;
const TAIL_MS: u64 = 300;

/// Transcribes `audio`, reporting progress (0..=1) as utterances finish.
pub fn transcribe(
    audio: &Audio,
    make: RecognizerFactory<'_>,
    options: &Options,
    progress: &(dyn Fn(f32) + Sync),
) -> Result<Transcript, TranscribeError> {
    let want = if audio.rate >= 16_000 { 16_000 } else { 8000 };
    let first = make(want)?;
    let rate = first.sample_rate();
    let sides: Vec<(Speaker, Pcm)> = match (audio.channels.len(), options.agent_channel) {
        (2, Some(agent)) if agent < 2 => {
            let customer = 1 - agent;
            vec![
                (Speaker::Agent, channel(audio, agent)),
                (Speaker::Customer, channel(audio, customer)),
            ]
        }
        _ => vec![(Speaker::Unknown, audio.mono())],
    };
    let mut utterances = Vec::new();
    for (speaker, pcm) in sides {
        let pcm = pcm.resampled(rate)?;
        utterances.extend(segment(&pcm, speaker, options)?);
    }
    // Longest first, so that no thread is left with a long one at the end.
    utterances.sort_by_key(|u| std::cmp::Reverse(u.samples.len()));
    let total = utterances.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let turns = Mutex::new(Vec::with_capacity(total));
    let threads = options.threads.clamp(1, total.max(1));
    let first = Mutex::new(Some(first));
    std::thread::scope(|scope| -> Result<(), TranscribeError> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), TranscribeError> {
                    let reuse = first.lock().unwrap_or_else(|p| p.into_inner()).take();
                    let mut rec = match reuse {
                        Some(r) => r,
                        None => make(rate)?,
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(u) = utterances.get(i) else {
                            return Ok(());
                        };
                        rec.start(&Grammar::Free)?;
                        rec.feed(&u.samples)?;
                        if let Some(h) = rec.finish()?
                            && !h.text.is_empty()
                        {
                            turns.lock().unwrap_or_else(|p| p.into_inner()).push(Turn {
                                speaker: u.speaker,
                                start_ms: u.start_ms,
                                end_ms: u.end_ms,
                                text: h.text,
                                confidence: Some(h.confidence),
                            });
                        }
                        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(finished as f32 / total as f32);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| {
                TranscribeError::Speech(SpeechError::Recognize(
                    "a transcription thread panicked".into(),
                ))
            })??;
        }
        Ok(())
    })?;
    let mut turns = turns.into_inner().unwrap_or_else(|p| p.into_inner());
    turns.sort_by_key(|t| (t.start_ms, t.end_ms));
    progress(1.0);
    Ok(Transcript {
        language: options.language.clone(),
        duration_ms: audio.duration_ms(),
        turns,
    })
}

fn channel(audio: &Audio, index: usize) -> Pcm {
    audio
        .channel(index)
        .unwrap_or_else(|| Pcm::new(audio.rate, Vec::new()))
}

/// Cuts one channel into utterances by voice activity.
fn segment(
    pcm: &Pcm,
    speaker: Speaker,
    options: &Options,
) -> Result<Vec<Utterance>, TranscribeError> {
    let mut vad = Vad::new(
        pcm.rate,
        VadConfig {
            mode: VadMode::Aggressive,
            start_frames: 3,
            hangover: options.pause,
            max_utterance: options.max_utterance,
            warmup: Duration::from_millis(0),
        },
    )?;
    let per_ms = u64::from(pcm.rate) / 1000;
    let frame = vad.frame_len().max(1);
    let mut spans = Vec::new();
    let mut start = None;
    let mut on_event = |e: VadEvent, spans: &mut Vec<(u64, u64)>| match e {
        VadEvent::SpeechStart { at_ms } => start = Some(at_ms),
        VadEvent::SpeechEnd { at_ms, .. } => {
            if let Some(s) = start.take() {
                spans.push((s, at_ms));
            }
        }
    };
    for chunk in pcm.samples.chunks(frame) {
        let mut event = vad.push(chunk);
        while let Some(e) = event {
            on_event(e, &mut spans);
            event = vad.next_event();
        }
    }
    let mut event = vad.finish();
    while let Some(e) = event {
        on_event(e, &mut spans);
        event = vad.next_event();
    }
    let len_ms = pcm.samples.len() as u64 / per_ms.max(1);
    Ok(spans
        .into_iter()
        .map(|(s, e)| {
            let start_ms = s.saturating_sub(LEAD_IN_MS);
            let end_ms = (e + TAIL_MS).min(len_ms);
            let from = (start_ms * per_ms) as usize;
            let to = ((end_ms * per_ms) as usize).min(pcm.samples.len());
            Utterance {
                speaker,
                start_ms,
                end_ms,
                samples: pcm.samples.get(from..to).unwrap_or_default().to_vec(),
            }
        })
        .filter(|u| !u.samples.is_empty())
        .collect())
}
