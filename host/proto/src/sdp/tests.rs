//! Parser, printer and negotiation tests on hand-written descriptions.

use super::*;
use crate::codec::Codec;

fn sd(text: &str) -> SessionDescription {
    SessionDescription::parse(text.as_bytes()).unwrap()
}

fn caps() -> MediaCapabilities {
    MediaCapabilities::new("203.0.113.7".parse().unwrap(), 30000, 9)
}

const FULL: &str = "v=0\r\n\
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n\
s=SDP Seminar\r\n\
i=A Seminar on the session description protocol\r\n\
u=http://www.example.com/seminars/sdp.pdf\r\n\
e=j.doe@example.com (Jane Doe)\r\n\
p=+1 617 555-6011\r\n\
c=IN IP4 224.2.17.12/127\r\n\
b=CT:128\r\n\
t=2873397496 2873404696\r\n\
r=7d 1h 0 25h\r\n\
z=2882844526 -1h 2898848070 0\r\n\
k=prompt\r\n\
a=recvonly\r\n\
a=tool:voxgate-test\r\n\
m=audio 49170 RTP/AVP 0\r\n\
i=voice\r\n\
b=AS:64\r\n\
a=x-custom:with: colons\r\n\
m=video 51372/2 RTP/AVP 99\r\n\
c=IN IP6 FF15::101/3\r\n\
c=IN IP6 2001:db8::5\r\n\
k=clear:abc\r\n\
a=rtpmap:99 h263-1998/90000\r\n\
a=fmtp:99 profile=0; level=10\r\n";

#[test]
fn rfc4566_example_with_every_line_type_round_trips() {
    let s = sd(FULL);
    assert_eq!(s.origin.session_version, 2890842807);
    assert_eq!(s.origin.username, "jdoe");
    assert_eq!(s.connection.as_ref().unwrap().ttl, Some(127));
    assert_eq!(s.times[0].repeats, ["7d 1h 0 25h"]);
    assert_eq!(s.direction(), Some(Direction::RecvOnly));
    assert_eq!(s.media.len(), 2);
    let v = &s.media[1];
    assert_eq!((v.port, v.port_count), (51372, Some(2)));
    assert_eq!(v.connections.len(), 2);
    assert_eq!(v.connections[0].count, Some(3));
    assert_eq!(v.connections[1].ip(), Some("2001:db8::5".parse().unwrap()));
    assert_eq!(v.fmtp("99"), Some("profile=0; level=10"));
    assert_eq!(
        s.media[0].attributes,
        [Attribute::other("x-custom", Some("with: colons"))]
    );
    // Printing gives the same text (this example is already canonical) and it
    // parses back to the same value.
    assert_eq!(s.to_string(), FULL);
    assert_eq!(sd(&s.to_string()), s);
}

#[test]
fn lenient_where_harmless() {
    // LF line ends, a blank line, trailing spaces, no t= line, odd attribute values.
    let s = sd("v=0\n\
        o=- 1 1 IN IP4 h.example.com\n\
        s= \n\
        \n\
        c=IN IP4 pbx.example.com\n\
        m=audio 5004 RTP/AVP 0 8\n\
        a=rtpmap:0 PCMU/8000 \n\
        a=ptime:20.5\n\
        a=rtpmap:bad\n\
        a=sendrecv:x\n\
        a=rtcp-mux\n");
    assert_eq!(s.times, [Timing::default()]);
    assert_eq!(s.session_name, "");
    assert_eq!(s.connection.as_ref().unwrap().ip(), None);
    let m = &s.media[0];
    assert!(m.rtpmap(0).is_some());
    assert_eq!(m.ptime(), None);
    assert_eq!(m.attributes[1], Attribute::other("ptime", Some("20.5")));
    assert_eq!(m.direction(), None);
    assert!(m.has_attribute("rtcp-mux"));
    assert_eq!(sd(&s.to_string()), s);
}

#[test]
fn strict_where_it_matters() {
    let bad = [
        ("", SdpError::Empty),
        ("\r\n\r\n", SdpError::Empty),
        (
            "v=1\r\n",
            SdpError::Syntax {
                line: 1,
                what: "only SDP version 0 is known",
            },
        ),
        (
            "o=- 1 1 IN IP4 a\r\n",
            SdpError::Syntax {
                line: 1,
                what: "the first line must be v=",
            },
        ),
        ("v=0\r\ns=x\r\n", SdpError::MissingLine('o')),
        ("v=0\r\no=- 1 1 IN IP4 a\r\n", SdpError::MissingLine('s')),
    ];
    for (text, err) in bad {
        assert_eq!(
            SessionDescription::parse(text.as_bytes()),
            Err(err),
            "{text:?}"
        );
    }
    let base = "v=0\r\no=- 1 1 IN IP4 a\r\ns=x\r\n";
    for extra in [
        "c=IN IP4 ::1\r\n",
        "c=IN IP6 192.0.2.1\r\n",
        "c=IN IP4 1.2.3.4/abc\r\n",
        "c=IN IP6 ff::1/1/2\r\n",
        "c=ATM NSAP 1\r\n",
        "c=IN IP4\r\n",
        "c=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.5\r\n",
        "m=audio 70000 RTP/AVP 0\r\n",
        "m=audio 5004 RTP/AVP\r\n",
        "m=audio x RTP/AVP 0\r\n",
        "t=0\r\n",
        "r=1\r\n",
        "b=AS\r\n",
        "x=1\r\n",
        "A=1\r\n",
        "a=\r\n",
        "v=0\r\n",
        "o=- 1 1 IN IP4 a\r\n",
        "m=audio 1 RTP/AVP 0\r\nt=0 0\r\n",
        "o=- 1 x IN IP4 a\r\n",
        "a=ok\rbad\r\n",
        "a=nul\0\r\n",
    ] {
        let text = format!("{base}{extra}");
        assert!(
            matches!(
                SessionDescription::parse(text.as_bytes()),
                Err(SdpError::Syntax { .. })
            ),
            "{extra:?} accepted"
        );
    }
    assert_eq!(SessionDescription::parse(&[0xFF]), Err(SdpError::NotUtf8));
    let huge = vec![b'a'; MAX_SDP_SIZE + 1];
    assert!(matches!(
        SessionDescription::parse(&huge),
        Err(SdpError::TooLarge { .. })
    ));
}

const OFFER: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\n\
s=-\r\n\
c=IN IP4 192.0.2.1\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 97 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:97 iLBC/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n\
m=video 51372 RTP/AVP 31\r\n\
a=rtpmap:31 H261/90000\r\n";

#[test]
fn answer_picks_first_supported_codec_and_rejects_video() {
    let neg = answer(&sd(OFFER), &caps()).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.payload_type, 0);
    assert_eq!(neg.clock_rate, 8000);
    assert_eq!(neg.ptime, 20);
    assert_eq!(neg.telephone_event, Some(101));
    assert_eq!(neg.telephone_events.as_deref(), Some("0-15"));
    assert_eq!(neg.direction, Direction::SendRecv);
    assert!(!neg.remote_hold);
    assert_eq!(neg.media_index, 0);
    assert_eq!(neg.remote_rtp(), Some("192.0.2.1:49170".parse().unwrap()));
    assert_eq!(neg.remote_rtcp(), Some("192.0.2.1:49171".parse().unwrap()));
    let text = neg.answer().to_string();
    assert_eq!(
        text,
        "v=0\r\n\
         o=voxgate 9 1 IN IP4 203.0.113.7\r\n\
         s=voxgate\r\n\
         c=IN IP4 203.0.113.7\r\n\
         t=0 0\r\n\
         m=audio 30000 RTP/AVP 0 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-15\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n\
         m=video 0 RTP/AVP 31\r\n"
    );
    // The answer is itself valid SDP.
    assert_eq!(sd(&text), *neg.answer());
}

#[test]
fn answer_honours_local_codec_set_and_dynamic_mappings() {
    let mut local = caps();
    local.codecs = vec![Codec::Pcma];
    let neg = answer(&sd(OFFER), &local).unwrap();
    assert_eq!((neg.codec, neg.payload_type), (Codec::Pcma, 8));
    // PCMU offered under a dynamic payload type.
    let dynamic = OFFER
        .replace("a=rtpmap:97 iLBC/8000", "a=rtpmap:97 pcmu/8000")
        .replace(
            "m=audio 49170 RTP/AVP 0 8 97 101",
            "m=audio 49170 RTP/AVP 97 101",
        );
    let neg = answer(&sd(&dynamic), &caps()).unwrap();
    assert_eq!((neg.codec, neg.payload_type), (Codec::Pcmu, 97));
    // An rtpmap that contradicts the static table wins.
    let remapped = OFFER
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 G729/8000")
        .replace(
            "m=audio 49170 RTP/AVP 0 8 97 101",
            "m=audio 49170 RTP/AVP 0 8",
        );
    assert_eq!(answer(&sd(&remapped), &caps()).unwrap().codec, Codec::Pcma);
    // Without telephone-event locally, none is answered.
    let mut local = caps();
    local.telephone_event = false;
    let neg = answer(&sd(OFFER), &local).unwrap();
    assert_eq!(neg.telephone_event, None);
    assert!(!neg.answer().to_string().contains("telephone-event"));
}

#[test]
fn answer_errors() {
    let g729 = OFFER.replace(
        "m=audio 49170 RTP/AVP 0 8 97 101",
        "m=audio 49170 RTP/AVP 18 97",
    );
    let e = answer(&sd(&g729), &caps()).unwrap_err();
    assert_eq!(e, SdpError::NoCommonCodec);
    assert_eq!(e.sip_status(), 488);
    let srtp = OFFER.replace("RTP/AVP 0 8 97 101", "RTP/SAVP 0 8 97 101");
    assert_eq!(answer(&sd(&srtp), &caps()), Err(SdpError::NoUsableStream));
    let video_only =
        "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5 RTP/AVP 31\r\n";
    assert_eq!(
        answer(&sd(video_only), &caps()),
        Err(SdpError::NoUsableStream)
    );
    let no_c = OFFER.replace("c=IN IP4 192.0.2.1\r\n", "");
    let e = answer(&sd(&no_c), &caps()).unwrap_err();
    assert_eq!(e, SdpError::MissingConnection(0));
    assert_eq!(e.sip_status(), 400);
    let fqdn = OFFER.replace("c=IN IP4 192.0.2.1", "c=IN IP4 pbx.example.com");
    assert_eq!(
        answer(&sd(&fqdn), &caps()),
        Err(SdpError::UnresolvedAddress("pbx.example.com".into()))
    );
}

#[test]
fn answer_directions_and_hold() {
    let cases = [
        ("a=sendrecv", Direction::SendRecv, false),
        ("a=sendonly", Direction::RecvOnly, true),
        ("a=recvonly", Direction::SendOnly, false),
        ("a=inactive", Direction::Inactive, true),
    ];
    for (attr, ours, hold) in cases {
        let offer = OFFER.replace("a=sendrecv", attr);
        let neg = answer(&sd(&offer), &caps()).unwrap();
        assert_eq!((neg.direction, neg.remote_hold), (ours, hold), "{attr}");
        assert_eq!(neg.answer().media[0].direction(), Some(ours));
        assert_eq!(neg.remote_rtp().is_some(), ours.sends());
    }
    // RFC 2543 hold: c=0.0.0.0 with sendrecv.
    let old_hold = OFFER.replace("c=IN IP4 192.0.2.1", "c=IN IP4 0.0.0.0");
    let neg = answer(&sd(&old_hold), &caps()).unwrap();
    assert!(neg.remote_hold);
    assert_eq!(neg.direction, Direction::RecvOnly);
    assert_eq!(neg.remote_rtp(), None);
    assert_eq!(neg.remote_rtcp(), None);
    // Session-level direction applies when the media has none.
    let session_level = OFFER
        .replace("a=sendrecv\r\n", "")
        .replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
    assert!(answer(&sd(&session_level), &caps()).unwrap().remote_hold);
    // We hold the caller: our sendonly meets their sendrecv.
    let mut local = caps();
    local.direction = Direction::SendOnly;
    assert_eq!(
        answer(&sd(OFFER), &local).unwrap().direction,
        Direction::SendOnly
    );
}

#[test]
fn answer_ptime_rtcp_and_media_level_connection() {
    let offer = OFFER
        .replace(
            "a=ptime:20",
            "a=ptime:30\r\na=maxptime:40\r\na=rtcp:53020 IN IP4 198.51.100.2",
        )
        .replace(
            "m=audio 49170 RTP/AVP 0 8 97 101\r\n",
            "m=audio 49170 RTP/AVP 0 8 97 101\r\nc=IN IP4 198.51.100.1\r\n",
        );
    let neg = answer(&sd(&offer), &caps()).unwrap();
    assert_eq!(neg.ptime, 30);
    assert!(neg.answer().to_string().contains("a=ptime:30\r\n"));
    assert_eq!(
        neg.remote_rtp(),
        Some("198.51.100.1:49170".parse().unwrap())
    );
    assert_eq!(neg.remote_rtcp, "198.51.100.2:53020".parse().unwrap());
    let no_ptime = OFFER.replace("a=ptime:20\r\n", "");
    assert_eq!(answer(&sd(&no_ptime), &caps()).unwrap().ptime, 20);
}

#[test]
fn telephone_event_variants() {
    // 0-16 offered: answered 0-16; no fmtp: 0-15 assumed; 48 kHz event: ignored.
    let t = |fmtp: &str| {
        let offer = OFFER.replace("a=fmtp:101 0-15\r\n", fmtp);
        let neg = answer(&sd(&offer), &caps()).unwrap();
        (neg.telephone_event, neg.telephone_events)
    };
    assert_eq!(t("a=fmtp:101 0-16\r\n"), (Some(101), Some("0-16".into())));
    assert_eq!(t(""), (Some(101), Some("0-15".into())));
    assert_eq!(
        t("a=fmtp:101 0-15,32-49\r\n"),
        (Some(101), Some("0-15".into()))
    );
    assert_eq!(t("a=fmtp:101 32-49\r\n"), (None, None));
    let wideband = OFFER.replace("telephone-event/8000", "telephone-event/48000");
    assert_eq!(
        answer(&sd(&wideband), &caps()).unwrap().telephone_event,
        None
    );
}

#[test]
fn reanswer_keeps_version_when_unchanged_and_bumps_it_on_change() {
    let mut n = Negotiator::new(caps());
    let first = n.answer(&sd(OFFER)).unwrap();
    assert_eq!(first.answer().origin.session_version, 1);
    // Session refresh: same offer, same answer, same version.
    let again = n.answer(&sd(OFFER)).unwrap();
    assert_eq!(again.answer().origin.session_version, 1);
    assert!(!again.changes_from(&first).any());
    // Hold.
    let hold = n
        .answer(&sd(&OFFER.replace("a=sendrecv", "a=sendonly")))
        .unwrap();
    assert_eq!(hold.answer().origin.session_version, 2);
    let ch = hold.changes_from(&again);
    assert!(ch.hold_started && ch.direction_changed && !ch.codec_changed);
    // Resume with a codec change and a new address.
    let resumed = OFFER
        .replace("RTP/AVP 0 8 97 101", "RTP/AVP 8 0 101")
        .replace("c=IN IP4 192.0.2.1", "c=IN IP4 192.0.2.99");
    let res = n.answer(&sd(&resumed)).unwrap();
    assert_eq!(res.answer().origin.session_version, 3);
    let ch = res.changes_from(&hold);
    assert!(ch.hold_ended && ch.codec_changed && ch.remote_changed);
    assert_eq!(res.codec, Codec::Pcma);
    // A failed re-offer leaves everything as it was.
    let bad = OFFER.replace("RTP/AVP 0 8 97 101", "RTP/AVP 18");
    assert_eq!(n.answer(&sd(&bad)), Err(SdpError::NoCommonCodec));
    assert_eq!(n.current(), Some(&res));
}

#[test]
fn our_offers_for_hold_and_resume() {
    let mut n = Negotiator::new(caps());
    let first = n.answer(&sd(OFFER)).unwrap();
    n.capabilities_mut().direction = Direction::SendOnly;
    let offer = n.create_offer();
    assert_eq!(offer.origin.session_version, 2);
    // m= count kept, video still disabled, current codec first, our direction.
    assert_eq!(offer.media.len(), 2);
    assert_eq!(offer.media[1].port, 0);
    let audio = &offer.media[0];
    assert_eq!(audio.formats, ["0", "9", "8", "101"]);
    assert_eq!(audio.direction(), Some(Direction::SendOnly));
    assert_eq!(audio.fmtp("101"), Some("0-16"));
    // The peer answers recvonly.
    let ans = sd(&OFFER
        .replace("a=sendrecv", "a=recvonly")
        .replace("RTP/AVP 0 8 97 101", "RTP/AVP 0 101")
        .replace("m=video 51372 RTP/AVP 31", "m=video 0 RTP/AVP 31"));
    let held = n.accept_answer(&ans).unwrap();
    assert_eq!(held.direction, Direction::SendOnly);
    assert_eq!(held.codec, Codec::Pcmu);
    assert!(!held.remote_hold);
    assert_eq!(held.local_sdp, offer);
    assert!(held.changes_from(&first).direction_changed);
    // Without a pending offer an answer is an error.
    assert_eq!(n.accept_answer(&ans), Err(SdpError::NoPendingOffer));
    // Resume; the peer rejects it (488) and we cancel.
    n.capabilities_mut().direction = Direction::SendRecv;
    let resume = n.create_offer();
    assert_eq!(resume.origin.session_version, 3);
    n.cancel_offer();
    assert_eq!(n.current(), Some(&held));
    // The retry uses a new version.
    let retry = n.create_offer();
    assert_eq!(retry.origin.session_version, 4);
    // Mismatched answers.
    assert_eq!(
        n.accept_answer(&sd(
            &OFFER.replace("m=video 51372 RTP/AVP 31\r\na=rtpmap:31 H261/90000\r\n", "")
        )),
        Err(SdpError::AnswerMismatch("number of m= lines differs"))
    );
    let rejected = OFFER.replace("m=audio 49170", "m=audio 0");
    assert_eq!(
        n.accept_answer(&sd(&rejected)),
        Err(SdpError::NoCommonCodec)
    );
}

#[test]
fn initial_offer_from_voxgate() {
    let mut n = Negotiator::new(caps());
    let offer = n.create_offer();
    let text = offer.to_string();
    assert!(
        text.contains("m=audio 30000 RTP/AVP 9 0 8 101\r\n"),
        "{text}"
    );
    assert!(text.contains("a=rtpmap:9 G722/8000\r\n"));
    assert!(text.contains("a=ptime:20\r\na=sendrecv\r\n"));
    // A peer answering G.722.
    let ans = sd(
        "v=0\r\no=- 5 5 IN IP6 2001:db8::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\n\
        m=audio 7078 RTP/AVP 9 101\r\na=rtpmap:101 telephone-event/8000\r\n",
    );
    let neg = n.accept_answer(&ans).unwrap();
    assert_eq!(neg.codec, Codec::G722);
    assert_eq!(neg.telephone_event, Some(101));
    assert_eq!(neg.telephone_events.as_deref(), Some("0-15"));
    assert_eq!(
        neg.remote_rtp(),
        Some("[2001:db8::2]:7078".parse().unwrap())
    );
}

#[test]
fn ipv6_answer() {
    let offer = OFFER.replace("IN IP4 192.0.2.1", "IN IP6 2001:db8::1");
    let local = MediaCapabilities::new("2001:db8::7".parse().unwrap(), 30000, 1);
    let neg = answer(&sd(&offer), &local).unwrap();
    let text = neg.answer().to_string();
    assert!(text.contains("o=voxgate 1 1 IN IP6 2001:db8::7\r\n"));
    assert!(text.contains("c=IN IP6 2001:db8::7\r\n"));
    assert_eq!(
        neg.remote_rtp(),
        Some("[2001:db8::1]:49170".parse().unwrap())
    );
}
