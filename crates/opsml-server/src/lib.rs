//! The opsml server: a team's registry behind a versioned JSON HTTP API (`/api/v1`), on the
//! same stores as the embedded library (SQLite, PostgreSQL). It keeps no state of its own
//! between requests, so several servers on one database behave as one.
//!
//! Routes: health (`/healthz`) and readiness (`/readyz`); tokens (`/api/v1/auth/token`:
//! log in, log out); users and their grants (admins: create, list, disable, enable, delete,
//! grant, remove a grant, revoke a user's tokens); experiment cards (create, get, find, list, search,
//! update, delete, claim, status, metadata, running ones, marking dead ones killed); batches
//! of logged data from remote writers, applied at most once each; read-back of metrics,
//! parameters, hardware samples and metric summaries; wrapped data keys, artifact records
//! and artifact objects (streamed ciphertext); the web UI's runs table (`/runs`), chart
//! points (`/experiments/{uid}/series`) and session (`/ui/…`). Every `/api/v1` route but the
//! login routes needs a token, as a bearer token or the web UI's session cookie (changes made
//! with the cookie also need its CSRF token), and each checks the user's access to the space
//! it touches. An experiment the user may not read answers exactly as one that does not
//! exist. Every other path serves the web UI (see `ui`); `opsml ui` serves the same on a
//! local store behind a per-launch token (see [`UiLaunch`]).
//!
//! Request bodies are bounded by what each route needs ([`SMALL_BODY_BYTES`] unless the
//! route says otherwise), and connections by [`ServeLimits`].

mod auth;
mod cache;
mod error;
mod input;
mod launch;
mod rejections;
mod routes;
mod serve;
mod start;
mod state;
mod ui;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;

pub use auth::{
    bootstrap_admin, hash_password, verify_login, verify_password, Principal, MIN_PASSWORD_CHARS,
};
pub use error::ApiError;
use error::ErrorBody;
pub use launch::{UiAddress, UiLaunch};
pub use serve::{serve_with, ServeLimits, MAX_CONNECTIONS_ENV, READ_TIMEOUT_ENV};
pub use start::{open_state, run, ADMIN_PASSWORD_ENV, ADMIN_USERNAME_ENV};
pub use state::AppState;

/// Largest request body of a route that takes bulk data (batches, searches, artifact
/// records, card updates and metadata), in bytes. Object uploads are streamed, unbounded.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Largest body of a new experiment or of a kill mark, in bytes.
pub const CARD_BODY_BYTES: usize = 64 << 10;

/// Largest body of every other route (logins, users, grants, statuses, leases, keys), in
/// bytes: these need a few hundred, and the login route takes bodies before any login.
pub const SMALL_BODY_BYTES: usize = 8 << 10;

/// Every route of the server. Failed logins are counted per client address, which requests
/// carry as [`axum::extract::ConnectInfo`] when served by [`serve_with`]; served otherwise
/// without it, all clients count as one address.
pub fn router(state: AppState) -> Router {
    let app = routes::router(state.clone())
        .fallback(ui::page)
        .layer(DefaultBodyLimit::max(SMALL_BODY_BYTES))
        .layer(axum::middleware::from_fn(input::refuse_nul_in_uri))
        .layer(axum::middleware::map_response(rejections::api_shaped))
        .with_state(state);
    ui::protect(app)
}

/// Serves `state` on `listener` within the default [`ServeLimits`] until `shutdown`
/// completes, then lets running requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServeLimits::default(), shutdown).await
}
