//! Checks shared by the SIP targets. Each is a property the crate documents, so a
//! failing assertion is a bug in `voxgate-proto`, not in the harness.
#![allow(dead_code)]

use voxgate_proto::dtmf;
use voxgate_proto::sdp::{self, MediaCapabilities, SessionDescription};
use voxgate_proto::sip::{self, Message, ParseError, Request};

/// Largest datagram `parse_datagram` accepts (the default `Limits`).
pub const MAX_DATAGRAM: usize = 64 * 1024;

/// A typed accessor on a parsed message may fail only because its header is
/// absent: the parser already ran the same grammars (`sip` module docs).
fn only_missing<T>(what: &str, r: Result<T, ParseError>) {
    match r {
        Ok(_) | Err(ParseError::MissingHeader(_)) => {}
        Err(e) => panic!("accessor {what} fails on a parsed message: {e:?}"),
    }
}

/// Runs every typed accessor; those the parser validated must not fail.
pub fn check_accessors(msg: &Message) {
    let h = msg.headers();
    only_missing("call_id", h.call_id());
    only_missing("cseq", h.cseq());
    only_missing("from_address", h.from_address());
    only_missing("to_address", h.to_address());
    only_missing("vias", h.vias());
    only_missing("top_via", h.top_via());
    only_missing("contacts", h.contacts());
    only_missing("routes", h.routes());
    only_missing("record_routes", h.record_routes());
    only_missing("max_forwards", h.max_forwards());
    only_missing("content_type", h.content_type());
    only_missing("accept", h.accept());
    only_missing("require", h.require());
    only_missing("proxy_require", h.proxy_require());
    only_missing("supported", h.supported());
    only_missing("unsupported", h.unsupported());
    only_missing("allow", h.allow());
    // Not validated by the parser (only on use): must merely not panic.
    let _ = h.content_length();
    let _ = h.expires();
    if let Ok(via) = h.top_via() {
        let _ = via.branch();
    }
}

/// Looks into the body the way the gateway does: multipart parts, SDP offers,
/// INFO key presses.
pub fn check_body(msg: &Message) {
    let Ok(Some(ct)) = msg.headers().content_type() else {
        return;
    };
    let body = msg.body();
    if ct.ty.eq_ignore_ascii_case("multipart") {
        if let Some(boundary) = ct.params.get("boundary").and_then(|p| p.unquoted())
            && let Ok(parts) = sip::split_multipart(body, &boundary)
        {
            for p in parts {
                let _ = SessionDescription::parse(&p.body);
            }
        }
    } else if ct.is("application", "sdp") {
        if let Ok(offer) = SessionDescription::parse(body) {
            let local = MediaCapabilities::new([192, 0, 2, 1].into(), 20000, 1);
            let _ = sdp::answer(&offer, &local);
        }
    } else {
        let _ = dtmf::parse_info(&format!("{}/{}", ct.ty, ct.subtype), body);
    }
}

/// Prints a parsed message and parses it back: that must succeed (`sip` module
/// docs: "a parsed message prints to one that parses back"), and printing the
/// re-parsed message must give the same bytes (as the corpus round-trip test
/// holds). Returns the re-parsed message.
pub fn check_round_trip(msg: &Message) -> Option<Message> {
    let printed = msg.to_bytes();
    let reparsed = match sip::parse_datagram(&printed) {
        Ok(m) => m,
        // Printing uses long header names and may grow a message past the limit.
        Err(ParseError::TooLarge { .. }) if printed.len() > MAX_DATAGRAM => return None,
        Err(e) => panic!(
            "printed message does not parse back: {e:?}\n--- printed ---\n{}",
            String::from_utf8_lossy(&printed)
        ),
    };
    let again = reparsed.to_bytes();
    assert!(
        again == printed,
        "printing is not stable\n--- first ---\n{}\n--- second ---\n{}",
        String::from_utf8_lossy(&printed),
        String::from_utf8_lossy(&again)
    );
    check_accessors(&reparsed);
    Some(reparsed)
}

/// A response the endpoint or a lint verdict builds must itself be a valid message.
pub fn check_generated(msg: &Message, origin: &str) {
    let printed = msg.to_bytes();
    if printed.len() > MAX_DATAGRAM {
        return;
    }
    if let Err(e) = sip::parse_datagram(&printed) {
        panic!(
            "{origin} produced a message that does not parse: {e:?}\n--- printed ---\n{}",
            String::from_utf8_lossy(&printed)
        );
    }
}

/// The UAS checks on a parsed request, and the refusal they build.
pub fn check_lint_response(req: &Request) {
    let verdict = sip::check_request(req, &sip::UasPolicy::default());
    if let Some(resp) = verdict.response(req, "fuzz1") {
        check_generated(&Message::Response(resp), "lint verdict response");
    }
}
