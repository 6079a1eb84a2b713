//! The bearer-token check in front of every API route but the login route itself.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::session::{csrf_passes, session_cookie};
use super::{hash_token, Principal};
use crate::{ApiError, AppState};

/// The stored form of the token a request came with, for the route that revokes it.
#[derive(Debug, Clone)]
pub(crate) struct TokenHash(pub(crate) String);

/// The name of the user of `opsml ui`.
pub(crate) const LOCAL_USER: &str = "local";

/// The token a request came with, for the route that tells the web UI its CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct SessionToken(pub(crate) String);

/// Resolves the request's token to a [`Principal`] for the route, or answers 401. The token
/// comes as `Authorization: Bearer <token>` (clients) or in the session cookie (the web UI);
/// a change made with the cookie must also carry the session's CSRF token (403 without).
pub(crate) async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let bearer = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let token = match (bearer, session_cookie(request.headers())) {
        (Some(token), _) => token.to_owned(),
        (None, Some(token)) => {
            if !csrf_passes(request.method(), request.headers(), token) {
                return Err(ApiError::forbidden(
                    "a change made with the session cookie needs its CSRF token \
                     (the x-csrf-token header)",
                ));
            }
            token.to_owned()
        }
        (None, None) if state.launch.is_some() => return Err(launch_token_required()),
        (None, None) => {
            return Err(ApiError::unauthorized(
                "missing bearer token: POST /api/v1/auth/token",
            ))
        }
    };
    let hash = hash_token(&token);
    let principal = if let Some(launch) = &state.launch {
        // `opsml ui`: the launch token is the only credential, and stands for the local
        // user, who owns the store and everything in it.
        if !launch.matches(&token) {
            return Err(launch_token_required());
        }
        Principal::new(LOCAL_USER.to_owned(), true, [])
    } else {
        // A client's stream of requests reads its user and grants once in a while, not
        // each time.
        match state.principals.get(&hash) {
            Some(principal) => principal,
            None => look_up(&state, hash.clone()).await?,
        }
    };
    request.extensions_mut().insert(principal);
    request.extensions_mut().insert(SessionToken(token));
    request.extensions_mut().insert(TokenHash(hash));
    Ok(next.run(request).await)
}

/// The answer of `opsml ui` to a request without its launch token: the page says what to do.
fn launch_token_required() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "launch_token_required",
        "open the address that `opsml ui` printed when it started (it holds this launch's token)",
    )
}

/// The principal of a token from the accounts, kept in the cache until the token expires or
/// the cache's time is up.
async fn look_up(state: &AppState, hash: String) -> Result<Principal, ApiError> {
    let principals = Arc::clone(&state.principals);
    let generation = principals.generation();
    state
        .with_accounts(move |accounts| {
            let invalid = || ApiError::unauthorized("invalid or expired token");
            // Only an unexpired token of an enabled user is found.
            let owner = accounts.token(&hash)?.ok_or_else(invalid)?;
            let user = accounts
                .user(&owner.username)?
                .filter(|user| !user.disabled)
                .ok_or_else(invalid)?;
            let grants = accounts.grants(&owner.username)?;
            let principal = Principal::new(user.username, user.admin, grants);
            principals.insert(hash, principal.clone(), owner.expires_at, generation);
            Ok(principal)
        })
        .await
}
