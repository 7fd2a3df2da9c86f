//! voxgate against SIPp (Debian `sip-tester`), a real SIP peer, on loopback: the call
//! flows a PBX or trunk drives, checked from both ends (SIPp's verdict and voxgate's
//! call events).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use support::{TempDir, Voxgate, assert_sipp_ok, count, sipp, tone_wav};

const ROUTES: &str = r#"
rtp_timeout_secs = 30

[[sip.routes]]
number = "100"
prompt = "prompt.wav"

[[sip.routes]]
number = "200"
prompt = "prompt.wav"
after_prompt = "hangup"

[[sip.routes]]
number = "300"
ring_ms = 5000
"#;

fn gateway(label: &str, extra: &str) -> (TempDir, Voxgate) {
    let dir = TempDir::new(label);
    tone_wav(&dir.path().join("prompt.wav"), 1.5);
    let vg = Voxgate::start(dir.path(), &format!("{extra}\n{ROUTES}"));
    (dir, vg)
}

fn ended(vg: &Voxgate, n: usize) -> Vec<serde_json::Value> {
    vg.wait_events(Duration::from_secs(10), |e| count(e, "call-ended") >= n)
        .into_iter()
        .filter(|e| e["event"] == "call-ended")
        .collect()
}

#[test]
fn basic_call_with_audio_over_udp_and_tcp() {
    let (dir, vg) = gateway("basic", "");
    let out = sipp(
        dir.path(),
        vg.udp,
        "call.xml",
        "100",
        &[],
        Duration::from_secs(30),
    );
    assert_sipp_ok(&out, "basic call over UDP", dir.path());
    let out = sipp(
        dir.path(),
        vg.tcp,
        "call.xml",
        "100",
        &["-t", "t1"],
        Duration::from_secs(30),
    );
    assert_sipp_ok(&out, "basic call over TCP", dir.path());

    let ends = ended(&vg, 2);
    assert_eq!(ends.len(), 2, "{ends:#?}");
    assert_eq!(vg.events_of("call-started").len(), 2);
    for e in &ends {
        assert_eq!(e["reason"], "caller-bye", "{e}");
        let rtp = &e["rtp"];
        // SIPp plays G.711 A-law from its pcap for the 3 s it holds the call.
        assert!(rtp["packets_received"].as_u64().unwrap() > 50, "{e}");
        assert_eq!(rtp["packets_lost"], 0, "{e}");
        assert!(rtp["packets_sent"].as_u64().unwrap() > 100, "{e}");
        let rec = dir.path().join(e["recording"].as_str().expect("recording"));
        let samples: Vec<i16> = hound::WavReader::open(&rec)
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect();
        // SIPp's pcap is speech-like audio: a good share of what arrived is loud, where a
        // recording of silence (or of nothing) would have none.
        let received = rtp["packets_received"].as_u64().unwrap() as usize * 160;
        let loud = samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(
            loud * 4 > received,
            "the caller's audio was recorded: {loud} loud samples of {received} received"
        );
    }
}

#[test]
fn cancel_before_answer_gets_487() {
    let (dir, vg) = gateway("cancel", "");
    let out = sipp(
        dir.path(),
        vg.udp,
        "cancel.xml",
        "300",
        &[],
        Duration::from_secs(20),
    );
    assert_sipp_ok(&out, "CANCEL while ringing", dir.path());
    let ends = ended(&vg, 1);
    assert_eq!(ends[0]["reason"], "cancelled");
    assert!(
        vg.events_of("call-started").is_empty(),
        "a cancelled call never starts"
    );
}

#[test]
fn voxgate_hangs_up_after_the_prompt() {
    let (dir, vg) = gateway("bye", "");
    let out = sipp(
        dir.path(),
        vg.udp,
        "wait_bye.xml",
        "200",
        &[],
        Duration::from_secs(20),
    );
    assert_sipp_ok(&out, "BYE from voxgate", dir.path());
    let ends = ended(&vg, 1);
    assert_eq!(ends[0]["reason"], "hangup-after-prompt");
    let prompt = vg.events_of("prompt-finished");
    assert_eq!(prompt[0]["duration_ms"], 1500);
}

#[test]
fn silent_line_is_hung_up_after_the_rtp_timeout() {
    let (dir, vg) = gateway("rtp-timeout", "");
    drop(vg);
    // Same routes, a 2 s timeout: route 100 waits after its prompt, the caller is silent.
    let vg = Voxgate::start(
        dir.path(),
        &ROUTES.replace("rtp_timeout_secs = 30", "rtp_timeout_secs = 2"),
    );
    let out = sipp(
        dir.path(),
        vg.udp,
        "wait_bye.xml",
        "100",
        &[],
        Duration::from_secs(20),
    );
    assert_sipp_ok(&out, "hang-up of a silent line", dir.path());
    let ends = ended(&vg, 1);
    assert_eq!(ends[0]["reason"], "rtp-timeout");
}

#[test]
fn options_lists_methods_and_sdp() {
    let (dir, vg) = gateway("options", "");
    let out = sipp(
        dir.path(),
        vg.udp,
        "options.xml",
        "100",
        &[],
        Duration::from_secs(10),
    );
    assert_sipp_ok(&out, "OPTIONS", dir.path());
}

#[test]
fn hold_resume_and_codec_change_with_reinvite() {
    let (dir, vg) = gateway("hold", "");
    let out = sipp(
        dir.path(),
        vg.udp,
        "hold.xml",
        "100",
        &[],
        Duration::from_secs(20),
    );
    assert_sipp_ok(&out, "re-INVITE hold, resume and codec change", dir.path());
    ended(&vg, 1);
    let holds: Vec<bool> = vg
        .events_of("hold")
        .iter()
        .map(|e| e["on_hold"].as_bool().unwrap())
        .collect();
    assert_eq!(holds, vec![true, false]);
}

#[test]
fn refer_transfers_the_caller_to_a_sipp_uas() {
    let dir = TempDir::new("refer");
    tone_wav(&dir.path().join("prompt.wav"), 1.0);
    let target_port = support::free_port();
    let vg = Voxgate::start(
        dir.path(),
        &format!(
            r#"
[[sip.routes]]
number = "400"
prompt = "prompt.wav"
after_prompt = "transfer"
transfer_to = "sip:agent@127.0.0.1:{target_port}"
"#
        ),
    );
    // The human agent: SIPp's built-in UAS answers the transferred call.
    let target_dir = dir.path().join("target");
    std::fs::create_dir_all(&target_dir).unwrap();
    let target = std::process::Command::new("timeout")
        .args([
            "30",
            "sipp",
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-m",
            "1",
            "-nostdin",
        ])
        .args([
            "-p",
            &target_port.to_string(),
            "-mp",
            &support::free_port().to_string(),
        ])
        .current_dir(&target_dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let port = vg.udp.port().to_string();
    let out = sipp(
        dir.path(),
        vg.udp,
        "transferee.xml",
        "400",
        &["-set", "vg_host", "127.0.0.1", "-set", "vg_port", &port],
        Duration::from_secs(25),
    );
    assert_sipp_ok(&out, "transfer with REFER", dir.path());
    let target = target.wait_with_output().unwrap();
    assert!(
        target.status.success(),
        "the target took the transferred call"
    );
    let ends = ended(&vg, 1);
    assert_eq!(ends[0]["reason"], "transferred");
    let transfer = vg.events_of("transfer");
    assert_eq!(transfer[0]["outcome"], "started");
    assert_eq!(transfer[1]["outcome"], "completed");
    assert_eq!(
        transfer[1]["target"],
        format!("sip:agent@127.0.0.1:{target_port}")
    );
}

#[test]
fn thousand_calls_at_100_per_second() {
    let (dir, vg) = gateway("load", "max_calls = 1000");
    let out = sipp(
        dir.path(),
        vg.udp,
        "load.xml",
        "100",
        &["-m", "1000", "-r", "100", "-l", "500", "-d", "500"],
        Duration::from_secs(60),
    );
    assert_sipp_ok(&out, "1000 calls at 100 calls/s", dir.path());
    assert_eq!(
        support::sipp_calls(&out).0,
        1000,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let ends = vg.wait_events(Duration::from_secs(15), |e| count(e, "call-ended") >= 1000);
    assert_eq!(count(&ends, "call-ended"), 1000);
    assert!(
        ends.iter()
            .filter(|e| e["event"] == "call-ended")
            .all(|e| e["reason"] == "caller-bye"),
        "every call ended by the caller's BYE"
    );
}
