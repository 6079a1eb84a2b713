//! What was logged to an experiment, read back: metric points (in columns), parameters,
//! hardware samples and metric summaries. Repeated `name` parameters select metrics or
//! parameters by name; without them every one is returned.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use opsml_read::{series_points, PointSelection, SeriesPoints, SeriesRequest};
use opsml_registry::{Access, ARROW_STREAM_MEDIA_TYPE};
use opsml_types::{HardwareSample, MetricSummary, Parameter};
use serde::Deserialize;

use super::experiments::authorized_card;
use super::{metrics_body, repeated};
use crate::input::no_nul;
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/experiments/{uid}/metrics", get(metrics))
        .route("/experiments/{uid}/parameters", get(parameters))
        .route("/experiments/{uid}/hardware", get(hardware))
        .route("/experiments/{uid}/summaries", get(summaries))
        .route("/experiments/{uid}/series", get(series))
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

/// Query of `GET /experiments/{uid}/series`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesQuery {
    name: String,
    /// At most this many points (LTTB), for a chart this many pixels wide.
    points: Option<usize>,
    /// Only points with `start <= step < stop`.
    start: Option<i64>,
    stop: Option<i64>,
    /// Only the points after the first `after`, all of them (a chart following a run).
    after: Option<usize>,
}

/// Most points one downsampled answer may ask for.
const MAX_SERIES_POINTS: usize = 100_000;

/// One metric's points for a chart: downsampled to `points` over a step range, or the
/// points logged after the first `after`.
async fn series(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<SeriesPoints>, ApiError> {
    no_nul("name", &query.name)?;
    let request = series_request(&query)?;
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            let columns = store.read_metrics(&uid, Some(std::slice::from_ref(&query.name)))?;
            Ok(series_points(&columns, &query.name, request))
        })
        .await
        .map(Json)
}

fn series_request(query: &SeriesQuery) -> Result<SeriesRequest, ApiError> {
    if let Some(after) = query.after {
        if query.points.is_some() || query.start.is_some() || query.stop.is_some() {
            return Err(ApiError::bad_request(
                "after takes no points, start or stop: it asks for every newer point",
            ));
        }
        return Ok(SeriesRequest::After(after));
    }
    if let Some(points) = query.points {
        if !(2..=MAX_SERIES_POINTS).contains(&points) {
            return Err(ApiError::bad_request(format!(
                "points {points} is outside 2..={MAX_SERIES_POINTS}"
            )));
        }
    }
    let steps = match (query.start, query.stop) {
        (None, None) => None,
        (start, stop) => {
            let (start, stop) = (start.unwrap_or(i64::MIN), stop.unwrap_or(i64::MAX));
            if start >= stop {
                return Err(ApiError::bad_request(format!(
                    "start {start} is not below stop {stop}"
                )));
            }
            Some((start, stop))
        }
    };
    Ok(SeriesRequest::Selected(PointSelection {
        steps,
        max_points: query.points,
    }))
}
