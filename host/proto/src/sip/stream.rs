//! Framing SIP messages out of a byte stream (TCP, TLS).
//!
//! The framer separates two kinds of failure. A *framing* error (no end of headers
//! within the size limit, Content-Length missing, negative, unreadable, conflicting
//! or too large) means the position of the next message is unknown, so
//! [`StreamFramer::next_event`] returns it as `Err` and stays failed: the driver must close
//! the connection (RFC 3261 §18.3, RFC 4475 §3.1.2.3, §3.3.9). A *message* error (a
//! malformed header in a correctly framed message) is returned inside
//! [`StreamEvent::Message`]: the driver answers 400 or drops it and keeps reading.
//!
//! Buffered bytes are bounded: the framer fails as soon as the header block or the
//! announced message exceeds [`Limits::max_message_size`], so a peer cannot make it
//! hold more than one message plus one read.

use bytes::{Buf, Bytes, BytesMut};

use super::error::ParseError;
use super::header::HeaderName;
use super::message::Message;
use super::parse::{self, Framing, Limits};
use super::scan;

/// What the framer produced.
// Events are handed out one at a time and consumed at once, never stored in bulk,
// so the size of the message variant costs nothing and boxing it would cost an
// allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// One complete message: its exact bytes and the parse result.
    Message {
        /// The message as received.
        raw: Bytes,
        /// The parsed message, or why it is malformed (the stream is still usable).
        parsed: Result<Message, ParseError>,
    },
    /// A CRLFCRLF keep-alive ping (RFC 5626 §3.5.1): answer with a single CRLF.
    KeepAlive,
}

/// Splits a byte stream into SIP messages. Feed bytes with [`push`](Self::push),
/// then call [`next_event`](Self::next_event) until it returns `Ok(None)`.
///
/// ```
/// use voxgate_proto::sip::{StreamEvent, StreamFramer};
///
/// let mut framer = StreamFramer::default();
/// framer.push(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Le");
/// assert_eq!(framer.next_event(), Ok(Some(StreamEvent::KeepAlive)));
/// assert_eq!(framer.next_event(), Ok(None)); // needs more bytes
/// framer.push(b"ngth: 2\r\n\r\nhi");
/// let Ok(Some(StreamEvent::Message { parsed, .. })) = framer.next_event() else { panic!() };
/// assert_eq!(parsed.unwrap().body(), "hi");
///
/// framer.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n");
/// let err = framer.next_event().unwrap_err();
/// assert!(err.is_fatal_for_stream()); // close the connection
/// ```
#[derive(Debug)]
pub struct StreamFramer {
    buf: BytesMut,
    limits: Limits,
    /// How far the search for the end of the header block has got, so that a
    /// message arriving in many small reads is not rescanned from the start.
    scanned: usize,
    /// Header block end and total length once known.
    pending: Option<usize>,
    failed: Option<ParseError>,
}

impl Default for StreamFramer {
    fn default() -> Self {
        StreamFramer::new(Limits::default())
    }
}

impl StreamFramer {
    /// A framer with these limits.
    pub fn new(limits: Limits) -> Self {
        StreamFramer {
            buf: BytesMut::new(),
            limits,
            scanned: 0,
            pending: None,
            failed: None,
        }
    }

    /// Appends received bytes. Ignored once the framer has failed.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// Bytes received but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The fatal error, if framing has failed.
    pub fn error(&self) -> Option<&ParseError> {
        self.failed.as_ref()
    }

    /// The next complete message or keep-alive, `Ok(None)` if more bytes are
    /// needed, or the framing error after which the connection must be closed.
    pub fn next_event(&mut self) -> Result<Option<StreamEvent>, ParseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.step();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.buf.clear();
        }
        r
    }

    fn step(&mut self) -> Result<Option<StreamEvent>, ParseError> {
        if self.pending.is_none() {
            // Between messages: a CRLFCRLF is a ping, a lone CRLF a pong to ignore.
            loop {
                if self.buf.starts_with(b"\r\n\r\n") {
                    self.buf.advance(4);
                    self.scanned = 0;
                    return Ok(Some(StreamEvent::KeepAlive));
                }
                if !self.buf.starts_with(b"\r\n") {
                    break;
                }
                if self.buf.len() < 4 && b"\r\n\r\n".starts_with(&self.buf) {
                    return Ok(None); // could still become a ping
                }
                self.buf.advance(2);
                self.scanned = 0;
            }
            let from = self.scanned.saturating_sub(3);
            let Some(end) = scan::find(&self.buf, from, b"\r\n\r\n") else {
                self.scanned = self.buf.len();
                if self.buf.len() > self.limits.max_message_size {
                    return Err(ParseError::TooLarge {
                        size: self.buf.len(),
                        limit: self.limits.max_message_size,
                    });
                }
                return Ok(None);
            };
            let head_end = end + 4;
            // Size first: an oversized head is TooLarge however the reads split it.
            if head_end > self.limits.max_message_size {
                return Err(ParseError::TooLarge {
                    size: head_end,
                    limit: self.limits.max_message_size,
                });
            }
            let body_len = self.content_length(head_end)?;
            let total = head_end
                .checked_add(body_len)
                .filter(|&t| t <= self.limits.max_message_size)
                .ok_or(ParseError::TooLarge {
                    size: head_end.saturating_add(body_len),
                    limit: self.limits.max_message_size,
                })?;
            self.pending = Some(total);
        }
        let Some(total) = self.pending else {
            return Ok(None);
        };
        if self.buf.len() < total {
            return Ok(None);
        }
        let raw = self.buf.split_to(total).freeze();
        self.pending = None;
        self.scanned = 0;
        let parsed = parse::parse_message(raw.clone(), Framing::Stream, &self.limits);
        Ok(Some(StreamEvent::Message { raw, parsed }))
    }

    /// Finds Content-Length in the header block `buf[..head_end]` without parsing
    /// anything else: a malformed header elsewhere must not cost the connection.
    fn content_length(&self, head_end: usize) -> Result<usize, ParseError> {
        let head: &[u8] = self.buf.get(..head_end).unwrap_or_default();
        let line_end = scan::find(head, 0, b"\r\n").unwrap_or(0);
        let mut found: Option<usize> = None;
        let mut pos = line_end + 2;
        while pos < head_end.saturating_sub(2) {
            let eol = scan::find(head, pos, b"\r\n").unwrap_or(head_end);
            let line = head.get(pos..eol).unwrap_or_default();
            let name_len = line.iter().take_while(|&&b| scan::is_token(b)).count();
            let name = line.get(..name_len).unwrap_or_default();
            let rest = scan::trim_ws(line.get(name_len..).unwrap_or_default());
            if name_len > 0
                && rest.first() == Some(&b':')
                && HeaderName::from_bytes(name) == HeaderName::ContentLength
            {
                // Collect continuation lines: "Content-Length:\r\n 12" is legal.
                let mut value = rest.get(1..).unwrap_or_default().to_vec();
                let mut next = eol + 2;
                while head.get(next).copied().is_some_and(scan::is_ws) {
                    let e = scan::find(head, next, b"\r\n").unwrap_or(head_end);
                    value.push(b' ');
                    value.extend_from_slice(head.get(next..e).unwrap_or_default());
                    next = e + 2;
                }
                let n = parse::parse_content_length(scan::trim_ws(&value))?;
                match found {
                    Some(first) if first != n => {
                        return Err(ParseError::ConflictingContentLength { first, second: n });
                    }
                    _ => found = Some(n),
                }
            }
            pos = eol + 2;
        }
        found.ok_or(ParseError::MissingContentLength)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\
        l: 4\r\nCSeq: 1 OPTIONS\r\n\r\nbody";

    fn drain(f: &mut StreamFramer) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        while let Some(e) = f.next_event().unwrap() {
            out.push(e);
        }
        out
    }

    #[test]
    fn messages_across_every_split() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(MSG);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(MSG);
        let mut whole = StreamFramer::default();
        whole.push(&stream);
        let expected = drain(&mut whole);
        assert_eq!(expected.len(), 3);
        assert_eq!(expected[0], StreamEvent::KeepAlive);
        for split in 0..=stream.len() {
            let mut f = StreamFramer::default();
            let (a, b) = stream.split_at(split);
            f.push(a);
            let mut got = drain(&mut f);
            f.push(b);
            got.extend(drain(&mut f));
            assert_eq!(got, expected, "split at {split}");
            assert_eq!(f.buffered(), 0);
        }
        let mut f = StreamFramer::default();
        let mut got = Vec::new();
        for byte in &stream {
            f.push(std::slice::from_ref(byte));
            got.extend(drain(&mut f));
        }
        assert_eq!(got, expected);
        let StreamEvent::Message { parsed, raw } = &expected[1] else {
            panic!()
        };
        assert_eq!(&raw[..], MSG);
        assert_eq!(parsed.as_ref().unwrap().body(), "body");
    }

    #[test]
    fn framing_errors_are_fatal_and_sticky() {
        for (bad, want) in [
            (
                &b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"[..],
                ParseError::MissingContentLength,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\n",
                ParseError::InvalidContentLength {
                    value: "-999".into(),
                },
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 13\r\nl: 5\r\n\r\n",
                ParseError::ConflictingContentLength {
                    first: 13,
                    second: 5,
                },
            ),
        ] {
            let mut f = StreamFramer::default();
            f.push(bad);
            let e = f.next_event().unwrap_err();
            assert_eq!(e, want);
            assert!(e.is_fatal_for_stream());
            f.push(MSG);
            assert_eq!(f.next_event().unwrap_err(), want);
            assert_eq!(f.error(), Some(&want));
        }
    }

    #[test]
    fn malformed_message_keeps_the_stream() {
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: x\r\nContent-Length: 0\r\n\r\n");
        f.push(MSG);
        let ev = drain(&mut f);
        assert_eq!(ev.len(), 2);
        assert!(matches!(
            &ev[0],
            StreamEvent::Message { parsed: Err(_), .. }
        ));
        assert!(matches!(&ev[1], StreamEvent::Message { parsed: Ok(_), .. }));
    }

    #[test]
    fn folded_content_length_is_found() {
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n  2\r\n\r\nokX");
        let ev = drain(&mut f);
        let [StreamEvent::Message { parsed: Ok(m), .. }] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        assert_eq!(m.body(), "ok");
        assert_eq!(f.buffered(), 1);
    }

    #[test]
    fn buffering_is_bounded() {
        let limits = Limits {
            max_message_size: 1024,
            max_headers: 16,
        };
        let mut f = StreamFramer::new(limits);
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nX: ");
        for _ in 0..20 {
            f.push(&[b'a'; 100]);
            if f.next_event().is_err() {
                break;
            }
        }
        assert!(matches!(f.error(), Some(ParseError::TooLarge { .. })));
        let mut f = StreamFramer::new(limits);
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert!(f.next_event().unwrap_err().is_fatal_for_stream());
        let mut f = StreamFramer::new(limits);
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n");
        assert!(matches!(f.next_event(), Err(ParseError::TooLarge { .. })));
    }

    #[test]
    fn oversized_head_is_too_large_however_it_arrives() {
        // Found by the sip_stream fuzz target: read whole, this head (no Content-Length)
        // used to fail as MissingContentLength, read in pieces as TooLarge.
        let mut msg = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        while msg.len() < 70_000 {
            msg.extend_from_slice(b"X-Pad: 0123456789012345678901234567890123456789\r\n");
        }
        msg.extend_from_slice(b"\r\n");
        let mut whole = StreamFramer::default();
        whole.push(&msg);
        assert!(matches!(
            whole.next_event(),
            Err(ParseError::TooLarge { .. })
        ));
        let mut pieces = StreamFramer::default();
        pieces.push(&msg[..66_000]);
        assert!(matches!(
            pieces.next_event(),
            Err(ParseError::TooLarge { .. })
        ));
    }
}
