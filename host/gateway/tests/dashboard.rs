//! The dashboard in headless Chromium (Debian's, driven by playwright-core from
//! `tests/browser/dashboard.mjs`): log in, watch a real SIP call appear live and end,
//! open its detail with the transcript and its post-call analysis, then the Analytics
//! view (KPI tiles, the sentiment chart, the call's analysis, the CSV export), and
//! activate another plugin version. The driver writes screenshots; what it read off the
//! page is checked here against the gateway's API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::gateway::Gateway;
use support::{TempDir, assert_sipp_ok, sipp};

#[test]
fn dashboard_shows_a_live_call_its_transcript_and_analysis_and_activates_a_version() {
    support::which("chromium", "chromium");
    support::which("node", "nodejs");
    let browser = support::repo_tests().join("browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "run scripts/setup (npm ci in tests/browser)"
    );
    let erp = support::erp::Erp::start();
    let dir = TempDir::new("dashboard");
    let tenant = support::erp::office_tenant_file(&dir.path().join("tenant"), &erp.addr);
    let gw = Gateway::start(dir.path(), &dir.path().join("data"), &[tenant], "");
    let token = gw.token();
    let v2 = gw.upload_demo_shop(&token, "dashboard");

    // Screenshots are kept where CI can pick them up.
    let shots = support::manifest_dir().join("../../target/screenshots/dashboard");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut driver = Command::new("timeout")
        .arg("300")
        .arg("node")
        .arg(browser.join("dashboard.mjs"))
        .env("VOXGATE_URL", format!("http://{}/", gw.admin))
        .env("VOXGATE_TOKEN", &token)
        .env("VOXGATE_TENANT", "demo")
        .env("SCREENSHOT_DIR", &shots)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node");
    let stdout = BufReader::new(driver.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut call = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        println!("driver: {line}");
        if line == "ready-for-call" {
            let (dir, sip) = (dir.path().to_path_buf(), gw.sip);
            call = Some(std::thread::spawn(move || {
                sipp(&dir, sip, "call.xml", "100", &[], Duration::from_secs(40))
            }));
        }
        lines.push(line);
    }
    let status = driver.wait().unwrap();
    let out = call.expect("the driver never got ready").join().unwrap();
    assert_sipp_ok(&out, "the call the dashboard watches", dir.path());
    assert!(status.success(), "driver failed: {lines:?}");

    let saw = lines
        .iter()
        .find_map(|l| l.strip_prefix("saw-call "))
        .expect("saw-call");
    assert!(lines.contains(&format!("call-ended {saw}")), "{lines:?}");
    let turns: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("detail-turns "))
        .and_then(|n| n.parse().ok())
        .expect("detail-turns");
    assert!(turns >= 1);
    // The transcript the page showed is the stored one.
    let detail = gw.get_json(&format!("/v1/tenants/demo/calls/{saw}"), &token);
    let stored = detail["record"]["turns"].as_array().unwrap();
    let first = &stored[0];
    let shown = format!(
        "turn {} {}",
        first["who"].as_str().unwrap(),
        first["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(lines.contains(&shown), "{shown:?} not in {lines:?}");
    assert!(lines.contains(&format!("activated {v2}")), "{lines:?}");
    let plugins = gw.get_json("/v1/tenants/demo/plugins", &token);
    assert_eq!(plugins["active"]["bindings"]["contacts"], v2.as_str());

    // The analysis the call's detail showed is the stored one.
    let analysis = &detail["analysis"];
    assert_eq!(analysis["status"], "done", "{analysis}");
    assert_eq!(analysis["source"], "voxgate", "{analysis}");
    let result = &analysis["result"];
    let category = result["category"].as_str().unwrap();
    assert!(
        lines.contains(&format!("analysis-category {category}")),
        "{category:?}: {lines:?}"
    );
    let sentiment = result["sentiment"]["overall"]["label"].as_str().unwrap();
    assert!(
        lines.contains(&format!("analysis-sentiment {sentiment}")),
        "{sentiment:?}: {lines:?}"
    );
    // The Analytics view: its tile, chart and CSV agree with the API. The test's data
    // directory is fresh, so the view's default period (the last 30 days) holds them all.
    let number = |prefix: &str| -> usize {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} line in {lines:?}"))
    };
    let kpis = gw.get_json("/v1/tenants/demo/analytics", &token);
    let total = usize::try_from(kpis["total"].as_u64().unwrap()).unwrap();
    assert!(total >= 1, "{kpis}");
    assert_eq!(number("kpi-total"), total, "{kpis}");
    let days = kpis["over_time"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|day| day["count"].as_u64().unwrap_or(0) > 0)
        .count();
    assert!(days >= 1, "{kpis}");
    assert_eq!(number("chart-bars"), days, "{kpis}");
    let listed = gw.get_json("/v1/tenants/demo/analyses", &token);
    assert_eq!(
        listed["analyses"].as_array().unwrap().len(),
        total,
        "{listed}"
    );
    assert_eq!(number("csv-rows"), total);
    // voxgate's transcript turns with words, as the analysis kept them.
    let id = analysis["id"].as_str().unwrap();
    let full = gw.get_json(&format!("/v1/tenants/demo/analyses/{id}"), &token);
    let kept = full["transcript"]["turns"].as_array().unwrap().len();
    assert_eq!(number("analysis-turns"), kept, "{full}");
    for shot in [
        "live-call.png",
        "call-detail.png",
        "call-analysis.png",
        "plugins.png",
        "kpis.png",
        "analytics.png",
        "analysis.png",
    ] {
        let png = std::fs::read(shots.join(shot)).unwrap_or_default();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{shot}");
    }
}
