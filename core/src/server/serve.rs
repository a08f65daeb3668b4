//! The accept loop: hyper's HTTP/1 connections with a header-read timeout
//! (which also closes idle keep-alive connections), a whole-request timeout
//! (which bounds a slow body), and a cap on open connections at which the
//! connection idle the longest makes room for the new one, so slow or idle
//! clients cannot starve new requests.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Notify};
use tower::ServiceExt;

use super::http::OAuthError;
use super::Limits;

/// The local address a request's connection arrived on; the peer's is
/// axum's `ConnectInfo<SocketAddr>`.
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

/// Set on a response by an injected fault (`slow`, `timeout`): the accept
/// loop waits `delay` before sending it, or with `close` sends nothing and
/// closes the connection. Outside the request timeout, which bounds the app.
#[derive(Debug, Clone, Copy)]
pub struct Hold {
    pub delay: Duration,
    pub close: bool,
}

/// Why a held connection closed without an answer (hyper drops it).
#[derive(Debug)]
struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected timeout fault: closed without an answer")
    }
}

impl std::error::Error for NoAnswer {}

/// Largest request head (request line and headers) read, in bytes.
const MAX_HEAD: usize = 16 * 1024;
/// Most header fields in a request.
const MAX_HEADERS: usize = 64;
/// How long stopping waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(5);

/// The open connections, for the cap.
#[derive(Default)]
struct Connections {
    table: Mutex<Table>,
    /// Signalled when a connection ends.
    freed: Notify,
}

#[derive(Default)]
struct Table {
    next: u64,
    live: HashMap<u64, Entry>,
}

struct Entry {
    /// Requests in flight on it.
    busy: usize,
    /// Since when it has had none.
    idle_since: Instant,
    /// Closes it to make room.
    evict: Option<oneshot::Sender<()>>,
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent whatever panicked while holding it.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self) -> (u64, oneshot::Receiver<()>) {
        let (evict, evicted) = oneshot::channel();
        let mut table = self.lock();
        table.next += 1;
        let id = table.next;
        table.live.insert(
            id,
            Entry {
                busy: 0,
                idle_since: Instant::now(),
                evict: Some(evict),
            },
        );
        (id, evicted)
    }

    fn remove(&self, id: u64) {
        self.lock().live.remove(&id);
        self.freed.notify_one();
    }

    fn set_busy(&self, id: u64, busy: bool) {
        if let Some(entry) = self.lock().live.get_mut(&id) {
            if busy {
                entry.busy += 1;
            } else {
                entry.busy = entry.busy.saturating_sub(1);
                if entry.busy == 0 {
                    entry.idle_since = Instant::now();
                }
            }
        }
    }

    /// True when below the cap, or once the connection idle the longest
    /// (no request in flight: slow headers, or keep-alive) is closed to make
    /// room. False when every connection has a request in flight.
    fn make_room(&self, cap: usize) -> bool {
        let mut table = self.lock();
        if table.live.len() < cap {
            return true;
        }
        let victim = table
            .live
            .iter()
            .filter(|(_, e)| e.busy == 0)
            .min_by_key(|(_, e)| e.idle_since)
            .map(|(id, _)| *id);
        let Some(id) = victim else {
            return false;
        };
        if let Some(evict) = table.live.remove(&id).and_then(|mut e| e.evict.take()) {
            let _ = evict.send(());
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.lock().live.is_empty()
    }
}

/// Marks a connection busy while one of its requests is being answered.
struct Busy {
    connections: Arc<Connections>,
    id: u64,
}

impl Busy {
    fn start(connections: Arc<Connections>, id: u64) -> Busy {
        connections.set_busy(id, true);
        Busy { connections, id }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.connections.set_busy(self.id, false);
    }
}

/// The router as one connection sees it: each request learns its peer and
/// local address, and must be answered within the request timeout.
#[derive(Clone)]
struct PerConnection {
    app: axum::Router,
    remote: SocketAddr,
    local: SocketAddr,
    connections: Arc<Connections>,
    id: u64,
    request_timeout: Duration,
    /// A held answer ends early when the server stops.
    stop: watch::Receiver<bool>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PerConnection {
    type Response = Response;
    type Error = NoAnswer;
    type Future = Pin<Box<dyn Future<Output = Result<Response, NoAnswer>> + Send>>;

    fn call(&self, mut request: hyper::Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.remote));
        request.extensions_mut().insert(LocalAddr(self.local));
        let busy = Busy::start(self.connections.clone(), self.id);
        let app = self.app.clone();
        let limit = self.request_timeout;
        let mut stop = self.stop.clone();
        Box::pin(async move {
            let _busy = busy;
            let request = request.map(axum::body::Body::new);
            let response = match tokio::time::timeout(limit, app.oneshot(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => timed_out(),
            };
            match response.extensions().get::<Hold>().copied() {
                Some(hold) => {
                    tokio::select! {
                        _ = tokio::time::sleep(hold.delay) => {}
                        _ = stop.changed() => return Err(NoAnswer),
                    }
                    if hold.close {
                        return Err(NoAnswer);
                    }
                    Ok(response)
                }
                None => Ok(response),
            }
        })
    }
}

/// 408, and the connection closes: its body did not arrive in time.
fn timed_out() -> Response {
    let mut response = OAuthError::new(
        StatusCode::REQUEST_TIMEOUT,
        "invalid_request",
        "the request did not arrive in time",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Serve `app` on `listener` until `stop` turns true, then let requests in
/// flight finish (for a few seconds at most).
pub async fn run(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let connections = Arc::new(Connections::default());
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD)
        .max_headers(MAX_HEADERS);
    let cap = limits.max_connections.max(1);
    'serve: loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors, or the peer gave up: breathe, retry.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    _ = stop.changed() => break,
                }
            }
        };
        while !connections.make_room(cap) {
            // Every connection has a request in flight: the request timeout
            // frees one soon; meanwhile the kernel queues new connections.
            tokio::select! {
                _ = connections.freed.notified() => {}
                _ = stop.changed() => break 'serve,
            }
        }
        let local = stream.local_addr().unwrap_or(remote);
        let _ = stream.set_nodelay(true);
        let (id, evicted) = connections.register();
        let service = PerConnection {
            app: app.clone(),
            remote,
            local,
            connections: connections.clone(),
            id,
            request_timeout: limits.request_timeout,
            stop: stop.clone(),
        };
        tokio::spawn(connection(
            http.clone(),
            stream,
            service,
            evicted,
            stop.clone(),
        ));
    }
    drop(listener);
    let deadline = Instant::now() + DRAIN;
    while !connections.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = tokio::time::timeout(left, connections.freed.notified()).await;
    }
}

/// One connection, until it ends, is evicted, or the server stops.
async fn connection(
    http: http1::Builder,
    stream: TcpStream,
    service: PerConnection,
    evicted: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let connections = service.connections.clone();
    let id = service.id;
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = evicted => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn.as_mut()).await;
        }
    }
    connections.remove(id);
}
