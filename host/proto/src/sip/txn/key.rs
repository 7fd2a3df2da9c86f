//! Transaction matching keys (RFC 3261 §17.1.3, §17.2.3).
//!
//! A response belongs to the client transaction whose branch is in its top Via
//! and whose method is in its CSeq: the method is needed because a CANCEL reuses
//! its INVITE's branch but is a transaction of its own.
//!
//! A request belongs to a server transaction by the same branch, the sent-by of
//! the top Via (two clients may pick the same branch) and the method, where an ACK
//! counts as an INVITE (the ACK to a non-2xx response is part of the INVITE
//! transaction). Requests whose branch lacks the `z9hG4bK` magic cookie come from
//! RFC 2543 implementations, whose branches are not unique; for them the key is
//! the Request-URI, From tag, Call-ID, CSeq number and method and the whole top
//! Via, and the To tag is compared separately by the endpoint (for an ACK it is
//! the tag of the response the transaction sent, which the key cannot know).

use crate::sip::{Headers, Host, Method, Request, Response};

/// Identifies a server transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    /// RFC 3261: branch with magic cookie, sent-by, method.
    Rfc3261 {
        branch: String,
        host: String,
        port: Option<u16>,
        method: Method,
    },
    /// RFC 2543 fallback.
    Rfc2543 {
        uri: String,
        call_id: String,
        from_tag: Option<String>,
        cseq: u32,
        method: Method,
        via: String,
    },
}

impl ServerKey {
    /// The key of the transaction `req` belongs to: ACK maps to INVITE, every
    /// other method (CANCEL included) to itself. `None` if the request lacks the
    /// headers matching needs (top Via; for RFC 2543 also Call-ID and CSeq).
    pub(crate) fn of(req: &Request) -> Option<ServerKey> {
        let method = match req.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        ServerKey::with_method(req, method)
    }

    /// The key of the INVITE transaction a CANCEL refers to (RFC 3261 §9.2).
    pub(crate) fn cancelled_invite(cancel: &Request) -> Option<ServerKey> {
        ServerKey::with_method(cancel, Method::Invite)
    }

    fn with_method(req: &Request, method: Method) -> Option<ServerKey> {
        let via = req.headers.top_via().ok()?;
        if via.has_rfc3261_branch() {
            let branch = via.branch()?.to_owned();
            let host = match &via.host {
                Host::Domain(d) => d.to_ascii_lowercase(),
                ip => ip.to_string(),
            };
            return Some(ServerKey::Rfc3261 {
                branch,
                host,
                port: via.port,
                method,
            });
        }
        let cseq = req.headers.cseq().ok()?;
        Some(ServerKey::Rfc2543 {
            uri: req.uri.to_string(),
            call_id: req.headers.call_id().ok()?.to_owned(),
            from_tag: from_tag(&req.headers),
            cseq: cseq.seq,
            method,
            via: via.to_string(),
        })
    }

    /// Whether this transaction is matched the RFC 2543 way, so the endpoint must
    /// also compare To tags.
    pub(crate) fn is_rfc2543(&self) -> bool {
        matches!(self, ServerKey::Rfc2543 { .. })
    }
}

/// Identifies a client transaction: the branch we put in the top Via and the
/// method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    pub(crate) branch: String,
    pub(crate) method: Method,
}

impl ClientKey {
    /// The key of a request we send (its method; the caller ensures a branch).
    pub(crate) fn of_request(req: &Request) -> Option<ClientKey> {
        let via = req.headers.top_via().ok()?;
        Some(ClientKey {
            branch: via.branch()?.to_owned(),
            method: req.method.clone(),
        })
    }

    /// The key a response matches: top Via branch and CSeq method.
    pub(crate) fn of_response(resp: &Response) -> Option<ClientKey> {
        let via = resp.headers.top_via().ok()?;
        Some(ClientKey {
            branch: via.branch()?.to_owned(),
            method: resp.headers.cseq().ok()?.method,
        })
    }
}

/// The From tag of a message, if any.
pub(crate) fn from_tag(headers: &Headers) -> Option<String> {
    headers
        .from_address()
        .ok()
        .and_then(|a| a.tag().map(str::to_owned))
}

/// The To tag of a message, if any.
pub(crate) fn to_tag(headers: &Headers) -> Option<String> {
    headers
        .to_address()
        .ok()
        .and_then(|a| a.tag().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::txn::test_support::{request, response};

    #[test]
    fn ack_and_retransmission_share_the_invite_key_cancel_does_not() {
        let invite = request("INVITE", "z9hG4bKabc");
        let ack = request("ACK", "z9hG4bKabc");
        let cancel = request("CANCEL", "z9hG4bKabc");
        let k = ServerKey::of(&invite).unwrap();
        assert_eq!(ServerKey::of(&invite.clone()), Some(k.clone()));
        assert_eq!(ServerKey::of(&ack), Some(k.clone()));
        assert_ne!(ServerKey::of(&cancel), Some(k.clone()));
        assert_eq!(ServerKey::cancelled_invite(&cancel), Some(k.clone()));
        assert!(!k.is_rfc2543());
        // Another sent-by with the same branch is another transaction.
        let mut other = invite.clone();
        other.headers.set(
            "Via",
            "SIP/2.0/UDP other.example.com:5060;branch=z9hG4bKabc",
        );
        assert_ne!(ServerKey::of(&other), Some(k.clone()));
        // Host case does not matter, the port does.
        other
            .headers
            .set("Via", "SIP/2.0/UDP PBX.Example.COM:5060;branch=z9hG4bKabc");
        assert_eq!(ServerKey::of(&other), Some(k.clone()));
        other
            .headers
            .set("Via", "SIP/2.0/UDP pbx.example.com;branch=z9hG4bKabc");
        assert_ne!(ServerKey::of(&other), Some(k));
    }

    #[test]
    fn rfc2543_fallback_without_magic_cookie() {
        let invite = request("INVITE", "old1");
        let k = ServerKey::of(&invite).unwrap();
        assert!(k.is_rfc2543());
        assert_eq!(ServerKey::of(&request("ACK", "old1")), Some(k.clone()));
        assert_eq!(
            ServerKey::cancelled_invite(&request("CANCEL", "old1")),
            Some(k.clone())
        );
        let mut next = invite.clone();
        next.headers.set("CSeq", "2 INVITE");
        assert_ne!(ServerKey::of(&next), Some(k));
        let mut no_via = invite;
        no_via.headers.remove("Via");
        assert_eq!(ServerKey::of(&no_via), None);
    }

    #[test]
    fn client_keys() {
        let invite = request("INVITE", "z9hG4bKc1");
        let k = ClientKey::of_request(&invite).unwrap();
        assert_eq!(ClientKey::of_response(&response(&invite, 180)), Some(k));
        let cancel = request("CANCEL", "z9hG4bKc1");
        assert_ne!(
            ClientKey::of_response(&response(&cancel, 200)),
            ClientKey::of_request(&invite)
        );
        assert_eq!(
            to_tag(&response(&invite, 486).headers).as_deref(),
            Some("tt")
        );
        assert_eq!(from_tag(&invite.headers).as_deref(), Some("from1"));
    }
}
