//! The routes, one file per resource.

mod batches;
mod experiments;
mod health;
mod tokens;
mod users;

use axum::middleware::from_fn_with_state;
use axum::Router;

use crate::auth::require_token;
use crate::AppState;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .merge(experiments::router())
        .merge(batches::router())
        .merge(users::router())
        .route_layer(from_fn_with_state(state, require_token));
    Router::new()
        .merge(health::router())
        .nest("/api/v1", authenticated.merge(tokens::router()))
}
