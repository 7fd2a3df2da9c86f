//! Endpoint details the scenario tests in `tests/sip_transactions.rs` do not
//! reach: RFC 2543 matching, Via stamping, argument checks, decoration.

use std::time::{Duration, Instant};

use super::outgoing::replace_top_via;
use super::*;
use crate::sip::{Method, Via, parse_datagram};

fn ep() -> Endpoint {
    Endpoint::new(
        EndpointConfig {
            seed: 3,
            user_agent: Some("voxgate/test".into()),
            ..EndpointConfig::default()
        }
        .with_local(Transport::Udp, "198.51.100.1:5060".parse().unwrap()),
    )
}

fn peer() -> Peer {
    Peer::udp("203.0.113.7:40000".parse().unwrap())
}

fn req(text: &str) -> Request {
    match parse_datagram(text.as_bytes()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => panic!(),
    }
}

fn invite(via: &str, to_tag: &str) -> Request {
    req(&format!(
        "INVITE sip:a@gw SIP/2.0\r\nVia: {via}\r\nFrom: <sip:b@pbx>;tag=f\r\n\
         To: <sip:a@gw>{to_tag}\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    ))
}

fn ack(via: &str, to_tag: &str) -> Request {
    req(&format!(
        "ACK sip:a@gw SIP/2.0\r\nVia: {via}\r\nFrom: <sip:b@pbx>;tag=f\r\n\
         To: <sip:a@gw>{to_tag}\r\nCall-ID: c\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    ))
}

fn drain(ep: &mut Endpoint) -> (Vec<Transmit>, Vec<Event>) {
    (
        std::iter::from_fn(|| ep.poll_transmit()).collect(),
        std::iter::from_fn(|| ep.poll_event()).collect(),
    )
}

fn new_txn(ep: &mut Endpoint, now: Instant, r: Request) -> (ServerTxnId, Request) {
    ep.handle_message(now, peer(), Message::Request(r));
    match drain(ep).1.as_slice() {
        [
            Event::Request {
                txn: Some(id),
                request,
                ..
            },
        ] => (*id, request.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn received_and_rport_are_stamped_on_the_top_via() {
    let t0 = Instant::now();
    let mut ep = ep();
    let r = invite(
        "SIP/2.0/UDP pbx.example.com;branch=z9hG4bKst;rport, SIP/2.0/UDP edge;branch=z9hG4bKe",
        "",
    );
    let (txn, seen) = new_txn(&mut ep, t0, r);
    let vias = seen.headers.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].received(), Some("203.0.113.7".parse().unwrap()));
    assert_eq!(vias[0].rport(), Some(Some(40000)));
    assert_eq!(vias[1].to_string(), "SIP/2.0/UDP edge;branch=z9hG4bKe");
    ep.respond(t0, txn, Response::reply(&seen, StatusCode::RINGING).build())
        .unwrap();
    let (tx, _) = drain(&mut ep);
    let resp = tx[0].message.as_response().unwrap();
    assert_eq!(resp.headers.top_via().unwrap().rport(), Some(Some(40000)));
    assert_eq!(resp.headers.value("Server").unwrap(), "voxgate/test");
    // Same address, no rport: left alone.
    let mut h = invite("SIP/2.0/UDP 203.0.113.7:40000;branch=z9hG4bKsame", "").headers;
    let before = h.clone();
    let via = h.top_via().unwrap();
    replace_top_via(&mut h, &via);
    assert_eq!(h.top_via(), before.top_via());
}

#[test]
fn rfc2543_requests_match_without_magic_cookie() {
    let t0 = Instant::now();
    let mut ep = ep();
    let via = "SIP/2.0/UDP 203.0.113.7:40000;branch=old-style";
    let (txn, seen) = new_txn(&mut ep, t0, invite(via, ""));
    // A retransmission is absorbed.
    ep.handle_message(t0, peer(), Message::Request(invite(via, "")));
    assert!(drain(&mut ep).1.is_empty());
    let busy = Response::reply(&seen, StatusCode::new(486).unwrap())
        .to_tag("t1")
        .build();
    ep.respond(t0, txn, busy).unwrap();
    drain(&mut ep);
    // An ACK with another To tag is not for this transaction: it goes up.
    ep.handle_message(t0, peer(), Message::Request(ack(via, ";tag=zz")));
    assert!(matches!(
        &drain(&mut ep).1[..],
        [Event::Request { txn: None, .. }]
    ));
    assert_eq!(ep.server_state(txn), Some(TxnState::Completed));
    // The ACK with our tag completes it.
    ep.handle_message(t0, peer(), Message::Request(ack(via, ";tag=t1")));
    assert!(drain(&mut ep).1.is_empty());
    assert_eq!(ep.server_state(txn), Some(TxnState::Confirmed));
    // No Via at all: unanswerable, dropped.
    let mut no_via = invite(via, "");
    no_via.headers.remove("Via");
    ep.handle_message(t0, peer(), Message::Request(no_via));
    assert_eq!(drain(&mut ep), (vec![], vec![]));
    assert_eq!(ep.stats().dropped, 1);
}

#[test]
fn ack_reusing_the_invite_branch_still_stops_2xx_retransmission() {
    let t0 = Instant::now();
    let mut ep = ep();
    let via = "SIP/2.0/UDP 203.0.113.7:40000;branch=z9hG4bKsame";
    let (txn, seen) = new_txn(&mut ep, t0, invite(via, ""));
    ep.respond(
        t0,
        txn,
        Response::reply(&seen, StatusCode::OK).to_tag("t2").build(),
    )
    .unwrap();
    drain(&mut ep);
    assert_eq!(ep.pending_2xx(), 1);
    ep.handle_message(t0, peer(), Message::Request(ack(via, ";tag=t2")));
    assert!(matches!(
        &drain(&mut ep).1[..],
        [Event::Request { txn: None, .. }]
    ));
    ep.handle_timeout(t0 + Duration::from_millis(500));
    assert!(
        drain(&mut ep).0.is_empty(),
        "no retransmission after the ACK"
    );
}

#[test]
fn respond_checks_its_arguments() {
    let t0 = Instant::now();
    let mut ep = ep();
    let (txn, seen) = new_txn(&mut ep, t0, invite("SIP/2.0/UDP h;branch=z9hG4bKr", ""));
    let mut wrong = Response::reply(&seen, StatusCode::OK).build();
    wrong.headers.set("CSeq", "2 INVITE");
    assert_eq!(
        ep.respond(t0, txn, wrong),
        Err(TxnError::WrongResponse("CSeq differs"))
    );
    let mut wrong = Response::reply(&seen, StatusCode::OK).build();
    wrong.headers.set("Call-ID", "other");
    assert!(matches!(
        ep.respond(t0, txn, wrong),
        Err(TxnError::WrongResponse(_))
    ));
    assert_eq!(
        ep.respond(
            t0,
            ServerTxnId(999),
            Response::reply(&seen, StatusCode::OK).build()
        ),
        Err(TxnError::UnknownTransaction)
    );
}

#[test]
fn send_request_checks_and_completes_the_request() {
    let t0 = Instant::now();
    let mut ep = ep();
    let base = || {
        Request::builder(Method::Options, crate::sip::Uri::parse("sip:x@y").unwrap())
            .header("From", "<sip:gw@gw>;tag=1")
            .header("To", "<sip:x@y>")
            .call_id("o1")
    };
    let ack = Request::builder(Method::Ack, crate::sip::Uri::parse("sip:x@y").unwrap()).build();
    assert_eq!(
        ep.send_request(t0, peer(), ack),
        Err(TxnError::AckIsNotATransaction)
    );
    let mut mismatched = base().cseq(1).build();
    mismatched.headers.set("CSeq", "1 INFO");
    assert!(matches!(
        ep.send_request(t0, peer(), mismatched),
        Err(TxnError::InvalidRequest(_))
    ));
    assert_eq!(
        ep.send_request(
            t0,
            Peer::tcp("203.0.113.7:5060".parse().unwrap()),
            base().cseq(1).build()
        ),
        Err(TxnError::NoLocalAddress("TCP".into()))
    );
    // A Via without a magic-cookie branch gets one; the same branch twice fails.
    let with_via = base()
        .cseq(1)
        .via(&Via::new(
            Transport::Udp,
            crate::sip::Host::Domain("gw".into()),
            None,
            "x",
        ))
        .build();
    let id = ep.send_request(t0, peer(), with_via).unwrap();
    let sent = ep.client_request(id).unwrap().clone();
    let branch = sent.headers.top_via().unwrap().branch().unwrap().to_owned();
    assert!(branch.starts_with("z9hG4bK"));
    assert_eq!(
        sent.headers.value("User-Agent"),
        None,
        "added on transmit only"
    );
    let (tx, _) = drain(&mut ep);
    assert_eq!(
        tx[0].message.headers().value("User-Agent").unwrap(),
        "voxgate/test"
    );
    assert_eq!(
        ep.send_request(t0, peer(), sent),
        Err(TxnError::BranchInUse)
    );
    // Transport failure: the TU hears a timeout at once.
    ep.handle_transport_error(t0, &peer());
    assert_eq!(drain(&mut ep).1, [Event::Timeout { txn: id }]);
    assert_eq!(ep.transactions(), 0);
    assert_eq!(ep.cancel(t0, id), Err(TxnError::UnknownTransaction));
}

#[test]
fn responses_with_several_vias_are_dropped() {
    let t0 = Instant::now();
    let mut ep = ep();
    let text = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
        Via: SIP/2.0/UDP b;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n\
        Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    ep.handle_message(t0, peer(), parse_datagram(text.as_bytes()).unwrap());
    assert_eq!(drain(&mut ep), (vec![], vec![]));
    assert_eq!(ep.stats().dropped, 1);
}

#[test]
fn zero_timers_are_raised_to_the_minimum() {
    let ep = Endpoint::new(EndpointConfig {
        timers: crate::sip::TimerConfig {
            t1: Duration::ZERO,
            t2: Duration::ZERO,
            t4: Duration::ZERO,
        },
        ..EndpointConfig::default()
    });
    assert_eq!(ep.config().timers.t1, Duration::from_millis(1));
    assert_eq!(ep.config().timers.t2, Duration::from_millis(1));
}
