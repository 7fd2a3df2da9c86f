//! Read-side endpoints and error handling, through the router as a plugin sees them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, assert_error};
use serde_json::{Value, json};

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn healthz() {
    let api = Api::new();
    assert_eq!(api.ok("/healthz").await, json!({"status": "ok"}));
}

#[tokio::test]
async fn api_key_is_required_except_for_healthz() {
    let mut api = Api::with_key("s3cret");
    assert_eq!(api.ok("/contacts/c-1001").await["first_name"], "Ana");

    api.key = None;
    let (status, body) = api.get("/contacts/c-1001").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = api.get("/no/such/route").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(api.ok("/healthz").await["status"], "ok");

    api.key = Some("s3cret-but-wrong".into());
    let (status, body) = api.get("/contacts/c-1001").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = api
        .post("/transactions", &json!({"idempotency_key": "k", "operation": {"type": "cancel_order", "order_id": "40150"}}))
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(api.shop.stats().transactions.prepared, 0);
}

#[tokio::test]
async fn contact_by_phone_in_every_spelling() {
    let api = Api::new();
    for uri in [
        "/contacts/by-phone/%2B38515550101",
        "/contacts/by-phone/+38515550101",
        "/contacts/by-phone/%2B385%201%20555%200101",
        "/contacts/by-phone/0038515550101",
    ] {
        let c = api.ok(uri).await;
        assert_eq!(c["id"], "c-1001", "{uri}");
        assert_eq!(c["phone"], "+38515550101");
        assert_eq!(c["tier"], "vip");
        assert_eq!(c["language"], "hr");
    }
    let marko = api.ok("/contacts/by-phone/%2B38515550102").await;
    assert_eq!(marko["last_name"], "Kovačić");
    assert_eq!(marko["email"], Value::Null);
    assert_eq!(marko["company"], Value::Null);

    let (status, body) = api.get("/contacts/by-phone/%2B442079460999").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = api.get("/contacts/by-phone/anonymous").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
}

#[tokio::test]
async fn contact_by_id() {
    let api = Api::new();
    let c = api.ok("/contacts/c-1004").await;
    assert_eq!(c["company"], "Weber Gartenbau GmbH");
    assert_eq!(c["phone"], "+493055550104");
    let (status, body) = api.get("/contacts/c-9999").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn contact_orders_newest_first_with_limit() {
    let api = Api::new();
    let all = api.ok("/contacts/c-1001/orders").await;
    assert_eq!(ids(&all, "id"), ["40150", "40142", "40117", "40101"]);
    let placed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["placed_at"].as_str().unwrap())
        .collect();
    assert_eq!(placed[0], "2025-06-01T09:00:00Z");
    assert_eq!(all[1]["status"], "shipped");
    assert_eq!(all[1]["item_count"], 3);
    assert_eq!(
        all[1]["total"],
        json!({"amount": 24999 + 2 * 2499, "currency": "EUR"})
    );

    let two = api.ok("/contacts/c-1001/orders?limit=2").await;
    assert_eq!(ids(&two, "id"), ["40150", "40142"]);
    assert_eq!(api.ok("/contacts/c-1008/orders").await, json!([]));

    let (status, body) = api.get("/contacts/c-1001/orders?limit=0").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    let (status, body) = api.get("/contacts/c-1001/orders?limit=lots").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    let (status, body) = api.get("/contacts/nobody/orders").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn order_detail_adds_up() {
    let api = Api::new();
    let o = api.ok("/orders/40144").await;
    assert_eq!(o["contact_id"], "c-1004");
    assert_eq!(o["status"], "processing");
    let lines = o["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    let mut sum = 0;
    for l in lines {
        let expect = l["unit_price"]["amount"].as_i64().unwrap() * l["quantity"].as_i64().unwrap();
        assert_eq!(l["line_total"]["amount"], expect);
        assert_eq!(l["line_total"]["currency"], "EUR");
        sum += expect;
    }
    assert_eq!(o["total"]["amount"], sum);
    assert_eq!(lines[0]["name"], "terracotta pot small");

    let (status, body) = api.get("/orders/99999").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn orders_by_contact_and_statuses_cover_the_lifecycle() {
    let api = Api::new();
    let marko = api.ok("/orders?contact_id=c-1002").await;
    assert_eq!(ids(&marko, "id"), ["40139", "40121", "40108"]);
    assert!(marko[0]["lines"].is_array());

    let all = api.ok("/orders").await;
    let mut statuses = ids(&all, "status");
    statuses.sort();
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            "cancelled",
            "confirmed",
            "delivered",
            "out_for_delivery",
            "pending",
            "processing",
            "returned",
            "shipped"
        ]
    );
    let (status, body) = api.get("/orders?contact_id=c-0000").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn deliveries() {
    let api = Api::new();
    let d = api.ok("/deliveries/by-order/40142").await;
    assert_eq!(d["status"], "in_transit");
    assert_eq!(d["carrier"], "GLS");
    assert_eq!(d["tracking"], "GLS-HR-58270218");
    assert_eq!(d["eta_earliest"], "2025-06-02T06:00:00Z");
    assert_eq!(d["eta_latest"], "2025-06-02T12:00:00Z");

    let d = api.ok("/deliveries/by-order/40139").await;
    assert_eq!(d["status"], "out_for_delivery");
    let d = api.ok("/deliveries/by-order/40135").await;
    assert_eq!(d["status"], "exception");
    assert!(d["note"].as_str().unwrap().contains("house number"));
    let d = api.ok("/deliveries/by-order/40101").await;
    assert_eq!(d["status"], "delivered");

    let d = api.ok("/deliveries/by-order/40150").await;
    assert_eq!(d["status"], "not_shipped");
    assert_eq!(d["carrier"], Value::Null);
    assert_eq!(d["tracking"], Value::Null);
    assert_eq!(d["eta_earliest"], Value::Null);

    let (status, body) = api.get("/deliveries/by-order/12345").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn product_search_ranks_spoken_queries() {
    let api = Api::new();
    let hoses = api.ok("/products?q=garden%20hose").await;
    assert_eq!(&ids(&hoses, "sku")[..2], ["KH-1001", "KH-1002"]);
    let long = api.ok("/products?q=hoses%2050%20meters&limit=1").await;
    assert_eq!(ids(&long, "sku"), ["KH-1002"]);
    let fert = api.ok("/products?q=Lawn+FERTILIZER").await;
    assert_eq!(fert[0]["sku"], "KH-3001");
    assert_eq!(fert[0]["price"], json!({"amount": 1999, "currency": "EUR"}));
    let pot = api
        .ok("/products?q=do%20you%20have%20a%20large%20pot")
        .await;
    assert_eq!(pot[0]["sku"], "KH-2001");
    let can = api.ok("/products?q=watering%20can").await;
    assert_eq!(can[0]["sku"], "KH-1005");
    let bbq = api.ok("/products?q=bbq").await;
    assert!(ids(&bbq, "sku").contains(&"KH-8001".to_owned()));
    assert_eq!(api.ok("/products?q=spaceship").await, json!([]));
    assert_eq!(
        api.ok("/products?limit=100")
            .await
            .as_array()
            .unwrap()
            .len(),
        28
    );
    assert_eq!(api.ok("/products").await.as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn product_by_sku() {
    let api = Api::new();
    let p = api.ok("/products/KH-2001").await;
    assert_eq!(p["name"], "terracotta pot large");
    assert_eq!(p["category"], "pots and planters");
    assert_eq!(p["unit"], "piece");
    assert_eq!(p["in_stock"], true);
    assert_eq!(api.ok("/products/kh-2003").await["in_stock"], false);
    assert_eq!(api.ok("/products/KH-4003").await["in_stock"], false);
    let (status, body) = api.get("/products/KH-0000").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn frequent_items_come_from_history() {
    let api = Api::new();
    let ana = api.ok("/contacts/c-1001/frequent").await;
    assert_eq!(ana[0]["product"]["sku"], "KH-3001");
    assert_eq!(ana[0]["times_ordered"], 2);
    assert_eq!(ana[0]["last_ordered"], "2025-05-02T10:00:00Z");
    assert!(
        ana.as_array()
            .unwrap()
            .iter()
            .skip(1)
            .all(|f| f["times_ordered"] == 1)
    );
    let jess = api.ok("/contacts/c-1007/frequent?limit=1").await;
    assert_eq!(jess.as_array().unwrap().len(), 1);
    assert_eq!(jess[0]["product"]["sku"], "KH-5004");
    assert_eq!(jess[0]["times_ordered"], 3);
    // Marko's lawn mower order was cancelled: he never bought one.
    let marko = api.ok("/contacts/c-1002/frequent?limit=100").await;
    assert!(!marko.to_string().contains("KH-3003"));
    assert_eq!(api.ok("/contacts/c-1008/frequent").await, json!([]));
}

#[tokio::test]
async fn recommendations_are_new_in_stock_and_related() {
    let api = Api::new();
    let bought: Vec<String> = api
        .ok("/orders?contact_id=c-1001")
        .await
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["lines"].as_array().unwrap().clone())
        .map(|l| l["sku"].as_str().unwrap().to_owned())
        .collect();
    let recs = api.ok("/contacts/c-1001/recommendations?limit=100").await;
    let recs = recs.as_array().unwrap();
    assert!(!recs.is_empty());
    let categories = [
        "lawn care",
        "garden tools",
        "outdoor furniture",
        "pots and planters",
        "soil and plants",
    ];
    for r in recs {
        assert!(
            !bought.contains(&r["sku"].as_str().unwrap().to_owned()),
            "{r}"
        );
        assert_eq!(r["in_stock"], true, "{r}");
        assert!(categories.contains(&r["category"].as_str().unwrap()), "{r}");
    }
    // Lawn care is what she buys most.
    assert_eq!(recs[0]["category"], "lawn care");
    let david = api.ok("/contacts/c-1008/recommendations?limit=3").await;
    assert_eq!(david.as_array().unwrap().len(), 3);
    let (status, body) = api.get("/contacts/ghost/recommendations").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn promotions_respect_vip() {
    let api = Api::new();
    let everyone = ids(&api.ok("/promotions").await, "id");
    assert!(everyone.len() >= 3);
    assert!(!everyone.contains(&"promo-vip-teak".to_owned()));
    let vip = api.ok("/promotions?contact_id=c-1001").await;
    assert!(ids(&vip, "id").contains(&"promo-vip-teak".to_owned()));
    assert_eq!(vip.as_array().unwrap().len(), everyone.len() + 1);
    let teak = vip
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "promo-vip-teak")
        .unwrap();
    assert_eq!(teak["sku"], "KH-6001");
    assert_eq!(teak["discount_percent"], 20);
    assert_eq!(teak["valid_until"], "2025-06-22T10:00:00Z");
    let standard = ids(&api.ok("/promotions?contact_id=c-1006").await, "id");
    assert_eq!(standard, everyone);
    let shipping = api.ok("/promotions").await;
    let free = shipping
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "promo-free-shipping")
        .unwrap();
    assert_eq!(free["sku"], Value::Null);
    assert_eq!(free["discount_percent"], Value::Null);
    let (status, body) = api.get("/promotions?contact_id=c-4040").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn complaints() {
    let api = Api::new();
    let lukas_open = api.ok("/contacts/c-1003/complaints?status=open").await;
    assert_eq!(ids(&lukas_open, "id"), ["CP-2002"]);
    assert_eq!(lukas_open[0]["status"], "in_progress");
    assert_eq!(lukas_open[0]["order_id"], "40135");
    assert_eq!(
        api.ok("/contacts/c-1001/complaints?status=open").await,
        json!([])
    );
    let ana_all = api.ok("/contacts/c-1001/complaints").await;
    assert_eq!(ids(&ana_all, "status"), ["resolved"]);
    let emily = api.ok("/contacts/c-1005/complaints?status=open").await;
    assert_eq!(emily[0]["status"], "waiting_for_customer");
    assert_eq!(emily[0]["order_id"], Value::Null);

    let c = api.ok("/complaints/CP-2005").await;
    assert_eq!(c["status"], "open");
    assert_eq!(c["last_note"], Value::Null);
    assert_eq!(c["contact_id"], "c-1002");
    let (status, body) = api.get("/complaints/CP-0001").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = api.get("/contacts/c-1001/complaints?status=weird").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
}

#[tokio::test]
async fn knowledge_base_answers_spoken_questions() {
    let api = Api::new();
    for (question, source) in [
        (
            "what are your opening hours on saturday",
            "faq/opening-hours",
        ),
        (
            "I bought a hose last week, can I send it back?",
            "faq/returns",
        ),
        ("how much is shipping", "faq/shipping-costs"),
        ("do you ship to Germany", "faq/delivery-areas"),
        ("can I pay with PayPal", "faq/payment-methods"),
        ("how long is the warranty", "faq/warranty"),
        ("how long does delivery take", "faq/delivery-times"),
    ] {
        let uri = format!(
            "/knowledge?q={}",
            question
                .replace(' ', "%20")
                .replace('?', "%3F")
                .replace(',', "%2C")
        );
        let a = api.ok(&uri).await;
        assert_eq!(a["source"], source, "{question}: {a}");
        let score = a["score"].as_u64().unwrap();
        assert!((40..=100).contains(&score), "{question}: {score}");
        assert!(a["answer"].as_str().unwrap().len() > 40);
    }
    let (status, body) = api.get("/knowledge?q=quantum%20chromodynamics").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = api.get("/knowledge").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
}

#[tokio::test]
async fn tickets_are_created_and_listed() {
    let api = Api::new();
    let (status, t) = api
        .post(
            "/tickets",
            &json!({"channel": "callback", "contact_id": "c-1005", "phone": "+442079460123",
                    "subject": "wants to talk to a human", "body": "about the lawn mower", "priority": "high"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["id"], "T-3001");
    assert_eq!(t["channel"], "callback");
    assert_eq!(t["reference"], "T-3001");
    assert!(t["message"].as_str().unwrap().contains("+442079460123"));
    let (status, t2) = api
        .post(
            "/tickets",
            &json!({"channel": "email", "contact_id": null, "phone": "+12025550199",
                                 "subject": "catalogue request", "body": "", "priority": "normal"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t2}");
    let list = api.ok("/tickets").await;
    assert_eq!(ids(&list, "id"), ["T-3001", "T-3002"]);
    assert_eq!(list[0]["priority"], "high");
    assert_eq!(list[0]["contact_id"], "c-1005");

    for bad in [
        json!({"channel": "pigeon", "phone": "+442079460123", "subject": "x", "body": ""}),
        json!({"channel": "ticket", "phone": "call me", "subject": "x", "body": ""}),
        json!({"channel": "ticket", "phone": "+442079460123", "subject": "  ", "body": ""}),
    ] {
        let (status, body) = api.post("/tickets", &bad).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    }
    let (status, body) = api
        .post("/tickets", &json!({"channel": "ticket", "contact_id": "c-0", "phone": "+442079460123", "subject": "x", "body": ""}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(api.shop.stats().tickets, 2);
}

#[tokio::test]
async fn recordings_are_wav() {
    let api = Api::new();
    let (status, wav, content_type) = api.raw(Method::GET, "/recordings/rec-0001", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "audio/wav");
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 8000);
    assert_eq!(u16::from_le_bytes(wav[22..24].try_into().unwrap()), 1);
    let data_len = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
    assert_eq!(wav.len(), 44 + data_len);
    assert_eq!(data_len, 3 * 8000 * 2);
    let (status, wav2, _) = api.raw(Method::GET, "/recordings/rec-0002", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(wav, wav2);
    let (status, body) = api.get("/recordings/rec-9999").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let api = Api::new();
    let (status, body) = api.get("/warehouse").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body, _) = api.raw(Method::DELETE, "/orders/40150", None).await;
    let body = common::parse(&body);
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "invalid");
}

#[tokio::test]
async fn stats_count_requests() {
    let api = Api::new();
    api.ok("/healthz").await;
    api.ok("/contacts/c-1001").await;
    let stats = api.ok("/stats").await;
    assert_eq!(stats["requests"], 3);
    assert_eq!(stats["orders"], 20);
    assert_eq!(
        stats["transactions"],
        json!({"prepared": 0, "committed": 0, "aborted": 0, "expired": 0})
    );
}

#[tokio::test]
async fn same_seed_same_answers() {
    let a = Api::new();
    let b = Api::new();
    for uri in [
        "/orders/40142",
        "/deliveries/by-order/40139",
        "/contacts/c-1003/complaints",
        "/promotions?contact_id=c-1001",
    ] {
        assert_eq!(a.ok(uri).await, b.ok(uri).await, "{uri}");
    }
}
