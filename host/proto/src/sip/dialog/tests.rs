//! Dialog creation, request building, CSeq ordering and routing.

use super::*;
use crate::sip::{Message, parse_datagram};

const INVITE: &str = "INVITE sip:support@gw.example.com SIP/2.0\r\n\
    Via: SIP/2.0/UDP edge.example.com;branch=z9hG4bKe\r\n\
    Via: SIP/2.0/UDP pbx.example.com;branch=z9hG4bKp\r\n\
    Record-Route: <sip:edge.example.com;lr>, <sip:core.example.com;lr>\r\n\
    Record-Route: <sip:pbx-proxy.example.com;lr>\r\n\
    From: \"Alice\" <sip:+4930123@pbx.example.com>;tag=pbx1\r\n\
    To: <sip:support@gw.example.com>\r\n\
    Call-ID: dlg-1@pbx\r\n\
    CSeq: 10 INVITE\r\n\
    Max-Forwards: 68\r\n\
    Contact: <sip:+4930123@192.0.2.10:5060;transport=udp>\r\n\
    Content-Length: 0\r\n\r\n";

fn req(text: &str) -> Request {
    match parse_datagram(text.as_bytes()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => panic!(),
    }
}

fn ok(invite: &Request) -> Response {
    Response::reply(invite, StatusCode::OK)
        .to_tag("gw1")
        .header("Contact", "<sip:gw@198.51.100.1:5060>")
        .build()
}

fn in_dialog(method: &str, cseq: u32, extra: &str) -> Request {
    req(&format!(
        "{method} sip:gw@198.51.100.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP pbx.example.com;branch=z9hG4bK{method}{cseq}\r\n\
         From: <sip:+4930123@pbx.example.com>;tag=pbx1\r\n\
         To: <sip:support@gw.example.com>;tag=gw1\r\n\
         Call-ID: dlg-1@pbx\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    ))
}

#[test]
fn uas_dialog_from_invite_and_200() {
    let invite = req(INVITE);
    let d = Dialog::new_uas(&invite, &ok(&invite), &Transport::Udp).unwrap();
    assert_eq!(
        d.id(),
        &DialogId {
            call_id: "dlg-1@pbx".into(),
            local_tag: "gw1".into(),
            remote_tag: "pbx1".into()
        }
    );
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_seq(), Some(10));
    assert_eq!(d.local_seq(), None);
    assert_eq!(
        d.remote_target().to_string(),
        "sip:+4930123@192.0.2.10:5060;transport=udp"
    );
    let routes: Vec<_> = d.route_set().iter().map(ToString::to_string).collect();
    assert_eq!(
        routes,
        [
            "sip:edge.example.com;lr",
            "sip:core.example.com;lr",
            "sip:pbx-proxy.example.com;lr"
        ]
    );
    assert!(!d.secure());
    assert_eq!(
        d.local_contact().unwrap().to_string(),
        "<sip:gw@198.51.100.1:5060>"
    );
    assert!(d.matches(&in_dialog("BYE", 11, "")));
    let mut other = in_dialog("BYE", 11, "");
    other
        .headers
        .set("To", "<sip:support@gw.example.com>;tag=other");
    assert!(!d.matches(&other));
    // 180 with a tag makes an early dialog.
    let ringing = Response::reply(&invite, StatusCode::RINGING)
        .to_tag("gw1")
        .build();
    let early = Dialog::new_uas(&invite, &ringing, &Transport::Udp).unwrap();
    assert_eq!(early.state(), DialogState::Early);
    // Secure only over TLS with a SIPS Request-URI.
    let mut sips = invite.clone();
    sips.uri = Uri::parse("sips:support@gw.example.com").unwrap();
    assert!(
        Dialog::new_uas(&sips, &ok(&sips), &Transport::Tls)
            .unwrap()
            .secure()
    );
    assert!(
        !Dialog::new_uas(&sips, &ok(&sips), &Transport::Tcp)
            .unwrap()
            .secure()
    );
}

#[test]
fn dialog_creation_errors() {
    let invite = req(INVITE);
    let untagged = Response::reply(&invite, StatusCode::OK).build();
    assert_eq!(
        Dialog::new_uas(&invite, &untagged, &Transport::Udp),
        Err(DialogError::MissingTag)
    );
    for code in [100, 486] {
        let r = Response::reply(&invite, StatusCode::new(code).unwrap())
            .to_tag("x")
            .build();
        assert!(matches!(
            Dialog::new_uas(&invite, &r, &Transport::Udp),
            Err(DialogError::NotDialogCreating(_))
        ));
    }
    let mut no_contact = invite.clone();
    no_contact.headers.remove("Contact");
    let d = Dialog::new_uas(&no_contact, &ok(&invite), &Transport::Udp).unwrap();
    assert_eq!(
        d.remote_target().to_string(),
        "sip:+4930123@pbx.example.com"
    );
}

#[test]
fn bye_and_reinvite_are_built_from_the_dialog() {
    let invite = req(INVITE);
    let mut d = Dialog::new_uas(&invite, &ok(&invite), &Transport::Udp).unwrap();
    let bye = d.request(Method::Bye);
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(
        bye.uri.to_string(),
        "sip:+4930123@192.0.2.10:5060;transport=udp"
    );
    let routes: Vec<_> = bye
        .headers
        .get_all("Route")
        .map(|h| h.value_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        routes,
        [
            "<sip:edge.example.com;lr>",
            "<sip:core.example.com;lr>",
            "<sip:pbx-proxy.example.com;lr>"
        ]
    );
    let from = bye.headers.from_address().unwrap();
    assert_eq!(from.tag(), Some("gw1"));
    assert_eq!(from.uri.to_string(), "sip:support@gw.example.com");
    let to = bye.headers.to_address().unwrap();
    assert_eq!(to.tag(), Some("pbx1"));
    assert_eq!(to.display_name.as_deref(), Some("Alice"));
    assert_eq!(bye.headers.call_id().unwrap(), "dlg-1@pbx");
    assert_eq!(bye.headers.cseq().unwrap().to_string(), "1 BYE");
    assert_eq!(bye.headers.max_forwards(), Ok(Some(70)));
    assert!(!bye.headers.contains("Contact"), "no Contact in BYE");
    assert!(!bye.headers.contains("Via"), "the endpoint adds the Via");
    let reinvite = d.request(Method::Invite);
    assert_eq!(reinvite.headers.cseq().unwrap().to_string(), "2 INVITE");
    assert_eq!(
        reinvite.headers.value("Contact").unwrap(),
        "<sip:gw@198.51.100.1:5060>"
    );
    let ack = d.request(Method::Ack);
    assert_eq!(ack.headers.cseq().unwrap().to_string(), "2 ACK");
    let refer = d
        .request_builder(Method::Refer)
        .header("Refer-To", "<sip:agent@pbx.example.com>")
        .build();
    assert_eq!(refer.headers.cseq().unwrap().seq, 3);
    assert!(refer.headers.contains("Refer-To"));
}

#[test]
fn cseq_ordering_and_target_refresh() {
    let invite = req(INVITE);
    let mut set = DialogSet::new();
    let id = set.insert(Dialog::new_uas(&invite, &ok(&invite), &Transport::Udp).unwrap());
    // The ACK carries the INVITE's CSeq and is exempt.
    assert!(set.receive_request(&in_dialog("ACK", 10, "")).is_ok());
    assert!(set.receive_request(&in_dialog("INFO", 11, "")).is_ok());
    let e = set.receive_request(&in_dialog("INFO", 11, "")).unwrap_err();
    assert_eq!(e, DialogError::OutOfOrder { got: 11, last: 11 });
    assert_eq!(e.status(), StatusCode::SERVER_INTERNAL_ERROR);
    let e = set.receive_request(&in_dialog("BYE", 5, "")).unwrap_err();
    assert_eq!(e.status().code(), 500);
    assert_eq!(set.get(&id).unwrap().remote_seq(), Some(11));
    // A re-INVITE with a new Contact moves the remote target; INFO does not.
    set.receive_request(&in_dialog(
        "INFO",
        12,
        "Contact: <sip:elsewhere@192.0.2.99>\r\n",
    ))
    .unwrap();
    assert_eq!(
        set.get(&id).unwrap().remote_target().to_string(),
        "sip:+4930123@192.0.2.10:5060;transport=udp"
    );
    let d = set
        .receive_request(&in_dialog(
            "INVITE",
            13,
            "Contact: <sip:moved@192.0.2.20:5070>\r\n",
        ))
        .unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:moved@192.0.2.20:5070");
    assert_eq!(
        d.request(Method::Bye).uri.to_string(),
        "sip:moved@192.0.2.20:5070"
    );
    // Unknown dialog: 481.
    let mut stray = in_dialog("BYE", 20, "");
    stray.headers.set("Call-ID", "nope");
    let e = set.receive_request(&stray).unwrap_err();
    assert_eq!(e.status(), StatusCode::CALL_DOES_NOT_EXIST);
    assert_eq!(set.len(), 1);
    assert!(set.remove(&id).is_some());
    assert!(set.is_empty());
}

#[test]
fn strict_route_goes_in_the_request_uri() {
    let text = INVITE.replace(
        "Record-Route: <sip:edge.example.com;lr>, <sip:core.example.com;lr>\r\n",
        "Record-Route: <sip:strict.example.com;method=INVITE>, <sip:core.example.com;lr>\r\n",
    );
    let invite = req(&text);
    let mut d = Dialog::new_uas(&invite, &ok(&invite), &Transport::Udp).unwrap();
    let bye = d.request(Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:strict.example.com");
    let routes: Vec<_> = bye
        .headers
        .get_all("Route")
        .map(|h| h.value_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        routes,
        [
            "<sip:core.example.com;lr>",
            "<sip:pbx-proxy.example.com;lr>",
            "<sip:+4930123@192.0.2.10:5060;transport=udp>"
        ]
    );
}

#[test]
fn uac_dialog_reverses_the_route_set() {
    let invite = req(INVITE);
    let mut resp = ok(&invite);
    resp.headers.set(
        "Record-Route",
        "<sip:a.example.com;lr>, <sip:b.example.com;lr>",
    );
    let mut d = Dialog::new_uac(&invite, &resp).unwrap();
    assert_eq!(d.id().local_tag, "pbx1");
    assert_eq!(d.id().remote_tag, "gw1");
    assert_eq!(DialogId::of_uac_response(&resp).as_ref(), Some(d.id()));
    assert_eq!(d.remote_target().to_string(), "sip:gw@198.51.100.1:5060");
    let routes: Vec<_> = d.route_set().iter().map(ToString::to_string).collect();
    assert_eq!(routes, ["sip:b.example.com;lr", "sip:a.example.com;lr"]);
    assert_eq!(d.request(Method::Bye).headers.cseq().unwrap().seq, 11);
    assert_eq!(DialogId::of_uas_response(&resp).unwrap().local_tag, "gw1");
}
