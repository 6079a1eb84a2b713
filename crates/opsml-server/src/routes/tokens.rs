//! `POST /api/v1/auth/token`: a username and password for a bearer token.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{new_token, verify_login, TOKEN_LIFETIME};
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

async fn issue(
    State(state): State<AppState>,
    Json(credentials): Json<Credentials>,
) -> Result<Json<Issued>, ApiError> {
    // Password hashing is deliberately costly: a burst of logins waits its turn rather than
    // take every core from the requests being served.
    let _permit = state
        .logins
        .acquire()
        .await
        .map_err(|e| ApiError::internal(format!("login queue closed: {e}")))?;
    state
        .with_accounts(move |accounts| {
            let user = accounts.user(&credentials.username)?;
            // One answer, after the same work, for an unknown user and a wrong password.
            let valid = verify_login(
                &credentials.password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            );
            if !valid {
                return Err(ApiError::unauthorized("wrong username or password"));
            }
            let (token, hash) = new_token()?;
            let lifetime = chrono::Duration::from_std(TOKEN_LIFETIME).unwrap_or_default();
            let expires_at = Utc::now() + lifetime;
            accounts.put_token(&hash, &credentials.username, expires_at)?;
            Ok(Issued { token, expires_at })
        })
        .await
        .map(Json)
}
