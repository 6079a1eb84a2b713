//! An experiment's life: resuming it, its status, the facts recorded after its start, and
//! the running experiments whose process may be gone (clients check the processes of their
//! own host and mark dead ones killed, as the embedded library does).

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use opsml_api::wire::{Marked, StatusBody};
use opsml_registry::{Access, Lease, RunningExperiment};
use opsml_types::ExperimentMetadata;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::experiments::authorized_card;
use super::openapi::{ExperimentPath, Refusals};
use crate::input::{check_optional_time, check_time};
use crate::{ApiError, AppState, Principal, CARD_BODY_BYTES, MAX_BODY_BYTES};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(running))
        .routes(routes!(claim))
        .routes(routes!(status))
        .routes(routes!(metadata).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .routes(routes!(killed).layer(DefaultBodyLimit::max(CARD_BODY_BYTES)))
}

/// Marks the experiment running in the given process (resuming it).
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/claim",
    params(ExperimentPath),
    request_body = Lease,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn claim(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(lease): Json<Lease>,
) -> Result<StatusCode, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            store.claim(&uid, &lease)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Sets the status and end time.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    put,
    path = "/experiments/{uid}/status",
    params(ExperimentPath),
    request_body = StatusBody,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn status(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(body): Json<StatusBody>,
) -> Result<StatusCode, ApiError> {
    check_optional_time("ended_at", body.ended_at.as_ref())?;
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            store.set_status(&uid, body.status, body.ended_at)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Saves facts recorded after the start (git state, code capture, hardware summary) and the
/// user's description and evaluation metrics.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    put,
    path = "/experiments/{uid}/metadata",
    params(ExperimentPath),
    request_body = ExperimentMetadata,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn metadata(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(body): Json<ExperimentMetadata>,
) -> Result<StatusCode, ApiError> {
    body.validate()
        .map_err(|e| super::experiments::invalid(&e))?;
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            store.set_metadata(&uid, &body)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Running experiments of the spaces the user may write, with their writers' leases and heartbeats.
#[utoipa::path(
    get,
    path = "/experiments/running",
    responses(
        (status = 200, description = "OK", body = Vec<RunningExperiment>),
        Refusals,
    ),
)]
async fn running(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<RunningExperiment>>, ApiError> {
    state
        .with_store(move |store| {
            let mut visible = Vec::new();
            for running in store.running_experiments()? {
                if let Some(card) = store.get_experiment(&running.uid)? {
                    if principal.may(&card.space, Access::Write) {
                        visible.push(running);
                    }
                }
            }
            Ok(visible)
        })
        .await
        .map(Json)
}

/// Marks a running experiment killed unless it changed since it was listed.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/killed",
    params(ExperimentPath),
    request_body = RunningExperiment,
    responses(
        (status = 200, description = "OK", body = Marked),
        Refusals,
    ),
)]
async fn killed(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(body): Json<RunningExperiment>,
) -> Result<Json<Marked>, ApiError> {
    if body.uid != uid {
        return Err(ApiError::bad_request(format!(
            "the body names experiment {:?}, the path {uid:?}",
            body.uid
        )));
    }
    check_optional_time("heartbeat_at", body.heartbeat_at.as_ref())?;
    for writer in &body.writers {
        check_time("writers.heartbeat_at", &writer.heartbeat_at)?;
    }
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            Ok(Marked {
                marked: store.mark_killed(&body)?,
            })
        })
        .await
        .map(Json)
}
