//! What was logged to an experiment, read back: metric points (in columns), parameters,
//! hardware samples and metric summaries. Repeated `name` parameters select metrics or
//! parameters by name; without them every one is returned.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use opsml_api::ARROW_STREAM_MEDIA_TYPE;
use opsml_registry::Access;
use opsml_types::{HardwareSample, MetricSummary, Parameter};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::experiments::authorized_card;
use super::openapi::{ExperimentPath, Refusals};
use super::{metrics_body, repeated};
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metrics))
        .routes(routes!(parameters))
        .routes(routes!(hardware))
        .routes(routes!(summaries))
}

/// The names asked for, `None` for all.
fn names(raw: Option<&str>) -> Option<Vec<String>> {
    let names = repeated(raw, "name");
    (!names.is_empty()).then_some(names)
}

/// Every point of the experiment, or of the named metrics, in columns, ordered by (name, step,
/// insertion): JSON, or an Arrow IPC stream (columns name, step, value, timestamp, created_at) when
/// the request accepts application/vnd.apache.arrow.stream. The body is sent in pieces as it is
/// written (chunked).
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/metrics",
    params(
        ExperimentPath,
        ("name" = Option<String>, Query, description = "A metric to read; repeat for several; all when absent."),
    ),
    responses(
        (status = 200, description = "OK", content((opsml_api::wire::MetricsBody = "application/json"), (Vec<u8> = "application/vnd.apache.arrow.stream"))),
        Refusals,
    ),
)]
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

/// The parameters (or the named ones) in the order first logged.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/parameters",
    params(
        ExperimentPath,
        ("name" = Option<String>, Query, description = "A parameter to read; repeat for several."),
    ),
    responses(
        (status = 200, description = "OK", body = Vec<Parameter>),
        Refusals,
    ),
)]
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

/// Hardware samples in the order taken.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/hardware",
    params(ExperimentPath),
    responses(
        (status = 200, description = "OK", body = Vec<HardwareSample>),
        Refusals,
    ),
)]
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

/// Summaries of every metric (count, min, max, sum, first, last).
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/summaries",
    params(ExperimentPath),
    responses(
        (status = 200, description = "OK", body = Vec<MetricSummary>),
        Refusals,
    ),
)]
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
