//! Users and their grants, managed by admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Extension, Json, Router};
use opsml_registry::{Access, UserRecord};
use serde::{Deserialize, Serialize};

use crate::auth::hash_password;
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(create))
        .route("/users/{username}/grants/{space}", put(grant))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

#[derive(Debug, Serialize)]
struct CreatedUser {
    username: String,
    admin: bool,
}

async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(user): Json<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    principal.require_admin()?;
    opsml_types::validate_name("user", &user.username)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    state
        .with_accounts(move |accounts| {
            let record = UserRecord {
                password_hash: hash_password(&user.password)?,
                username: user.username,
                admin: user.admin,
            };
            if !accounts.insert_user(&record)? {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "user_exists",
                    format!("user {:?} exists already", record.username),
                ));
            }
            Ok((
                StatusCode::CREATED,
                Json(CreatedUser {
                    username: record.username,
                    admin: record.admin,
                }),
            ))
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    /// `read` or `write`.
    access: String,
}

async fn grant(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((username, space)): Path<(String, String)>,
    Json(grant): Json<Grant>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let access = match grant.access.as_str() {
        "read" => Access::Read,
        "write" => Access::Write,
        other => {
            return Err(ApiError::bad_request(format!(
                "access {other:?} is neither \"read\" nor \"write\""
            )))
        }
    };
    opsml_types::validate_name("space", &space)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let principals = std::sync::Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            if accounts.user(&username)?.is_none() {
                return Err(ApiError::not_found(format!("no user named {username:?}")));
            }
            accounts.grant(&username, &space, access)?;
            principals.clear();
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
