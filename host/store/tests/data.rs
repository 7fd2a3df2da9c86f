//! The tenant store and the control store, on SQLite and on PostgreSQL: calls written in
//! any order, filters, plugin versions and their history, credits that cannot go
//! negative, post-call analyses (paid once, queued, leased, retried), retention, tenants,
//! tokens and the audit log; SQLite's files and snapshots; PostgreSQL's change
//! notifications and nodes spending credits at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use support::{Backend, TempDir};
use voxgate_store::pg::Heard;
use voxgate_store::{
    Activation, AnalysisFilter, AuditEntry, Bindings, CallEnd, CallFilter, CallOutcome,
    ControlStore, Created, Finished, NewAnalysis, NewCall, OpenError, PgStore, PluginRow,
    SqliteControlStore, SqliteTenantStore, SqliteTxLog, StoreError, TenantRow, TenantStore,
    TokenRow, TxLog,
};

fn ended(at: i64, duration: i64) -> CallEnd {
    CallEnd {
        ended_at: at,
        duration_ms: duration,
        reason: "bye".into(),
        rtp: Some(r#"{"packets_received":50}"#.into()),
        recording: None,
    }
}

both_backends!(call_events_in_any_order_make_one_row, |backend| {
    let store = backend.tenant();
    // The end and the record can arrive before the start (they come from other tasks).
    store.call_ended("c1", &ended(10_000, 4_000)).unwrap();
    store
        .call_outcome(
            "c1",
            9_000,
            &CallOutcome {
                record: r#"{"turns":[{"who":"caller","text":"hi"}],"summary":"s"}"#.into(),
                outcome: "completed".into(),
                agent: "office".into(),
                summary: "asked for an order".into(),
                plugin_versions: vec!["abc".into()],
            },
        )
        .unwrap();
    store
        .call_started(&NewCall {
            call_id: "c1".into(),
            caller: "+441".into(),
            called: "100".into(),
            started_at: 6_000,
            node: "gw-a".into(),
        })
        .unwrap();
    store
        .call_started(&NewCall {
            call_id: "c2".into(),
            caller: "+442".into(),
            called: "100".into(),
            started_at: 20_000,
            node: "gw-b".into(),
        })
        .unwrap();
    let row = store.call("c1").unwrap().unwrap();
    assert_eq!(row.caller, "+441");
    assert_eq!(row.started_at, 6_000);
    assert_eq!(row.ended_at, Some(10_000));
    assert_eq!(row.outcome, "completed");
    assert_eq!(row.plugin_versions, vec!["abc".to_string()]);
    assert_eq!(row.end_reason.as_deref(), Some("bye"));
    assert_eq!(row.node, "gw-a");

    let all = store
        .calls(&CallFilter {
            limit: 10,
            ..CallFilter::default()
        })
        .unwrap();
    assert_eq!(
        all.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(),
        ["c2", "c1"],
        "newest first"
    );
    let active = store
        .calls(&CallFilter {
            active: Some(true),
            limit: 10,
            ..CallFilter::default()
        })
        .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].call_id, "c2");
    let by_number = store
        .calls(&CallFilter {
            number: Some("+441".into()),
            limit: 10,
            ..CallFilter::default()
        })
        .unwrap();
    assert_eq!(by_number.len(), 1);
    let in_window = store
        .calls(&CallFilter {
            since: Some(5_000),
            until: Some(7_000),
            outcome: Some("completed".into()),
            agent: Some("office".into()),
            limit: 10,
            ..CallFilter::default()
        })
        .unwrap();
    assert_eq!(in_window.len(), 1);
    let wrong_agent = store
        .calls(&CallFilter {
            agent: Some("holiday".into()),
            limit: 10,
            ..CallFilter::default()
        })
        .unwrap();
    assert!(wrong_agent.is_empty());

    // Retention: the call stays, its words and recording go.
    store
        .call_ended(
            "c2",
            &CallEnd {
                recording: Some("c2.vxrec".into()),
                ..ended(25_000, 5_000)
            },
        )
        .unwrap();
    let expired = store.expire(15_000, 99_000).unwrap();
    assert_eq!(expired.calls, 1);
    assert!(expired.recordings.is_empty(), "c1 had no recording");
    let c1 = store.call("c1").unwrap().unwrap();
    assert_eq!(c1.expired_at, Some(99_000));
    assert!(!c1.record.unwrap().contains("hi"));
    assert_eq!(c1.summary, "");
    let expired = store.expire(30_000, 99_500).unwrap();
    assert_eq!(expired.recordings, vec!["c2.vxrec".to_string()]);
    assert_eq!(store.call("c2").unwrap().unwrap().recording, None);
});

both_backends!(
    plugin_versions_are_immutable_and_history_survives_reopening,
    |backend| {
        let row = |id: &str, at: i64| PluginRow {
            id: id.into(),
            name: "shop".into(),
            size: 3,
            wit_version: "0.1.0".into(),
            interfaces: vec!["contacts".into(), "orders".into()],
            uploaded_at: at,
            uploaded_by: "ops".into(),
        };
        {
            let store = backend.tenant();
            assert!(store.put_plugin(&row("v1", 1), b"one").unwrap());
            assert!(
                !store.put_plugin(&row("v1", 5), b"one").unwrap(),
                "same bytes"
            );
            assert!(store.put_plugin(&row("v2", 2), b"two").unwrap());
            let mut bindings = Bindings::new();
            bindings.insert("contacts".into(), "v1".into());
            store
                .record_activation(&Activation {
                    seq: 0,
                    at: 3,
                    actor: "ops".into(),
                    action: "activate".into(),
                    version: Some("v1".into()),
                    bindings: bindings.clone(),
                    canary: None,
                })
                .unwrap();
            store
                .record_activation(&Activation {
                    seq: 0,
                    at: 4,
                    actor: "ops".into(),
                    action: "canary".into(),
                    version: Some("v2".into()),
                    bindings,
                    canary: Some(("v2".into(), 10)),
                })
                .unwrap();
            let unknown = store.record_activation(&Activation {
                seq: 0,
                at: 5,
                actor: "ops".into(),
                action: "activate".into(),
                version: Some("v9".into()),
                bindings: Bindings::new(),
                canary: None,
            });
            assert!(
                matches!(unknown, Err(StoreError::Invalid(_))),
                "{unknown:?}"
            );
        }
        let store = backend.reopen().tenant();
        let versions = store.plugins().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].id, "v2", "newest first");
        assert_eq!(versions[1].uploaded_at, 1, "the first upload is kept");
        assert_eq!(store.plugin_bytes("v1").unwrap().unwrap(), b"one");
        assert_eq!(store.plugin_bytes("v3").unwrap(), None);
        let history = store.activations().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].bindings.get("contacts").unwrap(), "v1");
        assert_eq!(history[1].canary, Some(("v2".to_string(), 10)));
    }
);

both_backends!(credits_never_go_below_zero, |backend| {
    let store = backend.tenant();
    assert_eq!(store.balance().unwrap(), 0);
    assert_eq!(store.add_credits(1, "ops", 10, "top-up").unwrap(), 10);
    assert_eq!(store.add_credits(2, "system", -4, "call").unwrap(), 6);
    let refused = store.add_credits(3, "system", -7, "call");
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.balance().unwrap(), 6);
    let entries = store.credit_entries(10).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].amount, -4);
});

#[test]
fn the_tenant_file_also_holds_the_transaction_log_and_snapshots_are_complete() {
    let dir = TempDir::new("snapshot");
    let path = dir.0.join("t.sqlite");
    let store = SqliteTenantStore::open(&path).unwrap();
    let log = SqliteTxLog::open(&path).unwrap();
    assert!(log.pending().unwrap().is_empty());
    store
        .call_started(&NewCall {
            call_id: "c1".into(),
            started_at: 1,
            ..NewCall::default()
        })
        .unwrap();
    let copy = dir.0.join("copy.sqlite");
    store.snapshot(&copy).unwrap();
    let again = store.snapshot(&copy);
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let restored = SqliteTenantStore::open(&copy).unwrap();
    assert!(restored.call("c1").unwrap().is_some());
}

both_backends!(control_store_keeps_tenants_tokens_and_audit, |backend| {
    let store = backend.control();
    let tenant = TenantRow {
        id: "acme".into(),
        config: r#"{"id":"acme"}"#.into(),
        recording_key: [7; 32],
        created_at: 1,
        updated_at: 1,
    };
    store.create_tenant(&tenant).unwrap();
    assert!(matches!(
        store.create_tenant(&tenant),
        Err(StoreError::Conflict(_))
    ));
    store
        .update_tenant("acme", r#"{"id":"acme","x":1}"#, 2)
        .unwrap();
    assert!(matches!(
        store.update_tenant("nobody", "{}", 2),
        Err(StoreError::NotFound(_))
    ));
    let back = store.tenant("acme").unwrap().unwrap();
    assert_eq!(back.recording_key, [7; 32]);
    assert_eq!(back.updated_at, 2);
    assert!(
        !format!("{back:?}").contains("7, 7"),
        "the key stays out of logs"
    );

    assert!(!store.has_operator_token().unwrap());
    let op = TokenRow {
        id: "t1".into(),
        name: "ops".into(),
        tenant: None,
        created_at: 1,
        created_by: "cli".into(),
        revoked_at: None,
    };
    store.create_token(&op, &[1; 32]).unwrap();
    let acme = TokenRow {
        id: "t2".into(),
        name: "acme-it".into(),
        tenant: Some("acme".into()),
        ..op.clone()
    };
    store.create_token(&acme, &[2; 32]).unwrap();
    assert!(store.has_operator_token().unwrap());
    assert_eq!(store.token_by_hash(&[2; 32]).unwrap().unwrap().id, "t2");
    assert_eq!(store.tokens(Some("acme")).unwrap().len(), 1);
    assert_eq!(store.tokens(None).unwrap().len(), 2);
    store.revoke_token("t1", 5).unwrap();
    assert_eq!(store.token_by_hash(&[1; 32]).unwrap(), None, "revoked");
    assert!(!store.has_operator_token().unwrap());
    assert!(matches!(
        store.revoke_token("t9", 5),
        Err(StoreError::NotFound(_))
    ));

    for (i, tenant) in [Some("acme"), None, Some("other")].into_iter().enumerate() {
        store
            .audit(&AuditEntry {
                at: i as i64,
                actor: "ops".into(),
                tenant: tenant.map(str::to_string),
                action: "x".into(),
                ..AuditEntry::default()
            })
            .unwrap();
    }
    assert_eq!(store.audit_log(Some("acme"), 10).unwrap().len(), 1);
    assert_eq!(store.audit_log(None, 10).unwrap().len(), 3);
    assert_eq!(
        store.audit_log(None, 10).unwrap()[0].tenant.as_deref(),
        Some("other")
    );
    store.delete_tenant("acme").unwrap();
    assert!(store.tenant("acme").unwrap().is_none());
});

#[test]
fn a_control_file_is_never_opened_as_a_tenant_file() {
    let dir = TempDir::new("control-file");
    let path = dir.0.join("control.sqlite");
    let store = SqliteControlStore::open(&path).unwrap();
    store
        .create_tenant(&TenantRow {
            id: "acme".into(),
            config: r#"{"id":"acme"}"#.into(),
            recording_key: [7; 32],
            created_at: 1,
            updated_at: 1,
        })
        .unwrap();
    drop(store);

    // The two kinds of file are never mistaken for each other.
    let refused = SqliteTenantStore::open(&path);
    assert!(
        matches!(refused, Err(OpenError::ForeignFile { .. })),
        "{refused:?}"
    );
}

fn queued(id: &str, call: &str, credits: i64, at: i64) -> NewAnalysis {
    NewAnalysis {
        id: id.into(),
        call_id: call.into(),
        source: "upload".into(),
        created_at: at,
        metadata: r#"{"queue":"support"}"#.into(),
        recording: Some(format!("{id}.sealed")),
        recording_ms: Some(61_000),
        credits,
        date_time: at,
        queue: "support".into(),
        agent_id: "ana".into(),
        department: String::new(),
        done: None,
    }
}

both_backends!(
    an_analysis_is_paid_once_per_call_and_never_on_credit,
    |backend| {
        let store = backend.tenant();
        // No credits: refused, nothing written.
        let err = store
            .create_analysis(&queued("a1", "c1", 2, 1_000))
            .unwrap_err();
        assert!(matches!(err, StoreError::Insufficient(_)), "{err:?}");
        assert!(store.analysis("a1").unwrap().is_none());
        store.add_credits(1_000, "ops", 3, "top-up").unwrap();
        let Created::New(row) = store
            .create_analysis(&queued("a1", "c1", 2, 2_000))
            .unwrap()
        else {
            panic!("a new analysis");
        };
        assert_eq!(
            (row.status.as_str(), row.credits, row.attempts),
            ("queued", 2, 0)
        );
        assert_eq!(store.balance().unwrap(), 1);
        // The same call again: the first analysis, nothing spent.
        let again = store
            .create_analysis(&queued("a2", "c1", 2, 3_000))
            .unwrap();
        assert_eq!(again, Created::Existing(row.clone()));
        assert_eq!(store.balance().unwrap(), 1);
        assert!(store.analysis("a2").unwrap().is_none());
        // More than the balance: refused whole.
        assert!(matches!(
            store.create_analysis(&queued("a3", "c3", 2, 3_000)),
            Err(StoreError::Insufficient(_))
        ));
        assert_eq!(store.balance().unwrap(), 1);
        assert_eq!(store.analysis_of_call("c1").unwrap().unwrap().id, "a1");
        let spent = &store.credit_entries(10).unwrap()[0];
        assert_eq!((spent.amount, spent.balance), (-2, 1));
        assert!(
            spent.note.contains("a1") && spent.note.contains("c1"),
            "{}",
            spent.note
        );
    }
);

both_backends!(
    the_queue_claims_in_order_retries_later_and_takes_over_dead_claims,
    |backend| {
        let store = backend.tenant();
        store.add_credits(0, "ops", 100, "").unwrap();
        store
            .create_analysis(&queued("a1", "c1", 1, 1_000))
            .unwrap();
        store
            .create_analysis(&queued("a2", "c2", 1, 2_000))
            .unwrap();
        assert!(
            store.claim_analysis(500, 60_000).unwrap().is_none(),
            "not due yet"
        );
        let first = store.claim_analysis(5_000, 60_000).unwrap().unwrap();
        assert_eq!(
            (first.id.as_str(), first.status.as_str(), first.attempts),
            ("a1", "running", 1)
        );
        // A failed attempt goes back in the queue for later; meanwhile the next one is due.
        store
            .fail_analysis("a1", 6_000, "service down", Some(36_000))
            .unwrap();
        let second = store.claim_analysis(7_000, 60_000).unwrap().unwrap();
        assert_eq!(second.id, "a2");
        assert!(store.claim_analysis(8_000, 60_000).unwrap().is_none());
        // Its worker reports progress (renewing the lease), then dies.
        store.analysis_progress("a2", 20_000, 0.5).unwrap();
        assert!(
            store
                .claim_analysis(36_000, 60_000)
                .unwrap()
                .is_some_and(|r| r.id == "a1")
        );
        assert!(
            store.claim_analysis(70_000, 60_000).unwrap().is_none(),
            "lease still held"
        );
        let taken = store.claim_analysis(81_000, 60_000).unwrap().unwrap();
        assert_eq!((taken.id.as_str(), taken.attempts), ("a2", 2));
        store
            .finish_analysis(
                "a2",
                82_000,
                &Finished {
                    transcript: r#"{"turns":[]}"#.into(),
                    result: r#"{"category":"delivery"}"#.into(),
                    category: "delivery".into(),
                    sentiment: "negative".into(),
                },
            )
            .unwrap();
        let done = store.analysis("a2").unwrap().unwrap();
        assert_eq!(
            (done.status.as_str(), done.progress, done.finished_at),
            ("done", 1.0, Some(82_000))
        );
        assert_eq!(
            (done.category.as_str(), done.sentiment.as_str()),
            ("delivery", "negative")
        );
        // Given up on: failed for good, never claimed again.
        store
            .fail_analysis("a1", 90_000, "still down", None)
            .unwrap();
        let failed = store.analysis("a1").unwrap().unwrap();
        assert_eq!(
            (failed.status.as_str(), failed.error.as_deref()),
            ("failed", Some("still down"))
        );
        assert!(store.claim_analysis(10_000_000, 60_000).unwrap().is_none());
        // Lists filter on what the KPIs group by.
        let all = |f: AnalysisFilter| store.analyses(&AnalysisFilter { limit: 10, ..f }).unwrap();
        assert_eq!(all(AnalysisFilter::default()).len(), 2);
        assert_eq!(
            all(AnalysisFilter {
                status: Some("done".into()),
                ..Default::default()
            })
            .len(),
            1
        );
        assert_eq!(
            all(AnalysisFilter {
                since: Some(1_500),
                ..Default::default()
            })[0]
                .id,
            "a2"
        );
        assert!(
            all(AnalysisFilter {
                queue: Some("sales".into()),
                ..Default::default()
            })
            .is_empty()
        );
    }
);

both_backends!(a_voxgate_call_analysis_is_stored_done, |backend| {
    let store = backend.tenant();
    let mut own = queued("a1", "call-1", 0, 5_000);
    own.source = "voxgate".into();
    own.recording = None;
    own.done = Some(Finished {
        transcript: "{}".into(),
        result: r#"{"category":"order"}"#.into(),
        category: "order".into(),
        sentiment: "positive".into(),
    });
    store.create_analysis(&own).unwrap();
    let row = store.analysis_of_call("call-1").unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.credits, row.finished_at),
        ("done", 0, Some(5_000))
    );
    assert!(store.claim_analysis(i64::MAX / 2, 1).unwrap().is_none());
});

both_backends!(
    retention_keeps_analysis_results_but_not_transcripts,
    |backend| {
        let store = backend.tenant();
        store.add_credits(0, "ops", 10, "").unwrap();
        store
            .create_analysis(&queued("old", "c-old", 1, 1_000))
            .unwrap();
        store
            .create_analysis(&queued("failed", "c-failed", 1, 1_500))
            .unwrap();
        store
            .create_analysis(&queued("new", "c-new", 1, 50_000))
            .unwrap();
        let done = Finished {
            transcript: r#"{"turns":[{"text":"hello"}]}"#.into(),
            result: r#"{"category":"question"}"#.into(),
            category: "question".into(),
            sentiment: "neutral".into(),
        };
        for id in ["old", "new"] {
            store.claim_analysis(60_000, 1).unwrap();
            store.finish_analysis(id, 60_000, &done).unwrap();
        }
        store.fail_analysis("failed", 60_000, "bad", None).unwrap();
        let expired = store.expire(10_000, 70_000).unwrap();
        assert_eq!(expired.analysis_recordings, ["failed.sealed"]);
        let old = store.analysis("old").unwrap().unwrap();
        assert_eq!(
            (old.transcript, old.result.as_deref()),
            (None, Some(done.result.as_str()))
        );
        assert_eq!(
            store
                .analysis("new")
                .unwrap()
                .unwrap()
                .transcript
                .as_deref(),
            Some(done.transcript.as_str())
        );
        assert_eq!(store.analysis("failed").unwrap().unwrap().recording, None);
    }
);

fn plugin(id: &str) -> PluginRow {
    PluginRow {
        id: id.into(),
        name: "shop".into(),
        size: 3,
        wit_version: "0.1.0".into(),
        interfaces: vec!["contacts".into()],
        uploaded_at: 1,
        uploaded_by: "ops".into(),
    }
}

fn activate(version: &str) -> Activation {
    Activation {
        seq: 0,
        at: 3,
        actor: "ops".into(),
        action: "activate".into(),
        version: Some(version.into()),
        bindings: Bindings::new(),
        canary: None,
    }
}

#[test]
fn other_nodes_hear_of_plugin_and_tenant_changes_once_committed() {
    // Generous: reached only when a notification never comes, and then the test fails.
    const WAIT: Duration = Duration::from_secs(10);
    // How long silence must last to count as nothing sent.
    const QUIET: Duration = Duration::from_millis(300);
    let (listening, url) = support::fresh_pg("notifications");
    let writing = PgStore::connect(&url).unwrap();
    let mut listener = listening.listener();
    assert_eq!(listener.wait(WAIT).unwrap(), Heard::Reconnected);
    assert_eq!(listener.wait(QUIET).unwrap(), Heard::Quiet);

    let acme = writing.tenant("acme");
    acme.put_plugin(&plugin("v1"), b"one").unwrap();
    acme.record_activation(&activate("v1")).unwrap();
    assert_eq!(
        listener.wait(WAIT).unwrap(),
        Heard::Changes(vec!["plugins:acme".into()])
    );

    let control = writing.control();
    let tenant = TenantRow {
        id: "acme".into(),
        config: r#"{"id":"acme"}"#.into(),
        recording_key: [7; 32],
        created_at: 1,
        updated_at: 1,
    };
    control.create_tenant(&tenant).unwrap();
    assert_eq!(
        listener.wait(WAIT).unwrap(),
        Heard::Changes(vec!["tenants".into()])
    );
    control
        .update_tenant("acme", r#"{"id":"acme","x":1}"#, 2)
        .unwrap();
    assert_eq!(
        listener.wait(WAIT).unwrap(),
        Heard::Changes(vec!["tenants".into()])
    );

    // Refused or rolled back: nobody is told.
    assert!(matches!(
        control.update_tenant("nobody", "{}", 3),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        control.create_tenant(&tenant),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        acme.record_activation(&activate("v9")),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(listener.wait(QUIET).unwrap(), Heard::Quiet);

    writing.notify("tenants").unwrap();
    assert_eq!(
        listener.wait(WAIT).unwrap(),
        Heard::Changes(vec!["tenants".into()])
    );
}

/// Runs `work` on `threads` threads at once, each with its own connections to the
/// backend's data (another node's), and returns what each returned.
fn at_once<T: Send + 'static>(
    backend: &Backend,
    threads: usize,
    work: impl Fn(usize, Backend) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let start = Arc::new(Barrier::new(threads));
    let work = Arc::new(work);
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let other = backend.reopen();
            let start = Arc::clone(&start);
            let work = Arc::clone(&work);
            thread::spawn(move || {
                start.wait();
                work(n, other)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn nodes_spending_credits_at_once_never_overspend() {
    const THREADS: usize = 4;
    const SPENDS: usize = 30;
    let backend = Backend::postgres("credits_at_once");
    backend
        .tenant()
        .add_credits(0, "ops", 100, "top-up")
        .unwrap();
    let results = at_once(&backend, THREADS, |_, other| {
        let store = other.tenant();
        (0..SPENDS)
            .map(|i| store.add_credits(i as i64, "system", -1, "call"))
            .collect::<Vec<_>>()
    });
    let mut left = Vec::new();
    let mut refused = 0;
    for result in results.into_iter().flatten() {
        match result {
            Ok(balance) => left.push(balance),
            Err(StoreError::Conflict(_)) => refused += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    left.sort_unstable();
    // Each spend saw the one before it: every balance from 99 down to 0, once.
    assert_eq!(left, (0..100).collect::<Vec<i64>>());
    assert_eq!(refused, THREADS * SPENDS - 100);
    let store = backend.tenant();
    assert_eq!(store.balance().unwrap(), 0);
    let entries = store.credit_entries(1_000).unwrap();
    assert_eq!(entries.len(), 101);
    assert!(entries.iter().all(|e| e.balance >= 0));
}

#[test]
fn the_same_call_posted_by_several_nodes_at_once_is_analysed_and_paid_once() {
    const THREADS: usize = 4;
    let backend = Backend::postgres("analysis_at_once");
    backend
        .tenant()
        .add_credits(0, "ops", 10, "top-up")
        .unwrap();
    let created = at_once(&backend, THREADS, |n, other| {
        other
            .tenant()
            .create_analysis(&queued(&format!("a{n}"), "c1", 2, 1_000))
            .unwrap()
    });
    let new: Vec<_> = created
        .iter()
        .filter_map(|c| match c {
            Created::New(row) => Some(row.clone()),
            Created::Existing(_) => None,
        })
        .collect();
    assert_eq!(new.len(), 1, "{created:?}");
    for c in &created {
        if let Created::Existing(row) = c {
            assert_eq!(row, &new[0]);
        }
    }
    let store = backend.tenant();
    assert_eq!(store.balance().unwrap(), 8);
    assert_eq!(
        store.credit_entries(10).unwrap().len(),
        2,
        "the top-up and one spend"
    );
    assert_eq!(store.analysis_of_call("c1").unwrap().unwrap().id, new[0].id);
}
