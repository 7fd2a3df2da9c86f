//! Outbound HTTP on tape: recorded from the real systems once, then served back, so an
//! integrator's plugin tests run offline and give the same answers every time.
//!
//! Recording sends each request for real and keeps the whole exchange. Replaying sends
//! nothing: a request is answered with the next recorded response for the same method,
//! URL and request body (so a commit that first succeeds and then conflicts replays in
//! that order). A request the tape does not hold fails like an unreachable server, and
//! the miss is kept for the report.
//!
//! The tenant's allow-list applies before the tape in both modes, so a replay still
//! proves that the plugin asks only for hosts the tenant allows.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// The file a tape is kept in, inside the directory given to `--record` / `--replay`.
pub const TAPE_FILE: &str = "http-exchanges.json";

/// Headers whose values never reach a tape: they carry the tenant's secrets.
const REDACTED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// Why a tape could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a voxgate HTTP tape: {message}")]
    Format { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A body as kept on tape: text when it is UTF-8 (readable and editable by hand),
/// base64 otherwise (recordings, images).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TapeBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl TapeBody {
    fn from_bytes(bytes: &[u8]) -> TapeBody {
        if bytes.is_empty() {
            return TapeBody::default();
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => TapeBody {
                text: Some(text.to_string()),
                base64: None,
            },
            Err(_) => TapeBody {
                text: None,
                base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            },
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>, String> {
        match (&self.text, &self.base64) {
            (Some(t), None) => Ok(t.as_bytes().to_vec()),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|e| format!("body is not valid base64: {e}")),
            (None, None) => Ok(Vec::new()),
            (Some(_), Some(_)) => Err("a body has either `text` or `base64`, not both".into()),
        }
    }
}

/// One request and the response it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Exchange {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub request_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub request_body: TapeBody,
    pub status: u16,
    #[serde(default)]
    pub response_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub response_body: TapeBody,
}

#[derive(Debug, Serialize, Deserialize)]
struct TapeFile {
    /// Bumped if the layout ever changes incompatibly.
    version: u32,
    exchanges: Vec<Exchange>,
}

/// Whether requests go out (and are kept) or are answered from the tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapeMode {
    Record,
    Replay,
}

#[derive(Debug, Default)]
struct TapeState {
    /// Record: every exchange in order. Replay: what the file held.
    exchanges: Vec<Exchange>,
    /// Replay: the indices of `exchanges` not yet served, per request key.
    unserved: BTreeMap<String, VecDeque<usize>>,
    /// Replay: each exchange's response body, decoded once when the tape is read.
    bodies: Vec<Bytes>,
    misses: Vec<String>,
}

/// A shared tape of outbound HTTP exchanges; attach it to a tenant with
/// [`crate::TenantEnvBuilder::http_tape`].
#[derive(Debug, Clone)]
pub struct HttpTape {
    mode: TapeMode,
    state: Arc<Mutex<TapeState>>,
}

fn key(method: &str, url: &str, body: &[u8]) -> String {
    // The body is part of the key: two prepares with different lines are two questions.
    // JSON is compared by value, so key order and spacing (which differ between
    // languages' serialisers) do not matter.
    let body = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => v.to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    format!("{method} {url}\n{body}")
}

impl HttpTape {
    /// An empty tape that records every exchange; save it with [`HttpTape::save`].
    pub fn record() -> HttpTape {
        HttpTape {
            mode: TapeMode::Record,
            state: Arc::default(),
        }
    }

    /// A tape read from `dir`, served back without touching the network.
    pub fn replay(dir: &Path) -> Result<HttpTape, TapeError> {
        let path = dir.join(TAPE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| TapeError::Read {
            path: path.clone(),
            source,
        })?;
        let format = |message: String| TapeError::Format {
            path: path.clone(),
            message,
        };
        let file: TapeFile = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
        if file.version != 1 {
            return Err(format(format!(
                "tape version {} is not supported (this voxgate writes version 1)",
                file.version
            )));
        }
        let mut unserved: BTreeMap<String, VecDeque<usize>> = BTreeMap::new();
        let mut bodies = Vec::with_capacity(file.exchanges.len());
        for (i, ex) in file.exchanges.iter().enumerate() {
            let body = ex
                .request_body
                .to_bytes()
                .map_err(|m| format(format!("exchange {}: request {m}", i + 1)))?;
            bodies.push(Bytes::from(
                ex.response_body
                    .to_bytes()
                    .map_err(|m| format(format!("exchange {}: response {m}", i + 1)))?,
            ));
            unserved
                .entry(key(&ex.method, &ex.url, &body))
                .or_default()
                .push_back(i);
        }
        Ok(HttpTape {
            mode: TapeMode::Replay,
            state: Arc::new(Mutex::new(TapeState {
                exchanges: file.exchanges,
                unserved,
                bodies,
                misses: Vec::new(),
            })),
        })
    }

    pub fn mode(&self) -> TapeMode {
        self.mode
    }

    fn lock(&self) -> MutexGuard<'_, TapeState> {
        // A poisoned lock only means another call panicked mid-push; the data is whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Exchanges on the tape: recorded so far, or loaded for replay.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges.clone()
    }

    /// Requests a replay could not answer (`GET http://…`), in order.
    pub fn misses(&self) -> Vec<String> {
        self.lock().misses.clone()
    }

    /// Writes the recorded exchanges to `dir` (created if missing), replacing an
    /// earlier tape there.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, TapeError> {
        let path = dir.join(TAPE_FILE);
        let write = |source| TapeError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(write)?;
        let file = TapeFile {
            version: 1,
            exchanges: self.exchanges(),
        };
        let mut text = serde_json::to_string_pretty(&file)
            .map_err(|e| write(std::io::Error::other(e.to_string())))?;
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(write)?;
        std::fs::rename(&tmp, &path).map_err(write)?;
        Ok(path)
    }

    /// Sends (recording) or answers (replaying) one request the allow-list let through.
    pub(crate) async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: RequestOptions,
        max_response: u64,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
        let method = parts.method.to_string();
        let url = parts.uri.to_string();
        match self.mode {
            TapeMode::Replay => {
                let found = {
                    let mut state = self.lock();
                    let next = state
                        .unserved
                        .get_mut(&key(&method, &url, &body))
                        .and_then(VecDeque::pop_front);
                    let found = next.and_then(|i| {
                        let ex = state.exchanges.get(i)?;
                        Some((
                            ex.status,
                            ex.response_headers.clone(),
                            state.bodies.get(i)?.clone(),
                        ))
                    });
                    if found.is_none() {
                        state.misses.push(format!("{method} {url}"));
                    }
                    found
                };
                let (status, headers, body) = found.ok_or_else(|| {
                    HttpError::InternalError(Some(format!(
                        "the replayed tape holds no (further) answer for {method} {url}"
                    )))
                })?;
                response(status, &headers, body).map_err(|m| HttpError::InternalError(Some(m)))
            }
            TapeMode::Record => {
                let request_headers = headers(&parts.headers);
                let outgoing = http::Request::from_parts(
                    parts,
                    Full::new(body.clone())
                        .map_err(|never| match never {})
                        .boxed_unsync(),
                );
                let (resp, io) =
                    wasmtime_wasi_http::default_send_request(outgoing, Some(options)).await?;
                // The connection task must run while the body is read.
                let io = tokio::spawn(io);
                let (resp_parts, resp_body) = resp.into_parts();
                let limited = http_body_util::Limited::new(resp_body, max_response as usize);
                let bytes = limited
                    .collect()
                    .await
                    .map_err(|e| match e.downcast::<HttpError>() {
                        Ok(e) => *e,
                        Err(_) => HttpError::HttpResponseBodySize(Some(max_response)),
                    })?
                    .to_bytes();
                io.abort();
                let ex = Exchange {
                    method,
                    url,
                    request_headers,
                    request_body: TapeBody::from_bytes(&body),
                    status: resp_parts.status.as_u16(),
                    response_headers: headers(&resp_parts.headers),
                    response_body: TapeBody::from_bytes(&bytes),
                };
                self.lock().exchanges.push(ex);
                Ok(http::Response::from_parts(resp_parts, full(bytes)))
            }
        }
    }
}

fn full(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn headers(map: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in map {
        let name = name.as_str().to_ascii_lowercase();
        let value = if REDACTED.contains(&name.as_str()) {
            "(redacted)".to_string()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        out.entry(name)
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

fn response(
    status: u16,
    headers: &BTreeMap<String, String>,
    body: Bytes,
) -> Result<http::Response<WasiBody>, String> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        // Framing headers describe the original connection, not this in-memory body.
        if matches!(
            name.as_str(),
            "transfer-encoding" | "connection" | "keep-alive"
        ) {
            continue;
        }
        builder = builder.header(name, value);
    }
    builder
        .body(full(body))
        .map_err(|e| format!("recorded response is not valid HTTP: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_text_when_they_can_be() {
        let t = TapeBody::from_bytes(b"{\"a\":1}");
        assert_eq!(t.text.as_deref(), Some("{\"a\":1}"));
        let b = TapeBody::from_bytes(&[0xff, 0x00, 0x10]);
        assert!(b.text.is_none());
        assert_eq!(b.to_bytes().unwrap(), vec![0xff, 0x00, 0x10]);
        let both = TapeBody {
            text: Some("x".into()),
            base64: Some("eA==".into()),
        };
        assert!(both.to_bytes().is_err());
    }

    #[test]
    fn secrets_stay_off_the_tape() {
        let mut h = http::HeaderMap::new();
        h.insert("Authorization", "Bearer s3cret".parse().unwrap());
        h.insert("accept", "application/json".parse().unwrap());
        let out = headers(&h);
        assert_eq!(out["authorization"], "(redacted)");
        assert_eq!(out["accept"], "application/json");
    }
}
