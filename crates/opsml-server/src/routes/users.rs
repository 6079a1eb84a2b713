//! Users and their grants, managed by admins: creating, listing, disabling, enabling and
//! deleting users, granting and removing access to spaces, and revoking a user's tokens.
//!
//! Every route asks for an admin before it looks at anything else, so a user who is not
//! one is refused alike whether the user or grant named exists or not. A change takes effect
//! at once on this server and within the time other servers trust a token they looked up.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use opsml_registry::{Access, AccountStore, UserChange, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{GrantPath, Refusals, UserPath};
use crate::auth::hash_password;
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(remove))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(revoke_tokens))
        .routes(routes!(grant, revoke_grant))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct CreatedUser {
    username: String,
    admin: bool,
}

/// A user as listed: never a password hash or a token.
#[derive(Debug, Serialize, ToSchema)]
struct ListedUser {
    username: String,
    admin: bool,
    disabled: bool,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
struct RevokedTokens {
    /// How many tokens the user had.
    revoked: u64,
}

fn no_such_user(username: &str) -> ApiError {
    ApiError::not_found(format!("no user named {username:?}"))
}

/// Fails with 404 unless `username` exists.
fn require_user(accounts: &dyn AccountStore, username: &str) -> Result<(), ApiError> {
    match accounts.user(username)? {
        Some(_) => Ok(()),
        None => Err(no_such_user(username)),
    }
}

/// What a disabling or deletion came to, as an answer.
fn answer(change: UserChange, username: &str) -> Result<StatusCode, ApiError> {
    match change {
        UserChange::Done => Ok(StatusCode::NO_CONTENT),
        UserChange::NoSuchUser => Err(no_such_user(username)),
        UserChange::LastAdmin => Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_admin",
            format!(
                "user {username:?} is the last enabled admin; make another user an admin first"
            ),
        )),
    }
}

/// Creates a user (admins only).
#[utoipa::path(
    post,
    path = "/users",
    operation_id = "create_user",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = CreatedUser),
        Refusals,
    ),
)]
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
                disabled: false,
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

/// Every user, by name: whether it is an admin or disabled, and when it was created (admins only).
/// Never a password hash or a token.
#[utoipa::path(
    get,
    path = "/users",
    operation_id = "list_users",
    responses(
        (status = 200, description = "OK", body = Vec<ListedUser>),
        Refusals,
    ),
)]
async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<ListedUser>>, ApiError> {
    principal.require_admin()?;
    state
        .with_accounts(|accounts| {
            Ok(accounts
                .users()?
                .into_iter()
                .map(|user| ListedUser {
                    username: user.username,
                    admin: user.admin,
                    disabled: user.disabled,
                    created_at: user.created_at,
                })
                .collect())
        })
        .await
        .map(Json)
}

/// Disables or enables `username`; disabling revokes its tokens too.
async fn set_disabled(
    state: &AppState,
    principal: &Principal,
    username: String,
    disabled: bool,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let principals = Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            let change = accounts.set_disabled(&username, disabled)?;
            principals.clear();
            answer(change, &username)
        })
        .await
}

/// Disables a user: it can no longer log in, and its tokens are revoked (admins only). Its grants
/// are kept.
///
/// Admins only; any other user gets 403, whether the user named exists or not. Takes effect at once
/// on the server that answers, and within 10 s on other servers of the same database.
#[utoipa::path(
    post,
    path = "/users/{username}/disable",
    params(UserPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
        (status = 409, description = "The user is the last enabled admin (code last_admin): make another user an admin first", body = crate::ErrorBody),
    ),
)]
async fn disable(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&state, &principal, username, true).await
}

/// Enables a disabled user again; it must log in anew (admins only).
///
/// Admins only; any other user gets 403, whether the user named exists or not. Takes effect at once
/// on the server that answers, and within 10 s on other servers of the same database.
#[utoipa::path(
    post,
    path = "/users/{username}/enable",
    params(UserPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn enable(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&state, &principal, username, false).await
}

/// Deletes a user with its grants and tokens (admins only).
///
/// Admins only; any other user gets 403, whether the user named exists or not. Takes effect at once
/// on the server that answers, and within 10 s on other servers of the same database.
#[utoipa::path(
    delete,
    path = "/users/{username}",
    operation_id = "remove_user",
    params(UserPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
        (status = 409, description = "The user is the last enabled admin (code last_admin): make another user an admin first", body = crate::ErrorBody),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let principals = Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            let change = accounts.delete_user(&username)?;
            principals.clear();
            answer(change, &username)
        })
        .await
}

/// Revokes every token of a user (admins only); the user may log in again.
///
/// Admins only; any other user gets 403, whether the user named exists or not. Takes effect at once
/// on the server that answers, and within 10 s on other servers of the same database.
#[utoipa::path(
    delete,
    path = "/users/{username}/tokens",
    params(UserPath),
    responses(
        (status = 200, description = "OK", body = RevokedTokens),
        Refusals,
    ),
)]
async fn revoke_tokens(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(username): Path<String>,
) -> Result<Json<RevokedTokens>, ApiError> {
    principal.require_admin()?;
    let principals = Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            require_user(accounts, &username)?;
            let revoked = accounts.revoke_tokens(&username)?;
            principals.clear();
            Ok(Json(RevokedTokens { revoked }))
        })
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Grant {
    /// `read` or `write`.
    access: String,
}

/// Grants a user read or write access to a space (admins only).
#[utoipa::path(
    put,
    path = "/users/{username}/grants/{space}",
    params(GrantPath),
    request_body = Grant,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
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
    let principals = Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            require_user(accounts, &username)?;
            accounts.grant(&username, &space, access)?;
            principals.clear();
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Removes a user's access to a space (admins only); 404 when it had none there.
///
/// Admins only; any other user gets 403, whether the user named exists or not. Takes effect at once
/// on the server that answers, and within 10 s on other servers of the same database.
#[utoipa::path(
    delete,
    path = "/users/{username}/grants/{space}",
    params(GrantPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn revoke_grant(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((username, space)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let principals = Arc::clone(&state.principals);
    state
        .with_accounts(move |accounts| {
            require_user(accounts, &username)?;
            if !accounts.revoke_grant(&username, &space)? {
                return Err(ApiError::not_found(format!(
                    "user {username:?} has no grant on space {space:?}"
                )));
            }
            principals.clear();
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
