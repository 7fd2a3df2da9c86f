//! Speech in calls, end to end: baresip 1.0 (see `support/baresip.rs`) calls
//! `voxgate sip serve` with a route that speaks (`say`), listens (`listen`) and lets
//! the caller interrupt (`barge_in`).
//!
//! The caller's voice is made with Flite's command-line synthesizer (voices slt, kal,
//! rms, awb) — not espeak-ng, which voxgate speaks with — band-limited to telephone
//! audio (300-3400 Hz, 8 kHz mono) by sox, and played by baresip's `aufile` from the
//! moment the call's audio starts. voxgate's call events (`speech-start`,
//! `speech-end`, `barge-in`, `transcript`, `prompt-finished`) and what baresip heard
//! (its `sndfile` dump) are checked.
//!
//! aufile plays the caller's file over and over, so each file ends with several
//! seconds of silence after the caller's 1.5 s pause: the call is hung up long before
//! the caller would speak again.
//!
//! The tests take one lock, so they run one after another (recognition and the
//! barge-in timing should not compete for two cores). `VOXGATE_KEEP_TEST_DIR=1` keeps
//! the files (caller WAVs, heard.wav per call, events, logs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use support::baresip::{
    Baresip, BaresipOptions, Events, Recordings, THRESHOLD, TempDir, Voxgate, Wav, all_of, count,
    first, flite_speech, of_call, require_baresip, require_program, rms, show, str_field,
};

/// Caller phrases and the Flite voice that says each. Every word is in PocketSphinx's
/// `cmudict-en-us.dict`.
const PHRASES: &[(&str, &str)] = &[
    ("where is my order", "slt"),
    ("i want to talk to a human", "kal"),
    ("check my account balance", "rms"),
    ("cancel my subscription", "awb"),
    ("reset my password", "slt"),
    ("track my package", "kal"),
    ("change my delivery address", "rms"),
    ("i want to pay my bill", "awb"),
    ("what are your opening hours", "slt"),
    ("book an appointment", "rms"),
    ("please repeat that", "awb"),
];
/// Phrases also listened for, which nobody says.
const DISTRACTORS: &[&str] = &[
    "yes",
    "no",
    "thank you goodbye",
    "update my card",
    "return an item",
];
/// Silence before the caller speaks, and the caller's pause after it.
const LEAD: f64 = 1.0;
const TRAIL: f64 = 1.5;
/// Silence added after the pause, so aufile does not start the phrase over before the
/// call is hung up.
const QUIET_TAIL: f64 = 8.0;
/// How long after the end of the caller's sentence its transcript may take (the end of
/// utterance needs some silence first; recognition runs at ~0.03× real time).
const TRANSCRIPT_WAIT: Duration = Duration::from_secs(5);
/// After the awaited event, how long to stay on the line so that a duplicate event
/// would show up.
const GRACE: Duration = Duration::from_millis(700);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------
// Tests

#[test]
fn ten_spoken_sentences_are_recognized() {
    let _serial = serial();
    require_tools();
    let dir = TempDir::new("speech-ten");
    let callers: Vec<Caller> = PHRASES
        .iter()
        .enumerate()
        .map(|(i, (text, voice))| {
            Caller::flite(&dir.path.join(format!("caller-{i}")), text, voice, LEAD)
        })
        .collect();
    let listen: Vec<&str> = PHRASES
        .iter()
        .map(|(p, _)| *p)
        .chain(DISTRACTORS.iter().copied())
        .collect();
    let config = write_config(
        &dir.path,
        &[RouteToml {
            number: "300",
            say: Some("Hello."),
            listen: &listen,
            ..RouteToml::default()
        }
        .to_toml()],
    );
    let events = Events::new(dir.path.join("events.jsonl"));
    let voxgate = start_voxgate(&config, &dir.path);

    struct Row {
        phrase: &'static str,
        voice: &'static str,
        transcripts: Vec<Value>,
        speech_events: usize,
        call_events: Vec<Value>,
    }
    let mut rows = Vec::new();
    for (i, ((phrase, voice), caller)) in PHRASES.iter().zip(&callers).enumerate() {
        let call = make_call(
            &voxgate,
            &events,
            &dir.path.join(format!("call-{i}")),
            "300",
            Some(&caller.path),
            "5-10",
            caller.speech_end() + TRANSCRIPT_WAIT,
            |e| e.iter().any(|v| v["event"] == "transcript"),
        );
        let transcripts: Vec<Value> = call
            .events
            .iter()
            .filter(|v| v["event"] == "transcript")
            .cloned()
            .collect();
        let speech_events = call
            .events
            .iter()
            .filter(|v| v["event"] == "speech-start" || v["event"] == "speech-end")
            .count();
        if i == 0 && transcripts.is_empty() && speech_events == 0 {
            panic!(
                "voxgate reported no speech-start, speech-end or transcript for a call whose \
                 caller said {phrase:?} (from {:.2} s to {:.2} s after the call's audio \
                 started): listening (`listen` routes, VAD and recognition) is not in this \
                 binary yet, or does not hear the caller. The call's events:\n{}",
                caller.onset_s,
                caller.speech_end().as_secs_f64(),
                show(&call.events)
            );
        }
        rows.push(Row {
            phrase,
            voice,
            transcripts,
            speech_events,
            call_events: call.events,
        });
    }
    drop(voxgate);

    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<30} {:<5} {:<32} {:>10} {:>14} {:>7}",
        "phrase", "voice", "heard", "confidence", "recognition_ms", "speech"
    );
    for r in &rows {
        let heard: Vec<String> = r
            .transcripts
            .iter()
            .map(|t| t["text"].as_str().unwrap_or("?").to_string())
            .collect();
        let t = r.transcripts.first();
        let _ = writeln!(
            table,
            "{:<30} {:<5} {:<32} {:>10} {:>14} {:>7}",
            r.phrase,
            r.voice,
            if heard.is_empty() {
                "(nothing)".to_string()
            } else {
                heard.join(" | ")
            },
            t.map_or("-".into(), |t| t["confidence"].to_string()),
            t.map_or("-".into(), |t| t["recognition_ms"].to_string()),
            r.speech_events,
        );
    }
    eprintln!("{table}");

    let mut failures = Vec::new();
    for r in &rows {
        let texts: Vec<&str> = r
            .transcripts
            .iter()
            .map(|t| t["text"].as_str().unwrap_or("<no text>"))
            .collect();
        if texts != [r.phrase] {
            failures.push(format!(
                "said {:?} ({}), expected exactly one transcript with that text, got {texts:?}; \
                 the call's events:\n{}",
                r.phrase,
                r.voice,
                show(&r.call_events)
            ));
            continue;
        }
        let t = &r.transcripts[0];
        let confidence = t["confidence"].as_f64();
        if !confidence.is_some_and(|c| (0.0..=1.0).contains(&c)) {
            failures.push(format!("transcript without a confidence in [0, 1]: {t}"));
        }
        for field in ["duration_ms", "recognition_ms"] {
            if t[field].as_u64().is_none() {
                failures.push(format!("transcript without a whole `{field}`: {t}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} sentences not recognized right:\n{}\n\n{table}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

/// The route says an 8.5 s text; the caller talks over it 1.5 s in. voxgate has to
/// stop the prompt within 100 ms of the caller's first sound, and still recognize what
/// the caller said.
///
/// Timelines. Both recordings compared start when the call's media starts:
/// - `heard.wav` (baresip's `sndfile` dump of every decoded frame) is frame-indexed:
///   frame n is the n-th RTP packet voxgate sent, and voxgate sends one every 20 ms
///   from the ACK on (silence included). baresip's jitter buffer delays *when* a frame
///   is dumped, not *where*: its depth does not shift this timeline (it is left at the
///   usual 5-10 frames for that reason).
/// - The caller's file is played by `aufile` from the moment baresip starts the call's
///   audio, which it does on the 200 OK, as it sends the ACK; sample k goes out in
///   the packet sent 20 ms × floor(k / 160) later.
///
/// So "prompt stopped at s seconds of heard.wav" and "caller's sound began at c seconds
/// of the caller's file" are on one timeline, up to: the gap between baresip starting
/// its audio and voxgate getting the ACK (loopback, one event-loop turn: < 5 ms), and
/// frame quantization (a caller's sample leaves up to 20 ms before its place in the
/// file; voxgate stops at a 20 ms packet boundary). Error bound: ±25 ms. The
/// `speech-start` event's `at_ms` (on voxgate's own timeline) is printed next to the
/// caller's onset as a check on this alignment.
#[test]
fn barge_in_stops_the_prompt_quickly_and_the_sentence_is_recognized() {
    const PROMPT: &str = "Thank you for calling the voxgate customer service line where we are \
                          always happy to help you with your orders and your deliveries. Please \
                          tell me what you need.";
    const PHRASE: &str = "where is my order";
    const MAX_STOP_AFTER_ONSET: f64 = 0.100;
    let _serial = serial();
    require_tools();
    let dir = TempDir::new("speech-barge-in");
    let caller = Caller::flite(&dir.path.join("caller"), PHRASE, "slt", 1.5);
    let listen: Vec<&str> = PHRASES
        .iter()
        .map(|(p, _)| *p)
        .chain(DISTRACTORS.iter().copied())
        .collect();
    let config = write_config(
        &dir.path,
        &[RouteToml {
            number: "310",
            say: Some(PROMPT),
            listen: &listen,
            barge_in: Some(true),
            ..RouteToml::default()
        }
        .to_toml()],
    );
    let events = Events::new(dir.path.join("events.jsonl"));
    let voxgate = start_voxgate(&config, &dir.path);
    let call = make_call(
        &voxgate,
        &events,
        &dir.path.join("call"),
        "310",
        Some(&caller.path),
        "5-10",
        caller.speech_end() + TRANSCRIPT_WAIT,
        |e| e.iter().any(|v| v["event"] == "transcript"),
    );
    drop(voxgate);

    let heard = &call.recordings.heard;
    assert_eq!(heard.rate, 8000, "baresip decodes G.711 at 8 kHz");
    let onset = caller.onset_s;
    let stop = prompt_stop(heard);
    let loud_before_onset = frame_peaks(heard).iter().enumerate().any(|(i, &p)| {
        let t = i as f64 * 0.02;
        p > THRESHOLD.unsigned_abs() && t >= onset - 0.5 && t < onset
    });
    let barge_ins = all_of(&call.events, "barge-in");
    let speech_start = call
        .events
        .iter()
        .find(|v| v["event"] == "speech-start")
        .and_then(|v| v["at_ms"].as_u64());
    let transcripts: Vec<&str> = all_of(&call.events, "transcript")
        .iter()
        .map(|t| t["text"].as_str().unwrap_or("<no text>"))
        .collect();
    let report = format!(
        "caller's sound from {onset:.3} s (file), voxgate's speech-start at {} ms, barge-in \
         {}, prompt sound in heard.wav ends at {}, i.e. {} after the caller's onset; \
         transcripts {transcripts:?}; heard {:.2} s in all\ncall events:\n{}",
        speech_start.map_or("-".into(), |v| v.to_string()),
        barge_ins
            .first()
            .map_or("none".into(), |b| format!("at {} ms", b["at_ms"])),
        stop.map_or("- (no sound)".into(), |s| {
            if heard.duration().as_secs_f64() - s < 1.0 {
                format!("{s:.3} s (still playing when the call ended)")
            } else {
                format!("{s:.3} s")
            }
        }),
        stop.map_or("-".into(), |s| format!("{:+.0} ms", (s - onset) * 1000.0)),
        heard.duration().as_secs_f64(),
        show(&call.events)
    );
    eprintln!("barge-in: {report}");

    let stop = stop.unwrap_or_else(|| panic!("baresip heard no prompt at all\n{report}"));
    assert!(
        loud_before_onset,
        "the prompt was not playing in the half second before the caller spoke (the test \
         needs it to be)\n{report}"
    );
    assert!(
        stop - onset <= MAX_STOP_AFTER_ONSET,
        "the prompt went on for {:.0} ms after the caller started speaking (at most {:.0} ms \
         allowed){}\n{report}",
        (stop - onset) * 1000.0,
        MAX_STOP_AFTER_ONSET * 1000.0,
        if barge_ins.is_empty() {
            ": no barge-in — barge-in is not in this binary yet?"
        } else {
            ""
        }
    );
    assert!(
        stop - onset >= -0.3,
        "the prompt stopped {:.0} ms before the caller said anything\n{report}",
        (onset - stop) * 1000.0
    );
    assert_eq!(barge_ins.len(), 1, "one barge-in event\n{report}");
    let at = barge_ins[0]["at_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("barge-in without at_ms\n{report}"));
    assert!(
        stop <= at as f64 / 1000.0 + 0.04,
        "baresip heard the prompt until {stop:.3} s, the barge-in event says it stopped at \
         {at} ms\n{report}"
    );
    assert_eq!(
        transcripts,
        [PHRASE],
        "what the caller said over the prompt\n{report}"
    );
}

/// espeak-ng speaks each language's `say` through a call: baresip hears sound, as long
/// as the synthesized prompt (`prompt-finished`'s `duration_ms`).
#[test]
fn espeak_speaks_each_language_through_a_call() {
    const LANGUAGES: &[(&str, &str, &str)] = &[
        ("401", "en", "Welcome to voxgate. How can I help you today?"),
        (
            "402",
            "de",
            "Willkommen bei voxgate. Wie kann ich Ihnen heute helfen?",
        ),
        (
            "403",
            "hr",
            "Dobro došli u voxgate. Kako vam mogu pomoći danas?",
        ),
        (
            "404",
            "ar",
            "مرحبا بكم في فوكسغيت. كيف يمكنني مساعدتك اليوم؟",
        ),
        ("405", "zh", "欢迎使用语音网关。今天我能为您做些什么？"),
        (
            "406",
            "el",
            "Καλώς ήρθατε στο voxgate. Πώς μπορώ να σας βοηθήσω σήμερα;",
        ),
    ];
    /// Sound must be at least this loud (rms of the span with sound; espeak-ng's
    /// English comes through G.711 at ~3000).
    const MIN_RMS: f64 = 800.0;
    /// espeak-ng starts speaking within 40 ms and ends with 230-320 ms of silence (measured
    /// for these sentences at 8 kHz), which `duration_ms` includes and the span of sound
    /// does not; nothing may be heard beyond `duration_ms` (+ two frames).
    const SHORTER_BY_AT_MOST: f64 = 0.450;
    const LONGER_BY_AT_MOST: f64 = 0.040;
    let _serial = serial();
    require_tools();
    let dir = TempDir::new("speech-languages");
    let routes: Vec<String> = LANGUAGES
        .iter()
        .map(|(number, language, text)| {
            RouteToml {
                number,
                say: Some(text),
                language: Some(language),
                ..RouteToml::default()
            }
            .to_toml()
        })
        .collect();
    let config = write_config(&dir.path, &routes);
    let events = Events::new(dir.path.join("events.jsonl"));
    let voxgate = start_voxgate(&config, &dir.path);

    let mut rows = Vec::new();
    for (number, language, text) in LANGUAGES {
        let call = make_call(
            &voxgate,
            &events,
            &dir.path.join(format!("call-{language}")),
            number,
            None,
            "5-10",
            Duration::from_secs(20),
            |e| e.iter().any(|v| v["event"] == "prompt-finished"),
        );
        rows.push((language, text, call));
    }
    drop(voxgate);

    let mut table = String::new();
    let mut failures = Vec::new();
    for (language, text, call) in &rows {
        let heard = &call.recordings.heard;
        let duration_ms = all_of(&call.events, "prompt-finished")
            .first()
            .and_then(|v| v["duration_ms"].as_u64());
        let span = heard.active_span();
        let (sound_s, sound_rms) = span.map_or((0.0, 0.0), |(a, b)| {
            (heard.seconds(b + 1 - a), rms(&heard.samples[a..=b]))
        });
        let _ = writeln!(
            table,
            "{language}: duration_ms {}, heard {:.3} s of sound from {} (rms {sound_rms:.0}) in \
             {:.2} s: {text}",
            duration_ms.map_or("-".into(), |d| d.to_string()),
            sound_s,
            span.map_or("-".into(), |(a, _)| format!("{:.3} s", heard.seconds(a))),
            heard.duration().as_secs_f64(),
        );
        let Some(duration_ms) = duration_ms else {
            failures.push(format!(
                "{language}: no prompt-finished with duration_ms; the call's events:\n{}",
                show(&call.events)
            ));
            continue;
        };
        let synthesized = duration_ms as f64 / 1000.0;
        if sound_rms < MIN_RMS {
            failures.push(format!(
                "{language}: baresip heard (almost) silence: rms {sound_rms:.0} < {MIN_RMS}"
            ));
        }
        if sound_s < synthesized - SHORTER_BY_AT_MOST || sound_s > synthesized + LONGER_BY_AT_MOST {
            failures.push(format!(
                "{language}: {sound_s:.3} s of sound heard, the synthesized prompt is \
                 {synthesized:.3} s (allowed: {:.0} ms shorter to {:.0} ms longer)",
                SHORTER_BY_AT_MOST * 1000.0,
                LONGER_BY_AT_MOST * 1000.0
            ));
        }
    }
    eprintln!("{table}");
    assert!(failures.is_empty(), "{}\n\n{table}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------
// Callers, routes, calls

fn require_tools() {
    require_baresip();
    require_program("flite", "--version", "flite", "makes the caller's voice");
    require_program("sox", "--version", "sox", "makes telephone audio");
}

/// A caller's WAV file: silence, a sentence, silence (8 kHz mono, for aufile).
struct Caller {
    path: PathBuf,
    /// First and last sample above the threshold, in seconds from the file's start.
    onset_s: f64,
    end_s: f64,
}

impl Caller {
    /// Flite says `text` with `voice`; sox makes it telephone audio; `lead` seconds of
    /// silence go before it, [`TRAIL`] + [`QUIET_TAIL`] after.
    fn flite(dir: &Path, text: &str, voice: &str, lead: f64) -> Caller {
        let speech = flite_speech(dir, text, voice);
        let pad = |secs: f64| vec![0i16; (secs * 8000.0) as usize];
        let mut samples = pad(lead);
        samples.extend_from_slice(&speech);
        samples.extend(pad(TRAIL + QUIET_TAIL));
        let wav = Wav {
            rate: 8000,
            samples,
        };
        let (onset, end) = wav.active_span().unwrap();
        let path = dir.join("caller.wav");
        wav.write(&path);
        Caller {
            path,
            onset_s: wav.seconds(onset),
            end_s: wav.seconds(end + 1),
        }
    }

    fn speech_end(&self) -> Duration {
        Duration::from_secs_f64(self.end_s)
    }
}

/// One `[[sip.routes]]` entry.
#[derive(Default)]
struct RouteToml<'a> {
    number: &'a str,
    say: Option<&'a str>,
    language: Option<&'a str>,
    voice: Option<&'a str>,
    listen: &'a [&'a str],
    barge_in: Option<bool>,
    /// Further TOML lines, as they are.
    extra: &'a str,
}

impl RouteToml<'_> {
    fn to_toml(&self) -> String {
        // A JSON string is a TOML basic string (same escapes, \uXXXX included).
        let s = |v: &str| serde_json::to_string(v).unwrap();
        let mut t = format!(
            "[[sip.routes]]\nnumber = {}\nring_ms = 0\nafter_prompt = \"wait\"\n",
            s(self.number)
        );
        if let Some(say) = self.say {
            let _ = writeln!(t, "say = {}", s(say));
        }
        if let Some(language) = self.language {
            let _ = writeln!(t, "language = {}", s(language));
        }
        if let Some(voice) = self.voice {
            let _ = writeln!(t, "voice = {}", s(voice));
        }
        if !self.listen.is_empty() {
            let _ = writeln!(
                t,
                "listen = {}",
                serde_json::to_string(self.listen).unwrap()
            );
        }
        if let Some(b) = self.barge_in {
            let _ = writeln!(t, "barge_in = {b}");
        }
        t.push_str(self.extra);
        t
    }
}

fn write_config(dir: &Path, routes: &[String]) -> PathBuf {
    let path = dir.join("voxgate.toml");
    let text = format!(
        "[sip]\nlisten = [\"udp:127.0.0.1:0\", \"tcp:127.0.0.1:0\"]\nrecord_dir = \
         \"recordings\"\nevents_file = \"events.jsonl\"\nrtp_timeout_secs = 10\n\n{}",
        routes.join("\n")
    );
    std::fs::write(&path, text).expect("write voxgate config");
    path
}

fn start_voxgate(config: &Path, dir: &Path) -> Voxgate {
    Voxgate::try_start(config, dir).unwrap_or_else(|e| {
        panic!(
            "voxgate did not start with speech routes (`say`, `language`, `voice`, `listen`, \
             `barge_in`): is speech in calls in this binary yet?\n{e}\n--- config ---\n{}",
            std::fs::read_to_string(config).unwrap_or_default()
        )
    })
}

/// A finished call.
struct Call {
    /// voxgate's events for this call, from `call-started` to `call-ended`.
    events: Vec<Value>,
    recordings: Recordings,
}

/// A fresh baresip (config, logs and recordings in `dir`) calls `number`, saying
/// `caller_audio` (None: quiet noise). Once `done` holds for the call's events (or after
/// `within` from the call's start, whichever comes first) and a grace period, baresip
/// hangs up and quits.
#[allow(clippy::too_many_arguments)]
fn make_call(
    voxgate: &Voxgate,
    events: &Events,
    dir: &Path,
    number: &str,
    caller_audio: Option<&Path>,
    jitter_buffer_delay: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Call {
    let before: HashSet<String> = all_of(&events.read(), "call-started")
        .iter()
        .filter_map(|v| v["call_id"].as_str().map(str::to_string))
        .collect();
    let mut baresip = Baresip::start_with(
        dir,
        &BaresipOptions {
            caller_audio: caller_audio.map(Path::to_path_buf),
            jitter_buffer_delay: jitter_buffer_delay.into(),
            ..BaresipOptions::default()
        },
    );
    baresip.command("dial", &format!("sip:{number}@{}", voxgate.udp));
    let started = events.wait_for("call-started", Duration::from_secs(10), |e| {
        all_of(e, "call-started")
            .iter()
            .any(|v| v["call_id"].as_str().is_some_and(|id| !before.contains(id)))
    });
    let call_id = all_of(&started, "call-started")
        .into_iter()
        .map(|v| str_field(v, "call_id"))
        .find(|id| !before.contains(*id))
        .unwrap()
        .to_string();
    baresip.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    let own = |e: &[Value]| -> Vec<Value> { of_call(e, &call_id).into_iter().cloned().collect() };
    let _ = events.wait_until(within, |e| done(&own(e)));
    std::thread::sleep(GRACE);
    baresip.command("hangup", "");
    let ended = events.wait_for("call-ended", Duration::from_secs(10), |e| {
        own(e).iter().any(|v| v["event"] == "call-ended")
    });
    baresip.wait_event("CALL_CLOSED", Duration::from_secs(5));
    let recordings = baresip.quit_and_take_recordings();
    Call {
        events: own(&ended),
        recordings,
    }
}

/// A whole exchange of turns on one call, with baresip as the caller: a spoken phrase
/// is answered (the reply quoting it), keys pressed and ended by `#` are one input and
/// answered the same way, silence after a reply is a no-input with its own prompt, and
/// the second no-input in a row ends the call from voxgate's side.
#[test]
fn turns_answer_speech_and_keys_and_silence_ends_the_call() {
    let _serial = serial();
    require_tools();
    let dir = TempDir::new("speech-turns");
    // The greeting lasts about a second; the caller speaks after it.
    let caller = Caller::flite(&dir.path.join("caller"), "track my package", "kal", 2.5);
    let listen: Vec<&str> = PHRASES.iter().map(|(p, _)| *p).collect();
    let config = write_config(
        &dir.path,
        &[RouteToml {
            number: "310",
            say: Some("Say it or key it."),
            listen: &listen,
            extra: "reply = \"you said {text}\"\nno_input_ms = 1500\n\
                    no_input_say = \"are you still there\"\nmax_no_input = 2\n\
                    dtmf_max_digits = 4\n",
            ..RouteToml::default()
        }
        .to_toml()],
    );
    let events = Events::new(dir.path.join("events.jsonl"));
    let voxgate = start_voxgate(&config, &dir.path);
    let mut baresip = Baresip::start_with(
        &dir.path.join("call"),
        &BaresipOptions {
            caller_audio: Some(caller.path.clone()),
            ..BaresipOptions::default()
        },
    );
    baresip.command("dial", &format!("sip:310@{}", voxgate.udp));
    baresip.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));

    // The spoken turn, answered.
    let said = |e: &[Value], text: &str| {
        all_of(e, "say")
            .iter()
            .any(|v| v["text"].as_str() == Some(text))
    };
    let e = events.wait_for(
        "the reply to the spoken phrase",
        caller.speech_end() + TRANSCRIPT_WAIT,
        |e| said(e, "you said track my package"),
    );
    let transcript = first(&e, "transcript");
    assert_eq!(
        str_field(transcript, "text"),
        "track my package",
        "{}",
        show(&e)
    );
    let reply = events.wait_for("reply-started", Duration::from_secs(3), |e| {
        count(e, "reply-started") >= 1
    });
    let after_speech = first(&reply, "reply-started")["after_input_ms"]
        .as_u64()
        .unwrap();

    // Keys: 4, 2, # make the input "42".
    for digit in ["4", "2", "#"] {
        baresip.command("sndcode", digit);
        std::thread::sleep(Duration::from_millis(300));
    }
    let e = events.wait_for("the reply to the keys", Duration::from_secs(5), |e| {
        said(e, "you said 42")
    });
    let inputs: Vec<&str> = all_of(&e, "dtmf-input")
        .iter()
        .map(|v| str_field(v, "digits"))
        .collect();
    assert_eq!(inputs, ["42"], "one input of two digits\n{}", show(&e));

    // Silence: a no-input prompt, then the call ends at the second no-input.
    let e = events.wait_for(
        "voxgate hangs up after two no-inputs",
        Duration::from_secs(15),
        |e| count(e, "call-ended") >= 1,
    );
    baresip.wait_event("CALL_CLOSED", Duration::from_secs(5));
    let recordings = baresip.quit_and_take_recordings();
    drop(voxgate);
    eprintln!("turns: {}", show(&e));
    assert_eq!(count(&e, "no-input"), 2, "{}", show(&e));
    assert!(said(&e, "are you still there"), "{}", show(&e));
    assert_eq!(
        str_field(first(&e, "call-ended"), "reason"),
        "hangup-after-prompt",
        "{}",
        show(&e)
    );
    assert_eq!(
        count(&e, "reply-started"),
        3,
        "three spoken replies\n{}",
        show(&e)
    );
    // baresip heard the greeting and three replies: four stretches of sound.
    let bursts = sound_bursts(&recordings.heard);
    assert!(
        bursts >= 4,
        "baresip heard {bursts} stretches of voxgate's speech, expected at least 4"
    );
    eprintln!("turns: reply {after_speech} ms after the caller's last word");
}

/// Stretches of sound separated by at least 400 ms of quiet.
fn sound_bursts(w: &Wav) -> usize {
    let peaks = frame_peaks(w);
    let (mut bursts, mut quiet) = (0, usize::MAX);
    for p in peaks {
        if p > 1000 {
            if quiet >= 20 {
                bursts += 1;
            }
            quiet = 0;
        } else {
            quiet = quiet.saturating_add(1);
        }
    }
    bursts
}

// ---------------------------------------------------------------------------------
// Audio

/// The peak of each 20 ms frame.
fn frame_peaks(w: &Wav) -> Vec<u16> {
    let frame = (w.rate / 50) as usize;
    w.samples
        .chunks(frame)
        .map(|c| c.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0))
        .collect()
}

/// When the prompt's sound stops: the end of the last sample above the threshold that
/// is followed by at least a second of silence (espeak-ng's pauses between words and
/// sentences are at most ~0.35 s), in seconds from the start of `w`.
fn prompt_stop(w: &Wav) -> Option<f64> {
    const QUIET_FRAMES: usize = 50;
    let peaks = frame_peaks(w);
    let loud = |i: usize| peaks[i] > THRESHOLD.unsigned_abs();
    let frame = (w.rate / 50) as usize;
    let first_loud = (0..peaks.len()).find(|&i| loud(i))?;
    let mut i = first_loud;
    while i < peaks.len() {
        if loud(i) {
            i += 1;
            continue;
        }
        let quiet_run = (i..peaks.len()).take_while(|&j| !loud(j)).count();
        if quiet_run >= QUIET_FRAMES || i + quiet_run == peaks.len() {
            break;
        }
        i += quiet_run;
    }
    // The last loud sample before frame i.
    let end = (i * frame).min(w.samples.len());
    let last = w.samples[..end]
        .iter()
        .rposition(|s| s.unsigned_abs() > THRESHOLD.unsigned_abs())?;
    Some(w.seconds(last + 1))
}
