//! Shared harness for end-to-end tests: voxgate as a real process on loopback, its call
//! events, temp directories, free ports, and SIPp.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
pub mod baresip;
pub mod chat;
pub mod erp;
pub mod gateway;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("voxgate-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free UDP+TCP port on loopback (bound, then released: a small race accepted in tests).
pub fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port + 2)).is_ok()
        {
            return port;
        }
    }
}

/// The repository's `tests/` directory.
pub fn repo_tests() -> PathBuf {
    manifest_dir().join("../../tests")
}

/// Writes a WAV prompt of `secs` seconds: a 440 Hz tone at -12 dBFS, 16 kHz, so
/// loading resamples it.
pub fn tone_wav(path: &Path, secs: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (16_000.0 * secs) as usize;
    for i in 0..n {
        let v = (std::f32::consts::TAU * 440.0 * i as f32 / 16_000.0).sin() * 8000.0;
        w.write_sample(v as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// voxgate serving SIP from a config written into `dir`; killed on drop.
pub struct Voxgate {
    child: Child,
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    pub tls: Option<SocketAddr>,
    pub events: PathBuf,
    pub dir: PathBuf,
}

impl Voxgate {
    /// Starts `voxgate sip serve` with `[sip]` settings given as TOML text (without the
    /// table header); listeners, events and recordings are added here.
    pub fn start(dir: &Path, sip_toml: &str) -> Voxgate {
        Voxgate::start_with(dir, r#"["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]"#, sip_toml)
    }

    /// Like [`Voxgate::start`] with the `listen` array given (as TOML).
    pub fn start_with(dir: &Path, listen: &str, sip_toml: &str) -> Voxgate {
        let config = dir.join("voxgate.toml");
        let events = dir.join("events.jsonl");
        std::fs::write(
            &config,
            format!(
                "[sip]\nlisten = {listen}\nrecord_dir = \"recordings\"\nevents_file = \"events.jsonl\"\n{sip_toml}\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
            .args(["sip", "serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start voxgate");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = |kind: &str| -> SocketAddr {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{kind}:")))
                .unwrap_or_else(|| panic!("no {kind} address in {line:?}"))
                .parse()
                .unwrap()
        };
        let (udp, tcp) = (addr("udp"), addr("tcp"));
        let tls = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("tls:"))
            .and_then(|a| a.parse().ok());
        Voxgate {
            child,
            udp,
            tcp,
            tls,
            events,
            dir: dir.to_path_buf(),
        }
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until `pred` holds for the events, up to `timeout`; returns them.
    pub fn wait_events(
        &self,
        timeout: Duration,
        pred: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let events = self.events();
            if pred(&events) || Instant::now() > deadline {
                return events;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Events of one kind.
    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Voxgate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn count(events: &[serde_json::Value], kind: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind).count()
}

/// Runs SIPp against `target` with a scenario from `tests/sipp/`, in `dir` (where its
/// logs go), bounded by `limit`. Extra arguments are appended.
pub fn sipp(
    dir: &Path,
    target: SocketAddr,
    scenario: &str,
    number: &str,
    extra: &[&str],
    limit: Duration,
) -> Output {
    which("sipp", "sip-tester");
    let scenario = repo_tests().join("sipp").join(scenario);
    let port = free_port();
    let media = free_port();
    let mut cmd = Command::new("timeout");
    cmd.arg(format!("{}", limit.as_secs().max(1)))
        .arg("sipp")
        .arg(target.to_string())
        .arg("-sf")
        .arg(&scenario)
        .args(["-s", number, "-i", "127.0.0.1", "-nostdin", "-trace_err"])
        .args(["-p", &port.to_string(), "-mp", &media.to_string()])
        .args([
            "-timeout",
            &format!("{}s", limit.as_secs().saturating_sub(2).max(1)),
            "-timeout_error",
        ])
        .args(if extra.contains(&"-m") {
            &[][..]
        } else {
            &["-m", "1"][..]
        })
        .args(extra)
        .current_dir(dir)
        .stdin(Stdio::null());
    cmd.output().expect("run sipp")
}

/// SIPp's count of completed and failed calls, from the last screen it printed.
pub fn sipp_calls(out: &Output) -> (u32, u32) {
    let screen = String::from_utf8_lossy(&out.stdout);
    let count = |what: &str| {
        screen
            .lines()
            .rfind(|l| l.contains(what))
            .and_then(|l| l.split('|').nth(2))
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    (count("Successful call"), count("Failed call"))
}

/// SIPp's exit code 0 means every call succeeded; otherwise show what it said.
pub fn assert_sipp_ok(out: &Output, what: &str, dir: &Path) {
    if out.status.success() {
        return;
    }
    let mut errors = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().ends_with("_errors.log") {
            errors.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = stdout.lines().rev().take(40).collect();
    panic!(
        "{what}: sipp exited with {:?}\n--- sipp errors ---\n{}\n--- sipp screen (end) ---\n{}",
        out.status.code(),
        errors.chars().take(6000).collect::<String>(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

/// Fails with the Debian package to install when a tool is missing.
pub fn which(tool: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is missing: install the Debian package `{package}` (scripts/setup does)"
    );
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Runs the `voxgate` binary to completion with `args`, keeping compiled plugin code in
/// a cache directory of the test's own (`cache`, under the temp dir).
pub fn voxgate_cli(args: &[&str], cache: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args(args)
        .env("VOXGATE_CACHE_DIR", std::env::temp_dir().join(cache))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run voxgate")
}

/// A finished command's stdout and stderr, for assertions and their messages.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A mono 16-bit PCM WAV of `frames` samples of quiet noise (a large recording,
/// cheaply).
pub fn noise_wav(rate: u32, frames: usize) -> Vec<u8> {
    let samples: Vec<i16> = (0..frames).map(|i| ((i * 7919) % 64) as i16 - 32).collect();
    voxgate_speech::wav::encode_pcm16_mono(rate, &samples)
}

/// `wav` encoded as MP3 by LAME (Debian package `lame`).
pub fn mp3_of(wav: &[u8]) -> Vec<u8> {
    which("lame", "lame");
    let dir = TempDir::new("mp3");
    let (input, output) = (dir.path().join("in.wav"), dir.path().join("out.mp3"));
    std::fs::write(&input, wav).unwrap();
    let status = Command::new("lame")
        .args(["--quiet", "-b", "64"])
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "lame failed");
    std::fs::read(&output).unwrap()
}
