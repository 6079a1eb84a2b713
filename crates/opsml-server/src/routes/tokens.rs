//! `POST /api/v1/auth/token`: a username and password for a bearer token. A username with
//! too many failed logins in a row from one address waits (429 with `Retry-After`) before it
//! may try again from there; one with many more from anywhere waits everywhere (see
//! `auth::throttle`). A disabled user cannot log in, and is answered as a wrong password.
//!
//! `DELETE /api/v1/auth/token`: logs out, revoking the token the request came with.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{Refusals, Unauthorized};
use crate::auth::{new_token, verify_login, LoginThrottle, TokenHash, TOKEN_LIFETIME};
use crate::input::no_nul;
use crate::serve::PeerAddress;
use crate::{ApiError, AppState};

/// The login route, which needs no token.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue))
}

/// The logout route, behind the token check.
pub(super) fn authenticated_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(revoke_own))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    pub(super) username: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Issued {
    pub(super) token: String,
    pub(super) expires_at: DateTime<Utc>,
}

/// The answer to a login of a locked username, or `None` when it is not locked.
fn locked(throttle: &LoginThrottle, username: &str, address: IpAddr) -> Option<Response> {
    let wait = throttle.wait(username, address, Instant::now())?;
    let seconds = wait.as_secs() + 1;
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_failed_logins",
        format!("too many failed logins for this username; try again in {seconds} s"),
    );
    Some(([(header::RETRY_AFTER, seconds.to_string())], error).into_response())
}

/// A bearer token for a username and password (valid 30 days). After 5 failed logins in a row of a
/// username from one address, that username is refused from that address for 30 s (doubling with
/// each further failure, up to 15 minutes); after 100 in a row from anywhere, it is refused from
/// everywhere the same way. Either way whether it exists or not. A disabled user is answered as a
/// wrong password.
#[utoipa::path(
    post,
    path = "/auth/token",
    request_body = super::tokens::Credentials,
    responses(
        (status = 200, description = "OK", body = super::tokens::Issued),
        Refusals,
        (status = 413, description = "The body is over 8 KiB", body = crate::ErrorBody),
        (status = 429, description = "Too many failed logins for this username (from this address, or from anywhere); Retry-After says how many seconds to wait.", body = crate::ErrorBody, headers(("Retry-After" = u64))),
    ),
    security(()),
)]
async fn issue(
    State(state): State<AppState>,
    PeerAddress(address): PeerAddress,
    Json(credentials): Json<Credentials>,
) -> Result<Json<Issued>, Response> {
    log_in(&state, address, credentials).await.map(Json)
}

/// A new token for `credentials` if they are right and the username is not locked; the
/// answer to send otherwise.
pub(super) async fn log_in(
    state: &AppState,
    address: IpAddr,
    credentials: Credentials,
) -> Result<Issued, Response> {
    if state.is_launch() {
        return Err(ApiError::bad_request(
            "`opsml ui` takes no login: open the address it printed",
        )
        .into_response());
    }
    // No account has a NUL in its name or password: such a login is a mistake, and the
    // store would refuse to even look the name up.
    no_nul("username", &credentials.username).map_err(IntoResponse::into_response)?;
    if credentials.password.contains('\0') {
        return Err(ApiError::bad_request("the password holds a NUL character").into_response());
    }
    if let Some(refused) = locked(&state.login_failures, &credentials.username, address) {
        return Err(refused);
    }
    // Password hashing is deliberately costly: a burst of logins waits its turn rather than
    // take every core from the requests being served.
    let _permit = state
        .logins
        .acquire()
        .await
        .map_err(|e| ApiError::internal(format!("login queue closed: {e}")).into_response())?;
    // Guesses sent all at once waited above while the first ones failed: look again.
    if let Some(refused) = locked(&state.login_failures, &credentials.username, address) {
        return Err(refused);
    }
    let throttle = Arc::clone(&state.login_failures);
    state
        .with_accounts(move |accounts| {
            let user = accounts.user(&credentials.username)?;
            // One answer, after the same work, for an unknown user, a disabled one and a
            // wrong password.
            let verified = verify_login(
                &credentials.password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            );
            if !verified || user.is_none_or(|u| u.disabled) {
                throttle.failed(&credentials.username, address, Instant::now());
                return Err(ApiError::unauthorized("wrong username or password"));
            }
            throttle.succeeded(&credentials.username, address);
            let (token, hash) = new_token()?;
            let lifetime = chrono::Duration::from_std(TOKEN_LIFETIME).unwrap_or_default();
            let expires_at = Utc::now() + lifetime;
            accounts.put_token(&hash, &credentials.username, expires_at)?;
            Ok(Issued { token, expires_at })
        })
        .await
        .map_err(IntoResponse::into_response)
}

/// Logs out: revokes the token the request carries.
///
/// Any user, for its own token. Other servers of the same database may honour the token for up to
/// 10 s more.
#[utoipa::path(
    delete,
    path = "/auth/token",
    responses(
        (status = 204, description = "Done"),
        (status = 401, response = Unauthorized),
    ),
)]
async fn revoke_own(
    State(state): State<AppState>,
    Extension(TokenHash(hash)): Extension<TokenHash>,
) -> Result<StatusCode, ApiError> {
    revoke(&state, hash).await
}

/// Revokes the token stored as `hash`.
pub(super) async fn revoke(state: &AppState, hash: String) -> Result<StatusCode, ApiError> {
    let principals = Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            accounts.revoke_token(&hash)?;
            principals.remove(&hash);
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
