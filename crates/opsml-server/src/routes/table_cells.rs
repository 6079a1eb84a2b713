//! `POST /api/v1/experiments/table-cells`: the parameters and metric summaries of many runs in
//! one answer (two queries of the store), for a client's table of runs (`opsml.runs`, the
//! command line's `--columns`) instead of two requests a run.

use std::collections::HashSet;

use axum::extract::{DefaultBodyLimit, State};
use axum::{Extension, Json};
use opsml_api::wire::{TableCellsAnswer, TableCellsBody, MAX_TABLE_CELLS_RUNS};
use opsml_registry::Access;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::openapi::{BadRequest, Unauthorized};
use crate::{ApiError, AppState, Principal, CARD_BODY_BYTES};

pub(super) fn router() -> OpenApiRouter<AppState> {
    // A full request (1,000 uids of 36 characters) is about 40 KB.
    OpenApiRouter::new().routes(routes!(table_cells).layer(DefaultBodyLimit::max(CARD_BODY_BYTES)))
}

/// Each parameter's value and each metric's summary of many runs, in the order asked for.
///
/// A run that is not there and one in a space the user may not read give the same answer:
/// no cells.
#[utoipa::path(
    post,
    path = "/experiments/table-cells",
    operation_id = "table_cells",
    request_body = TableCellsBody,
    responses(
        (status = 200, description = "OK", body = TableCellsAnswer),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ),
)]
async fn table_cells(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<TableCellsBody>,
) -> Result<Json<TableCellsAnswer>, ApiError> {
    let asked = body.uids.len();
    if asked > MAX_TABLE_CELLS_RUNS {
        return Err(ApiError::bad_request(format!(
            "{asked} runs asked for; at most {MAX_TABLE_CELLS_RUNS} a request"
        )));
    }
    state
        .with_store(move |store| {
            // The rows of the runs the user may read, by their place in the request.
            let mut readable = Vec::new();
            let mut seen = HashSet::new();
            for (row, uid) in body.uids.iter().enumerate() {
                if !seen.insert(uid.as_str()) {
                    continue;
                }
                if let Some(card) = store.get_experiment(uid)? {
                    if principal.may(&card.space, Access::Read) {
                        readable.push((row, uid.clone()));
                    }
                }
            }
            let uids: Vec<String> = readable.iter().map(|(_, uid)| uid.clone()).collect();
            let cells = store.table_cells(&uids)?;
            let rows: Vec<usize> = readable.iter().map(|(row, _)| *row).collect();
            Ok(TableCellsAnswer {
                parameters: cells
                    .parameters
                    .into_iter()
                    .map(|(name, column)| (name, spread(column, &rows, asked)))
                    .collect(),
                summaries: cells
                    .summaries
                    .into_iter()
                    .map(|(name, column)| (name, spread(column, &rows, asked)))
                    .collect(),
            })
        })
        .await
        .map(Json)
}

/// A column of the readable runs, put at their `rows` of a column of `runs` cells.
fn spread<T: Clone>(column: Vec<Option<T>>, rows: &[usize], runs: usize) -> Vec<Option<T>> {
    let mut full = vec![None; runs];
    for (row, cell) in rows.iter().zip(column) {
        full[*row] = cell;
    }
    full
}
