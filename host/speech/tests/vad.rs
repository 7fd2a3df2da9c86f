//! Voice activity and end of utterance on real synthesized speech, padded with silence
//! or low noise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use voxgate_speech::audio::Pcm;
use voxgate_speech::espeak::EspeakSynthesizer;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::synth::{Synthesizer, Voice};
use voxgate_speech::vad::{Vad, VadConfig, VadEvent, VadMode};

const HANGOVER_MS: u64 = 500;

fn config() -> VadConfig {
    VadConfig {
        mode: VadMode::Aggressive,
        start_frames: 3,
        hangover: Duration::from_millis(HANGOVER_MS),
        max_utterance: Duration::from_secs(20),
        warmup: Duration::from_millis(200),
    }
}

/// Deterministic white noise with the given RMS.
fn noise(rate: u32, ms: u64, rms: f64, seed: u64) -> Vec<i16> {
    let n = (u64::from(rate) * ms / 1000) as usize;
    let mut x = seed | 1;
    // Uniform in [-a, a] has RMS a/sqrt(3).
    let a = rms * 3f64.sqrt();
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            ((u * 2.0 - 1.0) * a).round() as i16
        })
        .collect()
}

fn silence(rate: u32, ms: u64) -> Vec<i16> {
    vec![0; (u64::from(rate) * ms / 1000) as usize]
}

/// Start and end (ms) of the audible part of clean speech: first and last 10 ms window
/// with RMS above 200.
fn audible_span(pcm: &Pcm) -> (u64, u64) {
    let w = (pcm.rate / 100) as usize;
    let loud: Vec<bool> = pcm
        .samples
        .chunks(w)
        .map(|c| {
            let e: f64 =
                c.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / c.len() as f64;
            e.sqrt() > 200.0
        })
        .collect();
    let first = loud.iter().position(|&l| l).unwrap() as u64 * 10;
    let last = (loud.iter().rposition(|&l| l).unwrap() as u64 + 1) * 10;
    (first, last)
}

/// Events with the stream time (ms) at which each was reported.
fn run(vad: &mut Vad, audio: &[i16]) -> Vec<(u64, VadEvent)> {
    let mut out = Vec::new();
    for frame in audio.chunks(vad.frame_len()) {
        if frame.len() < vad.frame_len() {
            break;
        }
        if let Some(e) = vad.push(frame) {
            out.push((vad.position_ms(), e));
        }
        while let Some(e) = vad.next_event() {
            out.push((vad.position_ms(), e));
        }
    }
    out
}

fn speech(synth: &dyn Synthesizer, text: &str, rate: u32) -> Pcm {
    synth
        .synthesize(text, &Voice::language("en"))
        .unwrap()
        .resampled(rate)
        .unwrap()
}

/// Lead silence, speech, tail silence, optionally mixed with noise; checks exactly one
/// utterance, onset within ±60 ms and the end reported after the hangover.
fn check_one_utterance(speech: &Pcm, noise_rms: f64, label: &str) -> i64 {
    let rate = speech.rate;
    let lead = 1000;
    let mut audio = silence(rate, lead);
    audio.extend_from_slice(&speech.samples);
    audio.extend(silence(rate, 1500));
    if noise_rms > 0.0 {
        let n = noise(
            rate,
            audio.len() as u64 * 1000 / u64::from(rate) + 1,
            noise_rms,
            7,
        );
        for (a, b) in audio.iter_mut().zip(n) {
            *a = a.saturating_add(b);
        }
    }
    let (first, last) = audible_span(speech);
    let (onset, offset) = (lead + first, lead + last);
    let mut vad = Vad::new(rate, config()).unwrap();
    let events = run(&mut vad, &audio);
    assert_eq!(events.len(), 2, "{label}: {events:?}");
    let (_, VadEvent::SpeechStart { at_ms: start }) = events[0] else {
        panic!("{label}: {events:?}");
    };
    let (
        reported,
        VadEvent::SpeechEnd {
            at_ms: end,
            duration_ms,
        },
    ) = events[1]
    else {
        panic!("{label}: {events:?}");
    };
    let onset_error = start as i64 - onset as i64;
    assert!(
        onset_error.abs() <= 60,
        "{label}: onset {start} ms, speech at {onset} ms"
    );
    assert!(
        (end as i64 - offset as i64).abs() <= 150,
        "{label}: end {end} ms, speech ends at {offset} ms"
    );
    assert_eq!(duration_ms, end - start, "{label}");
    assert!(
        reported >= end + HANGOVER_MS,
        "{label}: end reported at {reported} ms"
    );
    assert!(
        reported <= end + HANGOVER_MS + 40,
        "{label}: end reported at {reported} ms"
    );
    println!(
        "{label}: onset error {onset_error:+} ms, end {:+} ms, reported {} ms after speech",
        end as i64 - offset as i64,
        reported - offset
    );
    onset_error
}

#[test]
fn one_utterance_in_silence_and_noise() {
    let espeak = EspeakSynthesizer::new().unwrap();
    let flite = FliteSynthesizer::new().unwrap();
    let text = "Please connect me to the sales department";
    for rate in [8000, 16000] {
        for (name, synth) in [
            ("espeak-ng", &espeak as &dyn Synthesizer),
            ("flite", &flite),
        ] {
            let s = speech(synth, text, rate);
            for noise_rms in [0.0, 30.0, 100.0] {
                check_one_utterance(
                    &s,
                    noise_rms,
                    &format!("{name} {rate} Hz noise {noise_rms}"),
                );
            }
        }
    }
}

#[test]
fn silence_and_low_noise_are_not_speech() {
    for rate in [8000, 16000] {
        for mode in [
            VadMode::Quality,
            VadMode::Aggressive,
            VadMode::VeryAggressive,
        ] {
            let cfg = VadConfig { mode, ..config() };
            let mut vad = Vad::new(rate, cfg).unwrap();
            assert_eq!(
                run(&mut vad, &silence(rate, 5000)),
                vec![],
                "{rate} {mode:?}"
            );
            for rms in [10.0, 30.0, 100.0] {
                let mut vad = Vad::new(rate, cfg).unwrap();
                let events = run(&mut vad, &noise(rate, 5000, rms, 99));
                assert_eq!(events, vec![], "{rate} Hz {mode:?} noise {rms}");
                assert!(!vad.in_speech());
            }
            // Not checked: a 10 dB step up in noise level mid-call reads as 1–2 s of
            // speech in every mode until WebRTC's noise model adapts.
        }
    }
}

#[test]
fn two_sentences_one_second_apart_are_two_utterances() {
    let synth = EspeakSynthesizer::new().unwrap();
    let rate = 8000;
    let a = speech(&synth, "I would like to pay my bill", rate);
    let b = speech(&synth, "My account number is four five six", rate);
    let mut audio = silence(rate, 500);
    audio.extend_from_slice(&a.samples);
    audio.extend(silence(rate, 1000));
    audio.extend_from_slice(&b.samples);
    audio.extend(silence(rate, 1000));
    let mut vad = Vad::new(rate, config()).unwrap();
    let events = run(&mut vad, &audio);
    let starts = events
        .iter()
        .filter(|(_, e)| matches!(e, VadEvent::SpeechStart { .. }))
        .count();
    let ends: Vec<u64> = events
        .iter()
        .filter_map(|(_, e)| match e {
            VadEvent::SpeechEnd { duration_ms, .. } => Some(*duration_ms),
            _ => None,
        })
        .collect();
    assert_eq!(starts, 2, "{events:?}");
    assert_eq!(ends.len(), 2, "{events:?}");
    // Each utterance is about as long as its sentence.
    for (d, s) in ends.iter().zip([&a, &b]) {
        let (f, l) = audible_span(s);
        assert!(
            (*d as i64 - (l - f) as i64).abs() < 200,
            "{d} ms vs {} ms",
            l - f
        );
    }
}

#[test]
fn overlong_utterance_is_cut_at_max() {
    let synth = EspeakSynthesizer::new().unwrap();
    let rate = 16000;
    let s = speech(
        &synth,
        "This is a rather long sentence that goes on and on without any pause at all",
        rate,
    );
    let cfg = VadConfig {
        max_utterance: Duration::from_millis(1000),
        ..config()
    };
    let mut audio = silence(rate, 300);
    audio.extend_from_slice(&s.samples);
    let mut vad = Vad::new(rate, cfg).unwrap();
    let events = run(&mut vad, &audio);
    let (_, VadEvent::SpeechStart { at_ms: start }) = events[0] else {
        panic!("{events:?}");
    };
    let (reported, VadEvent::SpeechEnd { at_ms, duration_ms }) = events[1] else {
        panic!("{events:?}");
    };
    assert_eq!(duration_ms, 1000);
    assert_eq!(at_ms, start + 1000);
    assert_eq!(reported, at_ms);
}

#[test]
fn finish_ends_an_open_utterance() {
    let synth = EspeakSynthesizer::new().unwrap();
    let s = speech(&synth, "Hello there", 8000);
    let mut vad = Vad::new(8000, config()).unwrap();
    let events = run(&mut vad, &s.samples);
    assert!(
        matches!(events.as_slice(), [(_, VadEvent::SpeechStart { .. })]),
        "{events:?}"
    );
    assert!(matches!(vad.finish(), Some(VadEvent::SpeechEnd { .. })));
    assert_eq!(vad.finish(), None);
}
