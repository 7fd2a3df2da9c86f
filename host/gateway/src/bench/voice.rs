//! Voice-to-voice latency through a real call on loopback: from the caller's last spoken
//! sample to the first audible sample of voxgate's reply, as a caller's phone would
//! measure it.
//!
//! The caller is this benchmark: a minimal SIP user agent over UDP that sends its voice
//! as PCMU at the real 20 ms pace (Flite-spoken phrases, a different synthesizer than
//! voxgate's espeak-ng replies) and timestamps every packet it gets back. voxgate runs in
//! the same process with a route that listens for the phrases and answers each with
//! "okay, PHRASE", so every turn crosses the whole path: jitter buffer, VAD and end of
//! utterance, recognition on the blocking pool, synthesis, and pacing.
//!
//! A sample's time is the caller's clock: an outgoing frame sent at T holds the 20 ms of
//! audio captured before T; an incoming frame's first sample plays when it arrives.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::net::UdpSocket;
use voxgate_proto::codec::g711::{decode_ulaw, encode_ulaw};
use voxgate_proto::rtp::{RtpPacket, RtpSender};
use voxgate_proto::sdp::SessionDescription;
use voxgate_proto::sip::{Message, Method, Request, Uri, parse_datagram};
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::synth::{Synthesizer, Voice};

use crate::sip::config::SipConfig;
use crate::sip::events::EventSink;
use crate::sip::ua::SipServer;

/// A reply sample at least this loud counts as heard (about −30 dBFS).
const AUDIBLE: u16 = 1000;
/// A turn whose reply has not begun this long after the caller stopped is lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);
/// The reply is over after this much quiet; the caller then pauses before the next.
const REPLY_DONE_QUIET_FRAMES: u32 = 25;
const PAUSE_FRAMES: u32 = 15;
const FRAME: usize = 160;

#[derive(Debug, Serialize)]
pub(super) struct VoiceToVoice {
    pub turns: usize,
    /// Turns with a reply within 3 s.
    pub answered: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// voxgate's own figure: last voiced frame after its jitter buffer to the reply's
    /// first frame leaving (the `reply-started` event), p50.
    pub internal_p50_ms: f64,
    /// Turns whose transcript was the phrase said.
    pub recognized_exactly: usize,
    /// Silence after the last word that ends an utterance.
    pub end_silence_ms: u64,
}

/// One call with `turns` turns, each a phrase from `phrases` in order.
pub(super) async fn measure(phrases: &[&str], turns: usize) -> anyhow::Result<VoiceToVoice> {
    let dir = std::env::temp_dir().join(format!("voxgate-voice-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let events_path = dir.join("events.jsonl");
    let listen = serde_json::to_string(phrases)?;
    let config: SipConfig = toml::from_str(&format!(
        r#"
listen = ["udp:127.0.0.1:0"]

[[routes]]
number = "500"
say = "Hello."
listen = {listen}
reply = "okay, {{text}}"
"#
    ))?;
    let server = SipServer::start(config, EventSink::to_file(&events_path).await?).await?;
    let target = server
        .local_addr(voxgate_proto::sip::Transport::Udp)
        .context("no UDP listener")?;

    let voices = tokio::task::spawn_blocking({
        let phrases: Vec<String> = phrases.iter().map(|p| p.to_string()).collect();
        move || -> anyhow::Result<Vec<Vec<i16>>> {
            let flite = FliteSynthesizer::new()?;
            phrases
                .iter()
                .map(|p| {
                    let pcm = flite
                        .synthesize(p, &Voice::language("en"))?
                        .resampled(8000)?;
                    Ok(trim(pcm.samples))
                })
                .collect()
        }
    })
    .await??;

    let latencies = call(target, &voices, turns).await;
    // Let the event writer catch up before reading its file.
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.abort();
    let mut latencies = latencies?;
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&events_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut internal: Vec<f64> = events
        .iter()
        .filter(|e| e["event"] == "reply-started")
        .filter_map(|e| e["after_input_ms"].as_f64())
        .collect();
    internal.sort_by(f64::total_cmp);
    let recognized_exactly = events
        .iter()
        .filter(|e| e["event"] == "transcript")
        .zip(phrases.iter().cycle())
        .filter(|(e, p)| e["text"].as_str() == Some(**p))
        .count();
    let _ = std::fs::remove_dir_all(&dir);

    let answered = latencies.len();
    latencies.sort_by(f64::total_cmp);
    let at = |v: &[f64], q: f64| {
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v.get(i).copied().unwrap_or(0.0)
    };
    Ok(VoiceToVoice {
        turns,
        answered,
        p50_ms: at(&latencies, 0.5),
        p95_ms: at(&latencies, 0.95),
        max_ms: at(&latencies, 1.0),
        internal_p50_ms: at(&internal, 0.5),
        recognized_exactly,
        end_silence_ms: crate::conversation::DEFAULT_END_SILENCE.as_millis() as u64,
    })
}

/// The phrase without the synthesizer's leading and trailing silence.
fn trim(samples: Vec<i16>) -> Vec<i16> {
    let loud = |s: &i16| s.unsigned_abs() >= AUDIBLE / 4;
    let first = samples.iter().position(loud).unwrap_or(0);
    let last = samples.iter().rposition(loud).unwrap_or(samples.len());
    samples
        .get(first..=last)
        .map(<[i16]>::to_vec)
        .unwrap_or(samples)
}

/// Where the caller is in a turn.
enum Phase {
    /// Listening to the greeting, or to a reply.
    Hearing {
        quiet: u32,
        heard: bool,
    },
    Pause(u32),
    Speaking {
        turn: usize,
        pos: usize,
    },
    Waiting {
        since: Instant,
        last_sample: Instant,
    },
}

async fn call(target: SocketAddr, voices: &[Vec<i16>], turns: usize) -> anyhow::Result<Vec<f64>> {
    let sip = UdpSocket::bind("127.0.0.1:0").await?;
    let rtp = UdpSocket::bind("127.0.0.1:0").await?;
    let sip_port = sip.local_addr()?.port();
    let rtp_port = rtp.local_addr()?.port();
    let call_id = format!("voice-bench-{}@127.0.0.1", std::process::id());
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
    );
    let uri = Uri::parse(&format!("sip:500@{target}"))?;
    let request = |method: Method, cseq: u32, branch: &str, to_tag: &str, sdp: Option<&str>| {
        let mut b = Request::builder(method.clone(), uri.clone())
            .header(
                "Via",
                format!("SIP/2.0/UDP 127.0.0.1:{sip_port};branch=z9hG4bK{branch};rport"),
            )
            .max_forwards(70)
            .header("From", "<sip:bench@127.0.0.1>;tag=bench")
            .header("To", format!("<sip:500@127.0.0.1>{to_tag}"))
            .call_id(call_id.clone())
            .header("CSeq", format!("{cseq} {method}"))
            .header("Contact", format!("<sip:bench@127.0.0.1:{sip_port}>"));
        if let Some(sdp) = sdp {
            b = b.body("application/sdp", sdp.to_string());
        }
        b.build().to_bytes()
    };
    sip.send_to(&request(Method::Invite, 1, "inv1", "", Some(&sdp)), target)
        .await?;
    let mut buf = vec![0u8; 4096];
    let (to_tag, media) = loop {
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), sip.recv_from(&mut buf))
            .await
            .context("no answer to the INVITE")??;
        let Ok(Message::Response(r)) = parse_datagram(buf.get(..n).unwrap_or_default()) else {
            continue;
        };
        match r.status.code() {
            100..=199 => continue,
            200 => {
                let tag = r
                    .headers
                    .to_address()
                    .ok()
                    .and_then(|a| a.tag().map(str::to_string))
                    .context("200 without a To tag")?;
                let sdp = SessionDescription::parse(&r.body)?;
                let port = sdp.media.first().map(|m| m.port).context("no m= line")?;
                break (format!(";tag={tag}"), SocketAddr::new(target.ip(), port));
            }
            code => bail!("the INVITE got {code}"),
        }
    };
    sip.send_to(&request(Method::Ack, 1, "ack1", &to_tag, None), target)
        .await?;

    let mut sender = RtpSender::new(0x5EED, 1, 0);
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut packet, mut payload, mut pcm) = (Vec::new(), Vec::new(), Vec::new());
    let mut frame = Vec::with_capacity(FRAME);
    let mut phase = Phase::Hearing {
        quiet: 0,
        heard: false,
    };
    let mut latencies = Vec::new();
    let mut done = 0;
    let deadline = Instant::now() + Duration::from_secs(20 + 6 * turns as u64);
    while done < turns && Instant::now() < deadline {
        tokio::select! {
            _ = ticker.tick() => {
                let now = Instant::now();
                frame.clear();
                match &mut phase {
                    Phase::Speaking { turn, pos } => {
                        let voice = voices.get(*turn % voices.len().max(1)).map_or(&[][..], |v| &v[..]);
                        let start = *pos;
                        let end = (start + FRAME).min(voice.len());
                        *pos = end;
                        frame.extend_from_slice(voice.get(start..end).unwrap_or_default());
                        if end >= voice.len() {
                            // The phrase's last sample ends this chunk: captured just now,
                            // less the part of the frame that is padding.
                            let padding = FRAME - frame.len();
                            let last_sample = now - Duration::from_micros(125 * padding as u64);
                            phase = Phase::Waiting { since: now, last_sample };
                        }
                    }
                    Phase::Pause(n) => {
                        *n += 1;
                        if *n >= PAUSE_FRAMES {
                            phase = Phase::Speaking { turn: done, pos: 0 };
                        }
                    }
                    Phase::Waiting { since, .. } => {
                        if now.duration_since(*since) > REPLY_TIMEOUT {
                            done += 1;
                            phase = Phase::Pause(0);
                        }
                    }
                    Phase::Hearing { .. } => {}
                }
                frame.resize(FRAME, 0);
                payload.clear();
                encode_ulaw(&frame, &mut payload);
                packet.clear();
                if sender.send_frame(0, &payload, FRAME as u32, &mut packet).is_ok() {
                    rtp.send_to(&packet, media).await?;
                }
            }
            received = rtp.recv_from(&mut buf) => {
                let now = Instant::now();
                let Ok((n, _)) = received else { continue };
                let Ok(p) = RtpPacket::parse(buf.get(..n).unwrap_or_default()) else { continue };
                if p.payload_type() != 0 {
                    continue;
                }
                pcm.clear();
                decode_ulaw(p.payload(), &mut pcm);
                let loud = pcm.iter().position(|s| s.unsigned_abs() >= AUDIBLE);
                match &mut phase {
                    Phase::Waiting { last_sample, .. } => {
                        if let Some(i) = loud {
                            let heard_at = now + Duration::from_micros(125 * i as u64);
                            latencies.push(heard_at.duration_since(*last_sample).as_secs_f64() * 1000.0);
                            done += 1;
                            phase = Phase::Hearing { quiet: 0, heard: true };
                        }
                    }
                    Phase::Hearing { quiet, heard } => {
                        if loud.is_some() {
                            *quiet = 0;
                            *heard = true;
                        } else if *heard {
                            *quiet += 1;
                            if *quiet >= REPLY_DONE_QUIET_FRAMES {
                                phase = Phase::Pause(0);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    sip.send_to(&request(Method::Bye, 2, "bye1", &to_tag, None), target)
        .await?;
    Ok(latencies)
}
