//! `POST /api/v1/auth/token`: a username and password for a bearer token.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{new_token, verify_password, TOKEN_LIFETIME};
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
    state
        .with_accounts(move |accounts| {
            let user = accounts.user(&credentials.username)?;
            // One answer for an unknown user and a wrong password.
            let valid = user
                .as_ref()
                .is_some_and(|u| verify_password(&credentials.password, &u.password_hash));
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
