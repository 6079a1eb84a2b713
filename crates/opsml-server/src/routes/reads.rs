//! What was logged to an experiment, read back: metric points (in columns), parameters,
//! hardware samples and metric summaries. Repeated `name` parameters select metrics or
//! parameters by name; without them every one is returned.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use opsml_api::ARROW_STREAM_MEDIA_TYPE;
use opsml_registry::Access;
use opsml_types::{HardwareSample, MetricSummary, Parameter};

use super::experiments::authorized_card;
use super::{metrics_body, repeated};
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/experiments/{uid}/metrics", get(metrics))
        .route("/experiments/{uid}/parameters", get(parameters))
        .route("/experiments/{uid}/hardware", get(hardware))
        .route("/experiments/{uid}/summaries", get(summaries))
}

/// The names asked for, `None` for all.
fn names(raw: Option<&str>) -> Option<Vec<String>> {
    let names = repeated(raw, "name");
    (!names.is_empty()).then_some(names)
}

/// The points in columns: an Arrow IPC stream when the request accepts one
/// (`Accept: application/vnd.apache.arrow.stream`), else JSON; either is sent in pieces as
/// the connection takes them (see `metrics_body`).
async fn metrics(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let names = names(raw.as_deref());
    let arrow = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(ARROW_STREAM_MEDIA_TYPE));
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            let columns = store.read_metrics(&uid, names.as_deref())?;
            if !arrow {
                let body = metrics_body::json(columns);
                return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
            }
            let stream = metrics_body::arrow(columns)
                .map_err(|e| ApiError::internal(format!("encoding Arrow failed: {e}")))?;
            Ok(([(header::CONTENT_TYPE, ARROW_STREAM_MEDIA_TYPE)], stream).into_response())
        })
        .await
}

async fn parameters(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<Parameter>>, ApiError> {
    let names = names(raw.as_deref());
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.read_parameters(&uid, names.as_deref())?)
        })
        .await
        .map(Json)
}

async fn hardware(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<Vec<HardwareSample>>, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.read_hardware(&uid)?)
        })
        .await
        .map(Json)
}

async fn summaries(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<Vec<MetricSummary>>, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.metric_summaries(&uid)?)
        })
        .await
        .map(Json)
}
