//! A call being set up: the first INVITE (routing, limits, offer/answer, media), the
//! answer and its ACK, and re-INVITEs that change the session.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use voxgate_proto::codec::Codec;
use voxgate_proto::sdp::{MediaCapabilities, Negotiator, SdpError, SessionDescription};
use voxgate_proto::sip::{Dialog, Peer, Request, Response, ServerTxnId, StatusCode, Transport};

use super::{
    ALLOW, Core, CoreCommand, call_key, caller_number, dialled_number, file_safe, sanitize, status,
};
use crate::conversation::Conversation;
use crate::dialog::engine::AgentConversation;
use crate::media::call::{MediaCommand, MediaParams, RecordTarget, spawn_media};
use crate::sip::call::{Call, CallKey, CallState};
use crate::sip::config::Route;
use crate::sip::events::CallEvent;
use crate::sip::script::RouteScript;

impl Core {
    pub(super) fn new_call(&mut self, now: Instant, txn: ServerTxnId, from: Peer, invite: Request) {
        let _ = now;
        let Some(key) = call_key(&invite) else {
            self.reply(txn, &invite, StatusCode::BAD_REQUEST, &[]);
            return;
        };
        if self.calls.contains_key(&key) {
            // A second INVITE for the same dialog-forming request: merged (RFC 3261 §8.2.2.2).
            self.reply(txn, &invite, status(482), &[]);
            return;
        }
        if self.calls.len() >= self.config.max_calls {
            self.reply_busy(txn, &invite);
            return;
        }
        if self.draining.load(std::sync::atomic::Ordering::Relaxed) {
            // Draining for a shutdown: a proxy in front retries elsewhere at once.
            self.reply(
                txn,
                &invite,
                StatusCode::SERVICE_UNAVAILABLE,
                &[
                    ("Retry-After", "30".into()),
                    ("Warning", "399 voxgate \"shutting down\"".into()),
                ],
            );
            return;
        }
        let dialled = dialled_number(&invite);
        // A route in the SIP config wins over a tenant's number.
        let (route, agent) = match self.config.route(&dialled) {
            Some(r) => (r.clone(), None),
            None => match self.tenants.current().by_number(&dialled) {
                Some(t) => (Route::for_number(&dialled), Some(t.clone())),
                None => {
                    self.reply(txn, &invite, StatusCode::NOT_FOUND, &[]);
                    return;
                }
            },
        };
        if invite.body.is_empty() {
            // Offerless INVITEs (offer in the 200, answer in the ACK) are not served yet.
            self.reply(
                txn,
                &invite,
                status(488),
                &[(
                    "Warning",
                    "399 voxgate \"an SDP offer is required in the INVITE\"".into(),
                )],
            );
            return;
        }
        let offer = match SessionDescription::parse(&invite.body) {
            Ok(o) => o,
            Err(e) => {
                self.reply(
                    txn,
                    &invite,
                    StatusCode::BAD_REQUEST,
                    &[(
                        "Warning",
                        format!("399 voxgate \"bad SDP: {}\"", sanitize(&e.to_string())),
                    )],
                );
                return;
            }
        };
        // Port binding is a syscall, not a wait: fine on this task.
        let Some((rtp, rtcp)) = self.ports.bind_pair_now() else {
            self.reply_busy(txn, &invite);
            return;
        };
        let rtp_port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        self.session_ids += 1;
        let mut caps = MediaCapabilities::new(self.public_ip, rtp_port, self.session_ids);
        // The media path (prompts, recording, in-band DTMF) runs at 8 kHz, so wideband
        // G.722 is not offered until it runs at 16 kHz.
        caps.codecs = vec![Codec::Pcmu, Codec::Pcma];
        let mut negotiator = Negotiator::new(caps);
        let negotiated = match negotiator.answer(&offer) {
            Ok(n) => n,
            Err(SdpError::NoCommonCodec) => {
                self.reply(txn, &invite, status(488), &[]);
                return;
            }
            Err(e) => {
                self.reply(
                    txn,
                    &invite,
                    status(488),
                    &[(
                        "Warning",
                        format!("399 voxgate \"{}\"", sanitize(&e.to_string())),
                    )],
                );
                return;
            }
        };
        let local = self
            .transports
            .local_addr(from.transport.clone())
            .unwrap_or_else(|| SocketAddr::new(self.public_ip, 5060));
        let codec = format!("{:?}", negotiated.codec);
        let events = match &agent {
            Some(t) => self.events.for_tenant(&t.config.id),
            None => self.events.clone(),
        };
        // A tenant that records gets its calls encrypted with its key, in its folder;
        // otherwise the SIP config's plain recordings, if any.
        let record = match agent.as_ref().and_then(|t| t.recording.clone()) {
            Some(policy) => Some(RecordTarget::Encrypted {
                path: policy.dir.join(format!("{}.vxrec", file_safe(&key.0))),
                key: policy.key,
                aad: format!("{}/{}", policy.tenant, key.0),
            }),
            None => self
                .config
                .record_dir
                .as_ref()
                .map(|d| RecordTarget::Wav(d.join(format!("{}.wav", file_safe(&key.0))))),
        };
        let conversation: Box<dyn Conversation> = match agent {
            Some(t) => Box::new(AgentConversation::new(
                t,
                &key.0,
                &caller_number(&invite),
                &dialled,
                jiff::Timestamp::now(),
            )),
            None => Box::new(RouteScript::new(
                route.clone(),
                self.prompts.get(&route.number).cloned(),
            )),
        };
        let media = spawn_media(
            MediaParams {
                key: key.clone(),
                rtp,
                rtcp,
                negotiated,
                record,
                rtp_timeout: self.config.rtp_timeout(),
                speech: self.speech.clone(),
                events: events.clone(),
                core: self.commands.clone(),
            },
            conversation,
        );
        let from_uri = invite
            .headers
            .from_address()
            .map(|a| a.uri.to_string())
            .unwrap_or_default();
        let ring = Duration::from_millis(route.ring_ms);
        let call = Call {
            key: key.clone(),
            invite: invite.clone(),
            invite_txn: txn,
            peer: from,
            local,
            route,
            state: CallState::Ringing,
            dialog: None,
            negotiator,
            media: Some(media),
            on_hold: false,
            transfer: None,
            bye: None,
            end_reason: None,
            started: Instant::now(),
            received_at: self.received_at,
            from: from_uri,
            to: dialled,
            codec,
            events,
        };
        self.calls.insert(key.clone(), call);
        self.by_invite.insert(txn, key.clone());
        if ring.is_zero() {
            self.answer(&key);
        } else {
            self.reply(txn, &invite, StatusCode::RINGING, &[]);
            let commands = self.commands.clone();
            tokio::spawn(async move {
                tokio::time::sleep(ring).await;
                let _ = commands.send(CoreCommand::Answer(key)).await;
            });
        }
    }

    pub(super) fn contact(&self, call: &Call) -> String {
        let transport = match call.peer.transport {
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
            _ => "",
        };
        let host = match self.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        format!("<sip:voxgate@{host}:{}{transport}>", call.local.port())
    }

    pub(super) fn answer(&mut self, key: &CallKey) {
        let Some(call) = self.calls.get(key) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let Some(sdp) = call.negotiator.current().map(|n| n.answer().to_string()) else {
            return;
        };
        let response = Response::reply(&call.invite, StatusCode::OK)
            .header("Contact", self.contact(call))
            .header("Allow", ALLOW)
            .header("Supported", "replaces")
            .body("application/sdp", Bytes::from(sdp))
            .build();
        let txn = call.invite_txn;
        let transport = call.peer.transport.clone();
        let invite = call.invite.clone();
        if call.route.ring_ms == 0 {
            self.answering.push(call.received_at);
        }
        if let Err(e) = self.endpoint.respond(Instant::now(), txn, response) {
            tracing::debug!("cannot answer call {}: {e}", key.0);
            self.finish(key, "answer-failed");
            return;
        }
        // The endpoint tagged the 200; the dialog is built from what was sent.
        let Some(tag) = self.endpoint.local_tag(txn).map(str::to_string) else {
            self.finish(key, "answer-failed");
            return;
        };
        let sent = Response::reply(&invite, StatusCode::OK)
            .to_tag(tag)
            .header(
                "Contact",
                self.calls
                    .get(key)
                    .map(|c| self.contact(c))
                    .unwrap_or_default(),
            )
            .build();
        match Dialog::new_uas(&invite, &sent, &transport) {
            Ok(dialog) => {
                self.by_dialog.insert(dialog.id().clone(), key.clone());
                if let Some(call) = self.calls.get_mut(key) {
                    call.dialog = Some(dialog);
                    call.state = CallState::Answered;
                }
            }
            Err(e) => {
                tracing::warn!("call {}: cannot form a dialog: {e}", key.0);
                self.hang_up(key, "dialog-failed");
            }
        }
    }

    pub(super) fn on_ack(&mut self, ack: &Request) {
        let Some(key) = self.call_for(ack) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.state != CallState::Answered {
            return;
        }
        call.state = CallState::Confirmed;
        if let Some(d) = call.dialog.as_mut() {
            d.confirm();
        }
        if let Some(m) = &call.media {
            m.send(MediaCommand::Start);
        }
        call.events.emit(CallEvent::CallStarted {
            call_id: key.0.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
            codec: call.codec.clone(),
        });
    }

    pub(super) fn reinvite(&mut self, txn: ServerTxnId, request: Request) {
        let Some(key) = self.call_for(&request) else {
            self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some(d) = call.dialog.as_mut()
            && let Err(e) = d.receive_request(&request)
        {
            let code = e.status();
            self.reply(txn, &request, code, &[]);
            return;
        }
        let offer = match SessionDescription::parse(&request.body) {
            Ok(o) => o,
            Err(_) if request.body.is_empty() => {
                self.reply(
                    txn,
                    &request,
                    status(488),
                    &[(
                        "Warning",
                        "399 voxgate \"re-INVITE without an offer is not supported\"".into(),
                    )],
                );
                return;
            }
            Err(e) => {
                let w = format!("399 voxgate \"bad SDP: {}\"", sanitize(&e.to_string()));
                self.reply(txn, &request, StatusCode::BAD_REQUEST, &[("Warning", w)]);
                return;
            }
        };
        let negotiated = match call.negotiator.answer(&offer) {
            Ok(n) => n,
            Err(_) => {
                // RFC 3264 §8: the old session stays in effect.
                self.reply(txn, &request, status(488), &[]);
                return;
            }
        };
        let hold = negotiated.remote_hold;
        let changed = hold != call.on_hold;
        call.on_hold = hold;
        call.codec = format!("{:?}", negotiated.codec);
        let sdp = negotiated.answer().to_string();
        if let Some(m) = &call.media {
            m.send(MediaCommand::Update(Box::new(negotiated)));
        }
        let contact = self
            .calls
            .get(&key)
            .map(|c| self.contact(c))
            .unwrap_or_default();
        let response = Response::reply(&request, StatusCode::OK)
            .header("Contact", contact)
            .header("Allow", ALLOW)
            .body("application/sdp", Bytes::from(sdp))
            .build();
        if let Err(e) = self.endpoint.respond(Instant::now(), txn, response) {
            tracing::debug!("cannot answer re-INVITE: {e}");
        }
        if changed {
            self.call_events(&key).emit(CallEvent::Hold {
                call_id: key.0.clone(),
                on_hold: hold,
            });
        }
    }
}
