//! The prompt cache: synthesizes once, persists across instances, recovers from damaged
//! files, stays within its memory bound.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use voxgate_speech::SpeechError;
use voxgate_speech::audio::Pcm;
use voxgate_speech::cache::PromptCache;
use voxgate_speech::espeak::EspeakSynthesizer;
use voxgate_speech::synth::{Synthesizer, Voice};

/// Test double: a "synthesizer" producing a tone whose length follows the text, and
/// counting how often it is called.
#[derive(Debug, Default)]
struct CountingTestSynthesizer {
    calls: AtomicUsize,
}

impl CountingTestSynthesizer {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Synthesizer for CountingTestSynthesizer {
    fn name(&self) -> &str {
        "counting-test-double"
    }

    fn languages(&self) -> Vec<String> {
        vec!["en".into()]
    }

    fn synthesize(&self, text: &str, _voice: &Voice) -> Result<Pcm, SpeechError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // 50 ms of 440 Hz per character, at 16 kHz.
        let n = text.chars().count() * 800;
        let samples = (0..n)
            .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 16000.0).sin() * 8000.0) as i16)
            .collect();
        Ok(Pcm::new(16000, samples))
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "voxgate-speech-cache-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn en() -> Voice {
    Voice::language("en")
}

#[test]
fn miss_synthesizes_once_then_hits() {
    let synth = CountingTestSynthesizer::default();
    let cache = PromptCache::new(None, 10 << 20).unwrap();
    let a = cache
        .get_or_synthesize(&synth, "Hello", &en(), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 1);
    assert_eq!(a.rate, 8000);
    // 5 chars × 50 ms = 250 ms, resampled to 8 kHz.
    assert_eq!(a.samples.len(), 2000);
    let b = cache
        .get_or_synthesize(&synth, "Hello", &en(), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 1);
    assert!(Arc::ptr_eq(&a, &b));
    // Anything in the key changing is a different prompt.
    cache
        .get_or_synthesize(&synth, "Hello", &en(), 16000)
        .unwrap();
    cache
        .get_or_synthesize(&synth, "Hello!", &en(), 8000)
        .unwrap();
    cache
        .get_or_synthesize(&synth, "Hello", &Voice::language("de"), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 4);
    assert_eq!(cache.memory_entries(), 4);
}

#[test]
fn persists_on_disk_across_instances() {
    let dir = TempDir::new("persist");
    let synth = CountingTestSynthesizer::default();
    let first = {
        let cache = PromptCache::new(Some(dir.0.clone()), 10 << 20).unwrap();
        cache
            .get_or_synthesize(&synth, "Welcome", &en(), 8000)
            .unwrap()
    };
    assert_eq!(synth.calls(), 1);
    let path = PromptCache::new(Some(dir.0.clone()), 0)
        .unwrap()
        .path_for(synth.name(), &en(), "Welcome", 8000)
        .unwrap();
    assert!(path.exists());
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
    // The file is an ordinary WAV.
    let reader = hound::WavReader::open(&path).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    assert_eq!(reader.spec().channels, 1);
    let wav: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(wav, first.samples);

    let cache = PromptCache::new(Some(dir.0.clone()), 10 << 20).unwrap();
    let again = cache
        .get_or_synthesize(&synth, "Welcome", &en(), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 1, "served from disk");
    assert_eq!(*again, *first);
}

#[test]
fn corrupt_disk_entry_is_synthesized_again() {
    let dir = TempDir::new("corrupt");
    let synth = CountingTestSynthesizer::default();
    let cache = PromptCache::new(Some(dir.0.clone()), 10 << 20).unwrap();
    let good = cache
        .get_or_synthesize(&synth, "Goodbye", &en(), 8000)
        .unwrap();
    let path = cache
        .path_for(synth.name(), &en(), "Goodbye", 8000)
        .unwrap();
    let original = std::fs::read(&path).unwrap();

    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", original[..original.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage", b"not a wav file at all".to_vec()),
        ("flipped sample", {
            let mut b = original.clone();
            let i = b.len() - 100;
            b[i] ^= 0x10;
            b
        }),
    ];
    let mut calls = 1;
    for (what, bytes) in damages {
        std::fs::write(&path, &bytes).unwrap();
        let fresh = PromptCache::new(Some(dir.0.clone()), 10 << 20).unwrap();
        let pcm = fresh
            .get_or_synthesize(&synth, "Goodbye", &en(), 8000)
            .unwrap();
        calls += 1;
        assert_eq!(synth.calls(), calls, "{what}: synthesized again");
        assert_eq!(*pcm, *good, "{what}");
        // And the file is repaired.
        assert_eq!(
            std::fs::read(&path).unwrap(),
            original,
            "{what}: file rewritten"
        );
    }
}

#[test]
fn memory_stays_within_bound_evicting_least_recently_used() {
    let synth = CountingTestSynthesizer::default();
    // Each 10-character prompt is 500 ms at 8 kHz = 4000 samples = 8000 bytes.
    let bound = 20_000;
    let cache = PromptCache::new(None, bound).unwrap();
    let texts: Vec<String> = (0..10).map(|i| format!("prompt #{i:02}")).collect();
    cache
        .get_or_synthesize(&synth, &texts[0], &en(), 8000)
        .unwrap();
    cache
        .get_or_synthesize(&synth, &texts[1], &en(), 8000)
        .unwrap();
    assert_eq!(cache.memory_bytes(), 16_000);
    // Use 0 again, so 1 is the least recently used when 2 arrives.
    cache
        .get_or_synthesize(&synth, &texts[0], &en(), 8000)
        .unwrap();
    cache
        .get_or_synthesize(&synth, &texts[2], &en(), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 3);
    assert!(cache.memory_bytes() <= bound);
    cache
        .get_or_synthesize(&synth, &texts[0], &en(), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 3, "0 was kept");
    cache
        .get_or_synthesize(&synth, &texts[1], &en(), 8000)
        .unwrap();
    assert_eq!(synth.calls(), 4, "1 was evicted");

    for t in &texts {
        cache.get_or_synthesize(&synth, t, &en(), 8000).unwrap();
        assert!(
            cache.memory_bytes() <= bound,
            "{} > {bound}",
            cache.memory_bytes()
        );
        assert!(cache.memory_entries() <= 2);
    }
    // A prompt larger than the whole bound is returned but not kept.
    let huge = "x".repeat(100);
    let pcm = cache.get_or_synthesize(&synth, &huge, &en(), 8000).unwrap();
    assert_eq!(pcm.samples.len(), 40_000);
    assert!(cache.memory_bytes() <= bound);
}

#[test]
fn caches_real_espeak_prompt_at_telephony_rate() {
    let dir = TempDir::new("espeak");
    let synth = EspeakSynthesizer::new().unwrap();
    let cache = PromptCache::new(Some(dir.0.clone()), 1 << 20).unwrap();
    let voice = Voice::language("hr-HR");
    let pcm = cache
        .get_or_synthesize(&synth, "Dobar dan, izvolite.", &voice, 8000)
        .unwrap();
    assert_eq!(pcm.rate, 8000);
    assert!(pcm.duration_ms() > 300);
    let again = PromptCache::new(Some(dir.0.clone()), 1 << 20)
        .unwrap()
        .get_or_synthesize(&synth, "Dobar dan, izvolite.", &voice, 8000)
        .unwrap();
    assert_eq!(*again, *pcm);
    assert!(matches!(
        cache.get_or_synthesize(&synth, "x", &Voice::language("xx"), 8000),
        Err(SpeechError::UnknownVoice(_))
    ));
}
