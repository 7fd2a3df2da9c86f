//! The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 §4.5).
//!
//! The protocol name and version are kept as tokens rather than checked against
//! `SIP/2.0`: a request from a `SIP/7.0` peer must still parse so the UAS can answer
//! it with 505 (RFC 4475 §3.1.2.16), and that answer needs the Via.

use std::fmt;
use std::net::IpAddr;

use super::param::{self, Params};
use super::scan::{self, Scanner, Syn};
use super::uri::{self, Host};

/// Transport token of a Via.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP
    Udp,
    /// TCP
    Tcp,
    /// TLS
    Tls,
    /// SCTP
    Sctp,
    /// WS (RFC 7118)
    Ws,
    /// WSS (RFC 7118)
    Wss,
    /// Anything else, as written.
    Other(String),
}

impl Transport {
    fn parse(t: &[u8]) -> Transport {
        for (name, tr) in [
            (&b"UDP"[..], Transport::Udp),
            (b"TCP", Transport::Tcp),
            (b"TLS", Transport::Tls),
            (b"SCTP", Transport::Sctp),
            (b"WS", Transport::Ws),
            (b"WSS", Transport::Wss),
        ] {
            if t.eq_ignore_ascii_case(name) {
                return tr;
            }
        }
        Transport::Other(scan::string(t))
    }

    /// The token as printed.
    pub fn as_str(&self) -> &str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other(s) => s,
        }
    }

    /// Whether messages on this transport are framed by Content-Length in a byte
    /// stream rather than by datagrams.
    pub fn is_stream(&self) -> bool {
        matches!(
            self,
            Transport::Tcp | Transport::Tls | Transport::Ws | Transport::Wss
        )
    }
}

/// One Via value (a Via header can hold several, comma-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Protocol name, normally `SIP`.
    pub protocol: String,
    /// Protocol version, normally `2.0`.
    pub version: String,
    /// Transport.
    pub transport: Transport,
    /// sent-by host.
    pub host: Host,
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters (branch, received, rport, maddr, ttl, extensions).
    pub params: Params,
}

impl Via {
    /// `SIP/2.0/<transport> host[:port];branch=<branch>`.
    pub fn new(transport: Transport, host: Host, port: Option<u16>, branch: &str) -> Self {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Via {
            protocol: "SIP".into(),
            version: "2.0".into(),
            transport,
            host,
            port,
            params,
        }
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// Whether the branch starts with the RFC 3261 magic cookie `z9hG4bK`, i.e. the
    /// sender follows RFC 3261 transaction matching (§17.2.3) rather than RFC 2543.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter, bracketed or not (RFC 5118 §4.5).
    pub fn received(&self) -> Option<IpAddr> {
        let v = self.params.value("received")?;
        let v = v
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(v);
        v.parse().ok()
    }

    /// The `rport` parameter: `None` if absent, `Some(None)` if present without a
    /// value (a request asking for it), `Some(Some(port))` once filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        let p = self.params.get("rport")?;
        Some(p.value.as_deref().and_then(|v| v.parse().ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&str> {
        self.params.value("maddr")
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol,
            self.version,
            self.transport.as_str(),
            self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// Parses one Via header value: `via-parm *( COMMA via-parm )`.
pub(crate) fn parse_via_list(value: &[u8]) -> Syn<Vec<Via>> {
    let mut s = Scanner::new(value);
    let mut out = Vec::new();
    loop {
        out.push(scan_via(&mut s)?);
        s.skip_ws();
        if s.is_empty() {
            return Ok(out);
        }
        s.expect(b',', "expected ',' or ';' after Via value")?;
    }
}

/// `sent-protocol LWS sent-by *( SEMI via-params )`, where SLASH and COLON may be
/// surrounded by whitespace (RFC 4475 §3.1.1.1 has `SIP  /   2.0 /UDP`).
fn scan_via(s: &mut Scanner<'_>) -> Syn<Via> {
    s.skip_ws();
    let protocol = s.token("missing protocol name")?;
    s.skip_ws();
    s.expect(b'/', "expected '/' after protocol name")?;
    s.skip_ws();
    let version = s.token("missing protocol version")?;
    s.skip_ws();
    s.expect(b'/', "expected '/' after protocol version")?;
    s.skip_ws();
    let transport = s.token("missing transport")?;
    if !s.skip_ws() {
        return Err("expected whitespace before sent-by");
    }
    if s.peek() != Some(b'[') {
        let host_end = s
            .rest()
            .iter()
            .position(|&b| matches!(b, b';' | b',' | b' ' | b'\t'));
        let host = s
            .rest()
            .get(..host_end.unwrap_or(s.rest().len()))
            .unwrap_or_default();
        if host.iter().filter(|&&b| b == b':').count() > 1 {
            return Err("IPv6 address must be enclosed in '[' ']'");
        }
    }
    let host = uri::scan_host(s)?;
    let save = s.clone();
    s.skip_ws();
    let port = if s.eat(b':') {
        s.skip_ws();
        Some(uri::parse_port(s.take_while(|b| b.is_ascii_digit()))?)
    } else {
        *s = save;
        None
    };
    let params = param::parse_header_params(s)?;
    Ok(Via {
        protocol: scan::string(protocol),
        version: scan::string(version),
        transport: Transport::parse(transport),
        host,
        port,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_spaced_vias() {
        let v = parse_via_list(
            b"SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].transport, Transport::Tcp);
        assert_eq!(v[0].branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(v[1].host, Host::Ipv4("192.168.255.111".parse().unwrap()));
        assert_eq!(
            v[1].to_string(),
            "SIP/2.0/UDP 192.168.255.111;branch=z9hG4bK30239"
        );
    }

    #[test]
    fn ipv6_sent_by_and_received() {
        let v = &parse_via_list(
            b"SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];branch=z9hG4bKas3;rport",
        )
        .unwrap()[0];
        assert_eq!(v.port, Some(6050));
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.rport(), Some(None));
        assert!(v.has_rfc3261_branch());
        let v = &parse_via_list(b"SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;rport=5060")
            .unwrap()[0];
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.rport(), Some(Some(5060)));
        assert_eq!(v.port, None);
        let v = &parse_via_list(b"SIP/2.0/UDP host.example.com : 5070").unwrap()[0];
        assert_eq!(v.port, Some(5070));
        assert!(parse_via_list(b"SIP/2.0/UDP 2001:db8::1").is_err());
    }

    #[test]
    fn malformed_vias() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0/UDP",
            "SIP/2.0 host",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0/UDP host,",
            "SIP/2.0/UDP host junk",
        ] {
            assert!(parse_via_list(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let v = &parse_via_list(b"SIP/7.0/UNKNOWN t4.example.com").unwrap()[0];
        assert_eq!(v.version, "7.0");
        assert_eq!(v.transport, Transport::Other("UNKNOWN".into()));
    }
}
