//! What a gateway on the open network gets: malformed datagrams and streams, methods it
//! does not serve, calls it must refuse. voxgate answers what can be answered, drops
//! what cannot, and keeps serving: a normal call succeeds right after.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use support::{TempDir, Voxgate, assert_sipp_ok, count, sipp, tone_wav};

const ROUTES: &str = r#"
[[sip.routes]]
number = "100"
prompt = "prompt.wav"
"#;

/// A tiny SIP client over UDP: sends one request, returns the final response text.
struct Client {
    socket: UdpSocket,
    to: SocketAddr,
    n: u32,
}

impl Client {
    fn new(to: SocketAddr) -> Client {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        Client { socket, to, n: 0 }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    /// `head` is the request line and any extra headers; standard headers are added.
    fn request(&mut self, method: &str, uri: &str, extra: &str, body: &str) -> String {
        self.n += 1;
        let n = self.n;
        let port = self.port();
        let msg = format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-r{n}-{port}\r\n\
             From: <sip:test@127.0.0.1:{port}>;tag=t{n}\r\nTo: <{uri}>\r\nCall-ID: robust-{n}-{port}\r\n\
             CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContact: <sip:test@127.0.0.1:{port}>\r\n{extra}\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.socket.send_to(msg.as_bytes(), self.to).unwrap();
        self.final_response()
    }

    fn final_response(&self) -> String {
        let mut buf = [0u8; 65_535];
        loop {
            let (n, _) = self
                .socket
                .recv_from(&mut buf)
                .expect("an answer within 3 s");
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            let code: u16 = text.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0);
            if code >= 200 {
                return text;
            }
        }
    }
}

fn status(response: &str) -> u16 {
    response
        .get(8..11)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn sdp(pts: &str, rtpmaps: &str) -> String {
    format!(
        "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP {pts}\r\n{rtpmaps}"
    )
}

#[test]
fn refusals_carry_the_right_status() {
    let dir = TempDir::new("refusals");
    tone_wav(&dir.path().join("prompt.wav"), 1.0);
    let vg = Voxgate::start(
        dir.path(),
        &format!("max_calls = 1\nretry_after_secs = 7\n{ROUTES}"),
    );
    let mut c = Client::new(vg.udp);
    let ct = "Content-Type: application/sdp\r\n";
    let pcmu = sdp("0", "a=rtpmap:0 PCMU/8000\r\n");

    let r = c.request("INVITE", "sip:999@127.0.0.1", ct, &pcmu);
    assert_eq!(status(&r), 404, "unknown number:\n{r}");
    let r = c.request(
        "INVITE",
        "sip:100@127.0.0.1",
        ct,
        &sdp("18", "a=rtpmap:18 G729/8000\r\n"),
    );
    assert_eq!(status(&r), 488, "no common codec:\n{r}");
    let r = c.request("INVITE", "sip:100@127.0.0.1", "", "");
    assert_eq!(status(&r), 488, "no offer:\n{r}");
    assert!(r.contains("SDP offer is required"), "{r}");
    let r = c.request(
        "INVITE",
        "sip:100@127.0.0.1",
        ct,
        "v=0\r\nthis is not SDP\r\n",
    );
    assert_eq!(status(&r), 400, "bad SDP:\n{r}");
    let r = c.request("REGISTER", "sip:127.0.0.1", "", "");
    assert_eq!(status(&r), 405, "{r}");
    assert!(
        r.contains("Allow: INVITE"),
        "405 lists what is allowed:\n{r}"
    );
    let r = c.request("FROBNICATE", "sip:100@127.0.0.1", "", "");
    assert_eq!(status(&r), 501, "{r}");
    let r = c.request("BYE", "sip:100@127.0.0.1", "", "");
    assert_eq!(status(&r), 481, "BYE for no call:\n{r}");
    let r = c.request(
        "INVITE",
        "sip:100@127.0.0.1",
        &format!("{ct}Require: 100rel\r\n"),
        &pcmu,
    );
    assert_eq!(status(&r), 420, "unsupported Require:\n{r}");

    // One call up (answered, not acknowledged yet) fills max_calls = 1.
    let r = c.request("INVITE", "sip:100@127.0.0.1", ct, &pcmu);
    assert_eq!(status(&r), 200, "{r}");
    assert!(
        r.contains("application/sdp") && r.contains("m=audio"),
        "{r}"
    );
    let r = c.request("INVITE", "sip:100@127.0.0.1", ct, &pcmu);
    assert_eq!(status(&r), 503, "over the call limit:\n{r}");
    assert!(r.contains("Retry-After: 7"), "{r}");
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn noise(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed >> 24) as u8
        })
        .collect()
}

fn torture_messages() -> Vec<Vec<u8>> {
    let dir = manifest_dir().join("../../../shared/conformance/sip-torture");
    let tsv = std::fs::read_to_string(dir.join("expected.tsv")).expect("torture corpus");
    tsv.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn malformed_traffic_never_stops_the_gateway() {
    let dir = TempDir::new("malformed");
    tone_wav(&dir.path().join("prompt.wav"), 1.0);
    let mut vg = Voxgate::start(dir.path(), ROUTES);
    let mut seed = 0x5EED_u64;

    // UDP: garbage, every torture message cut short, bit-flipped and whole, oversized
    // datagrams, lying Content-Length.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut datagrams: Vec<Vec<u8>> = Vec::new();
    for len in [0, 1, 4, 20, 100, 1400, 9000, 65_000] {
        datagrams.push(noise(&mut seed, len));
    }
    for m in torture_messages() {
        for cut in [1, m.len() / 3, m.len() / 2, m.len().saturating_sub(3)] {
            datagrams.push(m[..cut.min(m.len())].to_vec());
        }
        let mut flipped = m.clone();
        for i in (0..flipped.len()).step_by(7) {
            flipped[i] ^= 0x20;
        }
        datagrams.push(flipped);
        datagrams.push(m);
    }
    datagrams.push(
        b"OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKcl\r\n\
          From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: cl\r\nCSeq: 1 OPTIONS\r\n\
          Content-Length: 99999\r\n\r\nshort"
            .to_vec(),
    );
    let mut big = b"INVITE sip:100@127.0.0.1 SIP/2.0\r\n".to_vec();
    for i in 0..3000 {
        big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "y".repeat(10)).as_bytes());
    }
    datagrams.push(big);
    for d in &datagrams {
        let _ = udp.send_to(d, vg.udp);
    }

    // TCP: garbage, a Content-Length past any limit, a negative one, a message dribbled
    // a byte at a time, and connections left half-written.
    let send_stream = |bytes: &[u8]| {
        if let Ok(mut s) = TcpStream::connect(vg.tcp) {
            let _ = s.write_all(bytes);
            let _ = s.flush();
        }
    };
    send_stream(&noise(&mut seed, 50_000));
    send_stream(b"INVITE sip:100@127.0.0.1 SIP/2.0\r\nContent-Length: 999999999999\r\n\r\n");
    send_stream(b"OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nContent-Length: -5\r\n\r\n");
    send_stream(&[b"\r\n\r\n".as_slice(); 1000].concat());
    let half_open: Vec<TcpStream> = (0..50)
        .filter_map(|_| {
            let mut s = TcpStream::connect(vg.tcp).ok()?;
            s.write_all(b"INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP")
                .ok()?;
            Some(s)
        })
        .collect();
    for m in torture_messages().iter().take(20) {
        send_stream(m);
    }

    // A well-formed OPTIONS dribbled byte by byte still gets its answer on that stream.
    let mut s = TcpStream::connect(vg.tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let port = s.local_addr().unwrap().port();
    let options = format!(
        "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bKdrip\r\n\
         From: <sip:a@127.0.0.1>;tag=d\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: drip\r\nCSeq: 1 OPTIONS\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    for b in options.as_bytes() {
        s.write_all(&[*b]).unwrap();
    }
    let mut answer = vec![0u8; 4096];
    let n = s.read(&mut answer).unwrap();
    assert!(
        answer[..n].starts_with(b"SIP/2.0 200"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );

    // Still alive, and a normal call right after succeeds.
    assert!(vg.is_running(), "voxgate died");
    let out = sipp(
        dir.path(),
        vg.udp,
        "call.xml",
        "100",
        &[],
        Duration::from_secs(30),
    );
    assert_sipp_ok(&out, "a call after the malformed traffic", dir.path());
    let events = vg.wait_events(Duration::from_secs(5), |e| count(e, "call-ended") >= 1);
    assert_eq!(count(&events, "call-ended"), 1);
    assert!(vg.is_running());
    drop(half_open);
    eprintln!(
        "sent {} malformed or hostile datagrams and 75 hostile streams",
        datagrams.len()
    );
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
