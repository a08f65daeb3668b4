//! Faults on purpose (`POST /admin/faults`, [`super::Server::inject_fault`]):
//! the discovery, JWKS, token or userinfo endpoint answers 500, holds the
//! request and then closes the connection, answers late, or answers with
//! broken JSON, for the next N requests; so a test sees how its app behaves
//! when the identity provider misbehaves. Root and tenants alike.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State as AxState};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::http::OAuthError;
use super::issuers::split_tenant;
use super::serve::Hold;
use super::State;
use crate::error::{Error, Result};

/// The longest a fault holds a request: a `timeout` or `slow` never ties a
/// connection up for longer.
pub const MAX_DELAY_MS: u64 = 60_000;
/// How long `slow` waits when no `delay_ms` is given.
pub const DEFAULT_SLOW_MS: u64 = 1_000;
/// The most faults queued at once.
pub const MAX_FAULTS: usize = 32;

/// Which endpoint misbehaves (of the root issuer and every tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultEndpoint {
    /// `/.well-known/openid-configuration` and its aliases.
    Discovery,
    /// `/oauth/certs`.
    Jwks,
    /// `/oauth/token`.
    Token,
    /// `/oauth/userinfo`.
    Userinfo,
}

/// How it misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// 500 with an RFC 6749 5.2 JSON body (`server_error`).
    Error,
    /// No answer: the request is held `delay_ms` (default and at most 60 s),
    /// then the connection closes.
    Timeout,
    /// The normal answer, `delay_ms` late (default 1 s, at most 60 s).
    Slow,
    /// 200 with `Content-Type: application/json` and a body that is not JSON.
    Malformed,
}

/// One fault, for the next `count` requests to `endpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub endpoint: FaultEndpoint,
    pub kind: FaultKind,
    /// Milliseconds, for `timeout` and `slow`; held to at most [`MAX_DELAY_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How many requests it applies to (at least 1; default 1). Listed, it
    /// is how many are left.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(endpoint: FaultEndpoint, kind: FaultKind) -> Fault {
        Fault {
            endpoint,
            kind,
            delay_ms: None,
            count: 1,
        }
    }

    /// For `timeout` and `slow`: how long, in milliseconds.
    pub fn delay_ms(mut self, ms: u64) -> Fault {
        self.delay_ms = Some(ms);
        self
    }

    /// For the next `count` requests instead of one.
    pub fn count(mut self, count: u32) -> Fault {
        self.count = count;
        self
    }

    /// Read a fault from the admin API's JSON:
    /// `{"endpoint": "jwks", "kind": "error", "count": 2}`.
    pub fn from_json(json: &str) -> Result<Fault> {
        serde_json::from_str(json).map_err(|e| {
            Error::invalid_argument(format!(
                "invalid fault: {e} (endpoint: discovery|jwks|token|userinfo, kind: error|timeout|slow|malformed, delay_ms, count)"
            ))
        })
    }

    fn check(&self) -> Result<()> {
        if self.count == 0 {
            return Err(Error::invalid_argument(
                "a fault's count must be at least 1",
            ));
        }
        if self.delay_ms.is_some() && matches!(self.kind, FaultKind::Error | FaultKind::Malformed) {
            return Err(Error::invalid_argument(
                "delay_ms is for the timeout and slow faults",
            ));
        }
        Ok(())
    }

    fn delay(&self) -> Duration {
        let default = match self.kind {
            FaultKind::Timeout => MAX_DELAY_MS,
            _ => DEFAULT_SLOW_MS,
        };
        Duration::from_millis(self.delay_ms.unwrap_or(default).min(MAX_DELAY_MS))
    }
}

/// The faults waiting for their requests, in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    queue: Mutex<Vec<Fault>>,
    /// How many are queued: requests skip the lock when none are.
    queued: AtomicUsize,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, mut fault: Fault) -> Result<Fault> {
        fault.check()?;
        if let Some(ms) = fault.delay_ms {
            fault.delay_ms = Some(ms.min(MAX_DELAY_MS));
        }
        let mut queue = self.lock();
        if queue.len() >= MAX_FAULTS {
            return Err(Error::invalid_argument(format!(
                "at most {MAX_FAULTS} faults wait at once: clear them first (DELETE /admin/faults)"
            )));
        }
        queue.push(fault.clone());
        self.queued.store(queue.len(), Ordering::Release);
        Ok(fault)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        let mut queue = self.lock();
        queue.clear();
        self.queued.store(0, Ordering::Release);
    }

    /// The first fault waiting for `endpoint`, used up by one request.
    fn take(&self, endpoint: FaultEndpoint) -> Option<Fault> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.lock();
        let i = queue.iter().position(|f| f.endpoint == endpoint)?;
        let fault = queue[i].clone();
        queue[i].count -= 1;
        if queue[i].count == 0 {
            queue.remove(i);
        }
        self.queued.store(queue.len(), Ordering::Release);
        Some(fault)
    }
}

/// Which fault endpoint a path is, for the root and for tenants.
fn endpoint_of(path: &str) -> Option<FaultEndpoint> {
    match split_tenant(path).1 {
        "/.well-known/openid-configuration"
        | "/.well-known/oauth-authorization-server"
        | "/oauth/well-known" => Some(FaultEndpoint::Discovery),
        "/oauth/certs" => Some(FaultEndpoint::Jwks),
        "/oauth/token" => Some(FaultEndpoint::Token),
        "/oauth/userinfo" => Some(FaultEndpoint::Userinfo),
        _ => None,
    }
}

/// The layer that plays the faults. A CORS preflight is never one of the
/// requests a fault counts.
pub async fn inject(AxState(state): AxState<Arc<State>>, request: Request, next: Next) -> Response {
    if state.faults.queued.load(Ordering::Acquire) == 0 {
        return next.run(request).await;
    }
    let fault = match endpoint_of(request.uri().path()) {
        Some(endpoint) if request.method() != Method::OPTIONS => state.faults.take(endpoint),
        _ => None,
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    match fault.kind {
        FaultKind::Error => OAuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "injected fault: the identity provider failed (POST /admin/faults)",
        )
        .into_response(),
        FaultKind::Malformed => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            "{\"injected fault\": \"malformed JSON\", \"keys\": [",
        )
            .into_response(),
        FaultKind::Slow => {
            let mut response = next.run(request).await;
            response.extensions_mut().insert(Hold {
                delay: fault.delay(),
                close: false,
            });
            response
        }
        FaultKind::Timeout => {
            // The accept loop holds it, then closes without answering; served
            // any other way (in process), it is a 504.
            let mut response = OAuthError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "temporarily_unavailable",
                "injected fault: the identity provider did not answer (POST /admin/faults)",
            )
            .into_response();
            response.extensions_mut().insert(Hold {
                delay: fault.delay(),
                close: true,
            });
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_count_down_per_endpoint() {
        let faults = Faults::default();
        faults
            .add(Fault::new(FaultEndpoint::Jwks, FaultKind::Error).count(2))
            .unwrap();
        faults
            .add(Fault::new(FaultEndpoint::Token, FaultKind::Slow).delay_ms(999_999))
            .unwrap();
        assert_eq!(faults.list()[1].delay_ms, Some(MAX_DELAY_MS));
        assert!(faults.take(FaultEndpoint::Discovery).is_none());
        assert!(faults.take(FaultEndpoint::Jwks).is_some());
        assert_eq!(faults.list()[0].count, 1);
        assert!(faults.take(FaultEndpoint::Jwks).is_some());
        assert!(faults.take(FaultEndpoint::Jwks).is_none());
        assert_eq!(faults.list().len(), 1);
        faults.clear();
        assert!(faults.take(FaultEndpoint::Token).is_none());
    }

    #[test]
    fn bad_faults_are_refused() {
        for bad in [
            r#"{"endpoint": "admin", "kind": "error"}"#,
            r#"{"endpoint": "jwks", "kind": "explode"}"#,
            r#"{"endpoint": "jwks", "kind": "error", "colour": 1}"#,
        ] {
            assert!(Fault::from_json(bad).is_err(), "{bad}");
        }
        let faults = Faults::default();
        let zero = Fault::new(FaultEndpoint::Jwks, FaultKind::Error).count(0);
        assert!(faults.add(zero).is_err());
        let delayed_error = Fault::new(FaultEndpoint::Jwks, FaultKind::Error).delay_ms(5);
        assert!(faults.add(delayed_error).is_err());
        for _ in 0..MAX_FAULTS {
            faults
                .add(Fault::new(FaultEndpoint::Jwks, FaultKind::Error))
                .unwrap();
        }
        assert!(faults
            .add(Fault::new(FaultEndpoint::Jwks, FaultKind::Error))
            .is_err());
    }

    #[test]
    fn paths_of_root_and_tenants() {
        assert_eq!(endpoint_of("/oauth/certs"), Some(FaultEndpoint::Jwks));
        assert_eq!(endpoint_of("/acme/oauth/certs"), Some(FaultEndpoint::Jwks));
        assert_eq!(
            endpoint_of("/acme/.well-known/openid-configuration"),
            Some(FaultEndpoint::Discovery)
        );
        assert_eq!(endpoint_of("/oauth/authorize"), None);
        assert_eq!(endpoint_of("/admin/oauth/token"), None);
    }
}
