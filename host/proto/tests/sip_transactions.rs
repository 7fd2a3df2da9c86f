//! RFC 3261 transactions, 2xx retransmission and dialogs through the public
//! `Endpoint` API, in virtual time: every instant is `t0 + Duration`, nothing
//! sleeps, and every test asserts the exact instants and counts of what goes on
//! the wire.

// The helpers below are test code too: a malformed fixture should fail loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use voxgate_proto::sip::{
    ClientTxnId, Dialog, Endpoint, EndpointConfig, Event, HeaderName, Message, Method, Peer,
    Request, Response, ServerTxnId, StatusCode, Transmit, Transport, TxnState, parse_datagram,
};

const GW_UDP: &str = "198.51.100.1:5060";
const GW_TCP: &str = "198.51.100.1:5060";

fn config() -> EndpointConfig {
    EndpointConfig {
        seed: 42,
        ..EndpointConfig::default()
    }
    .with_local(Transport::Udp, GW_UDP.parse().unwrap())
    .with_local(Transport::Tcp, GW_TCP.parse().unwrap())
}

fn pbx() -> Peer {
    Peer::udp("192.0.2.10:5060".parse().unwrap())
}

fn pbx_tcp() -> Peer {
    Peer::tcp("192.0.2.10:40001".parse().unwrap())
}

struct Clock(Instant);

impl Clock {
    fn at(&self, ms: u64) -> Instant {
        self.0 + Duration::from_millis(ms)
    }
    fn ms(&self, t: Instant) -> u64 {
        u64::try_from((t - self.0).as_millis()).unwrap()
    }
}

/// A request from the PBX.
fn pbx_request(method: &str, branch: &str, cseq: u32, extra: &str) -> Request {
    let text = format!(
        "{method} sip:support@gw.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: \"Caller\" <sip:+4930123@pbx.example.com>;tag=pbx-tag\r\n\
         To: <sip:support@gw.example.com>{extra_to}\r\n\
         Call-ID: call-7@pbx.example.com\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:+4930123@192.0.2.10:5060>\r\n\
         {extra}Content-Length: 0\r\n\r\n",
        extra_to = if method == "ACK" || extra.contains("X-In-Dialog") {
            ";tag=gw-tag"
        } else {
            ""
        }
    );
    match parse_datagram(text.as_bytes()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

/// A request the gateway sends (no Via: the endpoint adds it).
fn gw_request(method: Method) -> Request {
    let cseq = if method == Method::Invite { 1 } else { 2 };
    Request::builder(
        method,
        voxgate_proto::sip::Uri::parse("sip:agent@192.0.2.10").unwrap(),
    )
    .header("From", "<sip:gw@gw.example.com>;tag=gw-from")
    .header("To", "<sip:agent@pbx.example.com>")
    .call_id("out-1@gw")
    .cseq(cseq)
    .build()
}

/// The response a peer sends to a request we transmitted.
fn reply(to: &Request, code: u16) -> Message {
    let status = StatusCode::new(code).unwrap();
    let b = Response::reply(to, status);
    let b = if code > 100 { b.to_tag("pbx-to") } else { b };
    Message::Response(b.build())
}

fn transmits(ep: &mut Endpoint) -> Vec<Transmit> {
    std::iter::from_fn(|| ep.poll_transmit()).collect()
}

fn events(ep: &mut Endpoint) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

/// Transmissions and events, each with the virtual instant (ms after t0) it
/// happened at.
type Log = (Vec<(u64, Transmit)>, Vec<(u64, Event)>);

/// Fires timers up to `end_ms`, recording what happened when.
fn run(ep: &mut Endpoint, clock: &Clock, end_ms: u64) -> Log {
    let (mut tx, mut ev) = (Vec::new(), Vec::new());
    while let Some(t) = ep.poll_timeout() {
        if t > clock.at(end_ms) {
            break;
        }
        ep.handle_timeout(t);
        let ms = clock.ms(t);
        tx.extend(transmits(ep).into_iter().map(|x| (ms, x)));
        ev.extend(events(ep).into_iter().map(|x| (ms, x)));
    }
    (tx, ev)
}

fn times(tx: &[(u64, Transmit)]) -> Vec<u64> {
    tx.iter().map(|(t, _)| *t).collect()
}

fn status_of(t: &Transmit) -> Option<u16> {
    t.message.as_response().map(|r| r.status.code())
}

fn method_of(t: &Transmit) -> Option<Method> {
    t.message.as_request().map(|r| r.method.clone())
}

/// Feeds a new request and returns its server transaction.
fn new_server_txn(ep: &mut Endpoint, now: Instant, from: Peer, req: Request) -> ServerTxnId {
    ep.handle_message(now, from, Message::Request(req));
    match events(ep).as_slice() {
        [Event::Request { txn: Some(id), .. }] => *id,
        other => panic!("expected one new request, got {other:?}"),
    }
}

fn sent_request(ep: &mut Endpoint) -> Request {
    let tx = transmits(ep);
    assert_eq!(tx.len(), 1, "{tx:?}");
    tx.into_iter()
        .next()
        .and_then(|t| t.message.as_request().cloned())
        .unwrap()
}

// ---------------------------------------------------------------- client INVITE

#[test]
fn client_invite_udp_timer_a_doubles_and_timer_b_times_out() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let id = ep
        .send_request(clock.at(0), pbx(), gw_request(Method::Invite))
        .unwrap();
    let first = sent_request(&mut ep);
    let via = first.headers.top_via().unwrap();
    assert!(via.has_rfc3261_branch());
    assert_eq!(
        via.to_string().split(';').next(),
        Some("SIP/2.0/UDP 198.51.100.1:5060")
    );
    assert_eq!(first.headers.max_forwards(), Ok(Some(70)));
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert_eq!(times(&tx), [500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    assert!(
        tx.iter()
            .all(|(_, t)| t.message.as_request() == Some(&first))
    );
    assert_eq!(ev, [(32_000, Event::Timeout { txn: id })]);
    assert_eq!(ep.client_state(id), None);
    assert_eq!((ep.transactions(), ep.poll_timeout()), (0, None));
}

#[test]
fn client_invite_stops_on_1xx_acks_4xx_and_timer_d() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let id = ep
        .send_request(clock.at(0), pbx(), gw_request(Method::Invite))
        .unwrap();
    let invite = sent_request(&mut ep);
    let (tx, _) = run(&mut ep, &clock, 700);
    assert_eq!(times(&tx), [500]);
    ep.handle_message(clock.at(700), pbx(), reply(&invite, 180));
    assert!(
        matches!(&events(&mut ep)[..], [Event::Response { txn, response }]
        if *txn == id && response.status == StatusCode::RINGING)
    );
    assert_eq!(ep.client_state(id), Some(TxnState::Proceeding));
    assert_eq!(ep.poll_timeout(), None, "no timer A nor B in Proceeding");
    // 486 at 10 s: ACK goes out, the TU sees the 486 once.
    ep.handle_message(clock.at(10_000), pbx(), reply(&invite, 486));
    let ack = sent_request(&mut ep);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(
        ack.headers.top_via().unwrap(),
        invite.headers.top_via().unwrap()
    );
    assert_eq!(ack.headers.to_address().unwrap().tag(), Some("pbx-to"));
    assert_eq!(ack.headers.cseq().unwrap().to_string(), "1 ACK");
    assert_eq!(ack.headers.call_id(), invite.headers.call_id());
    assert!(
        matches!(&events(&mut ep)[..], [Event::Response { response, .. }] if response.status.code() == 486)
    );
    // Each retransmitted 486 is ACKed again and not passed up.
    for at in [10_500, 11_500] {
        ep.handle_message(clock.at(at), pbx(), reply(&invite, 486));
        assert_eq!(sent_request(&mut ep), ack);
        assert!(events(&mut ep).is_empty());
    }
    assert_eq!(ep.client_state(id), Some(TxnState::Completed));
    assert_eq!(ep.poll_timeout(), Some(clock.at(42_000)), "timer D = 32 s");
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty() && ev.is_empty());
    assert_eq!(ep.client_state(id), None);
}

#[test]
fn client_invite_2xx_is_accepted_and_retransmissions_reach_the_tu() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let id = ep
        .send_request(clock.at(0), pbx(), gw_request(Method::Invite))
        .unwrap();
    let invite = sent_request(&mut ep);
    let mut ok = reply(&invite, 200);
    ok.headers_mut()
        .append("Contact", "<sip:agent@192.0.2.10:5060>");
    ep.handle_message(clock.at(100), pbx(), ok.clone());
    let Some(Message::Response(ok_resp)) = Some(ok.clone()) else {
        unreachable!()
    };
    assert_eq!(
        events(&mut ep),
        [Event::Response {
            txn: id,
            response: ok_resp.clone()
        }]
    );
    assert_eq!(ep.client_state(id), Some(TxnState::Accepted));
    // The UAC core ACKs through the dialog, outside any transaction.
    let mut dialog = Dialog::new_uac(&invite, &ok_resp).unwrap();
    ep.send_ack_2xx(clock.at(100), pbx(), dialog.request(Method::Ack))
        .unwrap();
    let ack = sent_request(&mut ep);
    assert_eq!(ack.headers.cseq().unwrap().to_string(), "1 ACK");
    assert_eq!(ack.uri.to_string(), "sip:agent@192.0.2.10:5060");
    assert_ne!(
        ack.headers.top_via().unwrap().branch(),
        invite.headers.top_via().unwrap().branch(),
        "the ACK to a 2xx has its own branch"
    );
    // A retransmitted 2xx is handed to the TU again (it must re-ACK).
    ep.handle_message(clock.at(600), pbx(), ok);
    assert_eq!(events(&mut ep).len(), 1);
    assert!(transmits(&mut ep).is_empty());
    assert_eq!(ep.poll_timeout(), Some(clock.at(32_100)), "timer M");
    run(&mut ep, &clock, 40_000);
    assert_eq!(ep.transactions(), 0);
}

#[test]
fn client_cancel_waits_for_a_provisional_and_bounds_the_invite() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let id = ep
        .send_request(clock.at(0), pbx(), gw_request(Method::Invite))
        .unwrap();
    let invite = sent_request(&mut ep);
    assert_eq!(
        ep.cancel(clock.at(100), id),
        Ok(None),
        "deferred until a 1xx"
    );
    assert!(transmits(&mut ep).is_empty());
    ep.handle_message(clock.at(300), pbx(), reply(&invite, 180));
    let cancel = sent_request(&mut ep);
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(
        cancel.headers.top_via().unwrap(),
        invite.headers.top_via().unwrap()
    );
    assert_eq!(cancel.headers.cseq().unwrap().to_string(), "1 CANCEL");
    events(&mut ep);
    // The CANCEL is a non-INVITE transaction of its own (timer E) and the INVITE
    // gives up 64·T1 after it was sent.
    let (tx, ev) = run(&mut ep, &clock, 40_000);
    assert_eq!(times(&tx)[..3], [800, 1_800, 3_800]);
    assert!(tx.iter().all(|(_, t)| method_of(t) == Some(Method::Cancel)));
    let timeouts: Vec<_> = ev.iter().map(|(t, e)| (*t, e.clone())).collect();
    assert_eq!(timeouts.len(), 2, "{timeouts:?}");
    assert!(timeouts.contains(&(32_300, Event::Timeout { txn: id })));
    assert_eq!(
        ep.cancel(clock.at(40_000), id),
        Err(voxgate_proto::sip::TxnError::UnknownTransaction)
    );
}

// ------------------------------------------------------------ client non-INVITE

#[test]
fn client_non_invite_timer_e_caps_at_t2_and_timer_f_times_out() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let id = ep
        .send_request(clock.at(0), pbx(), gw_request(Method::Options))
        .unwrap();
    assert_eq!(transmits(&mut ep).len(), 1);
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert_eq!(
        times(&tx),
        [
            500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert_eq!(ev, [(32_000, Event::Timeout { txn: id })]);
    assert_eq!(ep.transactions(), 0);
}

#[test]
fn client_non_invite_provisional_switches_to_t2_then_timer_k() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let id = ep
        .send_request(clock.at(0), pbx(), gw_request(Method::Options))
        .unwrap();
    let req = sent_request(&mut ep);
    ep.handle_message(clock.at(200), pbx(), reply(&req, 100));
    assert_eq!(events(&mut ep).len(), 1);
    assert_eq!(ep.client_state(id), Some(TxnState::Proceeding));
    // E was already armed for 0.5 s; after it fires in Proceeding it is reset to
    // T2 = 4 s each time instead of doubling (0.5, 4.5, 8.5 rather than 0.5, 1.5, 3.5).
    let (tx, _) = run(&mut ep, &clock, 9_000);
    assert_eq!(times(&tx), [500, 4_500, 8_500]);
    ep.handle_message(clock.at(9_000), pbx(), reply(&req, 200));
    assert!(
        matches!(&events(&mut ep)[..], [Event::Response { response, .. }] if response.status == StatusCode::OK)
    );
    assert_eq!(ep.client_state(id), Some(TxnState::Completed));
    ep.handle_message(clock.at(9_500), pbx(), reply(&req, 200));
    assert!(events(&mut ep).is_empty(), "retransmitted 200 absorbed");
    assert_eq!(ep.poll_timeout(), Some(clock.at(14_000)), "timer K = T4");
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty() && ev.is_empty());
    assert_eq!(ep.transactions(), 0);
    // A late response matches nothing.
    ep.handle_message(clock.at(20_000), pbx(), reply(&req, 200));
    assert!(matches!(
        &events(&mut ep)[..],
        [Event::StrayResponse { .. }]
    ));
}

// --------------------------------------------------------------- server INVITE

#[test]
fn server_invite_sends_100_after_200ms_and_resends_the_last_response() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let invite = pbx_request("INVITE", "z9hG4bKinv1", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), invite.clone());
    assert!(transmits(&mut ep).is_empty());
    assert_eq!(ep.poll_timeout(), Some(clock.at(200)));
    let (tx, _) = run(&mut ep, &clock, 1_000);
    assert_eq!(times(&tx), [200]);
    let (_, trying) = &tx[0];
    assert_eq!(status_of(trying), Some(100));
    assert_eq!(trying.to, pbx());
    assert_eq!(trying.message.headers().to_address().unwrap().tag(), None);
    // A retransmitted INVITE is not a new call: it gets the 100 again.
    ep.handle_message(clock.at(500), pbx(), Message::Request(invite.clone()));
    assert!(events(&mut ep).is_empty());
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(100)]
    );
    // Then the TU rings; a retransmission gets the 180.
    let ringing = Response::reply(&invite, StatusCode::RINGING)
        .to_tag("gw-tag")
        .build();
    ep.respond(clock.at(1_000), txn, ringing).unwrap();
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(180)]
    );
    ep.handle_message(clock.at(1_500), pbx(), Message::Request(invite));
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(180)]
    );
    assert_eq!(ep.stats().absorbed, 2);
}

#[test]
fn server_invite_tu_answering_within_200ms_suppresses_100() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let invite = pbx_request("INVITE", "z9hG4bKinv2", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), invite.clone());
    let ringing = Response::reply(&invite, StatusCode::RINGING).build();
    ep.respond(clock.at(150), txn, ringing).unwrap();
    let tx = transmits(&mut ep);
    assert_eq!(tx.iter().map(status_of).collect::<Vec<_>>(), [Some(180)]);
    // The endpoint tagged the untagged 180 with the transaction's tag.
    let tag = ep.local_tag(txn).unwrap().to_owned();
    assert_eq!(
        tx[0].message.headers().to_address().unwrap().tag(),
        Some(tag.as_str())
    );
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn server_invite_non_2xx_timer_g_until_ack_then_timer_i() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let invite = pbx_request("INVITE", "z9hG4bKinv3", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), invite.clone());
    let busy = Response::reply(&invite, StatusCode::new(486).unwrap())
        .to_tag("gw-tag")
        .build();
    ep.respond(clock.at(0), txn, busy).unwrap();
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(486)]
    );
    let (tx, _) = run(&mut ep, &clock, 4_000);
    assert_eq!(times(&tx), [500, 1_500, 3_500]);
    assert!(tx.iter().all(|(_, t)| status_of(t) == Some(486)));
    // The ACK (same branch) completes the transaction: no event, no more 486s.
    let ack = pbx_request("ACK", "z9hG4bKinv3", 1, "");
    ep.handle_message(clock.at(4_000), pbx(), Message::Request(ack.clone()));
    assert!(events(&mut ep).is_empty());
    assert_eq!(ep.server_state(txn), Some(TxnState::Confirmed));
    ep.handle_message(clock.at(4_100), pbx(), Message::Request(ack));
    assert!(events(&mut ep).is_empty() && transmits(&mut ep).is_empty());
    assert_eq!(ep.poll_timeout(), Some(clock.at(9_000)), "timer I = T4");
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty() && ev.is_empty());
    assert_eq!(ep.server_state(txn), None);
}

#[test]
fn server_invite_without_ack_times_out_with_timer_h() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let invite = pbx_request("INVITE", "z9hG4bKinv4", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), invite.clone());
    let unavailable = Response::reply(&invite, StatusCode::new(480).unwrap()).build();
    ep.respond(clock.at(0), txn, unavailable).unwrap();
    transmits(&mut ep);
    // A retransmitted INVITE in Completed gets the 480 again.
    ep.handle_message(clock.at(200), pbx(), Message::Request(invite));
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(480)]
    );
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert_eq!(
        times(&tx),
        [
            500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert_eq!(ev, [(32_000, Event::AckTimeout { txn })]);
    assert_eq!((ep.transactions(), ep.timer_count()), (0, 0));
}

// ----------------------------------------------------------- server non-INVITE

#[test]
fn server_non_invite_absorbs_retransmissions_until_timer_j() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let bye = pbx_request("BYE", "z9hG4bKbye1", 2, "X-In-Dialog: 1\r\n");
    // Before the TU answers, a retransmission is absorbed silently.
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), bye.clone());
    ep.handle_message(clock.at(500), pbx(), Message::Request(bye.clone()));
    assert!(events(&mut ep).is_empty() && transmits(&mut ep).is_empty());
    ep.respond(
        clock.at(600),
        txn,
        Response::reply(&bye, StatusCode::OK).build(),
    )
    .unwrap();
    assert_eq!(transmits(&mut ep).len(), 1);
    assert_eq!(ep.server_state(txn), Some(TxnState::Completed));
    for at in [1_500, 3_500] {
        ep.handle_message(clock.at(at), pbx(), Message::Request(bye.clone()));
        assert!(events(&mut ep).is_empty());
        assert_eq!(
            transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
            [Some(200)]
        );
    }
    assert_eq!(
        ep.respond(
            clock.at(3_600),
            txn,
            Response::reply(&bye, StatusCode::OK).build()
        ),
        Err(voxgate_proto::sip::TxnError::AlreadyAnswered)
    );
    assert_eq!(ep.poll_timeout(), Some(clock.at(32_600)), "timer J = 64·T1");
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty() && ev.is_empty());
    assert_eq!(ep.server_state(txn), None);
    // After timer J the same request is new again.
    ep.handle_message(clock.at(60_000), pbx(), Message::Request(bye));
    assert!(matches!(&events(&mut ep)[..], [Event::Request { txn: Some(t), .. }] if *t != txn));
}

// ----------------------------------------------------------- 2xx retransmission

fn answered_invite(
    ep: &mut Endpoint,
    clock: &Clock,
    peer: Peer,
) -> (ServerTxnId, Request, Response) {
    let invite = pbx_request("INVITE", "z9hG4bKinv9", 1, "");
    let txn = new_server_txn(ep, clock.at(0), peer, invite.clone());
    let ok = Response::reply(&invite, StatusCode::OK)
        .to_tag("gw-tag")
        .header("Contact", "<sip:gw@198.51.100.1:5060>")
        .build();
    ep.respond(clock.at(0), txn, ok.clone()).unwrap();
    let tx = transmits(ep);
    assert_eq!(tx.iter().map(status_of).collect::<Vec<_>>(), [Some(200)]);
    (txn, invite, ok)
}

#[test]
fn ok_to_invite_is_retransmitted_until_the_ack() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let (txn, _, ok) = answered_invite(&mut ep, &clock, pbx());
    assert_eq!(ep.server_state(txn), Some(TxnState::Accepted));
    let (tx, _) = run(&mut ep, &clock, 4_000);
    assert_eq!(times(&tx), [500, 1_500, 3_500]);
    assert!(tx.iter().all(|(_, t)| t.message.as_response() == Some(&ok)));
    // The ACK has a branch of its own and reaches the TU exactly once.
    let ack = pbx_request("ACK", "z9hG4bKack9", 1, "");
    ep.handle_message(clock.at(4_000), pbx(), Message::Request(ack.clone()));
    assert!(
        matches!(&events(&mut ep)[..], [Event::Request { txn: None, request, .. }] if request.method == Method::Ack)
    );
    ep.handle_message(clock.at(4_200), pbx(), Message::Request(ack));
    assert!(events(&mut ep).is_empty(), "duplicate ACK absorbed");
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty() && ev.is_empty(), "{tx:?} {ev:?}");
    assert_eq!(
        (ep.pending_2xx(), ep.transactions(), ep.timer_count()),
        (0, 0, 0)
    );
}

#[test]
fn lost_ack_means_ok_retransmitted_until_64_t1_then_ack_timeout() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let (txn, invite, _) = answered_invite(&mut ep, &clock, pbx());
    // The INVITE retransmitted while the 200 is in flight is absorbed by the
    // Accepted state, not offered to the TU as a new call.
    ep.handle_message(clock.at(300), pbx(), Message::Request(invite));
    assert!(events(&mut ep).is_empty() && transmits(&mut ep).is_empty());
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert_eq!(
        times(&tx),
        [
            500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert!(tx.iter().all(|(_, t)| status_of(t) == Some(200)));
    let [(32_000, Event::AckTimeout2xx { txn: t, dialog })] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(*t, txn);
    assert_eq!(dialog.call_id, "call-7@pbx.example.com");
    assert_eq!(
        (dialog.local_tag.as_str(), dialog.remote_tag.as_str()),
        ("gw-tag", "pbx-tag")
    );
    assert_eq!(
        (ep.pending_2xx(), ep.transactions(), ep.timer_count()),
        (0, 0, 0)
    );
}

// ----------------------------------------------------------------------- CANCEL

#[test]
fn cancel_gets_200_then_the_tu_sends_487_and_its_ack_is_absorbed() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let invite = pbx_request("INVITE", "z9hG4bKinv5", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), invite.clone());
    let ringing = Response::reply(&invite, StatusCode::RINGING)
        .to_tag("gw-tag")
        .build();
    ep.respond(clock.at(50), txn, ringing).unwrap();
    transmits(&mut ep);
    let cancel = pbx_request("CANCEL", "z9hG4bKinv5", 1, "");
    ep.handle_message(clock.at(2_000), pbx(), Message::Request(cancel.clone()));
    let tx = transmits(&mut ep);
    assert_eq!(tx.len(), 1);
    let ok = tx[0].message.as_response().unwrap();
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.headers.cseq().unwrap().method, Method::Cancel);
    assert_eq!(
        ok.headers.to_address().unwrap().tag(),
        Some("gw-tag"),
        "the INVITE's tag"
    );
    assert_eq!(events(&mut ep), [Event::Cancelled { invite: txn }]);
    // The TU ends the INVITE with 487.
    let original = ep.server_request(txn).unwrap().clone();
    let terminated = Response::reply(&original, StatusCode::REQUEST_TERMINATED).build();
    ep.respond(clock.at(2_010), txn, terminated).unwrap();
    let tx = transmits(&mut ep);
    assert_eq!(tx.iter().map(status_of).collect::<Vec<_>>(), [Some(487)]);
    assert_eq!(
        tx[0].message.headers().to_address().unwrap().tag(),
        Some("gw-tag")
    );
    // A retransmitted CANCEL gets its 200 again; no second event.
    ep.handle_message(clock.at(2_100), pbx(), Message::Request(cancel));
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(200)]
    );
    assert!(events(&mut ep).is_empty());
    // The ACK to the 487 belongs to the INVITE transaction and stops timer G.
    ep.handle_message(
        clock.at(2_200),
        pbx(),
        Message::Request(pbx_request("ACK", "z9hG4bKinv5", 1, "")),
    );
    assert!(events(&mut ep).is_empty());
    assert_eq!(ep.server_state(txn), Some(TxnState::Confirmed));
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty() && ev.is_empty(), "{tx:?}");
    assert_eq!(ep.transactions(), 0);
}

#[test]
fn cancel_without_invite_gets_481_and_after_final_has_no_effect() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    ep.handle_message(
        clock.at(0),
        pbx(),
        Message::Request(pbx_request("CANCEL", "z9hG4bKnone", 1, "")),
    );
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(481)]
    );
    assert!(events(&mut ep).is_empty());
    let (txn, _, _) = answered_invite(&mut ep, &clock, pbx());
    ep.handle_message(
        clock.at(100),
        pbx(),
        Message::Request(pbx_request("CANCEL", "z9hG4bKinv9", 1, "")),
    );
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(200)]
    );
    assert!(events(&mut ep).is_empty(), "no Cancelled after the 200 OK");
    assert_eq!(ep.server_state(txn), Some(TxnState::Accepted));
}

// -------------------------------------------------------------------------- TCP

#[test]
fn tcp_never_retransmits_and_zeroes_timers_d_i_j_k() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    // Server INVITE, non-2xx: no timer G, only H; the ACK ends it at once (I = 0).
    let invite = pbx_request("INVITE", "z9hG4bKtcp1", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx_tcp(), invite.clone());
    ep.respond(
        clock.at(0),
        txn,
        Response::reply(&invite, StatusCode::new(486).unwrap()).build(),
    )
    .unwrap();
    assert_eq!(transmits(&mut ep)[0].to, pbx_tcp());
    assert_eq!(ep.poll_timeout(), Some(clock.at(32_000)), "timer H only");
    ep.handle_message(
        clock.at(1_000),
        pbx_tcp(),
        Message::Request(pbx_request("ACK", "z9hG4bKtcp1", 1, "")),
    );
    assert_eq!(ep.server_state(txn), None, "timer I is zero");
    // Server non-INVITE: timer J is zero.
    let options = pbx_request("OPTIONS", "z9hG4bKtcp2", 1, "");
    let txn = new_server_txn(&mut ep, clock.at(0), pbx_tcp(), options.clone());
    ep.respond(
        clock.at(0),
        txn,
        Response::reply(&options, StatusCode::OK).build(),
    )
    .unwrap();
    assert_eq!(ep.server_state(txn), None);
    // Client INVITE: no timer A, timer B; a 4xx is ACKed and timer D is zero.
    let id = ep
        .send_request(clock.at(0), pbx_tcp(), gw_request(Method::Invite))
        .unwrap();
    let mut tx = transmits(&mut ep);
    let sent = tx
        .pop()
        .and_then(|t| t.message.as_request().cloned())
        .unwrap();
    assert_eq!(sent.headers.top_via().unwrap().transport, Transport::Tcp);
    // Client non-INVITE: no timer E, timer F; timer K is zero.
    let opt = ep
        .send_request(clock.at(0), pbx_tcp(), gw_request(Method::Options))
        .unwrap();
    let opt_req = sent_request(&mut ep);
    let (tx, ev) = run(&mut ep, &clock, 31_999);
    assert!(
        tx.is_empty() && ev.is_empty(),
        "no retransmissions over TCP: {tx:?}"
    );
    ep.handle_message(clock.at(31_999), pbx_tcp(), reply(&sent, 404));
    assert_eq!(sent_request(&mut ep).method, Method::Ack);
    assert_eq!(ep.client_state(id), None, "timer D is zero");
    ep.handle_message(clock.at(31_999), pbx_tcp(), reply(&opt_req, 200));
    assert_eq!(ep.client_state(opt), None, "timer K is zero");
    events(&mut ep);
    // A 2xx to an INVITE over TCP is not retransmitted, but a missing ACK is
    // still noticed after 64·T1.
    let clock = Clock(clock.at(40_000));
    let (txn, _, _) = answered_invite(&mut ep, &clock, pbx_tcp());
    let (tx, ev) = run(&mut ep, &clock, 60_000);
    assert!(tx.is_empty());
    assert!(matches!(&ev[..], [(32_000, Event::AckTimeout2xx { txn: t, .. })] if *t == txn));
    assert_eq!((ep.transactions(), ep.timer_count()), (0, 0));
}

// ---------------------------------------------------------------------- dialogs

#[test]
fn dialog_from_invite_and_200_sends_bye_through_the_endpoint() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let invite = pbx_request(
        "INVITE",
        "z9hG4bKdlg",
        5,
        "Record-Route: <sip:proxy.example.com;lr>\r\n",
    );
    let txn = new_server_txn(&mut ep, clock.at(0), pbx(), invite.clone());
    let ok = Response::reply(&invite, StatusCode::OK)
        .to_tag("gw-tag")
        .header("Contact", "<sip:gw@198.51.100.1:5060>")
        .build();
    let mut dialog = Dialog::new_uas(&invite, &ok, &Transport::Udp).unwrap();
    ep.respond(clock.at(0), txn, ok).unwrap();
    transmits(&mut ep);
    ep.handle_message(
        clock.at(100),
        pbx(),
        Message::Request(pbx_request("ACK", "z9hG4bKdlgack", 5, "")),
    );
    let [
        Event::Request {
            txn: None,
            request: ack,
            ..
        },
    ] = &events(&mut ep)[..]
    else {
        panic!()
    };
    assert!(dialog.matches(ack));
    assert_eq!(dialog.remote_seq(), Some(5));
    // The PBX's in-dialog INFO with CSeq 6 is in order; a replay of CSeq 5 is not.
    let info = pbx_request("INFO", "z9hG4bKinfo", 6, "X-In-Dialog: 1\r\n");
    assert!(dialog.receive_request(&info).is_ok());
    let stale = pbx_request("INFO", "z9hG4bKinfo2", 5, "X-In-Dialog: 1\r\n");
    let err = dialog.receive_request(&stale).unwrap_err();
    assert_eq!(err.status(), StatusCode::SERVER_INTERNAL_ERROR);
    // Hang up: the BYE goes to the remote target via the route set.
    let bye = dialog.request(Method::Bye);
    let bye_txn: ClientTxnId = ep.send_request(clock.at(1_000), pbx(), bye).unwrap();
    let sent = sent_request(&mut ep);
    assert_eq!(sent.uri.to_string(), "sip:+4930123@192.0.2.10:5060");
    assert_eq!(
        sent.headers.value(HeaderName::Route).unwrap(),
        "<sip:proxy.example.com;lr>"
    );
    assert_eq!(sent.headers.from_address().unwrap().tag(), Some("gw-tag"));
    assert_eq!(sent.headers.to_address().unwrap().tag(), Some("pbx-tag"));
    assert_eq!(sent.headers.call_id().unwrap(), "call-7@pbx.example.com");
    assert_eq!(sent.headers.cseq().unwrap().to_string(), "1 BYE");
    assert!(sent.headers.top_via().unwrap().has_rfc3261_branch());
    ep.handle_message(clock.at(1_050), pbx(), reply(&sent, 200));
    assert!(matches!(&events(&mut ep)[..], [Event::Response { txn, .. }] if *txn == bye_txn));
}

// ------------------------------------------------------------ policy and limits

#[test]
fn malformed_and_unknown_requests_are_answered_by_the_endpoint() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let text = "FOO sip:support@gw.example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKfoo\r\n\
        From: <sip:a@pbx.example.com>;tag=1\r\nTo: <sip:support@gw.example.com>\r\n\
        Call-ID: foo-1\r\nCSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n";
    let msg = parse_datagram(text.as_bytes()).unwrap();
    ep.handle_message(clock.at(0), pbx(), msg.clone());
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(501)]
    );
    ep.handle_message(clock.at(500), pbx(), msg);
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(501)]
    );
    assert!(events(&mut ep).is_empty());
    // A request without To (lint: reject) gets 400; without Via it cannot be answered.
    let no_to = "OPTIONS sip:support@gw.example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnoto\r\n\
        From: <sip:a@pbx.example.com>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    ep.handle_message(
        clock.at(0),
        pbx(),
        parse_datagram(no_to.as_bytes()).unwrap(),
    );
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(400)]
    );
    let no_via = "OPTIONS sip:support@gw.example.com SIP/2.0\r\n\
        From: <sip:a@pbx.example.com>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    ep.handle_message(
        clock.at(0),
        pbx(),
        parse_datagram(no_via.as_bytes()).unwrap(),
    );
    assert!(transmits(&mut ep).is_empty());
    assert_eq!((ep.stats().refused, ep.stats().dropped), (2, 1));
}

#[test]
fn transaction_cap_answers_503() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(EndpointConfig {
        max_transactions: 2,
        ..config()
    });
    for b in ["z9hG4bKcap1", "z9hG4bKcap2"] {
        new_server_txn(&mut ep, clock.at(0), pbx(), pbx_request("INVITE", b, 1, ""));
    }
    ep.handle_message(
        clock.at(0),
        pbx(),
        Message::Request(pbx_request("INVITE", "z9hG4bKcap3", 1, "")),
    );
    assert!(events(&mut ep).is_empty());
    assert_eq!(
        transmits(&mut ep).iter().map(status_of).collect::<Vec<_>>(),
        [Some(503)]
    );
    assert_eq!(ep.transactions(), 2);
    assert_eq!(
        ep.send_request(clock.at(0), pbx(), gw_request(Method::Options)),
        Err(voxgate_proto::sip::TxnError::TooManyTransactions { limit: 2 })
    );
}

// ------------------------------------------------------------- torture corpus

fn corpus_files() -> Vec<std::path::PathBuf> {
    let dir = manifest_dir().join("../../../shared/conformance/sip-torture");
    let mut files = Vec::new();
    for sub in ["rfc4475", "rfc5118"] {
        let rd = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("the SIP torture corpus is missing ({sub}): {e}"));
        files.extend(rd.flatten().map(|e| e.path()));
    }
    files.sort();
    assert!(
        files.len() > 50,
        "corpus looks incomplete: {} files",
        files.len()
    );
    files
}

#[test]
fn torture_corpus_never_panics_and_state_stays_bounded() {
    let clock = Clock(Instant::now());
    let mut ep = Endpoint::new(config());
    let mut fed = 0usize;
    for (i, path) in corpus_files().iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let Ok(msg) = parse_datagram(&bytes) else {
            continue;
        };
        fed += 1;
        let now = clock.at(u64::try_from(i).unwrap() * 10);
        let peer = if i % 2 == 0 { pbx() } else { pbx_tcp() };
        // Each message twice (a retransmission), then answered by a TU that says
        // yes to everything it is offered.
        for _ in 0..2 {
            ep.handle_message(now, peer.clone(), msg.clone());
        }
        while let Some(ev) = ep.poll_event() {
            if let Event::Request {
                txn: Some(txn),
                request,
                ..
            } = ev
            {
                let ok = Response::reply(&request, StatusCode::OK).build();
                let _ = ep.respond(now, txn, ok);
            }
        }
        transmits(&mut ep);
        assert!(ep.transactions() <= 2 * fed);
        assert!(ep.pending_2xx() <= fed);
    }
    assert!(fed > 30, "only {fed} corpus messages parsed");
    let stats = *ep.stats();
    println!("{fed} corpus messages fed twice: {stats:?}");
    assert!(stats.requests > 0 && stats.responses > 0 && stats.absorbed > 0);
    assert!(
        stats.refused > 0,
        "the corpus holds requests the endpoint must refuse"
    );
    // Everything winds down within 64·T1 plus timer D's margin.
    let end = clock.at(u64::try_from(corpus_files().len()).unwrap() * 10 + 64_000);
    while let Some(t) = ep.poll_timeout() {
        assert!(t <= end, "a timer outlives every RFC 3261 bound");
        ep.handle_timeout(t);
        transmits(&mut ep);
        events(&mut ep);
    }
    assert_eq!(
        (ep.transactions(), ep.pending_2xx(), ep.timer_count()),
        (0, 0, 0)
    );
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
