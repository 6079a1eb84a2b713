//! The routes, one file per resource.

mod experiments;
mod health;

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .nest("/api/v1", experiments::router())
}
