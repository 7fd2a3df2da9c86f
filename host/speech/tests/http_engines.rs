//! The HTTP speech engines against a local stand-in for a paid speech service.
//!
//! `FakeSpeechService` below is a **test double**: a few dozen lines of HTTP/1.1 on a
//! `std::net::TcpListener` on 127.0.0.1 that record each request (method, path, headers,
//! body) and answer as the test says. It stands in for an operator's transcription and
//! speech services (OpenAI or compatible), which cost money, need keys and the network,
//! and cannot be made to fail on purpose. What it checks is what voxgate sends and how
//! it copes with the answers, not any real service's behaviour.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use voxgate_speech::SpeechError;
use voxgate_speech::http::{
    DEFAULT_CONFIDENCE, HttpRecognizer, HttpRecognizerConfig, HttpSynthesizer,
    HttpSynthesizerConfig,
};
use voxgate_speech::recognizer::{Grammar, Recognizer};
use voxgate_speech::synth::{Synthesizer, Voice};

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
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Reads the request and never answers.
    Silent,
    /// Sends the status line and headers announcing a body, then nothing.
    StallBody,
}

fn json(status: u16, body: &str) -> Reply {
    Reply::Respond {
        status,
        content_type: "application/json",
        body: body.as_bytes().to_vec(),
    }
}

/// Test double for a paid external speech service (see the module docs).
struct FakeSpeechService {
    base_url: String,
    requests: mpsc::Receiver<Recorded>,
}

impl FakeSpeechService {
    /// Serves every request with `reply` until the test process ends.
    fn start(reply: Reply) -> FakeSpeechService {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, requests) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                let reply = reply.clone();
                std::thread::spawn(move || serve_connection(stream, &reply, &tx));
            }
        });
        FakeSpeechService { base_url, requests }
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
}

/// Handles requests on one keep-alive connection until the client closes it.
fn serve_connection(stream: TcpStream, reply: &Reply, tx: &mpsc::Sender<Recorded>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let _ = tx.send(request);
        match reply {
            Reply::Respond {
                status,
                content_type,
                body,
            } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body).is_err() {
                    return;
                }
            }
            Reply::Silent => {
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            Reply::StallBody => {
                let _ = writer.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 100000\r\n\r\nRIFF",
                );
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
        }
    }
}

/// Parses one HTTP/1.1 request: request line, headers, a Content-Length or chunked body.
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
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

/// Parts of a multipart/form-data body: name → (headers block, content).
fn multipart(request: &Recorded) -> HashMap<String, (String, Vec<u8>)> {
    let content_type = &request.headers["content-type"];
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let boundary = format!("--{}", content_type.split("boundary=").nth(1).unwrap());
    let body = &request.body;
    let mut positions = Vec::new();
    let b = boundary.as_bytes();
    for i in 0..body.len().saturating_sub(b.len() - 1) {
        if &body[i..i + b.len()] == b {
            positions.push(i);
        }
    }
    assert!(positions.len() >= 2, "no multipart parts");
    assert!(body.ends_with(format!("{boundary}--\r\n").as_bytes()));
    let mut parts = HashMap::new();
    for w in positions.windows(2) {
        // "--boundary\r\n" headers "\r\n\r\n" content "\r\n" next boundary
        let part = &body[w[0] + b.len() + 2..w[1] - 2];
        let split = part.windows(4).position(|x| x == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(part[..split].to_vec()).unwrap();
        let content = part[split + 4..].to_vec();
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        parts.insert(name, (head, content));
    }
    parts
}

fn text_part(parts: &HashMap<String, (String, Vec<u8>)>, name: &str) -> Option<String> {
    parts
        .get(name)
        .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
}

/// A second of a 440 Hz tone at 8 kHz.
fn tone() -> Vec<i16> {
    (0..8000)
        .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16)
        .collect()
}

fn recognizer(service: &FakeSpeechService, key: Option<&str>) -> HttpRecognizer {
    let mut config = HttpRecognizerConfig::new(&service.base_url, "whisper-test");
    config.api_key = key.map(String::from);
    config.timeout = Duration::from_millis(500);
    config.connect_timeout = Duration::from_millis(500);
    HttpRecognizer::new(config).unwrap()
}

/// Feeds 20 ms frames, as the gateway does, then finishes.
fn recognize(
    rec: &mut dyn Recognizer,
    grammar: &Grammar,
    pcm: &[i16],
) -> Result<Option<voxgate_speech::recognizer::Hypothesis>, SpeechError> {
    rec.start(grammar)?;
    for frame in pcm.chunks(160) {
        assert_eq!(rec.feed(frame)?, None, "no partial results");
    }
    rec.finish()
}

#[test]
fn transcription_sends_the_utterance_as_wav_with_model_and_key() {
    let service =
        FakeSpeechService::start(json(200, r#"{"text":"  Hello, World!  How are you?"}"#));
    let mut config =
        HttpRecognizerConfig::new(&format!("{}/v1/", service.base_url), "whisper-test");
    config.api_key = Some("test-key-123".into());
    config.language = Some("en".into());
    let mut rec = HttpRecognizer::new(config).unwrap();
    let pcm = tone();

    let h = recognize(&mut rec, &Grammar::Free, &pcm).unwrap().unwrap();
    assert_eq!(h.text, "hello world how are you");
    assert_eq!(h.confidence, DEFAULT_CONFIDENCE);
    assert!(h.is_final);

    let req = service.request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/audio/transcriptions");
    assert_eq!(req.headers["authorization"], "Bearer test-key-123");
    let parts = multipart(&req);
    assert_eq!(text_part(&parts, "model").as_deref(), Some("whisper-test"));
    assert_eq!(text_part(&parts, "language").as_deref(), Some("en"));
    assert_eq!(
        text_part(&parts, "prompt"),
        None,
        "free speech has no hints"
    );
    let (head, wav) = &parts["file"];
    assert!(head.contains("filename=\"utterance.wav\""), "{head}");
    assert!(head.contains("Content-Type: audio/wav"), "{head}");
    let mut reader = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    assert_eq!(reader.len(), 8000);
    let sent: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(sent, pcm);
}

#[test]
fn no_key_means_no_authorization_header() {
    let service = FakeSpeechService::start(json(200, r#"{"text":"yes"}"#));
    let mut rec = recognizer(&service, None);
    recognize(&mut rec, &Grammar::Free, &tone()).unwrap();
    assert!(!service.request().headers.contains_key("authorization"));
}

#[test]
fn phrases_are_hints_and_the_transcript_maps_to_the_closest() {
    let service = FakeSpeechService::start(json(
        200,
        r#"{"text":"Where's my order?","segments":[{"avg_logprob":-0.1},{"avg_logprob":-0.3}]}"#,
    ));
    let mut rec = recognizer(&service, Some("k"));
    let grammar = Grammar::Phrases(vec!["where is my order".into(), "talk to a human".into()]);
    let h = recognize(&mut rec, &grammar, &tone()).unwrap().unwrap();
    assert_eq!(h.text, "where is my order");
    assert!((h.confidence - (-0.2f32).exp()).abs() < 1e-4, "{h:?}");
    let parts = multipart(&service.request());
    assert_eq!(
        text_part(&parts, "prompt").as_deref(),
        Some("where is my order, talk to a human")
    );
}

#[test]
fn speech_outside_the_phrases_comes_back_as_said() {
    let service = FakeSpeechService::start(json(200, r#"{"text":"What's the weather like?"}"#));
    let mut rec = recognizer(&service, None);
    let grammar = Grammar::Phrases(vec!["where is my order".into(), "talk to a human".into()]);
    let h = recognize(&mut rec, &grammar, &tone()).unwrap().unwrap();
    assert_eq!(h.text, "what's the weather like");
    assert_eq!(h.confidence, DEFAULT_CONFIDENCE);
}

#[test]
fn an_empty_transcript_is_no_result() {
    let service = FakeSpeechService::start(json(200, r#"{"text":" [BLANK_AUDIO] "}"#));
    let mut rec = recognizer(&service, None);
    assert_eq!(recognize(&mut rec, &Grammar::Free, &tone()).unwrap(), None);
}

#[test]
fn a_server_error_names_url_status_and_body() {
    let service =
        FakeSpeechService::start(json(500, r#"{"error":{"message":"model overloaded"}}"#));
    let mut rec = recognizer(&service, None);
    let err = recognize(&mut rec, &Grammar::Free, &tone()).unwrap_err();
    let SpeechError::Http(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains(&format!("{}/v1/audio/transcriptions", service.base_url)),
        "{msg}"
    );
    assert!(msg.contains("500"), "{msg}");
    assert!(msg.contains("model overloaded"), "{msg}");
    // The recognizer is usable again after a failed utterance.
    assert!(rec.feed(&[0; 160]).is_err(), "the failed utterance is over");
    rec.start(&Grammar::Free).unwrap();
}

#[test]
fn malformed_json_is_an_error_naming_the_problem() {
    for body in ["<html>Bad Gateway</html>", r#"{"transcript":"hi"}"#] {
        let service = FakeSpeechService::start(json(200, body));
        let mut rec = recognizer(&service, None);
        let err = recognize(&mut rec, &Grammar::Free, &tone()).unwrap_err();
        let SpeechError::Http(msg) = &err else {
            panic!("{err:?}")
        };
        assert!(msg.contains("not a transcription"), "{msg}");
        assert!(msg.contains(&service.base_url), "{msg}");
        assert!(msg.contains(body), "quotes the body: {msg}");
    }
}

#[test]
fn a_silent_server_hits_the_timeout() {
    for reply in [Reply::Silent, Reply::StallBody] {
        let service = FakeSpeechService::start(reply.clone());
        let mut rec = recognizer(&service, None);
        let timeout = Duration::from_millis(500);
        let started = Instant::now();
        let err = recognize(&mut rec, &Grammar::Free, &tone()).unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed < timeout * 2, "{reply:?}: took {elapsed:?}");
        assert!(
            elapsed >= timeout / 2,
            "{reply:?}: gave up after {elapsed:?}"
        );
        let SpeechError::Http(msg) = &err else {
            panic!("{err:?}")
        };
        assert!(msg.contains("timed out"), "{reply:?}: {msg}");
        assert!(msg.contains(&service.base_url), "{msg}");
    }
}

#[test]
fn a_closed_port_is_an_error_naming_the_url() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut config = HttpRecognizerConfig::new(&base, "m");
    config.connect_timeout = Duration::from_millis(500);
    let mut rec = HttpRecognizer::new(config).unwrap();
    let err = recognize(&mut rec, &Grammar::Free, &tone()).unwrap_err();
    assert!(
        matches!(&err, SpeechError::Http(m) if m.contains(&base)),
        "{err:?}"
    );
}

#[test]
fn works_through_the_recognizer_trait_object() {
    let service = FakeSpeechService::start(json(200, r#"{"text":"Talk to a human, please."}"#));
    let mut rec: Box<dyn Recognizer> = Box::new(recognizer(&service, None));
    assert_eq!(rec.sample_rate(), 8000);
    assert!(matches!(rec.feed(&[0; 160]), Err(SpeechError::NotStarted)));
    assert!(matches!(rec.finish(), Err(SpeechError::NotStarted)));
    let grammar = Grammar::Phrases(vec!["where is my order".into(), "talk to a human".into()]);
    let h = recognize(rec.as_mut(), &grammar, &tone()).unwrap().unwrap();
    assert_eq!(h.text, "talk to a human");
    assert!(
        h.confidence > 0.5 && h.confidence < DEFAULT_CONFIDENCE,
        "{h:?}"
    );
    // Two utterances on one recognizer (and one kept-alive connection).
    let h = recognize(rec.as_mut(), &Grammar::Free, &tone())
        .unwrap()
        .unwrap();
    assert_eq!(h.text, "talk to a human please");
    assert_eq!(service.request().path, "/v1/audio/transcriptions");
    assert_eq!(service.request().path, "/v1/audio/transcriptions");
}

#[test]
fn nothing_is_sent_without_audio_or_for_jsgf() {
    let service = FakeSpeechService::start(json(200, r#"{"text":"yes"}"#));
    let mut rec = recognizer(&service, None);
    rec.start(&Grammar::Free).unwrap();
    assert_eq!(rec.finish().unwrap(), None);
    let jsgf = Grammar::Jsgf("#JSGF V1.0; grammar g; public <s> = yes | no;".into());
    assert!(matches!(rec.start(&jsgf), Err(SpeechError::Grammar(_))));
    std::thread::sleep(Duration::from_millis(50));
    assert!(service.received_nothing());
}

#[test]
fn an_overlong_utterance_is_refused() {
    let service = FakeSpeechService::start(json(200, r#"{"text":"yes"}"#));
    let mut config = HttpRecognizerConfig::new(&service.base_url, "m");
    config.max_audio = Duration::from_millis(500);
    let mut rec = HttpRecognizer::new(config).unwrap();
    rec.start(&Grammar::Free).unwrap();
    rec.feed(&[0; 4000]).unwrap();
    assert!(matches!(rec.feed(&[0; 1]), Err(SpeechError::Recognize(_))));
}

#[test]
fn bad_configurations_are_refused() {
    assert!(HttpRecognizer::new(HttpRecognizerConfig::new("ftp://x", "m")).is_err());
    assert!(HttpRecognizer::new(HttpRecognizerConfig::new("http://x", " ")).is_err());
    let c = HttpSynthesizerConfig::new("http://x", "tts");
    assert!(HttpSynthesizer::new(c).is_err(), "no voices");
}

/// A WAV as OpenAI's speech endpoint streams it: RIFF and data sizes 0xFFFFFFFF.
fn streamed_wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

fn synthesizer(service: &FakeSpeechService) -> HttpSynthesizer {
    let mut config = HttpSynthesizerConfig::new(&service.base_url, "tts-test");
    config.api_key = Some("tts-key".into());
    config.voices.insert("en".into(), "alloy".into());
    config.voices.insert("hr".into(), "nova".into());
    config.timeout = Duration::from_millis(500);
    HttpSynthesizer::new(config).unwrap()
}

#[test]
fn synthesis_posts_json_and_reads_the_wav() {
    let samples: Vec<i16> = (0..2400).map(|i| (i % 200 - 100) as i16 * 50).collect();
    let service = FakeSpeechService::start(Reply::Respond {
        status: 200,
        content_type: "audio/wav",
        body: streamed_wav(24_000, &samples),
    });
    let synth = synthesizer(&service);
    let pcm = synth
        .synthesize(
            "Dobar dan, kako vam mogu pomoći?",
            &Voice::language("hr-HR"),
        )
        .unwrap();
    assert_eq!(pcm.rate, 24_000);
    assert_eq!(pcm.samples, samples);
    assert_eq!(pcm.duration_ms(), 100);

    let req = service.request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/audio/speech");
    assert_eq!(req.headers["authorization"], "Bearer tts-key");
    assert_eq!(req.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "model": "tts-test",
            "input": "Dobar dan, kako vam mogu pomoći?",
            "voice": "nova",
            "response_format": "wav",
        })
    );
}

#[test]
fn synthesis_mixes_stereo_down() {
    let mut wav = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut wav, spec).unwrap();
    for i in 0..1600i16 {
        w.write_sample(i).unwrap();
        w.write_sample(i + 2).unwrap();
    }
    w.finalize().unwrap();
    let service = FakeSpeechService::start(Reply::Respond {
        status: 200,
        content_type: "audio/wav",
        body: wav.into_inner(),
    });
    let pcm = synthesizer(&service)
        .synthesize("Hello.", &Voice::language("en-US"))
        .unwrap();
    assert_eq!(pcm.rate, 16_000);
    assert_eq!(pcm.samples.len(), 1600);
    assert_eq!(pcm.samples[10], 11);
}

#[test]
fn a_non_wav_answer_is_an_error() {
    let service = FakeSpeechService::start(Reply::Respond {
        status: 200,
        content_type: "audio/mpeg",
        body: b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00".to_vec(),
    });
    let err = synthesizer(&service)
        .synthesize("Hello.", &Voice::language("en"))
        .unwrap_err();
    let SpeechError::Http(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("not a RIFF/WAVE"), "{msg}");
    assert!(msg.contains("/v1/audio/speech"), "{msg}");
}

#[test]
fn synthesis_errors_and_timeouts() {
    let service = FakeSpeechService::start(json(401, r#"{"error":"invalid api key"}"#));
    let err = synthesizer(&service)
        .synthesize("Hello.", &Voice::language("en"))
        .unwrap_err();
    assert!(
        matches!(&err, SpeechError::Http(m) if m.contains("401") && m.contains("invalid api key")),
        "{err:?}"
    );

    let service = FakeSpeechService::start(Reply::Silent);
    let started = Instant::now();
    let err = synthesizer(&service)
        .synthesize("Hello.", &Voice::language("en"))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, SpeechError::Http(m) if m.contains("timed out")),
        "{err:?}"
    );
}

#[test]
fn an_unknown_language_is_refused_without_a_request() {
    let service = FakeSpeechService::start(json(500, "{}"));
    let synth = synthesizer(&service);
    assert!(matches!(
        synth.synthesize("Hallo.", &Voice::language("de")),
        Err(SpeechError::UnknownVoice(l)) if l == "de"
    ));
    assert!(service.received_nothing());
    let mut languages = synth.languages();
    languages.sort();
    assert_eq!(languages, vec!["en", "hr"]);
}
