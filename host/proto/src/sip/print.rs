//! Serialisation of messages to wire bytes.
//!
//! Printing is infallible and always yields correctly framed bytes, whatever a
//! caller put into the fields; a parsed message prints to one that parses back to
//! the same values (the corpus round-trip tests hold it to that). Two rules give the
//! framing guarantee:
//!
//! * Content-Length is written from the body actually sent, replacing any value in
//!   the header list (only the first Content-Length header is kept) or appended if
//!   none, so a message framed for UDP without one is still valid on TCP.
//! * CR and LF inside the start line (URI, method, reason phrase) and header names
//!   and values are printed as spaces, so no field can end a line early or smuggle
//!   in a header.
//!
//! Header names are printed in their canonical long form; values are printed as
//! stored, which for a parsed message means as received with folding unfolded.
//! `to_bytes` is exact; `Display` is the same text decoded lossily, for logs.

use std::fmt;

use bytes::Bytes;

use super::header::{HeaderName, Headers};
use super::message::{Message, Request, Response};

fn push_clean(out: &mut Vec<u8>, value: &[u8]) {
    out.extend(
        value
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
}

fn write_headers_and_body(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    let mut wrote_length = false;
    for h in headers {
        if h.name == HeaderName::ContentLength {
            if !wrote_length {
                out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
                wrote_length = true;
            }
            continue;
        }
        push_clean(out, h.name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        push_clean(out, &h.value);
        out.extend_from_slice(b"\r\n");
    }
    if !wrote_length {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

fn estimate(headers: &Headers, body: &[u8]) -> usize {
    64 + body.len() + headers.iter().map(|h| h.value.len() + 24).sum::<usize>()
}

impl Request {
    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // The URI and an extension method are caller-supplied strings too.
        let line = format!("{} {} {}", self.method, self.uri, self.version);
        push_clean(out, line.as_bytes());
        out.extend_from_slice(b"\r\n");
        write_headers_and_body(out, &self.headers, &self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(estimate(&self.headers, &self.body));
        self.write_to(&mut out);
        Bytes::from(out)
    }
}

impl Response {
    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{} {} ", self.version, self.status).as_bytes());
        push_clean(out, self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        write_headers_and_body(out, &self.headers, &self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(estimate(&self.headers, &self.body));
        self.write_to(&mut out);
        Bytes::from(out)
    }
}

impl Message {
    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Message::Request(r) => r.write_to(out),
            Message::Response(r) => r.write_to(out),
        }
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use crate::sip::{HeaderName, Message, parse_datagram};

    #[test]
    fn round_trip_normalises_names_folding_and_length() {
        let m = "INVITE sip:a@b SIP/2.0\r\n\
            v: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n\
            t: sip:a@b\r\nf: <sip:c@d>;tag=9\r\ni: id\r\nCSeq: 1 INVITE\r\n\
            X-Custom:  some   value \r\n\
            c: application/sdp\r\n\r\nv=0\r\n";
        let parsed = parse_datagram(m.as_bytes()).unwrap();
        let printed = parsed.to_bytes();
        assert_eq!(
            &printed[..],
            &b"INVITE sip:a@b SIP/2.0\r\n\
            Via: SIP/2.0/UDP h ;branch=z9hG4bK1\r\n\
            To: sip:a@b\r\nFrom: <sip:c@d>;tag=9\r\nCall-ID: id\r\nCSeq: 1 INVITE\r\n\
            X-Custom: some   value\r\n\
            Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"[..]
        );
        let again = parse_datagram(&printed).unwrap();
        assert_eq!(again.to_bytes(), printed);
        assert_eq!(again.body(), parsed.body());
    }

    #[test]
    fn values_cannot_inject_headers() {
        let Message::Request(mut r) = parse_datagram(
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap() else {
            panic!()
        };
        r.headers.append("Subject", "x\r\nEvil: yes");
        r.body = bytes::Bytes::from_static(b"abc");
        let again = parse_datagram(&r.to_bytes()).unwrap();
        assert!(!again.headers().contains("Evil"));
        assert_eq!(
            again.headers().value(HeaderName::Subject).unwrap(),
            "x  Evil: yes"
        );
        assert_eq!(again.headers().content_length(), Ok(Some(3)));
        assert!(r.to_string().starts_with("OPTIONS sip:a@b SIP/2.0\r\n"));
        r.method = crate::sip::Method::Extension("X\r\nEvil: 1\r\n".into());
        let printed = r.to_bytes();
        assert!(printed.starts_with(b"X  Evil: 1   sip:a@b SIP/2.0\r\nVia"));
    }
}
