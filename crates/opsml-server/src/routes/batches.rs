//! `POST /api/v1/experiments/{uid}/batches`: metric points, parameters and hardware samples
//! of a remote writer, applied at most once per sequence number.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::{Extension, Json};
use opsml_api::wire::{Applied, BatchBody};
use opsml_registry::{Access, WriteBatch};
use opsml_types::{validate_name, validate_parameter};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::experiments::{authorized_card, require_on_experiment};
use super::openapi::{Conflict, ExperimentPath, Refusals};
use crate::{ApiError, AppState, Principal, MAX_BODY_BYTES};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(append).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
}

/// Applies a batch of a remote writer (points, parameters, hardware samples) once: a resend of an
/// applied sequence number changes nothing; a gap is refused with 409.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/batches",
    params(ExperimentPath),
    request_body = BatchBody,
    responses(
        (status = 200, description = "OK", body = Applied),
        Refusals,
        (status = 409, response = Conflict),
        (status = 413, description = "The body is over 16 MiB"),
    ),
)]
async fn append(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(body): Json<BatchBody>,
) -> Result<Json<Applied>, ApiError> {
    let invalid = |e: opsml_types::TypesError| ApiError::bad_request(e.to_string());
    validate_name("writer", &body.writer_id).map_err(invalid)?;
    for name in &body.names {
        validate_name("metric", name).map_err(invalid)?;
    }
    for parameter in &body.parameters {
        validate_parameter(parameter).map_err(invalid)?;
    }
    let records = body.records().map_err(ApiError::bad_request)?;
    let spaces = std::sync::Arc::clone(&state.spaces);
    state
        .with_store(move |store| {
            // A stream of batches looks the experiment's space up once.
            match spaces.get(&uid) {
                Some(space) => require_on_experiment(&principal, &space, &uid, Access::Write)?,
                None => {
                    let card = authorized_card(store, &principal, &uid, Access::Write)?;
                    spaces.insert(uid.clone(), card.space);
                }
            }
            let batch = WriteBatch {
                names: &body.names,
                points: &records,
                parameters: &body.parameters,
                hardware: &body.hardware,
            };
            let applied = store.append_batch(&uid, &body.writer(), &batch)?;
            Ok(Applied { applied })
        })
        .await
        .map(Json)
}
