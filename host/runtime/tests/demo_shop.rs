//! The reference plugin against the demo ERP: every interface, through the sandbox, over
//! real HTTP, with the ERP's state checked after each change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::SystemTime;

use voxgate_demo_erp::Shop;
use voxgate_runtime::testing::plugin_bytes;
use voxgate_runtime::{
    AllowedHost, CallContext, CallError, PluginError, Runtime, RuntimeConfig, Session, TenantEnv,
    TenantPlugins,
};
use voxgate_runtime::{contacts, delivery, escalation, orders, transactions};

struct Demo {
    shop: Shop,
    tenant: TenantPlugins,
}

async fn demo(api_key: Option<&str>) -> Demo {
    let mut shop = Shop::seeded(SystemTime::now());
    if let Some(k) = api_key {
        shop = shop.with_api_key(k);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(voxgate_demo_erp::serve(listener, shop.clone()));
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let version = runtime
        .load("demo-shop", &plugin_bytes("demo-shop"))
        .unwrap();
    let mut env = TenantEnv::builder("demo")
        .allow_host(AllowedHost::parse(&addr.to_string()).unwrap())
        .config("erp-base-url", format!("http://{addr}"));
    if let Some(k) = api_key {
        env = env.secret("erp-api-key", k);
    }
    let tenant = TenantPlugins::new(runtime, env.build());
    tenant.activate(version, None).unwrap();
    Demo { shop, tenant }
}

fn ctx(key: Option<&str>) -> CallContext {
    CallContext {
        tenant: "demo".into(),
        call_id: "call-1".into(),
        caller: "+442079460123".into(),
        called: "+38515559000".into(),
        language: "en".into(),
        idempotency_key: key.map(String::from),
    }
}

async fn emily(s: &Session) -> contacts::Contact {
    s.lookup_contact(&ctx(None), "+442079460123").await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_every_interface() {
    let d = demo(Some("k3y")).await;
    let s = Arc::new(d.tenant.session("call-1"));
    let c = emily(&s).await;
    assert_eq!(
        (c.first_name.as_str(), c.last_name.as_str()),
        ("Emily", "Clarke")
    );
    assert_eq!(c.tier, contacts::Tier::Standard);
    let ana = s.lookup_contact(&ctx(None), "+38515550101").await.unwrap();
    assert_eq!(ana.tier, contacts::Tier::Vip);
    assert_eq!(ana.language.as_deref(), Some("hr"));
    assert!(matches!(
        s.lookup_contact(&ctx(None), "+442079469999").await,
        Err(CallError::Plugin(PluginError::NotFound(_)))
    ));

    let recent = s.recent_orders(&ctx(None), &c.id, 5).await.unwrap();
    assert!(!recent.is_empty());
    let order = s.order(&ctx(None), &recent[0].id).await.unwrap();
    assert_eq!(order.contact_id, c.id);
    let sum: i64 = order.lines.iter().map(|l| l.line_total.amount).sum();
    assert_eq!(sum, order.total.amount);
    assert!(matches!(
        s.order(&ctx(None), "nope").await,
        Err(CallError::Plugin(PluginError::NotFound(_)))
    ));

    // Emily's mower is in transit: there is an ETA window.
    let shipped = recent
        .iter()
        .find(|o| o.status == orders::OrderStatus::Shipped)
        .expect("a shipped order");
    let eta = s.delivery_eta(&ctx(None), &shipped.id).await.unwrap();
    assert_eq!(eta.status, delivery::DeliveryStatus::InTransit);
    assert!(eta.eta_earliest.is_some() && eta.eta_latest.is_some());

    let hoses = s
        .search_products(&ctx(None), "garden hose", 5)
        .await
        .unwrap();
    assert_eq!(hoses[0].sku, "KH-1001");
    assert_eq!(hoses[0].price.amount, 2999);
    assert_eq!(hoses[0].price.currency, "EUR");
    assert!(
        !s.frequent_items(&ctx(None), &ana.id, 3)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !s.recommendations(&ctx(None), &ana.id, 3)
            .await
            .unwrap()
            .is_empty()
    );
    let vip = s.promotions(&ctx(None), Some(&ana.id)).await.unwrap();
    let everyone = s.promotions(&ctx(None), None).await.unwrap();
    assert!(vip.len() > everyone.len(), "VIPs see a VIP-only promotion");

    let open = s.open_complaints(&ctx(None), &c.id).await.unwrap();
    assert!(!open.is_empty());
    let one = s.complaint(&ctx(None), &open[0].id).await.unwrap();
    assert_eq!(one.id, open[0].id);

    let faq = s
        .answer(&ctx(None), "what are your opening hours")
        .await
        .unwrap();
    assert!(faq.confidence >= 40, "{faq:?}");
    assert!(matches!(
        s.answer(&ctx(None), "zebra quantum saxophone").await,
        Err(CallError::Plugin(PluginError::NotFound(_)))
    ));

    let rec = s.fetch_recording(&ctx(None), "rec-0001").await.unwrap();
    assert_eq!(rec.content_type, "audio/wav");
    assert_eq!(&rec.data[..4], b"RIFF");
    assert!(rec.duration_ms.unwrap_or(0) > 500);

    let ticket = s
        .open_ticket(
            &ctx(None),
            &escalation::TicketRequest {
                channel: escalation::Channel::Callback,
                contact_id: Some(c.id.clone()),
                phone: c.phone.clone(),
                subject: "call me back".into(),
                body: "about the mower".into(),
                priority: escalation::Priority::High,
            },
        )
        .await
        .unwrap();
    assert_eq!(ticket.channel, escalation::Channel::Callback);
    assert_eq!(d.shop.stats().tickets, 1);

    // Every call above went out with the API key; a wrong key is a `denied` value.
    let reports = s.reports();
    assert!(
        reports
            .iter()
            .all(|r| r.plugin == "demo-shop" && r.version.len() == 12)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat_order_prepares_commits_exactly_once_and_abort_releases() {
    let d = demo(None).await;
    let s = d.tenant.session("call-2");
    let c = emily(&s).await;
    let last = s
        .recent_orders(&ctx(None), &c.id, 1)
        .await
        .unwrap()
        .remove(0);
    let before = d.shop.stats().orders;

    // Without an idempotency key prepare is refused.
    let op = transactions::Operation::RepeatOrder(last.id.clone());
    assert!(matches!(
        s.prepare(&ctx(None), &op).await,
        Err(CallError::Plugin(PluginError::Invalid(_)))
    ));
    let p = s.prepare(&ctx(Some("call-2/1")), &op).await.unwrap();
    assert!(p.summary.contains("total"), "{}", p.summary);
    assert!(p.total.is_some());
    // The same key gives the same transaction.
    let again = s.prepare(&ctx(Some("call-2/1")), &op).await.unwrap();
    assert_eq!(again.transaction_id, p.transaction_id);

    let done = s.commit(&ctx(None), &p.transaction_id).await.unwrap();
    let twice = s.commit(&ctx(None), &p.transaction_id).await.unwrap();
    assert_eq!(done.reference, twice.reference);
    assert_eq!(d.shop.stats().orders, before + 1, "exactly one new order");
    match s.abort(&ctx(None), &p.transaction_id).await {
        Err(CallError::Plugin(PluginError::Conflict(_))) => {}
        other => panic!("abort after commit must be a conflict, got {other:?}"),
    }

    // A new order that the caller declines: stock held, then released.
    let stock = d.shop.stock("KH-1001").unwrap();
    let op = transactions::Operation::CreateOrder(transactions::CreateOrder {
        contact_id: c.id.clone(),
        lines: vec![transactions::LineRequest {
            sku: "KH-1001".into(),
            quantity: 2,
        }],
    });
    let p = s.prepare(&ctx(Some("call-2/2")), &op).await.unwrap();
    assert_eq!(p.total.as_ref().map(|m| m.amount), Some(2 * 2999));
    assert_eq!(d.shop.stock("KH-1001"), Some(stock - 2));
    s.abort(&ctx(None), &p.transaction_id).await.unwrap();
    assert_eq!(d.shop.stock("KH-1001"), Some(stock));
    assert_eq!(d.shop.stats().orders, before + 1);

    // Out of stock is a conflict the dialog can explain.
    let op = transactions::Operation::CreateOrder(transactions::CreateOrder {
        contact_id: c.id.clone(),
        lines: vec![transactions::LineRequest {
            sku: "KH-2003".into(),
            quantity: 1,
        }],
    });
    assert!(matches!(
        s.prepare(&ctx(Some("call-2/3")), &op).await,
        Err(CallError::Plugin(PluginError::Conflict(_)))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_api_key_is_denied_and_erp_down_is_unavailable() {
    let d = demo(Some("right")).await;
    // The right key works; the same hosts and URL with a wrong key do not.
    let _ = emily(&d.tenant.session("x")).await;
    let env = d.tenant.env();
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let version = runtime
        .load("demo-shop", &plugin_bytes("demo-shop"))
        .unwrap();
    let url = env.allowed_hosts()[0].to_string();
    let wrong = TenantPlugins::new(
        runtime.clone(),
        TenantEnv::builder("demo")
            .allow_host(AllowedHost::parse(&url).unwrap())
            .config("erp-base-url", format!("http://{url}"))
            .secret("erp-api-key", "wrong")
            .build(),
    );
    wrong.activate(version.clone(), None).unwrap();
    match wrong
        .session("y")
        .lookup_contact(&ctx(None), "+442079460123")
        .await
    {
        Err(CallError::Plugin(PluginError::Denied(m))) => assert!(m.contains("API key"), "{m}"),
        other => panic!("expected denied, got {other:?}"),
    }

    // Nothing listens on port 9 of loopback: the ERP is unreachable.
    let down = TenantPlugins::new(
        runtime,
        TenantEnv::builder("demo")
            .allow_host(AllowedHost::parse("127.0.0.1:9").unwrap())
            .config("erp-base-url", "http://127.0.0.1:9")
            .build(),
    );
    down.activate(version, None).unwrap();
    assert!(matches!(
        down.session("z")
            .lookup_contact(&ctx(None), "+442079460123")
            .await,
        Err(CallError::Plugin(PluginError::Unavailable(_)))
    ));
}
