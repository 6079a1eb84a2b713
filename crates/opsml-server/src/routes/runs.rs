//! `GET /api/v1/runs`: the web UI's runs table. The experiments matching a filter of the
//! search language (as `POST /experiments/search`), newest first unless ordered otherwise,
//! with every parameter and each metric's last, minimum, maximum and mean in columns (or
//! only the statistics named by `stat`, as the table shows one at a time).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use opsml_api::wire::{SearchBody, MAX_LIST_LIMIT};
use opsml_read::{RunTable, SUMMARY_STATISTICS};

use super::experiments::search_query;
use super::{number, repeated, single};
use crate::{ApiError, AppState, Principal};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/runs", get(runs))
}

/// Query: `filter` (the search language), `space`, `limit` (at most and by default
/// [`MAX_LIST_LIMIT`]), repeated `order_by` keys and repeated `stat` (of
/// [`SUMMARY_STATISTICS`]; all by default).
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
