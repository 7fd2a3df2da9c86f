//! Offer/answer (RFC 3264) for one audio stream.
//!
//! voxgate terminates calls, so it takes exactly one audio stream: the first offered
//! `m=audio` over RTP/AVP (or RTP/AVPF) that has a codec in common. Every other
//! section is rejected with port 0, as RFC 3264 §6 prescribes, rather than the whole
//! offer refused: a softphone that also offers video still gets a voice call.
//!
//! The codec is the first one *in the offer's order* that voxgate supports, because
//! the offerer lists its preference first (RFC 3264 §6.1) and PBXs order codecs for
//! a reason (transcoding cost, trunk bandwidth). The answer lists only that codec
//! plus telephone-event, so both sides know exactly what will be sent.
//!
//! [`Negotiator`] holds what must survive between exchanges of one dialog: the
//! `o=` line whose version changes exactly when our description changes (RFC 3264
//! §8; an unchanged re-answer, e.g. to a session-refresh re-INVITE, keeps it), the
//! position of the audio stream, and the offer voxgate has sent and awaits an answer
//! for.

use std::net::{IpAddr, SocketAddr};

use super::{
    Attribute, Connection, Direction, Fmtp, MediaDescription, Origin, RtpMap, SdpError,
    SessionDescription, Timing, find_ptime,
};
use crate::codec::Codec;

/// What voxgate can do and where it listens, for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCapabilities {
    /// Local media address put in `c=` and `o=`.
    pub address: IpAddr,
    /// Local RTP port (RTCP is the next port).
    pub rtp_port: u16,
    /// Codecs accepted; in our own offers, listed in this order.
    pub codecs: Vec<Codec>,
    /// Whether RFC 4733 telephone-events are accepted.
    pub telephone_event: bool,
    /// Payload type for telephone-event in our own offers.
    pub telephone_event_payload_type: u8,
    /// Packet time in ms for our offers and when the offer names none or an odd one.
    pub ptime: u32,
    /// The direction voxgate wants: `SendRecv`, or `SendOnly` to put the caller on
    /// hold, `Inactive` to stop media.
    pub direction: Direction,
    /// `o=` user name.
    pub username: String,
    /// `o=` session id; the caller chooses it (e.g. from a clock or random source).
    pub session_id: u64,
    /// `s=` text.
    pub session_name: String,
}

impl MediaCapabilities {
    /// Every codec, telephone-event on PT 101, 20 ms, send and receive.
    pub fn new(address: IpAddr, rtp_port: u16, session_id: u64) -> Self {
        MediaCapabilities {
            address,
            rtp_port,
            codecs: Codec::ALL.to_vec(),
            telephone_event: true,
            telephone_event_payload_type: 101,
            ptime: 20,
            direction: Direction::SendRecv,
            username: "voxgate".to_string(),
            session_id,
            session_name: "voxgate".to_string(),
        }
    }
}

/// The outcome of an offer/answer exchange: what the media path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Index of the audio `m=` section.
    pub media_index: usize,
    /// Where the peer receives RTP (may be unspecified: on hold RFC 2543 style).
    pub remote_address: IpAddr,
    /// The peer's RTP port.
    pub remote_rtp_port: u16,
    /// Where the peer receives RTCP (`a=rtcp` or RTP port + 1).
    pub remote_rtcp: SocketAddr,
    /// Payload type of the codec on the wire.
    pub payload_type: u8,
    /// The codec.
    pub codec: Codec,
    /// RTP clock rate of the codec.
    pub clock_rate: u32,
    /// Packet time to send with, in ms.
    pub ptime: u32,
    /// Payload type of telephone-event, if both sides use it.
    pub telephone_event: Option<u8>,
    /// Events accepted for telephone-event, as an `fmtp` list (`0-16`).
    pub telephone_events: Option<String>,
    /// Our direction for this stream as stated in our description.
    pub direction: Direction,
    /// The peer has put us on hold (`sendonly`/`inactive` or `c=0.0.0.0`).
    pub remote_hold: bool,
    /// Our session description: the answer we send, or the offer we sent when we were
    /// the offerer.
    pub local_sdp: SessionDescription,
}

impl Negotiated {
    /// Our SDP: the answer to put in the 200 OK.
    pub fn answer(&self) -> &SessionDescription {
        &self.local_sdp
    }

    /// Where to send RTP, `None` when we must not send (hold, or no address).
    pub fn remote_rtp(&self) -> Option<SocketAddr> {
        (self.can_send() && !self.remote_address.is_unspecified() && self.remote_rtp_port != 0)
            .then_some(SocketAddr::new(self.remote_address, self.remote_rtp_port))
    }

    /// Where to send RTCP, `None` when the address is unspecified.
    pub fn remote_rtcp(&self) -> Option<SocketAddr> {
        (!self.remote_rtcp.ip().is_unspecified() && self.remote_rtcp.port() != 0)
            .then_some(self.remote_rtcp)
    }

    /// Whether we send media.
    pub fn can_send(&self) -> bool {
        self.direction.sends()
    }

    /// Whether we expect media.
    pub fn can_receive(&self) -> bool {
        self.direction.receives()
    }

    /// What changed from a previous exchange of the same dialog (re-INVITE).
    pub fn changes_from(&self, previous: &Negotiated) -> MediaChange {
        MediaChange {
            remote_changed: self.remote_address != previous.remote_address
                || self.remote_rtp_port != previous.remote_rtp_port,
            codec_changed: self.codec != previous.codec
                || self.payload_type != previous.payload_type,
            ptime_changed: self.ptime != previous.ptime,
            telephone_event_changed: self.telephone_event != previous.telephone_event,
            direction_changed: self.direction != previous.direction,
            hold_started: self.remote_hold && !previous.remote_hold,
            hold_ended: !self.remote_hold && previous.remote_hold,
        }
    }
}

/// Differences between two negotiations of one dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaChange {
    /// The peer's RTP address or port changed: send elsewhere.
    pub remote_changed: bool,
    /// The codec or its payload type changed: new encoder/decoder, reset the jitter
    /// buffer.
    pub codec_changed: bool,
    /// The packet time changed.
    pub ptime_changed: bool,
    /// Telephone-event appeared, disappeared or changed payload type.
    pub telephone_event_changed: bool,
    /// Our direction changed.
    pub direction_changed: bool,
    /// The peer put us on hold.
    pub hold_started: bool,
    /// The peer took us off hold.
    pub hold_ended: bool,
}

impl MediaChange {
    /// Whether anything changed.
    pub fn any(&self) -> bool {
        *self != MediaChange::default()
    }
}

/// Per-dialog offer/answer state.
#[derive(Debug, Clone)]
pub struct Negotiator {
    caps: MediaCapabilities,
    version: u64,
    last_local: Option<SessionDescription>,
    current: Option<Negotiated>,
    pending_offer: Option<SessionDescription>,
}

/// Answers an initial offer (no dialog state; see [`Negotiator`] for re-INVITEs).
pub fn answer(
    offer: &SessionDescription,
    local: &MediaCapabilities,
) -> Result<Negotiated, SdpError> {
    Negotiator::new(local.clone()).answer(offer)
}

/// Events voxgate understands: 0–15 DTMF and 16 flash.
const SUPPORTED_EVENTS: u32 = (1 << 17) - 1;
/// RFC 4733 §2.4.1: without `fmtp`, events 0–15 are meant.
const DEFAULT_EVENTS: u32 = (1 << 16) - 1;

/// Parses an event list such as `0-15,16` into a bit set of events 0..=31; events
/// above 31 are ignored (we support none of them), a malformed list yields `None`.
fn parse_events(list: &str) -> Option<u32> {
    let mut set = 0u32;
    for item in list.split(',') {
        let item = item.trim();
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?),
            None => {
                let v = item.parse::<u16>().ok()?;
                (v, v)
            }
        };
        if lo > hi || hi > 255 {
            return None;
        }
        for e in lo..=hi.min(31) {
            set |= 1 << e;
        }
    }
    Some(set)
}

/// Prints a bit set of events as ranges.
fn format_events(set: u32) -> String {
    let mut out = String::new();
    let mut e = 0u32;
    while e < 32 {
        if set & (1 << e) == 0 {
            e += 1;
            continue;
        }
        let start = e;
        while e < 32 && set & (1 << e) != 0 {
            e += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if e - 1 == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{}-{}", start, e - 1));
        }
    }
    out
}

fn is_plain_rtp(protocol: &str) -> bool {
    protocol.eq_ignore_ascii_case("RTP/AVP") || protocol.eq_ignore_ascii_case("RTP/AVPF")
}

/// The codec a payload type of `m` stands for: its rtpmap if present, else the
/// static assignment.
fn codec_of(m: &MediaDescription, pt: u8) -> Option<Codec> {
    match m.rtpmap(pt) {
        Some(map) => Codec::from_rtpmap(&map.encoding, map.clock_rate, map.channels),
        None => Codec::from_static_payload_type(pt),
    }
}

fn telephone_event_of(m: &MediaDescription, clock_rate: u32) -> Option<(u8, u32)> {
    m.payload_types().find_map(|pt| {
        let map = m.rtpmap(pt)?;
        if !map.encoding.eq_ignore_ascii_case("telephone-event") || map.clock_rate != clock_rate {
            return None;
        }
        let events = match m.fmtp(&pt.to_string()) {
            Some(list) => parse_events(list)?,
            None => DEFAULT_EVENTS,
        };
        Some((pt, events))
    })
}

/// A usable packet time: a multiple of 10 ms up to 60 ms, within `maxptime`.
fn choose_ptime(offered: Option<u32>, maxptime: Option<u32>, default: u32) -> u32 {
    let mut p = match offered {
        Some(p) if (10..=60).contains(&p) && p % 10 == 0 => p,
        _ => default,
    };
    if let Some(max) = maxptime.filter(|&m| m >= 10)
        && p > max
    {
        p = (max / 10 * 10).max(10);
    }
    p
}

/// What was chosen for the audio stream, before it is written down.
struct Selection {
    payload_type: u8,
    codec: Codec,
    telephone_event: Option<(u8, u32)>,
    ptime: u32,
    remote_address: IpAddr,
    remote_rtp_port: u16,
    remote_rtcp: SocketAddr,
    /// The peer's direction for the stream (from its description).
    remote_direction: Direction,
    remote_hold: bool,
}

fn remote_endpoint(
    sd: &SessionDescription,
    index: usize,
    m: &MediaDescription,
) -> Result<(IpAddr, u16, SocketAddr), SdpError> {
    let conn = sd
        .connection_for(index)
        .ok_or(SdpError::MissingConnection(index))?;
    let ip = conn
        .ip()
        .ok_or_else(|| SdpError::UnresolvedAddress(conn.address.clone()))?;
    let rtcp = match m.rtcp() {
        Some(r) => {
            let rip = r.connection.as_ref().and_then(Connection::ip).unwrap_or(ip);
            SocketAddr::new(rip, r.port)
        }
        None => SocketAddr::new(ip, m.port.checked_add(1).unwrap_or(m.port)),
    };
    Ok((ip, m.port, rtcp))
}

impl Negotiator {
    /// State for a new dialog.
    pub fn new(caps: MediaCapabilities) -> Self {
        Negotiator {
            caps,
            version: 1,
            last_local: None,
            current: None,
            pending_offer: None,
        }
    }

    /// The capabilities.
    pub fn capabilities(&self) -> &MediaCapabilities {
        &self.caps
    }

    /// The capabilities, to change before the next exchange (e.g. set
    /// `direction = SendOnly` and call [`Negotiator::create_offer`] to hold).
    pub fn capabilities_mut(&mut self) -> &mut MediaCapabilities {
        &mut self.caps
    }

    /// The result of the last successful exchange.
    pub fn current(&self) -> Option<&Negotiated> {
        self.current.as_ref()
    }

    /// Answers an offer, initial or in a re-INVITE. On error nothing changes, and the
    /// previous negotiation stays in effect (RFC 3264 §8: a rejected re-offer leaves
    /// the session as it was).
    pub fn answer(&mut self, offer: &SessionDescription) -> Result<Negotiated, SdpError> {
        let mut chosen: Option<(usize, Selection)> = None;
        let mut saw_audio = false;
        let mut media = Vec::with_capacity(offer.media.len());
        for (i, m) in offer.media.iter().enumerate() {
            let candidate = chosen.is_none()
                && m.media.eq_ignore_ascii_case("audio")
                && m.port != 0
                && is_plain_rtp(&m.protocol);
            if candidate {
                saw_audio = true;
                if let Some(sel) = self.select(offer, i, m)? {
                    media.push(self.audio_section(m.protocol.as_str(), &sel));
                    chosen = Some((i, sel));
                    continue;
                }
            }
            media.push(rejected(m));
        }
        let Some((media_index, sel)) = chosen else {
            return Err(if saw_audio {
                SdpError::NoCommonCodec
            } else {
                SdpError::NoUsableStream
            });
        };
        let times = if offer.times.is_empty() {
            vec![Timing::default()]
        } else {
            offer.times.clone()
        };
        let direction = self.local_direction(&sel);
        let sdp = self.finish(media, times);
        let neg = Negotiated {
            media_index,
            remote_address: sel.remote_address,
            remote_rtp_port: sel.remote_rtp_port,
            remote_rtcp: sel.remote_rtcp,
            payload_type: sel.payload_type,
            codec: sel.codec,
            clock_rate: sel.codec.clock_rate(),
            ptime: sel.ptime,
            telephone_event: sel.telephone_event.map(|t| t.0),
            telephone_events: sel.telephone_event.map(|t| format_events(t.1)),
            direction,
            remote_hold: sel.remote_hold,
            local_sdp: sdp,
        };
        self.pending_offer = None;
        self.current = Some(neg.clone());
        Ok(neg)
    }

    /// Our direction: what the peer allows, what we want, and never sending to an
    /// unspecified address.
    fn local_direction(&self, sel: &Selection) -> Direction {
        let mut d = sel
            .remote_direction
            .reversed()
            .intersect(self.caps.direction);
        if sel.remote_address.is_unspecified() {
            d = d.intersect(Direction::RecvOnly);
        }
        d
    }

    fn select(
        &self,
        offer: &SessionDescription,
        index: usize,
        m: &MediaDescription,
    ) -> Result<Option<Selection>, SdpError> {
        let Some((payload_type, codec)) = m.payload_types().find_map(|pt| {
            codec_of(m, pt)
                .filter(|c| self.caps.codecs.contains(c))
                .map(|c| (pt, c))
        }) else {
            return Ok(None);
        };
        let (remote_address, remote_rtp_port, remote_rtcp) = remote_endpoint(offer, index, m)?;
        let telephone_event = if self.caps.telephone_event {
            telephone_event_of(m, codec.clock_rate())
                .map(|(pt, set)| (pt, set & SUPPORTED_EVENTS))
                .filter(|(_, set)| *set != 0)
        } else {
            None
        };
        let ptime = choose_ptime(
            m.ptime().or(find_ptime(&offer.attributes)),
            m.maxptime(),
            self.caps.ptime,
        );
        let remote_direction = offer.direction_for(index);
        let remote_hold = remote_address.is_unspecified()
            || matches!(remote_direction, Direction::SendOnly | Direction::Inactive);
        Ok(Some(Selection {
            payload_type,
            codec,
            telephone_event,
            ptime,
            remote_address,
            remote_rtp_port,
            remote_rtcp,
            remote_direction,
            remote_hold,
        }))
    }

    /// Our audio section for a selection.
    fn audio_section(&self, protocol: &str, sel: &Selection) -> MediaDescription {
        let mut m = MediaDescription::new("audio", self.caps.rtp_port, protocol);
        m.formats.push(sel.payload_type.to_string());
        m.attributes.push(Attribute::RtpMap(RtpMap {
            payload_type: sel.payload_type,
            encoding: sel.codec.encoding_name().to_string(),
            clock_rate: sel.codec.clock_rate(),
            channels: None,
        }));
        if let Some((pt, events)) = sel.telephone_event {
            m.formats.push(pt.to_string());
            m.attributes
                .push(telephone_event_rtpmap(pt, sel.codec.clock_rate()));
            m.attributes.push(Attribute::Fmtp(Fmtp {
                format: pt.to_string(),
                params: format_events(events),
            }));
        }
        m.attributes.push(Attribute::Ptime(sel.ptime));
        m.attributes
            .push(Attribute::Direction(self.local_direction(sel)));
        m
    }

    /// Wraps media sections in our session-level lines, choosing the `o=` version:
    /// unchanged if the description is the same as the last one we sent, else one more.
    fn finish(&mut self, media: Vec<MediaDescription>, times: Vec<Timing>) -> SessionDescription {
        let mut sdp = SessionDescription {
            origin: Origin {
                username: self.caps.username.clone(),
                session_id: self.caps.session_id.to_string(),
                session_version: self.version,
                net_type: "IN".to_string(),
                address_type: super::AddressType::of(self.caps.address)
                    .as_str()
                    .to_string(),
                address: self.caps.address.to_string(),
            },
            session_name: self.caps.session_name.clone(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: Some(Connection::new(self.caps.address)),
            bandwidths: Vec::new(),
            times,
            time_zones: None,
            key: None,
            attributes: Vec::new(),
            media,
        };
        if let Some(prev) = &self.last_local {
            let mut same = prev.clone();
            same.origin.session_version = self.version;
            if same != sdp {
                self.version = self.version.saturating_add(1);
                sdp.origin.session_version = self.version;
            }
        }
        self.last_local = Some(sdp.clone());
        sdp
    }

    /// Builds our own offer (re-INVITE from voxgate: hold with `direction =
    /// SendOnly`, resume, codec change by reordering `codecs`). Keeps the number and
    /// order of `m=` sections of the last exchange (RFC 3264 §8), with the other
    /// sections still disabled, and puts the codec in use first so that a hold does
    /// not also switch codecs.
    pub fn create_offer(&mut self) -> SessionDescription {
        let current = self.current.as_ref();
        let audio_index = current.map_or(0, |c| c.media_index);
        let prev_media = self
            .last_local
            .as_ref()
            .map(|s| s.media.clone())
            .unwrap_or_default();
        let protocol = prev_media
            .get(audio_index)
            .map_or("RTP/AVP".to_string(), |m| m.protocol.clone());

        let mut codecs: Vec<(u8, Codec)> = Vec::new();
        if let Some(c) = current.filter(|c| self.caps.codecs.contains(&c.codec)) {
            codecs.push((c.payload_type, c.codec));
        }
        for &c in &self.caps.codecs {
            if !codecs.iter().any(|(_, k)| *k == c) {
                codecs.push((c.static_payload_type(), c));
            }
        }
        let mut m = MediaDescription::new("audio", self.caps.rtp_port, &protocol);
        for (pt, c) in &codecs {
            m.formats.push(pt.to_string());
            m.attributes.push(Attribute::RtpMap(RtpMap {
                payload_type: *pt,
                encoding: c.encoding_name().to_string(),
                clock_rate: c.clock_rate(),
                channels: None,
            }));
        }
        if self.caps.telephone_event {
            let pt = current
                .and_then(|c| c.telephone_event)
                .unwrap_or(self.caps.telephone_event_payload_type);
            m.formats.push(pt.to_string());
            m.attributes.push(telephone_event_rtpmap(pt, 8000));
            m.attributes.push(Attribute::Fmtp(Fmtp {
                format: pt.to_string(),
                params: format_events(SUPPORTED_EVENTS),
            }));
        }
        m.attributes.push(Attribute::Ptime(
            current.map_or(self.caps.ptime, |c| c.ptime),
        ));
        m.attributes.push(Attribute::Direction(self.caps.direction));

        let mut media: Vec<MediaDescription> = prev_media
            .iter()
            .map(|p| if p.port == 0 { p.clone() } else { rejected(p) })
            .collect();
        match media.get_mut(audio_index) {
            Some(slot) => *slot = m,
            None => media.push(m),
        }
        let times = self
            .last_local
            .as_ref()
            .map_or_else(|| vec![Timing::default()], |s| s.times.clone());
        let sdp = self.finish(media, times);
        self.pending_offer = Some(sdp.clone());
        sdp
    }

    /// Forgets an offer whose transaction failed (e.g. 488 or 491 to our re-INVITE):
    /// the previous negotiation stays in effect. The `o=` version is not reused.
    pub fn cancel_offer(&mut self) {
        if self.pending_offer.take().is_some() {
            self.last_local = self.current.as_ref().map(|c| c.local_sdp.clone());
        }
    }

    /// Applies the answer to our pending offer.
    pub fn accept_answer(&mut self, answer: &SessionDescription) -> Result<Negotiated, SdpError> {
        let offer = self
            .pending_offer
            .as_ref()
            .ok_or(SdpError::NoPendingOffer)?;
        if answer.media.len() != offer.media.len() {
            return Err(SdpError::AnswerMismatch("number of m= lines differs"));
        }
        let index = offer
            .media
            .iter()
            .position(|m| m.port != 0 && m.media == "audio")
            .ok_or(SdpError::NoUsableStream)?;
        let (Some(ours), Some(theirs)) = (offer.media.get(index), answer.media.get(index)) else {
            return Err(SdpError::AnswerMismatch("audio section missing"));
        };
        if theirs.port == 0 {
            return Err(SdpError::NoCommonCodec);
        }
        let offered: Vec<u8> = ours.payload_types().collect();
        let (payload_type, codec) = theirs
            .payload_types()
            .filter(|pt| offered.contains(pt))
            .find_map(|pt| codec_of(ours, pt).map(|c| (pt, c)))
            .ok_or(SdpError::NoCommonCodec)?;
        let (remote_address, remote_rtp_port, remote_rtcp) =
            remote_endpoint(answer, index, theirs)?;
        let telephone_event = telephone_event_of(theirs, codec.clock_rate())
            .filter(|(pt, _)| offered.contains(pt))
            .map(|(pt, set)| (pt, set & SUPPORTED_EVENTS));
        let remote_direction = answer.direction_for(index);
        let sel = Selection {
            payload_type,
            codec,
            telephone_event,
            ptime: choose_ptime(
                theirs.ptime().or(find_ptime(&answer.attributes)),
                theirs.maxptime(),
                self.caps.ptime,
            ),
            remote_address,
            remote_rtp_port,
            remote_rtcp,
            remote_direction,
            remote_hold: remote_address.is_unspecified()
                || matches!(remote_direction, Direction::SendOnly | Direction::Inactive),
        };
        let neg = Negotiated {
            media_index: index,
            remote_address,
            remote_rtp_port,
            remote_rtcp,
            payload_type,
            codec,
            clock_rate: codec.clock_rate(),
            ptime: sel.ptime,
            telephone_event: telephone_event.map(|t| t.0),
            telephone_events: telephone_event.map(|t| format_events(t.1)),
            direction: self.local_direction(&sel),
            remote_hold: sel.remote_hold,
            local_sdp: offer.clone(),
        };
        self.pending_offer = None;
        self.current = Some(neg.clone());
        Ok(neg)
    }
}

fn telephone_event_rtpmap(pt: u8, clock_rate: u32) -> Attribute {
    Attribute::RtpMap(RtpMap {
        payload_type: pt,
        encoding: "telephone-event".to_string(),
        clock_rate,
        channels: None,
    })
}

/// A rejected section: same media, protocol and formats, port 0, nothing else.
fn rejected(m: &MediaDescription) -> MediaDescription {
    let mut r = MediaDescription::new(&m.media, 0, &m.protocol);
    r.formats = m.formats.clone();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists() {
        assert_eq!(parse_events("0-15"), Some(0xFFFF));
        assert_eq!(parse_events("0-16"), Some(0x1FFFF));
        assert_eq!(parse_events("0-11, 16"), Some(0xFFF | 1 << 16));
        assert_eq!(parse_events("0-15,32-63,66,70"), Some(0xFFFF));
        assert_eq!(parse_events("5-2"), None);
        assert_eq!(parse_events("x"), None);
        assert_eq!(parse_events("0-300"), None);
        assert_eq!(format_events(0x1FFFF), "0-16");
        assert_eq!(format_events(0xFFF | 1 << 16), "0-11,16");
        assert_eq!(format_events(0b1010), "1,3");
    }

    #[test]
    fn ptime_rules() {
        assert_eq!(choose_ptime(None, None, 20), 20);
        assert_eq!(choose_ptime(Some(30), None, 20), 30);
        assert_eq!(choose_ptime(Some(25), None, 20), 20);
        assert_eq!(choose_ptime(Some(1000), None, 20), 20);
        assert_eq!(choose_ptime(Some(40), Some(30), 20), 30);
        assert_eq!(choose_ptime(None, Some(10), 20), 10);
        assert_eq!(choose_ptime(None, Some(5), 20), 20);
    }

    #[test]
    fn directions() {
        use Direction::*;
        assert_eq!(SendOnly.reversed(), RecvOnly);
        assert_eq!(Inactive.reversed(), Inactive);
        assert_eq!(SendRecv.intersect(RecvOnly), RecvOnly);
        assert_eq!(SendOnly.intersect(RecvOnly), Inactive);
    }
}
