//! Caller journeys through `voxgate chat` against the demo tenant: the real binary, the
//! real demo-shop component, and the demo ERP as its own process, whose data is read
//! back to check what the conversation changed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::TempDir;
use support::chat::chat;
use support::erp::{Erp, demo_tenant_file};

const EMILY: &str = "+442079460123";
const ANA_VIP: &str = "+38515550101";
/// A Monday morning in Zagreb: the office agent answers.
const OFFICE_HOURS: &str = "2026-11-23T10:00:00+01:00";
const EVENING: &str = "2026-11-23T20:30:00+01:00";
const CHRISTMAS: &str = "2026-12-25T11:00:00+01:00";

fn setup(tag: &str) -> (TempDir, Erp, PathBuf) {
    let dir = TempDir::new(tag);
    let erp = Erp::start();
    let tenant = demo_tenant_file(dir.path(), &erp.addr);
    (dir, erp, tenant)
}

#[test]
fn known_caller_is_greeted_by_name_and_hears_the_eta_of_the_order_on_its_way() {
    let (dir, _erp, tenant) = setup("chat-eta");
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &["where is my order", "goodbye"],
    );
    assert!(c.reply(0).contains("Hello Emily"), "{}", c.said());
    // Emily's order 40140 is in transit with DPD UK (demo ERP seed).
    let eta = c.reply(1);
    assert!(
        eta.contains("40140") && eta.contains("DPD UK") && eta.contains("should arrive"),
        "{}",
        c.said()
    );
    assert!(c.reply(2).contains("Goodbye"), "{}", c.said());
    assert_eq!(c.lines.last().map(String::as_str), Some("[hangup]"));

    // The record has the turns, each plugin call with version and duration, the outcome.
    let r = &c.record;
    assert_eq!(r["tenant"], "demo");
    assert_eq!(r["contact"]["id"], "c-1005", "{r:#}");
    assert_eq!(r["agents"][0]["name"], "office", "{r:#}");
    assert_eq!(r["outcome"], "completed");
    let calls = r["plugin_calls"].as_array().unwrap();
    let functions: Vec<&str> = calls
        .iter()
        .map(|c| c["function"].as_str().unwrap())
        .collect();
    for f in [
        "contacts.lookup-by-phone",
        "orders.list-recent",
        "delivery.eta",
    ] {
        assert!(functions.contains(&f), "{f} not in {functions:?}");
    }
    for call in calls {
        assert_eq!(call["outcome"], "ok", "{call}");
        assert!(!call["version"].as_str().unwrap().is_empty(), "{call}");
        assert!(call["duration_us"].as_u64().unwrap() > 0, "{call}");
    }
    let turns = r["turns"].as_array().unwrap();
    assert!(
        turns
            .iter()
            .any(|t| t["who"] == "caller" && t["intent"] == "order-status"),
        "{r:#}"
    );
    assert!(
        r["summary"].as_str().unwrap().contains("Emily Clarke"),
        "{r:#}"
    );
    drop(dir);
}

#[test]
fn repeat_order_confirmed_makes_exactly_one_order_and_declined_makes_none() {
    let (dir, erp, tenant) = setup("chat-repeat");
    let before = erp.orders_of("c-1005");
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &["repeat my last order", "yes", "goodbye"],
    );
    assert!(
        c.reply(1).contains("Shall I place the order"),
        "{}",
        c.said()
    );
    let placed = c.reply(2);
    assert!(placed.contains("order number is"), "{}", c.said());
    let after = erp.orders_of("c-1005");
    assert_eq!(after.len(), before.len() + 1, "exactly one new order");
    let new = after.iter().find(|o| !before.contains(o)).unwrap();
    assert!(
        placed.contains(new["id"].as_str().unwrap()),
        "{placed} / {new}"
    );
    let t = &c.record["transactions"][0];
    assert_eq!(t["state"], "committed", "{t}");

    // A second caller says no: no order, and the reservation is released.
    let aborted_before = erp.get("/stats")["transactions"]["aborted"]
        .as_u64()
        .unwrap();
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &["repeat my last order", "no", "goodbye"],
    );
    assert!(c.reply(2).contains("not placed"), "{}", c.said());
    assert_eq!(
        erp.orders_of("c-1005").len(),
        after.len(),
        "no order after a no"
    );
    let stats = erp.get("/stats");
    assert_eq!(
        stats["transactions"]["aborted"].as_u64().unwrap(),
        aborted_before + 1,
        "{stats}"
    );
    assert_eq!(c.record["transactions"][0]["state"], "aborted");

    // Hanging up at the confirmation aborts too.
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &["repeat my last order"],
    );
    assert_eq!(
        c.record["transactions"][0]["state"], "aborted",
        "{}",
        c.record
    );
    assert_eq!(erp.orders_of("c-1005").len(), after.len());
}

#[test]
fn products_promotions_history_and_knowledge() {
    let (dir, erp, tenant) = setup("chat-products");
    let orders_before = erp.orders_of("c-1005").len();
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &[
            "how much is the garden hose twenty five metres",
            "do you have any promotions",
            "what do i usually order",
            "what do you recommend",
            "do you sell gift cards",
            "i want to order two garden gloves",
            "yes",
            "goodbye",
        ],
    );
    assert!(c.reply(1).contains("29 euros 99"), "{}", c.said());
    assert!(c.reply(2).starts_with("Current offers:"), "{}", c.said());
    assert!(c.reply(3).contains("You usually order"), "{}", c.said());
    assert!(c.reply(4).contains("You might like"), "{}", c.said());
    assert!(c.reply(5).to_lowercase().contains("gift"), "{}", c.said());
    assert!(c.reply(6).contains("garden gloves"), "{}", c.said());
    assert!(c.reply(7).contains("order number is"), "{}", c.said());
    let orders = erp.orders_of("c-1005");
    assert_eq!(orders.len(), orders_before + 1);
    let newest = orders
        .iter()
        .max_by_key(|o| o["id"].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(newest["lines"][0]["sku"], "KH-4002", "{newest}");
    assert_eq!(newest["lines"][0]["quantity"], 2, "{newest}");
}

#[test]
fn complaints_status_and_opening_one() {
    let (dir, erp, tenant) = setup("chat-complaints");
    let before = erp.get("/stats")["complaints"].as_u64().unwrap();
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &[
            "what is the status of my complaint",
            "i have a complaint",
            "it arrived damaged",
            "yes",
            "goodbye",
        ],
    );
    assert!(c.reply(1).contains("payment page"), "{}", c.said());
    assert!(c.reply(2).contains("What is the problem"), "{}", c.said());
    assert!(c.reply(3).contains("arrived damaged"), "{}", c.said());
    assert!(c.reply(4).contains("reference is"), "{}", c.said());
    assert_eq!(
        erp.get("/stats")["complaints"].as_u64().unwrap(),
        before + 1
    );
}

#[test]
fn unknown_callers_after_hours_and_holidays() {
    let (dir, _erp, tenant) = setup("chat-schedule");
    let c = chat(
        &tenant,
        dir.path(),
        "+19995550000",
        OFFICE_HOURS,
        &["where is my order", "goodbye"],
    );
    assert!(
        c.reply(0).starts_with("Thank you for calling"),
        "{}",
        c.said()
    );
    assert!(
        c.reply(1).contains("could not find an account"),
        "{}",
        c.said()
    );
    assert!(c.record["contact"].is_null());

    let c = chat(&tenant, dir.path(), EMILY, EVENING, &["goodbye"]);
    assert!(c.reply(0).contains("office is closed"), "{}", c.said());
    assert_eq!(c.record["agents"][0]["name"], "after-hours");

    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        CHRISTMAS,
        &["where is my order", "goodbye"],
    );
    assert!(c.reply(0).contains("Happy holidays"), "{}", c.said());
    assert_eq!(c.record["agents"][0]["name"], "holiday");
    assert!(c.reply(1).contains("40140"), "{}", c.said());
}

#[test]
fn humans_keys_and_silence() {
    let (dir, _erp, tenant) = setup("chat-human");
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &["i want to talk to a human"],
    );
    assert_eq!(
        c.lines.last().unwrap(),
        "[transfer sip:support@127.0.0.1:5070]",
        "{}",
        c.said()
    );
    assert_eq!(c.record["outcome"], "transferred");
    // VIP callers go to the priority queue.
    let c = chat(
        &tenant,
        dir.path(),
        ANA_VIP,
        OFFICE_HOURS,
        &["talk to a human"],
    );
    assert_eq!(
        c.lines.last().unwrap(),
        "[transfer sip:priority@127.0.0.1:5070]",
        "{}",
        c.said()
    );
    // Key 1 is order status; silence is asked about, three times ends the call.
    let c = chat(&tenant, dir.path(), EMILY, OFFICE_HOURS, &["1", "", "", ""]);
    assert!(c.reply(1).contains("40140"), "{}", c.said());
    assert!(c.reply(2).contains("Are you still there"), "{}", c.said());
    assert_eq!(
        c.lines.last().unwrap(),
        "[hangup]",
        "{}\n{}",
        c.said(),
        c.stderr
    );
}

/// Starts `voxgate chat` paused at `point` (the test hook `VOXGATE_TEST_PAUSE`) after
/// saying `input`, waits until it is there, and kills it with SIGKILL.
fn kill_at(tenant: &Path, dir: &Path, point: &str, input: &[&str]) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args([
            "chat",
            "--tenant",
            "demo",
            "--from",
            EMILY,
            "--at",
            OFFICE_HOURS,
        ])
        .arg("--tenant-file")
        .arg(tenant)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env(
            "VOXGATE_CACHE_DIR",
            std::env::temp_dir().join("voxgate-chat-test-cache"),
        )
        .env("VOXGATE_TEST_PAUSE", point)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start voxgate chat");
    let mut stdin = child.stdin.take().unwrap();
    for line in input {
        writeln!(stdin, "{line}").unwrap();
    }
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let marker = format!("voxgate: paused at {point}");
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains(&marker) {
            break;
        }
        seen.push(line);
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "chat ended before {point}: {seen:?}"
    );
    // Command::kill is SIGKILL on Unix: no destructor, no flush, no goodbye.
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
}

#[test]
fn killed_between_confirmation_and_commit_the_order_exists_exactly_once_after_restart() {
    let (dir, erp, tenant) = setup("chat-crash-confirm");
    let before = erp.orders_of("c-1005").len();
    kill_at(
        &tenant,
        dir.path(),
        "after-confirm",
        &["repeat my last order", "yes"],
    );
    assert_eq!(
        erp.orders_of("c-1005").len(),
        before,
        "killed before the commit reached the ERP"
    );
    // The restart finishes the confirmed change from the journal.
    let c = chat(&tenant, dir.path(), EMILY, OFFICE_HOURS, &["goodbye"]);
    assert!(c.reply(0).contains("Emily"), "{}", c.said());
    assert_eq!(
        erp.orders_of("c-1005").len(),
        before + 1,
        "committed once after restart"
    );
    // And never again.
    chat(&tenant, dir.path(), EMILY, OFFICE_HOURS, &["goodbye"]);
    assert_eq!(
        erp.orders_of("c-1005").len(),
        before + 1,
        "not committed twice"
    );
}

#[test]
fn killed_between_prepare_and_confirmation_the_reservation_is_aborted_after_restart() {
    let (dir, erp, tenant) = setup("chat-crash-prepare");
    let before = erp.orders_of("c-1005").len();
    let stats = erp.get("/stats");
    let aborted = stats["transactions"]["aborted"].as_u64().unwrap();
    kill_at(
        &tenant,
        dir.path(),
        "after-prepare",
        &["repeat my last order"],
    );
    let open = erp.get("/stats")["transactions"]["prepared"]
        .as_u64()
        .unwrap();
    assert!(open >= 1, "the reservation is held: {}", erp.get("/stats"));
    chat(&tenant, dir.path(), EMILY, OFFICE_HOURS, &["goodbye"]);
    let stats = erp.get("/stats");
    assert_eq!(
        stats["transactions"]["aborted"].as_u64().unwrap(),
        aborted + 1,
        "{stats}"
    );
    assert_eq!(
        stats["transactions"]["prepared"].as_u64().unwrap(),
        open - 1,
        "{stats}"
    );
    assert_eq!(erp.orders_of("c-1005").len(), before, "no order");
}

#[test]
fn a_plugin_that_traps_or_times_out_means_an_apology_and_a_human() {
    let (dir, erp, _) = setup("chat-chaos");
    // Knowledge answered by the misbehaving test plugin; everything else by demo-shop.
    let chaos = voxgate_runtime::testing::plugin_path("chaos");
    let path = demo_tenant_file(dir.path(), &erp.addr);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            "[plugins]\n",
            &format!("[plugins]\nknowledge = {:?}\n", chaos.display().to_string()),
        )
        .replace("call_deadline_ms = 2000", "call_deadline_ms = 300")
        .replace(
            "faq = [\"do you sell gift cards\", \"where are you located\"]",
            "faq = [\"trap\", \"loop\"]",
        );
    std::fs::write(&path, text).unwrap();
    for (question, kind) in [("trap", "trap"), ("loop", "deadline")] {
        let c = chat(&path, dir.path(), EMILY, OFFICE_HOURS, &[question]);
        assert!(
            c.reply(1)
                .starts_with("I am sorry, I cannot reach our system"),
            "{}",
            c.said()
        );
        assert_eq!(
            c.lines.last().unwrap(),
            "[transfer sip:support@127.0.0.1:5070]",
            "{}",
            c.said()
        );
        let r = &c.record;
        assert_eq!(r["outcome"], "escalated-after-error", "{r:#}");
        let failed: Vec<&Value> = r["plugin_calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["function"] == "knowledge.answer")
            .collect();
        assert_eq!(failed.len(), 1, "{r:#}");
        assert_eq!(failed[0]["outcome"], kind, "{r:#}");
        assert_eq!(failed[0]["plugin"], "chaos", "{r:#}");
    }
}
