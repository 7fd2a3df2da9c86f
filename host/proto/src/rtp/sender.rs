//! The sending side of one RTP stream.
//!
//! One `RtpSender` per call owns the SSRC, the sequence number and the media clock, so
//! that audio frames, RFC 4733 events and RTCP sender reports can never disagree about
//! them. The caller supplies the random initial values (RFC 3550 §5.1 wants them
//! unpredictable; this crate has no random source) and drives it from the pacing
//! timer: one [`RtpSender::send_frame`] or [`RtpSender::advance`] per frame period.

use super::rtcp::{NtpTime, ReportBlock, SenderReport};
use super::{RtpBuilder, RtpError};

/// SSRC, sequence, timestamp and counters of one outgoing RTP stream.
#[derive(Debug, Clone)]
pub struct RtpSender {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    talkspurt: bool,
    packets: u32,
    octets: u32,
}

impl RtpSender {
    /// A sender with the given (random) SSRC, first sequence number and first
    /// timestamp. The first frame carries the marker bit.
    pub fn new(ssrc: u32, first_sequence: u16, first_timestamp: u32) -> Self {
        RtpSender {
            ssrc,
            sequence: first_sequence,
            timestamp: first_timestamp,
            talkspurt: true,
            packets: 0,
            octets: 0,
        }
    }

    /// The SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }
    /// The sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }
    /// The media clock: the timestamp of the next frame.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }
    /// Packets sent (the SR packet count).
    pub fn packet_count(&self) -> u32 {
        self.packets
    }
    /// Payload octets sent (the SR octet count).
    pub fn octet_count(&self) -> u32 {
        self.octets
    }

    /// Marks the next frame as the first of a talk spurt (RFC 3551 §4.1), e.g. when
    /// playback starts after a pause in which nothing was sent.
    pub fn start_talkspurt(&mut self) {
        self.talkspurt = true;
    }

    /// Appends one audio frame to `out` at the current media clock, then advances the
    /// clock by `timestamp_increment` (e.g. 160 for 20 ms at 8 kHz).
    pub fn send_frame(
        &mut self,
        payload_type: u8,
        payload: &[u8],
        timestamp_increment: u32,
        out: &mut Vec<u8>,
    ) -> Result<usize, RtpError> {
        let ts = self.timestamp;
        let marker = self.talkspurt;
        let n = self.send_at(payload_type, marker, ts, payload, out)?;
        self.talkspurt = false;
        self.timestamp = self.timestamp.wrapping_add(timestamp_increment);
        Ok(n)
    }

    /// Appends a packet with an explicit timestamp and marker, without moving the
    /// media clock: RFC 4733 events keep the timestamp of the event start in every
    /// packet while the clock keeps running through [`RtpSender::advance`].
    pub fn send_at(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<usize, RtpError> {
        let n = RtpBuilder::new(payload_type, self.sequence, timestamp, self.ssrc)
            .marker(marker)
            .payload(payload)
            .write(out)?;
        self.sequence = self.sequence.wrapping_add(1);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self
            .octets
            .wrapping_add(u32::try_from(payload.len()).unwrap_or(u32::MAX));
        Ok(n)
    }

    /// Lets a frame period pass without sending audio (silence suppression, or a
    /// period filled by an RFC 4733 event packet). With `new_talkspurt` the next frame
    /// carries the marker bit.
    pub fn advance(&mut self, timestamp_increment: u32, new_talkspurt: bool) {
        self.timestamp = self.timestamp.wrapping_add(timestamp_increment);
        if new_talkspurt {
            self.talkspurt = true;
        }
    }

    /// A sender report for this stream at wall-clock `ntp`, taking the media clock as
    /// the RTP timestamp of that instant. Call it from the pacing tick, where the
    /// clock is exact to within a frame.
    pub fn sender_report(&self, ntp: NtpTime, reports: Vec<ReportBlock>) -> SenderReport {
        SenderReport {
            ssrc: self.ssrc,
            ntp_time: ntp,
            rtp_timestamp: self.timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
            reports,
            extension: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpPacket;

    #[test]
    fn frames_advance_sequence_and_clock_with_marker_on_talkspurts() {
        let mut s = RtpSender::new(0xABCD, 65535, u32::MAX - 159);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        for i in 0..4 {
            buf.clear();
            if i == 2 {
                s.advance(160, true);
            }
            s.send_frame(0, &[0xFF; 160], 160, &mut buf).unwrap();
            let p = RtpPacket::parse(&buf).unwrap();
            seen.push((p.sequence(), p.timestamp(), p.marker()));
            assert_eq!(p.ssrc(), 0xABCD);
        }
        assert_eq!(
            seen,
            [
                (65535, u32::MAX - 159, true),
                (0, 0, false),
                (1, 320, true),
                (2, 480, false)
            ]
        );
        let sr = s.sender_report(NtpTime(5), vec![]);
        assert_eq!(
            (sr.packet_count, sr.octet_count, sr.rtp_timestamp),
            (4, 640, 640)
        );
    }

    #[test]
    fn events_keep_their_timestamp() {
        let mut s = RtpSender::new(1, 10, 1000);
        let mut buf = Vec::new();
        let ts = s.timestamp();
        for i in 0..3 {
            buf.clear();
            s.send_at(101, i == 0, ts, &[1, 0x80, 0, 160], &mut buf)
                .unwrap();
            s.advance(160, false);
            let p = RtpPacket::parse(&buf).unwrap();
            assert_eq!((p.timestamp(), p.sequence()), (1000, 10 + i));
        }
        assert_eq!(s.timestamp(), 1480);
        assert_eq!(s.next_sequence(), 13);
    }
}
