//! One SDP body: parse; on success the printed form parses back to the same value
//! and prints identically; then negotiate it as an initial offer, as a re-offer
//! and as the answer to our own offer. Every description we build must parse.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use voxgate_proto::codec::Codec;
use voxgate_proto::sdp::{self, MediaCapabilities, Negotiator, SessionDescription};

/// Our own SDP (answer or offer) must be a valid description.
fn check_ours(sd: &SessionDescription, what: &str) {
    let printed = sd.to_bytes();
    if printed.len() > sdp::MAX_SDP_SIZE {
        return;
    }
    match SessionDescription::parse(&printed) {
        Ok(back) => assert!(
            back == *sd,
            "{what} changes when printed and parsed\n{}",
            String::from_utf8_lossy(&printed)
        ),
        Err(e) => panic!(
            "{what} does not parse: {e:?}\n{}",
            String::from_utf8_lossy(&printed)
        ),
    }
}

fn caps(address: IpAddr, narrow: bool) -> MediaCapabilities {
    let mut c = MediaCapabilities::new(address, 20000, 42);
    if narrow {
        c.codecs = vec![Codec::Pcma];
        c.telephone_event = false;
        c.ptime = 30;
    }
    c
}

fuzz_target!(|data: &[u8]| {
    let Ok(sd) = SessionDescription::parse(data) else {
        return;
    };

    let printed = sd.to_bytes();
    if printed.len() <= sdp::MAX_SDP_SIZE {
        let back = match SessionDescription::parse(&printed) {
            Ok(b) => b,
            Err(e) => panic!(
                "printed description does not parse: {e:?}\n{}",
                String::from_utf8_lossy(&printed)
            ),
        };
        assert!(
            back == sd,
            "printed description parses to a different value\n--- printed ---\n{}\n--- before ---\n{sd:#?}\n--- after ---\n{back:#?}",
            String::from_utf8_lossy(&printed)
        );
        assert_eq!(back.to_bytes(), printed, "printing is not stable");
    }
    let _ = sd.direction();
    for i in 0..sd.media.len() {
        let _ = sd.connection_for(i);
        let _ = sd.direction_for(i);
        if let Some(m) = sd.media.get(i) {
            for pt in m.payload_types() {
                let _ = m.rtpmap(pt);
            }
            let _ = (m.ptime(), m.maxptime(), m.direction(), m.rtcp());
        }
    }

    let v4 = caps(IpAddr::from([198, 51, 100, 5]), false);
    let v6 = caps(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 5]), true);
    for local in [&v4, &v6] {
        // Initial offer.
        let first = match sdp::answer(&sd, local) {
            Ok(neg) => {
                check_ours(neg.answer(), "answer");
                let _ = (neg.remote_rtp(), neg.remote_rtcp(), neg.can_receive());
                Some(neg)
            }
            Err(e) => {
                let _ = e.sip_status();
                None
            }
        };

        // Re-INVITE: the same description offered again, then our own re-offer
        // (hold), answered with the fuzzed description.
        let mut n = Negotiator::new(local.clone());
        if n.answer(&sd).is_ok() {
            if let Ok(again) = n.answer(&sd) {
                check_ours(again.answer(), "answer to a re-offer");
                if let Some(prev) = &first {
                    let _ = again.changes_from(prev).any();
                }
            }
            n.capabilities_mut().direction = sdp::Direction::SendOnly;
            let offer = n.create_offer();
            check_ours(&offer, "re-offer");
            if n.accept_answer(&sd).is_err() {
                n.cancel_offer();
            }
            check_ours(&n.create_offer(), "offer after an exchange");
        }

        // Our initial offer (voxgate calling out), answered with the input.
        let mut out = Negotiator::new(local.clone());
        let offer = out.create_offer();
        check_ours(&offer, "initial offer");
        if let Ok(neg) = out.accept_answer(&sd) {
            let _ = (neg.remote_rtp(), neg.can_send());
        }
    }
});
