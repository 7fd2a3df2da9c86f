//! One call as the SIP core sees it: its INVITE, dialog, media and what is pending.

use std::net::SocketAddr;
use std::time::Instant;

use voxgate_proto::sdp::Negotiator;
use voxgate_proto::sip::{ClientTxnId, Dialog, Peer, Request, ServerTxnId};

use super::config::Route;
use crate::media::call::MediaHandle;

/// Calls are keyed by Call-ID and the caller's From tag: unique per dialog on our side
/// and known from the first INVITE, before we add our tag.
pub type CallKey = (String, String);

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// 180 sent; answering after the route's ring time.
    Ringing,
    /// 200 sent, waiting for the ACK.
    Answered,
    /// ACK received: media flows.
    Confirmed,
    /// We sent BYE (or the call failed) and wait for the end.
    Ending,
}

/// A transfer in progress.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub target: String,
    pub refer: ClientTxnId,
}

#[derive(Debug)]
pub struct Call {
    pub key: CallKey,
    pub invite: Request,
    pub invite_txn: ServerTxnId,
    pub peer: Peer,
    pub local: SocketAddr,
    pub route: Route,
    pub state: CallState,
    pub dialog: Option<Dialog>,
    pub negotiator: Negotiator,
    pub media: Option<MediaHandle>,
    pub on_hold: bool,
    pub transfer: Option<Transfer>,
    pub bye: Option<ClientTxnId>,
    pub end_reason: Option<String>,
    pub started: Instant,
    /// When the INVITE reached the core, for the INVITE → 200 latency.
    pub received_at: Instant,
    pub from: String,
    pub to: String,
    pub codec: String,
    /// The call's events, tagged with its tenant.
    pub events: crate::sip::events::EventSink,
}
