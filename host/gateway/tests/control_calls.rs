//! The control plane with real calls: `voxgate serve` as a process, SIPp as the PBX, the
//! demo ERP behind the demo tenant's plugin.
//!
//! - hot swap through the API under load: no failed call, one version per call record,
//!   the new version for calls after each switch;
//! - SIGTERM drains (calls finish, new INVITEs get 503, the process exits in time);
//!   SIGKILL and restart lose no call record that was stored;
//! - recordings are sealed on disk (no WAV header, no PCM), and open through the API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::gateway::Gateway;
use support::{TempDir, assert_sipp_ok, sipp};

fn demo_tenant(dir: &std::path::Path, erp: &str, extra: &str) -> PathBuf {
    let path = support::erp::office_tenant_file(&dir.join("tenant"), erp);
    if !extra.is_empty() {
        let text = std::fs::read_to_string(&path).unwrap();
        // Top-level keys must come before the first table.
        std::fs::write(&path, format!("{extra}\n{text}")).unwrap();
    }
    path
}

fn millis(rfc3339: &Value) -> i64 {
    rfc3339
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond()
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[test]
fn plugins_hot_swap_through_the_api_under_load() {
    let erp = support::erp::Erp::start();
    let dir = TempDir::new("hot-swap-api");
    let tenant = demo_tenant(dir.path(), &erp.addr, "");
    let gw = Gateway::start(dir.path(), &dir.path().join("data"), &[tenant], "");
    let token = gw.token();
    let before = gw.get_json("/v1/tenants/demo/plugins", &token);
    let v1 = before["active"]["bindings"]["contacts"]
        .as_str()
        .unwrap()
        .to_string();

    // 10 calls a second for 15 s, each 1.5 s long.
    let calls = 150;
    let load = {
        let (dir, sip) = (dir.path().to_path_buf(), gw.sip);
        std::thread::spawn(move || {
            sipp(
                &dir,
                sip,
                "load.xml",
                "100",
                &[
                    "-m",
                    &calls.to_string(),
                    "-r",
                    "10",
                    "-d",
                    "1500",
                    "-l",
                    "40",
                ],
                Duration::from_secs(60),
            )
        })
    };

    std::thread::sleep(Duration::from_secs(4));
    let v2 = gw.upload_demo_shop(&token, "v2");
    assert_ne!(v1, v2);
    gw.activate(&token, &v2);
    let switched = now_ms();
    std::thread::sleep(Duration::from_secs(5));
    let (status, body) = gw.http(
        "POST",
        "/v1/tenants/demo/plugins/rollback",
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let rolled_back = now_ms();

    let out = load.join().unwrap();
    assert_sipp_ok(&out, "calls during the swaps", dir.path());
    let records = gw.wait_calls("demo", &token, Duration::from_secs(30), |c| {
        c.len() == calls
            && c.iter()
                .all(|c| !c["outcome"].as_str().unwrap_or("").is_empty())
    });
    // A call pins its versions at its INVITE; its start is stamped at the ACK, a few
    // milliseconds later. Calls that started this long after a switch must be on it.
    let settle = 250;
    let (mut on_v1_before, mut on_v2, mut on_v1_after) = (0, 0, 0);
    for c in &records {
        let versions: Vec<&str> = c["plugin_versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(versions.len(), 1, "one version per call: {c}");
        let started = millis(&c["started_at"]);
        let is = |v: &str| versions[0] == &v[..12];
        if started > rolled_back + settle {
            assert!(is(&v1), "after the rollback: {c}");
            on_v1_after += 1;
        } else if started > switched + settle && started < rolled_back {
            assert!(is(&v2), "after the activation: {c}");
            on_v2 += 1;
        } else if started < switched {
            assert!(is(&v1), "before the activation: {c}");
            on_v1_before += 1;
        }
    }
    println!(
        "hot swap under load: {calls} calls, 0 failed; on v1 before {on_v1_before}, on v2 {on_v2}, on v1 after the rollback {on_v1_after}"
    );
    assert!(on_v1_before > 10 && on_v2 > 10 && on_v1_after > 10);
}

/// Sends an INVITE from a plain UDP socket; returns the final status code.
fn invite_status(sip: std::net::SocketAddr, number: &str) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let local = sock.local_addr().unwrap();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        local.port() + 2
    );
    let invite = format!(
        "INVITE sip:{number}@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-drain-{n}\r\n\
         From: <sip:probe@{local}>;tag=drain\r\nTo: <sip:{number}@{sip}>\r\nCall-ID: drain-{n}@test\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:probe@{local}>\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        n = now_ms()
    );
    sock.send_to(invite.as_bytes(), sip).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        let (n, _) = sock.recv_from(&mut buf).expect("an answer to the INVITE");
        let text = String::from_utf8_lossy(&buf[..n]);
        let code: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if code >= 200 {
            return code;
        }
    }
}

#[test]
fn sigterm_drains_and_sigkill_loses_no_stored_call() {
    let erp = support::erp::Erp::start();
    let dir = TempDir::new("drain");
    let tenant = demo_tenant(dir.path(), &erp.addr, "");
    let mut gw = Gateway::start(
        dir.path(),
        &dir.path().join("data"),
        &[tenant],
        "drain_timeout_s = 10",
    );
    let token = gw.token();

    // SIGKILL first: calls that are stored survive it.
    let out = sipp(
        dir.path(),
        gw.sip,
        "load.xml",
        "100",
        &["-m", "20", "-r", "10", "-d", "500", "-l", "20"],
        Duration::from_secs(40),
    );
    assert_sipp_ok(&out, "calls before SIGKILL", dir.path());
    gw.wait_calls("demo", &token, Duration::from_secs(20), |c| {
        c.len() == 20
            && c.iter()
                .all(|c| !c["outcome"].as_str().unwrap_or("").is_empty())
    });
    gw.signal("KILL");
    gw.restart();
    let after = gw.get_json("/v1/tenants/demo/calls?limit=1000", &token);
    let after = after["calls"].as_array().unwrap();
    assert_eq!(after.len(), 20, "every stored call is there after SIGKILL");
    assert!(after.iter().all(|c| c["status"] == "ended"));

    // SIGTERM during a 6 s call.
    let long = {
        let (dir, sip) = (dir.path().to_path_buf(), gw.sip);
        std::thread::spawn(move || {
            sipp(
                &dir,
                sip,
                "load.xml",
                "100",
                &["-m", "1", "-d", "6000"],
                Duration::from_secs(30),
            )
        })
    };
    let until = Instant::now() + Duration::from_secs(10);
    while gw.get_json("/v1/tenants/demo/calls?status=active", &token)["calls"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < until, "the long call never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let term = Instant::now();
    gw.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    let (ready, _) = gw.http("GET", "/readyz", None, None);
    assert_eq!(ready, 503, "draining is not ready");
    assert_eq!(invite_status(gw.sip, "100"), 503, "a new call is refused");
    let out = long.join().unwrap();
    assert_sipp_ok(&out, "the call in progress at SIGTERM", dir.path());
    let exit = gw
        .wait_exit(Duration::from_secs(15))
        .expect("exits within the drain deadline");
    let took = term.elapsed();
    assert!(exit.success(), "{exit:?}");
    assert!(
        took < Duration::from_secs(10),
        "exited {took:?} after SIGTERM"
    );
    println!("SIGTERM: the 6 s call finished, the process exited {took:?} after the signal");

    gw.restart();
    let calls = gw.get_json("/v1/tenants/demo/calls?limit=1000", &token)["calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(calls.len(), 21, "the drained call is stored too");
    assert!(calls.iter().all(|c| c["status"] == "ended"));
}

#[test]
fn recordings_are_sealed_on_disk() {
    let erp = support::erp::Erp::start();
    let dir = TempDir::new("sealed");
    let tenant = demo_tenant(dir.path(), &erp.addr, "recording = true");
    let gw = Gateway::start(dir.path(), &dir.path().join("data"), &[tenant], "");
    let token = gw.token();
    let out = sipp(
        dir.path(),
        gw.sip,
        "call.xml",
        "100",
        &[],
        Duration::from_secs(30),
    );
    assert_sipp_ok(&out, "a recorded call", dir.path());
    let calls = gw.wait_calls("demo", &token, Duration::from_secs(10), |c| c.len() == 1);
    let call_id = calls[0]["call_id"].as_str().unwrap();
    let detail = gw.get_json(&format!("/v1/tenants/demo/calls/{call_id}"), &token);
    assert_eq!(detail["recording"], true, "{detail}");

    let folder = gw.data.join("tenants/demo/recordings");
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let sealed = std::fs::read(&files[0]).unwrap();
    let (status, wav) = gw.http(
        "GET",
        &format!("/v1/tenants/demo/calls/{call_id}/recording"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(&wav[..4], b"RIFF");
    let pcm = &wav[44..];
    assert!(
        pcm.len() > 16_000,
        "at least a second of audio: {}",
        pcm.len()
    );
    for marker in [&b"RIFF"[..], b"WAVE", b"fmt ", b"data"] {
        assert!(
            !sealed.windows(marker.len()).any(|w| w == marker),
            "the sealed file shows {:?}",
            String::from_utf8_lossy(marker)
        );
    }
    // Pieces of the audio itself (where it is not silence) are nowhere in the file.
    let mut checked = 0;
    for start in (0..pcm.len() - 64).step_by(4000) {
        let piece = &pcm[start..start + 64];
        if piece.iter().all(|b| *b == 0) {
            continue;
        }
        assert!(
            !sealed.windows(64).any(|w| w == piece),
            "PCM at {start} is readable on disk"
        );
        checked += 1;
    }
    assert!(checked > 3, "checked {checked} pieces of audio");
    drop(gw);

    // The tenant moves to another store with `tenant export` / `import`; its call and
    // its recording (the key goes along) are there.
    let export = dir.path().join("export");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_voxgate"))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let data = dir.path().join("data");
    let said = run(&[
        "tenant".as_ref(),
        "export".as_ref(),
        "demo".as_ref(),
        "--out".as_ref(),
        export.as_os_str(),
        "--data-dir".as_ref(),
        data.as_os_str(),
    ]);
    assert!(said.contains("1 calls, 1 recordings"), "{said}");
    let elsewhere = dir.path().join("elsewhere");
    run(&[
        "tenant".as_ref(),
        "import".as_ref(),
        export.as_os_str(),
        "--data-dir".as_ref(),
        elsewhere.as_os_str(),
    ]);
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args(["tenant", "import"])
        .arg(&export)
        .arg("--data-dir")
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a second import of the same tenant is refused"
    );
    let moved_dir = dir.path().join("moved");
    std::fs::create_dir_all(&moved_dir).unwrap();
    let moved = Gateway::start(&moved_dir, &elsewhere, &[], "");
    let token = moved.token();
    let detail = moved.get_json(&format!("/v1/tenants/demo/calls/{call_id}"), &token);
    assert_eq!(detail["recording"], true);
    let (status, wav_again) = moved.http(
        "GET",
        &format!("/v1/tenants/demo/calls/{call_id}/recording"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        wav_again, wav,
        "the same recording, opened with the exported key"
    );
}

/// DESIGN §10: a voxgate call's analysis is ready within a second of the BYE. Measured
/// on real SIP calls as the gap between the call's end (when the BYE arrived) and the
/// analysis being stored, both stamped by the gateway's clock; the API is then asked
/// at once, so "ready" also means served.
#[test]
fn a_calls_analysis_is_ready_within_a_second_of_the_bye() {
    let erp = support::erp::Erp::start();
    let dir = TempDir::new("analysis-at-bye");
    let tenant = demo_tenant(dir.path(), &erp.addr, "");
    // The `[admin]` text may open further tables: this node's name.
    let gw = Gateway::start(
        dir.path(),
        &dir.path().join("data"),
        &[tenant],
        "[node]\nid = \"gw-timing\"",
    );
    let token = gw.token();
    let calls = 5;
    let out = sipp(
        dir.path(),
        gw.sip,
        "call.xml",
        "100",
        &["-m", "5", "-l", "1"],
        Duration::from_secs(90),
    );
    assert_sipp_ok(&out, "calls whose analysis is timed", dir.path());
    let listed = gw.wait_calls("demo", &token, Duration::from_secs(10), |c| {
        c.len() == calls && c.iter().all(|c| c["ended_at"].is_string())
    });
    let mut delays = Vec::new();
    for call in &listed {
        let id = call["call_id"].as_str().unwrap();
        let detail = gw.get_json(&format!("/v1/tenants/demo/calls/{id}"), &token);
        let analysis = &detail["analysis"];
        assert_eq!(
            detail["node"], "gw-timing",
            "every call record names its node"
        );
        assert_eq!(analysis["status"], "done", "{detail}");
        assert_eq!(analysis["source"], "voxgate");
        assert!(analysis["result"]["category"].is_string(), "{analysis}");
        delays.push(millis(&analysis["finished_at"]) - millis(&detail["ended_at"]));
    }
    delays.sort_unstable();
    println!(
        "own-call analysis ready after the BYE: {delays:?} ms (max {} ms over {calls} calls)",
        delays[delays.len() - 1]
    );
    assert!(delays.iter().all(|d| *d <= 1000), "{delays:?}");
}
