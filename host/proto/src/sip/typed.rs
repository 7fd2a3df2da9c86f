//! Typed views of the headers the SIP core relies on, parsed on demand.
//!
//! Parsing on access keeps [`Headers`] a plain ordered list that is trivial to edit,
//! and costs microseconds. The message parser runs the same functions once over
//! every header listed in [`validate`], so for a message that came out of
//! [`parse_datagram`](super::parse_datagram) those accessors only fail when a
//! header is absent, never because it is malformed.

use std::fmt;

use super::address::{self, Address, ContactList};
use super::error::ParseError;
use super::header::{Header, HeaderName, Headers};
use super::message::Method;
use super::param::{self, Params};
use super::scan::{self, Scanner, Syn};
use super::via::{self, Via};

/// The CSeq header: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number. RFC 3261 §8.1.1.5 requires it to fit 32 bits; larger values
    /// are a parse error (RFC 4475 §3.1.2.4).
    pub seq: u32,
    /// Method, which must equal the request's.
    pub method: Method,
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// A media type (`Content-Type`) or media range (`Accept`), with parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// Top-level type, as written (`application`, `*`).
    pub ty: String,
    /// Subtype, as written (`sdp`, `*`).
    pub subtype: String,
    /// Parameters (`boundary`, `charset`, `q`).
    pub params: Params,
}

impl MediaType {
    /// `type/subtype` without parameters.
    pub fn new(ty: &str, subtype: &str) -> Self {
        MediaType {
            ty: ty.into(),
            subtype: subtype.into(),
            params: Params::new(),
        }
    }

    /// Case-insensitive comparison of type and subtype, ignoring parameters.
    pub fn is(&self, ty: &str, subtype: &str) -> bool {
        self.ty.eq_ignore_ascii_case(ty) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// Whether this range (possibly `*/*` or `type/*`) covers `ty/subtype`.
    pub fn covers(&self, ty: &str, subtype: &str) -> bool {
        (self.ty == "*" || self.ty.eq_ignore_ascii_case(ty))
            && (self.subtype == "*" || self.subtype.eq_ignore_ascii_case(subtype))
    }

    /// The `q` weight of an Accept range (1.0 when absent or unreadable).
    pub fn q(&self) -> f32 {
        self.params
            .value("q")
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0)
    }

    pub(crate) fn scan(s: &mut Scanner<'_>) -> Syn<MediaType> {
        s.skip_ws();
        let ty = s.token("missing media type")?;
        s.skip_ws();
        s.expect(b'/', "expected '/' in media type")?;
        s.skip_ws();
        let subtype = s.token("missing media subtype")?;
        let params = param::parse_header_params(s)?;
        Ok(MediaType {
            ty: scan::string(ty),
            subtype: scan::string(subtype),
            params,
        })
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.ty, self.subtype, self.params)
    }
}

pub(crate) fn parse_cseq(v: &[u8]) -> Syn<CSeq> {
    let mut s = Scanner::new(v);
    s.skip_ws();
    let digits = s.take_while(|b| b.is_ascii_digit());
    if digits.is_empty() {
        return Err("sequence number missing");
    }
    let seq = scan::parse_u64(digits)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or("sequence number exceeds 2^32-1")?;
    if !s.skip_ws() {
        return Err("expected whitespace between number and method");
    }
    let method = Method::parse(s.take_while(|b| !scan::is_ws(b)))?;
    s.skip_ws();
    if !s.is_empty() {
        return Err("unexpected text after method");
    }
    Ok(CSeq { seq, method })
}

/// Call-ID is compared byte for byte and never interpreted, so any visible ASCII is
/// accepted: RFC 3261's `word` excludes `=`, which base64-minded stacks emit anyway.
pub(crate) fn parse_call_id(v: &[u8]) -> Syn<&str> {
    if v.is_empty() {
        return Err("empty Call-ID");
    }
    if !v.iter().all(|&b| b.is_ascii_graphic()) {
        return Err("Call-ID must be visible ASCII without spaces");
    }
    std::str::from_utf8(v).map_err(|_| "Call-ID must be visible ASCII without spaces")
}

pub(crate) fn parse_max_forwards(v: &[u8]) -> Syn<u8> {
    scan::parse_u64(v)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or("not a number from 0 to 255")
}

pub(crate) fn parse_content_type(v: &[u8]) -> Syn<MediaType> {
    let mut s = Scanner::new(v);
    let m = MediaType::scan(&mut s)?;
    s.skip_ws();
    if s.is_empty() {
        Ok(m)
    } else {
        Err("unexpected text after media type")
    }
}

/// A possibly empty comma list (`Accept:` with no value is legal and means "no body
/// acceptable", RFC 3261 §20.1).
fn parse_list<T>(v: &[u8], mut item: impl FnMut(&mut Scanner<'_>) -> Syn<T>) -> Syn<Vec<T>> {
    let mut s = Scanner::new(v);
    let mut out = Vec::new();
    s.skip_ws();
    if s.is_empty() {
        return Ok(out);
    }
    loop {
        s.skip_ws();
        out.push(item(&mut s)?);
        s.skip_ws();
        if s.is_empty() {
            return Ok(out);
        }
        s.expect(b',', "expected ','")?;
    }
}

pub(crate) fn parse_accept(v: &[u8]) -> Syn<Vec<MediaType>> {
    parse_list(v, MediaType::scan)
}

pub(crate) fn parse_option_tags(v: &[u8]) -> Syn<Vec<String>> {
    parse_list(v, |s| {
        s.token("option tag is not a token").map(scan::string)
    })
}

pub(crate) fn parse_methods(v: &[u8]) -> Syn<Vec<Method>> {
    parse_list(v, |s| Method::parse(s.token("method is not a token")?))
}

/// Checks every header whose typed view the SIP core uses, and that headers allowed
/// once appear once. Called by the message parser.
pub(crate) fn validate(headers: &Headers) -> Result<(), ParseError> {
    const SINGLE: [HeaderName; 6] = [
        HeaderName::CallId,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CSeq,
        HeaderName::MaxForwards,
        HeaderName::ContentType,
    ];
    for h in headers {
        let v: &[u8] = &h.value;
        let err = ParseError::header(&h.name);
        match h.name {
            HeaderName::Via => via::parse_via_list(v).map(drop),
            HeaderName::From | HeaderName::To => Address::parse_raw(v).map(drop),
            HeaderName::CallId => parse_call_id(v).map(drop),
            HeaderName::CSeq => parse_cseq(v).map(drop),
            HeaderName::MaxForwards => parse_max_forwards(v).map(drop),
            HeaderName::Contact => address::parse_contact(v).map(drop),
            HeaderName::Route | HeaderName::RecordRoute => {
                address::parse_address_list(v, true).map(drop)
            }
            HeaderName::ContentType => parse_content_type(v).map(drop),
            HeaderName::Accept => parse_accept(v).map(drop),
            HeaderName::Require
            | HeaderName::ProxyRequire
            | HeaderName::Supported
            | HeaderName::Unsupported => parse_option_tags(v).map(drop),
            HeaderName::Allow => parse_methods(v).map(drop),
            _ => Ok(()),
        }
        .map_err(err)?;
    }
    for name in SINGLE {
        if headers.count(&name) > 1 {
            return Err(ParseError::DuplicateHeader(name));
        }
    }
    let contacts = headers.get_all(HeaderName::Contact).count();
    if contacts > 1
        && headers
            .get_all(HeaderName::Contact)
            .any(|h| scan::trim_ws(&h.value) == b"*")
    {
        return Err(ParseError::InvalidHeader {
            name: HeaderName::Contact,
            what: "'*' must be the only Contact",
        });
    }
    Ok(())
}

/// Typed accessors. Each returns [`ParseError::MissingHeader`] when a mandatory
/// header is absent and [`ParseError::InvalidHeader`] naming the header when its
/// value is malformed.
impl Headers {
    fn one(&self, name: HeaderName) -> Result<&Header, ParseError> {
        self.get(&name).ok_or(ParseError::MissingHeader(name))
    }

    fn typed<T>(
        &self,
        name: HeaderName,
        f: impl for<'a> Fn(&'a [u8]) -> Syn<T>,
    ) -> Result<T, ParseError> {
        let h = self.one(name)?;
        f(&h.value).map_err(ParseError::header(&h.name))
    }

    fn typed_opt<T>(
        &self,
        name: HeaderName,
        f: impl for<'a> Fn(&'a [u8]) -> Syn<T>,
    ) -> Result<Option<T>, ParseError> {
        match self.get(&name) {
            None => Ok(None),
            Some(h) => f(&h.value).map(Some).map_err(ParseError::header(&h.name)),
        }
    }

    fn typed_all<T>(
        &self,
        name: HeaderName,
        f: impl for<'a> Fn(&'a [u8]) -> Syn<Vec<T>>,
    ) -> Result<Vec<T>, ParseError> {
        let mut out = Vec::new();
        for h in self.get_all(&name) {
            out.extend(f(&h.value).map_err(ParseError::header(&h.name))?);
        }
        Ok(out)
    }

    /// Call-ID.
    pub fn call_id(&self) -> Result<&str, ParseError> {
        let h = self.one(HeaderName::CallId)?;
        parse_call_id(&h.value).map_err(ParseError::header(&h.name))
    }

    /// CSeq.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        self.typed(HeaderName::CSeq, parse_cseq)
    }

    /// From.
    pub fn from_address(&self) -> Result<Address, ParseError> {
        self.typed(HeaderName::From, Address::parse_raw)
    }

    /// To.
    pub fn to_address(&self) -> Result<Address, ParseError> {
        self.typed(HeaderName::To, Address::parse_raw)
    }

    /// All Via values, top first, across all Via headers.
    pub fn vias(&self) -> Result<Vec<Via>, ParseError> {
        self.typed_all(HeaderName::Via, via::parse_via_list)
    }

    /// The topmost Via value.
    pub fn top_via(&self) -> Result<Via, ParseError> {
        self.typed(HeaderName::Via, via::parse_via_list)?
            .into_iter()
            .next()
            .ok_or(ParseError::MissingHeader(HeaderName::Via))
    }

    /// Contact: the wildcard, or all addresses across all Contact headers (empty if
    /// there is none).
    pub fn contacts(&self) -> Result<ContactList, ParseError> {
        let mut out = Vec::new();
        for h in self.get_all(HeaderName::Contact) {
            match address::parse_contact(&h.value).map_err(ParseError::header(&h.name))? {
                ContactList::Wildcard => return Ok(ContactList::Wildcard),
                ContactList::Addresses(a) => out.extend(a),
            }
        }
        Ok(ContactList::Addresses(out))
    }

    /// Route values, in order.
    pub fn routes(&self) -> Result<Vec<Address>, ParseError> {
        self.typed_all(HeaderName::Route, |v| address::parse_address_list(v, true))
    }

    /// Record-Route values, in order.
    pub fn record_routes(&self) -> Result<Vec<Address>, ParseError> {
        self.typed_all(HeaderName::RecordRoute, |v| {
            address::parse_address_list(v, true)
        })
    }

    /// Max-Forwards, if present (RFC 2543 peers omit it).
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        self.typed_opt(HeaderName::MaxForwards, parse_max_forwards)
    }

    /// Content-Length, if present.
    pub fn content_length(&self) -> Result<Option<usize>, ParseError> {
        self.typed_opt(HeaderName::ContentLength, |v| {
            scan::parse_u64(v)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or("not a non-negative integer")
        })
    }

    /// Content-Type, if present.
    pub fn content_type(&self) -> Result<Option<MediaType>, ParseError> {
        self.typed_opt(HeaderName::ContentType, parse_content_type)
    }

    /// Accept ranges: `None` if there is no Accept header, `Some(empty)` if it is
    /// present and empty (nothing acceptable).
    pub fn accept(&self) -> Result<Option<Vec<MediaType>>, ParseError> {
        if !self.contains(HeaderName::Accept) {
            return Ok(None);
        }
        self.typed_all(HeaderName::Accept, parse_accept).map(Some)
    }

    /// Option tags of all Require headers.
    pub fn require(&self) -> Result<Vec<String>, ParseError> {
        self.typed_all(HeaderName::Require, parse_option_tags)
    }

    /// Option tags of all Proxy-Require headers.
    pub fn proxy_require(&self) -> Result<Vec<String>, ParseError> {
        self.typed_all(HeaderName::ProxyRequire, parse_option_tags)
    }

    /// Option tags of all Supported headers.
    pub fn supported(&self) -> Result<Vec<String>, ParseError> {
        self.typed_all(HeaderName::Supported, parse_option_tags)
    }

    /// Option tags of all Unsupported headers.
    pub fn unsupported(&self) -> Result<Vec<String>, ParseError> {
        self.typed_all(HeaderName::Unsupported, parse_option_tags)
    }

    /// Methods of all Allow headers.
    pub fn allow(&self) -> Result<Vec<Method>, ParseError> {
        self.typed_all(HeaderName::Allow, parse_methods)
    }

    /// Expires, if present; values over 2^32-1 are an error (RFC 4475 §3.1.2.4).
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.typed_opt(HeaderName::Expires, |v| {
            scan::parse_u64(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("not a number from 0 to 2^32-1")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_forms() {
        assert_eq!(
            parse_cseq(b"0009 INVITE").unwrap(),
            CSeq {
                seq: 9,
                method: Method::Invite
            }
        );
        assert!(parse_cseq(b"36893488147419103232 REGISTER").is_err());
        assert!(parse_cseq(b"4294967296 INVITE").is_err());
        assert!(parse_cseq(b"4294967295 INVITE").is_ok());
        assert!(parse_cseq(b"1INVITE").is_err());
        assert!(parse_cseq(b"1 INVITE x").is_err());
        assert!(parse_cseq(b"INVITE").is_err());
    }

    #[test]
    fn scalar_headers() {
        assert_eq!(parse_max_forwards(b"0068"), Ok(68));
        assert!(parse_max_forwards(b"300").is_err());
        assert!(parse_call_id(b"a b").is_err());
        assert_eq!(
            parse_call_id(b"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"),
            Ok("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        );
        let ct = parse_content_type(b"multipart/mixed;boundary=\"7a9c\"").unwrap();
        assert!(ct.is("Multipart", "MIXED"));
        assert_eq!(
            ct.params.get("boundary").unwrap().unquoted().unwrap(),
            "7a9c"
        );
        assert!(parse_content_type(b"application").is_err());
    }

    #[test]
    fn lists() {
        let a =
            parse_accept(b"application/sdp, application/pkcs7-mime, multipart/mixed;q=0.5, */*")
                .unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a[2].q(), 0.5);
        assert!(a[3].covers("text", "plain"));
        assert!(parse_accept(b"").unwrap().is_empty());
        assert_eq!(
            parse_option_tags(b"100rel , timer").unwrap(),
            ["100rel", "timer"]
        );
        assert!(parse_option_tags(b"a,,b").is_err());
        assert_eq!(
            parse_methods(b"INVITE, ACK").unwrap(),
            [Method::Invite, Method::Ack]
        );
    }

    #[test]
    fn accessors_name_the_header() {
        let mut h = Headers::new();
        h.append("CSeq", "x INVITE");
        assert_eq!(
            h.cseq().unwrap_err().to_string(),
            "CSeq header: sequence number missing"
        );
        assert_eq!(
            h.call_id().unwrap_err().to_string(),
            "missing Call-ID header"
        );
        assert_eq!(h.max_forwards(), Ok(None));
        h.append("Accept", "");
        assert_eq!(h.accept(), Ok(Some(vec![])));
        h.append("Contact", "*");
        h.append("m", "<sip:a@b>");
        assert!(validate(&h).is_err());
    }
}
