//! `GET /api/v1/runs`: the web UI's runs table. The experiments matching a filter of the
//! search language (as `POST /experiments/search`), newest first unless ordered otherwise,
//! with every parameter and each metric's last, minimum, maximum and mean in columns (or
//! only the statistics named by `stat`, as the table shows one at a time).

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use opsml_api::wire::{SearchBody, MAX_LIST_LIMIT};
use opsml_read::{RunTable, SUMMARY_STATISTICS};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::experiments::search_query;
use super::openapi::{BadRequest, Forbidden, Unauthorized};
use super::{number, repeated, single};
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(runs))
}

/// The web UI's runs table: experiments matching a filter with every parameter and each metric's
/// last, min, max and mean (or the statistics asked for).
///
/// Only spaces the user may read. Newest first unless ordered otherwise.
#[utoipa::path(
    get,
    path = "/runs",
    params(
        ("filter" = Option<String>, Query, description = "A filter of the search language (as POST /experiments/search)."),
        ("space" = Option<String>, Query, description = "Only this space."),
        ("order_by" = Option<String>, Query, description = "A sort key; repeat for more."),
        ("limit" = Option<usize>, Query, description = "At most this many runs (1 to 10000, default 10000)."),
        ("stat" = Option<String>, Query, description = "A statistic of each metric to send: last, min, max, mean, last_step or count; repeat for more. All of them when not given; a statistic not asked for is left out of each metric's object."),
    ),
    responses(
        (status = 200, description = "OK", body = RunTable),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
async fn runs(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RunTable>, ApiError> {
    let raw = raw.as_deref();
    let limit = number(raw, "limit")?.unwrap_or(MAX_LIST_LIMIT);
    let statistics = repeated(raw, "stat");
    if let Some(unknown) = statistics
        .iter()
        .find(|s| !SUMMARY_STATISTICS.contains(&s.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "stat {unknown:?} is not one of {}",
            SUMMARY_STATISTICS.join(", ")
        )));
    }
    let body = SearchBody {
        filter: single(raw, "filter")?.unwrap_or_default(),
        order_by: repeated(raw, "order_by"),
        space: single(raw, "space")?,
        limit: Some(limit),
        ..SearchBody::default()
    };
    let Some(query) = search_query(&principal, body)? else {
        return Ok(Json(RunTable::default()));
    };
    state
        .with_store(move |store| {
            let runs = store.search_experiments(&query)?;
            let mut table = opsml_read::run_table(store, runs)?;
            if !statistics.is_empty() {
                let kept: Vec<&str> = statistics.iter().map(String::as_str).collect();
                for columns in table.metrics.values_mut() {
                    columns.keep(&kept);
                }
            }
            Ok(table)
        })
        .await
        .map(Json)
}
