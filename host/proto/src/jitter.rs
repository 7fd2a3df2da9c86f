//! An adaptive jitter buffer with packet loss concealment, for one received RTP
//! stream.
//!
//! The network delivers packets late, early, twice, out of order or not at all; the
//! speech recogniser and the call recording want a steady 20 ms of PCM on every tick
//! of the call's pacing timer. This buffer sits between the two:
//!
//! * the socket task calls [`JitterBuffer::push`] with each RTP packet and its
//!   arrival `Instant`;
//! * the pacing timer calls [`JitterBuffer::pop`] every frame period and always gets
//!   a [`Frame`]: decoded audio, a concealment frame, or silence.
//!
//! **Decoding happens inside**, in `pop`, in timestamp order. That keeps stateful
//! codecs (G.722 is ADPCM) fed in sequence, lets concealment work on PCM, and lets a
//! frame be cut from packets of any ptime (10, 20, 30 ms …) since playout follows the
//! RTP timestamp, not the packet count. Only packets of the negotiated audio payload
//! type are accepted; RFC 4733 events go to [`crate::dtmf::EventReceiver`].
//!
//! **Playout follows the timestamp.** The buffer keeps a playout cursor in extended
//! RTP timestamp units that advances one frame per `pop`. A packet that arrives after
//! the cursor has passed it is *late* and dropped; a gap in front of later packets is
//! a *loss* and is concealed.
//!
//! **The delay adapts.** For every packet the buffer records its relative transit
//! time (arrival clock minus RTP timestamp). Over the last ~2 s, the spread between
//! the fastest and slowest packet is the jitter the buffer must absorb; the target
//! delay is that spread plus one frame (the pacing timer's phase), clamped to
//! [`JitterConfig::min_delay`]..=[`JitterConfig::max_delay`]. When the next frame is
//! missing while the actual delay is below target, the buffer holds the cursor for a
//! frame (a concealment frame is played and the delay grows by one frame) instead of
//! declaring the packet lost; when the actual delay exceeds the target by a frame, it
//! drops one frame (at most every 100 ms) to bring latency back down. Delay therefore
//! only changes when jitter changes, not with the phase of the pacing timer.
//!
//! **Concealment** repeats the last 20 ms of real audio with a gain that falls
//! linearly to zero over [`JitterConfig::conceal_frames`] frames, then gives
//! [`Frame::Silence`] (comfort silence). Simple, but it bridges single losses
//! inaudibly enough for speech recognition and never produces clicks, since the gain
//! is continuous from sample to sample.
//!
//! Timestamp wrap-around is handled by extending timestamps to 64 bits; an SSRC
//! change or a confirmed timestamp discontinuity resets the buffer.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::codec::{Codec, Decoder};
use crate::rtp::RtpPacket;

/// Tuning of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Smallest target delay.
    pub min_delay: Duration,
    /// Largest target delay; also the horizon beyond which a timestamp jump is
    /// treated as a discontinuity.
    pub max_delay: Duration,
    /// Target delay before enough packets have been seen to measure jitter.
    pub initial_delay: Duration,
    /// Duration of one output frame (the pacing period).
    pub frame: Duration,
    /// Frames of fading repetition before concealment turns into silence.
    pub conceal_frames: u32,
    /// Most packets held; beyond it the oldest is dropped.
    pub capacity: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            initial_delay: Duration::from_millis(40),
            frame: Duration::from_millis(20),
            conceal_frames: 5,
            capacity: 128,
        }
    }
}

/// One frame of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Decoded audio only.
    Audio(Vec<i16>),
    /// Audio that is wholly or partly concealment.
    Concealed(Vec<i16>),
    /// Nothing to play: before the first packet, or after concealment has faded out.
    Silence,
}

impl Frame {
    /// The samples, `None` for silence.
    pub fn samples(&self) -> Option<&[i16]> {
        match self {
            Frame::Audio(s) | Frame::Concealed(s) => Some(s),
            Frame::Silence => None,
        }
    }
}

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued for playout.
    Buffered,
    /// Its time has passed: dropped.
    Late,
    /// Already queued or played: dropped.
    Duplicate,
    /// Not the negotiated audio payload type: ignored.
    WrongPayloadType,
    /// An isolated timestamp jump: dropped until confirmed by further packets.
    Discarded,
    /// A new SSRC or a confirmed discontinuity: the buffer was reset and the packet
    /// queued.
    Reset,
}

/// Counters for the call record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStats {
    /// Packets queued.
    pub buffered: u64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Duplicated packets.
    pub duplicates: u64,
    /// Packets dropped because the buffer was full.
    pub overflow: u64,
    /// Packets dropped as isolated timestamp jumps.
    pub discarded: u64,
    /// Frames played from received audio only.
    pub audio_frames: u64,
    /// Frames that contained concealment.
    pub concealed_frames: u64,
    /// Silence frames.
    pub silence_frames: u64,
    /// Frames dropped to reduce latency.
    pub compressed_frames: u64,
    /// Frames inserted (cursor held) to raise latency.
    pub stretched_frames: u64,
    /// Resets (SSRC change, discontinuity).
    pub resets: u64,
}

#[derive(Debug, Clone)]
struct Queued {
    payload: Vec<u8>,
    arrival: Instant,
}

/// Relative transits kept for the jitter estimate (about 2 s at 20 ms).
const WINDOW: usize = 100;
/// Packets needed before the measured jitter replaces the initial delay.
const MIN_SAMPLES: usize = 10;
/// Consecutive out-of-range packets that confirm a discontinuity.
const JUMP_CONFIRM: u32 = 3;
/// Played timestamps remembered to tell duplicates from late packets.
const PLAYED_MEMORY: usize = 64;
/// Frames between two latency-reducing drops.
const COMPRESS_SPACING: u32 = 5;

/// Adaptive jitter buffer for one RTP stream; see the module documentation.
#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    codec: Codec,
    payload_type: u8,
    decoder: Decoder,
    /// RTP clock ticks per output frame.
    frame_ts: i64,
    /// PCM samples per RTP tick (2 for G.722).
    samples_per_tick: usize,
    ssrc: Option<u32>,
    /// Extended-timestamp reference for unwrapping.
    ts_ref: Option<i64>,
    queue: BTreeMap<i64, Queued>,
    playing: bool,
    /// Extended timestamp of the next sample to play.
    cursor: i64,
    /// Decoded samples starting at `cursor` not yet played.
    pending_pcm: VecDeque<i16>,
    epoch: Option<Instant>,
    transits: VecDeque<i64>,
    jump_run: u32,
    since_compress: u32,
    played: VecDeque<i64>,
    /// The last frame's worth of real audio (a ring), for concealment.
    history: Vec<i16>,
    /// Next write position in `history`, which is also its oldest sample.
    history_pos: usize,
    /// Concealed samples since the last real sample.
    conceal_run: usize,
    conceal_pos: usize,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer for audio of `codec` carried with `payload_type`.
    pub fn new(codec: Codec, payload_type: u8, config: JitterConfig) -> Self {
        let rate = i64::from(codec.clock_rate());
        let frame_ms = i64::try_from(config.frame.as_millis())
            .unwrap_or(20)
            .clamp(5, 100);
        let samples_per_tick = (codec.sample_rate() / codec.clock_rate()).max(1) as usize;
        let frame_ts = rate * frame_ms / 1000;
        JitterBuffer {
            config,
            codec,
            payload_type,
            decoder: codec.decoder(),
            frame_ts,
            samples_per_tick,
            ssrc: None,
            ts_ref: None,
            queue: BTreeMap::new(),
            playing: false,
            cursor: 0,
            pending_pcm: VecDeque::new(),
            epoch: None,
            transits: VecDeque::with_capacity(WINDOW),
            jump_run: 0,
            since_compress: 0,
            played: VecDeque::with_capacity(PLAYED_MEMORY),
            history: vec![0; frame_ts as usize * samples_per_tick],
            history_pos: 0,
            conceal_run: 0,
            conceal_pos: 0,
            stats: JitterStats::default(),
        }
    }

    /// The codec decoded.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Samples in each frame returned by [`JitterBuffer::pop`].
    pub fn frame_samples(&self) -> usize {
        self.frame_ts as usize * self.samples_per_tick
    }

    /// Counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn ticks_to_duration(&self, ticks: i64) -> Duration {
        let rate = i64::from(self.codec.clock_rate());
        Duration::from_micros(u64::try_from(ticks.max(0) * 1_000_000 / rate).unwrap_or(0))
    }

    fn duration_to_ticks(&self, d: Duration) -> i64 {
        i64::try_from(d.as_micros() * u128::from(self.codec.clock_rate()) / 1_000_000)
            .unwrap_or(i64::MAX / 4)
    }

    /// The delay the buffer currently aims for.
    pub fn target_delay(&self) -> Duration {
        self.ticks_to_duration(self.target_ticks())
    }

    fn target_ticks(&self) -> i64 {
        let min = self.duration_to_ticks(self.config.min_delay);
        let max = self.duration_to_ticks(self.config.max_delay).max(min);
        if self.transits.len() < MIN_SAMPLES {
            return self
                .duration_to_ticks(self.config.initial_delay)
                .clamp(min, max);
        }
        let lo = self.transits.iter().min().copied().unwrap_or(0);
        let hi = self.transits.iter().max().copied().unwrap_or(0);
        (hi - lo + self.frame_ts).clamp(min, max)
    }

    /// Audio queued ahead of the playout cursor.
    pub fn buffered(&self) -> Duration {
        let end = self
            .queue
            .iter()
            .next_back()
            .map(|(ts, q)| ts + self.ticks_of(&q.payload));
        match end {
            Some(end) if self.playing => self.ticks_to_duration(end - self.cursor),
            Some(end) => {
                self.ticks_to_duration(end - self.queue.keys().next().copied().unwrap_or(end))
            }
            None => Duration::ZERO,
        }
    }

    fn ticks_of(&self, payload: &[u8]) -> i64 {
        i64::from(self.codec.payload_duration(payload.len()))
    }

    /// Forgets everything queued and starts over (counted as a reset).
    pub fn reset(&mut self) {
        self.stats.resets += 1;
        self.clear();
    }

    fn clear(&mut self) {
        self.queue.clear();
        self.playing = false;
        self.pending_pcm.clear();
        self.ts_ref = None;
        self.epoch = None;
        self.transits.clear();
        self.jump_run = 0;
        self.played.clear();
        self.decoder = self.codec.decoder();
    }

    fn extend(&mut self, ts: u32) -> i64 {
        let reference = self.ts_ref.unwrap_or(i64::from(ts) + (1i64 << 40));
        let delta = i64::from(ts.wrapping_sub(reference as u32) as i32);
        reference + delta
    }

    /// Queues a parsed RTP packet that arrived at `now`.
    pub fn push(&mut self, packet: &RtpPacket<'_>, now: Instant) -> PushOutcome {
        if packet.payload_type() != self.payload_type {
            return PushOutcome::WrongPayloadType;
        }
        self.push_parts(packet.ssrc(), packet.timestamp(), packet.payload(), now)
    }

    /// Queues an audio payload given by its fields.
    pub fn push_parts(
        &mut self,
        ssrc: u32,
        timestamp: u32,
        payload: &[u8],
        now: Instant,
    ) -> PushOutcome {
        let mut outcome = PushOutcome::Buffered;
        if self.ssrc.is_some_and(|s| s != ssrc) {
            self.reset();
            outcome = PushOutcome::Reset;
        }
        self.ssrc = Some(ssrc);
        let ts = self.extend(timestamp);
        let end = ts + self.ticks_of(payload);
        let horizon = self.duration_to_ticks(self.config.max_delay)
            + self.duration_to_ticks(Duration::from_secs(1));

        if self.playing {
            let jumped_back = end <= self.cursor - horizon;
            let jumped_ahead = ts > self.cursor + horizon;
            if jumped_ahead && self.queue.is_empty() && self.pending_pcm.is_empty() {
                // The stream resumes at a new timeline (e.g. after a pause in which
                // the pacing timer did not run): play it from its first packet.
                self.playing = false;
                self.transits.clear();
                self.epoch = None;
            } else if jumped_back || jumped_ahead {
                self.jump_run += 1;
                if self.jump_run < JUMP_CONFIRM {
                    self.stats.discarded += 1;
                    return PushOutcome::Discarded;
                }
                self.reset();
                self.ssrc = Some(ssrc);
                outcome = PushOutcome::Reset;
                return self.enqueue(timestamp, payload, now, outcome);
            } else {
                self.jump_run = 0;
                if end <= self.cursor {
                    if self.played.contains(&ts) {
                        self.stats.duplicates += 1;
                        return PushOutcome::Duplicate;
                    }
                    self.stats.late += 1;
                    return PushOutcome::Late;
                }
            }
        }
        self.enqueue(timestamp, payload, now, outcome)
    }

    fn enqueue(
        &mut self,
        timestamp: u32,
        payload: &[u8],
        now: Instant,
        outcome: PushOutcome,
    ) -> PushOutcome {
        let ts = self.extend(timestamp);
        if self.queue.contains_key(&ts) || self.played.contains(&ts) {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        if self.queue.len() >= self.config.capacity.max(1) {
            self.queue.pop_first();
            self.stats.overflow += 1;
        }
        self.ts_ref = Some(self.ts_ref.map_or(ts, |r| r.max(ts)));
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = self.duration_to_ticks(now.saturating_duration_since(epoch));
        if self.transits.len() == WINDOW {
            self.transits.pop_front();
        }
        self.transits.push_back(arrival - ts);
        self.queue.insert(
            ts,
            Queued {
                payload: payload.to_vec(),
                arrival: now,
            },
        );
        self.stats.buffered += 1;
        outcome
    }

    /// How late, beyond the fastest packet seen, the cursor plays at `now`.
    fn current_delay(&self, now: Instant) -> i64 {
        let Some(epoch) = self.epoch else { return 0 };
        let now_ticks = self.duration_to_ticks(now.saturating_duration_since(epoch));
        let fastest = self.transits.iter().min().copied().unwrap_or(0);
        now_ticks - self.cursor - fastest
    }

    /// The next frame for the pacing tick at `now`.
    pub fn pop(&mut self, now: Instant) -> Frame {
        if !self.playing {
            let Some((&first_ts, first)) = self.queue.iter().next() else {
                return self.silence();
            };
            let waited = now.saturating_duration_since(first.arrival);
            if self.duration_to_ticks(waited) < self.target_ticks() {
                return self.silence();
            }
            self.playing = true;
            self.cursor = first_ts;
            self.pending_pcm.clear();
            self.since_compress = 0;
        }
        self.since_compress = self.since_compress.saturating_add(1);

        let target = self.target_ticks();
        let delay = self.current_delay(now);
        if delay >= target + self.frame_ts
            && self.since_compress >= COMPRESS_SPACING
            && self.available_ahead() >= 2 * self.frame_ts
        {
            // Too much latency: decode one frame's worth and throw it away.
            let mut scratch = Vec::new();
            self.fill(&mut scratch, &mut Vec::new());
            self.cursor += self.frame_ts;
            self.since_compress = 0;
            self.stats.compressed_frames += 1;
        }

        let wanted_start = self.cursor;
        let head_present = self
            .queue
            .range(..wanted_start + self.frame_ts)
            .next_back()
            .is_some_and(|(ts, q)| ts + self.ticks_of(&q.payload) > wanted_start)
            || !self.pending_pcm.is_empty();
        if !head_present && delay < target {
            // The frame has not arrived and we play earlier than the measured jitter
            // requires: it is probably late rather than lost, so hold the cursor,
            // i.e. add a frame of delay, instead of skipping it.
            self.stats.stretched_frames += 1;
            return self.conceal_only();
        }

        let mut out = Vec::with_capacity(self.frame_samples());
        let mut concealed = Vec::new();
        self.fill(&mut out, &mut concealed);
        self.cursor += self.frame_ts;

        let real = out.len() - concealed.len();
        if concealed.is_empty() {
            self.stats.audio_frames += 1;
            Frame::Audio(out)
        } else if real == 0 && self.conceal_exhausted_before(&concealed) {
            self.stats.silence_frames += 1;
            Frame::Silence
        } else {
            self.stats.concealed_frames += 1;
            Frame::Concealed(out)
        }
    }

    /// Whether concealment had already faded to nothing when this frame began.
    fn conceal_exhausted_before(&self, concealed: &[usize]) -> bool {
        let fade = self.fade_len();
        concealed.len() >= self.frame_samples() && self.conceal_run >= fade + concealed.len()
    }

    fn fade_len(&self) -> usize {
        self.frame_samples() * self.config.conceal_frames as usize
    }

    fn silence(&mut self) -> Frame {
        self.stats.silence_frames += 1;
        Frame::Silence
    }

    /// A whole concealment frame without moving the cursor.
    fn conceal_only(&mut self) -> Frame {
        let n = self.frame_samples();
        let already_faded = self.conceal_run >= self.fade_len();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let s = self.conceal_sample();
            out.push(s);
        }
        if already_faded {
            self.stats.silence_frames += 1;
            Frame::Silence
        } else {
            self.stats.concealed_frames += 1;
            Frame::Concealed(out)
        }
    }

    /// Ticks of audio queued at or after the cursor.
    fn available_ahead(&self) -> i64 {
        let pending = (self.pending_pcm.len() / self.samples_per_tick) as i64;
        let queued: i64 = self
            .queue
            .iter()
            .filter(|(ts, q)| **ts + self.ticks_of(&q.payload) > self.cursor)
            .map(|(_, q)| self.ticks_of(&q.payload))
            .sum();
        pending + queued
    }

    /// Appends one frame at the cursor to `out`: decoded audio where packets exist,
    /// concealment elsewhere (their indices go to `concealed`).
    fn fill(&mut self, out: &mut Vec<i16>, concealed: &mut Vec<usize>) {
        let want = self.frame_samples();
        let spt = self.samples_per_tick;
        let start = out.len();
        while out.len() - start < want {
            if let Some(s) = self.pending_pcm.pop_front() {
                out.push(s);
                self.remember_real(s);
                continue;
            }
            let pos = self.cursor + ((out.len() - start) / spt) as i64;
            // Drop packets that end before the position (overtaken by concealment).
            while let Some((&ts, q)) = self.queue.iter().next() {
                if ts + self.ticks_of(&q.payload) <= pos {
                    self.queue.pop_first();
                    self.stats.late += 1;
                } else {
                    break;
                }
            }
            match self.queue.iter().next().map(|(&ts, _)| ts) {
                Some(ts) if ts <= pos => {
                    if let Some(q) = self.queue.remove(&ts) {
                        let mut pcm = Vec::new();
                        self.decoder.decode(&q.payload, &mut pcm);
                        let skip = usize::try_from(pos - ts).unwrap_or(0) * spt;
                        self.pending_pcm.extend(pcm.into_iter().skip(skip));
                        if self.played.len() == PLAYED_MEMORY {
                            self.played.pop_front();
                        }
                        self.played.push_back(ts);
                        if self.pending_pcm.is_empty() {
                            // An empty payload would otherwise stall the loop.
                            self.push_concealed(out, concealed, spt);
                        }
                    }
                }
                Some(ts) => {
                    let gap = usize::try_from(ts - pos).unwrap_or(0) * spt;
                    let room = want - (out.len() - start);
                    for _ in 0..gap.min(room).max(1) {
                        let s = self.conceal_sample();
                        concealed.push(out.len());
                        out.push(s);
                    }
                }
                None => {
                    let room = want - (out.len() - start);
                    self.push_concealed(out, concealed, room);
                }
            }
        }
        out.truncate(start + want);
    }

    fn push_concealed(&mut self, out: &mut Vec<i16>, concealed: &mut Vec<usize>, n: usize) {
        for _ in 0..n {
            let s = self.conceal_sample();
            concealed.push(out.len());
            out.push(s);
        }
    }

    fn remember_real(&mut self, s: i16) {
        self.conceal_run = 0;
        self.conceal_pos = 0;
        let n = self.history.len();
        if let Some(slot) = self.history.get_mut(self.history_pos) {
            *slot = s;
        }
        self.history_pos = if n == 0 {
            0
        } else {
            (self.history_pos + 1) % n
        };
    }

    /// The next concealment sample: the last frame of real audio repeated, with a
    /// gain falling linearly to zero over the fade length.
    fn conceal_sample(&mut self) -> i16 {
        let fade = self.fade_len();
        let n = self.history.len();
        let s = if self.conceal_run >= fade || n == 0 {
            0
        } else {
            let at = (self.history_pos + self.conceal_pos) % n;
            let base = self.history.get(at).copied().unwrap_or(0);
            let gain = 1.0 - self.conceal_run as f32 / fade as f32;
            (f32::from(base) * gain) as i16
        };
        self.conceal_pos = self.conceal_pos.wrapping_add(1);
        self.conceal_run = self.conceal_run.saturating_add(1);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A µ-law payload whose first two samples encode the packet index (µ-law
    /// codes 0..=0x7E decode to distinct values) and whose rest repeats the second.
    fn payload(i: u32) -> Vec<u8> {
        let hi = (i / 100) as u8;
        let lo = (i % 100) as u8;
        let mut p = vec![lo; 160];
        p[0] = hi;
        p
    }

    fn index_of(frame: &Frame) -> Option<u32> {
        use crate::codec::g711::ULAW_TABLE;
        let Frame::Audio(s) = frame else { return None };
        let code = |v: i16| (0u8..100).find(|&c| ULAW_TABLE[usize::from(c)] == v);
        let hi = code(*s.first()?)?;
        let lo = code(*s.get(1)?)?;
        s[1..]
            .iter()
            .all(|&x| x == s[1])
            .then_some(u32::from(hi) * 100 + u32::from(lo))
    }

    fn jb() -> JitterBuffer {
        JitterBuffer::new(Codec::Pcmu, 0, JitterConfig::default())
    }

    /// Runs a buffer against packets `(index, arrival ms)`, popping every 20 ms at
    /// `phase` ms, for `ticks` ticks.
    fn simulate(
        b: &mut JitterBuffer,
        arrivals: &[(u32, u32)],
        ticks: u32,
        phase: u32,
    ) -> Vec<Frame> {
        simulate_from(b, arrivals, ticks, phase, 0)
    }

    #[test]
    fn steady_stream_plays_every_frame_in_order() {
        let mut b = JitterBuffer::new(
            Codec::Pcmu,
            0,
            JitterConfig {
                initial_delay: Duration::from_millis(20),
                ..Default::default()
            },
        );
        let arrivals: Vec<_> = (0..100).map(|i| (i, i * 20 + 3)).collect();
        let frames = simulate(&mut b, &arrivals, 101, 5);
        assert_eq!(frames[0], Frame::Silence);
        let played: Vec<_> = frames.iter().skip(1).map(index_of).collect();
        assert_eq!(played, (0..100).map(Some).collect::<Vec<_>>());
        let s = b.stats();
        assert_eq!(
            s.late + s.duplicates + s.compressed_frames + s.stretched_frames,
            0
        );
        assert_eq!((s.audio_frames, s.concealed_frames), (100, 0));
        assert_eq!(b.target_delay(), Duration::from_millis(20));
    }

    #[test]
    fn the_initial_safety_delay_is_trimmed_once_jitter_is_known() {
        let mut b = jb();
        let arrivals: Vec<_> = (0..100).map(|i| (i, i * 20 + 3)).collect();
        let frames = simulate(&mut b, &arrivals, 100, 5);
        assert_eq!(&frames[..2], &[Frame::Silence, Frame::Silence]);
        assert_eq!(b.stats().compressed_frames, 1);
        // Every frame that was played is in order and only one was skipped.
        let played: Vec<u32> = frames.iter().filter_map(index_of).collect();
        assert!(played.windows(2).all(|w| w[1] > w[0]));
        assert_eq!((played.len(), played.last()), (98, Some(&98)));
        assert_eq!(b.stats().late, 0);
    }

    #[test]
    fn reordering_and_duplicates() {
        let mut b = jb();
        let mut arrivals: Vec<_> = (0..40).map(|i| (i, i * 20 + 5)).collect();
        // 1 and 4 arrive after their successors; 3 arrives twice.
        arrivals[1].1 += 25;
        arrivals[4].1 += 25;
        arrivals.push((3, 3 * 20 + 8));
        let frames = simulate(&mut b, &arrivals, 42, 10);
        let played: Vec<u32> = frames.iter().filter_map(index_of).collect();
        assert_eq!(played, (0..40).collect::<Vec<_>>());
        let s = b.stats();
        assert_eq!((s.duplicates, s.late, s.concealed_frames), (1, 0, 0));
    }

    #[test]
    fn loss_is_concealed_with_fading_then_silence() {
        let mut b = jb();
        let arrivals: Vec<_> = (0..5).chain(20..40).map(|i| (i, i * 20 + 5)).collect();
        // Up to the last packet (one frame is trimmed once the jitter is known).
        let frames = simulate(&mut b, &arrivals, 41, 10);
        // Two ticks of initial buffering, then packets 0-4.
        assert_eq!(&frames[..2], &[Frame::Silence, Frame::Silence]);
        let first: Vec<_> = frames[2..7].iter().map(index_of).collect();
        assert_eq!(first, (0..5).map(Some).collect::<Vec<_>>());
        // Five concealment frames with falling level.
        let levels: Vec<i32> = frames[7..12]
            .iter()
            .map(|f| match f {
                Frame::Concealed(s) => s.iter().map(|&x| i32::from(x).abs()).max().unwrap_or(0),
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(levels[0] > 0);
        assert!(levels.windows(2).all(|w| w[1] < w[0]), "{levels:?}");
        // Comfort silence until the stream comes back with packet 20.
        assert!(frames[12..22].iter().all(|f| *f == Frame::Silence));
        assert_eq!(index_of(&frames[22]), Some(20));
        let rest: Vec<u32> = frames[22..].iter().filter_map(index_of).collect();
        assert!(rest.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(b.stats().concealed_frames, 5, "{:?} {frames:?}", b.stats());
        assert_eq!(b.stats().late, 0);
    }

    #[test]
    fn concealment_is_continuous() {
        let mut b = jb();
        // A 400 Hz tone, then loss: the concealment must not jump at frame edges.
        let t0 = Instant::now();
        let tone: Vec<i16> = (0..160 * 6)
            .map(|n| {
                (8000.0 * (2.0 * std::f64::consts::PI * 400.0 * f64::from(n) / 8000.0).sin()) as i16
            })
            .collect();
        for (i, chunk) in tone.chunks(160).enumerate() {
            let mut bytes = Vec::new();
            crate::codec::g711::encode_ulaw(chunk, &mut bytes);
            b.push_parts(1, i as u32 * 160, &bytes, t0 + MS * (i as u32 * 20));
        }
        let mut out = Vec::new();
        for k in 0..12u32 {
            if let Some(s) = b.pop(t0 + MS * (45 + k * 20)).samples() {
                out.extend_from_slice(s);
            }
        }
        let max_step = out
            .windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap();
        // A 400 Hz tone at 8000 moves at most ~2520 per sample.
        assert!(max_step < 2700, "{max_step}");
    }

    #[test]
    fn late_packets_are_dropped_and_counted() {
        let t0 = Instant::now();
        let mut b = jb();
        for i in [0u32, 1, 2, 4] {
            b.push_parts(1, i * 160, &payload(i), t0 + MS * (i * 20));
        }
        for k in 0..5u32 {
            b.pop(t0 + MS * (40 + k * 20));
        }
        assert_eq!(
            b.push_parts(1, 3 * 160, &payload(3), t0 + MS * 150),
            PushOutcome::Late
        );
        assert_eq!(
            b.push_parts(1, 160, &payload(1), t0 + MS * 150),
            PushOutcome::Duplicate
        );
        assert_eq!((b.stats().late, b.stats().duplicates), (1, 1));
    }

    #[test]
    fn timestamp_wrap_and_ssrc_change() {
        let t0 = Instant::now();
        let mut b = jb();
        let base = u32::MAX - 160 * 3 + 1;
        let mut played = Vec::new();
        for i in 0..8u32 {
            let now = t0 + MS * (i * 20);
            b.push_parts(9, base.wrapping_add(i * 160), &payload(i), now);
            played.extend(index_of(&b.pop(now + MS)));
        }
        assert_eq!(played, (0..6).collect::<Vec<_>>());
        // A new SSRC with an unrelated timestamp restarts playout.
        let now = t0 + MS * 200;
        assert_eq!(b.push_parts(10, 77, &payload(50), now), PushOutcome::Reset);
        assert_eq!(b.stats().resets, 1);
        b.push_parts(10, 77 + 160, &payload(51), now + MS * 20);
        b.push_parts(10, 77 + 320, &payload(52), now + MS * 40);
        let out: Vec<_> = (0..3u32)
            .filter_map(|k| index_of(&b.pop(now + MS * (45 + k * 20))))
            .collect();
        assert_eq!(out, [50, 51, 52]);
    }

    #[test]
    fn isolated_jumps_are_discarded_confirmed_ones_reset() {
        let t0 = Instant::now();
        let mut b = jb();
        for i in 0..4u32 {
            b.push_parts(1, i * 160, &payload(i), t0 + MS * (i * 20));
            b.pop(t0 + MS * (i * 20 + 10));
        }
        b.push_parts(1, 4 * 160, &payload(4), t0 + MS * 80);
        let far = 4_000_000u32;
        assert_eq!(
            b.push_parts(1, far, &payload(9), t0 + MS * 81),
            PushOutcome::Discarded
        );
        assert_eq!(
            b.push_parts(1, 5 * 160, &payload(5), t0 + MS * 100),
            PushOutcome::Buffered
        );
        for k in 0..2u32 {
            assert_eq!(
                b.push_parts(1, far + k * 160, &payload(9), t0 + MS * (120 + k * 20)),
                PushOutcome::Discarded
            );
        }
        assert_eq!(
            b.push_parts(1, far + 320, &payload(9), t0 + MS * 160),
            PushOutcome::Reset
        );
        assert_eq!(b.stats().discarded, 3);
    }

    #[test]
    fn a_pause_without_pacing_resumes_on_the_new_timeline() {
        let t0 = Instant::now();
        let mut b = jb();
        let arrivals: Vec<_> = (0..10).map(|i| (i, i * 20)).collect();
        simulate(&mut b, &arrivals, 14, 5);
        // The pacing timer stops (e.g. on hold) and the peer resumes 30 s later.
        let later = t0 + Duration::from_secs(30);
        let ts = 1000 + 1500 * 160;
        assert_eq!(
            b.push_parts(7, ts, &payload(77), later),
            PushOutcome::Buffered
        );
        b.push_parts(7, ts + 160, &payload(78), later + MS * 20);
        b.push_parts(7, ts + 320, &payload(79), later + MS * 40);
        let out: Vec<_> = (0..3u32)
            .filter_map(|k| index_of(&b.pop(later + MS * (45 + k * 20))))
            .collect();
        assert_eq!(out, [77, 78, 79]);
        assert_eq!(b.stats().resets, 0);
    }

    #[test]
    fn wrong_payload_type_and_30ms_packets() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(
            Codec::Pcmu,
            0,
            JitterConfig {
                initial_delay: Duration::from_millis(20),
                ..Default::default()
            },
        );
        let wire = crate::rtp::RtpBuilder::new(101, 1, 0, 1)
            .payload(&[1, 0, 0, 160])
            .to_vec()
            .unwrap();
        assert_eq!(
            b.push(&RtpPacket::parse(&wire).unwrap(), t0),
            PushOutcome::WrongPayloadType
        );
        // 30 ms packets cut into 20 ms frames, sample-exact.
        use crate::codec::g711::{encode_ulaw, linear_to_ulaw, ulaw_to_linear};
        let mut expected = Vec::new();
        for i in 0..10u32 {
            let samples: Vec<i16> = (0..240)
                .map(|k| ((i * 240 + k) % 1000) as i16 * 8)
                .collect();
            expected.extend(samples.iter().map(|&s| ulaw_to_linear(linear_to_ulaw(s))));
            let mut bytes = Vec::new();
            encode_ulaw(&samples, &mut bytes);
            b.push_parts(2, i * 240, &bytes, t0 + MS * (i * 30));
        }
        let mut out = Vec::new();
        for k in 0..20u32 {
            if let Frame::Audio(s) = b.pop(t0 + MS * (25 + k * 20)) {
                out.extend(s);
            }
        }
        assert_eq!(out.len(), 2400);
        assert_eq!(out, expected);
    }

    #[test]
    fn g722_frames_are_320_samples() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(Codec::G722, 9, JitterConfig::default());
        assert_eq!(b.frame_samples(), 320);
        for i in 0..5u32 {
            b.push_parts(1, i * 160, &[0x55; 160], t0 + MS * (i * 20));
        }
        let f = b.pop(t0 + MS * 100);
        assert_eq!(f.samples().map(<[i16]>::len), Some(320));
    }

    #[test]
    fn jitter_raises_the_target_and_then_nothing_is_late() {
        let mut b = jb();
        let mut rng = 12345u32;
        let arrivals: Vec<_> = (0..1000u32)
            .map(|i| {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                let jitter = if i >= 100 { rng % 60 } else { 0 };
                (i, i * 20 + jitter)
            })
            .collect();
        let frames = simulate(&mut b, &arrivals[..500], 500, 10);
        let late_mid = b.stats().late;
        let target = b.target_delay();
        assert!(target >= Duration::from_millis(60), "{target:?}");
        assert!(target <= Duration::from_millis(90), "{target:?}");
        assert!(b.stats().stretched_frames > 0);
        assert!(
            frames
                .iter()
                .filter(|f| matches!(f, Frame::Audio(_)))
                .count()
                >= 400
        );
        // Continue the same stream: once adapted, packets are no longer late.
        let frames = simulate_from(&mut b, &arrivals[500..], 500, 10, 500);
        assert_eq!(b.stats().late, late_mid, "{:?}", b.stats());
        assert!(
            frames
                .iter()
                .filter(|f| matches!(f, Frame::Audio(_)))
                .count()
                >= 490
        );
    }

    /// Like `simulate`, starting at tick `start` of a clock shared by the thread.
    fn simulate_from(
        b: &mut JitterBuffer,
        arrivals: &[(u32, u32)],
        ticks: u32,
        phase: u32,
        start: u32,
    ) -> Vec<Frame> {
        let t0 = BASE.with(|b| *b);
        let mut sorted = arrivals.to_vec();
        sorted.sort_by_key(|&(_, at)| at);
        let mut next = 0;
        let mut frames = Vec::new();
        for k in start..start + ticks {
            let tick = k * 20 + phase;
            while let Some(&(i, at)) = sorted.get(next) {
                if at > tick {
                    break;
                }
                b.push_parts(7, 1000 + i * 160, &payload(i), t0 + MS * at);
                next += 1;
            }
            frames.push(b.pop(t0 + MS * tick));
        }
        frames
    }

    thread_local! {
        static BASE: Instant = Instant::now();
    }

    #[test]
    fn latency_comes_down_after_a_burst() {
        let mut b = jb();
        // 200 ms of packets arrive at once after a stall, then the stream is steady.
        let arrivals: Vec<_> = (0..300u32)
            .map(|i| (i, if i < 10 { 200 } else { i * 20 + 5 }))
            .collect();
        let frames = simulate(&mut b, &arrivals, 300, 10);
        assert!(b.stats().compressed_frames > 0);
        assert!(
            b.buffered() <= Duration::from_millis(60),
            "{:?}",
            b.buffered()
        );
        let played: Vec<u32> = frames.iter().filter_map(index_of).collect();
        assert!(played.windows(2).all(|w| w[1] > w[0]));
    }
}
