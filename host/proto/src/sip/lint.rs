//! What a UAS must do with a message before any dialog logic sees it.
//!
//! [`lint`] answers one question for one datagram: accept it, reject it as
//! malformed (400), answer it with a specific refusal, or drop it silently. It backs
//! the `voxgate sip lint FILE...` command and is checked against the RFC 4475 /
//! RFC 5118 torture corpus by `tests/sip_torture.rs`.
//!
//! # Order of checks
//!
//! A request that parses is checked in this order; the first failing check decides.
//!
//! 1. Via, From, To, Call-ID and CSeq must be present (RFC 3261 §8.1.1): without
//!    them no response can be built, so this is a **reject** (400 where possible).
//!    Max-Forwards is not required, for RFC 2543 peers (RFC 4475 §3.4.1).
//! 2. A Request-URI with a header component (`?Route=…`) is a **reject**: RFC 3261
//!    §19.1.1 Table 1 forbids it there, and a UAS has no sane use for it.
//! 3. A version other than SIP/2.0 is **answer:505**.
//! 4. A method that is not one of the registered SIP methods is **answer:501**. This
//!    precedes the CSeq check so that an unknown method with a mismatched CSeq gets
//!    501, as RFC 4475 §3.1.2.18 prefers.
//! 5. A CSeq method that differs from the request method is a **reject**.
//! 6. A Request-URI scheme other than sip, sips or tel is **answer:416**.
//! 7. A Require tag the UAS does not support is **answer:420** carrying an
//!    Unsupported header (not for ACK and CANCEL, RFC 3261 §8.2.2.3).
//! 8. For the methods whose body voxgate reads (INVITE, ACK, BYE, CANCEL, OPTIONS,
//!    INFO, PRACK, UPDATE) a non-empty body needs a Content-Type (else reject), an
//!    identity Content-Encoding and a type from [`UasPolicy::body_types`]; a
//!    `multipart/mixed` body must contain an `application/sdp` part. Otherwise
//!    **answer:415** with an Accept header. A body marked `handling=optional` is
//!    skipped (RFC 3261 §20.11).
//! 9. An INVITE whose Accept header admits no `application/sdp` is **answer:406**:
//!    the answer would carry SDP.
//!
//! Responses are never answered: one that does not parse, lacks a header the
//! transaction layer matches on, or has another version is **drop**; otherwise
//! **accept** (whether it matches a transaction, and the one-Via rule of RFC 3261
//! §18.1.2, belong to the transport and transaction layers). An ACK is never
//! answered either (§17), so any refusal of an ACK becomes a drop.
//!
//! # Policy choices
//!
//! Where RFC 4475 leaves the choice open, this module picks:
//!
//! * Extra or trailing spaces in the request line (§3.1.2.9, §3.1.2.10): reject.
//!   The request line is `Method SP Request-URI SP SIP-Version` exactly; guessing
//!   where the URI ends is what lets a space inside it (§3.1.2.8) slip through.
//! * Escaped headers in the Request-URI (§3.1.2.11): reject (check 2).
//! * A non-GMT Date (§3.1.2.12): accept; Date is not used.
//! * A bare Contact URI with `?` (§3.1.2.13): reject; see `address.rs`.
//! * `2001:db8:::192.0.2.1` (RFC 5118 §4.10): reject, per RFC 4291 and RFC 5954.
//! * REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, MESSAGE and REFER are registered methods,
//!   so they are accepted here and their bodies are not judged: whether voxgate
//!   serves them, and what a NOTIFY's `message/sipfrag` means, is the UA core's
//!   call (405 with Allow, or processing), and a 415 would wrongly suggest that
//!   another body type might work.

use std::fmt;

use super::error::ParseError;
use super::header::{Header, HeaderName};
use super::message::{Message, Method, Request, Response, StatusCode, Version};
use super::multipart;
use super::param;
use super::parse::{self, parse_datagram};
use super::scan::Scanner;
use super::uri::Uri;

/// The outcome of [`lint`]. `Display` prints `accept`, `reject`, `drop` or
/// `answer:NNN`, the vocabulary of the corpus' `expected.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Well-formed; process it.
    Accept,
    /// Malformed. A request gets 400 where a response can be built; a TCP
    /// connection with broken framing is closed.
    Reject {
        /// What is wrong.
        reason: String,
    },
    /// Discard silently (a bad or stray response, a refused ACK, an empty datagram).
    Drop {
        /// Why.
        reason: String,
    },
    /// Well-formed, but the UAS must refuse it with `status`.
    Answer {
        /// The status to answer with.
        status: StatusCode,
        /// Why (for logs and, if wanted, a Warning header).
        reason: String,
        /// Headers the response must carry (Unsupported for 420, Accept for 415).
        headers: Vec<Header>,
    },
}

impl Verdict {
    /// The status a response should carry: 400 for a reject, the code of an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Verdict::Reject { .. } => Some(StatusCode::BAD_REQUEST),
            Verdict::Answer { status, .. } => Some(*status),
            Verdict::Accept | Verdict::Drop { .. } => None,
        }
    }

    /// The explanation, empty for accept.
    pub fn reason(&self) -> &str {
        match self {
            Verdict::Accept => "",
            Verdict::Reject { reason } | Verdict::Drop { reason } => reason,
            Verdict::Answer { reason, .. } => reason,
        }
    }

    /// The response to send for a request this verdict refused, with the To tag
    /// the UAS chose (sans-IO: the caller brings the randomness).
    pub fn response(&self, req: &Request, to_tag: &str) -> Option<Response> {
        let status = self.status()?;
        let mut b = Response::reply(req, status).to_tag(to_tag);
        if let Verdict::Answer { headers, .. } = self {
            for h in headers {
                b = b.push(h.clone());
            }
        }
        Some(b.build())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => f.write_str("accept"),
            Verdict::Reject { .. } => f.write_str("reject"),
            Verdict::Drop { .. } => f.write_str("drop"),
            Verdict::Answer { status, .. } => write!(f, "answer:{status}"),
        }
    }
}

/// What the UAS supports; the defaults describe voxgate today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UasPolicy {
    /// Option tags implemented. Empty by default: 100rel and session timers are not
    /// implemented yet, and claiming them would break calls that rely on them.
    pub supported: Vec<String>,
    /// Body types read, as `type/subtype`. `multipart/mixed` additionally needs an
    /// `application/sdp` part.
    pub body_types: Vec<String>,
}

impl Default for UasPolicy {
    fn default() -> Self {
        UasPolicy {
            supported: Vec::new(),
            body_types: [
                "application/sdp",
                "application/dtmf-relay",
                "multipart/mixed",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Lints one datagram with the default [`UasPolicy`].
///
/// The input is treated as one UDP datagram (bytes past Content-Length are ignored,
/// a missing Content-Length means "to the end"), which is how the torture corpus
/// files are meant to be read. Any bytes are fine: this never panics.
///
/// This is the function behind `voxgate sip lint FILE...`, which prints one line per
/// file: the verdict as displayed (`accept`, `reject`, `drop`, `answer:NNN`) and
/// [`Verdict::reason`].
///
/// ```
/// use voxgate_proto::sip::lint;
///
/// let v = lint(b"OPTIONS sip:a@example.com SIP/7.0\r\nVia: SIP/7.0/UDP h\r\n\
///     From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n\
///     Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n");
/// assert_eq!(v.to_string(), "answer:505");
/// assert_eq!(v.reason(), "version SIP/7.0 not supported");
/// ```
pub fn lint(bytes: &[u8]) -> Verdict {
    lint_with(bytes, &UasPolicy::default())
}

/// Lints one datagram with the given policy.
pub fn lint_with(bytes: &[u8], policy: &UasPolicy) -> Verdict {
    match parse_datagram(bytes) {
        Ok(Message::Request(r)) => check_request(&r, policy),
        Ok(Message::Response(r)) => check_response(&r),
        Err(ParseError::Empty) => Verdict::Drop {
            reason: ParseError::Empty.to_string(),
        },
        Err(e) => {
            let rest = bytes.get(parse::skip_crlfs(bytes)..).unwrap_or_default();
            let is_response = rest
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
            if is_response || rest.starts_with(b"ACK ") {
                Verdict::Drop {
                    reason: e.to_string(),
                }
            } else {
                Verdict::Reject {
                    reason: e.to_string(),
                }
            }
        }
    }
}

/// The checks for a parsed response (see the module documentation).
pub fn check_response(resp: &Response) -> Verdict {
    if resp.version != Version::SIP_2_0 {
        return Verdict::Drop {
            reason: format!("response version {}", resp.version),
        };
    }
    match missing_mandatory(resp.headers.iter()) {
        Some(name) => Verdict::Drop {
            reason: ParseError::MissingHeader(name).to_string(),
        },
        None => Verdict::Accept,
    }
}

/// The checks for a parsed request, in the order the module documentation gives.
pub fn check_request(req: &Request, policy: &UasPolicy) -> Verdict {
    let v = check_request_inner(req, policy);
    match v {
        Verdict::Reject { reason } | Verdict::Answer { reason, .. }
            if req.method == Method::Ack =>
        {
            Verdict::Drop {
                reason: format!("ACK is never answered: {reason}"),
            }
        }
        v => v,
    }
}

fn missing_mandatory<'a>(headers: impl Iterator<Item = &'a Header> + Clone) -> Option<HeaderName> {
    [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ]
    .into_iter()
    .find(|n| !headers.clone().any(|h| h.name == *n))
}

fn reject(reason: impl Into<String>) -> Verdict {
    Verdict::Reject {
        reason: reason.into(),
    }
}

fn answer(status: StatusCode, reason: String, headers: Vec<Header>) -> Verdict {
    Verdict::Answer {
        status,
        reason,
        headers,
    }
}

fn check_request_inner(req: &Request, policy: &UasPolicy) -> Verdict {
    let h = &req.headers;
    if let Some(name) = missing_mandatory(h.iter()) {
        return reject(ParseError::MissingHeader(name).to_string());
    }
    if let Uri::Sip(u) = &req.uri
        && !u.headers.is_empty()
    {
        return reject("Request-URI must not contain headers");
    }
    if req.version != Version::SIP_2_0 {
        return answer(
            StatusCode::VERSION_NOT_SUPPORTED,
            format!("version {} not supported", req.version),
            Vec::new(),
        );
    }
    if !req.method.is_known() {
        return answer(
            StatusCode::NOT_IMPLEMENTED,
            format!("method {} not implemented", req.method),
            Vec::new(),
        );
    }
    match h.cseq() {
        Ok(c) if c.method != req.method => {
            return reject(format!(
                "CSeq method {} does not match request method {}",
                c.method, req.method
            ));
        }
        Ok(_) => {}
        Err(e) => return reject(e.to_string()),
    }
    if !matches!(req.uri, Uri::Sip(_) | Uri::Tel(_)) {
        return answer(
            StatusCode::UNSUPPORTED_URI_SCHEME,
            format!("Request-URI scheme {} not supported", req.uri.scheme()),
            Vec::new(),
        );
    }
    if !matches!(req.method, Method::Ack | Method::Cancel) {
        let require = match h.require() {
            Ok(r) => r,
            Err(e) => return reject(e.to_string()),
        };
        let unsupported: Vec<String> = require
            .into_iter()
            .filter(|t| !policy.supported.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .collect();
        if !unsupported.is_empty() {
            let list = unsupported.join(", ");
            return answer(
                StatusCode::BAD_EXTENSION,
                format!("Require: {list} not supported"),
                vec![Header::new(HeaderName::Unsupported, list)],
            );
        }
    }
    if let Some(v) = check_body(req, policy) {
        return v;
    }
    if req.method == Method::Invite {
        match h.accept() {
            Ok(Some(ranges))
                if !ranges
                    .iter()
                    .any(|r| r.covers("application", "sdp") && r.q() > 0.0) =>
            {
                return answer(
                    StatusCode::NOT_ACCEPTABLE,
                    "Accept does not admit application/sdp".to_owned(),
                    Vec::new(),
                );
            }
            Ok(_) => {}
            Err(e) => return reject(e.to_string()),
        }
    }
    Verdict::Accept
}

fn check_body(req: &Request, policy: &UasPolicy) -> Option<Verdict> {
    let reads_body = matches!(
        req.method,
        Method::Invite
            | Method::Ack
            | Method::Bye
            | Method::Cancel
            | Method::Options
            | Method::Info
            | Method::Prack
            | Method::Update
    );
    if req.body.is_empty() || !reads_body {
        return None;
    }
    let h = &req.headers;
    if let Some(d) = h.value(HeaderName::ContentDisposition) {
        let mut s = Scanner::new(d);
        s.skip_ws();
        let optional = s.token("disposition type").is_ok()
            && param::parse_header_params(&mut s).is_ok_and(|p| {
                p.value("handling")
                    .is_some_and(|v| v.eq_ignore_ascii_case("optional"))
            });
        if optional {
            return None;
        }
    }
    let accept_header = || Header::new(HeaderName::Accept, policy.body_types.join(", "));
    if let Some(enc) = h.value(HeaderName::ContentEncoding)
        && !enc.eq_ignore_ascii_case(b"identity")
    {
        return Some(answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Encoding {} not supported",
                String::from_utf8_lossy(enc)
            ),
            vec![Header::new(HeaderName::AcceptEncoding, "identity")],
        ));
    }
    let ct = match h.content_type() {
        Ok(Some(ct)) => ct,
        Ok(None) => return Some(reject("body without Content-Type")),
        Err(e) => return Some(reject(e.to_string())),
    };
    let handled = policy
        .body_types
        .iter()
        .any(|t| t.split_once('/').is_some_and(|(ty, sub)| ct.is(ty, sub)));
    if !handled {
        return Some(answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("body type {}/{} not supported", ct.ty, ct.subtype),
            vec![accept_header()],
        ));
    }
    if ct.is("multipart", "mixed") {
        let Some(boundary) = ct.params.get("boundary").and_then(|p| p.unquoted()) else {
            return Some(reject("multipart body without boundary"));
        };
        let parts = match multipart::split_multipart(&req.body, &boundary) {
            Ok(p) => p,
            Err(e) => return Some(reject(e.to_string())),
        };
        let has_sdp = parts.iter().any(|p| {
            p.headers
                .content_type()
                .is_ok_and(|t| t.is_some_and(|t| t.is("application", "sdp")))
        });
        if !has_sdp {
            return Some(answer(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "multipart/mixed body without an application/sdp part".to_owned(),
                vec![accept_header()],
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, extra: &str, body: &str) -> Vec<u8> {
        format!(
            "{method} sip:u@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:u@example.com>\r\nCall-ID: x\r\n\
             CSeq: 1 {method}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn code(v: &Verdict) -> String {
        v.to_string()
    }

    #[test]
    fn verdicts() {
        assert_eq!(code(&lint(&request("INVITE", "", ""))), "accept");
        assert_eq!(code(&lint(&request("FOO", "", ""))), "answer:501");
        assert_eq!(
            code(&lint(&request("INVITE", "Require: 100rel\r\n", ""))),
            "answer:420"
        );
        let with_100rel = UasPolicy {
            supported: vec!["100rel".into()],
            ..UasPolicy::default()
        };
        assert_eq!(
            code(&lint_with(
                &request("INVITE", "Require: 100rel\r\n", ""),
                &with_100rel
            )),
            "accept"
        );
        assert_eq!(
            code(&lint(&request("CANCEL", "Require: foo\r\n", ""))),
            "accept"
        );
        assert_eq!(
            code(&lint(&request(
                "INVITE",
                "Content-Type: text/plain\r\n",
                "hi"
            ))),
            "answer:415"
        );
        assert_eq!(code(&lint(&request("INVITE", "", "hi"))), "reject");
        assert_eq!(
            code(&lint(&request(
                "INFO",
                "Content-Type: application/dtmf-relay\r\n",
                "Signal=1\r\n"
            ))),
            "accept"
        );
        assert_eq!(
            code(&lint(&request(
                "MESSAGE",
                "Content-Type: text/plain\r\n",
                "hi"
            ))),
            "accept"
        );
        assert_eq!(
            code(&lint(&request(
                "INVITE",
                "Content-Type: text/plain\r\nContent-Disposition: render;handling=optional\r\n",
                "hi"
            ))),
            "accept"
        );
        assert_eq!(
            code(&lint(&request(
                "INVITE",
                "Content-Type: application/sdp\r\nContent-Encoding: gzip\r\n",
                "x"
            ))),
            "answer:415"
        );
        assert_eq!(
            code(&lint(&request("INVITE", "Accept: text/html\r\n", ""))),
            "answer:406"
        );
        assert_eq!(
            code(&lint(&request("INVITE", "Accept:\r\n", ""))),
            "answer:406"
        );
        assert_eq!(
            code(&lint(&request("INVITE", "Accept: application/*\r\n", ""))),
            "accept"
        );
        assert_eq!(
            code(&lint(&request(
                "INVITE",
                "Accept: application/sdp;q=0, text/html\r\n",
                ""
            ))),
            "answer:406"
        );
        assert_eq!(
            code(&lint(&request("OPTIONS", "Accept: text/html\r\n", ""))),
            "accept"
        );
        // An ACK is never answered.
        assert_eq!(
            code(&lint(&request("ACK", "Content-Type: text/plain\r\n", "x"))),
            "drop"
        );
        assert_eq!(
            code(&lint(b"ACK sip:a@b SIP/2.0\r\nVia: x\r\n\r\n")),
            "drop"
        );
        assert_eq!(code(&lint(b"")), "drop");
        assert_eq!(code(&lint(b"garbage")), "reject");
    }

    #[test]
    fn multipart_needs_sdp() {
        let ct = "Content-Type: multipart/mixed;boundary=\"bb\"\r\n";
        let with_sdp = "--bb\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--bb\r\nContent-Type: application/isup\r\n\r\nx\r\n--bb--\r\n";
        assert_eq!(code(&lint(&request("INVITE", ct, with_sdp))), "accept");
        let without = "--bb\r\nContent-Type: text/plain\r\n\r\nhello\r\n--bb--\r\n";
        assert_eq!(code(&lint(&request("INVITE", ct, without))), "answer:415");
        assert_eq!(
            code(&lint(&request("INVITE", ct, "not multipart"))),
            "reject"
        );
        let no_boundary = "Content-Type: multipart/mixed\r\n";
        assert_eq!(
            code(&lint(&request("INVITE", no_boundary, with_sdp))),
            "reject"
        );
    }

    #[test]
    fn answers_carry_their_headers() {
        let bytes = request("OPTIONS", "Require: foo, bar\r\n", "");
        let v = lint(&bytes);
        let Verdict::Answer { headers, .. } = &v else {
            panic!("{v:?}")
        };
        assert_eq!(headers[0].value, "foo, bar");
        let Ok(Message::Request(req)) = parse_datagram(&bytes) else {
            panic!()
        };
        let resp = v.response(&req, "tt").unwrap();
        assert_eq!(resp.status.code(), 420);
        assert_eq!(resp.headers.unsupported().unwrap(), ["foo", "bar"]);
        assert_eq!(resp.headers.to_address().unwrap().tag(), Some("tt"));
        assert_eq!(Verdict::Accept.response(&req, "x"), None);
        assert_eq!(reject("x").status(), Some(StatusCode::BAD_REQUEST));
    }
}
