//! One UDP datagram: parse, lint, accessors, body, and the print/re-parse round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_proto::sip::{self, Message};

mod common;

fuzz_target!(|data: &[u8]| {
    let _ = sip::lint(data);
    let Ok(msg) = sip::parse_datagram(data) else {
        return;
    };
    common::check_accessors(&msg);
    common::check_body(&msg);
    if let Message::Request(req) = &msg {
        common::check_lint_response(req);
    }
    common::check_round_trip(&msg);
});
