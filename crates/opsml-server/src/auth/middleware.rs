//! The bearer-token check in front of every API route but the token route itself.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use super::{hash_token, Principal};
use crate::{ApiError, AppState};

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
        None => {
            let principals = std::sync::Arc::clone(&state.principals);
            state
                .with_accounts(move |accounts| {
                    let invalid = || ApiError::unauthorized("invalid or expired token");
                    let username = accounts.token_user(&hash)?.ok_or_else(invalid)?;
                    let user = accounts.user(&username)?.ok_or_else(invalid)?;
                    let grants = accounts.grants(&username)?;
                    let principal = Principal::new(user.username, user.admin, grants);
                    principals.insert(hash, principal.clone());
                    Ok(principal)
                })
                .await?
        }
    };
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}
