//! RTP (RFC 3550): packets, RTCP reports, receive statistics and a sender.
//!
//! Packets are read and written with the `rtp-rs` crate, wrapped in small voxgate types
//! so that the rest of the gateway never sees its error or builder types and so that
//! the gaps are filled here: RFC 8285 header-extension elements ([`RtpExtension`]),
//! RTP/RTCP demultiplexing on one port ([`classify`], RFC 5761/7983), bounded CSRC
//! lists (`rtp-rs` would panic on more than 15) and writing into a reused buffer.
//!
//! Why the pieces are separate: the socket task parses ([`RtpPacket::parse`]) and
//! updates [`ReceiveStats`] for every datagram; the per-call 20 ms pacing timer drives
//! the [`RtpSender`]; RTCP ([`rtcp`]) is built from both every few seconds and parsed
//! from the peer to learn the round-trip time and what the far end hears. Each works
//! on explicit inputs (`Instant`s, NTP times, timestamps), so the whole media path can
//! be replayed in tests without a clock or a socket.
//!
//! ```
//! use voxgate_proto::rtp::{RtpBuilder, RtpPacket};
//!
//! let payload = [0xFFu8; 160];
//! let mut wire = Vec::new();
//! RtpBuilder::new(0, 1000, 160_000, 0x1234_5678)
//!     .marker(true)
//!     .payload(&payload)
//!     .write(&mut wire)?;
//! let packet = RtpPacket::parse(&wire)?;
//! assert_eq!((packet.payload_type(), packet.sequence(), packet.marker()), (0, 1000, true));
//! assert_eq!(packet.payload().len(), 160);
//! # Ok::<(), voxgate_proto::rtp::RtpError>(())
//! ```

pub mod rtcp;
mod sender;
mod stats;

pub use sender::RtpSender;
pub use stats::{ReceiveStats, ReceiveSummary, SeqOutcome};

/// Why bytes are not an acceptable RTP packet, or a packet cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer than the 12 bytes of the fixed header.
    #[error("RTP packet of {0} bytes is shorter than the 12-byte header")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("RTP version {0} is not 2")]
    Version(u8),
    /// CSRC list or header extension runs past the end of the datagram.
    #[error("RTP header needs {needed} bytes but the datagram has {available}")]
    Truncated {
        /// Header length announced by the fixed header.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The padding count is zero or larger than the payload.
    #[error("invalid RTP padding length {0}")]
    Padding(u8),
    /// A payload type above 127 was given to the builder.
    #[error("payload type {0} is not in 0..=127")]
    PayloadType(u8),
    /// More than 15 CSRCs were given to the builder.
    #[error("{0} CSRCs exceed the 15 an RTP header can carry")]
    TooManyCsrcs(usize),
    /// A header extension is not a whole number of 32-bit words, or is too long.
    #[error("header extension of {0} bytes is not a multiple of 4 up to 65532")]
    Extension(usize),
}

/// What a datagram arriving on a media port is, by its first two bytes (RFC 7983 for
/// STUN/DTLS, RFC 5761 §4 for RTP versus RTCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// RTP version 2 with a payload type outside 64..=95.
    Rtp,
    /// RTCP: version 2 and a packet type in 192..=223.
    Rtcp,
    /// Anything else (STUN, DTLS, ZRTP, garbage).
    Other,
}

/// Sorts a datagram into RTP, RTCP or other without parsing it.
pub fn classify(datagram: &[u8]) -> PacketKind {
    match datagram {
        [b0, b1, ..] if b0 >> 6 == 2 => {
            if (192..=223).contains(b1) {
                PacketKind::Rtcp
            } else {
                PacketKind::Rtp
            }
        }
        _ => PacketKind::Other,
    }
}

/// The fixed RTP header fields (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpHeader {
    /// Marker bit; for audio, the first packet of a talk spurt.
    pub marker: bool,
    /// Payload type, 0..=127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// RTP timestamp in clock-rate units.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// A header extension (RFC 3550 §5.3.1): a 16-bit profile value and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// "defined by profile"; 0xBEDE and 0x100x mark RFC 8285 element lists.
    pub profile: u16,
    /// Extension data, a multiple of four bytes.
    pub data: &'a [u8],
}

impl<'a> RtpExtension<'a> {
    /// The RFC 8285 elements `(id, value)` when the profile is the one-byte (0xBEDE)
    /// or two-byte (0x1000–0x100F) form; empty for other profiles. Malformed trailing
    /// bytes end the list rather than fail, since extensions are advisory.
    pub fn elements(&self) -> Vec<(u8, &'a [u8])> {
        let mut out = Vec::new();
        let mut rest = self.data;
        if self.profile == 0xBEDE {
            while let Some((&b, tail)) = rest.split_first() {
                if b == 0 {
                    rest = tail; // padding
                    continue;
                }
                let id = b >> 4;
                if id == 15 {
                    break; // reserved: stop processing (RFC 8285 §4.2)
                }
                let len = usize::from(b & 0x0F) + 1;
                let Some(value) = tail.get(..len) else { break };
                out.push((id, value));
                rest = tail.get(len..).unwrap_or_default();
            }
        } else if self.profile & 0xFFF0 == 0x1000 {
            while let Some((&id, tail)) = rest.split_first() {
                if id == 0 {
                    rest = tail;
                    continue;
                }
                let Some((&len, tail)) = tail.split_first() else {
                    break;
                };
                let len = usize::from(len);
                let Some(value) = tail.get(..len) else { break };
                out.push((id, value));
                rest = tail.get(len..).unwrap_or_default();
            }
        }
        out
    }
}

/// A parsed RTP packet borrowing the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    header: RtpHeader,
    csrc: &'a [u8],
    extension: Option<RtpExtension<'a>>,
    payload: &'a [u8],
    padding: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses one RTP datagram. Any byte string is accepted as input; only well-formed
    /// version-2 packets are returned.
    pub fn parse(datagram: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        use rtp_rs::RtpReaderError as E;
        let reader = rtp_rs::RtpReader::new(datagram).map_err(|e| match e {
            E::BufferTooShort(n) => RtpError::TooShort(n),
            E::UnsupportedVersion(v) => RtpError::Version(v),
            E::HeadersTruncated {
                header_len,
                buffer_len,
            } => RtpError::Truncated {
                needed: header_len,
                available: buffer_len,
            },
            E::PaddingLengthInvalid(p) => RtpError::Padding(p),
        })?;
        let csrc_len = usize::from(reader.csrc_count()) * 4;
        let csrc = datagram.get(12..12 + csrc_len).unwrap_or_default();
        Ok(RtpPacket {
            header: RtpHeader {
                marker: reader.mark(),
                payload_type: reader.payload_type(),
                sequence: reader.sequence_number().into(),
                timestamp: reader.timestamp(),
                ssrc: reader.ssrc(),
            },
            csrc,
            extension: reader
                .extension()
                .map(|(profile, data)| RtpExtension { profile, data }),
            payload: reader.payload(),
            padding: reader.padding().unwrap_or(0),
        })
    }

    /// The fixed header fields.
    pub fn header(&self) -> RtpHeader {
        self.header
    }
    /// Marker bit.
    pub fn marker(&self) -> bool {
        self.header.marker
    }
    /// Payload type.
    pub fn payload_type(&self) -> u8 {
        self.header.payload_type
    }
    /// Sequence number.
    pub fn sequence(&self) -> u16 {
        self.header.sequence
    }
    /// RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        self.header.timestamp
    }
    /// Synchronisation source.
    pub fn ssrc(&self) -> u32 {
        self.header.ssrc
    }
    /// Contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc
            .chunks_exact(4)
            .map(|c| c.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)))
    }
    /// The header extension, if the X bit is set.
    pub fn extension(&self) -> Option<RtpExtension<'a>> {
        self.extension
    }
    /// The payload without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// Number of padding bytes (including the count byte), 0 without padding.
    pub fn padding(&self) -> u8 {
        self.padding
    }
}

/// Writes RTP packets. Borrowed payload, CSRC and extension data keep building
/// allocation-free; [`RtpBuilder::write`] appends to a buffer the caller reuses.
#[derive(Debug, Clone)]
pub struct RtpBuilder<'a> {
    header: RtpHeader,
    csrcs: &'a [u32],
    extension: Option<RtpExtension<'a>>,
    payload: &'a [u8],
}

impl<'a> RtpBuilder<'a> {
    /// A packet with the given payload type, sequence number, timestamp and SSRC, no
    /// marker, no CSRC, no extension and an empty payload.
    pub fn new(payload_type: u8, sequence: u16, timestamp: u32, ssrc: u32) -> Self {
        RtpBuilder {
            header: RtpHeader {
                marker: false,
                payload_type,
                sequence,
                timestamp,
                ssrc,
            },
            csrcs: &[],
            extension: None,
            payload: &[],
        }
    }

    /// A builder with every field of `header`.
    pub fn from_header(header: RtpHeader) -> Self {
        let mut b = RtpBuilder::new(0, 0, 0, 0);
        b.header = header;
        b
    }

    /// Sets the marker bit.
    pub fn marker(mut self, marker: bool) -> Self {
        self.header.marker = marker;
        self
    }
    /// Sets the contributing sources (at most 15).
    pub fn csrcs(mut self, csrcs: &'a [u32]) -> Self {
        self.csrcs = csrcs;
        self
    }
    /// Sets a header extension; `data` must be a multiple of four bytes.
    pub fn extension(mut self, profile: u16, data: &'a [u8]) -> Self {
        self.extension = Some(RtpExtension { profile, data });
        self
    }
    /// Sets the payload.
    pub fn payload(mut self, payload: &'a [u8]) -> Self {
        self.payload = payload;
        self
    }

    /// Appends the packet to `out` and returns its length.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<usize, RtpError> {
        if self.header.payload_type > 127 {
            return Err(RtpError::PayloadType(self.header.payload_type));
        }
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooManyCsrcs(self.csrcs.len()));
        }
        let mut b = rtp_rs::RtpPacketBuilder::new()
            .payload_type(self.header.payload_type)
            .marked(self.header.marker)
            .sequence(self.header.sequence.into())
            .timestamp(self.header.timestamp)
            .ssrc(self.header.ssrc)
            .payload(self.payload);
        for &c in self.csrcs {
            b = b.add_csrc(c);
        }
        if let Some(ext) = self.extension {
            if ext.data.len() % 4 != 0 || ext.data.len() > 0xFFFC {
                return Err(RtpError::Extension(ext.data.len()));
            }
            b = b.extension(ext.profile, ext.data);
        }
        let start = out.len();
        out.resize(start + b.target_length(), 0);
        let written = out
            .get_mut(start..)
            .map(|tail| b.build_into(tail))
            .transpose()
            .ok()
            .flatten()
            .unwrap_or(0);
        out.truncate(start + written);
        Ok(written)
    }

    /// The packet as a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, RtpError> {
        let mut out = Vec::new();
        self.write(&mut out)?;
        Ok(out)
    }
}

/// Serial-number comparison for 16-bit sequence numbers: how far `b` is ahead of `a`
/// (negative when behind), assuming they are within half the number space.
pub fn seq_distance(a: u16, b: u16) -> i32 {
    i32::from(b.wrapping_sub(a) as i16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse_every_field() {
        let ext = [0x10, 0xAA, 0x21, 0xBB, 0xCC, 0, 0, 0];
        let wire = RtpBuilder::new(96, 65535, u32::MAX, 0xDEAD_BEEF)
            .marker(true)
            .csrcs(&[1, 2, 0xFFFF_FFFF])
            .extension(0xBEDE, &ext)
            .payload(b"hello")
            .to_vec()
            .unwrap();
        let p = RtpPacket::parse(&wire).unwrap();
        assert_eq!(
            p.header(),
            RtpHeader {
                marker: true,
                payload_type: 96,
                sequence: 65535,
                timestamp: u32::MAX,
                ssrc: 0xDEAD_BEEF
            }
        );
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![1, 2, 0xFFFF_FFFF]);
        let e = p.extension().unwrap();
        assert_eq!(e.profile, 0xBEDE);
        assert_eq!(e.elements(), vec![(1, &[0xAA][..]), (2, &[0xBB, 0xCC][..])]);
        assert_eq!(p.payload(), b"hello");
        assert_eq!(classify(&wire), PacketKind::Rtp);
    }

    #[test]
    fn two_byte_extension_elements() {
        let e = RtpExtension {
            profile: 0x1000,
            data: &[1, 2, 0xA, 0xB, 0, 3, 0, 0],
        };
        assert_eq!(e.elements(), vec![(1, &[0xA, 0xB][..]), (3, &[][..])]);
        let bad = RtpExtension {
            profile: 0xBEDE,
            data: &[0x13, 1],
        };
        assert!(bad.elements().is_empty());
    }

    #[test]
    fn builder_rejects_what_rtp_cannot_carry() {
        assert_eq!(
            RtpBuilder::new(128, 0, 0, 0).to_vec(),
            Err(RtpError::PayloadType(128))
        );
        let many = [0u32; 16];
        assert_eq!(
            RtpBuilder::new(0, 0, 0, 0).csrcs(&many).to_vec(),
            Err(RtpError::TooManyCsrcs(16))
        );
        assert_eq!(
            RtpBuilder::new(0, 0, 0, 0)
                .extension(1, &[1, 2, 3])
                .to_vec(),
            Err(RtpError::Extension(3))
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort(11)));
        assert_eq!(
            RtpPacket::parse(&[0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtpError::Version(1))
        );
        // Two CSRCs announced, none present.
        assert!(matches!(
            RtpPacket::parse(&[0x82, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtpError::Truncated { .. })
        ));
        // Padding count larger than the packet.
        let mut p = RtpBuilder::new(0, 0, 0, 0)
            .payload(&[1, 2, 3])
            .to_vec()
            .unwrap();
        p[0] |= 0x20;
        *p.last_mut().unwrap() = 200;
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::Padding(200)));
        // Valid padding is stripped.
        *p.last_mut().unwrap() = 2;
        let parsed = RtpPacket::parse(&p).unwrap();
        assert_eq!(parsed.payload(), &[1]);
        assert_eq!(parsed.padding(), 2);
    }

    #[test]
    fn classify_demultiplexes() {
        assert_eq!(classify(&[0x80, 200, 0, 6]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x81, 201]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x80, 0x80 | 8]), PacketKind::Rtp);
        assert_eq!(classify(&[0x00, 0x01]), PacketKind::Other); // STUN
        assert_eq!(classify(&[22, 254]), PacketKind::Other); // DTLS
        assert_eq!(classify(&[0x80]), PacketKind::Other);
    }

    #[test]
    fn sequence_distance_wraps() {
        assert_eq!(seq_distance(65535, 0), 1);
        assert_eq!(seq_distance(0, 65535), -1);
        assert_eq!(seq_distance(100, 90), -10);
    }

    #[test]
    fn write_appends() {
        let mut buf = vec![9u8];
        let n = RtpBuilder::new(8, 1, 2, 3)
            .payload(&[0xD5; 160])
            .write(&mut buf)
            .unwrap();
        assert_eq!(n, 172);
        assert_eq!(buf.len(), 173);
        assert_eq!(RtpPacket::parse(&buf[1..]).unwrap().payload_type(), 8);
    }
}
