//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use opsml_registry::CardQuery;
use serde_json::{json, Value};

use crate::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .with_store(|store| {
            store.list_experiments(&CardQuery {
                limit: 1,
                ..CardQuery::default()
            })?;
            Ok(())
        })
        .await?;
    Ok(Json(json!({ "status": "ready" })))
}
