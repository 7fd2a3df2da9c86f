//! SIPp against voxgate's SIP server on loopback: INVITE → 200 latency at a steady rate,
//! the highest rate served with no failed call, and many calls held at once with media.
//!
//! The server runs in this process (the SIPp process shares the same cores, as it would
//! in any single-machine test). Latency is measured inside voxgate with microsecond
//! resolution, because SIPp reports response times in whole milliseconds; SIPp's own
//! verdict (successful and failed calls) is the judge of correctness.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use super::{Percentiles, cores, percentiles_us, write_results};
use crate::sip::config::SipConfig;
use crate::sip::events::EventSink;
use crate::sip::ua::SipServer;

#[derive(Debug, clap::Args)]
pub struct SipLoadArgs {
    /// Calls per second in the latency run.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Calls in the latency run.
    #[arg(long, default_value_t = 4000)]
    calls: u32,
    /// Calls per second in the throughput run.
    #[arg(long, default_value_t = 500)]
    max_rate: u32,
    /// Calls in the throughput run.
    #[arg(long, default_value_t = 5000)]
    max_rate_calls: u32,
    /// Calls held at once, with media, in the concurrency run.
    #[arg(long, default_value_t = 2000)]
    concurrent: u32,
    /// How long each call of the concurrency run is held.
    #[arg(long, default_value_t = 20)]
    hold_secs: u32,
    /// Where to write results.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct RateRun {
    target_cps: u32,
    achieved_cps: f64,
    calls: u32,
    successful: u64,
    failed: u64,
    invite_to_200: Percentiles,
}

#[derive(Debug, Serialize)]
struct ConcurrencyRun {
    calls: u32,
    peak_concurrent: u64,
    successful: u64,
    failed: u64,
    hold_secs: u32,
    packets_sent: u64,
    late_sends: u64,
    late_percent: f64,
    max_send_delay_ms: f64,
}

#[derive(Debug, Serialize)]
struct SipLoadResult {
    machine_cores: usize,
    latency: RateRun,
    throughput: RateRun,
    concurrency: ConcurrencyRun,
}

/// What SIPp's final statistics screen says.
#[derive(Debug, Default)]
struct SippScreen {
    successful: u64,
    failed: u64,
    peak: u64,
}

fn cumulative(screen: &str, label: &str) -> Option<String> {
    screen
        .lines()
        .rfind(|l| l.contains(label))
        .and_then(|l| l.split('|').nth(2))
        .map(|v| v.trim().to_string())
}

fn parse_screen(screen: &str) -> SippScreen {
    let num = |label: &str| {
        cumulative(screen, label)
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let peak = screen
        .lines()
        .filter_map(|l| l.split("Peak was ").nth(1))
        .filter_map(|r| r.split_whitespace().next()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    SippScreen {
        successful: num("Successful call") as u64,
        failed: num("Failed call") as u64,
        peak,
    }
}

fn run_sipp(
    dir: &Path,
    target: std::net::SocketAddr,
    args: &[String],
    limit: Duration,
) -> anyhow::Result<SippScreen> {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sipp/load.xml");
    let out = Command::new("timeout")
        .arg(limit.as_secs().to_string())
        .arg("sipp")
        .arg(target.to_string())
        .arg("-sf")
        .arg(&scenario)
        .args(["-s", "100", "-i", "127.0.0.1", "-nostdin", "-p", "0"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .context("cannot run sipp (Debian package sip-tester; scripts/setup installs it)")?;
    Ok(parse_screen(&String::from_utf8_lossy(&out.stdout)))
}

async fn rate_run(server: &SipServer, dir: &Path, cps: u32, calls: u32) -> anyhow::Result<RateRun> {
    let before = server
        .stats()
        .await
        .map(|s| s.answer_latency_us.len())
        .unwrap_or(0);
    let args: Vec<String> = [
        "-r",
        &cps.to_string(),
        "-m",
        &calls.to_string(),
        "-l",
        &(cps * 4).to_string(),
        "-d",
        "1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let limit = Duration::from_secs(u64::from(calls / cps.max(1)) + 60);
    let target = server
        .local_addr(voxgate_proto::sip::Transport::Udp)
        .context("no UDP listener")?;
    let dir2 = dir.to_path_buf();
    let started = Instant::now();
    let screen =
        tokio::task::spawn_blocking(move || run_sipp(&dir2, target, &args, limit)).await??;
    // SIPp's cumulative rate divides by its whole run, the last call's 1 s hold included.
    let starting = started.elapsed().saturating_sub(Duration::from_secs(1));
    let stats = server.stats().await.context("the SIP core stopped")?;
    // The history is capped; the newest samples are this run's.
    let new = stats
        .answer_latency_us
        .len()
        .saturating_sub(before)
        .min(calls as usize);
    let samples = &stats.answer_latency_us[stats.answer_latency_us.len() - new..];
    Ok(RateRun {
        target_cps: cps,
        achieved_cps: screen.successful as f64 / starting.as_secs_f64().max(0.001),
        calls,
        successful: screen.successful,
        failed: screen.failed,
        invite_to_200: percentiles_us(samples),
    })
}

pub(super) async fn run(args: SipLoadArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("voxgate-sip-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let prompt = dir.join("prompt.wav");
    write_tone(&prompt, 3.0)?;
    let events_path = dir.join("events.jsonl");
    let config: SipConfig = toml::from_str(&format!(
        r#"
listen = ["udp:127.0.0.1:0"]
max_calls = 20000
rtp_timeout_secs = 600

[[routes]]
number = "100"
prompt = "{}"
"#,
        prompt.display()
    ))?;
    let server = SipServer::start(config, EventSink::to_file(&events_path).await?).await?;
    let target = server
        .local_addr(voxgate_proto::sip::Transport::Udp)
        .context("no UDP listener")?;
    println!(
        "voxgate SIP on {target}, {} cores; SIPp drives the load",
        cores()
    );

    println!(
        "latency run: {} calls at {} calls/s …",
        args.calls, args.rate
    );
    let latency = rate_run(&server, &dir, args.rate, args.calls).await?;
    println!(
        "throughput run: {} calls at {} calls/s …",
        args.max_rate_calls, args.max_rate
    );
    let throughput = rate_run(&server, &dir, args.max_rate, args.max_rate_calls).await?;

    println!(
        "concurrency run: {} calls held {} s each, with media …",
        args.concurrent, args.hold_secs
    );
    let ended_before = count_ended(&events_path);
    let ramp = 200u32;
    let c_args: Vec<String> = [
        "-r".to_string(),
        ramp.to_string(),
        "-m".to_string(),
        args.concurrent.to_string(),
        "-l".to_string(),
        args.concurrent.to_string(),
        "-d".to_string(),
        (args.hold_secs * 1000).to_string(),
    ]
    .to_vec();
    let limit = Duration::from_secs(u64::from(args.concurrent / ramp + args.hold_secs) + 90);
    let dir2 = dir.clone();
    let screen =
        tokio::task::spawn_blocking(move || run_sipp(&dir2, target, &c_args, limit)).await??;
    // Calls report their media when they end; wait for the reports to land.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count_ended(&events_path) < ended_before + args.concurrent as usize
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (packets_sent, late_sends, max_delay) = media_totals(&events_path, ended_before);
    let concurrency = ConcurrencyRun {
        calls: args.concurrent,
        peak_concurrent: screen.peak,
        successful: screen.successful,
        failed: screen.failed,
        hold_secs: args.hold_secs,
        packets_sent,
        late_sends,
        late_percent: if packets_sent == 0 {
            0.0
        } else {
            late_sends as f64 * 100.0 / packets_sent as f64
        },
        max_send_delay_ms: max_delay,
    };
    server.abort();

    let result = SipLoadResult {
        machine_cores: cores(),
        latency,
        throughput,
        concurrency,
    };
    let row = |name: &str, r: &RateRun| {
        format!(
            "| {name} | {} | {:.1} | {} | {} | {:.0} | {:.0} | {:.0} |\n",
            r.target_cps,
            r.achieved_cps,
            r.successful,
            r.failed,
            r.invite_to_200.p50_us,
            r.invite_to_200.p99_us,
            r.invite_to_200.max_us
        )
    };
    let c = &result.concurrency;
    let md = format!(
        "# SIP load (SIPp against voxgate on loopback, {} cores)\n\n\
         | run | target calls/s | calls started/s | successful | failed | INVITE→200 p50 µs | p99 µs | max µs |\n\
         |---|---|---|---|---|---|---|---|\n{}{}\n\
         Concurrency: {} calls held {} s with media (prompt, then silence, 20 ms pacing); peak {} at once, \
         {} successful, {} failed; {} RTP packets sent, {} ({:.3} %) more than 5 ms late, worst {:.1} ms.\n\n\
         INVITE→200 is measured inside voxgate, from the datagram reaching the SIP core to the 200 handed \
         to the socket; SIPp reports only whole milliseconds.\n",
        result.machine_cores,
        row("latency", &result.latency),
        row("throughput", &result.throughput),
        c.calls,
        c.hold_secs,
        c.peak_concurrent,
        c.successful,
        c.failed,
        c.packets_sent,
        c.late_sends,
        c.late_percent,
        c.max_send_delay_ms,
    );
    print!("{md}");
    let _ = std::fs::remove_dir_all(&dir);
    write_results(&args.out, "sip-load", &md, &result)
}

fn count_ended(events: &Path) -> usize {
    std::fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"call-ended\""))
        .count()
}

/// Sums the media figures of the calls that ended after the first `skip` call ends.
fn media_totals(events: &Path, skip: usize) -> (u64, u64, f64) {
    let text = std::fs::read_to_string(events).unwrap_or_default();
    let mut sent = 0;
    let mut late = 0;
    let mut worst: f64 = 0.0;
    for line in text
        .lines()
        .filter(|l| l.contains("\"call-ended\""))
        .skip(skip)
    {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let rtp = &v["rtp"];
        sent += rtp["packets_sent"].as_u64().unwrap_or(0);
        late += rtp["late_sends"].as_u64().unwrap_or(0);
        worst = worst.max(rtp["max_send_delay_ms"].as_f64().unwrap_or(0.0));
    }
    (sent, late, worst)
}

fn write_tone(path: &Path, secs: f32) -> anyhow::Result<()> {
    let rate = 8000u32;
    let n = (rate as f32 * secs) as usize;
    let pcm: Vec<i16> = (0..n)
        .map(|i| ((std::f32::consts::TAU * 440.0 * i as f32 / rate as f32).sin() * 8000.0) as i16)
        .collect();
    crate::media::audio_file::write_wav(path, rate, &pcm)?;
    Ok(())
}
