//! The transaction log, on SQLite and on PostgreSQL: the state machine, idempotency keys,
//! tenant isolation, leases and claims between nodes, concurrent writers; and, on SQLite
//! files, migrations, readers beside a writer, and what recovery finds after the writing
//! process is killed with SIGKILL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use support::TempDir;
use voxgate_store::pg::PgTxLog;
use voxgate_store::{
    BeginError, Intent, Money, NewCall, OpenError, OpenState, Outcome, Pending, PgStore, Prepared,
    Recovery, SCHEMA_VERSION, SqliteTxLog, State, TenantStore, Transaction, TransitionError, TxId,
    TxLog,
};

fn operation(sku: &str) -> String {
    format!(r#"{{"create-order":{{"contact-id":"C-1","lines":[{{"sku":"{sku}","quantity":2}}]}}}}"#)
}

fn intent(tenant: &str, call_id: &str, sku: &str) -> Intent {
    Intent {
        tenant: tenant.to_owned(),
        call_id: call_id.to_owned(),
        operation_json: operation(sku),
        idempotency_key: None,
        plugin_version: "sha256:0123abcd".to_owned(),
        node: "gw-a".into(),
    }
}

fn answer(transaction_id: &str) -> Prepared {
    Prepared {
        transaction_id: transaction_id.to_owned(),
        summary: "2 garden hoses, 64.97 euros".to_owned(),
        total: Some(Money {
            minor_units: 6497,
            currency: "EUR".to_owned(),
        }),
        expires_at: "2026-11-21T14:05:00Z".to_owned(),
    }
}

/// Drives a fresh transaction along the usual path to `state`: aborted from prepared (the
/// caller said no), failed from confirmed (commit refused).
fn in_state(log: &dyn TxLog, state: State, n: usize) -> TxId {
    let id = log
        .begin(intent("acme", "call-1", &format!("SKU-{n}")))
        .unwrap();
    if state == State::Preparing {
        return id;
    }
    log.prepared(id, &answer(&format!("T-{n}"))).unwrap();
    match state {
        State::Prepared => return id,
        State::Aborted => {
            log.aborted(id, "caller said no").unwrap();
            return id;
        }
        _ => {}
    }
    log.confirmed(id).unwrap();
    match state {
        State::Committed => log.committed(id, "ORD-1", "order placed").unwrap(),
        State::Failed => log.failed(id, "conflict: reservation expired").unwrap(),
        _ => {}
    }
    id
}

both_backends!(happy_path_records_every_step_and_when, |backend| {
    let log = backend.txlog();

    let id = log.begin(intent("acme", "call-1", "HOSE-25")).unwrap();
    let begun = log.get(id).unwrap().unwrap();
    assert_eq!(begun.state, State::Preparing);
    assert_eq!(begun.tenant, "acme");
    assert_eq!(begun.call_id, "call-1");
    assert_eq!(begun.operation_json, operation("HOSE-25"));
    assert_eq!(begun.plugin_version, "sha256:0123abcd");
    assert_eq!(begun.idempotency_key.len(), 32, "128 bits as hex");
    assert_eq!(
        (begun.prepared.clone(), begun.outcome.clone()),
        (None, None)
    );
    assert_eq!(
        (begun.prepared_at, begun.confirmed_at, begun.ended_at),
        (None, None, None)
    );

    log.prepared(id, &answer("T-1")).unwrap();
    let prepared = log.get(id).unwrap().unwrap();
    assert_eq!(prepared.state, State::Prepared);
    assert_eq!(prepared.prepared, Some(answer("T-1")));
    assert!(prepared.prepared_at.unwrap() >= begun.begun_at);

    log.confirmed(id).unwrap();
    let confirmed = log.get(id).unwrap().unwrap();
    assert_eq!(confirmed.state, State::Confirmed);
    assert!(confirmed.confirmed_at.unwrap() >= prepared.prepared_at.unwrap());

    log.committed(id, "ORD-7731", "order ORD-7731 placed")
        .unwrap();
    let committed = log.get(id).unwrap().unwrap();
    assert_eq!(committed.state, State::Committed);
    assert_eq!(
        committed.outcome,
        Some(Outcome::Committed {
            reference: "ORD-7731".to_owned(),
            message: "order ORD-7731 placed".to_owned(),
        })
    );
    assert!(committed.ended_at.unwrap() >= confirmed.confirmed_at.unwrap());
    assert_eq!(committed.begun_at, begun.begun_at);
    assert_eq!(committed.prepared, Some(answer("T-1")));
    assert!(log.pending().unwrap().is_empty());
});

both_backends!(a_change_without_a_price_keeps_no_total, |backend| {
    let log = backend.txlog();
    let id = log.begin(intent("acme", "call-1", "X")).unwrap();
    let cancel = Prepared {
        total: None,
        ..answer("T-1")
    };
    log.prepared(id, &cancel).unwrap();
    assert_eq!(log.get(id).unwrap().unwrap().prepared, Some(cancel));
});

both_backends!(caller_says_no_aborts_a_prepared_transaction, |backend| {
    let log = backend.txlog();
    let id = in_state(&*log, State::Prepared, 1);
    log.aborted(id, "caller said no").unwrap();
    let row = log.get(id).unwrap().unwrap();
    assert_eq!(row.state, State::Aborted);
    assert_eq!(
        row.outcome,
        Some(Outcome::Aborted {
            reason: "caller said no".to_owned()
        })
    );
    assert_eq!(row.confirmed_at, None);
    assert!(row.ended_at.is_some());
});

both_backends!(prepare_refused_fails_a_preparing_transaction, |backend| {
    let log = backend.txlog();
    let id = in_state(&*log, State::Preparing, 1);
    log.failed(id, "conflict: out of stock").unwrap();
    let row = log.get(id).unwrap().unwrap();
    assert_eq!(row.state, State::Failed);
    assert_eq!(row.prepared, None);
    assert_eq!(
        row.outcome,
        Some(Outcome::Failed {
            error: "conflict: out of stock".to_owned()
        })
    );
});

both_backends!(commit_refused_fails_a_confirmed_transaction, |backend| {
    let log = backend.txlog();
    let id = in_state(&*log, State::Confirmed, 1);
    log.failed(id, "conflict: reservation expired").unwrap();
    let row = log.get(id).unwrap().unwrap();
    assert_eq!(row.state, State::Failed);
    assert!(row.confirmed_at.is_some());
});

both_backends!(
    recovery_of_a_preparing_transaction_re_prepares_then_aborts,
    |backend| {
        let log = backend.txlog();
        let id = in_state(&*log, State::Preparing, 1);
        // What recovery does for Recovery::RePrepareThenAbort when prepare answers...
        log.prepared(id, &answer("T-1")).unwrap();
        log.aborted(id, "recovered after restart").unwrap();
        assert_eq!(log.get(id).unwrap().unwrap().state, State::Aborted);
        // ...and when it refuses: nothing is held under the key.
        let refused = in_state(&*log, State::Preparing, 2);
        log.aborted(refused, "re-prepare refused: invalid").unwrap();
        assert_eq!(log.get(refused).unwrap().unwrap().state, State::Aborted);
    }
);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Prepared,
    Confirmed,
    Committed,
    Aborted,
    Failed,
}

impl Step {
    fn target(self) -> State {
        match self {
            Step::Prepared => State::Prepared,
            Step::Confirmed => State::Confirmed,
            Step::Committed => State::Committed,
            Step::Aborted => State::Aborted,
            Step::Failed => State::Failed,
        }
    }

    fn apply(self, log: &dyn TxLog, id: TxId) -> Result<(), TransitionError> {
        match self {
            Step::Prepared => log.prepared(id, &answer("T-again")),
            Step::Confirmed => log.confirmed(id),
            Step::Committed => log.committed(id, "ORD-2", "again"),
            Step::Aborted => log.aborted(id, "again"),
            Step::Failed => log.failed(id, "again"),
        }
    }
}

both_backends!(
    illegal_transitions_are_refused_and_change_nothing,
    |backend| {
        let log = backend.txlog();
        // Written out here, independently of the crate's table, as the contract to check.
        let legal = [
            (State::Preparing, Step::Prepared),
            (State::Preparing, Step::Aborted),
            (State::Preparing, Step::Failed),
            (State::Prepared, Step::Confirmed),
            (State::Prepared, Step::Aborted),
            (State::Prepared, Step::Failed),
            (State::Confirmed, Step::Committed),
            (State::Confirmed, Step::Failed),
        ];
        let states = [
            State::Preparing,
            State::Prepared,
            State::Confirmed,
            State::Committed,
            State::Aborted,
            State::Failed,
        ];
        let steps = [
            Step::Prepared,
            Step::Confirmed,
            Step::Committed,
            Step::Aborted,
            Step::Failed,
        ];
        let mut n = 0;
        for from in states {
            for step in steps {
                n += 1;
                let id = in_state(&*log, from, n);
                let before = log.get(id).unwrap().unwrap();
                let result = step.apply(&*log, id);
                if legal.contains(&(from, step)) {
                    result.unwrap_or_else(|e| panic!("{from} -> {step:?} refused: {e}"));
                    assert_eq!(log.get(id).unwrap().unwrap().state, step.target());
                    continue;
                }
                match result {
                    Err(TransitionError::Illegal {
                        id: refused,
                        from: found,
                        to,
                    }) => {
                        assert_eq!((refused, found, to), (id, from, step.target()));
                    }
                    other => panic!("{from} -> {step:?} gave {other:?}"),
                }
                assert_eq!(
                    log.get(id).unwrap().unwrap(),
                    before,
                    "{from} -> {step:?} changed the row"
                );
            }
        }

        // The cases the phone flow must never get wrong, spelled out.
        let aborted = in_state(&*log, State::Aborted, 100);
        let error = log.committed(aborted, "ORD-9", "late").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("transaction {aborted} is aborted; it cannot become committed")
        );
        assert!(log.confirmed(aborted).is_err(), "confirm after abort");
        let confirmed = in_state(&*log, State::Confirmed, 101);
        assert!(
            log.aborted(confirmed, "hang-up after yes").is_err(),
            "a yes is never aborted"
        );
        assert!(matches!(
            log.confirmed(TxId::from_i64(999_999)),
            Err(TransitionError::NotFound(id)) if id == TxId::from_i64(999_999)
        ));
    }
);

both_backends!(
    same_idempotency_key_returns_the_same_transaction,
    |backend| {
        let keyed = Intent {
            idempotency_key: Some("call-1/turn-4".to_owned()),
            ..intent("acme", "call-1", "HOSE-25")
        };
        let id = {
            let log = backend.txlog();
            let id = log.begin(keyed.clone()).unwrap();
            assert_eq!(log.begin(keyed.clone()).unwrap(), id);
            log.prepared(id, &answer("T-1")).unwrap();
            id
        };

        // After a restart, a retried begin still finds the one transaction, wherever it got to.
        let log = backend.reopen().txlog();
        assert_eq!(log.begin(keyed.clone()).unwrap(), id);
        let rows = log.for_call("acme", "call-1").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].idempotency_key, "call-1/turn-4");
        assert_eq!(rows[0].state, State::Prepared);

        // The same key for a different change is a bug in the caller, not a retry.
        let other_operation = Intent {
            operation_json: operation("POT-L"),
            ..keyed.clone()
        };
        assert!(matches!(
            log.begin(other_operation),
            Err(BeginError::KeyReused { existing, .. }) if existing == id
        ));
        let other_call = Intent {
            call_id: "call-2".to_owned(),
            ..keyed.clone()
        };
        assert!(matches!(
            log.begin(other_call),
            Err(BeginError::KeyReused { .. })
        ));

        // Keys are per tenant: another company's plugin never sees this one's key.
        let other_tenant = Intent {
            tenant: "globex".to_owned(),
            ..keyed
        };
        let theirs = log.begin(other_tenant).unwrap();
        assert_ne!(theirs, id);
        assert_eq!(log.for_call("acme", "call-1").unwrap().len(), 1);
    }
);

both_backends!(generated_idempotency_keys_are_distinct, |backend| {
    let log = backend.txlog();
    let mut keys = std::collections::HashSet::new();
    for n in 0..50 {
        let id = log
            .begin(intent("acme", "call-1", &format!("SKU-{n}")))
            .unwrap();
        let key = log.get(id).unwrap().unwrap().idempotency_key;
        assert!(key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(keys.insert(key));
    }
});

both_backends!(begin_refuses_what_recovery_could_not_replay, |backend| {
    let log = backend.txlog();
    let not_json = Intent {
        operation_json: "create-order HOSE-25".to_owned(),
        ..intent("acme", "call-1", "X")
    };
    assert!(matches!(
        log.begin(not_json),
        Err(BeginError::OperationNotJson)
    ));
    let no_tenant = intent("", "call-1", "X");
    assert!(matches!(
        log.begin(no_tenant),
        Err(BeginError::Empty("tenant"))
    ));
    let empty_key = Intent {
        idempotency_key: Some(String::new()),
        ..intent("acme", "call-1", "X")
    };
    assert!(matches!(
        log.begin(empty_key),
        Err(BeginError::Empty("idempotency key"))
    ));
    assert!(log.pending().unwrap().is_empty());
});

both_backends!(for_call_never_returns_another_tenants_rows, |backend| {
    let log = backend.txlog();
    // Call ids come from the PBX: two tenants' PBXs can well produce the same one.
    let acme = log.begin(intent("acme", "call-1", "HOSE-25")).unwrap();
    let globex = log.begin(intent("globex", "call-1", "WIDGET")).unwrap();
    log.begin(intent("acme", "call-2", "POT-L")).unwrap();

    let rows = log.for_call("acme", "call-1").unwrap();
    assert_eq!(rows.iter().map(|t| t.id).collect::<Vec<_>>(), [acme]);
    assert!(rows.iter().all(|t| t.tenant == "acme"));
    let rows = log.for_call("globex", "call-1").unwrap();
    assert_eq!(rows.iter().map(|t| t.id).collect::<Vec<_>>(), [globex]);
    assert!(log.for_call("globex", "call-2").unwrap().is_empty());
    assert!(log.for_call("", "call-1").unwrap().is_empty());
    assert!(
        log.for_call("acme' OR '1'='1", "call-1")
            .unwrap()
            .is_empty()
    );
});

both_backends!(pending_maps_each_open_state_to_its_recovery, |backend| {
    let log = backend.txlog();
    let preparing = in_state(&*log, State::Preparing, 1);
    let prepared = in_state(&*log, State::Prepared, 2);
    let confirmed = in_state(&*log, State::Confirmed, 3);
    for (n, ended) in [State::Committed, State::Aborted, State::Failed]
        .into_iter()
        .enumerate()
    {
        in_state(&*log, ended, 10 + n);
    }

    let pending = log.pending().unwrap();
    assert_eq!(
        pending.iter().map(|p| p.id).collect::<Vec<_>>(),
        [preparing, prepared, confirmed],
        "open rows only, oldest first"
    );
    let key = log.get(preparing).unwrap().unwrap().idempotency_key;
    assert_eq!(pending[0].state, OpenState::Preparing);
    assert_eq!(
        pending[0].recovery_action(),
        Recovery::RePrepareThenAbort {
            operation_json: operation("SKU-1"),
            idempotency_key: key,
        }
    );
    assert_eq!(pending[0].expires_at, None);
    assert_eq!(pending[1].state.transaction_id(), Some("T-2"));
    assert_eq!(
        pending[1].recovery_action(),
        Recovery::Abort {
            transaction_id: "T-2".to_owned()
        }
    );
    assert_eq!(
        pending[1].expires_at.as_deref(),
        Some("2026-11-21T14:05:00Z")
    );
    assert_eq!(
        pending[2].recovery_action(),
        Recovery::Commit {
            transaction_id: "T-3".to_owned()
        }
    );
    for p in &pending {
        assert_eq!((p.tenant.as_str(), p.call_id.as_str()), ("acme", "call-1"));
        assert_eq!(p.plugin_version, "sha256:0123abcd");
        assert!(p.age < Duration::from_secs(60));
    }
});

both_backends!(
    prune_deletes_only_ended_transactions_and_ids_are_never_reused,
    |backend| {
        let log = backend.txlog();
        let open = in_state(&*log, State::Prepared, 1);
        let mut newest = open;
        for (n, ended) in [State::Committed, State::Aborted, State::Failed]
            .into_iter()
            .enumerate()
        {
            newest = in_state(&*log, ended, 10 + n);
        }

        assert_eq!(
            log.prune(Duration::from_secs(3600)).unwrap(),
            0,
            "too recent"
        );
        assert_eq!(log.prune(Duration::ZERO).unwrap(), 3);
        assert_eq!(log.get(newest).unwrap(), None);
        assert_eq!(
            log.pending()
                .unwrap()
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>(),
            [open],
            "an open transaction outlives any retention"
        );
        // The newest row is gone; its id must not come back for the next change.
        let next = log.begin(intent("acme", "call-2", "NEW")).unwrap();
        assert!(next > newest);
    }
);

fn ids(rows: &[Pending]) -> Vec<TxId> {
    rows.iter().map(|p| p.id).collect()
}

both_backends!(
    a_renewed_transaction_stays_with_its_node_and_an_orphan_is_claimed_once,
    |backend| {
        const LEASE: Duration = Duration::from_millis(200);
        let log = backend.txlog();
        let held = log.begin(intent("acme", "call-1", "HOSE-25")).unwrap();
        log.prepared(held, &answer("T-1")).unwrap();
        let ended: Vec<TxId> = [State::Committed, State::Aborted, State::Failed]
            .into_iter()
            .enumerate()
            .map(|(n, state)| in_state(&*log, state, 10 + n))
            .collect();
        let theirs = log
            .begin(Intent {
                node: "gw-c".into(),
                ..intent("globex", "call-9", "WIDGET")
            })
            .unwrap();

        // A fresh row is not an orphan, not even to its own node unless it restarted.
        assert!(log.claim("acme", "gw-a", LEASE, false).unwrap().is_empty());
        assert_eq!(
            ids(&log.claim("acme", "gw-a", LEASE, true).unwrap()),
            [held]
        );

        // Renewed past several leases: still gw-a's. Each claim follows its renewal at once,
        // so a slow machine cannot make the row look abandoned.
        let until = Instant::now() + LEASE * 3;
        while Instant::now() < until {
            assert_eq!(log.renew("gw-a").unwrap(), 1, "open rows only");
            assert!(
                log.claim("acme", "gw-b", LEASE, false).unwrap().is_empty(),
                "gw-a is alive"
            );
            thread::sleep(LEASE / 4);
        }

        // gw-a stops renewing.
        thread::sleep(LEASE * 2);
        let claimed = log.claim("acme", "gw-b", LEASE, false).unwrap();
        assert_eq!(ids(&claimed), [held], "globex's orphan is not acme's");
        assert_eq!(claimed[0].state.transaction_id(), Some("T-1"));
        assert_eq!(claimed[0].tenant, "acme");
        assert!(
            log.claim("acme", "gw-b", LEASE, false).unwrap().is_empty(),
            "gw-b now holds it freshly"
        );
        assert!(log.claim("acme", "gw-c", LEASE, false).unwrap().is_empty());
        // gw-a comes back: the row is no longer its own.
        assert!(log.claim("acme", "gw-a", LEASE, true).unwrap().is_empty());
        assert_eq!(log.renew("gw-a").unwrap(), 0);
        // gw-b restarts: it takes back what it held, fresh as it is.
        assert_eq!(
            ids(&log.claim("acme", "gw-b", LEASE, true).unwrap()),
            [held]
        );
        assert_eq!(log.renew("gw-b").unwrap(), 1);

        assert_eq!(
            ids(&log.claim("globex", "gw-b", LEASE, false).unwrap()),
            [theirs]
        );
        for (id, state) in ended
            .into_iter()
            .zip([State::Committed, State::Aborted, State::Failed])
        {
            assert_eq!(log.get(id).unwrap().unwrap().state, state, "never claimed");
        }
        // Once ended, a row is nobody's to claim, even its holder's after a restart.
        log.aborted(held, "recovered").unwrap();
        assert!(log.claim("acme", "gw-b", LEASE, true).unwrap().is_empty());
        assert_eq!(log.renew("gw-b").unwrap(), 1, "globex's row only");
    }
);

both_backends!(
    concurrent_claims_hand_each_orphan_to_exactly_one_node,
    |backend| {
        const ORPHANS: usize = 50;
        const NODES: usize = 4;
        // Long enough that a row claimed during the sweep cannot turn stale again before the
        // sweep ends, even on a loaded machine; that would be a second, legitimate claim.
        const LEASE: Duration = Duration::from_secs(2);
        let log = backend.txlog();
        let orphans: Vec<TxId> = (0..ORPHANS)
            .map(|n| {
                let id = log
                    .begin(Intent {
                        node: "gw-dead".into(),
                        ..intent("acme", &format!("call-{n}"), "HOSE-25")
                    })
                    .unwrap();
                log.prepared(id, &answer(&format!("T-{n}"))).unwrap();
                log.confirmed(id).unwrap();
                id
            })
            .collect();
        thread::sleep(LEASE + Duration::from_millis(200));

        let start = Arc::new(Barrier::new(NODES));
        let nodes: Vec<_> = (0..NODES)
            .map(|n| {
                // Its own connections (PostgreSQL: its own pool), as another node has.
                let other = backend.reopen();
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    let log = other.txlog();
                    let node = format!("gw-{n}");
                    start.wait();
                    let mut mine = Vec::new();
                    loop {
                        let got = log.claim("acme", &node, LEASE, false).unwrap();
                        if got.is_empty() {
                            break;
                        }
                        mine.extend(got);
                    }
                    for row in &mine {
                        let OpenState::Confirmed { transaction_id } = &row.state else {
                            panic!("{row:?}");
                        };
                        assert_eq!(
                            row.recovery_action(),
                            Recovery::Commit {
                                transaction_id: transaction_id.clone()
                            }
                        );
                        log.committed(row.id, transaction_id, &node).unwrap();
                    }
                    (node, ids(&mine))
                })
            })
            .collect();
        let claims: Vec<(String, Vec<TxId>)> =
            nodes.into_iter().map(|t| t.join().unwrap()).collect();

        let mut all: Vec<TxId> = claims.iter().flat_map(|(_, ids)| ids.clone()).collect();
        all.sort();
        assert_eq!(all, orphans, "every orphan claimed, none twice: {claims:?}");
        for (node, claimed) in &claims {
            for id in claimed {
                let row = log.get(*id).unwrap().unwrap();
                assert_eq!(row.state, State::Committed);
                assert!(
                    matches!(&row.outcome, Some(Outcome::Committed { message, .. }) if message == node),
                    "{row:?} committed by {node}"
                );
            }
        }
        assert!(log.pending().unwrap().is_empty());
        for id in orphans {
            assert!(matches!(
                log.committed(id, "ORD-again", "again"),
                Err(TransitionError::Illegal {
                    from: State::Committed,
                    to: State::Committed,
                    ..
                })
            ));
        }
    }
);

#[test]
fn fresh_file_gets_the_latest_schema_and_reopening_keeps_data() {
    let dir = TempDir::new("fresh");
    let id = {
        let log = SqliteTxLog::open(dir.db()).unwrap();
        in_state(&log, State::Confirmed, 1)
    };
    let raw = rusqlite::Connection::open(dir.db()).unwrap();
    let version: u32 = raw
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "WAL is stored in the file");
    drop(raw);

    let log = SqliteTxLog::open(dir.db()).unwrap();
    assert_eq!(log.get(id).unwrap().unwrap().state, State::Confirmed);
}

#[test]
fn file_from_a_newer_voxgate_is_refused_and_left_untouched() {
    let dir = TempDir::new("future");
    let future = SCHEMA_VERSION + 1;
    let raw = rusqlite::Connection::open(dir.db()).unwrap();
    raw.execute_batch("CREATE TABLE from_the_future (x INTEGER)")
        .unwrap();
    raw.pragma_update(None, "user_version", future).unwrap();
    drop(raw);

    let error = SqliteTxLog::open(dir.db()).unwrap_err();
    assert!(
        matches!(error, OpenError::UnsupportedSchema { found, supported, .. }
            if found == i64::from(future) && supported == SCHEMA_VERSION),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("schema version {future}"))
            && message.contains(&format!("versions up to {SCHEMA_VERSION}")),
        "{message}"
    );

    let raw = rusqlite::Connection::open(dir.db()).unwrap();
    let version: u32 = raw
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!((version, mode.as_str()), (future, "delete"));
}

#[test]
fn a_database_from_a_newer_voxgate_is_refused_and_left_untouched() {
    let (store, url) = support::fresh_pg("newer_schema");
    store
        .tenant("acme")
        .call_started(&NewCall {
            call_id: "c1".into(),
            started_at: 1,
            ..Default::default()
        })
        .unwrap();
    drop(store);
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute("UPDATE voxgate.schema_version SET version = 999")
        .unwrap();
    let look = |raw: &mut postgres::Client| -> (Vec<String>, i64, i64) {
        let columns = raw
            .query(
                "SELECT table_name || '.' || column_name || ' ' || data_type \
                 FROM information_schema.columns WHERE table_schema = 'voxgate' \
                 ORDER BY table_name, ordinal_position",
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let version: i64 = raw
            .query_one("SELECT version::bigint FROM voxgate.schema_version", &[])
            .unwrap()
            .get(0);
        let calls: i64 = raw
            .query_one("SELECT count(*) FROM voxgate.calls", &[])
            .unwrap()
            .get(0);
        (columns, version, calls)
    };
    let before = look(&mut raw);
    assert_eq!((before.1, before.2), (999, 1));

    let error = PgStore::connect(&url).unwrap_err();
    assert!(
        matches!(error, OpenError::NewerServerSchema { found: 999, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("schema version 999"), "{error}");
    assert_eq!(look(&mut raw), before);
}

#[test]
fn another_applications_sqlite_file_is_refused() {
    let dir = TempDir::new("foreign");
    let raw = rusqlite::Connection::open(dir.db()).unwrap();
    raw.pragma_update(None, "application_id", 0x4d4f_5a42)
        .unwrap();
    drop(raw);
    let error = SqliteTxLog::open(dir.db()).unwrap_err();
    assert!(
        matches!(
            error,
            OpenError::ForeignFile {
                found: 0x4d4f_5a42,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_reader_keeps_its_snapshot_while_the_log_commits() {
    let dir = TempDir::new("snapshot");
    let log = SqliteTxLog::open(dir.db()).unwrap();
    in_state(&log, State::Committed, 0);

    // A reader in the middle of a long read transaction (a dashboard query, a backup). In
    // rollback-journal mode its shared lock would make every commit below wait out the busy
    // timeout and fail; in WAL the writer never waits for readers.
    let mut reader = rusqlite::Connection::open(dir.db()).unwrap();
    let snapshot = reader.transaction().unwrap();
    let count = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM tx_log", [], |row| row.get(0))
            .unwrap()
    };
    assert_eq!(count(&snapshot), 1);

    for n in 1..=10 {
        in_state(&log, State::Committed, n);
    }
    assert_eq!(
        count(&snapshot),
        1,
        "the reader sees one consistent snapshot"
    );
    snapshot.commit().unwrap();
    assert_eq!(count(&reader), 11);
}

both_backends!(
    writers_and_a_reader_share_the_log_without_errors,
    |backend| {
        const PER_WRITER: usize = 15;
        // Generous: only reached if another thread died, and then the test must fail, not hang.
        const WAIT: Duration = Duration::from_secs(30);
        // Created and migrated before the threads race to open it.
        backend.txlog();

        let writing = Arc::new(AtomicBool::new(true));
        // Each writer stops half-way until the reader has looked once, so the reader is known
        // to have seen the log part-written, not only before and after.
        let (half_way, writers_half_way) = mpsc::channel::<()>();
        let mut go_on = Vec::new();

        let writers: Vec<_> = ["acme", "globex"]
            .into_iter()
            .map(|tenant| {
                // Its own connection, as a second gateway process would have.
                let other = backend.reopen();
                let half_way = half_way.clone();
                let (go, may_go_on) = mpsc::channel::<()>();
                go_on.push(go);
                thread::spawn(move || {
                    let log = other.txlog();
                    for n in 0..PER_WRITER {
                        if n == PER_WRITER / 2 {
                            half_way.send(()).unwrap();
                            may_go_on.recv_timeout(WAIT).unwrap();
                        }
                        let id = log
                            .begin(intent(tenant, "call-w", &format!("SKU-{n}")))
                            .unwrap();
                        log.prepared(id, &answer(&format!("T-{n}"))).unwrap();
                        log.confirmed(id).unwrap();
                        log.committed(id, &format!("ORD-{n}"), "placed").unwrap();
                    }
                })
            })
            .collect();
        drop(half_way);

        let reader = {
            let other = backend.reopen();
            let writing = Arc::clone(&writing);
            thread::spawn(move || {
                let log = other.txlog();
                let committed = |tenant: &str| {
                    let rows = log.for_call(tenant, "call-w").unwrap();
                    assert!(rows.iter().all(|t| t.tenant == tenant));
                    rows.iter().filter(|t| t.state == State::Committed).count()
                };
                let mut last = (0, 0);
                let mut check = || {
                    let now = (committed("acme"), committed("globex"));
                    assert!(now.0 >= last.0 && now.1 >= last.1, "{now:?} after {last:?}");
                    assert!(
                        log.pending().unwrap().len() <= 2,
                        "one open per writer at most"
                    );
                    last = now;
                    now
                };
                for _ in 0..2 {
                    writers_half_way.recv_timeout(WAIT).unwrap();
                }
                assert_eq!(check(), (PER_WRITER / 2, PER_WRITER / 2));
                for go in go_on {
                    go.send(()).unwrap();
                }
                while writing.load(Ordering::Relaxed) {
                    check();
                }
            })
        };

        for writer in writers {
            writer.join().unwrap();
        }
        writing.store(false, Ordering::Relaxed);
        reader.join().unwrap();

        let log = backend.reopen().txlog();
        for tenant in ["acme", "globex"] {
            let rows = log.for_call(tenant, "call-w").unwrap();
            assert_eq!(rows.len(), PER_WRITER);
            assert!(rows.iter().all(|t| t.state == State::Committed));
        }
        assert!(log.pending().unwrap().is_empty());
    }
);

const WRITER_ENV: &str = "VOXGATE_STORE_TEST_WRITER_DB";

/// Not a test on its own: the child process of
/// `sigkilled_writer_leaves_exactly_the_right_recovery_actions`, which runs this binary
/// again with `WRITER_ENV` set. Without it, it returns at once.
#[test]
fn child_writer() {
    let Ok(path) = std::env::var(WRITER_ENV) else {
        return;
    };
    let log = SqliteTxLog::open(&path).unwrap();
    // Each line leaves only after the step it names returned, i.e. is on disk.
    let say = |what: &str, id: TxId| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "WRITER {what} {id}").unwrap();
        out.flush().unwrap();
    };

    let id = log.begin(intent("acme", "call-1", "A")).unwrap();
    say("preparing", id);

    let id = log.begin(intent("acme", "call-1", "B")).unwrap();
    log.prepared(id, &answer("T-B")).unwrap();
    say("prepared", id);

    let id = log.begin(intent("acme", "call-1", "D")).unwrap();
    log.prepared(id, &answer("T-D")).unwrap();
    log.confirmed(id).unwrap();
    log.committed(id, "ORD-D", "placed").unwrap();
    say("committed", id);

    let id = log.begin(intent("acme", "call-1", "E")).unwrap();
    log.prepared(id, &answer("T-E")).unwrap();
    log.aborted(id, "caller said no").unwrap();
    say("aborted", id);

    let id = log.begin(intent("acme", "call-1", "F")).unwrap();
    log.failed(id, "invalid: unknown sku").unwrap();
    say("failed", id);

    let id = log.begin(intent("acme", "call-1", "C")).unwrap();
    log.prepared(id, &answer("T-C")).unwrap();
    log.confirmed(id).unwrap();
    say("confirmed", id);

    // Then other calls keep going until the kill, so that it lands at an arbitrary point
    // of a write rather than on an idle file.
    for n in 0.. {
        let id = log
            .begin(intent("noise", &format!("call-{n}"), "N"))
            .unwrap();
        log.prepared(id, &answer(&format!("T-N{n}"))).unwrap();
        log.confirmed(id).unwrap();
        say("noise-confirmed", id);
        log.committed(id, "ORD-N", "placed").unwrap();
    }
}

/// Kills the child on drop, so that a failing assertion never leaves it running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigkilled_writer_leaves_exactly_the_right_recovery_actions() {
    const NOISE_BEFORE_KILL: usize = 20;
    let dir = TempDir::new("sigkill");
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, dir.db())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut report = WriterReport::default();
    while report.noise_confirmed.len() < NOISE_BEFORE_KILL {
        let line = lines
            .next()
            .expect("the writer stopped before it was killed")
            .unwrap();
        report.record(&line);
    }

    // SIGKILL: no destructor, no SQLite close, no checkpoint; the WAL is left as it was.
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");
    // What the writer said before it died is still in the pipe.
    for line in lines {
        report.record(&line.unwrap());
    }
    let WriterReport {
        ids,
        noise_confirmed,
    } = report;

    let log = SqliteTxLog::open(dir.db()).unwrap();
    let pending = log.pending().unwrap();
    let acme: Vec<_> = pending.iter().filter(|p| p.tenant == "acme").collect();
    let key = log.get(ids["preparing"]).unwrap().unwrap().idempotency_key;
    assert_eq!(
        acme.iter()
            .map(|p| (p.id, p.recovery_action()))
            .collect::<Vec<_>>(),
        [
            (
                ids["preparing"],
                Recovery::RePrepareThenAbort {
                    operation_json: operation("A"),
                    idempotency_key: key,
                }
            ),
            (
                ids["prepared"],
                Recovery::Abort {
                    transaction_id: "T-B".to_owned()
                }
            ),
            (
                ids["confirmed"],
                Recovery::Commit {
                    transaction_id: "T-C".to_owned()
                }
            ),
        ]
    );
    let state = |id: TxId| log.get(id).unwrap().unwrap().state;
    assert_eq!(state(ids["committed"]), State::Committed);
    assert_eq!(state(ids["aborted"]), State::Aborted);
    assert_eq!(state(ids["failed"]), State::Failed);

    // Every yes the writer reported survived the kill, wherever in a write it landed.
    assert!(noise_confirmed.len() >= NOISE_BEFORE_KILL);
    for id in &noise_confirmed {
        let row: Transaction = log.get(*id).unwrap().unwrap();
        assert!(
            matches!(row.state, State::Confirmed | State::Committed),
            "{id}: {:?}",
            row.state
        );
    }
    let noise: Vec<_> = pending.iter().filter(|p| p.tenant == "noise").collect();
    assert!(noise.len() <= 1, "one change in flight at most: {noise:?}");
}

/// What the child writer said it had done, step by step.
#[derive(Default)]
struct WriterReport {
    ids: HashMap<String, TxId>,
    noise_confirmed: Vec<TxId>,
}

impl WriterReport {
    fn record(&mut self, line: &str) {
        // libtest may print on the same line before the test's own output.
        let Some(at) = line.find("WRITER ") else {
            return;
        };
        let mut words = line[at + "WRITER ".len()..].split(' ');
        let (what, id) = (words.next().unwrap(), words.next().unwrap());
        let id = TxId::from_i64(id.parse().unwrap());
        if what == "noise-confirmed" {
            self.noise_confirmed.push(id);
        } else {
            self.ids.insert(what.to_owned(), id);
        }
    }
}

#[test]
fn the_log_can_be_shared_across_threads() {
    fn send_and_sync<T: Send + Sync + ?Sized>() {}
    send_and_sync::<SqliteTxLog>();
    send_and_sync::<PgTxLog>();
    send_and_sync::<dyn TxLog>();
}
