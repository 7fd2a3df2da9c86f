//! Outbound HTTP to the tenant's systems, over `wasi:http/outgoing-handler`.
//!
//! voxgate only lets a plugin reach the hosts the tenant allows, with the tenant's
//! timeouts and response size limit; a refusal comes back as [`HttpError::Denied`].
//!
//! ```no_run
//! use voxgate_sdk::http::Request;
//!
//! #[derive(serde::Deserialize)]
//! struct Stock { sku: String, in_stock: u32 }
//!
//! fn stock(base: &str, sku: &str) -> Result<Stock, voxgate_sdk::Error> {
//!     let response = Request::get(&format!("{base}/products/{sku}"))
//!         .bearer("secret-token")
//!         .send()?
//!         .error_for_status()?;
//!     Ok(response.json()?)
//! }
//! # fn main() {}
//! ```

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

use crate::Error;

/// Why a request did not produce a usable response. Every case carries the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the URL, a detail text and the HTTP status
pub enum HttpError {
    /// The URL could not be parsed.
    BadUrl(String),
    /// voxgate refused the request: the host is not in the tenant's allowed hosts.
    Denied { url: String },
    /// No answer in time.
    Timeout { url: String },
    /// Could not connect, or the connection broke.
    Connect { url: String, detail: String },
    /// The response body is larger than the tenant allows.
    TooLarge { url: String },
    /// The server answered with a status outside 200–299.
    Status {
        url: String,
        status: u16,
        body: String,
    },
    /// The body is not the JSON that was expected.
    Decode { url: String, detail: String },
    /// Anything else from the HTTP layer.
    Other { url: String, detail: String },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadUrl(u) => write!(f, "bad URL `{u}`"),
            HttpError::Denied { url } => write!(
                f,
                "request to {url} was denied by voxgate: the host is not allowed for this tenant (add it to the tenant's allowed hosts)"
            ),
            HttpError::Timeout { url } => write!(f, "request to {url} timed out"),
            HttpError::Connect { url, detail } => write!(f, "cannot reach {url}: {detail}"),
            HttpError::TooLarge { url } => {
                write!(f, "response from {url} is larger than the tenant allows")
            }
            HttpError::Status { url, status, body } => {
                write!(f, "{url} answered HTTP {status}")?;
                if !body.is_empty() {
                    write!(f, ": {}", body.chars().take(300).collect::<String>())?;
                }
                Ok(())
            }
            HttpError::Decode { url, detail } => {
                write!(f, "unexpected response from {url}: {detail}")
            }
            HttpError::Other { url, detail } => write!(f, "request to {url} failed: {detail}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// Maps transport failures to the WIT error cases the dialog acts on: unreachable or
/// slow systems are `unavailable` (voxgate may retry), a 404 is `not-found`, a 409
/// `conflict`, a 400/422 `invalid`, a 401/403 or a denied host `denied`.
impl From<HttpError> for Error {
    fn from(e: HttpError) -> Error {
        let message = e.to_string();
        match e {
            HttpError::Denied { .. } => Error::Denied(message),
            HttpError::Timeout { .. } | HttpError::Connect { .. } => Error::Unavailable(message),
            HttpError::Status { status, .. } => match status {
                404 => Error::NotFound(message),
                409 => Error::Conflict(message),
                400 | 422 => Error::Invalid(message),
                401 | 403 => Error::Denied(message),
                429 | 502 | 503 | 504 => Error::Unavailable(message),
                _ => Error::Internal(message),
            },
            HttpError::BadUrl(_)
            | HttpError::TooLarge { .. }
            | HttpError::Decode { .. }
            | HttpError::Other { .. } => Error::Internal(message),
        }
    }
}

/// An HTTP request being built.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
}

impl Request {
    /// A request with any method.
    pub fn new(method: Method, url: &str) -> Request {
        Request {
            method,
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
            timeout: None,
        }
    }

    /// A GET request.
    pub fn get(url: &str) -> Request {
        Request::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: &str) -> Request {
        Request::new(Method::Post, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }

    /// Adds `Authorization: Bearer TOKEN`.
    pub fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sets a JSON body and its content type.
    pub fn json<T: Serialize>(mut self, body: &T) -> Request {
        // Serializing plain data structures cannot fail; an impossible failure sends an
        // empty object rather than trapping the call.
        let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        self.body = Some(bytes);
        self.header("content-type", "application/json")
    }

    /// Sets a raw body.
    pub fn body(mut self, bytes: Vec<u8>) -> Request {
        self.body = Some(bytes);
        self
    }

    /// Asks for a shorter timeout than the tenant's (it can never be longer).
    pub fn timeout(mut self, timeout: Duration) -> Request {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        let url = self.url.clone();
        let parts = parse_url(&self.url)?;
        let mut headers = self.headers.clone();
        if let Some(body) = &self.body {
            headers.push(("content-length".into(), body.len().to_string().into_bytes()));
        }
        let fields = Fields::from_list(&headers).map_err(|e| HttpError::Other {
            url: url.clone(),
            detail: format!("bad header: {e:?}"),
        })?;
        let request = OutgoingRequest::new(fields);
        let other = |detail: &str| HttpError::Other {
            url: url.clone(),
            detail: detail.to_string(),
        };
        request
            .set_method(&self.method)
            .map_err(|()| other("bad method"))?;
        request
            .set_scheme(Some(&parts.scheme))
            .map_err(|()| other("bad scheme"))?;
        request
            .set_authority(Some(&parts.authority))
            .map_err(|()| other("bad authority"))?;
        request
            .set_path_with_query(Some(&parts.path_and_query))
            .map_err(|()| other("bad path"))?;
        let options = self.timeout.map(|t| {
            let o = RequestOptions::new();
            let nanos = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
            // The host caps these at the tenant's limits; ignoring a refused setting
            // keeps the tenant's default.
            let _ = o.set_connect_timeout(Some(nanos));
            let _ = o.set_first_byte_timeout(Some(nanos));
            let _ = o.set_between_bytes_timeout(Some(nanos));
            o
        });
        let outgoing_body = request
            .body()
            .map_err(|()| other("request body unavailable"))?;
        let stream = outgoing_body
            .write()
            .map_err(|()| other("request body stream unavailable"))?;
        let body = self.body.as_deref().unwrap_or_default();
        // Small bodies (all the JSON a plugin sends) are written whole before the request
        // is handed over, so headers and body leave together. Writing after `handle`
        // races a server that answers before reading the body: the body stream breaks
        // and the answer is lost with it.
        let fits = stream
            .check_write()
            .is_ok_and(|room| room >= body.len() as u64);
        let future = if fits {
            if !body.is_empty() {
                stream
                    .write(body)
                    .map_err(|e| other(&format!("writing the request body: {e:?}")))?;
            }
            drop(stream);
            OutgoingBody::finish(outgoing_body, None).map_err(|e| map_code(&url, e))?;
            outgoing_handler::handle(request, options).map_err(|e| map_code(&url, e))?
        } else {
            // A large body streams: the host drains it while we write.
            let future =
                outgoing_handler::handle(request, options).map_err(|e| map_code(&url, e))?;
            for chunk in body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| other(&format!("writing the request body: {e:?}")))?;
            }
            drop(stream);
            OutgoingBody::finish(outgoing_body, None).map_err(|e| map_code(&url, e))?;
            future
        };

        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(map_code(&url, code)),
            Some(Err(())) | None => return Err(other("response already taken")),
        };
        let status = response.status();
        let headers = response.headers().entries();
        let body = response
            .consume()
            .map_err(|()| other("response body unavailable"))?;
        let stream = body
            .stream()
            .map_err(|()| other("response body stream unavailable"))?;
        let mut bytes = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    let detail = e.to_debug_string();
                    return Err(
                        if detail.contains("body-size") || detail.contains("BodySize") {
                            HttpError::TooLarge { url }
                        } else {
                            HttpError::Connect { url, detail }
                        },
                    );
                }
            }
        }
        drop(stream);
        Ok(Response {
            url,
            status,
            headers,
            body: bytes,
        })
    }
}

fn map_code(url: &str, code: ErrorCode) -> HttpError {
    let url = url.to_string();
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied { url },
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => HttpError::Timeout { url },
        ErrorCode::HttpResponseBodySize(_) => HttpError::TooLarge { url },
        ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::DnsError(_)
        | ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => HttpError::Connect {
            url,
            detail: format!("{code:?}"),
        },
        other => HttpError::Other {
            url,
            detail: format!("{other:?}"),
        },
    }
}

/// A whole HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    url: String,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of a header, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The body bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// Consumes the response, returning the body.
    pub fn into_bytes(self) -> Vec<u8> {
        self.body
    }

    /// Turns a non-2xx status into [`HttpError::Status`] with the start of the body.
    pub fn error_for_status(self) -> Result<Response, HttpError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(HttpError::Status {
                url: self.url,
                status: self.status,
                body: String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(300)
                    .collect(),
            })
        }
    }

    /// Parses the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Decode {
            url: self.url.clone(),
            detail: e.to_string(),
        })
    }
}

struct UrlParts {
    scheme: Scheme,
    authority: String,
    path_and_query: String,
}

fn parse_url(url: &str) -> Result<UrlParts, HttpError> {
    let bad = || HttpError::BadUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(bad()),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok(UrlParts {
        scheme,
        authority: authority.to_string(),
        path_and_query: path,
    })
}

/// Percent-encodes a value for use in a URL path segment or query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let p = parse_url("http://127.0.0.1:8700/contacts/by-phone/%2B44?x=1").unwrap();
        assert_eq!(p.authority, "127.0.0.1:8700");
        assert_eq!(p.path_and_query, "/contacts/by-phone/%2B44?x=1");
        assert_eq!(
            parse_url("https://erp.example.com").unwrap().path_and_query,
            "/"
        );
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("http://user@x/").is_err());
    }

    #[test]
    fn encodes() {
        assert_eq!(encode("+44 20"), "%2B44%2020");
    }
}
