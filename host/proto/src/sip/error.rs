//! The one error type of the SIP message layer.
//!
//! Each variant says what is wrong and where (start line, Request-URI, header name),
//! because the text ends up in logs and in the reason of a 400 that an integrator
//! reads while debugging a PBX. Variants that mean the byte stream can no longer be
//! split into messages say so, and [`ParseError::is_fatal_for_stream`] tells a TCP
//! driver to close the connection instead of answering and carrying on.

use super::header::HeaderName;

/// Why bytes are not an acceptable SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but line breaks (a keep-alive) or no bytes at all.
    #[error("empty message")]
    Empty,
    /// Over [`Limits::max_message_size`](super::Limits::max_message_size).
    #[error("message of at least {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Size seen so far (a lower bound on a stream).
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Over [`Limits::max_headers`](super::Limits::max_headers).
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// No empty line ends the header block.
    #[error("header block is not terminated by an empty line")]
    Incomplete,
    /// The request line or status line is malformed.
    #[error("start line: {0}")]
    StartLine(&'static str),
    /// The Request-URI is malformed.
    #[error("Request-URI: {0}")]
    RequestUri(&'static str),
    /// A URI given to [`Uri::parse`](super::Uri::parse) is malformed.
    #[error("URI: {0}")]
    Uri(&'static str),
    /// A value given to [`Address::parse`](super::Address::parse) is malformed.
    #[error("address: {0}")]
    Address(&'static str),
    /// A header line cannot be split into name and value.
    #[error("header line {line}: {what}")]
    HeaderLine {
        /// 1-based line number counted after the start line.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A header value does not follow its grammar.
    #[error("{name} header: {what}")]
    InvalidHeader {
        /// Which header.
        name: HeaderName,
        /// What is wrong.
        what: &'static str,
    },
    /// A header a message needs is absent.
    #[error("missing {0} header")]
    MissingHeader(HeaderName),
    /// A header that may appear once appears several times (RFC 3261 §7.3.1).
    #[error("{0} header appears more than once")]
    DuplicateHeader(HeaderName),
    /// A datagram holds fewer body bytes than Content-Length announces (RFC 3261 §18.3).
    #[error("Content-Length {declared} exceeds the {available} body bytes in the datagram")]
    BodyTruncated {
        /// Content-Length value.
        declared: usize,
        /// Bytes present after the header block.
        available: usize,
    },
    /// Content-Length is negative, not a number, or absurdly large.
    #[error(
        "Content-Length {value:?} is not a valid length (on a stream framing is lost: close the connection)"
    )]
    InvalidContentLength {
        /// The value as received (truncated to 32 bytes).
        value: String,
    },
    /// Several Content-Length headers disagree.
    #[error(
        "conflicting Content-Length values {first} and {second} (on a stream framing is lost: close the connection)"
    )]
    ConflictingContentLength {
        /// First value seen.
        first: usize,
        /// A different later value.
        second: usize,
    },
    /// A message on a stream transport has no Content-Length (RFC 3261 §18.3).
    #[error(
        "Content-Length is mandatory on stream transports (framing is lost: close the connection)"
    )]
    MissingContentLength,
    /// A multipart body cannot be split into its parts.
    #[error("multipart body: {0}")]
    Multipart(&'static str),
}

impl ParseError {
    /// Whether a stream connection that produced this error must be closed: its
    /// message boundaries can no longer be known, so nothing after it can be trusted.
    pub fn is_fatal_for_stream(&self) -> bool {
        matches!(
            self,
            ParseError::TooLarge { .. }
                | ParseError::InvalidContentLength { .. }
                | ParseError::ConflictingContentLength { .. }
                | ParseError::MissingContentLength
        )
    }

    pub(crate) fn header(name: &HeaderName) -> impl Fn(&'static str) -> ParseError + '_ {
        move |what| ParseError::InvalidHeader {
            name: name.clone(),
            what,
        }
    }
}
