//! Recordings decoded and transcribed with the embedded recognizer (PocketSphinx's
//! en-us language model), on audio from the embedded synthesizers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Instant;

use support::{Line, conversation, wav};
use voxgate_analytics::Speaker;
use voxgate_analytics::decode::{self, DecodeError};
use voxgate_analytics::transcribe::{Options, transcribe};
use voxgate_analytics::wer::word_errors;
use voxgate_speech::pocketsphinx::{PocketSphinxConfig, PocketSphinxRecognizer};
use voxgate_speech::recognizer::Recognizer;

fn pocketsphinx(rate: u32) -> Result<Box<dyn Recognizer>, voxgate_speech::SpeechError> {
    Ok(Box::new(PocketSphinxRecognizer::new(
        &PocketSphinxConfig::for_recordings(rate),
    )?))
}

const SCRIPT: &[Line<'static>] = &[
    Line {
        agent: true,
        voice: "flite:slt",
        text: "Good morning, thank you for calling. How can I help you today?",
    },
    Line {
        agent: false,
        voice: "flite:kal",
        text: "Hello, I ordered a garden chair last week and it still has not arrived.",
    },
    Line {
        agent: true,
        voice: "festival:voice_cmu_us_slt_arctic_hts",
        text: "I am sorry to hear that. Let me check the delivery for you.",
    },
    Line {
        agent: false,
        voice: "festival:voice_kal_diphone",
        text: "The tracking page says the parcel is with the courier.",
    },
    Line {
        agent: true,
        voice: "flite:slt",
        text: "The courier will deliver it tomorrow morning.",
    },
    Line {
        agent: false,
        voice: "flite:kal",
        text: "That is good news. Thank you very much for your help.",
    },
    Line {
        agent: true,
        voice: "espeak-ng:en-us",
        text: "You are welcome. Have a nice day.",
    },
];

#[test]
fn a_stereo_conversation_from_several_synthesizers_is_transcribed_per_speaker() {
    let rate: u32 = std::env::var("RATE")
        .map(|r| r.parse().unwrap())
        .unwrap_or(8000);
    let (recorded, starts) = conversation(SCRIPT, rate, 900);
    let bytes = recorded.to_wav();
    let audio = decode::decode(&bytes, Some("audio/wav")).unwrap();
    assert_eq!(audio.channels.len(), 2);
    let options = Options {
        threads: 2,
        ..Options::default()
    };
    let t = Instant::now();
    let transcript = transcribe(&audio, &pocketsphinx, &options, &|_| {}).unwrap();
    let took = t.elapsed();

    let mut errors = 0;
    let mut words = 0;
    for (line, start) in SCRIPT.iter().zip(&starts) {
        let speaker = if line.agent {
            Speaker::Agent
        } else {
            Speaker::Customer
        };
        // The turns of this line: its speaker's, starting within its span.
        let said: Vec<&str> = transcript
            .turns
            .iter()
            .filter(|t| {
                t.speaker == speaker && t.start_ms + 400 >= *start && t.start_ms < start + 6000
            })
            .map(|t| t.text.as_str())
            .collect();
        let (e, n) = word_errors(line.text, &said.join(" "));
        println!(
            "{:>9} {:<16} wer {:>3}/{:<2} {:?} → {:?}",
            format!("{speaker:?}"),
            line.voice,
            e,
            n,
            line.text,
            said.join(" ")
        );
        errors += e;
        words += n;
    }
    let wer = errors as f64 / words as f64;
    println!(
        "stereo conversation: WER {:.1}% ({errors}/{words} words), {} turns, {:.1} s audio in {} ms (RTF {:.3})",
        wer * 100.0,
        transcript.turns.len(),
        audio.duration_ms() as f64 / 1000.0,
        took.as_millis(),
        took.as_secs_f64() / (audio.duration_ms() as f64 / 1000.0),
    );
    assert!(transcript.turns.iter().any(|t| t.speaker == Speaker::Agent));
    assert!(
        transcript
            .turns
            .iter()
            .any(|t| t.speaker == Speaker::Customer)
    );
    // Measured 33.8% (the espeak-ng line is all wrong; see the README).
    assert!(wer <= 0.40, "word error rate {wer:.3} above the stated 40%");
}

#[test]
fn unsupported_and_broken_recordings_are_told_apart() {
    assert!(
        matches!(decode::decode(b"OggS\0\x02rest", Some("audio/ogg")), Err(DecodeError::Unsupported(m)) if m.contains("Ogg"))
    );
    assert!(matches!(
        decode::decode(b"", None),
        Err(DecodeError::Unsupported(_))
    ));
    assert!(
        matches!(decode::decode(b"<html>nope</html>", Some("text/html")), Err(DecodeError::Unsupported(m)) if m.contains("text/html"))
    );
    let mut truncated = wav(8000, &[0; 10]);
    truncated.truncate(20);
    assert!(matches!(
        decode::decode(&truncated, None),
        Err(DecodeError::Malformed { .. })
    ));
    // An MP3 frame sync followed by garbage.
    let junk: Vec<u8> = [0xFF, 0xFB, 0x90, 0x64]
        .iter()
        .copied()
        .chain((0..2000).map(|i| (i * 7 % 251) as u8))
        .collect();
    assert!(decode::decode(&junk, None).is_err());
}
