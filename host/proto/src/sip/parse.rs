//! Message parsing: start line, header block, body framing.
//!
//! Framing differs by transport and the difference is deliberate (RFC 3261 §18.3):
//!
//! * **Datagram** (UDP): one datagram is one message. Content-Length may be absent
//!   (the body is the rest of the datagram, RFC 2543 peers rely on it, RFC 4475
//!   §3.4.1); if present, bytes past it are ignored (§3.1.1.8), and a value larger
//!   than what arrived is an error (§3.1.2.2).
//! * **Stream** (TCP, TLS): Content-Length is mandatory and the only way to find the
//!   next message, so a missing, negative, non-numeric or conflicting value loses
//!   framing for good and the connection must close. See [`StreamFramer`](super::StreamFramer).
//!
//! Lines end in CRLF only. Bare LF is not accepted: RFC 3261 requires CRLF, the
//! corpus uses it, and guessing line ends is how parsers disagree about where a
//! header ends, which is what request smuggling feeds on.
//!
//! Memory is bounded by [`Limits`]: the parser refuses input over
//! `max_message_size` before looking at it and stops at `max_headers` fields; every
//! value it stores is a slice of the input or shorter than it.

use bytes::Bytes;

use super::error::ParseError;
use super::header::{Header, HeaderName, Headers};
use super::message::{Message, Method, Request, Response, StatusCode, Version};
use super::scan::{self, is_ws};
use super::typed;
use super::uri;

/// Bounds on what the parser and framer accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (start line, headers and body) in bytes.
    pub max_message_size: usize,
    /// Most header fields (lines after unfolding) in one message.
    pub max_headers: usize,
}

impl Default for Limits {
    /// 64 KiB covers the largest UDP datagram; 256 fields is several times what a
    /// real INVITE through a few proxies carries (RFC 4475's long request has 45).
    fn default() -> Self {
        Limits {
            max_message_size: 64 * 1024,
            max_headers: 256,
        }
    }
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Datagram,
    /// The framer already checked Content-Length against the bytes it hands over.
    Stream,
}

/// Parses one UDP datagram with the default [`Limits`].
///
/// This and [`StreamFramer`](super::StreamFramer) are the entry points a fuzz
/// target should drive: they take arbitrary bytes and never panic.
pub fn parse_datagram(data: &[u8]) -> Result<Message, ParseError> {
    let limits = Limits::default();
    if data.len() > limits.max_message_size {
        return Err(ParseError::TooLarge {
            size: data.len(),
            limit: limits.max_message_size,
        });
    }
    parse_datagram_with(Bytes::copy_from_slice(data), &limits)
}

/// Parses one datagram without copying it: header values and body are slices of
/// `data`.
pub fn parse_datagram_with(data: Bytes, limits: &Limits) -> Result<Message, ParseError> {
    parse_message(data, Framing::Datagram, limits)
}

/// Offset of the first byte after any leading CRLFs (RFC 3261 §7.5 lets streams
/// carry them between messages; RFC 5626 keep-alives are CRLFs too).
pub(crate) fn skip_crlfs(buf: &[u8]) -> usize {
    let mut i = 0;
    while buf.get(i..i + 2) == Some(b"\r\n") {
        i += 2;
    }
    i
}

pub(crate) fn parse_message(
    buf: Bytes,
    framing: Framing,
    limits: &Limits,
) -> Result<Message, ParseError> {
    if buf.len() > limits.max_message_size {
        return Err(ParseError::TooLarge {
            size: buf.len(),
            limit: limits.max_message_size,
        });
    }
    let start = skip_crlfs(&buf);
    if start >= buf.len() {
        return Err(ParseError::Empty);
    }
    let head_end = scan::find(&buf, start, b"\r\n\r\n").ok_or(ParseError::Incomplete)? + 4;
    let line_end = scan::find(&buf, start, b"\r\n").ok_or(ParseError::Incomplete)?;
    let start_line = buf.get(start..line_end).unwrap_or_default();
    // The header block: every header line with its CRLF, without the empty line.
    let headers = split_headers(&buf, line_end + 2, head_end - 2, limits)?;
    let lengths = content_lengths(&headers)?;
    let available = buf.len() - head_end;
    let body_len = match (framing, lengths) {
        (_, Some(n)) if n > available => {
            return Err(ParseError::BodyTruncated {
                declared: n,
                available,
            });
        }
        (_, Some(n)) => n,
        (Framing::Datagram, None) => available,
        (Framing::Stream, None) => return Err(ParseError::MissingContentLength),
    };
    let body = scan::slice(&buf, head_end, head_end + body_len);
    let headers = Headers::from(headers);
    let msg = parse_start_line(start_line, headers, body)?;
    typed::validate(msg.headers())?;
    Ok(msg)
}

fn parse_start_line(line: &[u8], headers: Headers, body: Bytes) -> Result<Message, ParseError> {
    if line.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err(ParseError::StartLine("bare CR or LF"));
    }
    // A method is a token and cannot contain '/', so "SIP/" starts a status line.
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
    {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase. The SP before
        // an empty reason is tolerated missing (RFC 4475 §3.1.1.13 keeps it).
        let mut parts = line.splitn(3, |&b| b == b' ');
        let version = parts.next().unwrap_or_default();
        let code = parts.next().unwrap_or_default();
        let reason = parts.next().unwrap_or_default();
        let version = Version::parse(version).map_err(ParseError::StartLine)?;
        if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            return Err(ParseError::StartLine("status code is not three digits"));
        }
        let status = scan::parse_u64(code)
            .and_then(|c| u16::try_from(c).ok())
            .and_then(StatusCode::new)
            .ok_or(ParseError::StartLine("status code out of range 100-699"))?;
        if reason.iter().any(|&b| b < 0x20 && b != b'\t') {
            return Err(ParseError::StartLine("control character in reason phrase"));
        }
        return Ok(Message::Response(Response {
            version,
            status,
            reason: String::from_utf8_lossy(reason).into_owned(),
            headers,
            body,
        }));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version, single spaces only:
    // the Request-URI cannot contain whitespace, so extra spaces either hide a
    // broken URI (RFC 4475 §3.1.2.8) or are padding we choose not to guess about
    // (§3.1.2.9, §3.1.2.10).
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(ParseError::StartLine(
            "request line is not Method SP Request-URI SP SIP-Version",
        ));
    };
    let method = Method::parse(method).map_err(ParseError::StartLine)?;
    if uri.starts_with(b"<") {
        return Err(ParseError::RequestUri("must not be enclosed in <…>"));
    }
    let uri = uri::parse_uri(uri).map_err(ParseError::RequestUri)?;
    let version = Version::parse(version).map_err(ParseError::StartLine)?;
    Ok(Message::Request(Request {
        method,
        uri,
        version,
        headers,
        body,
    }))
}

/// Splits `buf[start..end]` (header lines, each ending in CRLF) into fields,
/// unfolding continuation lines into single spaces.
pub(crate) fn split_headers(
    buf: &Bytes,
    start: usize,
    end: usize,
    limits: &Limits,
) -> Result<Vec<Header>, ParseError> {
    let mut out: Vec<Header> = Vec::new();
    // The field being assembled: name, and value segments as (start, end) offsets.
    let mut current: Option<(HeaderName, Vec<(usize, usize)>)> = None;
    let mut pos = start;
    let mut line_no = 0usize;
    while pos < end {
        line_no += 1;
        let eol = scan::find(buf, pos, b"\r\n")
            .filter(|&e| e < end)
            .unwrap_or(end);
        let line = buf.get(pos..eol).unwrap_or_default();
        if line.iter().any(|&b| b == b'\r' || b == b'\n') {
            return Err(ParseError::HeaderLine {
                line: line_no,
                what: "bare CR or LF",
            });
        }
        if line.first().copied().is_some_and(is_ws) {
            match current.as_mut() {
                Some((_, segs)) => segs.push((pos, eol)),
                None => {
                    return Err(ParseError::HeaderLine {
                        line: line_no,
                        what: "continuation line before any header",
                    });
                }
            }
        } else {
            if let Some((name, segs)) = current.take() {
                push_field(&mut out, buf, name, &segs, limits)?;
            }
            let name_len = line.iter().take_while(|&&b| scan::is_token(b)).count();
            let after = line.get(name_len..).unwrap_or_default();
            let ws = after.iter().take_while(|&&b| is_ws(b)).count();
            if name_len == 0 {
                return Err(ParseError::HeaderLine {
                    line: line_no,
                    what: "header name is missing or not a token",
                });
            }
            if after.get(ws) != Some(&b':') {
                return Err(ParseError::HeaderLine {
                    line: line_no,
                    what: "expected ':' after header name",
                });
            }
            let name = HeaderName::from_bytes(line.get(..name_len).unwrap_or_default());
            current = Some((name, vec![(pos + name_len + ws + 1, eol)]));
        }
        pos = eol + 2;
    }
    if let Some((name, segs)) = current.take() {
        push_field(&mut out, buf, name, &segs, limits)?;
    }
    Ok(out)
}

fn push_field(
    out: &mut Vec<Header>,
    buf: &Bytes,
    name: HeaderName,
    segs: &[(usize, usize)],
    limits: &Limits,
) -> Result<(), ParseError> {
    if out.len() >= limits.max_headers {
        return Err(ParseError::TooManyHeaders {
            limit: limits.max_headers,
        });
    }
    let trimmed = |&(s, e): &(usize, usize)| {
        let seg = buf.get(s..e).unwrap_or_default();
        let lead = seg.iter().take_while(|&&b| is_ws(b)).count();
        let t = scan::trim_ws(seg);
        (s + lead, s + lead + t.len())
    };
    let value = match segs {
        [one] => {
            let (s, e) = trimmed(one);
            scan::slice(buf, s, e)
        }
        // Folding (LWS = [*WSP CRLF] 1*WSP) means the same as one space.
        many => {
            let mut v = Vec::new();
            for seg in many {
                let (s, e) = trimmed(seg);
                let part = buf.get(s..e).unwrap_or_default();
                if part.is_empty() {
                    continue;
                }
                if !v.is_empty() {
                    v.push(b' ');
                }
                v.extend_from_slice(part);
            }
            Bytes::from(v)
        }
    };
    out.push(Header { name, value });
    Ok(())
}

/// The message's Content-Length, checking that all copies agree.
pub(crate) fn content_lengths(headers: &[Header]) -> Result<Option<usize>, ParseError> {
    let mut found: Option<usize> = None;
    for h in headers
        .iter()
        .filter(|h| h.name == HeaderName::ContentLength)
    {
        let n = parse_content_length(&h.value)?;
        match found {
            Some(first) if first != n => {
                return Err(ParseError::ConflictingContentLength { first, second: n });
            }
            Some(_) => return Err(ParseError::DuplicateHeader(HeaderName::ContentLength)),
            None => found = Some(n),
        }
    }
    Ok(found)
}

pub(crate) fn parse_content_length(v: &[u8]) -> Result<usize, ParseError> {
    scan::parse_u64(v)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ParseError::InvalidContentLength {
            value: String::from_utf8_lossy(v.get(..32).unwrap_or(v)).into_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::{Host, Uri};

    const OPTIONS: &str = "OPTIONS sip:user@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\r\n\
        To: <sip:user@example.com>\r\n\
        From: <sip:caller@example.net>;tag=1\r\n\
        Call-ID: abc@host\r\n\
        CSeq: 1 OPTIONS\r\n\
        Max-Forwards: 70\r\n\
        Content-Length: 0\r\n\r\n";

    fn req(m: Message) -> Request {
        match m {
            Message::Request(r) => r,
            Message::Response(_) => panic!("response"),
        }
    }

    #[test]
    fn simple_request() {
        let r = req(parse_datagram(OPTIONS.as_bytes()).unwrap());
        assert_eq!(r.method, Method::Options);
        assert_eq!(r.headers.len(), 7);
        assert_eq!(r.headers.call_id().unwrap(), "abc@host");
        assert_eq!(r.headers.cseq().unwrap().seq, 1);
        assert_eq!(r.headers.from_address().unwrap().tag(), Some("1"));
        assert_eq!(r.headers.max_forwards(), Ok(Some(70)));
        assert!(r.body.is_empty());
    }

    #[test]
    fn compact_forms_and_folding() {
        let m = "INVITE sip:a@b SIP/2.0\r\n\
            v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
            v:  SIP  / 2.0  / TCP     x.example.com   ;\r\n  branch  =   z9hG4bK2  ,\r\n SIP/2.0/UDP  192.0.2.1 ; branch=\r\n z9hG4bK3\r\n\
            t: sip:a@b\r\nf: <sip:c@d>;tag=9\r\ni: id\r\n\
            cseq: 0009\r\n  INVITE\r\n\
            m:\r\n  <sip:c@host>\r\n\
            k: 100rel, timer\r\n\
            c: application/sdp\r\nl: 3\r\n\r\nabcdef";
        let r = req(parse_datagram(m.as_bytes()).unwrap());
        let vias = r.headers.vias().unwrap();
        assert_eq!(vias.len(), 3);
        assert_eq!(vias[2].branch(), Some("z9hG4bK3"));
        assert_eq!(r.headers.value(HeaderName::CSeq).unwrap(), "0009 INVITE");
        assert_eq!(r.headers.value("Contact").unwrap(), "<sip:c@host>");
        assert_eq!(r.headers.supported().unwrap(), ["100rel", "timer"]);
        assert_eq!(r.headers.content_type().unwrap().unwrap().subtype, "sdp");
        // Bytes past Content-Length are ignored on a datagram.
        assert_eq!(r.body, "abc");
        assert!(r.headers.iter().all(|h| !h.name.is_other()));
    }

    #[test]
    fn framing_errors() {
        let base = OPTIONS.replace("Content-Length: 0\r\n", "");
        let with =
            |cl: &str, body: &str| base.replace("\r\n\r\n", &format!("\r\n{cl}\r\n\r\n{body}"));
        assert!(matches!(
            parse_datagram(with("Content-Length: 10", "abc").as_bytes()),
            Err(ParseError::BodyTruncated {
                declared: 10,
                available: 3
            })
        ));
        let e = parse_datagram(with("Content-Length: -999", "").as_bytes()).unwrap_err();
        assert!(e.is_fatal_for_stream(), "{e}");
        let e = parse_datagram(with("l: 1\r\nContent-Length: 2", "ab").as_bytes()).unwrap_err();
        assert_eq!(
            e,
            ParseError::ConflictingContentLength {
                first: 1,
                second: 2
            }
        );
        let e = parse_datagram(with("l: 2\r\nContent-Length: 2", "ab").as_bytes()).unwrap_err();
        assert_eq!(e, ParseError::DuplicateHeader(HeaderName::ContentLength));
        // No Content-Length on a datagram: the rest is the body.
        let r = req(parse_datagram(with("X: y", "body").as_bytes()).unwrap());
        assert_eq!(r.body, "body");
        assert_eq!(parse_datagram(b""), Err(ParseError::Empty));
        assert_eq!(parse_datagram(b"\r\n\r\n"), Err(ParseError::Empty));
        assert_eq!(
            parse_datagram(b"OPTIONS sip:a@b SIP/2.0\r\n"),
            Err(ParseError::Incomplete)
        );
    }

    #[test]
    fn header_line_errors() {
        let bad = |h: &str| {
            let m = OPTIONS.replace("Max-Forwards: 70\r\n", h);
            parse_datagram(m.as_bytes()).unwrap_err()
        };
        // A continuation line joins the previous header, here making CSeq invalid.
        assert!(matches!(
            bad(" folded: x\r\n"),
            ParseError::InvalidHeader { .. }
        ));
        assert!(matches!(bad("NoColon\r\n"), ParseError::HeaderLine { .. }));
        assert!(matches!(
            bad(": novalue\r\n"),
            ParseError::HeaderLine { .. }
        ));
        assert!(matches!(
            bad("Bad Name: x\r\n"),
            ParseError::HeaderLine { .. }
        ));
        assert!(matches!(bad("X: a\rb\r\n"), ParseError::HeaderLine { .. }));
        assert_eq!(
            bad("Max-Forwards: 300\r\n").to_string(),
            "Max-Forwards header: not a number from 0 to 255"
        );
        assert_eq!(
            bad("Call-ID: again\r\n"),
            ParseError::DuplicateHeader(HeaderName::CallId)
        );
        let first_line_folded = "OPTIONS sip:a@b SIP/2.0\r\n x: y\r\n\r\n";
        assert!(matches!(
            parse_datagram(first_line_folded.as_bytes()),
            Err(ParseError::HeaderLine { line: 1, .. })
        ));
    }

    #[test]
    fn start_lines() {
        let resp =
            |l: &str| parse_datagram(format!("{l}\r\nVia: SIP/2.0/UDP h\r\n\r\n").as_bytes());
        assert!(resp("SIP/2.0 100 ").is_ok());
        assert!(resp("SIP/2.0 100").is_ok());
        assert!(resp("SIP/2.0 200 = 2**3 * 5**2 \u{43d}\u{43e}").is_ok());
        assert!(resp("SIP/2.0 4294967301 better not break the receiver").is_err());
        assert!(resp("SIP/2.0 099 x").is_err());
        assert!(resp("SIP/2.0 20 x").is_err());
        for bad in [
            "INVITE  sip:a@b SIP/2.0",
            "INVITE sip:a@b SIP/2.0 ",
            "INVITE sip:a@b; lr SIP/2.0",
            "INVITE <sip:a@b> SIP/2.0",
            "INVITE sip:a@b",
            "INVITE sip:a@b HTTP/1.1",
            "IN\"VITE sip:a@b SIP/2.0",
        ] {
            assert!(resp(bad).is_err(), "{bad:?}");
        }
        let r = req(resp("REGISTER sip:[2001:db8::10]:5070 SIP/2.0").unwrap());
        let Uri::Sip(u) = r.uri else { panic!() };
        assert_eq!(u.host, Host::Ipv6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.port, Some(5070));
        assert!(resp("REGISTER sip:2001:db8::10 SIP/2.0").is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let tight = Limits {
            max_message_size: 100,
            max_headers: 3,
        };
        let big = Bytes::from(OPTIONS);
        assert!(matches!(
            parse_datagram_with(big.clone(), &tight),
            Err(ParseError::TooLarge { .. })
        ));
        let few = Limits {
            max_message_size: 1 << 16,
            max_headers: 3,
        };
        assert_eq!(
            parse_datagram_with(big, &few),
            Err(ParseError::TooManyHeaders { limit: 3 })
        );
        assert!(matches!(
            parse_datagram(&vec![b'a'; 70_000]),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn leading_crlfs_are_skipped() {
        let m = format!("\r\n\r\n{OPTIONS}");
        assert!(parse_datagram(m.as_bytes()).is_ok());
    }
}
