//! The shop over real TCP: the library's `serve`, and the binary as tests spawn it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use voxgate_demo_erp::serve;

/// A deliberately dumb HTTP/1.1 client: the request goes on the wire exactly as
/// written (a raw `+` in the path stays a raw `+`).
async fn http_get(addr: &str, path: &str, key: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap();
    (status, body)
}

#[tokio::test]
async fn serve_on_an_ephemeral_port() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let shop = common::shop();
    let server = tokio::spawn(serve(listener, shop.clone()));

    let (status, body) = http_get(&addr, "/healthz", None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = http_get(&addr, "/contacts/by-phone/+442079460123", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""first_name":"Emily""#), "{body}");
    let (status, body) = http_get(&addr, "/contacts/by-phone/%2B12025550178", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""id":"c-1008""#), "{body}");
    let (status, _) = http_get(&addr, "/orders/0", None).await;
    assert_eq!(status, 404);
    assert_eq!(shop.stats().requests, 4);
    server.abort();
}

#[tokio::test]
async fn binary_prints_its_address_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate-demo-erp"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "k3y",
            "--seed-time",
            "1748772000",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    assert!(!addr.ends_with(":0"), "{addr}");

    assert_eq!(http_get(&addr, "/healthz", None).await.0, 200);
    assert_eq!(http_get(&addr, "/orders/40142", None).await.0, 401);
    let (status, body) = http_get(&addr, "/orders/40142", Some("k3y")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#""placed_at":"2025-05-30T10:00:00Z""#),
        "{body}"
    );

    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}
