//! `voxgate plugin check` and `voxgate plugin call` as an integrator runs them: the real
//! binary, real components, and the demo ERP as a separate process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Output;

use support::erp::Erp;
use voxgate_runtime::testing::plugin_path;

fn voxgate(args: &[&str]) -> Output {
    support::voxgate_cli(args, "voxgate-cli-test-cache")
}

fn text(o: &Output) -> String {
    support::output_text(o)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn check_lists_all_nine_interfaces_of_demo_shop() {
    let demo = plugin_path("demo-shop");
    let out = voxgate(&["plugin", "check", path(&demo)]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("voxgate:plugin@0.1.0"), "{t}");
    for iface in [
        "contacts",
        "orders",
        "products",
        "transactions",
        "delivery",
        "complaints",
        "knowledge",
        "escalation",
        "recordings",
    ] {
        assert!(t.contains(iface), "{iface} missing from:\n{t}");
    }
    assert!(t.contains("(9)"), "{t}");

    let out = voxgate(&["plugin", "check", "--json", path(&demo)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["interfaces"].as_array().map(Vec::len), Some(9));
}

#[test]
fn check_rejects_what_cannot_be_a_plugin() {
    let dir = std::env::temp_dir().join(format!("voxgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text_file = dir.join("notes.txt");
    std::fs::write(&text_file, "not wasm at all\n").unwrap();
    let core = dir.join("core.wasm");
    std::fs::write(&core, wat::parse_str("(module)").unwrap()).unwrap();

    for (file, needle) in [
        (text_file.as_path(), "not a WebAssembly file"),
        (core.as_path(), "core WebAssembly module, not a component"),
    ] {
        let out = voxgate(&["plugin", "check", path(file)]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{t}");
        assert!(t.contains(needle), "expected `{needle}` in:\n{t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn call_fetches_a_contact_from_the_running_erp_only_when_allowed() {
    let erp = Erp::start();
    let demo = plugin_path("demo-shop");
    let base = format!("erp-base-url=http://{}", erp.addr);
    let out = voxgate(&[
        "plugin",
        "call",
        path(&demo),
        "contacts.lookup-by-phone",
        r#"["+442079460123"]"#,
        "--allow-host",
        &erp.addr,
        "--config",
        &base,
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["first-name"], "Emily");
    assert_eq!(v["last-name"], "Clarke");
    assert_eq!(v["phone"], "+442079460123");

    let out = voxgate(&[
        "plugin",
        "call",
        path(&demo),
        "contacts.lookup-by-phone",
        r#"["+442079460123"]"#,
        "--config",
        &base,
    ]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let denied = v["error"]["denied"].as_str().unwrap_or_default();
    assert!(denied.contains("not allowed"), "{t}");
    assert!(
        v["denied"][0]
            .as_str()
            .unwrap_or_default()
            .contains(&erp.addr),
        "{t}"
    );
}

#[test]
fn call_reports_usage_errors_as_json() {
    let demo = plugin_path("demo-shop");
    for (function, args, needle) in [
        ("contacts.lookup-by-phone", "[1, 2]", "takes 1 argument"),
        ("contacts.lookup-by-phone", "[42]", "expected a string"),
        ("billing.pay", "[]", "not a voxgate interface"),
        ("orders.nope", "[]", "has no function"),
        ("contacts.lookup-by-phone", "not json", "not JSON"),
    ] {
        let out = voxgate(&["plugin", "call", path(&demo), function, args]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{function} {args}: {t}");
        assert!(t.contains(needle), "expected `{needle}` in:\n{t}");
    }
}

fn suite_dir() -> std::path::PathBuf {
    voxgate_runtime::testing::repo_root().join("plugins/conformance/demo-shop")
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("voxgate-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn demo_suite_passes_against_the_erp_and_again_offline_from_the_tape() {
    let demo = plugin_path("demo-shop");
    let suite = suite_dir();
    let tape = scratch("tape");
    let erp = Erp::start();
    let base = format!("erp-base-url=http://{}", erp.addr);
    let out = voxgate(&[
        "plugin",
        "test",
        path(&demo),
        "--suite",
        path(&suite_dir()),
        "--config",
        &base,
        "--allow-host",
        &erp.addr,
        "--secret",
        "erp-api-key=tape-must-not-hold-this",
        "--record",
        path(&tape),
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("39 passed, 0 failed, 0 skipped"), "{t}");
    let file = tape.join("http-exchanges.json");
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(
        !recorded.contains("tape-must-not-hold-this"),
        "a secret reached the tape"
    );
    assert!(recorded.contains("(redacted)"), "{recorded}");
    drop(erp);

    let replay = |extra: &[&str]| {
        let mut args = vec![
            "plugin",
            "test",
            path(&demo),
            "--suite",
            path(&suite),
            "--config",
            &base,
            "--replay",
            path(&tape),
        ];
        args.extend_from_slice(extra);
        voxgate(&args)
    };
    // The ERP is gone: every answer comes from the tape.
    let out = replay(&["--allow-host", &erp_addr(&base)]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("39 passed, 0 failed"), "{t}");
    assert!(
        t.contains("every request was answered from the tape"),
        "{t}"
    );

    // The allow-list still applies on replay.
    let out = replay(&[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("expected a result, got denied"), "{t}");

    // A tape that lacks an answer fails the case and names the request.
    let mut doc: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    doc["exchanges"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !e["url"].as_str().unwrap().ends_with("/orders/40140"));
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = replay(&["--allow-host", &erp_addr(&base)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL  an order with its lines"), "{t}");
    assert!(t.contains("/orders/40140"), "{t}");
    assert!(t.contains("1 request(s) had no recorded answer"), "{t}");
    let _ = std::fs::remove_dir_all(&tape);
}

fn erp_addr(base: &str) -> String {
    base.trim_start_matches("erp-base-url=http://").to_string()
}

#[test]
fn a_suite_names_what_a_plugin_got_wrong_and_skips_what_it_does_not_serve() {
    let dir = scratch("suite");
    let suite = dir.join("suite.json");
    std::fs::write(
        &suite,
        r#"{"name": "wrong", "cases": [
            {"name": "wrong tier", "function": "contacts.lookup-by-phone",
             "args": ["+12025550005"], "expect": {"ok": {"tier": "vip"}}},
            {"name": "orders", "function": "orders.get", "args": ["1"], "expect": {"error": "not-found"}}
        ]}"#,
    )
    .unwrap();
    let contacts = plugin_path("static-contacts");
    let out = voxgate(&["plugin", "test", path(&contacts), "--suite", path(&suite)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL  wrong tier"), "{t}");
    assert!(t.contains("at /tier: expected \"vip\""), "{t}");
    assert!(t.contains("skip  orders"), "{t}");
    assert!(t.contains("0 passed, 1 failed, 1 skipped"), "{t}");

    std::fs::write(&suite, r#"{"name": "broken", "cases": [{"name": "x"}]}"#).unwrap();
    let out = voxgate(&["plugin", "test", path(&contacts), "--suite", path(&suite)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("is not valid"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}
