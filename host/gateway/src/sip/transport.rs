//! SIP over UDP, TCP and TLS: sockets in, parsed messages out, bytes back.
//!
//! This is the only part of SIP that touches sockets. Whatever arrives is parsed here;
//! a malformed datagram is dropped (and counted), a TCP/TLS stream whose framing breaks
//! is closed, and neither ever reaches the transaction layer or stops the gateway.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Mutex, mpsc};
use voxgate_proto::sip::{Message, StreamEvent, StreamFramer, Transport, parse_datagram};

/// Where a message came from or goes to.
pub use voxgate_proto::sip::Peer as Remote;

/// What to listen on.
#[derive(Debug, Clone)]
pub enum Listen {
    Udp(SocketAddr),
    Tcp(SocketAddr),
    Tls {
        addr: SocketAddr,
        cert: PathBuf,
        key: PathBuf,
    },
}

/// A parsed message from the network.
#[derive(Debug)]
pub struct Received {
    pub from: Remote,
    /// The local address it arrived on (for Via/Contact).
    pub local: SocketAddr,
    pub message: Message,
}

/// Counters for what the transports refused.
#[derive(Debug, Default)]
pub struct TransportStats {
    pub datagrams: AtomicU64,
    pub malformed_datagrams: AtomicU64,
    pub malformed_stream_messages: AtomicU64,
    pub closed_streams: AtomicU64,
    pub send_errors: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot listen on {transport:?} {addr}: {source}")]
    Bind {
        transport: Transport,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS certificate or key: {0}")]
    Tls(String),
    #[error("no {0:?} transport to send with")]
    NoTransport(Transport),
    #[error("sending to {0}: {1}")]
    Send(SocketAddr, std::io::Error),
}

/// Largest datagram we read; SIP over UDP must stay far below this anyway.
const MAX_DATAGRAM: usize = 65_535;
/// Outgoing messages queued per stream connection before the connection is treated as
/// stuck and dropped.
const STREAM_QUEUE: usize = 256;

type StreamMap = Arc<Mutex<HashMap<(SocketAddr, Transport), mpsc::Sender<Bytes>>>>;

/// The bound transports. Cheap to clone.
#[derive(Clone)]
pub struct Transports {
    udp: Vec<(SocketAddr, Arc<UdpSocket>)>,
    streams: StreamMap,
    tcp_local: Option<SocketAddr>,
    tls_local: Option<SocketAddr>,
    inbound: mpsc::Sender<Received>,
    pub stats: Arc<TransportStats>,
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports")
            .field("udp", &self.udp.iter().map(|(a, _)| a).collect::<Vec<_>>())
            .field("tcp", &self.tcp_local)
            .field("tls", &self.tls_local)
            .finish()
    }
}

impl Transports {
    /// Binds every listener and starts their receive tasks; parsed messages go to
    /// `inbound`.
    pub async fn bind(
        listen: &[Listen],
        inbound: mpsc::Sender<Received>,
    ) -> Result<Transports, TransportError> {
        let stats = Arc::new(TransportStats::default());
        let streams: StreamMap = Arc::default();
        let mut t = Transports {
            udp: Vec::new(),
            streams: streams.clone(),
            tcp_local: None,
            tls_local: None,
            inbound: inbound.clone(),
            stats: stats.clone(),
        };
        for l in listen {
            match l {
                Listen::Udp(addr) => {
                    let socket =
                        UdpSocket::bind(addr)
                            .await
                            .map_err(|source| TransportError::Bind {
                                transport: Transport::Udp,
                                addr: *addr,
                                source,
                            })?;
                    let local = socket.local_addr().unwrap_or(*addr);
                    let socket = Arc::new(socket);
                    t.udp.push((local, socket.clone()));
                    tokio::spawn(udp_loop(socket, local, inbound.clone(), stats.clone()));
                }
                Listen::Tcp(addr) => {
                    let listener =
                        TcpListener::bind(addr)
                            .await
                            .map_err(|source| TransportError::Bind {
                                transport: Transport::Tcp,
                                addr: *addr,
                                source,
                            })?;
                    let local = listener.local_addr().unwrap_or(*addr);
                    t.tcp_local = Some(local);
                    tokio::spawn(accept_loop(listener, None, t.clone()));
                }
                Listen::Tls { addr, cert, key } => {
                    let acceptor = tls_acceptor(cert, key)?;
                    let listener =
                        TcpListener::bind(addr)
                            .await
                            .map_err(|source| TransportError::Bind {
                                transport: Transport::Tls,
                                addr: *addr,
                                source,
                            })?;
                    let local = listener.local_addr().unwrap_or(*addr);
                    t.tls_local = Some(local);
                    tokio::spawn(accept_loop(listener, Some(acceptor), t.clone()));
                }
            }
        }
        Ok(t)
    }

    /// The local address for a transport (first UDP socket for UDP).
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        match transport {
            Transport::Udp => self.udp.first().map(|(a, _)| *a),
            Transport::Tcp => self.tcp_local,
            Transport::Tls => self.tls_local,
            _ => None,
        }
    }

    /// Sends bytes to a remote. Stream transports reuse the connection the remote opened
    /// (RFC 3261 §18.2.2) and open one if there is none (TCP only).
    pub async fn send(&self, to: Remote, bytes: Bytes) -> Result<(), TransportError> {
        let result = self.send_inner(to, bytes).await;
        if result.is_err() {
            self.stats.send_errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    async fn send_inner(&self, to: Remote, bytes: Bytes) -> Result<(), TransportError> {
        match to.transport {
            Transport::Udp => {
                let (_, socket) = self
                    .udp
                    .iter()
                    .find(|(local, _)| local.is_ipv4() == to.addr.is_ipv4())
                    .or_else(|| self.udp.first())
                    .ok_or(TransportError::NoTransport(Transport::Udp))?;
                socket
                    .send_to(&bytes, to.addr)
                    .await
                    .map(|_| ())
                    .map_err(|e| TransportError::Send(to.addr, e))
            }
            Transport::Tcp | Transport::Tls => {
                let key = (to.addr, to.transport.clone());
                let existing = self.streams.lock().await.get(&key).cloned();
                match existing {
                    // Never wait on a stream: a peer that stops reading must not stall
                    // the caller (the SIP core). A full queue drops the message and the
                    // transaction layer's timers take it from there.
                    Some(sender) => sender.try_send(bytes).map_err(|_| {
                        TransportError::Send(
                            to.addr,
                            std::io::Error::new(
                                std::io::ErrorKind::WouldBlock,
                                "connection closed or not reading",
                            ),
                        )
                    }),
                    None if to.transport == Transport::Tcp => {
                        // Connecting takes a round trip: do it off the caller's path.
                        let transports = self.clone();
                        tokio::spawn(async move {
                            match TcpStream::connect(to.addr).await {
                                Ok(stream) => {
                                    let _ = stream.set_nodelay(true);
                                    let Ok(local) = stream.local_addr() else {
                                        return;
                                    };
                                    let sender = spawn_connection(
                                        stream,
                                        to.clone(),
                                        local,
                                        transports.clone(),
                                    )
                                    .await;
                                    let _ = sender.try_send(bytes);
                                }
                                Err(e) => {
                                    transports.stats.send_errors.fetch_add(1, Ordering::Relaxed);
                                    tracing::debug!(to = %to.addr, "cannot connect: {e}");
                                }
                            }
                        });
                        Ok(())
                    }
                    None => Err(TransportError::NoTransport(to.transport.clone())),
                }
            }
            ref other => Err(TransportError::NoTransport(other.clone())),
        }
    }
}

async fn udp_loop(
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    inbound: mpsc::Sender<Received>,
    stats: Arc<TransportStats>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors surface here on some systems; they concern one peer only.
                tracing::debug!("udp receive error on {local}: {e}");
                continue;
            }
        };
        stats.datagrams.fetch_add(1, Ordering::Relaxed);
        let data = buf.get(..n).unwrap_or_default();
        // Keep-alives (CRLF) carry nothing.
        if data.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        match parse_datagram(data) {
            Ok(message) => {
                let received = Received {
                    from: Remote {
                        addr: from,
                        transport: Transport::Udp,
                    },
                    local,
                    message,
                };
                if inbound.send(received).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                stats.malformed_datagrams.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%from, "dropping malformed datagram: {e}");
            }
        }
    }
}

type Acceptor = tokio_rustls::TlsAcceptor;

async fn accept_loop(listener: TcpListener, tls: Option<Acceptor>, transports: Transports) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = match stream.local_addr() {
            Ok(a) => a,
            Err(_) => continue,
        };
        match &tls {
            None => {
                let remote = Remote {
                    addr: from,
                    transport: Transport::Tcp,
                };
                spawn_connection(stream, remote, local, transports.clone()).await;
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let transports = transports.clone();
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(tls_stream) => {
                            let remote = Remote {
                                addr: from,
                                transport: Transport::Tls,
                            };
                            spawn_connection(tls_stream, remote, local, transports).await;
                        }
                        Err(e) => tracing::debug!(%from, "TLS handshake failed: {e}"),
                    }
                });
            }
        }
    }
}

/// Registers a stream connection for sending and starts its reader and writer.
async fn spawn_connection<S>(
    stream: S,
    remote: Remote,
    local: SocketAddr,
    transports: Transports,
) -> mpsc::Sender<Bytes>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(STREAM_QUEUE);
    let key = (remote.addr, remote.transport.clone());
    transports
        .streams
        .lock()
        .await
        .insert(key.clone(), tx.clone());
    let (mut reader, mut writer) = tokio::io::split(stream);

    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });

    let pong = tx.clone();
    tokio::spawn(async move {
        let mut framer = StreamFramer::default();
        let mut buf = vec![0u8; 16 * 1024];
        'read: loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            framer.push(buf.get(..n).unwrap_or_default());
            loop {
                match framer.next_event() {
                    Ok(None) => break,
                    Ok(Some(StreamEvent::KeepAlive)) => {
                        let _ = pong.try_send(Bytes::from_static(b"\r\n"));
                    }
                    Ok(Some(StreamEvent::Message {
                        parsed: Ok(message),
                        ..
                    })) => {
                        let received = Received {
                            from: remote.clone(),
                            local,
                            message,
                        };
                        if transports.inbound.send(received).await.is_err() {
                            break 'read;
                        }
                    }
                    Ok(Some(StreamEvent::Message { parsed: Err(e), .. })) => {
                        transports
                            .stats
                            .malformed_stream_messages
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(from = %remote.addr, "dropping malformed message: {e}");
                    }
                    Err(e) => {
                        // Framing is lost (bad Content-Length, oversized): nothing after
                        // this point can be trusted, so the connection goes.
                        tracing::debug!(from = %remote.addr, "closing stream: {e}");
                        break 'read;
                    }
                }
            }
        }
        transports
            .stats
            .closed_streams
            .fetch_add(1, Ordering::Relaxed);
        transports.streams.lock().await.remove(&key);
    });
    tx
}

fn tls_acceptor(cert: &PathBuf, key: &PathBuf) -> Result<Acceptor, TransportError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TransportError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TransportError::Tls(format!("{}: {e}", key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| TransportError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| TransportError::Tls(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
