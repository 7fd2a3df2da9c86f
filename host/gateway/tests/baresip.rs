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

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const MODULE_DIR: &str = "/usr/lib/baresip/modules";
const MODULES: &[&str] = &[
    "g711.so",
    "aufile.so",
    "sndfile.so",
    "account.so",
    "menu.so",
    "ctrl_tcp.so",
];
/// The prompt voxgate plays: espeak-ng makes a 3.9 s WAV of it at 22.05 kHz.
const PROMPT_TEXT: &str = "Welcome to voxgate. Please enter your order number, then hash.";
/// A sample is "sound" above this (about -40 dBFS); voxgate's silence decodes to 0.
const THRESHOLD: i16 = 300;
/// How far the length of what baresip heard may be from the prompt's. The dump is one
/// frame per decoded packet, so on loopback the two agree to a few milliseconds; five
/// 20 ms frames lost or repeated would be a real defect.
const LENGTH_TOLERANCE: Duration = Duration::from_millis(100);
/// How far the wall-clock time from `call-started` to `prompt-finished` may be from the
/// prompt's length (20 ms pacing, not a burst; includes 50 ms event polling).
const PACING_TOLERANCE: Duration = Duration::from_millis(400);
const POLL: Duration = Duration::from_millis(50);

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
    match Command::new("baresip")
        .arg("-h")
        .stdin(Stdio::null())
        .output()
    {
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "baresip is not installed: this test needs the Debian package `baresip-core` \
             (1.0), e.g. `apt-get install -y baresip-core` (scripts/setup)"
        ),
        Err(e) => panic!("cannot run baresip: {e}"),
        Ok(_) => {}
    }
    for m in MODULES {
        let p = Path::new(MODULE_DIR).join(m);
        assert!(
            p.exists(),
            "{} is missing: this test needs the baresip modules of the Debian package \
             `baresip-core` (apt-get install -y baresip-core)",
            p.display()
        );
    }
    match Command::new("espeak-ng")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "espeak-ng is not installed: this test makes its prompt with the Debian package \
             `espeak-ng` (apt-get install -y espeak-ng)"
        ),
        Err(e) => panic!("cannot run espeak-ng: {e}"),
        Ok(_) => {}
    }
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

/// A mono 16-bit WAV file in memory.
#[derive(Debug)]
struct Wav {
    rate: u32,
    samples: Vec<i16>,
}

impl Wav {
    /// Reads the first channel of a 16-bit PCM WAV file.
    fn read(path: &Path) -> Wav {
        let reader = hound::WavReader::open(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let spec = reader.spec();
        assert_eq!(
            (spec.sample_format, spec.bits_per_sample),
            (hound::SampleFormat::Int, 16),
            "{}: expected 16-bit PCM",
            path.display()
        );
        let channels = usize::from(spec.channels.max(1));
        let samples: Vec<i16> = reader
            .into_samples::<i16>()
            .step_by(channels)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Wav {
            rate: spec.sample_rate,
            samples,
        }
    }

    fn write(&self, path: &Path) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: self.rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create WAV");
        for &s in &self.samples {
            w.write_sample(s).expect("write WAV");
        }
        w.finalize().expect("finish WAV");
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds(self.samples.len()))
    }

    fn seconds(&self, samples: usize) -> f64 {
        samples as f64 / f64::from(self.rate)
    }

    /// First and last sample above the threshold.
    fn active_span(&self) -> Option<(usize, usize)> {
        let loud = |s: &i16| s.unsigned_abs() > THRESHOLD.unsigned_abs();
        let first = self.samples.iter().position(loud)?;
        let last = self.samples.iter().rposition(loud)?;
        Some((first, last))
    }
}

fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Pearson correlation of the 20 ms loudness envelopes of two recordings, each from its
/// own start of sound: near 1 when one is the other through a codec and a rate change.
fn envelope_correlation(a: &Wav, a_start: usize, b: &Wav, b_start: usize) -> f64 {
    let envelope = |w: &Wav, start: usize| -> Vec<f64> {
        let frame = (w.rate / 50) as usize;
        w.samples[start..].chunks_exact(frame).map(rms).collect()
    };
    let ea = envelope(a, a_start);
    let eb = envelope(b, b_start);
    let n = ea.len().min(eb.len());
    if n < 2 {
        return 0.0;
    }
    let (ea, eb) = (&ea[..n], &eb[..n]);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let (ma, mb) = (mean(ea), mean(eb));
    let cov: f64 = ea.iter().zip(eb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ea.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = eb.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        return 0.0;
    }
    cov / (va.sqrt() * vb.sqrt())
}

/// What baresip says: 10 s of quiet white noise at 8 kHz (baresip's `aufile` wants the
/// codec's rate and channel count). aufile starts over when the file ends.
fn write_caller_audio(path: &Path) {
    let mut x: u32 = 0x1234_5678;
    let samples = (0..80_000)
        .map(|_| {
            // xorshift32: deterministic noise, about 60 rms.
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((x >> 16) as i16 as i32 * 100 / 32768) as i16
        })
        .collect();
    Wav {
        rate: 8000,
        samples,
    }
    .write(path);
}

// ---------------------------------------------------------------------------------
// Harness: temporary directory, processes, events

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{tag}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A directory of its own under the system temp dir, removed when dropped. When the
/// test is failing, the logs in it are printed first.
#[derive(Debug)]
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique(&format!("voxgate-baresip-{tag}")));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for name in [
                "events.jsonl",
                "voxgate.log",
                "baresip.log",
                "baresip-ctrl.log",
            ] {
                if let Ok(text) = std::fs::read_to_string(self.path.join(name)) {
                    eprintln!("----- {name} (last 60 lines) -----");
                    let lines: Vec<&str> = text.lines().collect();
                    for l in &lines[lines.len().saturating_sub(60)..] {
                        // baresip redraws a status line with \r; keep the logs readable.
                        eprintln!("{}", l.rsplit('\r').next().unwrap_or(l));
                    }
                }
            }
        }
        if std::env::var_os("VOXGATE_KEEP_TEST_DIR").is_some() {
            eprintln!("kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A child process, killed (and reaped) when dropped.
#[derive(Debug)]
struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `voxgate sip serve` on free loopback ports.
#[derive(Debug)]
struct Voxgate {
    _proc: Proc,
    udp: SocketAddr,
    tcp: SocketAddr,
}

impl Voxgate {
    fn start(config: &Path, dir: &Path) -> Voxgate {
        let log = std::fs::File::create(dir.join("voxgate.log")).expect("create log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
            .args(["sip", "serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start voxgate");
        let stdout = child.stdout.take().expect("stdout");
        let mut proc = Proc {
            name: "voxgate",
            child,
        };
        // The first line, read on a thread so that the wait has a deadline; the thread
        // then drains stdout until voxgate exits.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let listening = line
            .trim()
            .strip_prefix("sip listening on ")
            .unwrap_or_else(|| {
                let status = proc.exited();
                panic!(
                    "voxgate did not start (first line {line:?}, exit {status:?}):\n{}",
                    std::fs::read_to_string(dir.join("voxgate.log")).unwrap_or_default()
                )
            })
            .to_string();
        let addr = |kind: &str| -> SocketAddr {
            listening
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{kind}:")))
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("no {kind} address in {line:?}"))
        };
        Voxgate {
            udp: addr("udp"),
            tcp: addr("tcp"),
            _proc: proc,
        }
    }
}

/// voxgate's call events file, read as JSON lines.
#[derive(Debug)]
struct Events {
    path: PathBuf,
}

impl Events {
    fn new(path: PathBuf) -> Events {
        Events { path }
    }

    /// Every complete line so far.
    fn read(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event {l:?}: {e}")))
            .collect()
    }

    /// Polls until `done` holds, at most `within`.
    fn wait_for(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let events = self.read();
            if done(&events) {
                return events;
            }
            if Instant::now() >= deadline {
                let lines: Vec<String> = events.iter().map(Value::to_string).collect();
                panic!(
                    "no {what} within {within:?}; voxgate's events:\n{}",
                    lines.join("\n")
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind).count()
}

fn first<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["event"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}

fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{name}` in {v}"))
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

// ---------------------------------------------------------------------------------
// baresip

/// What baresip heard (`…-dec.wav` of the sndfile filter) and said (`…-enc.wav`).
#[derive(Debug)]
struct Recordings {
    heard: Wav,
    said: Wav,
}

/// A headless baresip with its own config directory, driven over ctrl_tcp.
#[derive(Debug)]
struct Baresip {
    proc: Proc,
    ctrl: Ctrl,
    dir: PathBuf,
}

impl Baresip {
    fn start(dir: &Path, codecs: Option<&str>) -> Baresip {
        let cfg = dir.join("baresip");
        let snd = dir.join("sndfile");
        std::fs::create_dir_all(&cfg).expect("create baresip config dir");
        std::fs::create_dir_all(&snd).expect("create sndfile dir");
        let caller_audio = dir.join("caller.wav");
        write_caller_audio(&caller_audio);
        for p in [dir, caller_audio.as_path()] {
            assert!(
                !p.display().to_string().contains(char::is_whitespace),
                "baresip's config cannot hold paths with spaces: {}",
                p.display()
            );
        }
        // A user name of its own, to be sure whose ctrl_tcp socket we talk to.
        let user = unique("tester").replace('-', "");
        let mut account = format!("<sip:{user}@127.0.0.1>;regint=0;answermode=manual");
        if let Some(c) = codecs {
            account.push_str(&format!(";audio_codecs={c}"));
        }
        std::fs::write(cfg.join("accounts"), format!("{account}\n")).expect("write accounts");

        // The ctrl_tcp port is picked before baresip binds it; if something else takes
        // it in between (baresip carries on without ctrl_tcp), try again.
        let mut failures = Vec::new();
        for attempt in 0..3 {
            let ctrl_port = free_tcp_port();
            let config = format!(
                "# Written by host/gateway/tests/baresip.rs
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
call_local_timeout	60
call_max_calls		4
audio_source		aufile,{caller}
ausrc_srate		8000
ausrc_channels		1
audio_level		no
rtcp_mux		no
jitter_buffer_delay	5-10
rtp_stats		no
module_path		{MODULE_DIR}
module			g711.so
module			aufile.so
module			sndfile.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:{ctrl_port}
snd_path		{snd}
",
                caller = caller_audio.display(),
                snd = snd.display(),
            );
            std::fs::write(cfg.join("config"), config).expect("write baresip config");
            let log_path = dir.join("baresip.log");
            let log = std::fs::File::create(&log_path).expect("create baresip log");
            let child = Command::new("baresip")
                .arg("-f")
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log"))
                .stderr(log)
                .spawn()
                .expect("start baresip");
            let mut proc = Proc {
                name: "baresip",
                child,
            };
            match Ctrl::connect(ctrl_port, &mut proc, &log_path, dir) {
                Ok(mut ctrl) => {
                    // Our baresip answers with our account.
                    let info = ctrl.command("reginfo", "");
                    let data = info["data"].as_str().unwrap_or_default();
                    if data.contains(&user) {
                        return Baresip {
                            proc,
                            ctrl,
                            dir: dir.to_path_buf(),
                        };
                    }
                    failures.push(format!(
                        "attempt {attempt}: port {ctrl_port} answered for someone else: {info}"
                    ));
                }
                Err(e) => failures.push(format!("attempt {attempt}: {e}")),
            }
        }
        panic!("baresip did not come up:\n{}", failures.join("\n"));
    }

    /// Runs a command and checks baresip accepted it.
    fn command(&mut self, command: &str, params: &str) -> Value {
        let response = self.ctrl.command(command, params);
        assert_eq!(
            response["ok"], true,
            "baresip refused `{command} {params}`: {response}"
        );
        response
    }

    fn wait_event(&mut self, kind: &str, within: Duration) -> Value {
        self.ctrl.wait_event(kind, within)
    }

    /// `quit`, wait for baresip to exit (so the recordings are complete), and read them.
    fn quit_and_take_recordings(mut self) -> Recordings {
        self.ctrl.send("quit", "");
        let status = self.proc.wait_exit(Duration::from_secs(10));
        assert!(
            status.is_some(),
            "{} did not exit on `quit`",
            self.proc.name
        );
        let snd = self.dir.join("sndfile");
        let find = |suffix: &str| -> PathBuf {
            let found: Vec<PathBuf> = std::fs::read_dir(&snd)
                .expect("read sndfile dir")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect();
            assert_eq!(
                found.len(),
                1,
                "one {suffix} from baresip's sndfile filter: {found:?}"
            );
            found.into_iter().next().unwrap_or_default()
        };
        let heard_path = self.dir.join("heard.wav");
        let said_path = self.dir.join("said.wav");
        std::fs::rename(find("-dec.wav"), &heard_path).expect("rename heard");
        std::fs::rename(find("-enc.wav"), &said_path).expect("rename said");
        Recordings {
            heard: Wav::read(&heard_path),
            said: Wav::read(&said_path),
        }
    }
}

/// baresip's ctrl_tcp: JSON in netstrings (`LEN:{...},`) both ways; responses carry
/// the command's token, events (`{"event":true,"type":...}`) come in between.
#[derive(Debug)]
struct Ctrl {
    stream: TcpStream,
    buf: Vec<u8>,
    events: Vec<Value>,
    token: u32,
    log: std::fs::File,
}

impl Ctrl {
    fn connect(port: u16, proc: &mut Proc, log_path: &Path, dir: &Path) -> Result<Ctrl, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = proc.exited() {
                return Err(format!(
                    "baresip exited ({status}):\n{}",
                    std::fs::read_to_string(log_path).unwrap_or_default()
                ));
            }
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            if log.contains("ctrl_tcp: failed to listen") {
                return Err(format!("ctrl_tcp could not listen on {port}"));
            }
            // ctrl_tcp is loaded after the accounts: once it listens, the user agent exists.
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                stream
                    .set_read_timeout(Some(POLL))
                    .map_err(|e| e.to_string())?;
                let log = std::fs::File::create(dir.join("baresip-ctrl.log"))
                    .map_err(|e| e.to_string())?;
                return Ok(Ctrl {
                    stream,
                    buf: Vec::new(),
                    events: Vec::new(),
                    token: 0,
                    log,
                });
            }
            if Instant::now() >= deadline {
                return Err(format!("no ctrl_tcp on port {port} within 10 s:\n{log}"));
            }
            std::thread::sleep(POLL);
        }
    }

    fn send(&mut self, command: &str, params: &str) -> String {
        self.token += 1;
        let token = format!("t{}", self.token);
        let body = json!({"command": command, "params": params, "token": token}).to_string();
        let frame = format!("{}:{body},", body.len());
        let _ = writeln!(self.log, "> {frame}");
        self.stream
            .write_all(frame.as_bytes())
            .expect("write to baresip's ctrl_tcp");
        token
    }

    /// Sends a command and returns its response (events seen meanwhile are kept).
    fn command(&mut self, command: &str, params: &str) -> Value {
        let token = self.send(command, params);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.next(deadline) {
                Some(v) if v["response"] == true && v["token"] == token.as_str() => return v,
                Some(v) if v["event"] == true => self.events.push(v),
                Some(_) => {}
                None => panic!("baresip did not answer `{command} {params}` within 10 s"),
            }
        }
    }

    /// The first event of this type, since the start (events are kept).
    fn wait_event(&mut self, kind: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(e) = self.events.iter().find(|e| e["type"] == kind) {
                return e.clone();
            }
            match self.next(deadline) {
                Some(v) if v["event"] == true => self.events.push(v),
                Some(_) => {}
                None => panic!(
                    "no baresip {kind} event within {within:?}; events: {:?}",
                    self.events
                ),
            }
        }
    }

    /// The next message, or None at the deadline.
    fn next(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            if let Some(v) = self.parse_one() {
                let _ = writeln!(self.log, "< {v}");
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    // baresip closed the socket: nothing more will come.
                    std::thread::sleep(POLL);
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("reading baresip's ctrl_tcp: {e}"),
            }
        }
    }

    /// One netstring off the front of the buffer, if it is complete.
    fn parse_one(&mut self) -> Option<Value> {
        let colon = self.buf.iter().position(|&b| b == b':')?;
        let len: usize = std::str::from_utf8(&self.buf[..colon])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "not a netstring from baresip: {:?}",
                    String::from_utf8_lossy(&self.buf)
                )
            });
        let end = colon + 1 + len;
        if self.buf.len() <= end {
            return None;
        }
        assert_eq!(self.buf[end], b',', "netstring without its comma");
        let value = serde_json::from_slice(&self.buf[colon + 1..end]).unwrap_or_else(|e| {
            panic!(
                "bad JSON from baresip ({e}): {:?}",
                String::from_utf8_lossy(&self.buf[colon + 1..end])
            )
        });
        self.buf.drain(..=end);
        Some(value)
    }
}
