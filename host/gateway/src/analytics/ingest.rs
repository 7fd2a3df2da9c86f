//! What a PBX posts: checked field by field (a 400 names the field), and the recording
//! fetched from an allowed host or through the tenant's `recordings.fetch` plugin.

use std::time::Duration;

use serde_json::{Map, Value};
use voxgate_runtime::{AllowedHost, CallContext, CallError, PluginError};

use crate::control::Error;

/// Where the recording comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordingSource {
    Url(String),
    Reference(String),
}

/// A checked request.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub call_id: String,
    pub source: RecordingSource,
    /// Unix ms; the time of posting when not given.
    pub date_time: Option<i64>,
    /// Seconds, as declared (the recording's own length decides what is charged).
    pub duration: Option<f64>,
    pub caller_id: String,
    pub call_topic: String,
    pub queue: String,
    pub agent_id: String,
    pub department: String,
    pub customer: Map<String, Value>,
}

const TEXT_FIELDS: [&str; 5] = ["caller_id", "call_topic", "queue", "agent_id", "department"];
const MAX_TEXT: usize = 200;

fn bad(field: &str, why: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("`{field}`: {why}"))
}

/// Checks a posted body. Unknown fields are refused, so that a misspelt `recording_ur`
/// is not silently ignored.
pub fn parse(body: &Value) -> Result<Posted, Error> {
    let Some(obj) = body.as_object() else {
        return Err(Error::BadRequest("the body must be a JSON object".into()));
    };
    for key in obj.keys() {
        let known = matches!(
            key.as_str(),
            "call_id" | "recording_url" | "recording_ref" | "date_time" | "duration" | "customer"
        ) || TEXT_FIELDS.contains(&key.as_str());
        if !known {
            return Err(bad(key, "unknown field"));
        }
    }
    let text = |field: &str, max: usize| -> Result<Option<String>, Error> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() > max => {
                Err(bad(field, format!("longer than {max} characters")))
            }
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                Err(bad(field, "contains control characters"))
            }
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(bad(field, "must be a string")),
        }
    };
    let call_id = text("call_id", MAX_TEXT)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("call_id", "required"))?;
    let url = text("recording_url", 2048)?.filter(|s| !s.is_empty());
    let reference = text("recording_ref", MAX_TEXT)?.filter(|s| !s.is_empty());
    let source = match (url, reference) {
        (Some(u), None) => {
            check_url(&u).map_err(|e| bad("recording_url", e))?;
            RecordingSource::Url(u)
        }
        (None, Some(r)) => RecordingSource::Reference(r),
        (Some(_), Some(_)) => {
            return Err(bad(
                "recording_url",
                "give either `recording_url` or `recording_ref`, not both",
            ));
        }
        (None, None) => {
            return Err(bad(
                "recording_url",
                "required (or `recording_ref`, a reference the tenant's recordings plugin resolves)",
            ));
        }
    };
    let date_time = match text("date_time", 64)? {
        None => None,
        Some(s) => Some(parse_time(&s).map_err(|e| bad("date_time", e))?),
    };
    let duration = match obj.get("duration") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(d) if (0.0..=86_400.0).contains(&d) => Some(d),
            _ => return Err(bad("duration", "must be seconds between 0 and 86400")),
        },
        Some(_) => return Err(bad("duration", "must be a number of seconds")),
    };
    let customer = match obj.get("customer") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) if m.len() <= 100 => m.clone(),
        Some(Value::Object(_)) => return Err(bad("customer", "more than 100 fields")),
        Some(_) => return Err(bad("customer", "must be an object of CRM fields")),
    };
    let field = |f: &str| text(f, MAX_TEXT).map(Option::unwrap_or_default);
    Ok(Posted {
        call_id,
        source,
        date_time,
        duration,
        caller_id: field("caller_id")?,
        call_topic: field("call_topic")?,
        queue: field("queue")?,
        agent_id: field("agent_id")?,
        department: field("department")?,
        customer,
    })
}

/// RFC 3339 (`2026-11-21T10:15:00Z`, with an offset or a `Z`), or a date alone (midnight
/// UTC), as unix ms.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    if let Ok(date) = s.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "`{s}` is not an RFC 3339 time (e.g. 2026-11-21T10:15:00Z) or a date (2026-11-21)"
    ))
}

fn check_url(url: &str) -> Result<(), String> {
    let (host, _) = host_and_port(url)?;
    if host.is_empty() {
        return Err("the URL names no host".into());
    }
    Ok(())
}

/// The host and port an `http://` or `https://` URL connects to.
fn host_and_port(url: &str) -> Result<(String, u16), String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err(format!("`{url}` must be an http:// or https:// URL")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("`{url}` names no host"))?;
    if authority.as_str().contains('@') {
        return Err("credentials in the URL are not accepted; use the tenant's plugin".into());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    Ok((
        host.to_string(),
        authority.port_u16().unwrap_or(default_port),
    ))
}

/// A fetched recording.
#[derive(Debug)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// Fetches `url` when its host is on the tenant's allow-list. Redirects are not
/// followed (one could lead off the list). Blocking.
pub fn fetch_url(url: &str, allowed: &[AllowedHost], max_bytes: usize) -> Result<Fetched, Error> {
    let (host, port) = host_and_port(url).map_err(|e| bad("recording_url", e))?;
    if !allowed.iter().any(|a| a.matches(&host, port)) {
        return Err(bad(
            "recording_url",
            format!("{host}:{port} is not one of the tenant's allowed hosts"),
        ));
    }
    let agent = voxgate_speech::http::agent(
        Duration::from_secs(5),
        Duration::from_secs(120),
        voxgate_speech::http::TlsRoots::Mozilla,
    );
    let response = agent
        .get(url)
        .call()
        .map_err(|e| bad("recording_url", format!("cannot fetch {url}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(bad(
            "recording_url",
            format!("{url} answered HTTP {status}"),
        ));
    }
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let too_large = || {
        Error::TooLarge(format!(
            "the recording is larger than the tenant's limit of {} MB",
            max_bytes >> 20
        ))
    };
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return Err(too_large());
    }
    let bytes = response
        .into_body()
        .into_with_config()
        .limit(max_bytes as u64 + 1)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_large(),
            e => bad("recording_url", format!("reading {url} failed: {e}")),
        })?;
    if bytes.len() > max_bytes {
        return Err(too_large());
    }
    Ok(Fetched {
        bytes,
        content_type,
    })
}

/// Resolves a reference through the tenant's `recordings.fetch` plugin.
pub async fn fetch_reference(
    session: &voxgate_runtime::Session,
    tenant: &str,
    call_id: &str,
    reference: &str,
    max_bytes: usize,
) -> Result<Fetched, Error> {
    let ctx = CallContext {
        tenant: tenant.to_string(),
        call_id: call_id.to_string(),
        caller: String::new(),
        called: String::new(),
        language: "en".into(),
        idempotency_key: None,
    };
    match session.fetch_recording(&ctx, reference).await {
        Ok(r) => {
            if r.data.len() > max_bytes {
                return Err(Error::TooLarge(format!(
                    "the recording is larger than the tenant's limit of {} MB",
                    max_bytes >> 20
                )));
            }
            Ok(Fetched {
                bytes: r.data,
                content_type: Some(r.content_type),
            })
        }
        Err(CallError::NotBound(_)) => Err(bad(
            "recording_ref",
            "the tenant has no plugin serving `recordings`; send `recording_url` instead",
        )),
        Err(CallError::Plugin(PluginError::NotFound(m))) => Err(bad(
            "recording_ref",
            format!("the recordings plugin has no recording `{reference}` ({m})"),
        )),
        Err(CallError::Plugin(PluginError::Invalid(m))) => Err(bad(
            "recording_ref",
            format!("the recordings plugin refused `{reference}`: {m}"),
        )),
        Err(e) => Err(Error::Internal(format!("recordings.fetch failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = json!({"call_id": "c1", "recording_url": "http://pbx.example/r/1.wav"});
        assert!(parse(&ok).is_ok());
        for (body, field) in [
            (json!({"recording_url": "http://x/1.wav"}), "call_id"),
            (
                json!({"call_id": "", "recording_url": "http://x/1.wav"}),
                "call_id",
            ),
            (
                json!({"call_id": 5, "recording_url": "http://x/1.wav"}),
                "call_id",
            ),
            (json!({"call_id": "c"}), "recording_url"),
            (
                json!({"call_id": "c", "recording_url": "ftp://x/1.wav"}),
                "recording_url",
            ),
            (
                json!({"call_id": "c", "recording_url": "http://u:p@x/1.wav"}),
                "recording_url",
            ),
            (
                json!({"call_id": "c", "recording_url": "http://x/1", "recording_ref": "r"}),
                "recording_url",
            ),
            (
                json!({"call_id": "c", "recording_ref": "r", "date_time": "yesterday"}),
                "date_time",
            ),
            (
                json!({"call_id": "c", "recording_ref": "r", "duration": -1}),
                "duration",
            ),
            (
                json!({"call_id": "c", "recording_ref": "r", "duration": "60"}),
                "duration",
            ),
            (
                json!({"call_id": "c", "recording_ref": "r", "queue": 7}),
                "queue",
            ),
            (
                json!({"call_id": "c", "recording_ref": "r", "customer": []}),
                "customer",
            ),
            (
                json!({"call_id": "c", "recording_ref": "r", "agent": "x"}),
                "agent",
            ),
        ] {
            let e = parse(&body).expect_err(&body.to_string());
            assert!(matches!(e, Error::BadRequest(_)));
            assert!(message(e).contains(&format!("`{field}`")), "{body}");
        }
    }

    #[test]
    fn times_are_rfc3339_or_dates() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_time("1970-01-02"), Ok(86_400_000));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Ok(0));
        assert!(parse_time("21/11/2026").is_err());
    }

    #[test]
    fn metadata_is_kept() {
        let p = parse(&json!({
            "call_id": " pbx-1 ", "recording_ref": "rec-9", "date_time": "2026-11-21T10:00:00Z",
            "duration": 61.5, "caller_id": "+38591", "call_topic": "delivery", "queue": "support",
            "agent_id": "a7", "department": "sales", "customer": {"tier": "gold"}
        }))
        .unwrap();
        assert_eq!(p.call_id, "pbx-1");
        assert_eq!(p.source, RecordingSource::Reference("rec-9".into()));
        assert_eq!(
            (p.queue.as_str(), p.agent_id.as_str(), p.department.as_str()),
            ("support", "a7", "sales")
        );
        assert_eq!(p.caller_id, "+38591");
        assert_eq!(p.call_topic, "delivery");
        assert_eq!(p.duration, Some(61.5));
        assert_eq!(p.customer["tier"], "gold");
    }
}
