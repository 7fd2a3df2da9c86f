//! One call's media: a task with one pacing timer that sends a frame every ptime and
//! takes the caller's audio through the jitter buffer.
//!
//! The timer is the only clock: each tick sends the next frame of the prompt (then
//! silence, so the caller's side keeps a continuous stream) and pulls one frame of the
//! caller's audio for recording and in-band DTMF. Nothing sleeps per packet, and every
//! late send is counted, because lateness is what callers hear.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;
use voxgate_proto::codec::{Codec, Encoder};
use voxgate_proto::dtmf::EventReceiver;
use voxgate_proto::dtmf::{InbandConfig, InbandDetector};
use voxgate_proto::jitter::{JitterBuffer, JitterConfig};
use voxgate_proto::rtp::ReceiveStats;
use voxgate_proto::rtp::RtpSender;
use voxgate_proto::rtp::rtcp::{self, NtpTime, RtcpPacket, SourceDescription};
use voxgate_proto::rtp::{PacketKind, RtpPacket, classify};
use voxgate_proto::sdp::{Direction, Negotiated};

use super::listen::{Heard, KeyOutcome, Listener, Turn};
use crate::conversation::{Conversation, Inputs, Next, TurnInput};
use crate::sip::call::CallKey;
use crate::sip::events::{CallEvent, DtmfSource, EventSink, RtpSummary};
use crate::sip::ua::{AfterPlay, CoreCommand};
use voxgate_speech::recognizer::Grammar;

/// A send more than this after its due time counts as late.
const LATE_SEND: Duration = Duration::from_millis(5);
/// RTCP reports go out this often (RFC 3550 suggests about 5 s for one stream).
const RTCP_INTERVAL: Duration = Duration::from_secs(5);
/// After a prompt's last packet, silence this long before the prompt counts as heard:
/// the caller's jitter buffer still holds the end of it, and a BYE or REFER sent at
/// once would cut it off.
const PROMPT_DRAIN: Duration = Duration::from_millis(300);

/// Everything a call's media task needs.
#[derive(Debug)]
pub struct MediaParams {
    pub key: CallKey,
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    pub negotiated: Negotiated,
    pub record: Option<RecordTarget>,
    pub rtp_timeout: Duration,
    pub speech: crate::speech::Speech,
    pub events: EventSink,
    pub core: mpsc::Sender<CoreCommand>,
}

/// Where a call's recording goes.
#[derive(Clone)]
pub enum RecordTarget {
    /// A plain WAV file (SIP routes with a `record_dir`).
    Wav(PathBuf),
    /// Sealed with the tenant's key (see [`crate::media::recording`]).
    Encrypted {
        path: PathBuf,
        key: [u8; 32],
        aad: String,
    },
}

impl std::fmt::Debug for RecordTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordTarget::Wav(p) => f.debug_tuple("Wav").field(p).finish(),
            RecordTarget::Encrypted { path, .. } => f
                .debug_struct("Encrypted")
                .field("path", path)
                .finish_non_exhaustive(),
        }
    }
}

/// Audio to play and what follows it, from the call's conversation.
#[derive(Debug)]
pub struct Play {
    pub audio: Option<Arc<[i16]>>,
    pub next: Next,
}

/// What the SIP core and the conversation tell a call's media.
#[derive(Debug)]
pub enum MediaCommand {
    /// The call is established: start the prompt and recording.
    Start,
    /// The conversation's next reply.
    Play(Box<Play>),
    /// A key the caller pressed, signalled outside the media (SIP INFO).
    Key(char),
    /// A re-INVITE changed the session (hold, codec, address).
    Update(Box<Negotiated>),
    /// Stop sending (we are hanging up).
    Pause,
    Stop(oneshot::Sender<MediaReport>),
}

/// How a call's media went.
#[derive(Debug, Clone, Default)]
pub struct MediaReport {
    pub rtp: RtpSummary,
    pub recording: Option<PathBuf>,
}

/// The SIP core's handle on a call's media task.
#[derive(Debug)]
pub struct MediaHandle {
    tx: mpsc::UnboundedSender<MediaCommand>,
}

impl MediaHandle {
    pub fn send(&self, command: MediaCommand) {
        let _ = self.tx.send(command);
    }

    /// Stops the task and returns its report (recording written).
    pub async fn stop(self) -> MediaReport {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(MediaCommand::Stop(tx)).is_err() {
            return MediaReport::default();
        }
        rx.await.unwrap_or_default()
    }
}

/// Starts a call's media task and its conversation (what voxgate says and listens
/// for), which prepares the greeting while the phone rings.
pub fn spawn_media(params: MediaParams, conversation: Box<dyn Conversation>) -> MediaHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let inputs = crate::conversation::spawn(
        params.key.0.clone(),
        conversation,
        params.speech.clone(),
        tx.clone(),
        params.events.clone(),
    );
    tokio::spawn(run(params, inputs, rx));
    MediaHandle { tx }
}

/// The negotiated session as the task uses it.
struct Session {
    remote: SocketAddr,
    remote_rtcp: SocketAddr,
    payload_type: u8,
    codec: Codec,
    ptime: Duration,
    frame_samples: usize,
    telephone_event: Option<u8>,
    send: bool,
    /// The peer sends nothing on purpose (inactive or sendonly from us): no timeout.
    expect_rtp: bool,
}

impl Session {
    fn from(n: &Negotiated) -> Session {
        let ptime_ms = n.ptime.clamp(10, 60);
        Session {
            remote: SocketAddr::new(n.remote_address, n.remote_rtp_port),
            remote_rtcp: n.remote_rtcp,
            payload_type: n.payload_type,
            codec: n.codec,
            ptime: Duration::from_millis(u64::from(ptime_ms)),
            frame_samples: n.codec.samples_per_frame(ptime_ms),
            telephone_event: n.telephone_event,
            send: matches!(n.direction, Direction::SendRecv | Direction::SendOnly)
                && !n.remote_address.is_unspecified()
                && n.remote_rtp_port != 0,
            expect_rtp: matches!(n.direction, Direction::SendRecv | Direction::RecvOnly),
        }
    }
}

struct Media {
    key: CallKey,
    session: Session,
    encoder: Encoder,
    sender: RtpSender,
    jitter: JitterBuffer,
    stats: ReceiveStats,
    dtmf: EventReceiver,
    inband: Option<InbandDetector>,
    prompt: Option<Arc<[i16]>>,
    prompt_pos: usize,
    prompt_reported: bool,
    /// When the prompt's last frame went out.
    prompt_sent_at: Option<Instant>,
    /// What follows the prompt.
    next: Next,
    /// The open turn, if the caller may speak or press keys now.
    turn: Option<Turn>,
    /// Voice activity, once any turn has listened.
    listener: Option<Listener>,
    /// Where the caller's turns go.
    inputs: Inputs,
    /// When the caller's last input ended, until the first frame of the reply leaves.
    input_ended: Option<Instant>,
    heard: Vec<Heard>,
    started: bool,
    paused: bool,
    recording: Option<Vec<i16>>,
    record_target: Option<RecordTarget>,
    last_rtp: Instant,
    rtp_timeout: Duration,
    timed_out: bool,
    latched: bool,
    summary: RtpSummary,
    events: EventSink,
    core: mpsc::Sender<CoreCommand>,
    speech: crate::speech::Speech,
    /// Milliseconds of media since the call was established.
    media_ms: u64,
    packet: Vec<u8>,
    payload: Vec<u8>,
    silence: Vec<i16>,
}

fn random_u32() -> u32 {
    // Unpredictable enough for SSRC and initial sequence/timestamp (RFC 3550 §5.1
    // asks for random, not cryptographic, values).
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let addr = &nanos as *const u32 as usize as u32;
    nanos.wrapping_mul(0x9E37_79B9) ^ addr.rotate_left(16)
}

async fn run(p: MediaParams, inputs: Inputs, mut commands: mpsc::UnboundedReceiver<MediaCommand>) {
    let session = Session::from(&p.negotiated);
    let seed = random_u32();
    let mut m = Media {
        key: p.key.clone(),
        encoder: session.codec.encoder(),
        jitter: JitterBuffer::new(session.codec, session.payload_type, JitterConfig::default()),
        sender: RtpSender::new(seed, (seed >> 16) as u16, seed.rotate_left(7)),
        stats: ReceiveStats::new(8000),
        dtmf: EventReceiver::new(),
        inband: session
            .telephone_event
            .is_none()
            .then(|| InbandDetector::new(InbandConfig::default())),
        silence: vec![0; session.frame_samples],
        session,
        prompt: None,
        prompt_pos: 0,
        prompt_reported: true,
        prompt_sent_at: None,
        next: Next::Wait,
        turn: None,
        listener: None,
        inputs,
        input_ended: None,
        heard: Vec::new(),
        started: false,
        paused: false,
        recording: p.record.as_ref().map(|_| Vec::new()),
        record_target: p.record,
        last_rtp: Instant::now(),
        rtp_timeout: p.rtp_timeout,
        timed_out: false,
        latched: false,
        summary: RtpSummary::default(),
        speech: p.speech,
        media_ms: 0,
        events: p.events,
        core: p.core,
        packet: Vec::with_capacity(256),
        payload: Vec::with_capacity(256),
    };
    let rtp = p.rtp;
    let rtcp_socket = p.rtcp;
    let mut ticker = tokio::time::interval(m.session.ptime);
    // A tick the runtime could not serve in time is sent at once, not skipped: the RTP
    // clock is per frame, and the lateness is what the statistics are for.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut next_rtcp = Instant::now() + RTCP_INTERVAL;
    let mut buf = vec![0u8; 2048];
    let mut rtcp_buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            due = ticker.tick() => {
                let now = Instant::now();
                m.tick(&rtp, due.into_std(), now).await;
                if now >= next_rtcp {
                    next_rtcp = now + RTCP_INTERVAL;
                    m.send_rtcp(&rtcp_socket).await;
                }
            }
            received = rtp.recv_from(&mut buf) => {
                if let Ok((n, from)) = received {
                    m.on_rtp(buf.get(..n).unwrap_or_default(), from, Instant::now());
                }
            }
            received = rtcp_socket.recv_from(&mut rtcp_buf) => {
                if let Ok((n, _)) = received {
                    m.on_rtcp(rtcp_buf.get(..n).unwrap_or_default(), Instant::now());
                }
            }
            command = commands.recv() => match command {
                Some(MediaCommand::Start) => {
                    m.started = true;
                    m.last_rtp = Instant::now();
                    m.sender.start_talkspurt();
                }
                Some(MediaCommand::Play(play)) => m.play(*play),
                Some(MediaCommand::Key(digit)) => m.key(digit),
                Some(MediaCommand::Update(n)) => m.update(&n),
                Some(MediaCommand::Pause) => m.paused = true,
                Some(MediaCommand::Stop(reply)) => {
                    let report = m.finish().await;
                    let _ = reply.send(report);
                    return;
                }
                None => return,
            },
        }
    }
}

impl Media {
    async fn tick(&mut self, socket: &UdpSocket, due: Instant, now: Instant) {
        if !self.started {
            return;
        }
        // Caller side first: one frame out of the jitter buffer.
        let frame = self.jitter.pop(now);
        // Moved out for this frame so the caller's samples can be borrowed while the
        // listener mutates the call; put back below (no copy on the pacing path).
        let silence = std::mem::take(&mut self.silence);
        let samples = frame.samples().unwrap_or(&silence);
        if let Some(rec) = self.recording.as_mut() {
            rec.extend_from_slice(samples);
        }
        self.media_ms += self.session.ptime.as_millis() as u64;
        self.listen(samples, now);
        let mut keys = Vec::new();
        if let Some(det) = self.inband.as_mut() {
            keys.extend(det.push(samples).into_iter().map(|d| d.to_char()));
        }
        self.silence = silence;
        for digit in keys {
            self.events.emit(CallEvent::Dtmf {
                call_id: self.key.0.clone(),
                digit: digit.to_string(),
                source: DtmfSource::InBand,
            });
            self.key(digit);
        }
        self.turn_timeouts(now);
        if self.session.expect_rtp
            && !self.timed_out
            && now.duration_since(self.last_rtp) > self.rtp_timeout
        {
            self.timed_out = true;
            let _ = self
                .core
                .try_send(CoreCommand::RtpTimeout(self.key.clone()));
        }
        // Our side: the next prompt frame, or silence.
        let n = self.session.frame_samples;
        let prompt_len = self.prompt.as_ref().map_or(0, |p| p.len());
        let chunk = (self.prompt_pos < prompt_len).then(|| {
            let start = self.prompt_pos;
            self.prompt_pos = (start + n).min(prompt_len);
            start..self.prompt_pos
        });
        if self.prompt_pos >= prompt_len && !self.prompt_reported {
            let sent_at = *self.prompt_sent_at.get_or_insert(now);
            if now.duration_since(sent_at) >= PROMPT_DRAIN {
                self.prompt_reported = true;
                self.prompt_done(prompt_len);
            }
        }
        if chunk.as_ref().is_some_and(|r| r.start == 0)
            && let Some(ended) = self.input_ended.take()
        {
            self.events.emit(CallEvent::ReplyStarted {
                call_id: self.key.0.clone(),
                after_input_ms: now.saturating_duration_since(ended).as_millis() as u64,
            });
        }
        if !self.session.send || self.paused {
            return;
        }
        let frame_pcm: &[i16] = match (&self.prompt, chunk) {
            (Some(p), Some(range)) => p.get(range).unwrap_or_default(),
            _ => &self.silence,
        };
        self.payload.clear();
        if frame_pcm.len() == n {
            self.encoder.encode(frame_pcm, &mut self.payload);
        } else {
            // The last, short frame of a prompt is padded with silence.
            let mut padded = frame_pcm.to_vec();
            padded.resize(n, 0);
            self.encoder.encode(&padded, &mut self.payload);
        }
        self.packet.clear();
        let increment = u32::try_from(n).unwrap_or(160);
        if self
            .sender
            .send_frame(
                self.session.payload_type,
                &self.payload,
                increment,
                &mut self.packet,
            )
            .is_err()
        {
            return;
        }
        if socket
            .send_to(&self.packet, self.session.remote)
            .await
            .is_ok()
        {
            self.summary.packets_sent += 1;
            let delay = now.saturating_duration_since(due);
            if delay > LATE_SEND {
                self.summary.late_sends += 1;
            }
            let ms = delay.as_secs_f64() * 1000.0;
            if ms > self.summary.max_send_delay_ms {
                self.summary.max_send_delay_ms = ms;
            }
        }
    }

    /// Starts the conversation's reply: its audio from the next frame on, and the turn
    /// that follows it opened at once (so the caller can interrupt).
    fn play(&mut self, play: Play) {
        self.prompt_pos = 0;
        self.prompt_sent_at = None;
        self.prompt_reported = false;
        self.prompt = play.audio;
        if self.prompt.is_none() {
            self.input_ended = None;
        }
        self.turn = None;
        if let Next::Listen(listen) = &play.next {
            if self.listener.is_none() {
                match Listener::new() {
                    Ok(l) => self.listener = Some(l),
                    Err(e) => tracing::warn!("call {}: cannot listen: {e}", self.key.0),
                }
            }
            if let Some(l) = self.listener.as_mut() {
                l.set_end_silence(listen.end_silence);
                l.discard();
            }
            self.turn = Some(Turn::new(listen.clone()));
        }
        self.next = play.next;
    }

    /// The prompt has been played (and had time to drain): the turn's no-input clock
    /// starts, or the call ends or is transferred.
    fn prompt_done(&mut self, prompt_len: usize) {
        let after = match &self.next {
            Next::Listen(_) => {
                if let Some(t) = self.turn.as_mut() {
                    t.prompt_done(self.media_ms);
                }
                AfterPlay::Nothing
            }
            Next::Wait => AfterPlay::Nothing,
            Next::Hangup => AfterPlay::Hangup,
            Next::Transfer(target) => AfterPlay::Transfer(target.clone()),
        };
        let ms = (prompt_len as u64) * 1000 / 8000;
        if prompt_len > 0 || after != AfterPlay::Nothing {
            let _ = self.core.try_send(CoreCommand::PromptFinished {
                key: self.key.clone(),
                duration_ms: (prompt_len > 0).then_some(ms),
                after,
            });
        }
    }

    fn playing(&self) -> bool {
        self.prompt
            .as_ref()
            .is_some_and(|p| self.prompt_pos < p.len())
    }

    /// The caller interrupts: the prompt stops now, and no after-prompt action follows
    /// (the open turn goes on).
    fn barge_in(&mut self) {
        self.prompt_pos = usize::MAX;
        self.prompt_reported = true;
        self.events.emit(CallEvent::BargeIn {
            call_id: self.key.0.clone(),
            at_ms: self.media_ms,
        });
    }

    /// Hands the caller's input to the conversation; the turn is over.
    fn give(&mut self, input: TurnInput, ended: Instant) {
        self.turn = None;
        if let Some(l) = self.listener.as_mut() {
            l.discard();
        }
        self.input_ended = Some(ended);
        match &input {
            TurnInput::Dtmf { digits } => self.events.emit(CallEvent::DtmfInput {
                call_id: self.key.0.clone(),
                digits: digits.clone(),
            }),
            TurnInput::NoInput => self.events.emit(CallEvent::NoInput {
                call_id: self.key.0.clone(),
            }),
            _ => {}
        }
        let _ = self.inputs.send(input);
    }

    /// Voice activity on the caller's frame: onset (and barge-in), the utterance, and
    /// its recognition when it ends.
    fn listen(&mut self, frame: &[i16], now: Instant) {
        let Some(l) = self.listener.as_mut() else {
            return;
        };
        let mut heard = std::mem::take(&mut self.heard);
        l.push(frame, self.turn.is_some(), &mut heard);
        for h in heard.drain(..) {
            match h {
                Heard::Start { at_ms } => {
                    self.events.emit(CallEvent::SpeechStart {
                        call_id: self.key.0.clone(),
                        at_ms,
                    });
                    let Some(turn) = self.turn.as_mut() else {
                        continue;
                    };
                    turn.spoke = true;
                    if turn.listen.barge_in && self.playing() {
                        self.barge_in();
                    }
                }
                Heard::End {
                    utterance,
                    at_ms,
                    duration_ms,
                    silence_ms,
                } => {
                    self.events.emit(CallEvent::SpeechEnd {
                        call_id: self.key.0.clone(),
                        at_ms,
                        duration_ms,
                    });
                    let (Some(utterance), Some(turn)) = (utterance, self.turn.as_ref()) else {
                        continue;
                    };
                    let ended = now
                        .checked_sub(Duration::from_millis(silence_ms))
                        .unwrap_or(now);
                    let grammar = turn.listen.grammar.clone();
                    self.turn = None;
                    self.input_ended = Some(ended);
                    self.recognize(grammar, utterance);
                }
            }
        }
        self.heard = heard;
    }

    /// Recognizes an utterance on the blocking pool; the result goes to the
    /// conversation as this turn's input.
    fn recognize(&self, grammar: Option<Arc<Grammar>>, utterance: Vec<i16>) {
        let (speech, inputs) = (self.speech.clone(), self.inputs.clone());
        let (events, call_id) = (self.events.clone(), self.key.0.clone());
        let utterance_ms = utterance.len() as u64 / 8;
        tokio::spawn(async move {
            let input = match grammar {
                None => TurnInput::NoMatch,
                Some(grammar) => match speech.recognize(grammar, utterance).await {
                    Ok(r) => match r.hypothesis {
                        Some(h) => {
                            events.emit(CallEvent::Transcript {
                                call_id: call_id.clone(),
                                text: h.text.clone(),
                                confidence: h.confidence,
                                duration_ms: utterance_ms,
                                recognition_ms: r.took.as_millis() as u64,
                            });
                            TurnInput::Speech {
                                text: h.text,
                                confidence: h.confidence,
                            }
                        }
                        None => TurnInput::NoMatch,
                    },
                    Err(e) => {
                        tracing::warn!("call {call_id}: recognition failed: {e}");
                        TurnInput::NoMatch
                    }
                },
            };
            if input == TurnInput::NoMatch {
                events.emit(CallEvent::NoMatch { call_id });
            }
            let _ = inputs.send(input);
        });
    }

    /// A key from RTP events, in-band tones or SIP INFO (already reported as an event).
    fn key(&mut self, digit: char) {
        let playing = self.playing();
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        let barge = turn.listen.barge_in && playing;
        let outcome = turn.key(digit, self.media_ms);
        if barge {
            self.barge_in();
        }
        if let KeyOutcome::Done(digits) = outcome {
            self.give(TurnInput::Dtmf { digits }, Instant::now());
        }
    }

    /// Ends the open turn when its digits' pause or its no-input time has run out.
    fn turn_timeouts(&mut self, now: Instant) {
        let in_speech = self.listener.as_ref().is_some_and(Listener::in_speech);
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if let Some(digits) = turn.digits_due(self.media_ms) {
            self.give(TurnInput::Dtmf { digits }, now);
        } else if turn.no_input_due(self.media_ms, in_speech) {
            self.give(TurnInput::NoInput, now);
        }
    }

    fn on_rtp(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) {
        if !matches!(classify(datagram), PacketKind::Rtp) {
            // RTCP multiplexed on the RTP port (RFC 5761).
            self.on_rtcp(datagram, now);
            return;
        }
        let Ok(packet) = RtpPacket::parse(datagram) else {
            return;
        };
        self.last_rtp = now;
        // Symmetric RTP: answer where the caller's media really comes from (NAT).
        if !self.latched {
            self.latched = true;
            if from != self.session.remote {
                self.session.remote = from;
            }
        }
        let pt = packet.payload_type();
        if Some(pt) == self.session.telephone_event {
            self.stats
                .record(packet.sequence(), packet.timestamp(), now, false);
            if let Ok(Some(d)) = self.dtmf.push(packet.timestamp(), packet.payload()) {
                self.events.emit(CallEvent::Dtmf {
                    call_id: self.key.0.clone(),
                    digit: d.digit.to_string(),
                    source: DtmfSource::Rfc4733,
                });
                self.key(d.digit.to_char());
            }
        } else if pt == self.session.payload_type {
            self.stats
                .record(packet.sequence(), packet.timestamp(), now, true);
            self.jitter.push(&packet, now);
        }
    }

    fn on_rtcp(&mut self, datagram: &[u8], now: Instant) {
        let Ok(packets) = rtcp::parse_compound(datagram) else {
            return;
        };
        for p in packets {
            if let RtcpPacket::SenderReport(sr) = p {
                self.stats.record_sender_report(&sr, now);
            }
        }
    }

    async fn send_rtcp(&mut self, socket: &UdpSocket) {
        if !self.started || !self.session.send {
            return;
        }
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut blocks = Vec::new();
        if self.stats.received() > 0 {
            blocks.push(self.stats.report_block(0, Instant::now()));
        }
        let sr = self
            .sender
            .sender_report(NtpTime::from_unix(since_epoch), blocks);
        let sdes = SourceDescription::cname(self.sender.ssrc(), "voxgate");
        let mut out = Vec::with_capacity(128);
        if rtcp::write_compound(
            &[
                RtcpPacket::SenderReport(sr),
                RtcpPacket::SourceDescription(sdes),
            ],
            &mut out,
        )
        .is_ok()
        {
            let _ = socket.send_to(&out, self.session.remote_rtcp).await;
        }
    }

    fn update(&mut self, n: &Negotiated) {
        let next = Session::from(n);
        if next.codec != self.session.codec || next.payload_type != self.session.payload_type {
            self.encoder = next.codec.encoder();
            self.jitter = JitterBuffer::new(next.codec, next.payload_type, JitterConfig::default());
            self.silence = vec![0; next.frame_samples];
        }
        // A new address from a re-INVITE wins over what we latched.
        self.latched = false;
        self.last_rtp = Instant::now();
        self.timed_out = false;
        self.session = next;
    }

    async fn finish(mut self) -> MediaReport {
        let s = self.stats.summary();
        self.summary.packets_received = s.received;
        self.summary.packets_expected = s.expected;
        self.summary.packets_lost = i64::try_from(s.lost).unwrap_or(i64::MAX);
        self.summary.duplicate_packets = s.duplicates;
        self.summary.late_packets = self.jitter.stats().late;
        self.summary.jitter_ms = s.jitter_ms;
        let recording = match (self.recording.take(), self.record_target.take()) {
            (Some(pcm), Some(target)) if !pcm.is_empty() => {
                let result = tokio::task::spawn_blocking(move || match target {
                    RecordTarget::Wav(path) => {
                        crate::media::audio_file::write_wav(&path, 8000, &pcm)
                            .map(|()| path)
                            .map_err(|e| e.to_string())
                    }
                    RecordTarget::Encrypted { path, key, aad } => {
                        crate::media::recording::write_sealed(&path, &key, &aad, 8000, &pcm)
                            .map(|()| path)
                            .map_err(|e| e.to_string())
                    }
                })
                .await;
                match result {
                    Ok(Ok(written)) => Some(written),
                    Ok(Err(e)) => {
                        tracing::warn!("call {}: {e}", self.key.0);
                        None
                    }
                    Err(e) => {
                        tracing::warn!("call {}: recording task failed: {e}", self.key.0);
                        None
                    }
                }
            }
            _ => None,
        };
        MediaReport {
            rtp: self.summary,
            recording,
        }
    }
}
