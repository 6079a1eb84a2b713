//! The bearer-token check in front of every API route but the login route itself.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use super::{hash_token, Principal};
use crate::{ApiError, AppState};

/// The stored form of the token a request came with, for the route that revokes it.
#[derive(Debug, Clone)]
pub(crate) struct TokenHash(pub(crate) String);

/// Resolves `Authorization: Bearer <token>` to a [`Principal`] for the route, or answers 401.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::unauthorized("missing bearer token: POST /api/v1/auth/token"))?
        .to_owned();
    let hash = hash_token(&token);
    // A client's stream of requests reads its user and grants once in a while, not each time.
    let principal = match state.principals.get(&hash) {
        Some(principal) => principal,
        None => look_up(&state, hash.clone()).await?,
    };
    request.extensions_mut().insert(principal);
    request.extensions_mut().insert(TokenHash(hash));
    Ok(next.run(request).await)
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
