//! baresip 1.0 (Debian `baresip-core`) as a caller in end-to-end tests: headless,
//! driven over its `ctrl_tcp` socket, with `aufile` as the caller's voice and the
//! `sndfile` filter recording what it hears and says. Also voxgate as a process with
//! its events file, temporary directories that print their logs when a test fails,
//! and 16-bit WAV helpers.
//!
//! Used by `tests/baresip.rs` and `tests/speech_calls.rs`; see `tests/baresip/README.md`
//! for what baresip 1.0 can and cannot do. In short:
//! - `aufile` is only an audio *source* in 1.0; what the phone hears is taken from the
//!   `sndfile` filter: `snd_path/dump-TIME-dec.wav` (every decoded frame) and
//!   `…-enc.wav` (what it sends). The dumps are frame-indexed (one frame per packet),
//!   not wall-clock: frame n of `heard` is voxgate's n-th packet, so the jitter
//!   buffer's depth delays them in time but does not shift them on that timeline.
//! - aufile starts the caller's file over when it ends.
//! - `quit` is a core command; `dial`, `hangup`, `sndcode`, `reginfo` come from `menu`.
//! - `net_interface 127.0.0.1` keeps baresip's SDP on loopback; `sip_listen
//!   127.0.0.1:0` lets it pick its SIP port. The ctrl_tcp port is chosen up front (a
//!   free port) and checked over the socket with a unique account (`reginfo`).
//!
//! Processes are killed when dropped, every wait has a deadline, and temporary
//! directories are removed (kept, with their path printed, when
//! `VOXGATE_KEEP_TEST_DIR` is set; their logs are printed when a test fails).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub const MODULE_DIR: &str = "/usr/lib/baresip/modules";
pub const MODULES: &[&str] = &[
    "g711.so",
    "aufile.so",
    "sndfile.so",
    "account.so",
    "menu.so",
    "ctrl_tcp.so",
];
/// A sample is "sound" above this (about -40 dBFS); voxgate's silence decodes to 0.
pub const THRESHOLD: i16 = 300;
pub const POLL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------
// Tools

/// Fails with how to install baresip 1.0 and its modules when they are missing.
pub fn require_baresip() {
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
}

/// Fails with the Debian package to install when `program` cannot be run (`arg` is a
/// harmless argument such as `--version`; `why` says what the test uses it for).
pub fn require_program(program: &str, arg: &str, package: &str, why: &str) {
    match Command::new(program).arg(arg).stdin(Stdio::null()).output() {
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "{program} is not installed: this test {why} with the Debian package \
             `{package}` (apt-get install -y {package})"
        ),
        Err(e) => panic!("cannot run {program}: {e}"),
        Ok(_) => {}
    }
}

/// Runs a command to completion and fails with its stderr if it fails.
pub fn run(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------
// WAV files

/// A mono 16-bit WAV file in memory.
#[derive(Debug)]
pub struct Wav {
    pub rate: u32,
    pub samples: Vec<i16>,
}

impl Wav {
    /// Reads the first channel of a 16-bit PCM WAV file.
    pub fn read(path: &Path) -> Wav {
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

    pub fn write(&self, path: &Path) {
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

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds(self.samples.len()))
    }

    pub fn seconds(&self, samples: usize) -> f64 {
        samples as f64 / f64::from(self.rate)
    }

    /// First and last sample above the threshold.
    pub fn active_span(&self) -> Option<(usize, usize)> {
        let loud = |s: &i16| s.unsigned_abs() > THRESHOLD.unsigned_abs();
        let first = self.samples.iter().position(loud)?;
        let last = self.samples.iter().rposition(loud)?;
        Some((first, last))
    }
}

pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Pearson correlation of the 20 ms loudness envelopes of two recordings, each from its
/// own start of sound: near 1 when one is the other through a codec and a rate change.
pub fn envelope_correlation(a: &Wav, a_start: usize, b: &Wav, b_start: usize) -> f64 {
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
pub fn write_caller_audio(path: &Path) {
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

pub static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique(tag: &str) -> String {
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
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique(&format!("voxgate-baresip-{tag}")));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The logs at the top and one level down (one directory per call).
            let mut dirs = vec![self.path.clone()];
            let mut subdirs: Vec<PathBuf> = std::fs::read_dir(&self.path)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subdirs.sort();
            dirs.extend(subdirs);
            for dir in dirs {
                for name in [
                    "events.jsonl",
                    "voxgate.log",
                    "baresip.log",
                    "baresip-ctrl.log",
                ] {
                    if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
                        let shown = dir.join(name);
                        let shown = shown.strip_prefix(&self.path).unwrap_or(&shown);
                        eprintln!("----- {} (last 60 lines) -----", shown.display());
                        let lines: Vec<&str> = text.lines().collect();
                        for l in &lines[lines.len().saturating_sub(60)..] {
                            // baresip redraws a status line with \r; keep the logs readable.
                            eprintln!("{}", l.rsplit('\r').next().unwrap_or(l));
                        }
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
pub struct Proc {
    pub name: &'static str,
    pub child: Child,
}

impl Proc {
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
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
pub struct Voxgate {
    proc: Proc,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
}

impl Voxgate {
    /// Starts `voxgate sip serve --config CONFIG`, logging to `DIR/voxgate.log`; fails
    /// the test with the log when it does not come up.
    pub fn start(config: &Path, dir: &Path) -> Voxgate {
        Voxgate::try_start(config, dir).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Voxgate::start`], but says why voxgate did not come up (its first line,
    /// exit status and log) instead of failing.
    pub fn try_start(config: &Path, dir: &Path) -> Result<Voxgate, String> {
        Voxgate::try_start_with(config, dir, &[])
    }

    /// Like [`Voxgate::try_start`], with more arguments for `sip serve`.
    pub fn try_start_with(
        config: &Path,
        dir: &Path,
        args: &[std::ffi::OsString],
    ) -> Result<Voxgate, String> {
        let log = std::fs::File::create(dir.join("voxgate.log")).expect("create log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
            .args(["sip", "serve", "--config"])
            .arg(config)
            .args(args)
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
        let Some(listening) = line.trim().strip_prefix("sip listening on ") else {
            let status = proc.wait_exit(Duration::from_secs(1));
            return Err(format!(
                "voxgate did not start (first line {line:?}, exit {status:?}):\n{}",
                std::fs::read_to_string(dir.join("voxgate.log")).unwrap_or_default()
            ));
        };
        let addr = |kind: &str| -> Result<SocketAddr, String> {
            listening
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{kind}:")))
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| format!("no {kind} address in {line:?}"))
        };
        Ok(Voxgate {
            udp: addr("udp")?,
            tcp: addr("tcp")?,
            proc,
        })
    }

    /// Whether voxgate is still running.
    pub fn is_running(&mut self) -> bool {
        self.proc.exited().is_none()
    }
}

/// voxgate's call events file, read as JSON lines.
#[derive(Debug)]
pub struct Events {
    path: PathBuf,
}

impl Events {
    pub fn new(path: PathBuf) -> Events {
        Events { path }
    }

    /// Every complete line so far.
    pub fn read(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event {l:?}: {e}")))
            .collect()
    }

    /// Polls until `done` holds, at most `within`.
    pub fn wait_for(
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

    /// Polls until `done` holds, at most `within`: the events then, or `Err` with the
    /// events at the deadline (for a test to fail with its own message).
    pub fn wait_until(
        &self,
        within: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Result<Vec<Value>, Vec<Value>> {
        let deadline = Instant::now() + within;
        loop {
            let events = self.read();
            if done(&events) {
                return Ok(events);
            }
            if Instant::now() >= deadline {
                return Err(events);
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The events of one call (`call_id`), in order.
pub fn of_call<'a>(events: &'a [Value], call_id: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["call_id"] == call_id).collect()
}

/// The events of one kind, in order.
pub fn all_of<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// Events as lines, for failure messages.
pub fn show(events: &[Value]) -> String {
    events
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind).count()
}

pub fn first<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["event"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}

pub fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{name}` in {v}"))
}

pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

// ---------------------------------------------------------------------------------
// baresip

/// What baresip heard (`…-dec.wav` of the sndfile filter) and said (`…-enc.wav`).
#[derive(Debug)]
pub struct Recordings {
    pub heard: Wav,
    pub said: Wav,
}

/// A headless baresip with its own config directory, driven over ctrl_tcp.
#[derive(Debug)]
pub struct Baresip {
    proc: Proc,
    ctrl: Ctrl,
    dir: PathBuf,
}

/// How a [`Baresip`] is set up.
#[derive(Debug, Clone)]
pub struct BaresipOptions {
    /// The account's `audio_codecs` parameter (None: all it has, PCMU first).
    pub codecs: Option<String>,
    /// What the caller says: an 8 kHz mono 16-bit WAV that `aufile` plays from the
    /// moment the call's audio starts, over and over (None: 10 s of quiet noise).
    pub caller_audio: Option<PathBuf>,
    /// `jitter_buffer_delay` in frames (`MIN-MAX`).
    pub jitter_buffer_delay: String,
    /// The account's user, i.e. the caller's number voxgate sees (default: a unique
    /// name, to be sure whose ctrl_tcp socket a test talks to).
    pub user: Option<String>,
}

impl Default for BaresipOptions {
    fn default() -> BaresipOptions {
        BaresipOptions {
            codecs: None,
            caller_audio: None,
            jitter_buffer_delay: "5-10".into(),
            user: None,
        }
    }
}

impl Baresip {
    /// baresip with its config, logs and recordings in `dir`, offering `codecs` and
    /// sending quiet noise.
    pub fn start(dir: &Path, codecs: Option<&str>) -> Baresip {
        Baresip::start_with(
            dir,
            &BaresipOptions {
                codecs: codecs.map(str::to_string),
                ..BaresipOptions::default()
            },
        )
    }

    /// baresip with its config, logs and recordings in `dir` (created if need be).
    pub fn start_with(dir: &Path, options: &BaresipOptions) -> Baresip {
        let cfg = dir.join("baresip");
        let snd = dir.join("sndfile");
        std::fs::create_dir_all(&cfg).expect("create baresip config dir");
        std::fs::create_dir_all(&snd).expect("create sndfile dir");
        let caller_audio = match &options.caller_audio {
            Some(path) => {
                let wav = Wav::read(path);
                assert_eq!(
                    wav.rate,
                    8000,
                    "{}: baresip's aufile wants the codec's rate (8 kHz mono)",
                    path.display()
                );
                path.clone()
            }
            None => {
                let path = dir.join("caller.wav");
                write_caller_audio(&path);
                path
            }
        };
        let codecs = options.codecs.as_deref();
        let jitter_buffer_delay = &options.jitter_buffer_delay;
        for p in [dir, caller_audio.as_path()] {
            assert!(
                !p.display().to_string().contains(char::is_whitespace),
                "baresip's config cannot hold paths with spaces: {}",
                p.display()
            );
        }
        // A user name of its own, to be sure whose ctrl_tcp socket we talk to.
        let user = options
            .user
            .clone()
            .unwrap_or_else(|| unique("tester").replace('-', ""));
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
                "# Written by host/gateway/tests/support/baresip.rs
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
call_local_timeout	60
call_max_calls		4
audio_source		aufile,{caller}
ausrc_srate		8000
ausrc_channels		1
audio_level		no
rtcp_mux		no
jitter_buffer_delay	{jitter_buffer_delay}
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
    pub fn command(&mut self, command: &str, params: &str) -> Value {
        let response = self.ctrl.command(command, params);
        assert_eq!(
            response["ok"], true,
            "baresip refused `{command} {params}`: {response}"
        );
        response
    }

    pub fn wait_event(&mut self, kind: &str, within: Duration) -> Value {
        self.ctrl.wait_event(kind, within)
    }

    /// `quit`, wait for baresip to exit (so the recordings are complete), and read them.
    pub fn quit_and_take_recordings(mut self) -> Recordings {
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
pub struct Ctrl {
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
    pub fn command(&mut self, command: &str, params: &str) -> Value {
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
    pub fn wait_event(&mut self, kind: &str, within: Duration) -> Value {
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

/// `text` spoken by Flite's `voice`, made telephone audio by sox (8 kHz, 300–3400 Hz,
/// no dither so every run hears the same), without its leading and trailing silence.
pub fn flite_speech(dir: &Path, text: &str, voice: &str) -> Vec<i16> {
    std::fs::create_dir_all(dir).expect("create speech dir");
    let tag = unique("flite");
    let raw = dir.join(format!("{tag}-raw.wav"));
    let tel = dir.join(format!("{tag}-tel.wav"));
    run(Command::new("flite")
        .args(["-voice", voice, "-t", text, "-o"])
        .arg(&raw));
    run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "8000", "-c", "1", "-b", "16", "-D"])
        .arg(&tel)
        .args(["sinc", "300-3400", "norm", "-3"]));
    let speech = Wav::read(&tel);
    assert_eq!(speech.rate, 8000);
    let (first, last) = speech
        .active_span()
        .unwrap_or_else(|| panic!("flite said nothing for {text:?}"));
    speech.samples[first..=last].to_vec()
}

/// A caller who says several things: each `(pause, text, voice)` is that many seconds of
/// silence, then the text; `tail` seconds of silence end it. Returns the WAV and when
/// each utterance ends, in seconds from the start.
pub fn caller_script(dir: &Path, says: &[(f64, &str, &str)], tail: f64) -> (PathBuf, Vec<f64>) {
    let mut samples = Vec::new();
    let mut ends = Vec::new();
    for (pause, text, voice) in says {
        samples.extend(std::iter::repeat_n(0i16, (pause * 8000.0) as usize));
        samples.extend(flite_speech(dir, text, voice));
        ends.push(samples.len() as f64 / 8000.0);
    }
    samples.extend(std::iter::repeat_n(0i16, (tail * 8000.0) as usize));
    let path = dir.join("caller.wav");
    Wav {
        rate: 8000,
        samples,
    }
    .write(&path);
    (path, ends)
}
