//! A call over SIP/TLS with DTMF sent as SIP INFO: the path a carrier trunk or a PBX
//! that signals over TLS takes. The certificate is made with openssl and the client
//! verifies it (it is the client's only trusted root), as a real trunk would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use voxgate_proto::sip::{Message, StreamEvent, StreamFramer};

use support::{TempDir, Voxgate, count, tone_wav};

/// A CA, and a server certificate for localhost signed by it (what an operator gets
/// from their PKI); the client trusts only the CA.
fn make_certificate(dir: &std::path::Path) {
    support::which("openssl", "openssl");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=voxgate test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
}

struct Conn {
    tls: TlsStream<tokio::net::TcpStream>,
    framer: StreamFramer,
    local: String,
}

impl Conn {
    async fn send(&mut self, text: &str) {
        self.tls.write_all(text.as_bytes()).await.unwrap();
    }

    /// The next final response (provisional ones are skipped).
    async fn final_response(&mut self) -> voxgate_proto::sip::Response {
        let mut buf = [0u8; 8192];
        loop {
            while let Some(event) = self.framer.next_event().unwrap() {
                if let StreamEvent::Message {
                    parsed: Ok(Message::Response(r)),
                    ..
                } = event
                    && r.status.is_final()
                {
                    return r;
                }
            }
            let n = tokio::time::timeout(Duration::from_secs(5), self.tls.read(&mut buf))
                .await
                .expect("an answer within 5 s")
                .unwrap();
            assert!(n > 0, "voxgate closed the TLS connection");
            self.framer.push(&buf[..n]);
        }
    }
}

fn request(
    method: &str,
    cseq: u32,
    local: &str,
    to_tag: Option<&str>,
    extra: &str,
    body: &str,
) -> String {
    let to = match to_tag {
        Some(t) => format!("<sip:100@127.0.0.1>;tag={t}"),
        None => "<sip:100@127.0.0.1>".to_string(),
    };
    format!(
        "{method} sip:100@127.0.0.1;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch=z9hG4bK-tls-{cseq}\r\n\
         From: <sip:trunk@127.0.0.1>;tag=trunk1\r\nTo: {to}\r\nCall-ID: tls-call-1\r\nCSeq: {cseq} {method}\r\n\
         Max-Forwards: 70\r\nContact: <sip:trunk@{local};transport=tls>\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_over_tls_with_dtmf_in_sip_info() {
    let dir = TempDir::new("tls");
    make_certificate(dir.path());
    tone_wav(&dir.path().join("prompt.wav"), 1.0);
    let vg = Voxgate::start_with(
        dir.path(),
        r#"["udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0"]"#,
        "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n\n[[sip.routes]]\nnumber = \"100\"\nprompt = \"prompt.wav\"\n",
    );
    let tls_addr = vg.tls.expect("voxgate listens on TLS");

    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(dir.path().join("ca.pem")).unwrap()
    {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(tls_addr).await.unwrap();
    let local = tcp.local_addr().unwrap().to_string();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake with a verified certificate");
    let mut c = Conn {
        tls,
        framer: StreamFramer::default(),
        local,
    };

    let sdp = "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let local = c.local.clone();
    c.send(&request(
        "INVITE",
        1,
        &local,
        None,
        "Content-Type: application/sdp\r\n",
        sdp,
    ))
    .await;
    let ok = c.final_response().await;
    assert_eq!(ok.status.code(), 200);
    let contact = ok.headers.contacts().unwrap();
    assert!(
        format!("{contact:?}").contains("tls"),
        "Contact says TLS: {contact:?}"
    );
    let to_tag = ok.headers.to_address().unwrap().tag().unwrap().to_string();
    c.send(&request("ACK", 1, &local, Some(&to_tag), "", ""))
        .await;

    let relay = "Signal=5\r\nDuration=160\r\n";
    c.send(&request(
        "INFO",
        2,
        &local,
        Some(&to_tag),
        "Content-Type: application/dtmf-relay\r\n",
        relay,
    ))
    .await;
    assert_eq!(c.final_response().await.status.code(), 200);
    c.send(&request(
        "INFO",
        3,
        &local,
        Some(&to_tag),
        "Content-Type: application/dtmf\r\n",
        "#",
    ))
    .await;
    assert_eq!(c.final_response().await.status.code(), 200);
    c.send(&request(
        "INFO",
        4,
        &local,
        Some(&to_tag),
        "Content-Type: text/plain\r\n",
        "hello",
    ))
    .await;
    assert_eq!(
        c.final_response().await.status.code(),
        415,
        "an INFO body voxgate does not read"
    );
    c.send(&request("BYE", 5, &local, Some(&to_tag), "", ""))
        .await;
    assert_eq!(c.final_response().await.status.code(), 200);

    let events = tokio::task::spawn_blocking(move || {
        let e = vg.wait_events(Duration::from_secs(5), |e| count(e, "call-ended") >= 1);
        drop(vg);
        e
    })
    .await
    .unwrap();
    let digits: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["event"] == "dtmf")
        .map(|e| (e["digit"].as_str().unwrap(), e["source"].as_str().unwrap()))
        .collect();
    assert_eq!(digits, vec![("5", "sip-info"), ("#", "sip-info")]);
    let ended: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "call-ended")
        .collect();
    assert_eq!(ended[0]["reason"], "caller-bye");
}
