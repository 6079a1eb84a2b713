//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the store answers).

use axum::extract::State;
use axum::Json;
use opsml_registry::CardQuery;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    responses(
        (status = 200, description = "OK", body = Value),
    ),
    security(()),
)]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The store answers (503 otherwise).
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "OK", body = Value),
        (status = 503, description = "The store cannot be reached"),
    ),
    security(()),
)]
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
