//! Unit tests over the RFC 4475 / RFC 5118 corpus: round trips, spot checks of the
//! parsed values, stream framing, and a deterministic no-panic sweep standing in
//! for the fuzz target until it exists.

use std::path::PathBuf;

use super::*;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = manifest_dir().join("../../../shared/conformance/sip-torture");
    let mut out = Vec::new();
    for sub in ["rfc4475", "rfc5118"] {
        let rd = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("SIP torture corpus missing at {}: {e}", dir.display()));
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = format!("{sub}/{}", f.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read(&f).unwrap()));
        }
    }
    assert_eq!(out.len(), 61, "corpus should hold 61 messages");
    out
}

fn message(name: &str) -> Message {
    let (_, bytes) = corpus().into_iter().find(|(n, _)| n == name).unwrap();
    parse_datagram(&bytes).unwrap()
}

fn without_length(h: &Headers) -> Vec<Header> {
    h.iter()
        .filter(|h| h.name != HeaderName::ContentLength)
        .cloned()
        .collect()
}

#[test]
fn round_trip_every_parseable_message() {
    let mut parsed = 0;
    for (name, bytes) in corpus() {
        let Ok(first) = parse_datagram(&bytes) else {
            continue;
        };
        parsed += 1;
        let printed = first.to_bytes();
        let second = parse_datagram(&printed).unwrap_or_else(|e| panic!("{name}: reparse: {e}"));
        assert_eq!(second.to_bytes(), printed, "{name}: printing is not stable");
        assert_eq!(second.body(), first.body(), "{name}");
        assert_eq!(
            without_length(second.headers()),
            without_length(first.headers()),
            "{name}"
        );
        match (&first, &second) {
            (Message::Request(a), Message::Request(b)) => {
                assert_eq!(
                    (&a.method, &a.uri, a.version),
                    (&b.method, &b.uri, b.version)
                );
            }
            (Message::Response(a), Message::Response(b)) => {
                assert_eq!((a.status, &a.reason), (b.status, &b.reason));
            }
            _ => panic!("{name}: kind changed"),
        }
        // Typed views survive printing too.
        let h = (first.headers(), second.headers());
        assert_eq!(h.0.vias().ok(), h.1.vias().ok(), "{name}");
        assert_eq!(h.0.from_address().ok(), h.1.from_address().ok(), "{name}");
        assert_eq!(h.0.to_address().ok(), h.1.to_address().ok(), "{name}");
        assert_eq!(h.0.contacts().ok(), h.1.contacts().ok(), "{name}");
        // And so does the verdict.
        assert_eq!(
            lint(&printed).to_string(),
            lint(&bytes).to_string(),
            "{name}"
        );
    }
    assert!(parsed >= 40, "only {parsed} corpus messages parsed");
}

#[test]
fn whitespace_and_folding_torture() {
    let Message::Request(r) = message("rfc4475/wsinv.dat") else {
        panic!()
    };
    let h = &r.headers;
    assert_eq!(h.max_forwards(), Ok(Some(68)));
    assert_eq!(h.cseq().unwrap().seq, 9);
    assert_eq!(h.to_address().unwrap().tag(), Some("1918181833n"));
    let from = h.from_address().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(from.tag(), Some("98asjd8"));
    let vias = h.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(h.value(HeaderName::Subject).unwrap(), "");
    assert_eq!(
        h.value("NewFangledHeader").unwrap(),
        "newfangled value continued newfangled value"
    );
    let ContactList::Addresses(c) = h.contacts().unwrap() else {
        panic!()
    };
    assert_eq!(c[0].display_name.as_deref(), Some("Quoted string \"\""));
    assert_eq!(c[0].params.value("q"), Some("0.33"));
    assert_eq!(r.body.len(), 150);
}

#[test]
fn long_and_unusual_values() {
    let m = message("rfc4475/longreq.dat");
    assert_eq!(m.headers().vias().unwrap().len(), 34);
    let Message::Request(r) = message("rfc4475/intmeth.dat") else {
        panic!()
    };
    assert_eq!(
        r.method.as_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    let to = r.headers.to_address().unwrap();
    assert_eq!(to.display_name.as_deref(), Some("BEL:\x07 NUL:\0 DEL:\x7f"));
    let from = r.headers.from_address().unwrap();
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert!(
        from.params
            .get("fromParam''~+*_!.-%")
            .unwrap()
            .unquoted()
            .unwrap()
            .starts_with('\u{440}')
    );
    let Message::Request(r) = message("rfc4475/esc01.dat") else {
        panic!()
    };
    let ContactList::Addresses(c) = r.headers.contacts().unwrap() else {
        panic!()
    };
    let uri = c[0].uri.as_sip().unwrap();
    assert_eq!(uri.user_unescaped().unwrap(), b"caller");
    assert_eq!(uri.params.value("n%61me"), Some("v%61lue%25%34%31"));
    let Message::Request(r) = message("rfc4475/esc02.dat") else {
        panic!()
    };
    assert_eq!(r.headers.count(HeaderName::Contact), 2);
    assert_eq!(r.headers.count("C%6Fntact"), 1);
}

#[test]
fn rfc5118_values() {
    let Message::Request(r) = message("rfc5118/port-ambiguous") else {
        panic!()
    };
    let u = r.uri.as_sip().unwrap();
    assert_eq!(u.host, Host::Ipv6("2001:db8::10:5070".parse().unwrap()));
    assert_eq!(u.port, None);
    let m = message("rfc5118/mult-ip-in-header");
    let vias = m.headers().vias().unwrap();
    assert_eq!(vias[0].port, Some(6050));
    assert_eq!(vias[2].received(), Some("192.0.2.200".parse().unwrap()));
    for f in [
        "rfc5118/via-received-param-with-delim",
        "rfc5118/via-received-param-no-delim",
    ] {
        let v = message(f).headers().top_via().unwrap();
        assert_eq!(
            v.received(),
            Some("2001:db8::9:255".parse().unwrap()),
            "{f}"
        );
    }
    let v = message("rfc5118/ipv4-mapped-ipv6")
        .headers()
        .top_via()
        .unwrap();
    assert_eq!(v.host, Host::Ipv6("::ffff:192.0.2.10".parse().unwrap()));
    assert_eq!(v.port, Some(19823));
}

#[test]
fn stream_framing_of_corpus_messages() {
    for (name, bytes) in corpus() {
        let Ok(m) = parse_datagram(&bytes) else {
            continue;
        };
        // Printed form has an exact Content-Length, as a stream needs.
        let one = m.to_bytes();
        let m = parse_datagram(&one).unwrap();
        let stream = [&one[..], &one[..]].concat();
        for split in (0..=stream.len()).step_by(7) {
            let mut f = StreamFramer::default();
            let mut got = Vec::new();
            for chunk in [&stream[..split], &stream[split..]] {
                f.push(chunk);
                while let Some(ev) = f.next_event().unwrap() {
                    got.push(ev);
                }
            }
            assert_eq!(got.len(), 2, "{name} split at {split}");
            for ev in got {
                let StreamEvent::Message { raw, parsed } = ev else {
                    panic!("{name}: unexpected keep-alive")
                };
                assert_eq!(raw, one, "{name}");
                assert_eq!(parsed.as_ref(), Ok(&m), "{name}");
            }
        }
    }
    // The RFC 2543 INVITE has no Content-Length: fine on UDP, fatal on TCP.
    let (_, inv2543) = corpus()
        .into_iter()
        .find(|(n, _)| n == "rfc4475/inv2543.dat")
        .unwrap();
    let mut f = StreamFramer::default();
    f.push(&inv2543);
    assert_eq!(f.next_event(), Err(ParseError::MissingContentLength));
    // Negative and conflicting lengths close the connection.
    for name in ["rfc4475/ncl.dat", "rfc4475/mcl01.dat"] {
        let (_, b) = corpus().into_iter().find(|(n, _)| n == name).unwrap();
        let mut f = StreamFramer::default();
        f.push(&b);
        assert!(f.next_event().unwrap_err().is_fatal_for_stream(), "{name}");
    }
}

/// Stand-in for the fuzz target: every prefix of every corpus message, and every
/// byte replaced by a few troublesome values, through every entry point.
#[test]
fn no_input_panics() {
    const REPLACEMENTS: [u8; 8] = [0x00, b' ', b'\r', b'\n', b':', b'"', b'<', 0xff];
    // lint runs parse_datagram and then every typed accessor it needs.
    let run = |input: &[u8], stream: bool| {
        let _ = lint(input);
        if stream {
            let mut f = StreamFramer::default();
            f.push(input);
            while let Ok(Some(_)) = f.next_event() {}
        }
    };
    for (_, bytes) in corpus() {
        for len in 0..=bytes.len() {
            run(&bytes[..len], true);
        }
        let mut m = bytes.clone();
        for i in 0..m.len() {
            let orig = m[i];
            for r in REPLACEMENTS.into_iter().chain([orig ^ 0x20]) {
                m[i] = r;
                run(&m, matches!(r, b'\r' | b'\n' | b':'));
            }
            m[i] = orig;
        }
    }
    // The whole corpus as one stream, in uneven chunks.
    let all: Vec<u8> = corpus().into_iter().flat_map(|(_, b)| b).collect();
    let mut f = StreamFramer::default();
    for chunk in all.chunks(97) {
        f.push(chunk);
        while let Ok(Some(_)) = f.next_event() {}
    }
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
