//! The state each plugin call's `Store` holds, and what voxgate provides to guests:
//! WASI without filesystem, sockets or environment; `wasi:http` limited to the tenant's
//! allowed hosts; logging, settings and secrets.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result as WasmResult};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

use crate::bindings::voxgate::plugin::{host, types};
use crate::tenant::TenantEnv;

/// How much of a guest's stderr is kept to explain a trap (a Rust panic message).
const STDERR_CAPTURE: usize = 4096;

/// Who is running, for log lines and error messages.
#[derive(Debug, Clone)]
pub(crate) struct CallLabel {
    pub plugin: Arc<str>,
    pub version: Arc<str>,
    pub call_id: Arc<str>,
}

/// Everything one plugin function call's store owns. Built fresh for every call and
/// dropped after it, so nothing leaks between calls or tenants.
pub(crate) struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(crate) outbound: OutboundPolicy,
    pub(crate) memory: MemoryLimiter,
    pub(crate) stderr: MemoryOutputPipe,
    tenant: Arc<TenantEnv>,
    label: CallLabel,
}

impl HostState {
    pub(crate) fn new(tenant: Arc<TenantEnv>, label: CallLabel) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
        let mut wasi = WasiCtx::builder();
        // No args, no environment, no preopened directories, no stdin. Sockets are
        // linked (language runtimes import them) but every operation is refused, twice
        // over: the protocols are off and no address passes the check.
        wasi.stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundPolicy {
                tenant: tenant.clone(),
                denied: Vec::new(),
                oversized: Arc::new(AtomicBool::new(false)),
            },
            memory: MemoryLimiter {
                max_bytes: tenant.limits.memory_bytes,
                exceeded: false,
                total_bytes: 0,
            },
            stderr,
            tenant,
            label,
        }
    }

    pub(crate) fn tenant_memory_limit(&self) -> usize {
        self.tenant.limits.memory_bytes
    }

    /// The tail of what the guest wrote to stderr, for trap messages.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

impl types::Host for HostState {}

impl host::Host for HostState {
    async fn log(&mut self, level: host::Level, message: String) {
        let l = &self.label;
        let tenant = self.tenant.id.as_str();
        // Plugins are untrusted: cap what one line can put into our logs.
        let message = truncate(&message, 2000);
        macro_rules! emit {
            ($lvl:ident) => {
                tracing::$lvl!(target: "voxgate::plugin", tenant, plugin = &*l.plugin, version = &*l.version, call = &*l.call_id, "{message}")
            };
        }
        match level {
            host::Level::Trace => emit!(trace),
            host::Level::Debug => emit!(debug),
            host::Level::Info => emit!(info),
            host::Level::Warn => emit!(warn),
            host::Level::Error => emit!(error),
        }
    }

    async fn config(&mut self, key: String) -> Option<String> {
        self.tenant.config.get(&key).cloned()
    }

    async fn secret(&mut self, key: String) -> Option<String> {
        self.tenant.secrets.get(&key).cloned()
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Caps linear memory at the tenant's limit and remembers that the cap was hit, so a
/// trap that follows is reported as a memory limit rather than a bug.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    pub(crate) exceeded: bool,
    /// Linear memory of all the instance's memories, initial sizes included (wasmtime
    /// asks the limiter for those too): what one instance of this plugin costs.
    pub(crate) total_bytes: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> WasmResult<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        self.total_bytes += desired.saturating_sub(current);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> WasmResult<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// Outbound HTTP as the tenant allows it: only listed hosts, bounded waits, bounded
/// response bodies. A refusal is an error value the guest sees (`HTTP-request-denied`),
/// never a trap.
pub(crate) struct OutboundPolicy {
    tenant: Arc<TenantEnv>,
    /// Authorities the guest tried and was refused, for the caller's error message.
    pub(crate) denied: Vec<String>,
    pub(crate) oversized: Arc<AtomicBool>,
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        drop(fut);
        let uri = request.uri();
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let (host, port) = match uri.authority() {
            Some(a) => (
                a.host().to_ascii_lowercase(),
                a.port_u16().unwrap_or(if https { 443 } else { 80 }),
            ),
            None => return Box::new(async { Err(HttpError::HttpRequestUriInvalid) }),
        };
        if !self.tenant.host_allowed(&host, port) {
            let authority = format!("{host}:{port}");
            tracing::warn!(
                target: "voxgate::plugin",
                tenant = self.tenant.id.as_str(),
                %authority,
                "outbound request denied: host is not in the tenant's allowed hosts"
            );
            self.denied.push(authority);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let limits = &self.tenant.limits;
        let cap = |t: Option<std::time::Duration>| {
            Some(t.map_or(limits.http_timeout, |t| t.min(limits.http_timeout)))
        };
        let options = options.unwrap_or_default();
        let options = RequestOptions {
            connect_timeout: cap(options.connect_timeout),
            first_byte_timeout: cap(options.first_byte_timeout),
            between_bytes_timeout: cap(options.between_bytes_timeout),
        };
        let max = limits.http_response_bytes;
        if let Some(tape) = self.tenant.tape.clone() {
            return Box::new(async move {
                let response = tape.send(request, options, max).await?;
                let done: Box<dyn Future<Output = Result<(), HttpError>> + Send> =
                    Box::new(async { Ok(()) });
                Ok((response, done))
            });
        }
        let oversized = self.oversized.clone();
        Box::new(async move {
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            if response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|len| len > max)
            {
                oversized.store(true, Ordering::Relaxed);
                return Err(HttpError::HttpResponseBodySize(Some(max)));
            }
            let response = response.map(|body| {
                CappedBody {
                    inner: body.boxed_unsync(),
                    remaining: max,
                    max,
                    oversized,
                }
                .boxed_unsync()
            });
            Ok((
                response,
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}

/// A response body that fails once it has delivered more than `max` bytes, for
/// responses that do not announce their length.
struct CappedBody {
    inner: WasiBody,
    remaining: u64,
    max: u64,
    oversized: Arc<AtomicBool>,
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > this.remaining {
                        this.oversized.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(HttpError::HttpResponseBodySize(Some(
                            this.max,
                        )))));
                    }
                    this.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("žžž", 3), "ž");
    }
}
