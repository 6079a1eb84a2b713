//! The opsml server: a team's registry behind a versioned JSON HTTP API (`/api/v1`), on the
//! same stores as the embedded library (SQLite, PostgreSQL). It keeps no state of its own
//! between requests, so several servers on one database behave as one.
//!
//! Routes: health (`/healthz`) and readiness (`/readyz`); tokens (`/api/v1/auth/token`);
//! users and their grants (admins); experiment cards (create, get, find, list, search,
//! update, delete, claim, status, metadata, running ones, marking dead ones killed); batches
//! of logged data from remote writers, applied at most once each; read-back of metrics,
//! parameters, hardware samples and metric summaries; wrapped data keys, artifact records
//! and artifact objects (streamed ciphertext). Every `/api/v1` route but the token route
//! needs a bearer token, and each checks the user's access to the space it touches.

mod auth;
mod cache;
mod error;
mod rejections;
mod routes;
mod start;
mod state;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use auth::{
    bootstrap_admin, hash_password, verify_login, verify_password, Principal, MIN_PASSWORD_CHARS,
};
pub use error::ApiError;
pub use start::{open_state, run, ADMIN_PASSWORD_ENV, ADMIN_USERNAME_ENV};
pub use state::AppState;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    routes::router(state.clone())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(rejections::api_shaped))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then lets running requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
