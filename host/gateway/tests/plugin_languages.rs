//! Plugins in any language: the demo shop built from source in Rust, Python and
//! JavaScript, and the contacts plugin in C, each run through the same conformance suite
//! against the demo ERP and again from its recorded HTTP exchanges with the ERP stopped;
//! the Python and JavaScript builds also serve whole caller journeys in `voxgate chat`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Output;

use support::TempDir;
use support::chat::chat;
use support::erp::{Erp, demo_tenant_file_with};
use voxgate_runtime::testing::{kit_plugin_path, plugin_path, repo_root};

const EMILY: &str = "+442079460123";
const OFFICE_HOURS: &str = "2026-11-23T10:00:00+01:00";

fn voxgate(args: &[&str]) -> Output {
    // One cache for every test here: compiling the Python runtime takes seconds, once.
    support::voxgate_cli(args, "voxgate-languages-test-cache")
}

fn text(o: &Output) -> String {
    support::output_text(o)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs the demo suite against `plugin` live (recording), then offline from the tape.
/// Returns the report of the live run.
fn suite_live_then_offline(label: &str, plugin: &Path) -> serde_json::Value {
    let suite = repo_root().join("plugins/conformance/demo-shop");
    let tape = TempDir::new(&format!("tape-{label}"));
    let erp = Erp::start();
    let addr = erp.addr.clone();
    let base = format!("erp-base-url=http://{addr}");
    let run = |mode: &str| {
        voxgate(&[
            "plugin",
            "test",
            s(plugin),
            "--suite",
            s(&suite),
            "--json",
            "--config",
            &base,
            "--allow-host",
            &addr,
            mode,
            s(tape.path()),
        ])
    };
    let live = run("--record");
    let live_report: serde_json::Value = serde_json::from_slice(&live.stdout)
        .unwrap_or_else(|e| panic!("{label}: {e}: {}", text(&live)));
    assert!(
        live.status.success(),
        "{label} failed the suite against the ERP:\n{}",
        failures(&live_report)
    );
    let exchanges = std::fs::read_to_string(tape.path().join("http-exchanges.json")).unwrap();
    assert!(
        exchanges.contains("\"status\": 200"),
        "{label}: {exchanges}"
    );

    // The ERP process is gone; the same suite passes from the tape alone.
    drop(erp);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "the ERP is still up"
    );
    let offline = run("--replay");
    let offline_report: serde_json::Value = serde_json::from_slice(&offline.stdout)
        .unwrap_or_else(|e| panic!("{label}: {e}: {}", text(&offline)));
    assert!(
        offline.status.success(),
        "{label} failed the suite from the tape:\n{}{}",
        failures(&offline_report),
        String::from_utf8_lossy(&offline.stderr)
    );
    assert_eq!(offline_report["passed"], live_report["passed"], "{label}");
    live_report
}

fn failures(report: &serde_json::Value) -> String {
    report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["passed"] == false && c["skipped"] == false)
        .map(|c| {
            format!(
                "  {}: {} (answer {})\n",
                c["name"], c["detail"], c["answer"]
            )
        })
        .collect()
}

#[test]
fn the_demo_suite_passes_for_rust_python_and_javascript_alike() {
    let total = |r: &serde_json::Value| r["cases"].as_array().map_or(0, Vec::len) as u64;
    for (label, plugin) in [
        ("rust", plugin_path("demo-shop")),
        ("python", kit_plugin_path("demo_shop_py.wasm")),
        ("javascript", kit_plugin_path("demo_shop_js.wasm")),
    ] {
        let report = suite_live_then_offline(label, &plugin);
        assert_eq!(report["skipped"], 0, "{label}: {report:#}");
        assert_eq!(report["passed"].as_u64(), Some(total(&report)), "{label}");
    }
}

#[test]
fn the_c_contacts_plugin_passes_the_contacts_part_of_the_suite() {
    let report = suite_live_then_offline("c", &kit_plugin_path("contacts_c.wasm"));
    let cases = report["cases"].as_array().unwrap();
    let contacts: Vec<_> = cases
        .iter()
        .filter(|c| c["function"].as_str().unwrap().starts_with("contacts."))
        .collect();
    assert!(contacts.len() >= 7, "{report:#}");
    assert!(contacts.iter().all(|c| c["passed"] == true), "{report:#}");
    assert_eq!(
        report["skipped"].as_u64(),
        Some((cases.len() - contacts.len()) as u64),
        "only other interfaces are skipped"
    );
}

/// A known caller asks where her order is, then repeats her last order and confirms:
/// greeting by name, the ETA from the delivery interface, one new order in the ERP.
fn journey(label: &str, plugin: &Path) {
    let dir = TempDir::new(&format!("journey-{label}"));
    let erp = Erp::start();
    let tenant = demo_tenant_file_with(dir.path(), &erp.addr, plugin);
    let before = erp.orders_of("c-1005");
    let c = chat(
        &tenant,
        dir.path(),
        EMILY,
        OFFICE_HOURS,
        &[
            "where is my order",
            "repeat my last order",
            "yes",
            "goodbye",
        ],
    );
    assert!(c.reply(0).contains("Hello Emily"), "{label}: {}", c.said());
    let eta = c.reply(1);
    assert!(
        eta.contains("40140") && eta.contains("DPD UK") && eta.contains("should arrive"),
        "{label}: {}",
        c.said()
    );
    assert!(
        c.reply(2).contains("Shall I place the order"),
        "{label}: {}",
        c.said()
    );
    let placed = c.reply(3);
    assert!(placed.contains("order number is"), "{label}: {}", c.said());
    let after = erp.orders_of("c-1005");
    assert_eq!(
        after.len(),
        before.len() + 1,
        "{label}: exactly one new order"
    );
    let new = after.iter().find(|o| !before.contains(o)).unwrap();
    assert!(
        placed.contains(new["id"].as_str().unwrap()),
        "{label}: {placed}"
    );

    let r = &c.record;
    assert_eq!(r["outcome"], "completed", "{label}: {r:#}");
    assert_eq!(r["transactions"][0]["state"], "committed", "{label}: {r:#}");
    let calls = r["plugin_calls"].as_array().unwrap();
    // Plugins are named after their file, with dashes.
    let file = plugin
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .replace('_', "-");
    for f in [
        "contacts.lookup-by-phone",
        "orders.list-recent",
        "delivery.eta",
        "transactions.prepare",
        "transactions.commit",
    ] {
        let call = calls
            .iter()
            .find(|c| c["function"] == f)
            .unwrap_or_else(|| panic!("{label}: no {f} in {calls:#?}"));
        assert_eq!(call["outcome"], "ok", "{label}: {call}");
        assert_eq!(call["plugin"], file, "{label}: {call}");
    }
}

#[test]
fn a_python_plugin_serves_a_whole_caller_journey() {
    journey("python", &kit_plugin_path("demo_shop_py.wasm"));
}

#[test]
fn a_javascript_plugin_serves_a_whole_caller_journey() {
    journey("javascript", &kit_plugin_path("demo_shop_js.wasm"));
}

#[test]
fn every_kit_template_builds_into_a_plugin_that_serves_contacts() {
    for file in ["template_py.wasm", "template_js.wasm", "template_c.wasm"] {
        let path = kit_plugin_path(file);
        let out = voxgate(&["plugin", "check", "--json", s(&path)]);
        let t = text(&out);
        assert!(out.status.success(), "{file}: {t}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let interfaces: Vec<&str> = v["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap())
            .collect();
        assert!(interfaces.contains(&"contacts"), "{file}: {t}");
    }
}
