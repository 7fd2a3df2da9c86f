//! Caller journeys over SIP: baresip calls the demo tenant with spoken WAVs (Flite
//! voices, telephone audio), voxgate answers with the dialog engine through the
//! demo-shop plugin, and the demo ERP (its own process) shows what changed.
//!
//! The caller's WAV is a script: a pause, a phrase, a pause, a phrase. Timing is loose
//! because barge-in is on: a phrase said while voxgate is still talking stops it and is
//! heard in the turn that reply opened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::ffi::OsString;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use support::baresip::{
    Baresip, BaresipOptions, Events, TempDir, Voxgate, all_of, caller_script, of_call,
    require_baresip, require_program, show, str_field,
};
use support::erp::{Erp, office_tenant_file};

const EMILY: &str = "+442079460123";

static SERIAL: Mutex<()> = Mutex::new(());

fn require_tools() {
    require_baresip();
    require_program("flite", "--version", "flite", "the callers' voices");
    require_program("sox", "--version", "sox", "telephone audio for the callers");
}

struct Setup {
    dir: TempDir,
    erp: Erp,
    voxgate: Voxgate,
    events: Events,
}

fn setup(tag: &str) -> Setup {
    require_tools();
    let dir = TempDir::new(tag);
    let erp = Erp::start();
    let tenant = office_tenant_file(&dir.path, &erp.addr);
    let config = dir.path.join("voxgate.toml");
    std::fs::write(
        &config,
        "[sip]\nlisten = [\"udp:127.0.0.1:0\", \"tcp:127.0.0.1:0\"]\nevents_file = \"events.jsonl\"\n",
    )
    .unwrap();
    let args: Vec<OsString> = vec![
        "--tenant".into(),
        tenant.into(),
        "--data-dir".into(),
        dir.path.join("data").into(),
    ];
    let voxgate =
        Voxgate::try_start_with(&config, &dir.path, &args).unwrap_or_else(|e| panic!("{e}"));
    let events = Events::new(dir.path.join("events.jsonl"));
    Setup {
        dir,
        erp,
        voxgate,
        events,
    }
}

/// One call from `from` saying `says`; returns the call's events once `done` holds
/// (or the call ended), after baresip hung up.
fn call(
    s: &Setup,
    tag: &str,
    from: &str,
    says: &[(f64, &str, &str)],
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let dir = s.dir.path.join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let (wav, ends) = caller_script(&dir, says, 15.0);
    let mut baresip = Baresip::start_with(
        &dir,
        &BaresipOptions {
            caller_audio: Some(wav),
            user: Some(from.to_string()),
            ..BaresipOptions::default()
        },
    );
    let before: Vec<String> = all_of(&s.events.read(), "call-started")
        .iter()
        .map(|v| str_field(v, "call_id").to_string())
        .collect();
    baresip.command("dial", &format!("sip:100@{}", s.voxgate.udp));
    let started = s
        .events
        .wait_for("call-started", Duration::from_secs(10), |e| {
            all_of(e, "call-started")
                .iter()
                .any(|v| !before.contains(&str_field(v, "call_id").to_string()))
        });
    let call_id = all_of(&started, "call-started")
        .into_iter()
        .map(|v| str_field(v, "call_id").to_string())
        .find(|id| !before.contains(id))
        .unwrap();
    let own = |e: &[Value]| -> Vec<Value> { of_call(e, &call_id).into_iter().cloned().collect() };
    let within = Duration::from_secs_f64(ends.last().copied().unwrap_or(0.0) + 15.0);
    let _ = s.events.wait_until(within, |e| {
        let mine = own(e);
        done(&mine) || mine.iter().any(|v| v["event"] == "call-ended")
    });
    let _ = baresip.command("hangup", "");
    let ended = s
        .events
        .wait_for("call-record", Duration::from_secs(10), |e| {
            own(e).iter().any(|v| v["event"] == "call-record")
        });
    drop(baresip);
    own(&ended)
}

fn said(events: &[Value]) -> Vec<String> {
    all_of(events, "say")
        .iter()
        .map(|v| str_field(v, "text").to_string())
        .collect()
}

fn record(events: &[Value]) -> Value {
    all_of(events, "call-record")
        .first()
        .map(|v| v["record"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn a_known_caller_hears_the_eta_then_repeats_an_order_and_a_second_caller_declines() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let s = setup("dialog-calls");

    // Greeted by name; asks where the order is; hears the ETA from the ERP.
    let e = call(
        &s,
        "eta",
        EMILY,
        &[(3.0, "where is my order", "kal")],
        |e| said(e).iter().any(|t| t.contains("should arrive")),
    );
    let texts = said(&e);
    assert!(
        texts.first().is_some_and(|t| t.contains("Hello Emily")),
        "{}",
        show(&e)
    );
    let eta = texts
        .iter()
        .find(|t| t.contains("40140"))
        .unwrap_or_else(|| panic!("{}", show(&e)));
    assert!(
        eta.contains("DPD UK") && eta.contains("should arrive"),
        "{eta}"
    );
    let r = record(&e);
    assert_eq!(r["contact"]["id"], "c-1005", "{r:#}");
    assert!(
        r["plugin_calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["function"] == "delivery.eta"),
        "{r:#}"
    );

    // Repeats the last order and says yes: exactly one new order.
    let before = s.erp.orders_of("c-1005").len();
    let e = call(
        &s,
        "repeat-yes",
        EMILY,
        &[(3.0, "repeat my last order", "rms"), (4.0, "yes", "rms")],
        |e| said(e).iter().any(|t| t.contains("order number is")),
    );
    assert!(
        said(&e).iter().any(|t| t.contains("order number is")),
        "{}",
        show(&e)
    );
    assert_eq!(s.erp.orders_of("c-1005").len(), before + 1, "{}", show(&e));
    assert_eq!(record(&e)["transactions"][0]["state"], "committed");

    // A second caller says no: no order.
    let e = call(
        &s,
        "repeat-no",
        EMILY,
        &[(3.0, "repeat my last order", "slt"), (4.0, "no", "slt")],
        |e| said(e).iter().any(|t| t.contains("not placed")),
    );
    assert!(
        said(&e).iter().any(|t| t.contains("not placed")),
        "{}",
        show(&e)
    );
    assert_eq!(s.erp.orders_of("c-1005").len(), before + 1, "{}", show(&e));
    assert_eq!(record(&e)["transactions"][0]["state"], "aborted");
}

#[test]
fn asking_for_a_human_sends_refer_to_the_configured_target() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let s = setup("dialog-human");
    let e = call(
        &s,
        "human",
        EMILY,
        &[(3.0, "i want to talk to a human", "awb")],
        // The REFER's outcome, not its start.
        |e| {
            all_of(e, "transfer")
                .iter()
                .any(|t| t["outcome"] != "started")
        },
    );
    let transfers = all_of(&e, "transfer");
    assert!(!transfers.is_empty(), "{}", show(&e));
    assert_eq!(
        str_field(transfers[0], "target"),
        "sip:support@127.0.0.1:5070",
        "{}",
        show(&e)
    );
    assert_eq!(record(&e)["outcome"], "transferred");
}
