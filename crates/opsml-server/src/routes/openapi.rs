//! `GET /api/v1/openapi.json`: the OpenAPI document of the API (no token needed). Tests check
//! that it describes every route and nothing else.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// The document, kept beside the crate's manifest.
pub(super) const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
