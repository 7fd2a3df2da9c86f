//! A misbehaving plugin fails one call with a typed error; the runtime and every other
//! call carry on. Uses the real `chaos` guest component.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use voxgate_runtime::testing::plugin_bytes;
use voxgate_runtime::{
    AllowedHost, CallContext, CallError, Limits, PluginError, Runtime, RuntimeConfig, Session,
    TenantEnv, TenantPlugins,
};

fn ctx() -> CallContext {
    CallContext {
        tenant: "t1".into(),
        call_id: "call-1".into(),
        caller: "+442079460123".into(),
        called: "+442079460999".into(),
        language: "en".into(),
        idempotency_key: None,
    }
}

fn limits() -> Limits {
    Limits {
        memory_bytes: 32 << 20,
        call_deadline: Duration::from_millis(300),
        concurrent_instances: 16,
        http_timeout: Duration::from_millis(1000),
        http_response_bytes: 64 << 10,
    }
}

fn tenant(env: Arc<TenantEnv>) -> TenantPlugins {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 64,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let chaos = runtime.load("chaos", &plugin_bytes("chaos")).unwrap();
    let t = TenantPlugins::new(runtime, env);
    t.activate(chaos, None).unwrap();
    t
}

async fn echo_works(s: &Session) {
    let a = s.answer(&ctx(), "hello").await.unwrap();
    assert_eq!(a.text, "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_loop_stops_at_deadline_and_others_carry_on() {
    let t = tenant(TenantEnv::builder("t1").limits(limits()).build());
    let s = Arc::new(t.session("call-1"));

    // Other calls keep being served while one instance spins.
    let spinner = {
        let s = s.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let r = s.answer(&ctx(), "loop").await;
            (r, started.elapsed())
        })
    };
    for _ in 0..20 {
        echo_works(&s).await;
    }
    let (r, took) = spinner.await.unwrap();
    match r {
        Err(CallError::Deadline { function, limit }) => {
            assert_eq!(function, "knowledge.answer");
            assert_eq!(limit, Duration::from_millis(300));
        }
        other => panic!("expected a deadline error, got {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(290),
        "stopped too early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "stopped too late: {took:?}"
    );
    echo_works(&s).await;
    let reports = s.reports();
    assert!(reports.iter().any(|r| r.outcome == "deadline"));
    assert_eq!(reports.iter().filter(|r| r.outcome == "ok").count(), 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_stops_at_the_limit() {
    let t = tenant(TenantEnv::builder("t1").limits(limits()).build());
    let s = t.session("call-1");
    match s.answer(&ctx(), "bomb").await {
        Err(CallError::MemoryLimit { limit_bytes, .. }) => assert_eq!(limit_bytes, 32 << 20),
        other => panic!("expected a memory-limit error, got {other:?}"),
    }
    echo_works(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trap_fails_one_call_and_the_next_succeeds() {
    let t = tenant(TenantEnv::builder("t1").limits(limits()).build());
    let s = t.session("call-1");
    match s.answer(&ctx(), "trap").await {
        Err(CallError::Trap { message, .. }) => {
            // The guest's panic message reaches the error through captured stderr.
            assert!(message.contains("chaos was asked to trap"), "{message}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    echo_works(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_follows_the_allow_list() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shop = voxgate_demo_erp::Shop::seeded(std::time::SystemTime::now());
    tokio::spawn(voxgate_demo_erp::serve(listener, shop));

    // Not allowed: an error value, with the refused host in the report.
    let denied = tenant(TenantEnv::builder("t1").limits(limits()).build());
    let s = denied.session("call-1");
    let url = format!("http://{addr}/healthz");
    match s.answer(&ctx(), &format!("http {url}")).await {
        Err(CallError::Plugin(PluginError::Denied(m))) => assert!(m.contains("not allowed"), "{m}"),
        other => panic!("expected denied, got {other:?}"),
    }
    assert_eq!(s.reports()[0].denied_hosts, vec![addr.to_string()]);
    echo_works(&s).await;

    // Allowed: the request goes through.
    let env = TenantEnv::builder("t1")
        .limits(Limits {
            http_response_bytes: 1024,
            ..limits()
        })
        .allow_host(AllowedHost::parse(&addr.to_string()).unwrap())
        .build();
    let allowed = tenant(env);
    let s = allowed.session("call-2");
    let a = s.answer(&ctx(), &format!("http {url}")).await.unwrap();
    assert_eq!(a.text, "status 200");

    // A response above the tenant's size cap is refused, not read.
    let big = format!("http http://{addr}/products?limit=100");
    match s.answer(&ctx(), &big).await {
        Err(CallError::Plugin(PluginError::Internal(m))) => assert!(m.contains("larger"), "{m}"),
        other => panic!("expected a size error, got {other:?}"),
    }
    echo_works(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_secrets_are_per_tenant() {
    let env = TenantEnv::builder("t1")
        .limits(limits())
        .config("erp-base-url", "http://erp.example")
        .secret("erp-api-key", "s3cret")
        .build();
    let t = tenant(env);
    let other = tenant(TenantEnv::builder("t2").limits(limits()).build());
    let s = t.session("a");
    assert_eq!(
        s.answer(&ctx(), "config erp-base-url").await.unwrap().text,
        "http://erp.example"
    );
    assert_eq!(
        s.answer(&ctx(), "secret erp-api-key").await.unwrap().text,
        "s3cret"
    );
    let s2 = other.session("b");
    assert_eq!(
        s2.answer(&ctx(), "secret erp-api-key").await.unwrap().text,
        "<unset>"
    );
    // Secrets never show in debug output (and so not in logs).
    assert!(!format!("{:?}", t.env()).contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_interface_is_a_typed_error() {
    let t = tenant(TenantEnv::builder("t1").limits(limits()).build());
    let s = t.session("c");
    match s.order(&ctx(), "o-1").await {
        Err(CallError::NotBound(cap)) => assert_eq!(cap.name(), "orders"),
        other => panic!("expected not-bound, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out_as_unavailable() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let env = TenantEnv::builder("t1")
        .limits(Limits {
            call_deadline: Duration::from_secs(3),
            http_timeout: Duration::from_millis(200),
            ..limits()
        })
        .allow_host(AllowedHost::parse(&addr.to_string()).unwrap())
        .build();
    let t = tenant(env);
    let s = t.session("slow");
    let started = Instant::now();
    match s.answer(&ctx(), &format!("http http://{addr}/")).await {
        Err(CallError::Plugin(PluginError::Unavailable(m))) => {
            assert!(m.contains("timed out"), "{m}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "took {took:?}, the tenant's timeout is 200 ms"
    );
    echo_works(&s).await;
}

/// Language runtimes import `wasi:sockets`, so it is linked; but a plugin that opens a
/// socket, even to a host the tenant allows for HTTP, gets an error value and the
/// server sees no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_are_linked_but_every_connection_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let sockets = runtime.load("sockets", &plugin_bytes("sockets")).unwrap();
    assert!(
        sockets
            .imports()
            .iter()
            .any(|i| i.starts_with("wasi:sockets/")),
        "{:?}",
        sockets.imports()
    );
    let env = TenantEnv::builder("t1")
        .limits(limits())
        .allow_host(AllowedHost::parse(&addr.to_string()).unwrap())
        .build();
    let t = TenantPlugins::new(runtime, env);
    t.activate(sockets, None).unwrap();
    let s = t.session("call-1");
    match s.answer(&ctx(), &addr.to_string()).await {
        Err(CallError::Plugin(PluginError::Unavailable(m))) => {
            assert!(m.to_lowercase().contains("denied"), "{m}")
        }
        other => panic!("expected a refused connection, got {other:?}"),
    }
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the plugin reached the listener: {other:?}"),
    }
}
