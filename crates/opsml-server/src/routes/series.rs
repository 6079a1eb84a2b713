//! One metric's points for a chart: `GET /experiments/{uid}/series` for one run (with
//! `after=N` for a chart following it live), and `GET /series?uid=…&uid=…` for the runs of
//! a comparison in one answer, read on every core.

use axum::extract::{Path, Query, RawQuery, State};
use axum::{Extension, Json};
use opsml_read::{series_points, PointSelection, SeriesPoints, SeriesRequest};
use opsml_registry::Access;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::experiments::authorized_card;
use super::openapi::{ExperimentPath, Refusals};
use super::{number, repeated, single};
use crate::input::no_nul;
use crate::{ApiError, AppState, Principal};

/// Most runs one comparison answer holds (as many as a filter's list takes).
const MAX_SERIES_RUNS: usize = opsml_query::MAX_LIST_VALUES;

/// Most points, over all runs, one comparison answer may hold.
const MAX_COMPARED_POINTS: usize = 2_000_000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(series))
        .routes(routes!(many_series))
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
    /// Only points logged at or after `since` and before `until`, in microseconds since the
    /// Unix epoch (a chart by time).
    since: Option<i64>,
    until: Option<i64>,
    /// Only the points after the first `after`, all of them (a chart following a run).
    after: Option<usize>,
}

/// Most points one downsampled answer may ask for.
const MAX_SERIES_POINTS: usize = 100_000;

/// One metric's points for a chart: downsampled (LTTB, first and last kept) over a step or time
/// range, or only the points after the first `after`.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/series",
    params(
        ExperimentPath,
        ("name" = String, Query, description = "The metric."),
        ("points" = Option<usize>, Query, description = "At most this many points (2 to 100000)."),
        ("start" = Option<i64>, Query, description = "Only points with step >= start."),
        ("stop" = Option<i64>, Query, description = "Only points with step < stop."),
        ("since" = Option<i64>, Query, description = "Only points logged at or after this time, in microseconds since the Unix epoch (a chart by time); not with start or stop."),
        ("until" = Option<i64>, Query, description = "Only points logged before this time, in microseconds since the Unix epoch."),
        ("after" = Option<usize>, Query, description = "Only the points after the first `after`, all of them; takes no points, start or stop."),
    ),
    responses(
        (status = 200, description = "OK", body = SeriesPoints),
        Refusals,
    ),
)]
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
        let ranged = [query.start, query.stop, query.since, query.until];
        if query.points.is_some() || ranged.iter().any(Option::is_some) {
            return Err(ApiError::bad_request(
                "after takes no points, start, stop, since or until: it asks for every newer point",
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
    if query.since.is_some() || query.until.is_some() {
        if query.start.is_some() || query.stop.is_some() {
            return Err(ApiError::bad_request(
                "give a step range (start, stop) or a time range (since, until), not both",
            ));
        }
        let (since, until) = (
            query.since.unwrap_or(i64::MIN),
            query.until.unwrap_or(i64::MAX),
        );
        if since >= until {
            return Err(ApiError::bad_request(format!(
                "since {since} is not before until {until}"
            )));
        }
        return Ok(SeriesRequest::Logged {
            since,
            until,
            max_points: query.points,
        });
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

/// One metric of several runs for a chart comparing them, in the order of the uids: each
/// downsampled as GET /experiments/{uid}/series does, read on every core.
///
/// Needs read access to every run's space; a run the user may not read answers as one that does not
/// exist. At most 1000 runs, and at most 2,000,000 points in all (runs times points).
#[utoipa::path(
    get,
    path = "/series",
    params(
        ("uid" = String, Query, description = "A run's uid; repeat for each run (1 to 1000)."),
        ("name" = String, Query, description = "The metric."),
        ("points" = usize, Query, description = "At most this many points per run (2 to 100000): the chart's width in pixels. Required: runs times points is at most 2,000,000."),
        ("start" = Option<i64>, Query, description = "Only points with step >= start."),
        ("stop" = Option<i64>, Query, description = "Only points with step < stop."),
        ("since" = Option<i64>, Query, description = "Only points logged at or after this time, in microseconds since the Unix epoch (a chart by time); not with start or stop."),
        ("until" = Option<i64>, Query, description = "Only points logged before this time, in microseconds since the Unix epoch."),
    ),
    responses(
        (status = 200, description = "OK", body = Vec<SeriesPoints>),
        Refusals,
    ),
)]
async fn many_series(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<SeriesPoints>>, ApiError> {
    let raw = raw.as_deref();
    let mut uids = repeated(raw, "uid");
    let mut seen = std::collections::HashSet::new();
    uids.retain(|uid| seen.insert(uid.clone()));
    let query = SeriesQuery {
        name: single(raw, "name")?
            .ok_or_else(|| ApiError::bad_request("name is missing: give the metric's name"))?,
        points: number(raw, "points")?,
        start: number(raw, "start")?,
        stop: number(raw, "stop")?,
        since: number(raw, "since")?,
        until: number(raw, "until")?,
        after: None,
    };
    if single(raw, "after")?.is_some() {
        return Err(ApiError::bad_request(
            "after is for one run: ask GET /experiments/{uid}/series",
        ));
    }
    no_nul("name", &query.name)?;
    let request = series_request(&query)?;
    if uids.is_empty() || uids.len() > MAX_SERIES_RUNS {
        return Err(ApiError::bad_request(format!(
            "give 1 to {MAX_SERIES_RUNS} uid parameters, not {}",
            uids.len()
        )));
    }
    let Some(points) = query.points else {
        return Err(ApiError::bad_request(
            "points is missing: give the most points per run (the chart's width)",
        ));
    };
    if points.saturating_mul(uids.len()) > MAX_COMPARED_POINTS {
        return Err(ApiError::bad_request(format!(
            "{} runs of {points} points is more than {MAX_COMPARED_POINTS} points: ask for fewer",
            uids.len()
        )));
    }
    // A share of the runs per core: reading and downsampling them is the work.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let share = uids.len().div_ceil(workers);
    let reads = uids.chunks(share).map(|runs| {
        let (runs, principal, name) = (runs.to_vec(), principal.clone(), query.name.clone());
        state.with_store(move |store| {
            runs.iter()
                .map(|uid| {
                    authorized_card(store, &principal, uid, Access::Read)?;
                    let columns = store.read_metrics(uid, Some(std::slice::from_ref(&name)))?;
                    Ok(series_points(&columns, &name, request))
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
    });
    let shares = futures_util::future::try_join_all(reads).await?;
    Ok(Json(shares.into_iter().flatten().collect()))
}
