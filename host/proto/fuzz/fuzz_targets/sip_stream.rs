//! A TCP byte stream: the first byte picks where the rest is cut into two reads.
//! The events must not depend on the cut: reading the stream in two pieces gives
//! the same messages, keep-alives and error as reading it whole, with the default
//! limits and with small ones. Framed messages round-trip like datagrams.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxgate_proto::sip::{Limits, ParseError, StreamEvent, StreamFramer};

mod common;

/// Bounds the events drained from one push (each consumes at least two bytes, so
/// this is never reached; it keeps a framer bug from hanging the fuzzer).
const MAX_EVENTS: usize = 1 << 16;

fn drain(framer: &mut StreamFramer, out: &mut Vec<StreamEvent>) -> Option<ParseError> {
    for _ in 0..MAX_EVENTS {
        match framer.next_event() {
            Ok(Some(ev)) => out.push(ev),
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
    panic!("framer produced {MAX_EVENTS} events from one read");
}

/// `TooLarge::size` is documented as a lower bound on a stream: how much was seen
/// when the framer gave up may depend on the reads.
fn normalise(e: ParseError) -> ParseError {
    match e {
        ParseError::TooLarge { limit, .. } => ParseError::TooLarge { size: 0, limit },
        e => e,
    }
}

/// Frames `stream` read whole and read in two pieces cut at `at`, checks that the
/// outcomes agree, and returns the events of the whole read.
fn compare(limits: Limits, stream: &[u8], at: usize) -> Vec<StreamEvent> {
    let (first, second) = stream.split_at(at.min(stream.len()));

    let mut split = StreamFramer::new(limits);
    let mut split_events = Vec::new();
    split.push(first);
    let mut split_err = drain(&mut split, &mut split_events);
    if split_err.is_none() {
        split.push(second);
        split_err = drain(&mut split, &mut split_events);
    }

    let mut whole = StreamFramer::new(limits);
    let mut whole_events = Vec::new();
    whole.push(stream);
    let whole_err = drain(&mut whole, &mut whole_events);

    assert_eq!(
        split_events, whole_events,
        "events depend on where the stream is cut at {at} ({limits:?})"
    );
    match (split_err.map(normalise), whole_err.clone().map(normalise)) {
        (a, b) if a == b => {}
        (a, b) => panic!(
            "framing error depends on where the stream is cut at {at} ({limits:?}): \
             in two reads {a:?}, whole {b:?}"
        ),
    }
    if whole_err.is_none() {
        assert_eq!(
            split.buffered(),
            whole.buffered(),
            "buffered bytes differ (cut at {at}, {limits:?})"
        );
    }
    whole_events
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let at = usize::from(cut) * stream.len() / 255;

    let events = compare(Limits::default(), stream, at);
    // Small limits, so that inputs of the fuzzer's size reach the size and
    // header-count checks too.
    let small = Limits {
        max_message_size: 600,
        max_headers: 12,
    };
    compare(small, stream, at);

    for ev in &events {
        if let StreamEvent::Message {
            parsed: Ok(msg), ..
        } = ev
        {
            common::check_accessors(msg);
            common::check_round_trip(msg);
        }
    }
});
