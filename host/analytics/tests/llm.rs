//! The LLM analyser against a local stand-in for a paid LLM service.
//!
//! `FakeChatCompletions` below is a **test double**: a few dozen lines of HTTP/1.1 on a
//! `std::net::TcpListener` on 127.0.0.1 that record each request (method, path, headers,
//! body) and answer as the test says. It stands in for an OpenAI-compatible
//! chat-completions service, which costs money, needs a key and the network, and cannot
//! be made to fail on purpose. What it checks is what voxgate sends and how it copes
//! with the answers, not how any real model analyses a call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use voxgate_analytics::llm::{LlmAnalyser, LlmConfig};
use voxgate_analytics::{AnalyseError, Analyser, Polarity, Rules, Speaker, Transcript, Turn};

/// One request as the test double received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Lower-cased names.
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// How the test double answers.
#[derive(Debug, Clone)]
enum Reply {
    Respond {
        status: u16,
        body: String,
    },
    /// Reads the request and never answers.
    Silent,
}

/// Test double for a paid external LLM service (see the module docs).
struct FakeChatCompletions {
    /// The API root with its version, as operators configure it.
    base_url: String,
    requests: mpsc::Receiver<Recorded>,
}

impl FakeChatCompletions {
    /// Serves every request with `reply` until the test process ends.
    fn start(reply: Reply) -> FakeChatCompletions {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let (tx, requests) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                let reply = reply.clone();
                std::thread::spawn(move || serve_connection(stream, &reply, &tx));
            }
        });
        FakeChatCompletions { base_url, requests }
    }

    /// Answers 200 with a chat completion whose message content is `content`.
    fn answering(content: &str) -> FakeChatCompletions {
        FakeChatCompletions::start(Reply::Respond {
            status: 200,
            body: completion(content),
        })
    }

    /// The next request received (waits briefly: the client has already returned).
    fn request(&self) -> Recorded {
        self.requests
            .recv_timeout(Duration::from_secs(5))
            .expect("the service received no request")
    }

    fn received_nothing(&self) -> bool {
        self.requests.try_recv().is_err()
    }

    fn analyser(&self, key: Option<&str>) -> LlmAnalyser {
        let mut config = LlmConfig::new(&self.base_url, "test-model");
        config.api_key = key.map(str::to_string);
        config.timeout = Duration::from_secs(5);
        LlmAnalyser::new(config).unwrap()
    }
}

/// Handles requests on one connection until the client closes it.
fn serve_connection(stream: TcpStream, reply: &Reply, tx: &mpsc::Sender<Recorded>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let _ = tx.send(request);
        match reply {
            Reply::Respond { status, body } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if writer.write_all(head.as_bytes()).is_err()
                    || writer.write_all(body.as_bytes()).is_err()
                {
                    return;
                }
            }
            Reply::Silent => {
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
        }
    }
}

/// Parses one HTTP/1.1 request: request line, headers, a Content-Length body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(len) = headers.get("content-length") {
        body.resize(len.parse().ok()?, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

/// An OpenAI chat completion carrying `content`.
fn completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    })
    .to_string()
}

fn good_answer() -> Value {
    json!({
        "sentiment": {
            "overall": {"label": "negative", "score": -0.55},
            "customer": {"label": "negative", "score": -0.7},
            "agent": {"label": "positive", "score": 0.3}
        },
        "category": "complaint",
        "tone": {"customer": "frustrated", "agent": "apologetic"},
        "keywords": ["lawn mower", "refund", "olive tree"]
    })
}

fn transcript() -> Transcript {
    let turn = |speaker, text: &str| Turn {
        speaker,
        start_ms: 0,
        end_ms: 0,
        text: text.to_string(),
        confidence: None,
    };
    Transcript {
        language: "en-GB".to_string(),
        duration_ms: 20_000,
        turns: vec![
            turn(Speaker::Agent, "good morning garden shop how can i help"),
            turn(
                Speaker::Customer,
                "my lawn mower stopped working and the olive tree arrived dead",
            ),
            turn(Speaker::Agent, "i am so sorry we will refund you"),
        ],
    }
}

fn rules() -> Rules {
    let mut rules = Rules::default();
    rules.categories.insert(
        "landscaping".to_string(),
        vec!["garden design".to_string(), "landscap*".to_string()],
    );
    rules.keywords = vec!["olive tree".to_string(), "pergola".to_string()];
    rules
}

#[test]
fn a_good_answer_is_parsed_and_the_request_carries_model_key_and_transcript() {
    let service = FakeChatCompletions::answering(&good_answer().to_string());
    let analyser = service.analyser(Some("sk-test-key"));
    let a = analyser.analyse(&transcript(), &rules()).unwrap();

    assert_eq!(a.analyser, "llm:test-model");
    assert_eq!(a.language, "en");
    assert_eq!(a.category, "complaint");
    assert_eq!(a.categories, vec![("complaint".to_string(), 1.0)]);
    assert_eq!(a.sentiment.overall.label, Polarity::Negative);
    assert!((a.sentiment.overall.score + 0.55).abs() < 1e-6);
    assert_eq!(
        a.sentiment.customer.map(|s| s.label),
        Some(Polarity::Negative)
    );
    assert_eq!(a.sentiment.agent.map(|s| s.label), Some(Polarity::Positive));
    assert_eq!(a.tone.customer.as_deref(), Some("frustrated"));
    assert_eq!(a.tone.agent.as_deref(), Some("apologetic"));
    // The tenant's keyword that was said comes first, as the tenant wrote it, once.
    assert_eq!(a.keywords, ["olive tree", "lawn mower", "refund"]);

    let r = service.request();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-test-key")
    );
    assert!(
        r.headers
            .get("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"]["type"], "json_object");
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[1]["role"], "user");
    let system = messages[0]["content"].as_str().unwrap();
    let user = messages[1]["content"].as_str().unwrap();
    assert!(system.contains("JSON"), "{system}");
    // The allowed categories, the tenant's with its words, and the tones.
    for c in ["complaint", "question", "order", "delivery", "other"] {
        assert!(system.contains(&format!("- {c}: ")), "{c}: {system}");
    }
    assert!(
        system.contains("- landscaping: words that point to it: garden design, landscap*"),
        "{system}"
    );
    assert!(
        system.contains("friendly, polite, calm, neutral"),
        "{system}"
    );
    assert!(user.contains("Language of the call: en"), "{user}");
    assert!(
        user.contains(
            "agent: good morning garden shop how can i help\n\
             customer: my lawn mower stopped working and the olive tree arrived dead\n\
             agent: i am so sorry we will refund you\n"
        ),
        "{user}"
    );
}

#[test]
fn a_tenant_category_is_accepted_and_no_key_sends_no_authorization() {
    let mut answer = good_answer();
    answer["category"] = json!("Landscaping");
    let service = FakeChatCompletions::answering(&answer.to_string());
    let a = service
        .analyser(None)
        .analyse(&transcript(), &rules())
        .unwrap();
    assert_eq!(a.category, "landscaping");
    assert!(!service.request().headers.contains_key("authorization"));
}

#[test]
fn a_side_that_did_not_speak_gets_nothing() {
    let service = FakeChatCompletions::answering(&good_answer().to_string());
    let mut t = transcript();
    for turn in &mut t.turns {
        turn.speaker = Speaker::Unknown;
    }
    let a = service
        .analyser(None)
        .analyse(&t, &Rules::default())
        .unwrap();
    assert_eq!(a.sentiment.customer, None);
    assert_eq!(a.sentiment.agent, None);
    assert_eq!(a.tone, Default::default());
    let body: Value = serde_json::from_slice(&service.request().body).unwrap();
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("speaker: good morning"), "{user}");
}

#[test]
fn an_empty_transcript_costs_no_request() {
    let service = FakeChatCompletions::answering(&good_answer().to_string());
    let mut t = transcript();
    t.turns.clear();
    let a = service
        .analyser(None)
        .analyse(&t, &Rules::default())
        .unwrap();
    assert_eq!(a.category, "other");
    assert_eq!(a.sentiment.overall.label, Polarity::Neutral);
    assert!(service.received_nothing());
}

fn bad_answer(content: &str) -> String {
    let service = FakeChatCompletions::answering(content);
    match service.analyser(None).analyse(&transcript(), &rules()) {
        Err(AnalyseError::BadAnswer(m)) => m,
        other => panic!("expected BadAnswer, got {other:?}"),
    }
}

#[test]
fn bad_answers_are_bad_answers() {
    let m = bad_answer("I think the customer was unhappy.");
    assert!(m.starts_with("content: not JSON"), "{m}");
    let m = bad_answer(r#"{"sentiment": "#);
    assert!(m.starts_with("content: not JSON"), "{m}");

    let mut a = good_answer();
    a["category"] = json!("gardening");
    let m = bad_answer(&a.to_string());
    assert!(
        m.starts_with("category: unknown category `gardening`"),
        "{m}"
    );

    let mut a = good_answer();
    a["tone"]["agent"] = json!("cheerful");
    let m = bad_answer(&a.to_string());
    assert!(m.starts_with("tone.agent: unknown tone"), "{m}");

    let mut a = good_answer();
    a["sentiment"]["overall"]["score"] = json!(3);
    let m = bad_answer(&a.to_string());
    assert!(m.starts_with("sentiment.overall.score"), "{m}");

    let mut a = good_answer();
    a.as_object_mut().unwrap().remove("tone");
    let m = bad_answer(&a.to_string());
    assert_eq!(m, "tone: missing");

    // Not a chat completion at all.
    let service = FakeChatCompletions::start(Reply::Respond {
        status: 200,
        body: "<html>hello</html>".to_string(),
    });
    assert!(matches!(
        service.analyser(None).analyse(&transcript(), &rules()),
        Err(AnalyseError::BadAnswer(m)) if m.starts_with("not a chat completion")
    ));
}

fn error_for_status(status: u16) -> AnalyseError {
    let service = FakeChatCompletions::start(Reply::Respond {
        status,
        body: r#"{"error": {"message": "something went wrong"}}"#.to_string(),
    });
    service
        .analyser(Some("sk-test-key"))
        .analyse(&transcript(), &rules())
        .unwrap_err()
}

#[test]
fn server_errors_and_rate_limits_are_unavailable() {
    for status in [500, 502, 503, 429] {
        match error_for_status(status) {
            AnalyseError::Unavailable(m) => {
                assert!(m.contains(&format!("HTTP {status}")), "{m}");
                assert!(m.contains("something went wrong"), "{m}");
                assert!(!m.contains("sk-test-key"), "{m}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn client_errors_are_invalid() {
    for status in [400, 401, 404] {
        match error_for_status(status) {
            AnalyseError::Invalid(m) => {
                assert!(m.contains(&format!("HTTP {status}")), "{m}");
                assert!(!m.contains("sk-test-key"), "{m}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn connection_refused_is_unavailable() {
    // A port that was free a moment ago and has no listener now.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = LlmConfig {
        timeout: Duration::from_secs(5),
        ..LlmConfig::new(&format!("http://127.0.0.1:{port}/v1"), "test-model")
    };
    let err = LlmAnalyser::new(config)
        .unwrap()
        .analyse(&transcript(), &rules())
        .unwrap_err();
    assert!(matches!(err, AnalyseError::Unavailable(_)), "{err:?}");
}

#[test]
fn a_silent_service_times_out_as_unavailable() {
    let service = FakeChatCompletions::start(Reply::Silent);
    let config = LlmConfig {
        timeout: Duration::from_millis(500),
        ..LlmConfig::new(&service.base_url, "test-model")
    };
    let start = Instant::now();
    let err = LlmAnalyser::new(config)
        .unwrap()
        .analyse(&transcript(), &rules())
        .unwrap_err();
    assert!(
        matches!(&err, AnalyseError::Unavailable(m) if m.contains("timed out")),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn an_oversized_answer_is_refused() {
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 << 20));
    let service = FakeChatCompletions::start(Reply::Respond {
        status: 200,
        body: huge,
    });
    assert!(matches!(
        service.analyser(None).analyse(&transcript(), &rules()),
        Err(AnalyseError::BadAnswer(m)) if m.contains("larger than")
    ));
}
