//! The web UI's session: who is logged in (with the CSRF token the page must send with every
//! change), logging in with a username and password into an HttpOnly, SameSite=Strict
//! cookie, and logging out. `opsml ui` takes no login: its launch address sets the cookie.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{BadRequest, Forbidden, Unauthorized};
use super::tokens::{log_in, revoke, Credentials};
use crate::auth::{csrf_token, session_cookie_header, SessionToken, TokenHash, TOKEN_LIFETIME};
use crate::serve::PeerAddress;
use crate::{ApiError, AppState, Principal};

/// The login route, which needs no session.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}

/// The routes of a logged-in page.
pub(super) fn authenticated_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session))
        .routes(routes!(logout))
}

/// What a page needs to know of its session.
#[derive(Debug, Serialize, ToSchema)]
struct Session {
    username: String,
    admin: bool,
    /// Sent back in the `x-csrf-token` header with every change.
    csrf_token: String,
    /// `true` on `opsml ui` (the local user's own store, with its key), `false` on a server.
    local: bool,
}

/// The web UI's session: the user and the CSRF token of its cookie.
#[utoipa::path(
    get,
    path = "/ui/session",
    responses(
        (status = 200, description = "OK", body = Session),
        (status = 401, response = Unauthorized),
    ),
)]
async fn session(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(SessionToken(token)): Extension<SessionToken>,
) -> Json<Session> {
    Json(Session {
        username: principal.username,
        admin: principal.admin,
        csrf_token: csrf_token(&token),
        local: state.is_launch(),
    })
}

/// Logs in to the web UI: sets the session in an HttpOnly, SameSite=Strict cookie.
///
/// No token needed. As POST /auth/token, with the same limits on failed logins. `opsml ui` takes no
/// login (400).
#[utoipa::path(
    post,
    path = "/ui/login",
    request_body = Credentials,
    responses(
        (status = 200, description = "OK", body = LoggedIn),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 429, description = "Too many failed logins; Retry-After says when to try again."),
    ),
)]
async fn login(
    State(state): State<AppState>,
    PeerAddress(address): PeerAddress,
    Json(credentials): Json<Credentials>,
) -> Result<Response, Response> {
    let username = credentials.username.clone();
    let issued = log_in(&state, address, credentials).await?;
    let cookie = session_cookie_header(&issued.token, TOKEN_LIFETIME.as_secs());
    let answer = LoggedIn {
        username,
        csrf_token: csrf_token(&issued.token),
    };
    Ok(([cookie], Json(answer)).into_response())
}

/// The answer to a login: the user and the CSRF token of its session (its grants come with
/// the next session request).
#[derive(Debug, Serialize, ToSchema)]
struct LoggedIn {
    username: String,
    csrf_token: String,
}

/// Logs out of the web UI: revokes the session's token and removes the cookie.
///
/// With the session cookie, needs its CSRF token in x-csrf-token.
#[utoipa::path(
    post,
    path = "/ui/logout",
    responses(
        (status = 204, description = "Logged out."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
async fn logout(
    State(state): State<AppState>,
    Extension(TokenHash(hash)): Extension<TokenHash>,
) -> Result<Response, ApiError> {
    if !state.is_launch() {
        revoke(&state, hash).await?;
    }
    Ok(([session_cookie_header("", 0)], StatusCode::NO_CONTENT).into_response())
}
