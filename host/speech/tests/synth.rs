//! espeak-ng and Flite produce real speech: audible, of plausible length, in every
//! language the tenants speak, from several threads at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use voxgate_speech::SpeechError;
use voxgate_speech::audio::Pcm;
use voxgate_speech::espeak::EspeakSynthesizer;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::synth::{Synthesizer, Voice};

/// (language tag, a short sentence, a longer text).
const TEXTS: &[(&str, &str, &str)] = &[
    (
        "en",
        "Thank you for calling.",
        "Thank you for calling. All of our agents are busy at the moment. Please stay on the line and we will be with you shortly.",
    ),
    (
        "de",
        "Vielen Dank für Ihren Anruf.",
        "Vielen Dank für Ihren Anruf. Alle unsere Mitarbeiter sind gerade im Gespräch. Bitte bleiben Sie in der Leitung, wir sind gleich für Sie da.",
    ),
    (
        "hr-HR",
        "Hvala što ste nazvali.",
        "Hvala što ste nazvali. Svi naši djelatnici su trenutno zauzeti. Molimo ostanite na liniji, javit ćemo vam se uskoro.",
    ),
    (
        "ar",
        "شكرا لاتصالك.",
        "شكرا لاتصالك. جميع موظفينا مشغولون حاليا. يرجى البقاء على الخط وسنكون معك قريبا.",
    ),
    (
        "zh",
        "感谢您的来电。",
        "感谢您的来电。我们的客服人员正在忙，请不要挂机，我们会尽快为您服务。",
    ),
    (
        "el",
        "Ευχαριστούμε για την κλήση σας.",
        "Ευχαριστούμε για την κλήση σας. Όλοι οι συνεργάτες μας είναι απασχολημένοι. Παρακαλούμε μείνετε στη γραμμή και θα σας εξυπηρετήσουμε σύντομα.",
    ),
];

fn rms(pcm: &Pcm) -> f64 {
    if pcm.samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm
        .samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum();
    (sum / pcm.samples.len() as f64).sqrt()
}

/// Audible speech: RMS well above silence (full scale is 32767; quiet speech is ~300+).
fn assert_speech(pcm: &Pcm, what: &str) {
    let r = rms(pcm);
    assert!(r > 300.0, "{what}: RMS {r:.0} is too quiet to be speech");
    assert!(
        pcm.samples.iter().any(|&s| s.unsigned_abs() > 3000),
        "{what}: no sample above 3000"
    );
}

fn assert_short_sentence(pcm: &Pcm, what: &str) {
    let ms = pcm.duration_ms();
    assert!(
        (300..=4000).contains(&ms),
        "{what}: {ms} ms is not plausible for a short sentence"
    );
}

#[test]
fn espeak_speaks_every_tenant_language() {
    let synth = EspeakSynthesizer::new().unwrap();
    assert_eq!(synth.name(), "espeak-ng");
    assert_eq!(synth.sample_rate(), 22050);
    let mut synth_secs = 0.0;
    let mut audio_secs = 0.0;
    for &(lang, short, long) in TEXTS {
        let voice = Voice::language(lang);
        let t = Instant::now();
        let s = synth.synthesize(short, &voice).unwrap();
        synth_secs += t.elapsed().as_secs_f64();
        audio_secs += s.duration_ms() as f64 / 1000.0;
        assert_eq!(s.rate, 22050);
        assert_speech(&s, lang);
        assert_short_sentence(&s, lang);

        let t = Instant::now();
        let l = synth.synthesize(long, &voice).unwrap();
        synth_secs += t.elapsed().as_secs_f64();
        audio_secs += l.duration_ms() as f64 / 1000.0;
        assert_speech(&l, lang);
        assert!(
            l.duration_ms() > s.duration_ms() * 2,
            "{lang}: long text {} ms vs short {} ms",
            l.duration_ms(),
            s.duration_ms()
        );
        assert!(
            l.duration_ms() < 20_000,
            "{lang}: long text {} ms",
            l.duration_ms()
        );
        println!(
            "espeak-ng {lang}: short {} ms, long {} ms, RMS {:.0}",
            s.duration_ms(),
            l.duration_ms(),
            rms(&l)
        );
    }
    println!(
        "espeak-ng: {:.1} ms of synthesis per second of audio ({audio_secs:.1} s of audio)",
        synth_secs * 1000.0 / audio_secs
    );
}

#[test]
fn espeak_languages_include_the_tenant_set() {
    let synth = EspeakSynthesizer::new().unwrap();
    let langs = synth.languages();
    for l in ["en-us", "de", "hr", "ar", "cmn", "el"] {
        assert!(langs.iter().any(|x| x == l), "{l} missing from {langs:?}");
    }
    assert_eq!(synth.resolve("zh").as_deref(), Some("cmn"));
    assert_eq!(synth.resolve("hr-HR").as_deref(), Some("hr"));
}

#[test]
fn espeak_named_voice() {
    let synth = EspeakSynthesizer::new().unwrap();
    let voice = Voice {
        language: "en".into(),
        name: Some("en-us+f3".into()),
    };
    let pcm = synth.synthesize("Hello there.", &voice).unwrap();
    assert_speech(&pcm, "en-us+f3");
    let bogus = Voice {
        language: "en".into(),
        name: Some("no-such-voice".into()),
    };
    assert!(matches!(
        synth.synthesize("Hello there.", &bogus),
        Err(SpeechError::UnknownVoice(_))
    ));
}

#[test]
fn espeak_unknown_language_is_an_error() {
    let synth = EspeakSynthesizer::new().unwrap();
    for lang in ["xx", "tlh", "", "qaa-Latn"] {
        match synth.synthesize("Hello.", &Voice::language(lang)) {
            Err(SpeechError::UnknownVoice(v)) => assert_eq!(v, lang),
            other => panic!("{lang}: expected UnknownVoice, got {other:?}"),
        }
    }
}

#[test]
fn espeak_from_four_threads() {
    let synth = std::sync::Arc::new(EspeakSynthesizer::new().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let synth = std::sync::Arc::clone(&synth);
            std::thread::spawn(move || {
                let (lang, short, _) = TEXTS[i % TEXTS.len()];
                let mut lens = Vec::new();
                for _ in 0..3 {
                    let pcm = synth.synthesize(short, &Voice::language(lang)).unwrap();
                    assert_speech(&pcm, lang);
                    lens.push(pcm.samples.len());
                }
                // Same text, same voice: about the same length every time, whatever the
                // others do. espeak-ng varies on its own by up to about 1% (291 samples
                // of 27,000 seen); audio of two threads mixed up would be off by far
                // more than the 5% allowed.
                let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
                assert!(max - min < max / 20, "{lang}: {lens:?}");
                lens[0]
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap() > 0);
    }
}

#[test]
fn flite_speaks_english_with_both_voices() {
    let synth = FliteSynthesizer::new().unwrap();
    assert_eq!(synth.name(), "flite");
    let mut synth_secs = 0.0;
    let mut audio_secs = 0.0;
    for name in [None, Some("slt"), Some("kal")] {
        let voice = Voice {
            language: "en-US".into(),
            name: name.map(String::from),
        };
        let label = name.unwrap_or("default");
        let t = Instant::now();
        let s = synth.synthesize(TEXTS[0].1, &voice).unwrap();
        let l = synth.synthesize(TEXTS[0].2, &voice).unwrap();
        synth_secs += t.elapsed().as_secs_f64();
        audio_secs += (s.duration_ms() + l.duration_ms()) as f64 / 1000.0;
        assert!(
            s.rate == 16000 || s.rate == 8000,
            "{label}: rate {}",
            s.rate
        );
        assert_speech(&s, label);
        assert_short_sentence(&s, label);
        assert_speech(&l, label);
        assert!(l.duration_ms() > s.duration_ms() * 2, "{label}");
        println!(
            "flite {label}: {} Hz, short {} ms, long {} ms, RMS {:.0}",
            s.rate,
            s.duration_ms(),
            l.duration_ms(),
            rms(&l)
        );
    }
    println!(
        "flite: {:.1} ms of synthesis per second of audio ({audio_secs:.1} s of audio)",
        synth_secs * 1000.0 / audio_secs
    );
}

#[test]
fn flite_rejects_other_languages_and_voices() {
    let synth = FliteSynthesizer::new().unwrap();
    assert!(matches!(
        synth.synthesize("Hallo.", &Voice::language("de")),
        Err(SpeechError::UnknownVoice(_))
    ));
    let awb = Voice {
        language: "en".into(),
        name: Some("awb".into()),
    };
    assert!(matches!(
        synth.synthesize("Hello.", &awb),
        Err(SpeechError::UnknownVoice(_))
    ));
}

#[test]
fn flite_from_four_threads() {
    let synth = std::sync::Arc::new(FliteSynthesizer::new().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let synth = std::sync::Arc::clone(&synth);
            std::thread::spawn(move || {
                let voice = Voice {
                    language: "en".into(),
                    name: Some(if i % 2 == 0 { "slt" } else { "kal" }.into()),
                };
                for _ in 0..2 {
                    let pcm = synth.synthesize("Please hold the line.", &voice).unwrap();
                    assert_speech(&pcm, "flite thread");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn synthesizers_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<EspeakSynthesizer>();
    check::<FliteSynthesizer>();
}
