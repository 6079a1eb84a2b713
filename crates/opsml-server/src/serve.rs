//! Accepting connections and serving HTTP/1 on them, within limits that keep a few slow or
//! idle clients from holding the server: a time limit on each request's headers (which also
//! closes connections left idle that long), one on each wait for a body's next bytes, and a
//! bound on connections served at once (the next ones wait in the listener's queue). Each
//! request carries the address of the connection's peer (axum's [`ConnectInfo`]), which the
//! login route counts failures by.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::timeout::RequestBodyTimeout;

use crate::AppState;

/// Variable setting [`ServeLimits::read_timeout`], in seconds.
pub const READ_TIMEOUT_ENV: &str = "OPSML_SERVER_READ_TIMEOUT";
/// Variable setting [`ServeLimits::max_connections`].
pub const MAX_CONNECTIONS_ENV: &str = "OPSML_SERVER_MAX_CONNECTIONS";

/// Limits on the connections of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a client may take to send a request's headers, and to send each next part of
    /// its body; a connection idle this long between requests is closed too.
    pub read_timeout: Duration,
    /// Connections served at once; more wait to be accepted until one closes.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            read_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

impl ServeLimits {
    /// The defaults, changed by [`READ_TIMEOUT_ENV`] and [`MAX_CONNECTIONS_ENV`] where set.
    pub fn from_env() -> Result<Self, String> {
        let mut limits = Self::default();
        if let Some(seconds) = env_number(READ_TIMEOUT_ENV, 1..=3_600)? {
            limits.read_timeout = Duration::from_secs(seconds as u64);
        }
        if let Some(connections) = env_number(MAX_CONNECTIONS_ENV, 1..=1_000_000)? {
            limits.max_connections = connections;
        }
        Ok(limits)
    }
}

/// The whole number in variable `name`, if it is set; an error names a value outside `range`.
fn env_number(name: &str, range: std::ops::RangeInclusive<usize>) -> Result<Option<usize>, String> {
    std::env::var(name)
        .ok()
        .map(|text| number(name, &text, range))
        .transpose()
}

/// `text`, the value of variable `name`, as a whole number in `range`.
fn number(name: &str, text: &str, range: std::ops::RangeInclusive<usize>) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "{name}={text:?} is not a whole number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// Serves `state` on `listener` within `limits` until `shutdown` completes, then lets the
/// requests under way finish.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = TowerToHyperService::new(RequestBodyTimeout::new(
        crate::router(state),
        limits.read_timeout,
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (slot, stream, peer) = tokio::select! {
            next = accept_within(&listener, &slots) => next,
            () = &mut shutdown => break,
        };
        let service = service.clone();
        let with_peer = hyper::service::service_fn(move |mut request| {
            request.extensions_mut().insert(ConnectInfo(peer));
            hyper::service::Service::call(&service, request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), with_peer));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The next connection once a slot is free: the slot, held while the connection is served,
/// the connection and its peer's address.
async fn accept_within(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (OwnedSemaphorePermit, TcpStream, SocketAddr) {
    #[allow(clippy::expect_used, reason = "the semaphore is never closed")]
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return (slot, stream, peer),
            Err(e) => accept_failed(e).await,
        }
    }
}

/// A failed accept: one connection's trouble is passed over; anything else (out of file
/// descriptors) is logged and waited out, since accepting again at once would fail again.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The address a request came from: its connection's peer. A router served without
/// [`ConnectInfo`] (not through [`serve_with`]) gives the unspecified address, so all its
/// clients count as one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddress(pub(crate) IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(Self(
            peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_outside_their_range_are_named() {
        assert_eq!(number(READ_TIMEOUT_ENV, " 10 ", 1..=3_600), Ok(10));
        for bad in ["0", "-1", "ten", "3601"] {
            let err = number(READ_TIMEOUT_ENV, bad, 1..=3_600).unwrap_err();
            assert!(
                err.starts_with(&format!("{READ_TIMEOUT_ENV}={bad:?}")),
                "{err}"
            );
        }
    }
}
