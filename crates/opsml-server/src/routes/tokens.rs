//! `POST /api/v1/auth/token`: a username and password for a bearer token. A username with
//! too many failed logins in a row waits (429 with `Retry-After`) before it may try again.

use std::time::Instant;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{new_token, verify_login, LoginThrottle, TOKEN_LIFETIME};
use crate::input::no_nul;
use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/auth/token", post(issue))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct Issued {
    token: String,
    expires_at: DateTime<Utc>,
}

/// The answer to a login of a locked username, or `None` when it is not locked.
fn locked(throttle: &LoginThrottle, username: &str) -> Option<Response> {
    let wait = throttle.wait(username, Instant::now())?;
    let seconds = wait.as_secs() + 1;
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_failed_logins",
        format!("too many failed logins for this username; try again in {seconds} s"),
    );
    Some(([(header::RETRY_AFTER, seconds.to_string())], error).into_response())
}

async fn issue(
    State(state): State<AppState>,
    Json(credentials): Json<Credentials>,
) -> Result<Json<Issued>, Response> {
    // No account has a NUL in its name or password: such a login is a mistake, and the
    // store would refuse to even look the name up.
    no_nul("username", &credentials.username).map_err(IntoResponse::into_response)?;
    if credentials.password.contains('\0') {
        return Err(ApiError::bad_request("the password holds a NUL character").into_response());
    }
    if let Some(refused) = locked(&state.login_failures, &credentials.username) {
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
    if let Some(refused) = locked(&state.login_failures, &credentials.username) {
        return Err(refused);
    }
    let throttle = std::sync::Arc::clone(&state.login_failures);
    state
        .with_accounts(move |accounts| {
            let user = accounts.user(&credentials.username)?;
            // One answer, after the same work, for an unknown user and a wrong password.
            let valid = verify_login(
                &credentials.password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            );
            if !valid {
                throttle.failed(&credentials.username, Instant::now());
                return Err(ApiError::unauthorized("wrong username or password"));
            }
            throttle.succeeded(&credentials.username);
            let (token, hash) = new_token()?;
            let lifetime = chrono::Duration::from_std(TOKEN_LIFETIME).unwrap_or_default();
            let expires_at = Utc::now() + lifetime;
            accounts.put_token(&hash, &credentials.username, expires_at)?;
            Ok(Issued { token, expires_at })
        })
        .await
        .map(Json)
        .map_err(IntoResponse::into_response)
}
