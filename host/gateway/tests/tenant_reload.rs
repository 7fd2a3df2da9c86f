//! Changing a tenant without a restart: `sip serve --tenant FILE` notices an edited
//! tenant file and answers new calls with it; a broken edit is refused with its reason
//! logged, and the previous configuration keeps answering.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::ffi::OsString;
use std::time::Duration;

use support::baresip::{Events, TempDir, Voxgate, all_of, str_field};
use support::erp::{Erp, office_tenant_file};
use support::{assert_sipp_ok, sipp};

/// One SIPp call to the demo number; returns the greeting voxgate said in it.
fn greeting(dir: &std::path::Path, vg: &Voxgate, events: &Events) -> String {
    let before = all_of(&events.read(), "say").len();
    let out = sipp(dir, vg.udp, "call.xml", "100", &[], Duration::from_secs(30));
    assert_sipp_ok(&out, "a call to the tenant", dir);
    let e = events.wait_for("a greeting", Duration::from_secs(10), |e| {
        all_of(e, "say").len() > before
    });
    str_field(all_of(&e, "say")[before], "text").to_string()
}

#[test]
fn an_edited_tenant_answers_new_calls_and_a_broken_edit_is_refused() {
    let dir = TempDir::new("tenant-reload");
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
        tenant.clone().into(),
        "--data-dir".into(),
        dir.path.join("data").into(),
    ];
    let vg = Voxgate::try_start_with(&config, &dir.path, &args).unwrap_or_else(|e| panic!("{e}"));
    let events = Events::new(dir.path.join("events.jsonl"));

    // SIPp's caller is not a contact: the unknown-caller greeting.
    let first = greeting(&dir.path, &vg, &events);
    assert!(
        first.starts_with("Thank you for calling Kvarner"),
        "{first}"
    );

    let original = std::fs::read_to_string(&tenant).unwrap();
    let edited = original.replace(
        "greeting_unknown = \"Thank you for calling {tenant}. How can I help you?\"",
        "greeting_unknown = \"Welcome to the new {tenant} line.\"",
    );
    assert_ne!(
        edited, original,
        "the demo tenant's office greeting changed; update the test"
    );
    std::fs::write(&tenant, &edited).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let second = greeting(&dir.path, &vg, &events);
    assert_eq!(second, "Welcome to the new Kvarner Home and Garden line.");

    // A broken edit: refused, logged with its reason, the last good one keeps serving.
    std::fs::write(
        &tenant,
        edited.replace("voice = \"espeak-ng\"", "voice = \"robot\""),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let third = greeting(&dir.path, &vg, &events);
    assert_eq!(third, second);
    let log = std::fs::read_to_string(dir.path.join("voxgate.log")).unwrap();
    assert!(
        log.contains("tenant change refused") && log.contains("voice `robot` is not a synthesizer"),
        "{log}"
    );
    drop(vg);
}
