//! Post-call analytics through the admin API, in-process: every error code of
//! `POST /v1/analyses`, idempotency on `call_id`, the allow-list for recording URLs,
//! recordings resolved by reference through the demo shop's real `recordings.fetch`
//! component (from the demo ERP, a real process), the queue worked off into a
//! transcript and an analysis, KPIs and the CSV export, and voxgate's own calls
//! analysed from their record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::api::Api;
use support::erp::Erp;
use voxgate_analytics::decode::Audio;
use voxgate_speech::flite::FliteSynthesizer;
use voxgate_speech::synth::{Synthesizer, Voice};

/// A stereo WAV at 8 kHz: the agent's lines on the left, the customer's on the right,
/// one after the other with a pause between.
fn conversation(lines: &[(bool, &str)]) -> Vec<u8> {
    let flite = FliteSynthesizer::new().unwrap();
    let turns = lines.iter().map(|(agent, text)| {
        let voice = Voice {
            language: "en".into(),
            name: Some(if *agent { "slt" } else { "kal" }.into()),
        };
        let pcm = flite.synthesize(text, &voice).unwrap();
        (usize::from(!agent), pcm.resampled(8000).unwrap().samples)
    });
    Audio::from_turns(8000, 2, 6400, turns).to_wav()
}

const COMPLAINT: &[(bool, &str)] = &[
    (true, "Good morning, how can I help you?"),
    (
        false,
        "The garden chair I bought arrived broken and I am very unhappy. I want a refund.",
    ),
    (
        true,
        "I am sorry about that. I will arrange the refund today.",
    ),
];

async fn post(api: &Api, token: Option<&str>, body: Value) -> support::api::Reply {
    api.send(
        Method::POST,
        "/v1/analyses",
        token,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn balance(api: &Api, op: &str) -> i64 {
    api.get("/v1/tenants/acme/credits", op).await.json()["balance"]
        .as_i64()
        .unwrap()
}

async fn top_up(api: &Api, op: &str, amount: i64) {
    let r = api
        .json(
            Method::POST,
            "/v1/tenants/acme/credits",
            op,
            json!({"amount": amount}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Polls an analysis until it is done or failed.
async fn finished(api: &Api, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let v = api.get(&format!("/v1/analyses/{id}"), token).await.json();
        match v["status"].as_str() {
            Some("done" | "failed") => return v,
            _ if Instant::now() > deadline => panic!("analysis {id} not finished: {v}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_code_of_the_ingest_api() {
    let erp = Erp::start();
    let api = Api::with_tenant(&erp.addr, |t| t + "\n[analytics]\nmax_recording_mb = 1\n").await;
    let op = api.operator().await;
    let acme = api.tenant_token(&op, "acme").await;
    let url = |r: &str| format!("http://{}/recordings/{r}", erp.addr);
    let good = json!({"call_id": "c-1", "recording_url": url("rec-0001")});

    // 401: no token, a wrong one.
    let r = post(&api, None, good.clone()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let r = post(&api, Some("vxg_0000"), good.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // 400 names the field.
    for (body, field) in [
        (json!({"recording_url": url("rec-0001")}), "call_id"),
        (json!({"call_id": "c-1"}), "recording_url"),
        (
            json!({"call_id": "c-1", "recording_ref": "rec-0001", "queue": 5}),
            "queue",
        ),
        (
            json!({"call_id": "c-1", "recording_ref": "rec-0001", "date_time": "monday"}),
            "date_time",
        ),
        (
            json!({"call_id": "c-1", "recording_ref": "rec-0001", "colour": "red"}),
            "colour",
        ),
    ] {
        let r = post(&api, Some(&acme), body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let message = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(&format!("`{field}`")), "{body}: {message}");
    }
    // An operator must name the tenant; an unknown one is 404.
    let r = post(&api, Some(&op), good.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            Method::POST,
            "/v1/analyses?tenant=nobody",
            Some(&op),
            Some(("application/json", good.to_string().into_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // 402 with no credits, before anything is fetched.
    assert_eq!(balance(&api, &op).await, 0);
    let before = erp.requests();
    let r = post(&api, Some(&acme), good.clone()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYMENT_REQUIRED, "payment-required")
    );
    // One request since: the count itself.
    assert_eq!(
        erp.requests(),
        before + 1,
        "nothing may be fetched before the credits check"
    );
    // A declared length the balance cannot cover is refused too.
    top_up(&api, &op, 2).await;
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "c-1", "recording_url": url("rec-0001"), "duration": 600}),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(balance(&api, &op).await, 2);

    // The allow-list: the ERP's host is allowed, another port is not.
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "c-2", "recording_url": "http://127.0.0.1:9/x.wav"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("`recording_url`") && message.contains("allowed hosts"),
        "{message}"
    );

    // 415: an Ogg file and a web page are not recordings we read.
    erp.put_recording(
        "ogg-1",
        b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00 not really vorbis",
    );
    erp.put_recording("page-1", b"<html><body>login</body></html>");
    for r in ["ogg-1", "page-1"] {
        let reply = post(
            &api,
            Some(&acme),
            json!({"call_id": format!("c-{r}"), "recording_url": url(r)}),
        )
        .await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            "{r}"
        );
    }
    // 413: above the tenant's 1 MB, by URL and by reference.
    let big = support::noise_wav(8000, 700_000);
    erp.put_recording("big-1", &big);
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "c-big", "recording_url": url("big-1")}),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too-large")
    );
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "c-big", "recording_ref": "big-1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // An unknown reference is the caller's mistake.
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "c-3", "recording_ref": "no-such"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`recording_ref`")
    );
    // Nothing refused was charged.
    assert_eq!(balance(&api, &op).await, 2);

    // 500: the recordings plugin cannot reach its ERP.
    drop(erp);
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "c-4", "recording_ref": "rec-0001"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    assert_eq!(balance(&api, &op).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_paid_once_per_call_transcribed_per_speaker_and_analysed() {
    let erp = Erp::start();
    let api = Api::with_tenant(&erp.addr, |t| {
        t + "\n[analytics]\nkeywords = [\"refund\"]\n[analytics.categories]\nwarranty = [\"guarantee\", \"warranty\"]\n"
    })
    .await;
    let op = api.operator().await;
    let acme = api.tenant_token(&op, "acme").await;
    top_up(&api, &op, 10).await;
    let wav = conversation(COMPLAINT);
    erp.put_recording("pbx-rec-77", &wav);

    let body = json!({
        "call_id": "pbx-77", "recording_ref": "pbx-rec-77", "date_time": "2026-11-20T09:30:00Z",
        "duration": 20, "caller_id": "+385915550101", "call_topic": "broken chair",
        "queue": "support", "agent_id": "ana", "department": "after-sales",
        "customer": {"tier": "gold", "since": 2019}
    });
    let r = post(&api, Some(&acme), body.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let first = r.json();
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(
        first["credits"], 1,
        "a recording under a minute costs one credit"
    );
    assert_eq!(balance(&api, &op).await, 9);
    // The same call again: the same analysis, nothing fetched or charged again.
    let requests = erp.requests();
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "pbx-77", "recording_ref": "other"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["id"], id.as_str());
    assert_eq!(erp.requests(), requests + 1, "the repeat fetched nothing");
    assert_eq!(balance(&api, &op).await, 9);

    let done = finished(&api, &acme, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["progress"], 1.0);
    let turns = done["transcript"]["turns"].as_array().unwrap();
    let said = |who: &str| -> String {
        turns
            .iter()
            .filter(|t| t["speaker"] == who)
            .map(|t| t["text"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("agent: {}\ncustomer: {}", said("agent"), said("customer"));
    println!("result: {}", done["result"]);
    assert!(!said("agent").is_empty() && !said("customer").is_empty());
    assert_eq!(
        done["result"]["category"], "complaint",
        "{}",
        done["result"]
    );
    assert_eq!(done["result"]["sentiment"]["customer"]["label"], "negative");
    assert_eq!(done["metadata"]["queue"], "support");
    assert_eq!(done["metadata"]["customer"]["tier"], "gold");

    // By URL from an allowed host, and as MP3.
    let r = post(&api, Some(&acme), json!({"call_id": "pbx-78", "recording_url": format!("http://{}/recordings/pbx-rec-77", erp.addr), "queue": "sales"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let by_url = r.json()["id"].as_str().unwrap().to_string();
    let mp3 = support::mp3_of(&wav);
    erp.put_recording("pbx-rec-79", &mp3);
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "pbx-79", "recording_ref": "pbx-rec-79", "queue": "sales"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let wav_ms = first["recording_ms"].as_i64().unwrap();
    let mp3_ms = r.json()["recording_ms"].as_i64().unwrap();
    assert!(
        (mp3_ms - wav_ms).abs() < 200,
        "MP3 {mp3_ms} ms vs WAV {wav_ms} ms"
    );
    let by_mp3 = r.json()["id"].as_str().unwrap().to_string();
    for id in [&by_url, &by_mp3] {
        let v = finished(&api, &acme, id).await;
        assert_eq!(v["status"], "done", "{v}");
        assert_eq!(v["result"]["category"], "complaint", "{v}");
    }

    // KPIs and the export.
    let k = api.get("/v1/tenants/acme/analytics", &acme).await.json();
    assert_eq!(
        (k["total"].as_u64(), k["done"].as_u64()),
        (Some(3), Some(3)),
        "{k}"
    );
    assert_eq!(k["categories"]["complaint"], 3);
    let queues: Vec<&str> = k["by_queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect();
    assert_eq!(queues, ["sales", "support"]);
    let csv = api
        .get("/v1/tenants/acme/analytics.csv?queue=sales", &acme)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = String::from_utf8(csv.body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("id,call_id,source,status,date_time"));
    assert!(text.contains("pbx-78") && text.contains("pbx-79") && !text.contains("pbx-77"));
    let listed = api
        .get(
            "/v1/tenants/acme/analyses?category=complaint&limit=2",
            &acme,
        )
        .await
        .json();
    assert_eq!(listed["analyses"].as_array().unwrap().len(), 2);
    // Another tenant's token sees none of it.
    let r = api
        .get(&format!("/v1/tenants/acme/analyses/{id}"), &op)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(balance(&api, &op).await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voxgate_calls_are_analysed_from_their_record_without_credits() {
    let api = Api::new().await;
    let op = api.operator().await;
    api.call("acme", "own-1", "+385915550101", "completed")
        .await;
    let data = api.plane.tenant_data("acme").unwrap();
    let mut found = None;
    for _ in 0..200 {
        if let Some(row) = data.store.analysis_of_call("own-1").unwrap() {
            found = Some(row);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let row = found.expect("the call's analysis");
    assert_eq!(
        (row.source.as_str(), row.status.as_str(), row.credits),
        ("voxgate", "done", 0)
    );
    let detail = api.get("/v1/tenants/acme/calls/own-1", &op).await.json();
    assert_eq!(detail["analysis"]["id"], row.id.as_str());
    assert!(
        detail["analysis"]["result"]["category"].is_string(),
        "{detail}"
    );
    assert_eq!(detail["analysis"]["metadata"]["agent_id"], "office");
    assert_eq!(detail["analysis"]["metadata"]["caller_id"], "+385915550101");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_is_retried_later_with_its_error_shown() {
    let erp = Erp::start();
    // A transcription service nobody listens on.
    let api = Api::with_tenant(&erp.addr, |t| {
        t + "\n[analytics]\nrecognizer = { engine = \"http\", url = \"http://127.0.0.1:9\", model = \"whisper-1\" }\n"
    })
    .await;
    let op = api.operator().await;
    let acme = api.tenant_token(&op, "acme").await;
    top_up(&api, &op, 5).await;
    erp.put_recording("r-1", &conversation(&COMPLAINT[..1]));
    let r = post(
        &api,
        Some(&acme),
        json!({"call_id": "retry-1", "recording_ref": "r-1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let v = loop {
        let v = api.get(&format!("/v1/analyses/{id}"), &acme).await.json();
        if v["attempts"] == 1 && v["status"] == "queued" {
            break v;
        }
        assert!(Instant::now() < deadline, "no failed attempt: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("127.0.0.1:9"), "{error}");
    // Queued again for later (30 s), not at once: it stays at one attempt meanwhile.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let v = api.get(&format!("/v1/analyses/{id}"), &acme).await.json();
    assert_eq!(
        (v["attempts"].as_i64(), v["status"].as_str()),
        (Some(1), Some("queued")),
        "{v}"
    );
    // Still paid for: the credits come back only when it fails for good.
    assert_eq!(balance(&api, &op).await, 4);
}
