//! Two-phase changes: prepare → commit / abort, idempotency, stock holds and expiry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Api, assert_error};
use serde_json::{Value, json};

async fn prepare(api: &Api, key: &str, operation: Value) -> (StatusCode, Value) {
    api.post(
        "/transactions",
        &json!({"idempotency_key": key, "operation": operation}),
    )
    .await
}

async fn prepared(api: &Api, key: &str, operation: Value) -> Value {
    let (status, tx) = prepare(api, key, operation).await;
    assert_eq!(status, StatusCode::CREATED, "{tx}");
    assert_eq!(tx["state"], "prepared");
    tx
}

async fn commit(api: &Api, id: &Value) -> (StatusCode, Value) {
    api.post(
        &format!("/transactions/{}/commit", id.as_str().unwrap()),
        &json!({}),
    )
    .await
}

async fn abort(api: &Api, id: &Value) -> (StatusCode, Value) {
    api.post(
        &format!("/transactions/{}/abort", id.as_str().unwrap()),
        &json!({}),
    )
    .await
}

async fn order_count(api: &Api, contact: &str) -> usize {
    api.ok(&format!("/orders?contact_id={contact}"))
        .await
        .as_array()
        .unwrap()
        .len()
}

fn create_order(contact: &str, lines: Value) -> Value {
    json!({"type": "create_order", "contact_id": contact, "lines": lines})
}

#[tokio::test]
async fn prepare_commit_creates_exactly_one_order() {
    let api = Api::new();
    let hose = api.stock("KH-1001").await;
    let pot = api.stock("KH-2001").await;
    let before = order_count(&api, "c-1008").await;
    assert_eq!(before, 0);

    let tx = prepared(
        &api,
        "call-1/turn-3",
        create_order(
            "c-1008",
            json!([{"sku": "KH-1001", "quantity": 2}, {"sku": "KH-2001", "quantity": 1}]),
        ),
    )
    .await;
    assert_eq!(
        tx["summary"],
        "2 × garden hose 25 metres and 1 × terracotta pot large, total 84.97 EUR"
    );
    assert_eq!(tx["total"], json!({"amount": 8497, "currency": "EUR"}));
    assert_eq!(tx["expires_at"], "2025-06-01T10:15:00Z");
    // Held, not yet sold: stock is already down, no order exists yet.
    assert_eq!(api.stock("KH-1001").await, hose - 2);
    assert_eq!(order_count(&api, "c-1008").await, 0);

    let (status, done) = commit(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "committed");
    let reference = done["reference"].as_str().unwrap().to_owned();
    assert_eq!(reference, "40151");
    assert!(done["message"].as_str().unwrap().contains("40151"));

    let orders = api.ok("/orders?contact_id=c-1008").await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    assert_eq!(orders[0]["id"], reference.as_str());
    assert_eq!(orders[0]["status"], "confirmed");
    assert_eq!(orders[0]["total"]["amount"], 8497);
    assert_eq!(orders[0]["lines"][0]["quantity"], 2);
    assert_eq!(api.stock("KH-1001").await, hose - 2);
    assert_eq!(api.stock("KH-2001").await, pot - 1);
    assert_eq!(
        api.ok("/deliveries/by-order/40151").await["status"],
        "not_shipped"
    );
    assert_eq!(
        api.ok("/contacts/c-1008/frequent").await[0]["product"]["sku"],
        "KH-1001"
    );

    // A retried commit (lost response) answers the same and creates nothing.
    let (status, again) = commit(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, done);
    assert_eq!(order_count(&api, "c-1008").await, 1);
    assert_eq!(api.stock("KH-1001").await, hose - 2);

    let got = api
        .ok(&format!("/transactions/{}", tx["id"].as_str().unwrap()))
        .await;
    assert_eq!(got["state"], "committed");
    assert_eq!(got["reference"], "40151");
    let stats = api.ok("/stats").await;
    assert_eq!(stats["orders"], 21);
    assert_eq!(stats["transactions"]["committed"], 1);
    assert_eq!(stats["transactions"]["prepared"], 0);

    let (status, body) = abort(&api, &tx["id"]).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn prepare_is_idempotent_per_key() {
    let api = Api::new();
    let op = create_order("c-1006", json!([{"sku": "KH-4002", "quantity": 3}]));
    let stock = api.stock("KH-4002").await;
    let first = prepared(&api, "k-1", op.clone()).await;
    let (status, second) = prepare(&api, "k-1", op.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second, first);
    // Held once, not twice.
    assert_eq!(api.stock("KH-4002").await, stock - 3);

    let (status, body) = prepare(
        &api,
        "k-1",
        create_order("c-1006", json!([{"sku": "KH-4002", "quantity": 4}])),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["message"].as_str().unwrap().contains("k-1"));

    let other = prepared(&api, "k-2", op).await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(api.stock("KH-4002").await, stock - 6);
    assert_eq!(api.shop.stats().transactions.prepared, 2);
}

#[tokio::test]
async fn abort_releases_the_hold() {
    let api = Api::new();
    let stock = api.stock("KH-6001").await;
    assert_eq!(stock, 3);
    let tx = prepared(
        &api,
        "bench",
        create_order("c-1001", json!([{"sku": "KH-6001", "quantity": 3}])),
    )
    .await;
    assert_eq!(api.stock("KH-6001").await, 0);
    assert_eq!(api.ok("/products/KH-6001").await["in_stock"], false);
    // Nobody else can have the benches while the caller thinks.
    let (status, body) = prepare(
        &api,
        "bench-2",
        create_order("c-1002", json!([{"sku": "KH-6001", "quantity": 1}])),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    let (status, aborted) = abort(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK, "{aborted}");
    assert_eq!(aborted["state"], "aborted");
    assert_eq!(api.stock("KH-6001").await, 3);
    let (status, again) = abort(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["state"], "aborted");
    assert_eq!(api.stock("KH-6001").await, 3);

    let (status, body) = commit(&api, &tx["id"]).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(order_count(&api, "c-1001").await, 4);
    let stats = api.shop.stats();
    assert_eq!(
        (stats.transactions.aborted, stats.transactions.committed),
        (1, 0)
    );
}

#[tokio::test]
async fn reservations_expire_after_15_minutes() {
    let api = Api::new();
    let stock = api.stock("KH-3002").await;
    let tx = prepared(
        &api,
        "slow caller",
        create_order("c-1005", json!([{"sku": "KH-3002", "quantity": 5}])),
    )
    .await;
    api.shop.advance_clock(Duration::from_secs(14 * 60));
    assert_eq!(api.stock("KH-3002").await, stock - 5);
    api.shop.advance_clock(Duration::from_secs(2 * 60));
    assert_eq!(api.stock("KH-3002").await, stock);
    let id = tx["id"].as_str().unwrap();
    assert_eq!(
        api.ok(&format!("/transactions/{id}")).await["state"],
        "expired"
    );
    let (status, body) = commit(&api, &tx["id"]).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(order_count(&api, "c-1005").await, 2);
    let (status, body) = abort(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(api.stock("KH-3002").await, stock);
}

#[tokio::test]
async fn short_stock_is_a_conflict_naming_the_sku() {
    let api = Api::new();
    let olive = api.stock("KH-5003").await;
    let (status, body) = prepare(
        &api,
        "too-many",
        create_order(
            "c-1003",
            json!([{"sku": "KH-1004", "quantity": 1}, {"sku": "KH-5003", "quantity": olive + 1}]),
        ),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(
        body["message"].as_str().unwrap().contains("KH-5003"),
        "{body}"
    );
    // All or nothing: the nozzle on the first line was not held either.
    assert_eq!(api.stock("KH-1004").await, 60);
    let (status, body) = prepare(
        &api,
        "sold-out",
        create_order("c-1003", json!([{"sku": "KH-2003", "quantity": 1}])),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["message"].as_str().unwrap().contains("KH-2003"));
    assert_eq!(api.shop.stats().transactions.prepared, 0);
}

#[tokio::test]
async fn bad_input_is_400_with_a_reason() {
    let api = Api::new();
    let cases: Vec<(&str, &str)> = vec![
        ("{not json", "JSON"),
        (
            r#"{"idempotency_key": "x", "operation": {"type": "teleport_order"}}"#,
            "teleport_order",
        ),
        (
            r#"{"idempotency_key": "x", "operation": {"type": "create_order", "contact_id": "c-1001", "lines": [{"sku": "KH-1001", "quantity": 0}]}}"#,
            "quantity",
        ),
        (
            r#"{"idempotency_key": "x", "operation": {"type": "create_order", "contact_id": "c-1001", "lines": [{"sku": "KH-1001", "quantity": -2}]}}"#,
            "-2",
        ),
        (
            r#"{"idempotency_key": "x", "operation": {"type": "create_order", "contact_id": "c-1001", "lines": [{"sku": "NOPE-1", "quantity": 1}]}}"#,
            "NOPE-1",
        ),
        (
            r#"{"idempotency_key": "x", "operation": {"type": "create_order", "contact_id": "c-1001", "lines": []}}"#,
            "lines",
        ),
        (
            r#"{"idempotency_key": "", "operation": {"type": "cancel_order", "order_id": "40150"}}"#,
            "idempotency_key",
        ),
        (
            r#"{"operation": {"type": "cancel_order", "order_id": "40150"}}"#,
            "idempotency_key",
        ),
        (
            r#"{"idempotency_key": "x", "operation": {"type": "open_complaint", "contact_id": "c-1001", "subject": " "}}"#,
            "subject",
        ),
    ];
    for (body, needle) in cases {
        let (status, err) = api.post_text("/transactions", body).await;
        assert_error(status, &err, StatusCode::BAD_REQUEST, "invalid");
        assert!(
            err["message"].as_str().unwrap().contains(needle),
            "{body} → {err}"
        );
    }
    let (status, err) = prepare(
        &api,
        "x",
        create_order("c-0000", json!([{"sku": "KH-1001", "quantity": 1}])),
    )
    .await;
    assert_error(status, &err, StatusCode::NOT_FOUND, "not_found");
    let (status, err) = api.post("/transactions/tx-999999/commit", &json!({})).await;
    assert_error(status, &err, StatusCode::NOT_FOUND, "not_found");
    let (status, err) = api.get("/transactions/tx-999999").await;
    assert_error(status, &err, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(api.shop.stats().transactions.prepared, 0);
    assert_eq!(api.stock("KH-1001").await, 40);
}

#[tokio::test]
async fn repeat_order_uses_the_same_lines() {
    let api = Api::new();
    let tx = prepared(
        &api,
        "again",
        json!({"type": "repeat_order", "order_id": "40117"}),
    )
    .await;
    assert_eq!(
        tx["summary"],
        "repeat of order 40117: 2 × lawn fertiliser 5 kilo and 1 × garden gloves, total 46.97 EUR"
    );
    let (status, done) = commit(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK);
    let new_id = done["reference"].as_str().unwrap();
    let new = api.ok(&format!("/orders/{new_id}")).await;
    let old = api.ok("/orders/40117").await;
    assert_eq!(new["contact_id"], "c-1001");
    assert_eq!(new["lines"], old["lines"]);
    assert_eq!(new["placed_at"], "2025-06-01T10:00:00Z");
    assert_eq!(order_count(&api, "c-1001").await, 5);
    assert_eq!(
        api.ok("/contacts/c-1001/orders?limit=1").await[0]["id"],
        new_id
    );
    assert_eq!(
        api.ok("/contacts/c-1001/frequent").await[0]["times_ordered"],
        3
    );

    // The returned wheelbarrow is sold out: repeating that order cannot be promised.
    let (status, body) = prepare(
        &api,
        "wb",
        json!({"type": "repeat_order", "order_id": "40126"}),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = prepare(
        &api,
        "nothing",
        json!({"type": "repeat_order", "order_id": "1"}),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn cancel_order_until_shipped() {
    let api = Api::new();
    let olive = api.stock("KH-5003").await;
    let tx = prepared(
        &api,
        "cancel-olive",
        json!({"type": "cancel_order", "order_id": "40150"}),
    )
    .await;
    assert_eq!(
        tx["summary"],
        "cancel order 40150 (1 × olive tree, total 69.99 EUR)"
    );
    assert_eq!(api.ok("/orders/40150").await["status"], "pending");
    let (status, done) = commit(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["reference"], "40150");
    assert_eq!(api.ok("/orders/40150").await["status"], "cancelled");
    assert_eq!(api.stock("KH-5003").await, olive + 1);

    let (status, body) = prepare(
        &api,
        "cancel-again",
        json!({"type": "cancel_order", "order_id": "40150"}),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = prepare(
        &api,
        "cancel-shipped",
        json!({"type": "cancel_order", "order_id": "40142"}),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["message"].as_str().unwrap().contains("shipped"));
    assert_eq!(api.ok("/orders/40142").await["status"], "shipped");
}

#[tokio::test]
async fn modify_order_adjusts_lines_and_stock() {
    let api = Api::new();
    let (can, trowel, gloves) = (
        api.stock("KH-1005").await,
        api.stock("KH-4004").await,
        api.stock("KH-4002").await,
    );
    let tx = prepared(
        &api,
        "modify",
        json!({"type": "modify_order", "order_id": "40146",
               "lines": [{"sku": "KH-1005", "quantity": 3}, {"sku": "KH-4002", "quantity": 1}]}),
    )
    .await;
    assert_eq!(
        tx["summary"],
        "change order 40146 to 3 × watering can 10 litres and 1 × garden gloves, total 45.96 EUR"
    );
    assert_eq!(api.stock("KH-1005").await, can - 2);
    let (status, _) = commit(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK);
    let order = api.ok("/orders/40146").await;
    assert_eq!(order["total"]["amount"], 4596);
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(api.stock("KH-1005").await, can - 2);
    assert_eq!(api.stock("KH-4002").await, gloves - 1);
    assert_eq!(api.stock("KH-4004").await, trowel + 1);

    let (status, body) = prepare(&api, "modify-delivered", json!({"type": "modify_order", "order_id": "40101", "lines": [{"sku": "KH-3001", "quantity": 1}]})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn commit_fails_cleanly_when_the_order_moved_on() {
    let api = Api::new();
    let modify = prepared(&api, "m", json!({"type": "modify_order", "order_id": "40148", "lines": [{"sku": "KH-5002", "quantity": 10}]})).await;
    let lavender = api.stock("KH-5002").await;
    let cancel = prepared(
        &api,
        "c",
        json!({"type": "cancel_order", "order_id": "40148"}),
    )
    .await;
    assert_eq!(commit(&api, &cancel["id"]).await.0, StatusCode::OK);
    let (status, body) = commit(&api, &modify["id"]).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    // The modify's extra 7 lavender were handed back, and the cancel returned 3.
    assert_eq!(api.stock("KH-5002").await, lavender + 7 + 3);
    let id = modify["id"].as_str().unwrap();
    assert_eq!(
        api.ok(&format!("/transactions/{id}")).await["state"],
        "aborted"
    );
}

#[tokio::test]
async fn open_complaint() {
    let api = Api::new();
    let tx = prepared(
        &api,
        "complaint",
        json!({"type": "open_complaint", "contact_id": "c-1006", "order_id": "40131",
               "subject": "hanging basket chain broke", "description": "The chain snapped after a week."}),
    )
    .await;
    assert_eq!(tx["total"], Value::Null);
    assert_eq!(
        tx["summary"],
        "open a complaint about order 40131: hanging basket chain broke"
    );
    assert!(
        api.ok("/contacts/c-1006/complaints")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (status, done) = commit(&api, &tx["id"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["reference"], "CP-2006");
    let open = api.ok("/contacts/c-1006/complaints?status=open").await;
    assert_eq!(open[0]["id"], "CP-2006");
    assert_eq!(open[0]["status"], "open");
    assert_eq!(open[0]["order_id"], "40131");
    assert_eq!(
        api.ok("/complaints/CP-2006").await["subject"],
        "hanging basket chain broke"
    );

    let (status, body) = prepare(&api, "not-yours", json!({"type": "open_complaint", "contact_id": "c-1006", "order_id": "40101", "subject": "x", "description": ""})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    let (status, body) = prepare(&api, "no-order", json!({"type": "open_complaint", "contact_id": "c-1006", "order_id": "99", "subject": "x", "description": ""})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_prepares_never_oversell() {
    let api = std::sync::Arc::new(Api::new());
    let mut tasks = Vec::new();
    for i in 0..12 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            prepare(
                &api,
                &format!("race-{i}"),
                create_order("c-1003", json!([{"sku": "KH-6001", "quantity": 1}])),
            )
            .await
            .0
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(api.stock("KH-6001").await, 0);
}
