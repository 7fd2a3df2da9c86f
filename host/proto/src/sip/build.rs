//! Builders for new requests and for responses to received requests.
//!
//! A response is built from its request as RFC 3261 §8.2.6 prescribes: Via (all of
//! them, in order), From, To, Call-ID and CSeq are copied byte for byte, because the
//! client matches the response to its transaction and dialog by comparing them; a
//! 100 also echoes Timestamp (§8.2.6.1). The UAS adds a To tag when the request had
//! none (§8.2.6.2), which [`ResponseBuilder::to_tag`] does without re-encoding the
//! rest of the To value.

use bytes::Bytes;

use super::address::Address;
use super::header::{Header, HeaderName, Headers};
use super::message::{Method, Request, Response, StatusCode, Version};
use super::typed::CSeq;
use super::uri::Uri;
use super::via::Via;

/// Builds a [`Request`]. Headers appear in the order they are added.
#[derive(Debug, Clone)]
#[must_use]
pub struct RequestBuilder {
    req: Request,
}

impl Request {
    /// Starts a request with the given method and Request-URI.
    pub fn builder(method: Method, uri: impl Into<Uri>) -> RequestBuilder {
        RequestBuilder {
            req: Request {
                method,
                uri: uri.into(),
                version: Version::SIP_2_0,
                headers: Headers::new(),
                body: Bytes::new(),
            },
        }
    }
}

impl RequestBuilder {
    /// Appends any header.
    pub fn header(mut self, name: impl Into<HeaderName>, value: impl Into<Bytes>) -> Self {
        self.req.headers.push(Header::new(name, value));
        self
    }

    /// Appends a Via.
    pub fn via(self, via: &Via) -> Self {
        self.header(HeaderName::Via, via.to_string())
    }

    /// Sets From.
    pub fn from_address(self, from: &Address) -> Self {
        self.header(HeaderName::From, from.to_string())
    }

    /// Sets To.
    pub fn to_address(self, to: &Address) -> Self {
        self.header(HeaderName::To, to.to_string())
    }

    /// Sets Call-ID.
    pub fn call_id(self, id: impl Into<String>) -> Self {
        self.header(HeaderName::CallId, id.into())
    }

    /// Sets CSeq with the request's own method, so they cannot disagree.
    pub fn cseq(self, seq: u32) -> Self {
        let c = CSeq {
            seq,
            method: self.req.method.clone(),
        };
        self.header(HeaderName::CSeq, c.to_string())
    }

    /// Sets Max-Forwards.
    pub fn max_forwards(self, hops: u8) -> Self {
        self.header(HeaderName::MaxForwards, hops.to_string())
    }

    /// Appends a Contact.
    pub fn contact(self, contact: &Address) -> Self {
        self.header(HeaderName::Contact, contact.to_string())
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.req.body = body.into();
        self.req
            .headers
            .set(HeaderName::ContentType, content_type.to_owned());
        self
    }

    /// Finishes; Content-Length is set from the body.
    pub fn build(mut self) -> Request {
        let len = self.req.body.len().to_string();
        self.req.headers.set(HeaderName::ContentLength, len);
        self.req
    }
}

/// Builds a [`Response`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ResponseBuilder {
    resp: Response,
    to_tag: Option<String>,
}

impl Response {
    /// Starts a response with no headers and the canonical reason phrase.
    pub fn builder(status: StatusCode) -> ResponseBuilder {
        ResponseBuilder {
            resp: Response {
                version: Version::SIP_2_0,
                status,
                reason: status.canonical_reason().to_owned(),
                headers: Headers::new(),
                body: Bytes::new(),
            },
            to_tag: None,
        }
    }

    /// Starts a response to `req`, copying Via, From, To, Call-ID, CSeq (and
    /// Timestamp for a 100) as RFC 3261 §8.2.6 requires.
    pub fn reply(req: &Request, status: StatusCode) -> ResponseBuilder {
        let mut b = Response::builder(status);
        // A response that can make a dialog carries the request's Record-Route back
        // (RFC 3261 §12.1.1), so that a proxy that asked to stay in the path (Kamailio
        // in front of several nodes) sees the caller's ACK, BYE and re-INVITEs.
        let makes_dialog = req.method == Method::Invite && (101..300).contains(&status.code());
        let copied = |n: &HeaderName| {
            matches!(
                n,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
            ) || (status == StatusCode::TRYING && *n == HeaderName::Timestamp)
                || (makes_dialog && *n == HeaderName::RecordRoute)
        };
        for h in req.headers.iter().filter(|h| copied(&h.name)) {
            b.resp.headers.push(h.clone());
        }
        b
    }

    /// Adds a tag to To unless it already has one; returns whether it added it.
    pub fn set_to_tag(&mut self, tag: &str) -> bool {
        let Some(to) = self.headers.get(HeaderName::To) else {
            return false;
        };
        if Address::parse(&to.value).is_ok_and(|a| a.tag().is_some()) {
            return false;
        }
        // Appending is right for both forms: in `<uri>` form and in bare addr-spec
        // form alike, what follows the URI after ';' is a header parameter.
        let mut v = to.value.to_vec();
        v.extend_from_slice(b";tag=");
        v.extend_from_slice(tag.as_bytes());
        self.headers.set(HeaderName::To, v);
        true
    }
}

impl ResponseBuilder {
    /// Replaces the reason phrase.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.resp.reason = reason.into();
        self
    }

    /// Appends any header.
    pub fn header(mut self, name: impl Into<HeaderName>, value: impl Into<Bytes>) -> Self {
        self.resp.headers.push(Header::new(name, value));
        self
    }

    /// Appends an already built header.
    pub fn push(mut self, header: Header) -> Self {
        self.resp.headers.push(header);
        self
    }

    /// Adds this To tag at build time unless the To already has one.
    pub fn to_tag(mut self, tag: impl Into<String>) -> Self {
        self.to_tag = Some(tag.into());
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.resp.body = body.into();
        self.resp
            .headers
            .set(HeaderName::ContentType, content_type.to_owned());
        self
    }

    /// Finishes; Content-Length is set from the body.
    pub fn build(mut self) -> Response {
        if let Some(tag) = self.to_tag.take() {
            self.resp.set_to_tag(&tag);
        }
        let len = self.resp.body.len().to_string();
        self.resp.headers.set(HeaderName::ContentLength, len);
        self.resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{Host, Message, SipUri, Transport, parse_datagram};

    fn invite() -> Request {
        let mut uri = SipUri::new(Host::Domain("example.com".into()));
        uri.user = Some("bob".into());
        let mut from = Address::new(Uri::parse("sip:alice@example.net").unwrap());
        from.display_name = Some("Alice \"A\"".into());
        from.params.set("tag", Some("f1"));
        Request::builder(Method::Invite, uri)
            .via(&Via::new(
                Transport::Udp,
                Host::Ipv6("2001:db8::1".parse().unwrap()),
                Some(5060),
                "z9hG4bK1",
            ))
            .via(&Via::new(
                Transport::Udp,
                Host::Domain("p.example.org".into()),
                None,
                "z9hG4bK2",
            ))
            .max_forwards(70)
            .from_address(&from)
            .to_address(&Address::new(Uri::parse("sip:bob@example.com").unwrap()))
            .call_id("c1@example.net")
            .cseq(7)
            .header("Timestamp", "54")
            .body("application/sdp", "v=0\r\n")
            .build()
    }

    #[test]
    fn built_request_parses_back() {
        let req = invite();
        let Message::Request(back) = parse_datagram(&req.to_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(back, req);
        assert_eq!(back.headers.cseq().unwrap().method, Method::Invite);
        assert_eq!(
            back.headers.from_address().unwrap().display_name.as_deref(),
            Some("Alice \"A\"")
        );
        assert_eq!(back.headers.vias().unwrap()[0].port, Some(5060));
        assert_eq!(back.headers.content_length(), Ok(Some(5)));
    }

    #[test]
    fn reply_copies_and_tags() {
        let req = invite();
        let resp = Response::reply(&req, StatusCode::OK).to_tag("t9").build();
        let names: Vec<_> = resp.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Via",
                "Via",
                "From",
                "To",
                "Call-ID",
                "CSeq",
                "Content-Length"
            ]
        );
        assert_eq!(resp.headers.to_address().unwrap().tag(), Some("t9"));
        assert_eq!(resp.headers.from_address().unwrap().tag(), Some("f1"));
        assert_eq!(resp.reason, "OK");
        // An existing tag is kept.
        let mut again = resp.clone();
        assert!(!again.set_to_tag("other"));
        assert_eq!(again.headers.to_address().unwrap().tag(), Some("t9"));
        // 100 Trying echoes Timestamp and gets no tag unless asked.
        let trying = Response::reply(&req, StatusCode::TRYING).build();
        assert!(trying.headers.contains(HeaderName::Timestamp));
        assert_eq!(trying.headers.to_address().unwrap().tag(), None);
        let Message::Response(back) = parse_datagram(&resp.to_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(back, resp);
    }

    #[test]
    fn dialog_making_responses_carry_the_record_route_back_in_order() {
        let mut req = invite();
        req.headers.push(Header::new(
            HeaderName::RecordRoute,
            "<sip:lb.example.com;lr>",
        ));
        req.headers.push(Header::new(
            HeaderName::RecordRoute,
            "<sip:edge.example.com;lr>, <sip:core.example.com;lr>",
        ));
        let routes = |r: &Response| -> Vec<String> {
            r.headers
                .iter()
                .filter(|h| h.name == HeaderName::RecordRoute)
                .map(|h| String::from_utf8_lossy(&h.value).into_owned())
                .collect()
        };
        for status in [StatusCode::RINGING, StatusCode::OK] {
            let resp = Response::reply(&req, status).to_tag("t1").build();
            assert_eq!(
                routes(&resp),
                [
                    "<sip:lb.example.com;lr>",
                    "<sip:edge.example.com;lr>, <sip:core.example.com;lr>"
                ],
                "{status:?}"
            );
        }
        // 100 Trying makes no dialog, nor does a failure, nor an answer to OPTIONS.
        assert!(routes(&Response::reply(&req, StatusCode::TRYING).build()).is_empty());
        assert!(routes(&Response::reply(&req, StatusCode::SERVICE_UNAVAILABLE).build()).is_empty());
        req.method = Method::Options;
        assert!(routes(&Response::reply(&req, StatusCode::OK).build()).is_empty());
    }

    #[test]
    fn tag_on_bare_addr_spec_to() {
        let mut r = Response::builder(StatusCode::OK)
            .header("t", "sip:a@b;user=phone")
            .build();
        assert!(r.set_to_tag("x"));
        let to = r.headers.to_address().unwrap();
        assert_eq!(to.tag(), Some("x"));
        assert_eq!(to.params.value("user"), Some("phone"));
    }
}
