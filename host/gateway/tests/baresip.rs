//! voxgate against a real SIP phone: baresip 1.0 (Debian `baresip-core`), headless,
//! driven over its `ctrl_tcp` socket.
//!
//! baresip dials `voxgate sip serve`, records what it hears, and presses keys; the test
//! then checks voxgate's call events (the digits, in order, from RFC 4733 packets; a
//! clean caller BYE) and the audio baresip heard (the prompt, at the right level and
//! length, followed by silence).
//!
//! What baresip 1.0 can and cannot do here (see also `tests/baresip/README.md`):
//! - `aufile` is only an audio *source* in 1.0 (`strings aufile.so` shows
//!   `ausrc_register` and no `auplay_register`), so `audio_player aufile,FILE` does not
//!   exist. What the phone hears is taken from the `sndfile` audio filter instead: it
//!   writes every decoded frame to `snd_path/dump-TIME-dec.wav` (and what it sends to
//!   `…-enc.wav`). No audio player module is loaded at all, so no sound card is needed;
//!   the dump is frame-indexed (one frame per RTP packet decoded), not wall-clock.
//! - `sndcode` (menu module) sends a key press and its release; with telephone-event
//!   negotiated that is RFC 4733. baresip 1.0 has no SIP INFO DTMF mode (that came in a
//!   later baresip), so the INFO path is left to the SIPp scenarios.
//! - `quit` is a core command; `dial`, `hangup`, `sndcode`, `reginfo` come from `menu`.
//! - `net_interface 127.0.0.1` keeps baresip's SDP on loopback (by default it offers
//!   the first non-loopback address); `sip_listen 127.0.0.1:0` lets it pick its SIP port.
//!   The ctrl_tcp port has to be chosen up front (baresip logs the configured address,
//!   not the bound one), so it is a free port found by binding to 0, and the test checks
//!   over the socket that it is talking to its own baresip (a unique account).
//!
//! Processes are killed when the test ends however it ends, every wait has a deadline,
//! and the temporary directory is removed (kept, with its path printed, when
//! `VOXGATE_KEEP_TEST_DIR` is set; the logs are printed when a test fails).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::baresip::{
    Baresip, Events, THRESHOLD, TempDir, Voxgate, Wav, count, envelope_correlation, first,
    require_baresip, require_program, rms, str_field,
};

/// The prompt voxgate plays: espeak-ng makes a 3.9 s WAV of it at 22.05 kHz.
const PROMPT_TEXT: &str = "Welcome to voxgate. Please enter your order number, then hash.";
/// How far the length of what baresip heard may be from the prompt's. The dump is one
/// frame per decoded packet, so on loopback the two agree to a few milliseconds; five
/// 20 ms frames lost or repeated would be a real defect.
const LENGTH_TOLERANCE: Duration = Duration::from_millis(100);
/// How far the wall-clock time from `call-started` to `prompt-finished` may be from the
/// prompt's length (20 ms pacing, not a burst; includes 50 ms event polling).
const PACING_TOLERANCE: Duration = Duration::from_millis(400);

// ---------------------------------------------------------------------------------
// Tests

#[test]
fn baresip_hears_the_prompt_and_voxgate_reports_dtmf_in_order() {
    run_call(&Scenario {
        name: "udp",
        transport: Transport::Udp,
        codecs: None,
        expect_codec: "Pcmu",
    });
}

/// The same call over SIP/TCP, with baresip offering only A-law.
#[test]
fn baresip_over_tcp_with_pcma_hears_the_prompt_and_voxgate_reports_dtmf() {
    run_call(&Scenario {
        name: "tcp-pcma",
        transport: Transport::Tcp,
        codecs: Some("pcma"),
        expect_codec: "Pcma",
    });
}

/// With `after_prompt = "hangup"`, the caller should hear the whole prompt before the
/// BYE. voxgate waits until the end of the prompt has had time to leave the caller's
/// jitter buffer before it hangs up; hanging up with the last RTP packet cut off the
/// last 100 ms that baresip (jitter buffer of 5-10 frames) still held.
#[test]
fn baresip_hears_the_whole_prompt_before_voxgate_hangs_up() {
    require_tools();
    let dir = TempDir::new("hangup");
    let prompt_path = dir.path.join("prompt.wav");
    make_prompt(&prompt_path);
    // The prompt ends on speech: trailing silence would hide a clipped end.
    let prompt = Wav::read(&prompt_path);
    let (_, last) = prompt.active_span().expect("the prompt has sound");
    let trimmed = dir.path.join("prompt-trimmed.wav");
    Wav {
        rate: prompt.rate,
        samples: prompt.samples[..=last].to_vec(),
    }
    .write(&trimmed);
    let prompt = Wav::read(&trimmed);
    let (p_first, p_last) = prompt.active_span().unwrap();
    let prompt_span = prompt.seconds(p_last - p_first);

    let config = write_voxgate_config(&dir.path, "200", &trimmed, "hangup");
    let events = Events::new(dir.path.join("events.jsonl"));
    let voxgate = Voxgate::start(&config, &dir.path);
    let mut baresip = Baresip::start(&dir.path, None);
    baresip.command("dial", &format!("sip:200@{}", voxgate.udp));
    let started = events.wait_for("call-started", Duration::from_secs(10), |e| {
        count(e, "call-started") >= 1
    });
    let call_id = str_field(first(&started, "call-started"), "call_id");
    let ended = events.wait_for(
        "call-ended after the prompt",
        prompt.duration() + Duration::from_secs(10),
        |e| count(e, "call-ended") >= 1,
    );
    assert_eq!(
        str_field(first(&ended, "call-ended"), "reason"),
        "hangup-after-prompt"
    );
    assert_eq!(str_field(first(&ended, "call-ended"), "call_id"), call_id);
    baresip.wait_event("CALL_CLOSED", Duration::from_secs(5));
    let heard = baresip.quit_and_take_recordings().heard;
    let (h_first, h_last) = heard.active_span().expect("baresip heard nothing");
    let heard_span = heard.seconds(h_last - h_first);
    eprintln!(
        "hangup: prompt {prompt_span:.3} s, heard {heard_span:.3} s of it ({:.3} s of audio in all)",
        heard.duration().as_secs_f64()
    );
    assert!(
        heard_span >= prompt_span - 0.040,
        "the caller heard {heard_span:.3} s of a {prompt_span:.3} s prompt before voxgate hung up"
    );
}

// ---------------------------------------------------------------------------------
// The call scenario

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

#[derive(Debug)]
struct Scenario {
    name: &'static str,
    transport: Transport,
    /// baresip's `audio_codecs` account parameter (None: all it has, PCMU first).
    codecs: Option<&'static str>,
    /// `codec` in voxgate's `call-started`.
    expect_codec: &'static str,
}

const DIGITS: [&str; 4] = ["1", "2", "3", "#"];

fn run_call(s: &Scenario) {
    require_tools();
    let t0 = Instant::now();
    // Declared first, dropped last: the processes below are gone before it is removed.
    let dir = TempDir::new(s.name);
    let prompt_path = dir.path.join("prompt.wav");
    make_prompt(&prompt_path);
    let prompt = Wav::read(&prompt_path);
    let (p_first, p_last) = prompt.active_span().expect("espeak-ng produced silence");
    let prompt_span = prompt.seconds(p_last - p_first);
    let prompt_rms = rms(&prompt.samples[p_first..=p_last]);

    let number = "4711";
    let config = write_voxgate_config(&dir.path, number, &prompt_path, "wait");
    let events = Events::new(dir.path.join("events.jsonl"));
    let voxgate = Voxgate::start(&config, &dir.path);
    let mut baresip = Baresip::start(&dir.path, s.codecs);

    let target = match s.transport {
        Transport::Udp => format!("sip:{number}@{}", voxgate.udp),
        Transport::Tcp => format!("sip:{number}@{};transport=tcp", voxgate.tcp),
    };
    baresip.command("dial", &target);
    let e = events.wait_for("call-started", Duration::from_secs(10), |e| {
        count(e, "call-started") >= 1
    });
    let started_at = Instant::now();
    let started = first(&e, "call-started");
    let call_id = str_field(started, "call_id").to_string();
    assert_eq!(
        str_field(started, "codec"),
        s.expect_codec,
        "negotiated codec: {started}"
    );
    baresip.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));

    let e = events.wait_for(
        "prompt-finished",
        prompt.duration() + Duration::from_secs(10),
        |e| count(e, "prompt-finished") >= 1,
    );
    let prompt_wall = started_at.elapsed();
    let finished = first(&e, "prompt-finished");
    let reported_ms = finished["duration_ms"].as_u64().unwrap_or(0);
    std::thread::sleep(Duration::from_millis(500));

    // One press (and release) per command, spaced so that each is its own event.
    for digit in DIGITS {
        baresip.command("sndcode", digit);
        std::thread::sleep(Duration::from_millis(400));
    }
    events.wait_for("four dtmf events", Duration::from_secs(5), |e| {
        count(e, "dtmf") >= DIGITS.len()
    });
    // RFC 4733 end packets come three times: give a duplicate time to show up.
    std::thread::sleep(Duration::from_millis(500));

    baresip.command("hangup", "");
    let e = events.wait_for("call-ended", Duration::from_secs(10), |e| {
        count(e, "call-ended") >= 1
    });
    baresip.wait_event("CALL_CLOSED", Duration::from_secs(5));
    let recordings = baresip.quit_and_take_recordings();
    drop(voxgate);

    // (a) The digits, in order, once each, from RFC 4733, on this call.
    let dtmf: Vec<&Value> = e.iter().filter(|v| v["event"] == "dtmf").collect();
    let digits: Vec<&str> = dtmf.iter().map(|v| str_field(v, "digit")).collect();
    eprintln!("[{}] digits reported: {digits:?}", s.name);
    assert_eq!(digits, DIGITS, "dtmf events: {dtmf:?}");
    for d in &dtmf {
        assert_eq!(str_field(d, "source"), "rfc4733", "{d}");
        assert_eq!(str_field(d, "call_id"), call_id, "{d}");
    }

    // (c) One call, ended by the caller.
    assert_eq!(count(&e, "call-started"), 1, "{e:?}");
    assert_eq!(count(&e, "call-ended"), 1, "{e:?}");
    let ended = first(&e, "call-ended");
    assert_eq!(str_field(ended, "call_id"), call_id, "{ended}");
    assert_eq!(str_field(ended, "reason"), "caller-bye", "{ended}");
    let rtp = &ended["rtp"];
    assert!(
        rtp["packets_received"].as_u64().unwrap_or(0) > 0,
        "voxgate received no RTP: {ended}"
    );

    // (b) baresip heard the prompt: loud enough, as long as the prompt, then silence.
    let heard = &recordings.heard;
    assert_eq!(heard.rate, 8000, "baresip decodes G.711 at 8 kHz");
    let (h_first, h_last) = heard.active_span().unwrap_or_else(|| {
        panic!(
            "baresip heard only silence ({:.2} s of it)",
            heard.duration().as_secs_f64()
        )
    });
    let heard_span = heard.seconds(h_last - h_first);
    let heard_rms = rms(&heard.samples[h_first..=h_last]);
    let heard_start = heard.seconds(h_first);
    let after = &heard.samples[(h_last + 160).min(heard.samples.len())..];
    let after_peak = after.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    let correlation = envelope_correlation(&prompt, p_first, heard, h_first);

    // What voxgate recorded of the caller (the quiet noise baresip sends).
    let recording = ended["recording"]
        .as_str()
        .map(|p| Wav::read(Path::new(p)))
        .unwrap_or_else(|| panic!("call-ended names no recording: {ended}"));

    let mut report = String::new();
    let _ = writeln!(
        report,
        "[{}] prompt: {:.3} s file ({} Hz), {prompt_span:.3} s of sound, rms {prompt_rms:.0}; \
         voxgate says {reported_ms} ms, {:.3} s wall clock from call-started to prompt-finished",
        s.name,
        prompt.duration().as_secs_f64(),
        prompt.rate,
        prompt_wall.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "[{}] heard:  {:.3} s in all, sound from {heard_start:.3} s for {heard_span:.3} s \
         (diff {:+.0} ms), rms {heard_rms:.0}, envelope correlation {correlation:.3}, \
         peak after the prompt {after_peak} over {:.2} s",
        s.name,
        heard.duration().as_secs_f64(),
        (heard_span - prompt_span) * 1000.0,
        heard.seconds(after.len())
    );
    let _ = writeln!(
        report,
        "[{}] voxgate recorded the caller: {:.2} s, rms {:.0}; baresip sent {:.2} s; rtp {}",
        s.name,
        recording.duration().as_secs_f64(),
        rms(&recording.samples),
        recordings.said.duration().as_secs_f64(),
        rtp
    );
    let _ = write!(
        report,
        "[{}] whole scenario {:.1} s",
        s.name,
        t0.elapsed().as_secs_f64()
    );
    eprintln!("{report}");

    assert!(
        heard_rms > 1000.0 && heard_rms > prompt_rms * 0.5 && heard_rms < prompt_rms * 2.0,
        "heard rms {heard_rms:.0} vs prompt rms {prompt_rms:.0}\n{report}"
    );
    assert!(
        (heard_span - prompt_span).abs() <= LENGTH_TOLERANCE.as_secs_f64(),
        "heard {heard_span:.3} s of sound, the prompt has {prompt_span:.3} s (±{:?})\n{report}",
        LENGTH_TOLERANCE
    );
    assert!(
        heard_start <= 0.2,
        "the prompt should start with the first packets, not after {heard_start:.3} s\n{report}"
    );
    assert!(
        correlation >= 0.9,
        "what baresip heard does not follow the prompt's loudness over time\n{report}"
    );
    assert!(
        after.len() >= 8000 && after_peak < THRESHOLD.unsigned_abs(),
        "after the prompt baresip should hear silence (and for the rest of the call)\n{report}"
    );
    let prompt_secs = prompt.duration().as_secs_f64();
    assert!(
        (prompt_wall.as_secs_f64() - prompt_secs).abs() <= PACING_TOLERANCE.as_secs_f64(),
        "the prompt took {:.3} s of wall clock to send, it is {prompt_secs:.3} s long\n{report}",
        prompt_wall.as_secs_f64()
    );
    assert!(
        (reported_ms as f64 / 1000.0 - prompt_secs).abs() < 0.021,
        "prompt-finished says {reported_ms} ms\n{report}"
    );
    assert_eq!(recording.rate, 8000);
    assert!(
        recording.duration() >= prompt.duration(),
        "voxgate recorded only {:.2} s of the caller\n{report}",
        recording.duration().as_secs_f64()
    );
    assert!(
        rms(&recording.samples) < 500.0,
        "the caller sent quiet noise, voxgate recorded something loud\n{report}"
    );
}

// ---------------------------------------------------------------------------------
// Tools and files

fn require_tools() {
    require_baresip();
    require_program("espeak-ng", "--version", "espeak-ng", "makes its prompt");
}

fn make_prompt(path: &Path) {
    let out = Command::new("espeak-ng")
        .arg("-w")
        .arg(path)
        .arg(PROMPT_TEXT)
        .stdin(Stdio::null())
        .output()
        .expect("run espeak-ng");
    assert!(
        out.status.success(),
        "espeak-ng failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_voxgate_config(dir: &Path, number: &str, prompt: &Path, after_prompt: &str) -> PathBuf {
    let path = dir.join("voxgate.toml");
    let text = format!(
        r#"[sip]
listen = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]
record_dir = "recordings"
events_file = "events.jsonl"
rtp_timeout_secs = 10

[[sip.routes]]
number = "{number}"
prompt = {prompt:?}
ring_ms = 0
after_prompt = "{after_prompt}"
"#,
        prompt = prompt.display().to_string(),
    );
    std::fs::write(&path, text).expect("write voxgate config");
    path
}
