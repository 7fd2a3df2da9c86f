//! Requests, responses and their start-line parts.
//!
//! Fields are public and cheap to clone (`Bytes` bodies and header values share the
//! received buffer) because the transaction and dialog layers copy messages around
//! (a retransmission store keeps the last response, a CANCEL is built from its
//! INVITE) and edit them (a proxy adds a Via, a UAS adds a To tag).

use std::fmt;

use bytes::Bytes;

use super::header::Headers;
use super::scan::{self, Syn};
use super::uri::Uri;

macro_rules! methods {
    ($( $variant:ident => $name:literal, )*) => {
        /// A request method. Method names are case-sensitive (RFC 3261 §7.1).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Method {
            $( #[doc = concat!("`", $name, "`")] $variant, )*
            /// Any other token (a UAS answers it with 501).
            Extension(String),
        }

        impl Method {
            /// The method as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Method::$variant => $name, )*
                    Method::Extension(s) => s,
                }
            }

            fn known(t: &[u8]) -> Option<Method> {
                $( if t == $name.as_bytes() { return Some(Method::$variant); } )*
                None
            }
        }
    };
}

methods! {
    Invite => "INVITE",
    Ack => "ACK",
    Bye => "BYE",
    Cancel => "CANCEL",
    Options => "OPTIONS",
    Register => "REGISTER",
    Prack => "PRACK",
    Subscribe => "SUBSCRIBE",
    Notify => "NOTIFY",
    Publish => "PUBLISH",
    Info => "INFO",
    Refer => "REFER",
    Message => "MESSAGE",
    Update => "UPDATE",
}

impl Method {
    /// Parses a method token. Escapes are not decoded: `RE%47IST%45R` is an
    /// extension method, not REGISTER (RFC 4475 §3.1.1.5).
    pub fn parse(t: &[u8]) -> Result<Method, &'static str> {
        if t.is_empty() || !t.iter().all(|&b| scan::is_token(b)) {
            return Err("method is not a token");
        }
        Ok(Method::known(t).unwrap_or_else(|| Method::Extension(scan::string(t))))
    }

    /// Whether this is one of the IANA-registered methods listed as variants.
    pub fn is_known(&self) -> bool {
        !matches!(self, Method::Extension(_))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `SIP/<major>.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl Version {
    /// SIP/2.0, the only version this crate processes.
    pub const SIP_2_0: Version = Version { major: 2, minor: 0 };

    /// Parses `SIP/1*DIGIT.1*DIGIT` ("SIP" case-insensitive, RFC 3261 §7.1).
    pub(crate) fn parse(t: &[u8]) -> Syn<Version> {
        let rest = match t.get(..4) {
            Some(p) if p.eq_ignore_ascii_case(b"SIP/") => t.get(4..).unwrap_or_default(),
            _ => return Err("version is not SIP/x.y"),
        };
        let dot = rest
            .iter()
            .position(|&b| b == b'.')
            .ok_or("version is not SIP/x.y")?;
        let num = |d: &[u8]| {
            scan::parse_u64(d)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("version is not SIP/x.y")
        };
        Ok(Version {
            major: num(rest.get(..dot).unwrap_or_default())?,
            minor: num(rest.get(dot + 1..).unwrap_or_default())?,
        })
    }
}

impl Default for Version {
    fn default() -> Self {
        Version::SIP_2_0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/{}.{}", self.major, self.minor)
    }
}

/// A response status code, 100 to 699.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(u16);

impl StatusCode {
    /// 100 Trying
    pub const TRYING: StatusCode = StatusCode(100);
    /// 180 Ringing
    pub const RINGING: StatusCode = StatusCode(180);
    /// 200 OK
    pub const OK: StatusCode = StatusCode(200);
    /// 400 Bad Request
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 404 Not Found
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    /// 405 Method Not Allowed
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    /// 406 Not Acceptable
    pub const NOT_ACCEPTABLE: StatusCode = StatusCode(406);
    /// 415 Unsupported Media Type
    pub const UNSUPPORTED_MEDIA_TYPE: StatusCode = StatusCode(415);
    /// 416 Unsupported URI Scheme
    pub const UNSUPPORTED_URI_SCHEME: StatusCode = StatusCode(416);
    /// 420 Bad Extension
    pub const BAD_EXTENSION: StatusCode = StatusCode(420);
    /// 481 Call/Transaction Does Not Exist
    pub const CALL_DOES_NOT_EXIST: StatusCode = StatusCode(481);
    /// 487 Request Terminated
    pub const REQUEST_TERMINATED: StatusCode = StatusCode(487);
    /// 500 Server Internal Error
    pub const SERVER_INTERNAL_ERROR: StatusCode = StatusCode(500);
    /// 501 Not Implemented
    pub const NOT_IMPLEMENTED: StatusCode = StatusCode(501);
    /// 503 Service Unavailable
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    /// 505 Version Not Supported
    pub const VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);

    /// A status code if `code` is in 100..=699.
    pub const fn new(code: u16) -> Option<StatusCode> {
        if code >= 100 && code <= 699 {
            Some(StatusCode(code))
        } else {
            None
        }
    }

    /// The number.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// 1xx
    pub const fn is_provisional(self) -> bool {
        self.0 < 200
    }

    /// 2xx
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }

    /// 2xx to 6xx
    pub const fn is_final(self) -> bool {
        self.0 >= 200
    }

    /// The reason phrase RFC 3261 §21 (and later RFCs) give this code.
    pub fn canonical_reason(self) -> &'static str {
        match self.0 {
            100 => "Trying",
            180 => "Ringing",
            181 => "Call Is Being Forwarded",
            182 => "Queued",
            183 => "Session Progress",
            199 => "Early Dialog Terminated",
            200 => "OK",
            202 => "Accepted",
            204 => "No Notification",
            300 => "Multiple Choices",
            301 => "Moved Permanently",
            302 => "Moved Temporarily",
            305 => "Use Proxy",
            380 => "Alternative Service",
            400 => "Bad Request",
            401 => "Unauthorized",
            402 => "Payment Required",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            410 => "Gone",
            413 => "Request Entity Too Large",
            414 => "Request-URI Too Long",
            415 => "Unsupported Media Type",
            416 => "Unsupported URI Scheme",
            420 => "Bad Extension",
            421 => "Extension Required",
            422 => "Session Interval Too Small",
            423 => "Interval Too Brief",
            480 => "Temporarily Unavailable",
            481 => "Call/Transaction Does Not Exist",
            482 => "Loop Detected",
            483 => "Too Many Hops",
            484 => "Address Incomplete",
            485 => "Ambiguous",
            486 => "Busy Here",
            487 => "Request Terminated",
            488 => "Not Acceptable Here",
            489 => "Bad Event",
            491 => "Request Pending",
            493 => "Undecipherable",
            500 => "Server Internal Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Server Time-out",
            505 => "Version Not Supported",
            513 => "Message Too Large",
            580 => "Precondition Failure",
            600 => "Busy Everywhere",
            603 => "Decline",
            604 => "Does Not Exist Anywhere",
            606 => "Not Acceptable",
            _ => match self.0 / 100 {
                1 => "Session Progress",
                2 => "OK",
                3 => "Redirection",
                4 => "Client Error",
                5 => "Server Error",
                _ => "Global Failure",
            },
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method of the request line.
    pub method: Method,
    /// Request-URI.
    pub uri: Uri,
    /// Version of the request line.
    pub version: Version,
    /// Header fields in order.
    pub headers: Headers,
    /// Body, exactly Content-Length bytes (or the rest of a datagram without one).
    pub body: Bytes,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Version of the status line.
    pub version: Version,
    /// Status code.
    pub status: StatusCode,
    /// Reason phrase (lossy UTF-8; peers send UTF-8, RFC 4475 §3.1.1.12).
    pub reason: String,
    /// Header fields in order.
    pub headers: Headers,
    /// Body.
    pub body: Bytes,
}

/// Either kind of message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The header fields, for editing.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_tokens() {
        assert_eq!(Method::parse(b"INVITE").unwrap(), Method::Invite);
        assert_eq!(
            Method::parse(b"invite").unwrap(),
            Method::Extension("invite".into())
        );
        assert!(!Method::parse(b"RE%47IST%45R").unwrap().is_known());
        assert!(Method::parse(b"IN VITE").is_err());
        assert!(Method::parse(b"").is_err());
    }

    #[test]
    fn versions_and_codes() {
        assert_eq!(Version::parse(b"sip/2.0").unwrap(), Version::SIP_2_0);
        assert_eq!(
            Version::parse(b"SIP/7.0").unwrap(),
            Version { major: 7, minor: 0 }
        );
        for bad in [
            &b"SIP/2"[..],
            b"SIP/.0",
            b"HTTP/1.1",
            b"SIP/2.0.1",
            b"SIP/99999999999.0",
        ] {
            assert!(Version::parse(bad).is_err());
        }
        assert!(StatusCode::new(99).is_none());
        assert!(StatusCode::new(700).is_none());
        assert_eq!(
            StatusCode::new(420).unwrap().canonical_reason(),
            "Bad Extension"
        );
        assert_eq!(
            StatusCode::new(499).unwrap().canonical_reason(),
            "Client Error"
        );
    }
}
