//! The SDP parser: line by line, strict on structure, lenient on attribute values.

use super::{
    AddressType, Attribute, Bandwidth, Connection, Direction, Fmtp, MAX_SDP_SIZE, MediaDescription,
    Origin, RtcpAttribute, RtpMap, SdpError, SessionDescription, Timing,
};

type Res<T> = Result<T, &'static str>;

fn is_token(s: &str) -> bool {
    // RFC 4566 token: visible ASCII except the separators below.
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'"' | b'('
                        | b')'
                        | b','
                        | b'/'
                        | b':'
                        | b';'
                        | b'<'
                        | b'='
                        | b'>'
                        | b'?'
                        | b'@'
                        | b'['
                        | b'\\'
                        | b']'
                        | b'{'
                        | b'}'
                )
        })
}

fn number<T: std::str::FromStr>(s: &str, what: &'static str) -> Res<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(what);
    }
    s.parse().map_err(|_| what)
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// `<nettype> <addrtype> <address>` of `c=` and `a=rtcp`.
pub(super) fn connection(text: &str) -> Res<Connection> {
    let mut parts = text.split_ascii_whitespace();
    let (Some(net), Some(addr_type), Some(addr), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("c= needs <nettype> <addrtype> <address>");
    };
    if net != "IN" {
        return Err("network type is not IN");
    }
    let address_type = match addr_type {
        "IP4" => AddressType::Ip4,
        "IP6" => AddressType::Ip6,
        _ => return Err("address type is not IP4 or IP6"),
    };
    let mut pieces = addr.split('/');
    let host = pieces.next().unwrap_or_default();
    let first = pieces.next();
    let second = pieces.next();
    if pieces.next().is_some() {
        return Err("too many '/' in connection address");
    }
    let (ttl, count) = match (address_type, first, second) {
        (_, None, _) => (None, None),
        (AddressType::Ip4, Some(t), None) => (Some(number(t, "bad TTL")?), None),
        (AddressType::Ip4, Some(t), Some(c)) => {
            (Some(number(t, "bad TTL")?), Some(number(c, "bad count")?))
        }
        (AddressType::Ip6, Some(c), None) => (None, Some(number(c, "bad count")?)),
        (AddressType::Ip6, Some(_), Some(_)) => return Err("IP6 address takes no TTL"),
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if AddressType::of(ip) != address_type => {
            return Err("address does not match its address type");
        }
        Ok(_) => {}
        Err(_) if is_hostname(host) && !host.contains(':') => {}
        Err(_) => return Err("invalid connection address"),
    }
    Ok(Connection {
        address_type,
        address: host.to_string(),
        ttl,
        count,
    })
}

fn origin(text: &str) -> Res<Origin> {
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let [username, id, version, net, addr_type, address] = parts.as_slice() else {
        return Err("o= needs six fields");
    };
    Ok(Origin {
        username: (*username).to_string(),
        session_id: (*id).to_string(),
        session_version: number(version, "session version is not a number")?,
        net_type: (*net).to_string(),
        address_type: (*addr_type).to_string(),
        address: (*address).to_string(),
    })
}

fn bandwidth(text: &str) -> Res<Bandwidth> {
    let (kind, value) = text.split_once(':').ok_or("b= needs <type>:<value>")?;
    if !is_token(kind) {
        return Err("bad bandwidth type");
    }
    Ok(Bandwidth {
        kind: kind.to_string(),
        value: number(value.trim(), "bandwidth is not a number")?,
    })
}

fn timing(text: &str) -> Res<Timing> {
    let mut parts = text.split_ascii_whitespace();
    let (Some(start), Some(stop), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("t= needs <start> <stop>");
    };
    Ok(Timing {
        start: number(start, "bad start time")?,
        stop: number(stop, "bad stop time")?,
        repeats: Vec::new(),
    })
}

fn media(text: &str) -> Res<MediaDescription> {
    let mut parts = text.split_ascii_whitespace();
    let (Some(kind), Some(port), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("m= needs <media> <port> <proto> <fmt>");
    };
    if !is_token(kind) {
        return Err("bad media type");
    }
    let (port, port_count) = match port.split_once('/') {
        Some((p, n)) => (number(p, "bad port")?, Some(number(n, "bad port count")?)),
        None => (number(port, "bad port")?, None),
    };
    if !proto.split('/').all(is_token) {
        return Err("bad transport protocol");
    }
    let formats: Vec<String> = parts.map(str::to_string).collect();
    if formats.is_empty() {
        return Err("m= has no formats");
    }
    if !formats.iter().all(|f| is_token(f)) {
        return Err("bad media format");
    }
    let mut m = MediaDescription::new(kind, port, proto);
    m.port_count = port_count;
    m.formats = formats;
    Ok(m)
}

fn rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.split_once(' ')?;
    let payload_type: u8 = number(pt, "").ok().filter(|&p: &u8| p <= 127)?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next().filter(|e| is_token(e))?;
    let clock_rate = number(parts.next()?, "").ok()?;
    let channels = match parts.next() {
        Some(c) => Some(number(c, "").ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        payload_type,
        encoding: encoding.to_string(),
        clock_rate,
        channels,
    })
}

fn fmtp(value: &str) -> Option<Fmtp> {
    let (format, params) = value.split_once([' ', '\t'])?;
    let params = params.trim_start();
    (is_token(format) && !params.is_empty()).then(|| Fmtp {
        format: format.to_string(),
        params: params.to_string(),
    })
}

fn rtcp(value: &str) -> Option<RtcpAttribute> {
    let value = value.trim();
    let (port, rest) = match value.split_once(' ') {
        Some((p, r)) => (p, Some(r)),
        None => (value, None),
    };
    Some(RtcpAttribute {
        port: number(port, "").ok()?,
        connection: match rest {
            Some(r) => Some(connection(r).ok()?),
            None => None,
        },
    })
}

fn attribute(text: &str) -> Res<Attribute> {
    let (name, value) = match text.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (text, None),
    };
    if !is_token(name) {
        return Err("bad attribute name");
    }
    let typed = match (name, value) {
        ("rtpmap", Some(v)) => rtpmap(v).map(Attribute::RtpMap),
        ("fmtp", Some(v)) => fmtp(v).map(Attribute::Fmtp),
        ("ptime", Some(v)) => number(v.trim(), "").ok().map(Attribute::Ptime),
        ("maxptime", Some(v)) => number(v.trim(), "").ok().map(Attribute::MaxPtime),
        ("rtcp", Some(v)) => rtcp(v).map(Attribute::Rtcp),
        (flag, None) => Direction::from_name(flag).map(Attribute::Direction),
        _ => None,
    };
    Ok(typed.unwrap_or_else(|| Attribute::Other {
        name: name.to_string(),
        value: value.map(str::to_string),
    }))
}

pub(super) fn parse(bytes: &[u8]) -> Result<SessionDescription, SdpError> {
    if bytes.len() > MAX_SDP_SIZE {
        return Err(SdpError::TooLarge {
            size: bytes.len(),
            limit: MAX_SDP_SIZE,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SdpError::NotUtf8)?;

    let mut seen_v = false;
    let mut origin_line: Option<Origin> = None;
    let mut name: Option<String> = None;
    let mut sd = SessionDescription {
        origin: Origin {
            username: String::new(),
            session_id: String::new(),
            session_version: 0,
            net_type: String::new(),
            address_type: String::new(),
            address: String::new(),
        },
        session_name: String::new(),
        information: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: None,
        bandwidths: Vec::new(),
        times: Vec::new(),
        time_zones: None,
        key: None,
        attributes: Vec::new(),
        media: Vec::new(),
    };

    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let err = |what| SdpError::Syntax {
            line: line_no,
            what,
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = line.trim_end_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        if line.contains(['\r', '\0']) {
            return Err(err("stray CR or NUL"));
        }
        let (kind, value) = match line.as_bytes() {
            [k, b'=', ..] if k.is_ascii_lowercase() => {
                (*k as char, line.get(2..).unwrap_or_default())
            }
            _ => return Err(err("not a <type>=<value> line")),
        };
        if !seen_v {
            if kind != 'v' {
                return Err(err("the first line must be v="));
            }
            if value != "0" {
                return Err(err("only SDP version 0 is known"));
            }
            seen_v = true;
            continue;
        }
        let in_media = !sd.media.is_empty();
        match kind {
            'v' => return Err(err("repeated v= line")),
            'o' if in_media || origin_line.is_some() => return Err(err("misplaced o= line")),
            'o' => origin_line = Some(origin(value).map_err(err)?),
            's' if in_media || name.is_some() => return Err(err("misplaced s= line")),
            's' => name = Some(value.to_string()),
            'i' => {
                let slot = match sd.media.last_mut() {
                    Some(m) => &mut m.information,
                    None => &mut sd.information,
                };
                if slot.is_some() {
                    return Err(err("repeated i= line"));
                }
                *slot = Some(value.to_string());
            }
            'u' if in_media || sd.uri.is_some() => return Err(err("misplaced u= line")),
            'u' => sd.uri = Some(value.to_string()),
            'e' if in_media => return Err(err("e= inside a media section")),
            'e' => sd.emails.push(value.to_string()),
            'p' if in_media => return Err(err("p= inside a media section")),
            'p' => sd.phones.push(value.to_string()),
            'c' => {
                let c = connection(value).map_err(err)?;
                match sd.media.last_mut() {
                    Some(m) => m.connections.push(c),
                    None if sd.connection.is_some() => {
                        return Err(err("repeated session-level c= line"));
                    }
                    None => sd.connection = Some(c),
                }
            }
            'b' => {
                let b = bandwidth(value).map_err(err)?;
                match sd.media.last_mut() {
                    Some(m) => m.bandwidths.push(b),
                    None => sd.bandwidths.push(b),
                }
            }
            't' if in_media => return Err(err("t= inside a media section")),
            't' => sd.times.push(timing(value).map_err(err)?),
            'r' if in_media => return Err(err("r= inside a media section")),
            'r' => sd
                .times
                .last_mut()
                .ok_or(err("r= without t="))?
                .repeats
                .push(value.to_string()),
            'z' if in_media || sd.time_zones.is_some() => {
                return Err(err("misplaced z= line"));
            }
            'z' => sd.time_zones = Some(value.to_string()),
            'k' => {
                let slot = match sd.media.last_mut() {
                    Some(m) => &mut m.key,
                    None => &mut sd.key,
                };
                *slot = Some(value.to_string());
            }
            'a' => {
                let a = attribute(value).map_err(err)?;
                match sd.media.last_mut() {
                    Some(m) => m.attributes.push(a),
                    None => sd.attributes.push(a),
                }
            }
            'm' => sd.media.push(media(value).map_err(err)?),
            _ => return Err(err("unknown line type")),
        }
    }
    if !seen_v {
        return Err(SdpError::Empty);
    }
    sd.origin = origin_line.ok_or(SdpError::MissingLine('o'))?;
    sd.session_name = name.ok_or(SdpError::MissingLine('s'))?;
    if sd.times.is_empty() {
        sd.times.push(Timing::default());
    }
    Ok(sd)
}
