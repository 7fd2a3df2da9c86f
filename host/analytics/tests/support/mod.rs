//! Test recordings made with the embedded synthesizers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use voxgate_analytics::decode::Audio;
use voxgate_speech::audio::Pcm;
use voxgate_speech::espeak::EspeakSynthesizer;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::synth::{Synthesizer, Voice};

fn espeak() -> &'static EspeakSynthesizer {
    static E: OnceLock<EspeakSynthesizer> = OnceLock::new();
    E.get_or_init(|| EspeakSynthesizer::new().expect("espeak-ng"))
}

fn flite() -> &'static FliteSynthesizer {
    static F: OnceLock<FliteSynthesizer> = OnceLock::new();
    F.get_or_init(|| FliteSynthesizer::new().expect("flite"))
}

/// `text` spoken by `voice` (`flite:slt`, `flite:kal`, `espeak-ng:en-us` …) at `rate`.
pub fn speak(voice: &str, text: &str, rate: u32) -> Vec<i16> {
    let (engine, name) = voice.split_once(':').unwrap_or((voice, ""));
    let pcm = match engine {
        "flite" => flite()
            .synthesize(
                text,
                &Voice {
                    language: "en".into(),
                    name: Some(name.to_string()),
                },
            )
            .unwrap(),
        "espeak-ng" => espeak()
            .synthesize(
                text,
                &Voice::language(if name.is_empty() { "en" } else { name }),
            )
            .unwrap(),
        "festival" => festival(name, text),
        other => panic!("unknown engine {other}"),
    };
    pcm.resampled(rate).unwrap().samples
}

/// A line of a scripted conversation.
pub struct Line<'a> {
    pub agent: bool,
    pub voice: &'a str,
    pub text: &'a str,
}

/// The conversation as a stereo recording (agent left, customer right) at `rate`, with
/// `gap_ms` of silence between lines; also each line's start in ms.
pub fn conversation(lines: &[Line<'_>], rate: u32, gap_ms: u32) -> (Audio, Vec<u64>) {
    let gap = (rate / 1000 * gap_ms) as usize;
    let turns: Vec<(usize, Vec<i16>)> = lines
        .iter()
        .map(|l| (usize::from(!l.agent), speak(l.voice, l.text, rate)))
        .collect();
    let mut at = gap;
    let starts = turns
        .iter()
        .map(|(_, pcm)| {
            let start = at as u64 * 1000 / u64::from(rate);
            at += pcm.len() + gap;
            start
        })
        .collect();
    (Audio::from_turns(rate, 2, gap, turns), starts)
}

/// A mono WAV of `samples`.
pub fn wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    voxgate_speech::wav::encode_pcm16_mono(rate, samples)
}

/// Festival (Debian's `festival` with `festvox-us-slt-hts` and `festvox-kallpc16k`):
/// `text2wave` with a voice function such as `voice_cmu_us_slt_arctic_hts`.
fn festival(voice: &str, text: &str) -> Pcm {
    let dir =
        std::env::temp_dir().join(format!("voxgate-analytics-festival-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n: u64 = text.bytes().map(u64::from).sum::<u64>() ^ text.len() as u64;
    let input = dir.join(format!("{voice}-{n}.txt"));
    let output = dir.join(format!("{voice}-{n}.wav"));
    std::fs::write(&input, text).unwrap();
    let status = std::process::Command::new("text2wave")
        .args(["-eval", &format!("({voice})")])
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .status()
        .expect("text2wave (Debian package festival) runs");
    assert!(status.success(), "text2wave failed for {text:?}");
    let pcm = voxgate_speech::wav::decode(&std::fs::read(&output).unwrap()).unwrap();
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    pcm
}
