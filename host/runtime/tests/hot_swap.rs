//! Hot swap under load: versions change while calls run, no call fails, no session sees
//! two versions, rollback restores the previous set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use voxgate_runtime::testing::plugin_bytes;
use voxgate_runtime::{CallContext, Capability, Runtime, RuntimeConfig, TenantEnv, TenantPlugins};

fn ctx(call: &str) -> CallContext {
    CallContext {
        tenant: "t1".into(),
        call_id: call.into(),
        caller: "+12025550001".into(),
        called: "+12025559999".into(),
        language: "en".into(),
        idempotency_key: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_under_load_fails_nothing_and_mixes_nothing() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let a = runtime
        .load("static-contacts", &plugin_bytes("static-contacts"))
        .unwrap();
    let b = runtime.load("chaos", &plugin_bytes("chaos")).unwrap();
    let tenant = Arc::new(TenantPlugins::new(
        runtime,
        TenantEnv::builder("t1").build(),
    ));
    tenant.activate(a.clone(), None).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let mixed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (tenant, stop, failures, mixed) = (
            tenant.clone(),
            stop.clone(),
            failures.clone(),
            mixed.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut sessions = 0usize;
            let mut by_company = [0usize; 2];
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let call = format!("w{w}-{n}");
                let session = tenant.session(&call);
                let pinned = session
                    .plugins()
                    .get(Capability::Contacts)
                    .unwrap()
                    .name()
                    .to_string();
                let mut seen = Vec::new();
                for _ in 0..3 {
                    match session.lookup_contact(&ctx(&call), "+12025550001").await {
                        Ok(c) => seen.push(c.company.unwrap_or_default()),
                        Err(e) => {
                            eprintln!("call failed: {e}");
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let expected = if pinned == "static-contacts" {
                    "static"
                } else {
                    "chaos"
                };
                if seen.iter().any(|c| c != expected) {
                    mixed.fetch_add(1, Ordering::Relaxed);
                }
                by_company[usize::from(expected == "chaos")] += 1;
                sessions += 1;
                // Let the swapper run: it shares these two worker threads.
                tokio::task::yield_now().await;
            }
            (sessions, by_company)
        }));
    }

    let mut swaps = 0;
    for i in 0..150 {
        let next = if i % 2 == 0 { b.clone() } else { a.clone() };
        let set = tenant.activate(next.clone(), None).unwrap();
        swaps += 1;
        // The new version is live for the very next call that starts.
        let probe = tenant.session(&format!("probe-{i}"));
        assert_eq!(probe.plugins().generation(), set.generation());
        assert_eq!(
            probe.plugins().get(Capability::Contacts).unwrap().id(),
            next.id()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut sessions = 0;
    let mut by_company = [0usize; 2];
    for w in workers {
        let (s, c) = w.await.unwrap();
        sessions += s;
        by_company[0] += c[0];
        by_company[1] += c[1];
    }
    eprintln!("{swaps} swaps, {sessions} sessions, static/chaos sessions: {by_company:?}");
    assert!(swaps >= 100);
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed calls");
    assert_eq!(
        mixed.load(Ordering::Relaxed),
        0,
        "sessions that saw two versions"
    );
    assert!(
        sessions > 100,
        "too few sessions to mean anything: {sessions}"
    );
    assert!(by_company[0] > 0 && by_company[1] > 0, "{by_company:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_session_keeps_its_version_and_rollback_restores() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let a = runtime
        .load("static-contacts", &plugin_bytes("static-contacts"))
        .unwrap();
    let b = runtime.load("chaos", &plugin_bytes("chaos")).unwrap();
    let tenant = TenantPlugins::new(runtime, TenantEnv::builder("t1").build());
    assert!(tenant.rollback().is_err(), "nothing to roll back to yet");

    tenant.activate(a.clone(), None).unwrap();
    let long_call = tenant.session("long");
    tenant.activate(b.clone(), None).unwrap();

    let c = long_call
        .lookup_contact(&ctx("long"), "+12025550001")
        .await
        .unwrap();
    assert_eq!(
        c.company.as_deref(),
        Some("static"),
        "in-flight call moved to the new version"
    );
    let fresh = tenant.session("fresh");
    let c = fresh
        .lookup_contact(&ctx("fresh"), "+12025550001")
        .await
        .unwrap();
    assert_eq!(c.company.as_deref(), Some("chaos"));

    tenant.rollback().unwrap();
    let after = tenant.session("after");
    assert_eq!(
        after.plugins().get(Capability::Contacts).unwrap().id(),
        a.id()
    );
    let c = after
        .lookup_contact(&ctx("after"), "+12025550001")
        .await
        .unwrap();
    assert_eq!(c.company.as_deref(), Some("static"));
    // chaos also served knowledge; after rollback nothing does.
    assert!(!after.serves(Capability::Knowledge));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_share_goes_to_the_new_version() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let a = runtime
        .load("static-contacts", &plugin_bytes("static-contacts"))
        .unwrap();
    let b = runtime.load("chaos", &plugin_bytes("chaos")).unwrap();
    let tenant = TenantPlugins::new(runtime, TenantEnv::builder("t1").build());
    tenant.activate(a.clone(), None).unwrap();
    tenant.start_canary(b.clone(), 20).unwrap();
    let on_canary = (0..1000)
        .filter(|i| {
            tenant
                .session(&format!("call-{i}"))
                .plugins()
                .get(Capability::Contacts)
                .unwrap()
                .id()
                == b.id()
        })
        .count();
    assert!(
        (120..=280).contains(&on_canary),
        "{on_canary} of 1000 on a 20% canary"
    );
    // The same call id always lands on the same side.
    let side = |id: &str| tenant.session(id).plugins().generation();
    assert_eq!(side("call-7"), side("call-7"));
    assert!(tenant.start_canary(b, 0).is_err());
    tenant.stop_canary();
    assert!((0..100).all(|i| {
        tenant
            .session(&format!("c{i}"))
            .plugins()
            .get(Capability::Contacts)
            .unwrap()
            .id()
            == a.id()
    }));
}
