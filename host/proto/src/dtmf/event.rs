//! RFC 4733 telephone-events: the payload, a receiver that reports each digit once,
//! and a sender that produces the packet sequence for a digit.
//!
//! An event is identified by its RTP timestamp, which stays the event's start for
//! every packet of it (start, updates with growing duration, three end packets). A
//! receiver that keys on the timestamp therefore survives everything the network
//! does: a lost start packet (the first update reports the digit), repeated end
//! packets and retransmissions (same timestamp, already reported), and two presses
//! of the same key (different timestamps). Only the marker bit would be a weaker
//! signal: it is on the start packet, which is the one most often lost.

use std::collections::VecDeque;
use std::time::Duration;

use super::{Digit, DtmfError};

/// The 4-byte telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code (0–9, 10 `*`, 11 `#`, 12–15 A–D, 16 flash, others for tones).
    pub event: u8,
    /// E bit: this packet reports the end of the event.
    pub end: bool,
    /// Power level in −dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads the first event of a payload (RFC 2198 redundancy is not used by PBXs
    /// for DTMF, so only the primary block matters).
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        match payload {
            [event, flags, d0, d1, ..] => Ok(TelephoneEvent {
                event: *event,
                end: flags & 0x80 != 0,
                volume: flags & 0x3F,
                duration: u16::from_be_bytes([*d0, *d1]),
            }),
            _ => Err(DtmfError::ShortPayload(payload.len())),
        }
    }

    /// The wire form.
    pub fn to_bytes(self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        [self.event, flags, d0, d1]
    }

    /// The digit, if the event is one.
    pub fn digit(self) -> Option<Digit> {
        Digit::from_event(self.event)
    }
}

/// A digit reported by [`EventReceiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedDigit {
    /// The key.
    pub digit: Digit,
    /// RTP timestamp of the event start (identifies the press).
    pub timestamp: u32,
    /// Power level in −dBm0 from the first packet seen.
    pub volume: u8,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    timestamp: u32,
    event: u8,
    duration: u16,
    ended: bool,
}

/// How many past events are remembered to recognise their late packets.
const RECENT: usize = 16;

/// Turns a stream of telephone-event payloads into one [`ReceivedDigit`] per press.
#[derive(Debug, Clone, Default)]
pub struct EventReceiver {
    recent: VecDeque<(u32, u8)>,
    current: Option<Current>,
    packets: u64,
}

impl EventReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the RTP timestamp and payload of one telephone-event packet. Returns the
    /// digit the first time a press is seen, `None` for every other packet of it and
    /// for non-digit events; errors only on a payload shorter than 4 bytes.
    pub fn push(
        &mut self,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<Option<ReceivedDigit>, DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        self.packets += 1;
        if let Some(cur) = self.current.as_mut() {
            if cur.timestamp == timestamp && cur.event == ev.event {
                cur.duration = cur.duration.max(ev.duration);
                cur.ended |= ev.end;
                return Ok(None);
            }
            // RFC 4733 §2.5.1.3: an event longer than 0xFFFF units continues in a new
            // segment whose timestamp is the old one plus the elapsed duration.
            let offset = timestamp.wrapping_sub(cur.timestamp);
            if cur.event == ev.event
                && !cur.ended
                && cur.duration >= 0xF000
                && offset >= u32::from(cur.duration)
                && offset <= 0x1_0000
            {
                *cur = Current {
                    timestamp,
                    event: ev.event,
                    duration: ev.duration,
                    ended: ev.end,
                };
                self.remember(timestamp, ev.event);
                return Ok(None);
            }
        }
        if self.recent.contains(&(timestamp, ev.event)) {
            return Ok(None); // a late packet of an earlier press
        }
        self.remember(timestamp, ev.event);
        self.current = Some(Current {
            timestamp,
            event: ev.event,
            duration: ev.duration,
            ended: ev.end,
        });
        Ok(ev.digit().map(|digit| ReceivedDigit {
            digit,
            timestamp,
            volume: ev.volume,
        }))
    }

    fn remember(&mut self, timestamp: u32, event: u8) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((timestamp, event));
    }

    /// The press being received: digit, longest duration seen (timestamp units), and
    /// whether an end packet arrived.
    pub fn current(&self) -> Option<(Digit, u16, bool)> {
        let c = self.current?;
        Some((Digit::from_event(c.event)?, c.duration, c.ended))
    }

    /// Telephone-event packets seen.
    pub fn packets(&self) -> u64 {
        self.packets
    }
}

/// One packet of a digit produced by [`EventSender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// When to send it, after the event start.
    pub offset: Duration,
    /// Marker bit (set on the first packet only).
    pub marker: bool,
    /// The payload.
    pub event: TelephoneEvent,
}

impl EventPacket {
    /// The payload bytes.
    pub fn payload(&self) -> [u8; 4] {
        self.event.to_bytes()
    }
}

/// Produces the RFC 4733 packet sequence for a digit.
#[derive(Debug, Clone, Copy)]
pub struct EventSender {
    clock_rate: u32,
    ptime_ms: u32,
}

impl EventSender {
    /// A sender for a stream with the given RTP clock rate (8000 for telephone-event
    /// beside G.711 and G.722) sending one packet per `ptime_ms`.
    pub fn new(clock_rate: u32, ptime_ms: u32) -> Self {
        EventSender {
            clock_rate,
            ptime_ms: ptime_ms.clamp(10, 100),
        }
    }

    /// The packets for `digit` held for `duration_ms` (at least one ptime) at
    /// `volume` −dBm0: a start packet with the marker, an update every ptime with the
    /// duration so far, and the end packet sent three times, one ptime apart, with the
    /// final duration (RFC 4733 §2.5.1.4). All carry the same RTP timestamp, the media
    /// clock when the first is sent; the caller advances its clock by one ptime per
    /// packet period as usual, so the event occupies [`EventSender::periods`] periods.
    pub fn packets(&self, digit: Digit, duration_ms: u32, volume: u8) -> Vec<EventPacket> {
        let p = self.ptime_ms;
        // The duration field is 16 bits: about 8 s at 8 kHz, far beyond any key press.
        let longest = (u64::from(u16::MAX) * 1000 / u64::from(self.clock_rate.max(1))) as u32;
        let duration_ms = duration_ms.clamp(p, longest.max(p));
        let n = duration_ms.div_ceil(p);
        let total = duration_ms.saturating_mul(self.clock_rate) / 1000;
        let total = u16::try_from(total).unwrap_or(u16::MAX);
        let per = p.saturating_mul(self.clock_rate) / 1000;
        let mut out = Vec::with_capacity(n as usize + 2);
        for i in 0..n.saturating_sub(1) {
            let d = u16::try_from((i + 1).saturating_mul(per)).unwrap_or(u16::MAX);
            out.push(EventPacket {
                offset: Duration::from_millis(u64::from(i * p)),
                marker: i == 0,
                event: TelephoneEvent {
                    event: digit.event(),
                    end: false,
                    volume: volume & 0x3F,
                    duration: d.min(total),
                },
            });
        }
        for k in 0..3 {
            let i = n - 1 + k;
            out.push(EventPacket {
                offset: Duration::from_millis(u64::from(i * p)),
                marker: i == 0,
                event: TelephoneEvent {
                    event: digit.event(),
                    end: true,
                    volume: volume & 0x3F,
                    duration: total,
                },
            });
        }
        out
    }

    /// Packet periods a digit of `duration_ms` occupies, end packets included.
    pub fn periods(&self, duration_ms: u32) -> u32 {
        let longest = (u64::from(u16::MAX) * 1000 / u64::from(self.clock_rate.max(1))) as u32;
        let d = duration_ms.clamp(self.ptime_ms, longest.max(self.ptime_ms));
        d.div_ceil(self.ptime_ms) + 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    #[test]
    fn payload_round_trip_and_known_bytes() {
        // RFC 4733 §2.3 layout: event 5, E bit, volume 10, duration 800.
        let bytes = [5, 0x8A, 0x03, 0x20];
        let ev = TelephoneEvent::parse(&bytes).unwrap();
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(ev.to_bytes(), bytes);
        // The reserved R bit is ignored.
        assert_eq!(
            TelephoneEvent::parse(&[1, 0x40 | 7, 0, 0]).unwrap().volume,
            7
        );
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::ShortPayload(3))
        );
    }

    #[test]
    fn sender_sequence() {
        let s = EventSender::new(8000, 20);
        let pk = s.packets(d('#'), 100, 10);
        assert_eq!(pk.len(), 7);
        assert!(pk[0].marker && pk.iter().skip(1).all(|p| !p.marker));
        let durations: Vec<_> = pk.iter().map(|p| p.event.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<_> = pk.iter().map(|p| p.event.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        let offsets: Vec<_> = pk.iter().map(|p| p.offset.as_millis()).collect();
        assert_eq!(offsets, [0, 20, 40, 60, 80, 100, 120]);
        assert_eq!(s.periods(100), 7);
        // A digit shorter than a ptime is one marked end packet and two repeats.
        let short = s.packets(d('1'), 5, 10);
        assert_eq!(short.len(), 3);
        assert!(short[0].marker && short[0].event.end);
        // Absurd durations are capped at what the 16-bit field can say.
        let long = s.packets(d('0'), u32::MAX, 10);
        assert_eq!(long.last().unwrap().event.duration, 65528);
        assert_eq!(s.periods(u32::MAX) as usize, long.len());
    }

    #[test]
    fn receiver_reports_each_press_once() {
        let s = EventSender::new(8000, 20);
        let mut r = EventReceiver::new();
        let mut got = Vec::new();
        // Same key twice, then another; each press has its own timestamp.
        for (ts, c) in [(1000u32, '5'), (3000, '5'), (5000, '9')] {
            for p in s.packets(d(c), 100, 10) {
                if let Some(digit) = r.push(ts, &p.payload()).unwrap() {
                    got.push((digit.digit.to_char(), digit.timestamp));
                }
            }
        }
        assert_eq!(got, [('5', 1000), ('5', 3000), ('9', 5000)]);
        assert_eq!(r.current(), Some((d('9'), 800, true)));
    }

    #[test]
    fn receiver_survives_lost_start_and_late_packets() {
        let s = EventSender::new(8000, 20);
        let mut r = EventReceiver::new();
        let a = s.packets(d('1'), 100, 10);
        let b = s.packets(d('2'), 100, 10);
        // Start of '1' lost; only its end packets arrive.
        assert_eq!(
            r.push(100, &a[4].payload()).unwrap().map(|x| x.digit),
            Some(d('1'))
        );
        assert_eq!(r.push(100, &a[5].payload()).unwrap(), None);
        assert_eq!(
            r.push(2000, &b[0].payload()).unwrap().map(|x| x.digit),
            Some(d('2'))
        );
        // A retransmitted end of '1' arriving after '2' started is not a new press.
        assert_eq!(r.push(100, &a[6].payload()).unwrap(), None);
        assert_eq!(r.push(2000, &b[6].payload()).unwrap(), None);
        // Non-digit events (e.g. 32 = ANS tone) are swallowed.
        assert_eq!(r.push(9000, &[32, 0, 0, 160]).unwrap(), None);
        assert_eq!(r.packets(), 6);
    }

    #[test]
    fn long_event_segments_are_one_press() {
        let mut r = EventReceiver::new();
        let seg1 = TelephoneEvent {
            event: 0,
            end: false,
            volume: 10,
            duration: 0xFFFF,
        };
        assert!(r.push(10, &seg1.to_bytes()).unwrap().is_some());
        let seg2 = TelephoneEvent {
            duration: 800,
            ..seg1
        };
        assert_eq!(r.push(10 + 0xFFFF, &seg2.to_bytes()).unwrap(), None);
        let end = TelephoneEvent { end: true, ..seg2 };
        assert_eq!(r.push(10 + 0xFFFF, &end.to_bytes()).unwrap(), None);
    }
}
