//! Media datagrams. The whole input is first one datagram (RTP, RTCP compound,
//! telephone-event payload), then the same bytes are read as a stream of records
//! `[gap_ms: u8][len: u8][datagram; len]` delivered to one call's receive path in
//! virtual time: RTP/RTCP demultiplexing, receive statistics, the jitter buffer
//! with its 20 ms pacing (and in-band DTMF detection on what it plays), RFC 4733
//! events and sender reports.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use voxgate_proto::codec::Codec;
use voxgate_proto::dtmf::{EventReceiver, InbandDetector, TelephoneEvent};
use voxgate_proto::jitter::{Frame, JitterBuffer, JitterConfig};
use voxgate_proto::rtp::rtcp::{self, RtcpPacket};
use voxgate_proto::rtp::{self, PacketKind, ReceiveStats, RtpBuilder, RtpPacket};

/// Payload type the call negotiated for telephone-event.
const EVENT_PT: u8 = 101;
/// Pacing period.
const TICK: Duration = Duration::from_millis(20);

/// A parsed RTP packet rebuilt with `RtpBuilder` parses back to the same fields
/// (padding is not rebuilt).
fn check_rtp_round_trip(p: &RtpPacket<'_>) {
    let csrcs: Vec<u32> = p.csrcs().collect();
    let mut b = RtpBuilder::from_header(p.header())
        .csrcs(&csrcs)
        .payload(p.payload());
    if let Some(ext) = p.extension() {
        b = b.extension(ext.profile, ext.data);
        let _ = ext.elements();
    }
    let wire = match b.to_vec() {
        Ok(w) => w,
        Err(e) => panic!("a parsed packet cannot be rebuilt: {e:?} ({p:?})"),
    };
    let back = match RtpPacket::parse(&wire) {
        Ok(b) => b,
        Err(e) => panic!("a rebuilt packet does not parse: {e:?} ({p:?})"),
    };
    assert_eq!(back.header(), p.header());
    assert!(back.csrcs().eq(p.csrcs()), "CSRCs differ after rebuild");
    assert_eq!(back.extension(), p.extension());
    assert_eq!(back.payload(), p.payload());
}

/// A parsed compound packet written back parses again, and writing is stable
/// from then on (the first write may drop padding).
fn check_rtcp_round_trip(packets: &[RtcpPacket]) {
    let mut once = Vec::new();
    if rtcp::write_compound(packets, &mut once).is_err() {
        return;
    }
    let back = match rtcp::parse_compound(&once) {
        Ok(b) => b,
        Err(e) => panic!("written RTCP does not parse: {e:?} ({packets:?})"),
    };
    let mut twice = Vec::new();
    if let Err(e) = rtcp::write_compound(&back, &mut twice) {
        panic!("re-parsed RTCP cannot be written: {e:?} ({back:?})");
    }
    assert_eq!(once, twice, "RTCP writing is not stable");
}

struct Call {
    t0: Instant,
    now: Instant,
    next_tick: Instant,
    stats: ReceiveStats,
    jitter: Option<JitterBuffer>,
    events: EventReceiver,
    inband: InbandDetector,
    ssrc: u32,
}

impl Call {
    fn new() -> Self {
        let t0 = Instant::now();
        Call {
            t0,
            now: t0,
            next_tick: t0 + TICK,
            stats: ReceiveStats::new(8000),
            jitter: None,
            events: EventReceiver::new(),
            inband: InbandDetector::default(),
            ssrc: 0,
        }
    }

    /// Runs the pacing timer up to `until`.
    fn advance(&mut self, until: Instant) {
        while self.next_tick <= until {
            if let Some(j) = self.jitter.as_mut() {
                let frame = j.pop(self.next_tick);
                if let Some(samples) = frame.samples() {
                    assert_eq!(samples.len(), j.frame_samples(), "frame of the wrong size");
                    let _ = self.inband.push(samples);
                }
                let _ = matches!(frame, Frame::Concealed(_));
                let _ = (j.target_delay(), j.buffered(), j.stats());
            }
            self.next_tick += TICK;
        }
        self.now = until;
    }

    fn receive(&mut self, datagram: &[u8]) {
        match rtp::classify(datagram) {
            PacketKind::Rtcp => {
                if let Ok(packets) = rtcp::parse_compound(datagram) {
                    for p in &packets {
                        if let RtcpPacket::SenderReport(sr) = p {
                            self.stats.record_sender_report(sr, self.now);
                        }
                        if let RtcpPacket::ReceiverReport(rr) = p {
                            for b in &rr.reports {
                                let _ = (
                                    b.round_trip(rtcp::NtpTime(1 << 40)),
                                    b.fraction_lost_ratio(),
                                );
                            }
                        }
                    }
                }
            }
            PacketKind::Rtp => {
                let Ok(p) = RtpPacket::parse(datagram) else {
                    return;
                };
                self.ssrc = p.ssrc();
                let is_event = p.payload_type() == EVENT_PT;
                let _ = self
                    .stats
                    .record(p.sequence(), p.timestamp(), self.now, !is_event)
                    .is_usable();
                if is_event {
                    let _ = self.events.push(p.timestamp(), p.payload());
                    let _ = self.events.current();
                    return;
                }
                let jitter = self.jitter.get_or_insert_with(|| {
                    let codec = match p.payload_type() {
                        8 => Codec::Pcma,
                        9 => Codec::G722,
                        _ => Codec::Pcmu,
                    };
                    JitterBuffer::new(codec, p.payload_type(), JitterConfig::default())
                });
                let _ = jitter.push(&p, self.now);
            }
            PacketKind::Other => {}
        }
    }

    fn finish(mut self) {
        // Play out whatever is still queued (the largest delay, and some).
        let end = self.now + Duration::from_millis(400);
        self.advance(end);
        let _ = (
            self.stats.expected(),
            self.stats.received(),
            self.stats.jitter_ms(),
        );
        let _ = self.stats.report_block(self.ssrc, end);
        let _ = self.stats.summary();
        let _ = self.events.packets();
        let _ = self.t0;
    }
}

fuzz_target!(|data: &[u8]| {
    // The input as one datagram.
    if let Ok(p) = RtpPacket::parse(data) {
        check_rtp_round_trip(&p);
        let _ = TelephoneEvent::parse(p.payload()).map(|e| (e.digit(), e.to_bytes()));
    }
    if let Ok(packets) = rtcp::parse_compound(data) {
        check_rtcp_round_trip(&packets);
    }
    if let Ok(ev) = TelephoneEvent::parse(data) {
        let again = TelephoneEvent::parse(&ev.to_bytes());
        assert_eq!(
            again.map(TelephoneEvent::to_bytes).ok(),
            Some(ev.to_bytes())
        );
    }

    let mut call = Call::new();
    call.receive(data);

    // The input as a stream of datagrams.
    let mut rest = data;
    while let [gap, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(len);
        let at = call.now + Duration::from_millis(u64::from(*gap));
        call.advance(at);
        call.receive(datagram);
        rest = next;
    }
    call.finish();
});
