//! SIP, SIPS, tel and other absolute URIs (RFC 3261 §19.1, RFC 3966, RFC 5118).
//!
//! Components are stored as written, escapes included (`%41` stays `%41`), because
//! RFC 3261 §19.1.4 compares escaped and unescaped forms as equal in some places and
//! not in others; decoding at parse time would lose the difference and change what
//! we print. Use the `*_unescaped` accessors when the decoded bytes are needed (a
//! user part may legally decode to a NUL, RFC 4475 §3.1.1.4, hence bytes).
//!
//! Hosts are typed: an IPv6 reference must be bracketed (RFC 5118 §4.2), and its
//! text is parsed with the standard library, which follows RFC 4291. That rejects
//! `2001:db8:::192.0.2.1`, the three-colon form an erratum of the RFC 3261 ABNF
//! allowed and RFC 5954 removed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::ParseError;
use super::param::{self, Params};
use super::scan::{self, Scanner, Syn};

/// Any URI that can appear in a Request-URI or a name-addr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// `tel:` (RFC 3966).
    Tel(TelUri),
    /// Any other absolute URI (`http:`, `urn:`, `isbn:` …), kept opaque.
    Absolute(AbsoluteUri),
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `true` for `sips:`.
    pub secure: bool,
    /// User part, escapes kept.
    pub user: Option<String>,
    /// Password, escapes kept (deprecated by RFC 3261 but still parsed).
    pub password: Option<String>,
    /// Host.
    pub host: Host,
    /// Port, if written.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Params,
    /// URI headers (`?Route=%3Csip:x%3E`), escapes kept.
    pub headers: Vec<UriHeader>,
}

/// One `hname=hvalue` of a SIP URI's header component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriHeader {
    /// Header name, escapes kept.
    pub name: String,
    /// Header value, escapes kept (may be empty).
    pub value: String,
}

/// A `tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    /// The telephone-subscriber number, visual separators kept (`+1-201-555-0123`).
    pub number: String,
    /// Parameters (`;phone-context=…`).
    pub params: Params,
}

/// An absolute URI of a scheme this crate does not interpret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsoluteUri {
    /// Scheme as written.
    pub scheme: String,
    /// Everything after the first `:`.
    pub rest: String,
}

/// A host: domain name, IPv4 address, or IPv6 reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A host name as written.
    Domain(String),
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets in URIs and Via).
    Ipv6(Ipv6Addr),
}

impl Host {
    /// Parses a host as it appears in a URI (IPv6 in brackets).
    pub fn parse(s: &str) -> Result<Host, ParseError> {
        let mut sc = Scanner::new(s.as_bytes());
        let h = scan_host(&mut sc).map_err(ParseError::Uri)?;
        if sc.is_empty() {
            Ok(h)
        } else {
            Err(ParseError::Uri("invalid character in host"))
        }
    }

    /// The address, if the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Host::Ipv4(a),
            IpAddr::V6(a) => Host::Ipv6(a),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

impl SipUri {
    /// `sip:host` with nothing else.
    pub fn new(host: Host) -> Self {
        SipUri {
            secure: false,
            user: None,
            password: None,
            host,
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// The user part with escapes decoded.
    pub fn user_unescaped(&self) -> Option<Vec<u8>> {
        self.user.as_deref().map(scan::unescape)
    }
}

impl Uri {
    /// Parses a URI from text (no surrounding whitespace or angle brackets).
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        parse_uri(s.as_bytes()).map_err(ParseError::Uri)
    }

    /// The scheme in lower case for the known kinds, as written otherwise.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Absolute(a) => &a.scheme,
        }
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }
}

impl FromStr for Uri {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uri::parse(s)
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Self {
        Uri::Sip(u)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(pw) = &self.password {
                write!(f, ":{pw}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)?;
        for (i, h) in self.headers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{}={}", h.name, h.value)?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Tel(t) => write!(f, "tel:{}{}", t.number, t.params),
            Uri::Absolute(a) => write!(f, "{}:{}", a.scheme, a.rest),
        }
    }
}

/// Parses a whole byte string as a URI.
pub(crate) fn parse_uri(s: &[u8]) -> Syn<Uri> {
    let colon = s
        .iter()
        .position(|&b| b == b':')
        .ok_or("URI has no scheme")?;
    let scheme = s.get(..colon).unwrap_or_default();
    let rest = s.get(colon + 1..).unwrap_or_default();
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return Err("invalid URI scheme");
    }
    if scheme.eq_ignore_ascii_case(b"sip") {
        parse_sip(false, rest).map(Uri::Sip)
    } else if scheme.eq_ignore_ascii_case(b"sips") {
        parse_sip(true, rest).map(Uri::Sip)
    } else if scheme.eq_ignore_ascii_case(b"tel") {
        parse_tel(rest).map(Uri::Tel)
    } else {
        if rest.is_empty() {
            return Err("empty URI after scheme");
        }
        // uric = reserved / unreserved / escaped; brackets for IPv6 hosts (RFC 2732).
        scan::check_escaped(
            rest,
            |b| scan::is_reserved(b) || scan::is_unreserved(b) || b == b'[' || b == b']',
            "invalid character in URI",
        )?;
        Ok(Uri::Absolute(AbsoluteUri {
            scheme: scan::string(scheme),
            rest: scan::string(rest),
        }))
    }
}

fn is_user_char(b: u8) -> bool {
    scan::is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}

fn is_password_char(b: u8) -> bool {
    scan::is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',')
}

fn is_hnv_char(b: u8) -> bool {
    scan::is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$')
}

fn parse_sip(secure: bool, s: &[u8]) -> Syn<SipUri> {
    // No character after the userinfo may be '@' (params, headers and host exclude
    // it), so the first '@' ends the userinfo even when the user part holds ';' or '?'
    // (RFC 4475 §3.1.1.2 and §3.1.1.9).
    let (user, password, hostport) = match s.iter().position(|&b| b == b'@') {
        Some(at) => {
            let userinfo = s.get(..at).unwrap_or_default();
            let (user, password) = match userinfo.iter().position(|&b| b == b':') {
                Some(c) => (
                    userinfo.get(..c).unwrap_or_default(),
                    Some(userinfo.get(c + 1..).unwrap_or_default()),
                ),
                None => (userinfo, None),
            };
            if user.is_empty() {
                return Err("empty user part before '@'");
            }
            scan::check_escaped(user, is_user_char, "invalid character in URI user part")?;
            if let Some(pw) = password {
                scan::check_escaped(pw, is_password_char, "invalid character in URI password")?;
            }
            (
                Some(scan::string(user)),
                password.map(scan::string),
                s.get(at + 1..).unwrap_or_default(),
            )
        }
        None => (None, None, s),
    };
    let host_len = hostport
        .iter()
        .position(|&b| b == b';' || b == b'?')
        .unwrap_or(hostport.len());
    let colons = hostport
        .get(..host_len)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b':')
        .count();
    if hostport.first() != Some(&b'[') && colons > 1 {
        return Err("IPv6 address must be enclosed in '[' ']'");
    }
    let mut sc = Scanner::new(hostport);
    let host = scan_host(&mut sc)?;
    let port = if sc.eat(b':') {
        let digits = sc.take_while(|b| b.is_ascii_digit());
        if !matches!(sc.peek(), None | Some(b';' | b'?')) {
            return Err("invalid port");
        }
        Some(parse_port(digits)?)
    } else {
        None
    };
    let params = param::parse_uri_params(&mut sc)?;
    let mut headers = Vec::new();
    if sc.eat(b'?') {
        loop {
            let name = sc.take_until_any(b"=&");
            if name.is_empty() {
                return Err("empty URI header name");
            }
            scan::check_escaped(name, is_hnv_char, "invalid character in URI header")?;
            sc.expect(b'=', "URI header without '='")?;
            let value = sc.take_until_any(b"&");
            scan::check_escaped(value, is_hnv_char, "invalid character in URI header")?;
            headers.push(UriHeader {
                name: scan::string(name),
                value: scan::string(value),
            });
            if !sc.eat(b'&') {
                break;
            }
        }
    }
    if !sc.is_empty() {
        return Err(match sc.peek() {
            Some(b' ' | b'\t') => "whitespace inside URI",
            _ => "invalid character in URI",
        });
    }
    Ok(SipUri {
        secure,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

fn parse_tel(s: &[u8]) -> Syn<TelUri> {
    let mut sc = Scanner::new(s);
    let number = sc.take_while(|b| {
        b.is_ascii_hexdigit() || matches!(b, b'+' | b'*' | b'#' | b'-' | b'.' | b'(' | b')')
    });
    if !number
        .iter()
        .any(|b| b.is_ascii_hexdigit() || *b == b'*' || *b == b'#')
    {
        return Err("tel URI without a number");
    }
    if number.iter().skip(1).any(|&b| b == b'+') {
        return Err("'+' inside a tel number");
    }
    let params = param::parse_uri_params(&mut sc)?;
    if !sc.is_empty() {
        return Err("invalid character in tel URI");
    }
    Ok(TelUri {
        number: scan::string(number),
        params,
    })
}

pub(crate) fn parse_port(digits: &[u8]) -> Syn<u16> {
    scan::parse_u64(digits)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("invalid port")
}

/// Scans a host at the cursor: `[IPv6]`, dotted-quad IPv4, or a host name.
pub(crate) fn scan_host(sc: &mut Scanner<'_>) -> Syn<Host> {
    if sc.eat(b'[') {
        let inner = sc.take_until_any(b"]");
        sc.expect(b']', "unterminated '[' in host")?;
        return parse_ipv6(inner).map(Host::Ipv6);
    }
    let name = sc.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    classify_host(name)
}

pub(crate) fn parse_ipv6(s: &[u8]) -> Syn<Ipv6Addr> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| Ipv6Addr::from_str(t).ok())
        .ok_or("invalid IPv6 address")
}

fn classify_host(name: &[u8]) -> Syn<Host> {
    if name.is_empty() {
        return Err("missing host");
    }
    if name.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
        return std::str::from_utf8(name)
            .ok()
            .and_then(|t| Ipv4Addr::from_str(t).ok())
            .map(Host::Ipv4)
            .ok_or("invalid IPv4 address");
    }
    // hostname = *( domainlabel "." ) toplabel [ "." ]; a toplabel starts with a
    // letter, which is what tells "2001" (part of an unbracketed IPv6) from a name.
    let trimmed = name.strip_suffix(b".").unwrap_or(name);
    let mut labels = trimmed.split(|&b| b == b'.').peekable();
    while let Some(label) = labels.next() {
        let ok = !label.is_empty()
            && label.first().is_some_and(u8::is_ascii_alphanumeric)
            && label.last().is_some_and(u8::is_ascii_alphanumeric);
        if !ok {
            return Err("invalid host name");
        }
        if labels.peek().is_none() && !label.first().is_some_and(u8::is_ascii_alphabetic) {
            return Err("invalid host name (last label must start with a letter)");
        }
    }
    Ok(Host::Domain(scan::string(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s).unwrap() {
            Uri::Sip(u) => u,
            other => panic!("not sip: {other:?}"),
        }
    }

    #[test]
    fn sip_uri_components() {
        let u = sip("sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi&X=%20");
        assert!(u.secure);
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host, Host::Domain("Example.COM".into()));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params.value("transport"), Some("tcp"));
        assert!(u.params.contains("lr"));
        assert_eq!(u.headers.len(), 2);
        assert_eq!(
            u.to_string(),
            "sips:alice:secret@Example.COM:5061;transport=tcp;lr?Subject=hi&X=%20"
        );
    }

    #[test]
    fn user_part_with_semicolons_and_escapes() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert!(u.params.is_empty());
        let u = sip("sip:null-%00-null@example.com");
        assert_eq!(u.user_unescaped().unwrap(), b"null-\0-null");
        let u = sip(
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
        );
        assert_eq!(
            u.password.as_deref(),
            Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        );
    }

    #[test]
    fn rfc5118_hosts_and_ports() {
        // §4.3: all of it is the address, there is no port.
        let u = sip("sip:[2001:db8::10:5070]");
        assert_eq!(u.host, Host::Ipv6("2001:db8::10:5070".parse().unwrap()));
        assert_eq!(u.port, None);
        // §4.4
        let u = sip("sip:[2001:db8::10]:5070");
        assert_eq!(u.host, Host::Ipv6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.to_string(), "sip:[2001:db8::10]:5070");
        // §4.9, §4.10
        assert!(Uri::parse("sip:ted@[::ffff:192.0.2.2]").is_ok());
        assert!(Uri::parse("sip:user@[2001:db8::192.0.2.1]").is_ok());
        // §4.10 three colons: our policy is to reject (RFC 4291, RFC 5954).
        assert_eq!(
            Uri::parse("sip:user@[2001:db8:::192.0.2.1]"),
            Err(ParseError::Uri("invalid IPv6 address"))
        );
        // §4.2: unbracketed.
        assert_eq!(
            Uri::parse("sip:2001:db8::10"),
            Err(ParseError::Uri("IPv6 address must be enclosed in '[' ']'"))
        );
        assert!(Uri::parse("sip:[2001:db8::10").is_err());
        assert!(Uri::parse("sip:host:70000").is_err());
        assert!(Uri::parse("sip:host:").is_err());
        assert_eq!(
            sip("sip:192.0.2.1:5060").host,
            Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert!(Uri::parse("sip:192.0.2.256").is_err());
        assert!(Uri::parse("sip:1.2.3").is_err());
    }

    #[test]
    fn bad_uris() {
        for bad in [
            "<sip:user@example.com>",
            "sip:user@example.com; lr",
            " sip:a@b",
            "sip:a@b ",
            "sip:@host",
            "sip:a@-host-",
            "sip:a@host;",
            "sip:a@host?",
            "sip:a@host;x=%zz",
            "1sip:a@b",
            "sip",
            "tel:",
            "tel:+1+2",
            "http:",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn other_schemes() {
        let t = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(t.scheme(), "tel");
        assert_eq!(
            t.to_string(),
            "tel:+1-201-555-0123;phone-context=example.com"
        );
        let a = Uri::parse("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(a.scheme(), "soap.beep");
        assert_eq!(a.to_string(), "soap.beep://192.0.2.103:3002");
        assert!(matches!(
            Uri::parse("isbn:2983792873").unwrap(),
            Uri::Absolute(_)
        ));
        assert!(Uri::parse("http://www.example.com").is_ok());
    }
}
