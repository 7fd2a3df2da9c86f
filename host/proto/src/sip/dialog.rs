//! Dialogs (RFC 3261 §12): the peer-to-peer relationship an INVITE and its 2xx
//! establish, and what every later request of the call is built from.
//!
//! # Why the gateway needs this state
//!
//! Once a call is up, the gateway sends BYE, re-INVITE, INFO, REFER or NOTIFY and
//! receives the same from the PBX. Those requests are not addressed like the
//! INVITE was: they go to the peer's Contact (the *remote target*), through the
//! proxies that asked to stay in the path with Record-Route (the *route set*),
//! carry both tags so each side can find its call, and number themselves with
//! CSeq so a stale request is recognised. Getting any of that wrong means a BYE
//! that never reaches the PBX and a caller left in a dead call, so it lives here
//! once, computed from the messages, rather than in the call logic.
//!
//! A [`Dialog`] is plain data with no timers; the TU keeps it (for example in a
//! [`DialogSet`]) next to the [`Endpoint`](super::Endpoint) that runs the
//! transactions. The flow for an incoming call:
//!
//! ```
//! use voxgate_proto::sip::{
//!     Dialog, DialogSet, Message, Method, Response, StatusCode, Transport, parse_datagram,
//! };
//!
//! let invite = match parse_datagram(
//!     b"INVITE sip:support@gw.example.com SIP/2.0\r\n\
//!       Via: SIP/2.0/UDP pbx.example.com;branch=z9hG4bK1\r\n\
//!       Record-Route: <sip:proxy.example.com;lr>\r\n\
//!       From: <sip:+4930123@pbx.example.com>;tag=pbx1\r\n\
//!       To: <sip:support@gw.example.com>\r\n\
//!       Call-ID: c1\r\nCSeq: 10 INVITE\r\nMax-Forwards: 70\r\n\
//!       Contact: <sip:+4930123@192.0.2.10:5060>\r\nContent-Length: 0\r\n\r\n",
//! )? {
//!     Message::Request(r) => r,
//!     Message::Response(_) => unreachable!(),
//! };
//! let ok = Response::reply(&invite, StatusCode::OK)
//!     .to_tag("gw1")
//!     .header("Contact", "<sip:gw@198.51.100.1:5060>")
//!     .build();
//! let mut dialogs = DialogSet::new();
//! let id = dialogs.insert(Dialog::new_uas(&invite, &ok, &Transport::Udp)?);
//! // Later the caller is done: hang up.
//! let bye = dialogs.get_mut(&id).map(|d| d.request(Method::Bye));
//! let bye = bye.expect("dialog exists");
//! assert_eq!(bye.uri.to_string(), "sip:+4930123@192.0.2.10:5060");
//! assert_eq!(bye.headers.value("Route").map(|v| &v[..]), Some(&b"<sip:proxy.example.com;lr>"[..]));
//! assert_eq!(bye.headers.cseq()?.to_string(), "1 BYE");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::collections::hash_map;
use std::fmt;

use super::address::{Address, ContactList};
use super::build::RequestBuilder;
use super::error::ParseError;
use super::header::{HeaderName, Headers};
use super::message::{Method, Request, Response, StatusCode};
use super::param::Params;
use super::uri::Uri;
use super::via::Transport;

/// Identifies a dialog: Call-ID and the two tags, seen from this side
/// (RFC 3261 §12). An RFC 2543 peer may send no tag; its tag is then empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag: the To tag of requests we receive, the From tag of those we send.
    pub local_tag: String,
    /// The peer's tag (empty if it sent none).
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog an incoming request belongs to: local tag from To, remote tag
    /// from From. `None` if the request has no To tag (it is not in a dialog) or
    /// lacks the headers.
    pub fn of_incoming(req: &Request) -> Option<DialogId> {
        DialogId::from_headers(&req.headers, true)
    }

    /// The dialog a response we send as UAS creates: local tag from To, remote
    /// tag from From. `None` without a To tag.
    pub fn of_uas_response(resp: &Response) -> Option<DialogId> {
        DialogId::from_headers(&resp.headers, true)
    }

    /// The dialog a response we receive as UAC creates: local tag from From,
    /// remote tag from To. `None` without a From tag.
    pub fn of_uac_response(resp: &Response) -> Option<DialogId> {
        DialogId::from_headers(&resp.headers, false)
    }

    /// Call-ID plus tags; our tag is in To when `local_in_to` (UAS side), else in From.
    /// `None` without our tag.
    fn from_headers(headers: &Headers, local_in_to: bool) -> Option<DialogId> {
        let (local, remote) = if local_in_to {
            (headers.to_address().ok()?, headers.from_address().ok())
        } else {
            (headers.from_address().ok()?, headers.to_address().ok())
        };
        Some(DialogId {
            call_id: headers.call_id().ok()?.to_owned(),
            local_tag: local.tag()?.to_owned(),
            remote_tag: tag_or_empty(remote.as_ref()),
        })
    }
}

impl fmt::Display for DialogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};local={};remote={}",
            self.call_id, self.local_tag, self.remote_tag
        )
    }
}

fn tag_or_empty(a: Option<&Address>) -> String {
    a.and_then(Address::tag).unwrap_or_default().to_owned()
}

/// Early (created by a 1xx with a To tag) or confirmed (by a 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// Why a dialog could not be created or a request was refused by it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is missing or malformed.
    #[error(transparent)]
    Header(#[from] ParseError),
    /// The response carries no To tag (UAS) or the request no From tag (UAC).
    #[error("the dialog-creating message has no tag")]
    MissingTag,
    /// Only 101–299 responses create dialogs.
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(StatusCode),
    /// The request's CSeq is not above the last one received (RFC 3261 §12.2.2).
    #[error("CSeq {got} is not above the last remote CSeq {last}")]
    OutOfOrder {
        /// The request's CSeq number.
        got: u32,
        /// The highest CSeq number received so far.
        last: u32,
    },
    /// The request belongs to no known dialog (or not to this one).
    #[error("request does not belong to the dialog")]
    NoDialog,
}

impl DialogError {
    /// The status to answer a refused request with: 500 for an out-of-order
    /// CSeq (RFC 3261 §12.2.2), 481 for an unknown dialog (§12.2.2), 400 for a
    /// malformed request.
    pub fn status(&self) -> StatusCode {
        match self {
            DialogError::OutOfOrder { .. } => StatusCode::SERVER_INTERNAL_ERROR,
            DialogError::NoDialog => StatusCode::CALL_DOES_NOT_EXIST,
            DialogError::Header(_) | DialogError::MissingTag => StatusCode::BAD_REQUEST,
            DialogError::NotDialogCreating(_) => StatusCode::SERVER_INTERNAL_ERROR,
        }
    }
}

/// The state of one dialog (RFC 3261 §12.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    local_seq: Option<u32>,
    remote_seq: Option<u32>,
    local_uri: Address,
    remote_uri: Address,
    remote_target: Uri,
    local_contact: Option<Address>,
    route_set: Vec<Uri>,
    secure: bool,
}

fn without_params(a: Address) -> Address {
    Address {
        params: Params::new(),
        ..a
    }
}

fn first_contact(contacts: Result<ContactList, ParseError>) -> Option<Address> {
    match contacts {
        Ok(ContactList::Addresses(list)) => list.into_iter().next(),
        _ => None,
    }
}

impl Dialog {
    /// The dialog a UAS creates by sending `response` (101–299 with a To tag) to
    /// `invite` (RFC 3261 §12.1.1). `transport` is the one the INVITE arrived on:
    /// the dialog is secure if that is TLS (or WSS) and the Request-URI is SIPS.
    ///
    /// The remote target is the INVITE's Contact; an INVITE without one (which
    /// RFC 3261 forbids, but old PBXs send) falls back to its From URI. The route
    /// set is the INVITE's Record-Route in order.
    pub fn new_uas(
        invite: &Request,
        response: &Response,
        transport: &Transport,
    ) -> Result<Dialog, DialogError> {
        let status = response.status;
        if status == StatusCode::TRYING || status.code() >= 300 {
            return Err(DialogError::NotDialogCreating(status));
        }
        let h = &invite.headers;
        let to = response.headers.to_address()?;
        let local_tag = to.tag().ok_or(DialogError::MissingTag)?.to_owned();
        let from = h.from_address()?;
        let id = DialogId {
            call_id: h.call_id()?.to_owned(),
            local_tag,
            remote_tag: tag_or_empty(Some(&from)),
        };
        let remote_target = first_contact(h.contacts()).map_or(from.uri.clone(), |c| c.uri);
        let route_set = h.record_routes()?.into_iter().map(|a| a.uri).collect();
        let sips = matches!(&invite.uri, Uri::Sip(u) if u.secure);
        Ok(Dialog {
            id,
            state: if status.is_success() {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: None,
            remote_seq: Some(h.cseq()?.seq),
            local_uri: without_params(to),
            remote_uri: without_params(from),
            remote_target,
            local_contact: first_contact(response.headers.contacts()),
            route_set,
            secure: sips && matches!(transport, Transport::Tls | Transport::Wss),
        })
    }

    /// The dialog a UAC creates on receiving `response` (101–299) to the INVITE
    /// it sent (RFC 3261 §12.1.2): route set is the response's Record-Route in
    /// reverse order, remote target its Contact.
    pub fn new_uac(invite: &Request, response: &Response) -> Result<Dialog, DialogError> {
        let status = response.status;
        if status == StatusCode::TRYING || status.code() >= 300 {
            return Err(DialogError::NotDialogCreating(status));
        }
        let h = &invite.headers;
        let from = h.from_address()?;
        let to = response.headers.to_address()?;
        let id = DialogId {
            call_id: h.call_id()?.to_owned(),
            local_tag: from.tag().ok_or(DialogError::MissingTag)?.to_owned(),
            remote_tag: tag_or_empty(Some(&to)),
        };
        let remote_target =
            first_contact(response.headers.contacts()).map_or(to.uri.clone(), |c| c.uri);
        let mut route_set: Vec<Uri> = response
            .headers
            .record_routes()?
            .into_iter()
            .map(|a| a.uri)
            .collect();
        route_set.reverse();
        Ok(Dialog {
            id,
            state: if status.is_success() {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: Some(h.cseq()?.seq),
            remote_seq: None,
            local_uri: without_params(from),
            remote_uri: without_params(to),
            remote_target,
            local_contact: first_contact(h.contacts()),
            route_set,
            secure: matches!(&invite.uri, Uri::Sip(u) if u.secure),
        })
    }

    /// The dialog id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Marks an early dialog confirmed (its 2xx was sent or received).
    pub fn confirm(&mut self) {
        self.state = DialogState::Confirmed;
    }

    /// The CSeq number of the last request we sent in the dialog, if any.
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The highest CSeq number received from the peer.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Where in-dialog requests go (the peer's Contact).
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// Replaces the remote target (a 2xx to our re-INVITE carried a new Contact).
    pub fn set_remote_target(&mut self, target: Uri) {
        self.remote_target = target;
    }

    /// The proxies in-dialog requests traverse, first hop first.
    pub fn route_set(&self) -> &[Uri] {
        &self.route_set
    }

    /// Whether the dialog must use SIPS/TLS end to end.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Our address of record (From of our requests, without tag).
    pub fn local_uri(&self) -> &Address {
        &self.local_uri
    }

    /// The peer's address of record (To of our requests, without tag).
    pub fn remote_uri(&self) -> &Address {
        &self.remote_uri
    }

    /// The Contact we advertise in target-refresh requests, if known.
    pub fn local_contact(&self) -> Option<&Address> {
        self.local_contact.as_ref()
    }

    /// Sets the Contact we advertise (taken from our 2xx by [`Dialog::new_uas`]).
    pub fn set_local_contact(&mut self, contact: Address) {
        self.local_contact = Some(contact);
    }

    /// Whether `req` belongs to this dialog: same Call-ID, its To tag is our tag
    /// and its From tag the peer's.
    pub fn matches(&self, req: &Request) -> bool {
        DialogId::of_incoming(req).is_some_and(|id| id == self.id)
    }

    /// Applies an incoming in-dialog request to the dialog state (RFC 3261
    /// §12.2.2). A CSeq not above the last received one is refused with
    /// [`DialogError::OutOfOrder`] (answer it with [`DialogError::status`], 500);
    /// ACK and CANCEL carry their INVITE's number and are exempt. A target refresh
    /// request (INVITE, UPDATE, SUBSCRIBE, NOTIFY) with a Contact replaces the
    /// remote target.
    pub fn receive_request(&mut self, req: &Request) -> Result<(), DialogError> {
        if !self.matches(req) {
            return Err(DialogError::NoDialog);
        }
        if matches!(req.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        let seq = req.headers.cseq()?.seq;
        if let Some(last) = self.remote_seq
            && seq <= last
        {
            return Err(DialogError::OutOfOrder { got: seq, last });
        }
        self.remote_seq = Some(seq);
        let refresh = matches!(
            req.method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Notify
        );
        if refresh && let Some(c) = first_contact(req.headers.contacts()) {
            self.remote_target = c.uri;
        }
        Ok(())
    }

    /// Builds an in-dialog request (RFC 3261 §12.2.1.1), ready for headers and a
    /// body: Request-URI and Route from the remote target and route set (loose
    /// or strict routing), From/To with the dialog's tags, Call-ID, the next local
    /// CSeq (an ACK reuses the current one, that of the INVITE it acknowledges),
    /// Max-Forwards 70, and our Contact for target-refresh methods (INVITE,
    /// UPDATE, SUBSCRIBE, NOTIFY, REFER). The endpoint adds the Via.
    pub fn request_builder(&mut self, method: Method) -> RequestBuilder {
        let seq = match (&method, self.local_seq) {
            (Method::Ack, Some(s)) => s,
            (_, Some(s)) => s.saturating_add(1),
            (_, None) => 1,
        };
        self.local_seq = Some(seq);
        let (uri, routes) = self.target_and_routes();
        let contact = matches!(
            method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
        );
        let mut b = Request::builder(method, uri);
        for r in routes {
            b = b.header(HeaderName::Route, format!("<{r}>"));
        }
        let mut from = self.local_uri.clone();
        from.params.set("tag", Some(self.id.local_tag.as_str()));
        let mut to = self.remote_uri.clone();
        if !self.id.remote_tag.is_empty() {
            to.params.set("tag", Some(self.id.remote_tag.as_str()));
        }
        b = b
            .max_forwards(70)
            .from_address(&from)
            .to_address(&to)
            .call_id(self.id.call_id.clone())
            .cseq(seq);
        if contact && let Some(c) = &self.local_contact {
            b = b.contact(c);
        }
        b
    }

    /// [`Dialog::request_builder`] without additions.
    pub fn request(&mut self, method: Method) -> Request {
        self.request_builder(method).build()
    }

    /// Request-URI and Route list (RFC 3261 §12.2.1.1): loose routing if the
    /// route set is empty or its first entry has `lr`; strict routing otherwise,
    /// where the first route becomes the Request-URI and the remote target the
    /// last Route.
    fn target_and_routes(&self) -> (Uri, Vec<Uri>) {
        let strict = match self.route_set.first() {
            Some(Uri::Sip(first)) => !first.params.contains("lr"),
            _ => false,
        };
        if !strict {
            return (self.remote_target.clone(), self.route_set.clone());
        }
        let mut routes: Vec<Uri> = self.route_set.iter().skip(1).cloned().collect();
        routes.push(self.remote_target.clone());
        let uri = match self.route_set.first() {
            Some(Uri::Sip(first)) => {
                let mut u = first.clone();
                u.params.remove("method");
                u.headers.clear();
                Uri::Sip(u)
            }
            _ => self.remote_target.clone(),
        };
        (uri, routes)
    }
}

/// The dialogs of a UA, keyed by [`DialogId`].
#[derive(Debug, Clone, Default)]
pub struct DialogSet {
    dialogs: HashMap<DialogId, Dialog>,
}

impl DialogSet {
    /// No dialogs.
    pub fn new() -> Self {
        DialogSet::default()
    }

    /// Adds a dialog (replacing one with the same id) and returns its id.
    pub fn insert(&mut self, dialog: Dialog) -> DialogId {
        let id = dialog.id.clone();
        self.dialogs.insert(id.clone(), dialog);
        id
    }

    /// The dialog with this id.
    pub fn get(&self, id: &DialogId) -> Option<&Dialog> {
        self.dialogs.get(id)
    }

    /// The dialog with this id, for updating or building requests.
    pub fn get_mut(&mut self, id: &DialogId) -> Option<&mut Dialog> {
        self.dialogs.get_mut(id)
    }

    /// Removes a dialog (after BYE).
    pub fn remove(&mut self, id: &DialogId) -> Option<Dialog> {
        self.dialogs.remove(id)
    }

    /// The dialog an incoming request belongs to.
    pub fn find_mut(&mut self, req: &Request) -> Option<&mut Dialog> {
        self.dialogs.get_mut(&DialogId::of_incoming(req)?)
    }

    /// Finds the dialog of an incoming in-dialog request and applies it
    /// ([`Dialog::receive_request`]). Errors say how to answer: 481 for no
    /// dialog, 500 for an out-of-order CSeq.
    pub fn receive_request(&mut self, req: &Request) -> Result<&mut Dialog, DialogError> {
        let d = self.find_mut(req).ok_or(DialogError::NoDialog)?;
        d.receive_request(req)?;
        Ok(d)
    }

    /// Number of dialogs.
    pub fn len(&self) -> usize {
        self.dialogs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.dialogs.is_empty()
    }

    /// All dialogs, in no particular order.
    pub fn iter(&self) -> hash_map::Values<'_, DialogId, Dialog> {
        self.dialogs.values()
    }
}

#[cfg(test)]
mod tests;
