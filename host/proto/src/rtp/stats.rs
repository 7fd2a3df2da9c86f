//! Receive statistics for one RTP source, per RFC 3550 appendices A.1, A.3 and A.8.
//!
//! These are the numbers a call record and an RTCP receiver report need: how many
//! packets were expected and lost (and the fraction lost since the last report),
//! interarrival jitter, and how many packets arrived duplicated or out of order. The
//! algorithms are the RFC's, including source validation by probation (a new source
//! counts only after `MIN_SEQUENTIAL` packets in sequence) and the resynchronisation
//! after a large sequence jump confirmed by two consecutive packets, so the values
//! match what a PBX or carrier reports for the same stream.
//!
//! Time enters only as the `Instant` of arrival given by the caller.

use std::time::Instant;

use super::rtcp::{ReportBlock, SenderReport, duration_to_dlsr};

const RTP_SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const MIN_SEQUENTIAL: u32 = 2;
/// How many sequence numbers behind the highest one duplicates are recognised.
const HISTORY: u32 = 128;

/// What [`ReceiveStats::record`] concluded about one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// In sequence (possibly after a gap): use it.
    Accepted,
    /// Older than the highest sequence number seen and not seen before: use it.
    OutOfOrder,
    /// Already received: drop it.
    Duplicate,
    /// The source is not yet validated (RFC 3550 A.1 probation): drop it.
    Probation,
    /// A large jump in sequence numbers; dropped unless the next packet confirms it.
    Discarded,
    /// The jump was confirmed: the sender restarted and statistics were reset. Use it.
    Restarted,
}

impl SeqOutcome {
    /// Whether the packet should be played.
    pub fn is_usable(self) -> bool {
        matches!(
            self,
            SeqOutcome::Accepted | SeqOutcome::OutOfOrder | SeqOutcome::Restarted
        )
    }
}

/// What a call record keeps about a received stream.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReceiveSummary {
    /// Packets counted as received (RFC 3550: includes duplicates).
    pub received: u64,
    /// Packets expected from the sequence-number range.
    pub expected: u64,
    /// `expected` minus distinct packets received, never negative.
    pub lost: u64,
    /// `lost / expected`, 0 when nothing was expected.
    pub loss_ratio: f64,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Interarrival jitter in milliseconds.
    pub jitter_ms: f64,
    /// Highest jitter seen, in milliseconds.
    pub max_jitter_ms: f64,
    /// Duplicated packets.
    pub duplicates: u64,
    /// Packets that arrived after a higher sequence number.
    pub out_of_order: u64,
    /// Extended highest sequence number.
    pub extended_highest_seq: u32,
}

/// RFC 3550 receive statistics for one SSRC.
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    clock_rate: u32,
    started: bool,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Bit `k` set: extended sequence `max - k` was received.
    history: u128,
    duplicates: u64,
    out_of_order: u64,
    epoch: Option<Instant>,
    transit: Option<u32>,
    /// Jitter scaled by 16 (RFC 3550 A.8 integer form).
    jitter_q4: u32,
    max_jitter_q4: u32,
    last_sr: Option<(u32, Instant)>,
}

impl ReceiveStats {
    /// Statistics for a stream whose RTP clock runs at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        ReceiveStats {
            clock_rate: clock_rate.max(1),
            started: false,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            history: 0,
            duplicates: 0,
            out_of_order: 0,
            epoch: None,
            transit: None,
            jitter_q4: 0,
            max_jitter_q4: 0,
            last_sr: None,
        }
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
        self.history = 1;
        self.transit = None;
    }

    /// Records one packet of this source. `counts_for_jitter` is false for packets
    /// whose timestamp is not their sampling instant (RFC 4733 events repeat the
    /// event's start timestamp), which would otherwise inflate the jitter.
    pub fn record(
        &mut self,
        seq: u16,
        timestamp: u32,
        arrival: Instant,
        counts_for_jitter: bool,
    ) -> SeqOutcome {
        let outcome = self.update_seq(seq);
        if counts_for_jitter && matches!(outcome, SeqOutcome::Accepted | SeqOutcome::Restarted) {
            self.update_jitter(timestamp, arrival);
        }
        outcome
    }

    fn update_seq(&mut self, seq: u16) -> SeqOutcome {
        if !self.started {
            self.started = true;
            self.init_seq(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return SeqOutcome::Accepted;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqOutcome::Probation;
        }
        if udelta == 0 {
            self.received += 1;
            self.duplicates += 1;
            return SeqOutcome::Duplicate;
        }
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
            self.history = if u32::from(udelta) >= HISTORY {
                1
            } else {
                self.history << udelta | 1
            };
            self.received += 1;
            return SeqOutcome::Accepted;
        }
        if u32::from(udelta) <= RTP_SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a jump: the sender restarted.
                self.init_seq(seq);
                self.received += 1;
                return SeqOutcome::Restarted;
            }
            self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
            return SeqOutcome::Discarded;
        }
        // Behind the highest sequence number: reordered or duplicated.
        self.received += 1;
        let behind = u32::from(self.max_seq.wrapping_sub(seq));
        if behind < HISTORY {
            let bit = 1u128 << behind;
            if self.history & bit != 0 {
                self.duplicates += 1;
                return SeqOutcome::Duplicate;
            }
            self.history |= bit;
        }
        self.out_of_order += 1;
        SeqOutcome::OutOfOrder
    }

    fn update_jitter(&mut self, timestamp: u32, arrival: Instant) {
        let epoch = *self.epoch.get_or_insert(arrival);
        let elapsed = arrival.saturating_duration_since(epoch);
        let arrival_ts = (elapsed
            .as_nanos()
            .saturating_mul(u128::from(self.clock_rate))
            / 1_000_000_000) as u32;
        let transit = arrival_ts.wrapping_sub(timestamp);
        if let Some(prev) = self.transit {
            let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
            // A.8: J += (|D| - J) / 16, in the scaled integer form.
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
            self.max_jitter_q4 = self.max_jitter_q4.max(self.jitter_q4);
        }
        self.transit = Some(transit);
    }

    /// Remembers a sender report from this source, for LSR/DLSR in our next report.
    pub fn record_sender_report(&mut self, sr: &SenderReport, arrival: Instant) {
        self.last_sr = Some((sr.ntp_time.middle32(), arrival));
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected so far (A.3).
    pub fn expected(&self) -> u64 {
        if !self.started || self.probation > 0 {
            return 0;
        }
        u64::from(self.extended_max().wrapping_sub(self.base_seq)) + 1
    }

    /// Packets counted as received (including duplicates, as RFC 3550 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// Interarrival jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        f64::from(self.jitter_q4) / 16.0 * 1000.0 / f64::from(self.clock_rate)
    }

    /// The reception report block for this source, closing the current interval for
    /// the fraction-lost computation (A.3). Call once per RTCP report.
    pub fn report_block(&mut self, ssrc: u32, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let lost = expected as i64 - self.received as i64;
        let expected_interval = expected.saturating_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => (lsr, duration_to_dlsr(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: lost.clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: self.extended_max(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }

    /// The numbers for a call record.
    pub fn summary(&self) -> ReceiveSummary {
        let expected = self.expected();
        let distinct = self.received.saturating_sub(self.duplicates);
        let lost = expected.saturating_sub(distinct);
        ReceiveSummary {
            received: self.received,
            expected,
            lost,
            loss_ratio: if expected == 0 {
                0.0
            } else {
                lost as f64 / expected as f64
            },
            jitter: self.jitter(),
            jitter_ms: self.jitter_ms(),
            max_jitter_ms: f64::from(self.max_jitter_q4) / 16.0 * 1000.0
                / f64::from(self.clock_rate),
            duplicates: self.duplicates,
            out_of_order: self.out_of_order,
            extended_highest_seq: self.extended_max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::rtcp::{NtpTime, dlsr_to_duration};
    use std::time::Duration;

    fn feed(stats: &mut ReceiveStats, seqs: impl IntoIterator<Item = u16>) -> Vec<SeqOutcome> {
        let t0 = Instant::now();
        seqs.into_iter()
            .map(|s| stats.record(s, u32::from(s) * 160, t0, false))
            .collect()
    }

    #[test]
    fn probation_then_counts() {
        let mut s = ReceiveStats::new(8000);
        let out = feed(&mut s, [10, 11, 12, 13]);
        assert_eq!(
            out,
            [
                SeqOutcome::Probation,
                SeqOutcome::Accepted,
                SeqOutcome::Accepted,
                SeqOutcome::Accepted
            ]
        );
        assert_eq!((s.expected(), s.received()), (3, 3));
    }

    #[test]
    fn loss_duplicates_reordering_and_wrap() {
        let mut s = ReceiveStats::new(8000);
        // 65530..=65535, 0..=9 with 3 lost, 65534 duplicated, 2 and 1 swapped.
        let seqs = [
            65530u16, 65531, 65532, 65533, 65534, 65534, 65535, 0, 2, 1, 4, 6, 7, 9,
        ];
        let out = feed(&mut s, seqs);
        assert_eq!(out[5], SeqOutcome::Duplicate);
        assert_eq!(out[9], SeqOutcome::OutOfOrder);
        let sum = s.summary();
        // Counted from 65531 (after probation) to 9: 15 expected.
        assert_eq!(sum.expected, 15);
        assert_eq!(sum.duplicates, 1);
        assert_eq!(sum.out_of_order, 1);
        // Missing: 3, 5, 8.
        assert_eq!(sum.lost, 3);
        assert_eq!(sum.extended_highest_seq, 65536 + 9);
        let rb = s.report_block(42, Instant::now());
        assert_eq!(rb.cumulative_lost, 15 - 13);
        assert_eq!(rb.fraction_lost, ((2i64 << 8) / 15) as u8);
        // Next interval without loss.
        feed(&mut s, [10, 11, 12]);
        let rb = s.report_block(42, Instant::now());
        assert_eq!(rb.fraction_lost, 0);
    }

    #[test]
    fn restart_after_confirmed_jump() {
        let mut s = ReceiveStats::new(8000);
        feed(&mut s, [100, 101, 102]);
        let out = feed(&mut s, [30000, 30001, 30002]);
        assert_eq!(
            out,
            [
                SeqOutcome::Discarded,
                SeqOutcome::Restarted,
                SeqOutcome::Accepted
            ]
        );
        assert_eq!(s.expected(), 2);
        // A single stray packet is discarded and does not disturb counting.
        let out = feed(&mut s, [5000, 30003]);
        assert_eq!(out, [SeqOutcome::Discarded, SeqOutcome::Accepted]);
        assert_eq!(s.summary().lost, 0);
    }

    #[test]
    fn jitter_of_a_steady_stream_is_zero_and_grows_with_variation() {
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(8000);
        for i in 0..100u32 {
            let at = t0 + Duration::from_millis(u64::from(i) * 20);
            s.record(i as u16, i * 160, at, true);
        }
        assert_eq!(s.jitter(), 0);
        // Alternate ±5 ms around the nominal arrival: |D| = 10 ms = 80 ticks.
        for i in 100..400u32 {
            let base = u64::from(i) * 20;
            let at = if i % 2 == 0 { base + 5 } else { base - 5 };
            s.record(i as u16, i * 160, t0 + Duration::from_millis(at), true);
        }
        let j = s.jitter();
        assert!((78..=80).contains(&j), "jitter {j}");
        assert!((s.jitter_ms() - 10.0).abs() < 0.3);
        assert!(s.summary().max_jitter_ms >= s.jitter_ms());
    }

    #[test]
    fn lsr_and_dlsr() {
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(8000);
        let sr = SenderReport {
            ntp_time: NtpTime(0x0001_2345_6789_0000),
            ..Default::default()
        };
        s.record_sender_report(&sr, t0);
        let rb = s.report_block(1, t0 + Duration::from_millis(500));
        assert_eq!(rb.last_sr, 0x2345_6789);
        assert_eq!(rb.delay_since_last_sr, 32768);
        assert_eq!(dlsr_to_duration(32768), Duration::from_millis(500));
    }
}
