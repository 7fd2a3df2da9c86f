//! RTCP (RFC 3550 §6): sender and receiver reports, source description, BYE.
//!
//! voxgate sends a compound SR/RR + SDES(CNAME) every few seconds so that PBXs and
//! carriers that police media (many drop a call after 30–60 s without RTCP or RTP)
//! see a live endpoint, and reads the peer's reports to put round-trip time, loss and
//! jitter *as heard by the far end* into the call record. Unknown packet types (APP,
//! feedback, XR) are kept as opaque [`RtcpPacket::Other`] rather than rejected, so a
//! peer using RFC 4585 or RFC 3611 never makes us discard the reports around them.
//!
//! [`parse_compound`] takes any bytes and never panics; it fails only when the
//! length fields do not tile the datagram, because then no packet in it can be
//! trusted.

use std::time::Duration;

/// An NTP timestamp: seconds since 1900 in the high 32 bits, fraction in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTime(pub u64);

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

impl NtpTime {
    /// The NTP time for a duration since the Unix epoch (the caller reads the clock).
    pub fn from_unix(since_epoch: Duration) -> NtpTime {
        let secs = since_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET) & 0xFFFF_FFFF;
        let frac = (u64::from(since_epoch.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTime(secs << 32 | frac)
    }

    /// The middle 32 bits, the unit of LSR and of round-trip computations.
    pub fn middle32(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

/// Converts a duration to the 1/65536-second units of DLSR, saturating.
pub fn duration_to_dlsr(d: Duration) -> u32 {
    let units = d.as_micros().saturating_mul(65536) / 1_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Converts DLSR units (1/65536 s) to a duration.
pub fn dlsr_to_duration(units: u32) -> Duration {
    Duration::from_micros(u64::from(units) * 1_000_000 / 65536)
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost; 24-bit signed on the wire (duplicates can make it
    /// negative), clamped when written.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from this source, 0 if none.
    pub last_sr: u32,
    /// Delay since that SR in 1/65536 s, 0 if none.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// Round-trip time per RFC 3550 §6.4.1, given when this block arrived (as NTP
    /// time), or `None` when the block carries no LSR or the arithmetic is inconsistent.
    pub fn round_trip(&self, arrival: NtpTime) -> Option<Duration> {
        if self.last_sr == 0 {
            return None;
        }
        let a = arrival.middle32();
        let rtt = a
            .checked_sub(self.last_sr)?
            .checked_sub(self.delay_since_last_sr)?;
        Some(Duration::from_micros(u64::from(rtt) * 1_000_000 / 65536))
    }

    /// The fraction lost as a value between 0 and 1.
    pub fn fraction_lost_ratio(&self) -> f32 {
        f32::from(self.fraction_lost) / 256.0
    }
}

/// Sender report (PT 200).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// SSRC of the sender.
    pub ssrc: u32,
    /// Wall-clock time of this report.
    pub ntp_time: NtpTime,
    /// The RTP timestamp corresponding to `ntp_time`.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension bytes after the report blocks.
    pub extension: Vec<u8>,
}

/// Receiver report (PT 201).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// SSRC of the packet sender.
    pub ssrc: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension bytes after the report blocks.
    pub extension: Vec<u8>,
}

/// SDES item type CNAME.
pub const SDES_CNAME: u8 = 1;

/// One SDES item: type and value bytes (up to 255).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    /// Item type (1 CNAME, 2 NAME, … 8 PRIV).
    pub kind: u8,
    /// Value, normally UTF-8.
    pub value: Vec<u8>,
}

/// One SDES chunk: the items describing one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesChunk {
    /// The source described.
    pub ssrc: u32,
    /// Its items.
    pub items: Vec<SdesItem>,
}

/// Source description (PT 202).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceDescription {
    /// Chunks (at most 31).
    pub chunks: Vec<SdesChunk>,
}

impl SourceDescription {
    /// An SDES with one chunk holding a CNAME.
    pub fn cname(ssrc: u32, cname: &str) -> Self {
        SourceDescription {
            chunks: vec![SdesChunk {
                ssrc,
                items: vec![SdesItem {
                    kind: SDES_CNAME,
                    value: cname.as_bytes().to_vec(),
                }],
            }],
        }
    }

    /// The CNAME given for `ssrc`, if any and if it is UTF-8.
    pub fn cname_of(&self, ssrc: u32) -> Option<&str> {
        self.chunks
            .iter()
            .filter(|c| c.ssrc == ssrc)
            .flat_map(|c| &c.items)
            .find(|i| i.kind == SDES_CNAME)
            .and_then(|i| std::str::from_utf8(&i.value).ok())
    }
}

/// Goodbye (PT 203).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bye {
    /// Sources leaving (at most 31).
    pub sources: Vec<u32>,
    /// Reason for leaving.
    pub reason: Option<Vec<u8>>,
}

/// One RTCP packet of a compound packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR, PT 200.
    SenderReport(SenderReport),
    /// RR, PT 201.
    ReceiverReport(ReceiverReport),
    /// SDES, PT 202.
    SourceDescription(SourceDescription),
    /// BYE, PT 203.
    Bye(Bye),
    /// Any other packet type, kept as received (without padding).
    Other {
        /// Packet type.
        packet_type: u8,
        /// The 5-bit count/subtype field.
        count: u8,
        /// Bytes after the 4-byte header.
        body: Vec<u8>,
    },
}

/// Packet types.
const PT_SR: u8 = 200;
const PT_RR: u8 = 201;
const PT_SDES: u8 = 202;
const PT_BYE: u8 = 203;

/// Why bytes are not an acceptable RTCP compound packet, or a packet cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// No bytes.
    #[error("empty RTCP datagram")]
    Empty,
    /// Version is not 2.
    #[error("RTCP version {0} is not 2")]
    Version(u8),
    /// A packet's length field runs past the datagram or leaves a partial header.
    #[error("RTCP packet at byte {offset} does not fit the datagram")]
    Length {
        /// Where the packet starts.
        offset: usize,
    },
    /// Padding count is zero or larger than the packet.
    #[error("invalid RTCP padding")]
    Padding,
    /// A packet's body is shorter than its count field requires.
    #[error("RTCP packet type {packet_type} is truncated")]
    Truncated {
        /// The packet type.
        packet_type: u8,
    },
    /// More than 31 report blocks, chunks or sources, or an SDES value over 255 bytes.
    #[error("too many items for one RTCP packet")]
    TooMany,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(s.iter().fold(0u32, |acc, &x| acc << 8 | u32::from(x)))
}

/// Parses a compound RTCP datagram into its packets.
pub fn parse_compound(datagram: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if datagram.is_empty() {
        return Err(RtcpError::Empty);
    }
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < datagram.len() {
        let rest = datagram.get(offset..).unwrap_or_default();
        let (&[b0, pt, l0, l1], _) = rest
            .split_first_chunk::<4>()
            .ok_or(RtcpError::Length { offset })?;
        if b0 >> 6 != 2 {
            return Err(RtcpError::Version(b0 >> 6));
        }
        let len = (usize::from(u16::from_be_bytes([l0, l1])) + 1) * 4;
        let packet = rest.get(..len).ok_or(RtcpError::Length { offset })?;
        let mut body = packet.get(4..).unwrap_or_default();
        if b0 & 0x20 != 0 {
            let pad = usize::from(*body.last().ok_or(RtcpError::Padding)?);
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Padding);
            }
            body = body.get(..body.len() - pad).unwrap_or_default();
        }
        out.push(parse_one(pt, b0 & 0x1F, body)?);
        offset += len;
    }
    Ok(out)
}

fn parse_blocks(body: &[u8], count: u8) -> Option<(Vec<ReportBlock>, &[u8])> {
    let n = usize::from(count);
    let blocks = body.get(..n * 24)?;
    let reports = blocks
        .chunks_exact(24)
        .map(|b| {
            let lost = be32(b, 4).unwrap_or(0);
            // Sign-extend the 24-bit cumulative count.
            let cumulative = ((lost << 8) as i32) >> 8;
            ReportBlock {
                ssrc: be32(b, 0).unwrap_or(0),
                fraction_lost: (lost >> 24) as u8,
                cumulative_lost: cumulative,
                extended_highest_seq: be32(b, 8).unwrap_or(0),
                jitter: be32(b, 12).unwrap_or(0),
                last_sr: be32(b, 16).unwrap_or(0),
                delay_since_last_sr: be32(b, 20).unwrap_or(0),
            }
        })
        .collect();
    Some((reports, body.get(n * 24..).unwrap_or_default()))
}

fn parse_one(packet_type: u8, count: u8, body: &[u8]) -> Result<RtcpPacket, RtcpError> {
    let truncated = RtcpError::Truncated { packet_type };
    match packet_type {
        PT_SR => {
            let head = body.get(..24).ok_or(truncated.clone())?;
            let (reports, ext) =
                parse_blocks(body.get(24..).unwrap_or_default(), count).ok_or(truncated.clone())?;
            let ntp_hi = be32(head, 4).ok_or(truncated.clone())?;
            let ntp_lo = be32(head, 8).ok_or(truncated.clone())?;
            Ok(RtcpPacket::SenderReport(SenderReport {
                ssrc: be32(head, 0).ok_or(truncated.clone())?,
                ntp_time: NtpTime(u64::from(ntp_hi) << 32 | u64::from(ntp_lo)),
                rtp_timestamp: be32(head, 12).ok_or(truncated.clone())?,
                packet_count: be32(head, 16).ok_or(truncated.clone())?,
                octet_count: be32(head, 20).ok_or(truncated)?,
                reports,
                extension: ext.to_vec(),
            }))
        }
        PT_RR => {
            let ssrc = be32(body, 0).ok_or(truncated.clone())?;
            let (reports, ext) =
                parse_blocks(body.get(4..).unwrap_or_default(), count).ok_or(truncated)?;
            Ok(RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc,
                reports,
                extension: ext.to_vec(),
            }))
        }
        PT_SDES => {
            let mut chunks = Vec::new();
            let mut pos = 0usize;
            for _ in 0..count {
                let ssrc = be32(body, pos).ok_or(truncated.clone())?;
                pos += 4;
                let mut items = Vec::new();
                loop {
                    let kind = *body.get(pos).ok_or(truncated.clone())?;
                    if kind == 0 {
                        // End of list, then pad to the next 32-bit boundary.
                        pos = (pos + 4) & !3;
                        break;
                    }
                    let len = usize::from(*body.get(pos + 1).ok_or(truncated.clone())?);
                    let value = body.get(pos + 2..pos + 2 + len).ok_or(truncated.clone())?;
                    items.push(SdesItem {
                        kind,
                        value: value.to_vec(),
                    });
                    pos += 2 + len;
                }
                chunks.push(SdesChunk { ssrc, items });
            }
            Ok(RtcpPacket::SourceDescription(SourceDescription { chunks }))
        }
        PT_BYE => {
            let n = usize::from(count);
            let ids = body.get(..n * 4).ok_or(truncated.clone())?;
            let sources = ids.chunks_exact(4).filter_map(|c| be32(c, 0)).collect();
            let reason = match body.get(n * 4..) {
                Some([len, rest @ ..]) => {
                    let text = rest.get(..usize::from(*len)).ok_or(truncated)?;
                    Some(text.to_vec())
                }
                _ => None,
            };
            Ok(RtcpPacket::Bye(Bye { sources, reason }))
        }
        _ => Ok(RtcpPacket::Other {
            packet_type,
            count,
            body: body.to_vec(),
        }),
    }
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn count5(n: usize) -> Result<u8, RtcpError> {
    u8::try_from(n)
        .ok()
        .filter(|&n| n <= 31)
        .ok_or(RtcpError::TooMany)
}

fn write_blocks(out: &mut Vec<u8>, reports: &[ReportBlock]) {
    for r in reports {
        put32(out, r.ssrc);
        let lost = r.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0x00FF_FFFF;
        put32(out, u32::from(r.fraction_lost) << 24 | lost);
        put32(out, r.extended_highest_seq);
        put32(out, r.jitter);
        put32(out, r.last_sr);
        put32(out, r.delay_since_last_sr);
    }
}

impl RtcpPacket {
    /// Appends this packet to `out`, padding the body to a 32-bit boundary with zeros
    /// where the format allows (SDES, BYE reason, opaque bodies).
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), RtcpError> {
        let start = out.len();
        let (pt, count) = match self {
            RtcpPacket::SenderReport(sr) => (PT_SR, count5(sr.reports.len())?),
            RtcpPacket::ReceiverReport(rr) => (PT_RR, count5(rr.reports.len())?),
            RtcpPacket::SourceDescription(s) => (PT_SDES, count5(s.chunks.len())?),
            RtcpPacket::Bye(b) => (PT_BYE, count5(b.sources.len())?),
            RtcpPacket::Other {
                packet_type, count, ..
            } => (*packet_type, *count & 0x1F),
        };
        out.extend_from_slice(&[0x80 | count, pt, 0, 0]);
        match self {
            RtcpPacket::SenderReport(sr) => {
                put32(out, sr.ssrc);
                put32(out, (sr.ntp_time.0 >> 32) as u32);
                put32(out, sr.ntp_time.0 as u32);
                put32(out, sr.rtp_timestamp);
                put32(out, sr.packet_count);
                put32(out, sr.octet_count);
                write_blocks(out, &sr.reports);
                out.extend_from_slice(&sr.extension);
            }
            RtcpPacket::ReceiverReport(rr) => {
                put32(out, rr.ssrc);
                write_blocks(out, &rr.reports);
                out.extend_from_slice(&rr.extension);
            }
            RtcpPacket::SourceDescription(s) => {
                for chunk in &s.chunks {
                    put32(out, chunk.ssrc);
                    for item in &chunk.items {
                        let len = u8::try_from(item.value.len()).map_err(|_| RtcpError::TooMany)?;
                        out.push(item.kind);
                        out.push(len);
                        out.extend_from_slice(&item.value);
                    }
                    // Terminating null item(s) up to the next 32-bit boundary.
                    out.push(0);
                    while !(out.len() - start).is_multiple_of(4) {
                        out.push(0);
                    }
                }
            }
            RtcpPacket::Bye(b) => {
                for &s in &b.sources {
                    put32(out, s);
                }
                if let Some(reason) = &b.reason {
                    let len = u8::try_from(reason.len()).map_err(|_| RtcpError::TooMany)?;
                    out.push(len);
                    out.extend_from_slice(reason);
                }
            }
            RtcpPacket::Other { body, .. } => out.extend_from_slice(body),
        }
        while !(out.len() - start).is_multiple_of(4) {
            out.push(0);
        }
        let words = (out.len() - start) / 4 - 1;
        let words = u16::try_from(words).map_err(|_| RtcpError::TooMany)?;
        if let Some(len) = out.get_mut(start + 2..start + 4) {
            len.copy_from_slice(&words.to_be_bytes());
        }
        Ok(())
    }
}

/// Appends a compound packet to `out`. RFC 3550 §6.1 wants an SR or RR first and an
/// SDES with a CNAME in every compound packet; that is the caller's composition, this
/// function only serialises.
pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) -> Result<(), RtcpError> {
    let start = out.len();
    for p in packets {
        if let Err(e) = p.write(out) {
            out.truncate(start);
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ssrc: u32) -> ReportBlock {
        ReportBlock {
            ssrc,
            fraction_lost: 12,
            cumulative_lost: -3,
            extended_highest_seq: 0x0001_0005,
            jitter: 77,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65536,
        }
    }

    #[test]
    fn compound_round_trip() {
        let packets = vec![
            RtcpPacket::SenderReport(SenderReport {
                ssrc: 1,
                ntp_time: NtpTime(0xE000_0000_8000_0000),
                rtp_timestamp: 160,
                packet_count: 50,
                octet_count: 8000,
                reports: vec![block(2)],
                extension: vec![],
            }),
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: 1,
                reports: vec![block(3), block(4)],
                extension: vec![1, 2, 3, 4],
            }),
            RtcpPacket::SourceDescription(SourceDescription::cname(1, "voxgate@gw1")),
            RtcpPacket::Bye(Bye {
                sources: vec![1],
                reason: Some(b"hang-up".to_vec()),
            }),
            RtcpPacket::Other {
                packet_type: 205,
                count: 1,
                body: vec![0, 0, 0, 1, 0, 0, 0, 2],
            },
        ];
        let mut wire = Vec::new();
        write_compound(&packets, &mut wire).unwrap();
        assert_eq!(wire.len() % 4, 0);
        assert_eq!(parse_compound(&wire).unwrap(), packets);
    }

    #[test]
    fn cname_lookup_and_empty_rr() {
        let sdes = SourceDescription::cname(7, "alice@example.com");
        assert_eq!(sdes.cname_of(7), Some("alice@example.com"));
        assert_eq!(sdes.cname_of(8), None);
        let mut wire = Vec::new();
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 9,
            ..Default::default()
        })
        .write(&mut wire)
        .unwrap();
        assert_eq!(wire, [0x80, 201, 0, 1, 0, 0, 0, 9]);
    }

    #[test]
    fn known_bytes_from_a_peer() {
        // SR with no blocks + SDES CNAME "ab", as a softphone sends it.
        let wire = [
            0x80, 200, 0, 6, 0, 0, 0, 1, 0xE0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 160, 0, 0, 0, 5, 0,
            0, 3, 32, //
            0x81, 202, 0, 3, 0, 0, 0, 1, 1, 2, b'a', b'b', 0, 0, 0, 0,
        ];
        let p = parse_compound(&wire).unwrap();
        let RtcpPacket::SenderReport(sr) = &p[0] else {
            panic!("{p:?}")
        };
        assert_eq!((sr.packet_count, sr.octet_count), (5, 800));
        let RtcpPacket::SourceDescription(s) = &p[1] else {
            panic!()
        };
        assert_eq!(s.cname_of(1), Some("ab"));
    }

    #[test]
    fn malformed() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::Empty));
        assert_eq!(
            parse_compound(&[0x40, 200, 0, 0]),
            Err(RtcpError::Version(1))
        );
        assert_eq!(
            parse_compound(&[0x80, 201, 0, 5, 0, 0, 0, 1]),
            Err(RtcpError::Length { offset: 0 })
        );
        assert_eq!(
            parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Truncated { packet_type: 201 })
        );
        assert_eq!(
            parse_compound(&[0xA0, 201, 0, 1, 0, 0, 0, 9]),
            Err(RtcpError::Padding)
        );
        assert_eq!(
            parse_compound(&[0x80, 201, 0, 1, 0, 0, 0, 1, 0x80]),
            Err(RtcpError::Length { offset: 8 })
        );
    }

    #[test]
    fn cumulative_lost_clamps_and_sign_extends() {
        let mut b = block(1);
        b.cumulative_lost = 10_000_000;
        let mut wire = Vec::new();
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![b],
            extension: vec![],
        })
        .write(&mut wire)
        .unwrap();
        let RtcpPacket::ReceiverReport(rr) = &parse_compound(&wire).unwrap()[0] else {
            panic!()
        };
        assert_eq!(rr.reports[0].cumulative_lost, 0x7F_FFFF);
    }

    #[test]
    fn ntp_and_round_trip() {
        let t = NtpTime::from_unix(Duration::from_millis(1_700_000_000_500));
        assert_eq!(t.0 >> 32, 1_700_000_000 + NTP_UNIX_OFFSET);
        assert_eq!((t.0 & 0xFFFF_FFFF) >> 31, 1, "half a second");
        let sent = NtpTime::from_unix(Duration::from_secs(100));
        let arrival = NtpTime::from_unix(Duration::from_millis(100_250));
        let rb = ReportBlock {
            last_sr: sent.middle32(),
            delay_since_last_sr: duration_to_dlsr(Duration::from_millis(200)),
            ..Default::default()
        };
        let rtt = rb.round_trip(arrival).unwrap();
        assert!((rtt.as_micros() as i64 - 50_000).abs() < 100, "{rtt:?}");
        assert_eq!(ReportBlock::default().round_trip(arrival), None);
    }

    #[test]
    fn writer_limits() {
        let rr = RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![block(1); 32],
            extension: vec![],
        });
        let mut out = vec![1];
        assert_eq!(write_compound(&[rr], &mut out), Err(RtcpError::TooMany));
        assert_eq!(out, vec![1]);
    }
}
