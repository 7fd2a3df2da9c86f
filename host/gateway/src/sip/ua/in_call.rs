//! An established call: DTMF in INFO, transfer progress in NOTIFY, requests voxgate
//! sends in the dialog (BYE, REFER), their answers, and the end of the call.

use std::net::IpAddr;
use std::time::Instant;

use voxgate_proto::sip::{ClientTxnId, Method, Request, Response, ServerTxnId, StatusCode};

use super::{ACCEPT, Core};
use crate::media::call::MediaCommand;
use crate::sip::call::{CallKey, CallState, Transfer};
use crate::sip::events::{CallEvent, DtmfSource};

impl Core {
    pub(super) fn info(&mut self, txn: ServerTxnId, request: Request) {
        let Some(key) = self.call_for(&request) else {
            self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
            return;
        };
        let content_type = request
            .headers
            .content_type()
            .ok()
            .flatten()
            .map(|m| format!("{}/{}", m.ty, m.subtype))
            .unwrap_or_default();
        match voxgate_proto::dtmf::parse_info(&content_type, &request.body) {
            Ok(d) => {
                self.reply(txn, &request, StatusCode::OK, &[]);
                self.call_events(&key).emit(CallEvent::Dtmf {
                    call_id: key.0.clone(),
                    digit: d.digit.to_string(),
                    source: DtmfSource::SipInfo,
                });
                if let Some(m) = self.calls.get(&key).and_then(|c| c.media.as_ref()) {
                    m.send(MediaCommand::Key(d.digit.to_char()));
                }
            }
            // INFO for other packages (or an empty keep-alive INFO) is acknowledged.
            Err(_) if request.body.is_empty() => self.reply(txn, &request, StatusCode::OK, &[]),
            Err(_) => self.reply(
                txn,
                &request,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &[("Accept", ACCEPT.to_string())],
            ),
        }
    }

    /// NOTIFY in a call we transferred: the transfer's progress as a sipfrag.
    pub(super) fn notify(&mut self, txn: ServerTxnId, request: Request) {
        let Some(key) = self.call_for(&request) else {
            self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
            return;
        };
        self.reply(txn, &request, StatusCode::OK, &[]);
        let frag = String::from_utf8_lossy(&request.body);
        let code = frag
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("SIP/2.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else { return };
        if code < 200 {
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(transfer) = call.transfer.take() else {
            return;
        };
        let outcome = if (200..300).contains(&code) {
            "completed".to_string()
        } else {
            format!("failed: {code}")
        };
        self.call_events(&key).emit(CallEvent::Transfer {
            call_id: key.0.clone(),
            target: transfer.target,
            outcome,
        });
        if (200..300).contains(&code) {
            self.hang_up(&key, "transferred");
        }
    }

    /// Sends an in-dialog request on a call; returns its client transaction.
    pub(super) fn send_in_dialog(
        &mut self,
        key: &CallKey,
        method: Method,
        extra: &[(&str, String)],
    ) -> Option<ClientTxnId> {
        let call = self.calls.get_mut(key)?;
        let peer = call.peer.clone();
        let dialog = call.dialog.as_mut()?;
        let mut b = dialog.request_builder(method);
        for (name, value) in extra {
            b = b.header(*name, value.clone());
        }
        let request = b.build();
        match self.endpoint.send_request(Instant::now(), peer, request) {
            Ok(txn) => {
                self.by_client.insert(txn, key.clone());
                Some(txn)
            }
            Err(e) => {
                tracing::warn!("call {}: cannot send request: {e}", key.0);
                None
            }
        }
    }

    pub(super) fn transfer(&mut self, key: &CallKey, target: String) {
        let host = match self.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        let headers = [
            ("Refer-To", format!("<{target}>")),
            ("Referred-By", format!("<sip:voxgate@{host}>")),
        ];
        if let Some(txn) = self.send_in_dialog(key, Method::Refer, &headers)
            && let Some(call) = self.calls.get_mut(key)
        {
            // Until the REFER's outcome, the caller waits for a human.
            call.events.emit(CallEvent::Transfer {
                call_id: key.0.clone(),
                target: target.clone(),
                outcome: "started".into(),
            });
            call.transfer = Some(Transfer { target, refer: txn });
        }
    }

    /// voxgate ends the call: BYE if a dialog exists, else just clean up.
    pub(super) fn hang_up(&mut self, key: &CallKey, reason: &str) {
        let Some(call) = self.calls.get_mut(key) else {
            return;
        };
        if call.state == CallState::Ending {
            return;
        }
        call.end_reason = Some(reason.to_string());
        if call.dialog.is_none() {
            self.finish(key, reason);
            return;
        }
        if let Some(m) = &call.media {
            m.send(MediaCommand::Pause);
        }
        call.state = CallState::Ending;
        match self.send_in_dialog(key, Method::Bye, &[]) {
            Some(txn) => {
                if let Some(call) = self.calls.get_mut(key) {
                    call.bye = Some(txn);
                }
            }
            None => self.finish(key, reason),
        }
    }

    pub(super) fn on_response(&mut self, now: Instant, txn: ClientTxnId, response: Response) {
        let _ = now;
        let Some(key) = self.by_client.get(&txn).cloned() else {
            return;
        };
        if response.status.is_provisional() {
            return;
        }
        self.by_client.remove(&txn);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.bye == Some(txn) {
            let reason = call
                .end_reason
                .clone()
                .unwrap_or_else(|| "voxgate-bye".into());
            self.finish(&key, &reason);
            return;
        }
        // A 2xx to the REFER means progress follows in NOTIFYs; only a refusal ends it.
        if call.transfer.as_ref().is_some_and(|t| t.refer == txn) && !response.status.is_success() {
            let target = call.transfer.take().map(|t| t.target).unwrap_or_default();
            self.call_events(&key).emit(CallEvent::Transfer {
                call_id: key.0.clone(),
                target,
                outcome: format!("refused: {}", response.status.code()),
            });
        }
    }

    /// Forgets a call: stops its media and reports how it ended.
    pub(super) fn finish(&mut self, key: &CallKey, reason: &str) {
        let Some(call) = self.calls.remove(key) else {
            return;
        };
        self.by_invite.remove(&call.invite_txn);
        if let Some(d) = &call.dialog {
            self.by_dialog.remove(d.id());
        }
        self.by_client.retain(|_, k| k != key);
        let duration_ms = u64::try_from(call.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let events = call.events.clone();
        let call_id = key.0.clone();
        let reason = call
            .end_reason
            .clone()
            .unwrap_or_else(|| reason.to_string());
        match call.media {
            Some(media) => {
                tokio::spawn(async move {
                    let report = media.stop().await;
                    events.emit(CallEvent::CallEnded {
                        call_id,
                        reason,
                        duration_ms,
                        recording: report.recording,
                        rtp: report.rtp,
                    });
                });
            }
            None => events.emit(CallEvent::CallEnded {
                call_id,
                reason,
                duration_ms,
                recording: None,
                rtp: Default::default(),
            }),
        }
    }
}
