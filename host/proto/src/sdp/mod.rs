//! SDP session descriptions (RFC 4566) and the offer/answer model (RFC 3264).
//!
//! Every call starts with an SDP offer in the INVITE, and the answer in our 200 OK
//! decides which codec, address and port the media uses, so a single misread line
//! is a one-way-audio call. The types here are plain data with public fields: the
//! parser keeps everything it does not interpret (unknown attributes, `i=`, `k=`,
//! `z=`, `r=`, bandwidths, extra `c=` lines) so that a description prints back to one
//! that parses to the same value, and the typed attributes that negotiation needs
//! ([`RtpMap`], [`Fmtp`], `ptime`, `maxptime`, direction, `rtcp`) are parsed once.
//! A typed attribute whose value does not follow its grammar is kept as
//! [`Attribute::Other`] instead of failing the whole offer: peers do send odd
//! attributes, and refusing a call over an attribute we may not even need helps
//! nobody. The structural lines (`v=`, `o=`, `s=`, `c=`, `t=`, `m=`) are strict,
//! because negotiation depends on them.
//!
//! [`answer`] and [`Negotiator`] implement the answerer (and the offerer, for
//! re-INVITEs voxgate sends) and return a [`Negotiated`] with everything the media
//! path needs. All entry points take bytes or values and never panic;
//! [`SessionDescription::parse`] is the fuzzing entry point.
//!
//! ```
//! use voxgate_proto::sdp::{self, MediaCapabilities, SessionDescription};
//! use voxgate_proto::codec::Codec;
//!
//! let offer = SessionDescription::parse(b"v=0\r\n\
//!     o=- 123 1 IN IP4 192.0.2.10\r\n\
//!     s=-\r\n\
//!     c=IN IP4 192.0.2.10\r\n\
//!     t=0 0\r\n\
//!     m=audio 40000 RTP/AVP 8 0 101\r\n\
//!     a=rtpmap:101 telephone-event/8000\r\n\
//!     a=fmtp:101 0-16\r\n")?;
//! let local = MediaCapabilities::new("198.51.100.5".parse().unwrap(), 20000, 42);
//! let neg = sdp::answer(&offer, &local)?;
//! assert_eq!((neg.codec, neg.payload_type, neg.telephone_event), (Codec::Pcma, 8, Some(101)));
//! assert_eq!(neg.remote_rtp().unwrap().to_string(), "192.0.2.10:40000");
//! assert!(neg.answer().to_string().contains("m=audio 20000 RTP/AVP 8 101\r\n"));
//! # Ok::<(), sdp::SdpError>(())
//! ```

mod negotiate;
mod parse;
mod print;

use std::net::IpAddr;

pub use negotiate::{MediaCapabilities, MediaChange, Negotiated, Negotiator, answer};

/// Largest session description accepted (bytes). Real offers are under 4 KiB; a
/// carrier listing every codec it knows stays far below this.
pub const MAX_SDP_SIZE: usize = 64 * 1024;

/// Why bytes are not an acceptable session description, or an offer cannot be
/// answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// No lines at all.
    #[error("empty session description")]
    Empty,
    /// Over [`MAX_SDP_SIZE`].
    #[error("session description of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Size received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not UTF-8 text.
    #[error("session description is not UTF-8")]
    NotUtf8,
    /// A line does not follow the RFC 4566 grammar.
    #[error("SDP line {line}: {what}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A mandatory line is absent.
    #[error("SDP has no {0}= line")]
    MissingLine(char),
    /// An audio stream was offered, but with no codec voxgate supports.
    #[error("no codec in common with the offer")]
    NoCommonCodec,
    /// No audio stream over plain RTP (RTP/AVP or RTP/AVPF) was offered.
    #[error("no audio stream over RTP/AVP in the offer")]
    NoUsableStream,
    /// The chosen stream has no `c=` line, neither its own nor a session-level one.
    #[error("media description {0} has no connection address")]
    MissingConnection(usize),
    /// The connection address is a host name; media needs an IP address.
    #[error("connection address {0:?} is not an IP address")]
    UnresolvedAddress(String),
    /// [`Negotiator::accept_answer`] without an outstanding offer.
    #[error("no offer is pending")]
    NoPendingOffer,
    /// An answer that does not correspond to our offer.
    #[error("answer does not match the offer: {0}")]
    AnswerMismatch(&'static str),
}

impl SdpError {
    /// The SIP status to refuse an INVITE with: 400 for unreadable SDP, 488 (Not
    /// Acceptable Here) when the SDP is readable but cannot be answered.
    pub fn sip_status(&self) -> u16 {
        match self {
            SdpError::Empty
            | SdpError::TooLarge { .. }
            | SdpError::NotUtf8
            | SdpError::Syntax { .. }
            | SdpError::MissingLine(_)
            | SdpError::MissingConnection(_) => 400,
            SdpError::NoPendingOffer => 500,
            _ => 488,
        }
    }
}

/// Media direction attribute (RFC 4566 §6, RFC 3264 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`, the default.
    #[default]
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction named by an attribute.
    pub fn from_name(name: &str) -> Option<Direction> {
        Some(match name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// Whether the side stating this direction sends.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the side stating this direction receives.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other side.
    pub fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// What both allow.
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }
}

/// Address family of `c=` and `o=` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressType {
    /// `IP4`.
    Ip4,
    /// `IP6`.
    Ip6,
}

impl AddressType {
    /// The SDP token.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressType::Ip4 => "IP4",
            AddressType::Ip6 => "IP6",
        }
    }

    /// The family of an IP address.
    pub fn of(ip: IpAddr) -> AddressType {
        match ip {
            IpAddr::V4(_) => AddressType::Ip4,
            IpAddr::V6(_) => AddressType::Ip6,
        }
    }
}

/// `o=` line. The fields other than the version are opaque to negotiation and kept
/// as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name, `-` when none.
    pub username: String,
    /// Session id (numeric by convention; kept as text).
    pub session_id: String,
    /// Session version, incremented whenever the description changes.
    pub session_version: u64,
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub address_type: String,
    /// Address of the machine that created the session.
    pub address: String,
}

/// `c=` line (network type `IN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IP4` or `IP6`.
    pub address_type: AddressType,
    /// IP literal or host name, without TTL/count suffixes.
    pub address: String,
    /// Multicast TTL (IPv4 only).
    pub ttl: Option<u8>,
    /// Number of multicast addresses.
    pub count: Option<u32>,
}

impl Connection {
    /// A unicast connection line for `ip`.
    pub fn new(ip: IpAddr) -> Self {
        Connection {
            address_type: AddressType::of(ip),
            address: ip.to_string(),
            ttl: None,
            count: None,
        }
    }

    /// The address as an IP, `None` for a host name.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// `0.0.0.0` or `::`: the RFC 2543 way of putting a call on hold.
    pub fn is_unspecified(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

/// `b=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// Bandwidth type (`AS`, `CT`, `TIAS`, `RS`, `RR` …).
    pub kind: String,
    /// Value (kbit/s for AS/CT, bit/s for TIAS).
    pub value: u64,
}

/// `t=` line with the `r=` lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
    /// Raw `r=` values.
    pub repeats: Vec<String>,
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written (compare case-insensitively).
    pub encoding: String,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// Encoding parameters: the channel count for audio.
    pub channels: Option<u32>,
}

/// `a=fmtp:<format> <parameters>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The format (payload type for RTP) this applies to.
    pub format: String,
    /// The parameters, as written.
    pub params: String,
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpAttribute {
    /// RTCP port.
    pub port: u16,
    /// RTCP address, when it differs from the RTP one.
    pub connection: Option<Connection>,
}

/// An `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `rtpmap`.
    RtpMap(RtpMap),
    /// `fmtp`.
    Fmtp(Fmtp),
    /// `ptime` in milliseconds.
    Ptime(u32),
    /// `maxptime` in milliseconds.
    MaxPtime(u32),
    /// `sendrecv`, `sendonly`, `recvonly`, `inactive`.
    Direction(Direction),
    /// `rtcp`.
    Rtcp(RtcpAttribute),
    /// Anything else, or a known attribute whose value did not parse, kept verbatim.
    Other {
        /// Attribute name.
        name: String,
        /// Value after the colon, if any.
        value: Option<String>,
    },
}

impl Attribute {
    /// The attribute name.
    pub fn name(&self) -> &str {
        match self {
            Attribute::RtpMap(_) => "rtpmap",
            Attribute::Fmtp(_) => "fmtp",
            Attribute::Ptime(_) => "ptime",
            Attribute::MaxPtime(_) => "maxptime",
            Attribute::Direction(d) => d.as_str(),
            Attribute::Rtcp(_) => "rtcp",
            Attribute::Other { name, .. } => name,
        }
    }

    /// A property attribute (`a=<name>`) or value attribute (`a=<name>:<value>`) to be
    /// printed verbatim.
    pub fn other(name: &str, value: Option<&str>) -> Attribute {
        Attribute::Other {
            name: name.to_string(),
            value: value.map(str::to_string),
        }
    }
}

fn find_direction(attrs: &[Attribute]) -> Option<Direction> {
    attrs.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

fn find_ptime(attrs: &[Attribute]) -> Option<u32> {
    attrs.iter().find_map(|a| match a {
        Attribute::Ptime(p) => Some(*p),
        _ => None,
    })
}

/// An `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: `audio`, `video`, `image`, `application`, `text`, `message`.
    pub media: String,
    /// Transport port; 0 means the stream is disabled or rejected.
    pub port: u16,
    /// Number of ports (`<port>/<count>`).
    pub port_count: Option<u16>,
    /// Transport protocol (`RTP/AVP`, `RTP/SAVP`, `udptl` …).
    pub protocol: String,
    /// Media formats: payload type numbers for RTP.
    pub formats: Vec<String>,
    /// `i=`.
    pub information: Option<String>,
    /// `c=` lines of this section.
    pub connections: Vec<Connection>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=`.
    pub key: Option<String>,
    /// `a=` lines in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A section with no formats or attributes.
    pub fn new(media: &str, port: u16, protocol: &str) -> Self {
        MediaDescription {
            media: media.to_string(),
            port,
            port_count: None,
            protocol: protocol.to_string(),
            formats: Vec::new(),
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// Formats that are RTP payload types, in offer order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|&pt| pt <= 127)
    }

    /// The `rtpmap` of a payload type.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::RtpMap(m) if m.payload_type == payload_type => Some(m),
            _ => None,
        })
    }

    /// The `fmtp` parameters of a format.
    pub fn fmtp(&self, format: &str) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp(f) if f.format == format => Some(f.params.as_str()),
            _ => None,
        })
    }

    /// `a=ptime`.
    pub fn ptime(&self) -> Option<u32> {
        find_ptime(&self.attributes)
    }

    /// `a=maxptime`.
    pub fn maxptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxPtime(p) => Some(*p),
            _ => None,
        })
    }

    /// The direction attribute of this section, if present.
    pub fn direction(&self) -> Option<Direction> {
        find_direction(&self.attributes)
    }

    /// `a=rtcp`.
    pub fn rtcp(&self) -> Option<&RtcpAttribute> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtcp(r) => Some(r),
            _ => None,
        })
    }

    /// Whether an attribute of this name is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.name() == name)
    }

    /// Whether the port is 0.
    pub fn is_disabled(&self) -> bool {
        self.port == 0
    }
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=`.
    pub session_name: String,
    /// `i=`.
    pub information: Option<String>,
    /// `u=`.
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines (at least one; `t=0 0` is assumed when absent).
    pub times: Vec<Timing>,
    /// `z=`.
    pub time_zones: Option<String>,
    /// Session-level `k=`.
    pub key: Option<String>,
    /// Session-level `a=` lines.
    pub attributes: Vec<Attribute>,
    /// `m=` sections.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses a session description (a SIP body). Accepts CRLF or bare LF line ends
    /// and ignores empty lines; rejects anything over [`MAX_SDP_SIZE`].
    pub fn parse(bytes: &[u8]) -> Result<SessionDescription, SdpError> {
        parse::parse(bytes)
    }

    /// The description as CRLF-terminated lines, ready to be a SIP body.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// The session-level direction attribute, if present.
    pub fn direction(&self) -> Option<Direction> {
        find_direction(&self.attributes)
    }

    /// The connection that applies to media section `index`: its own first `c=`
    /// line, else the session-level one.
    pub fn connection_for(&self, index: usize) -> Option<&Connection> {
        self.media
            .get(index)
            .and_then(|m| m.connections.first())
            .or(self.connection.as_ref())
    }

    /// The direction in effect for media section `index` (media level, then session
    /// level, then `sendrecv`).
    pub fn direction_for(&self, index: usize) -> Direction {
        self.media
            .get(index)
            .and_then(MediaDescription::direction)
            .or(self.direction())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
